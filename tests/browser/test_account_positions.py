"""Account 360's stakeholders card in a real browser: a first page, then "Show more" in place (HTMX)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from openkam.accounts.views import POSITIONS_PAGE, POSITIONS_SHOWN
from tests.accounts.conftest import populate
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_kam_shows_more_stakeholders_in_place(world, page, login):
    populate(world, 11)  # 132 positions below the IDN
    login("kam")
    page.goto(f"/accounts/{world.idn.pk}/")
    card = page.get_by_test_id("stakeholders")
    expect(card).to_contain_text("132 positions, here and below")
    rows = card.get_by_test_id("position-row")
    expect(rows).to_have_count(POSITIONS_SHOWN)
    card.get_by_test_id("positions-more-button").click()
    expect(rows).to_have_count(POSITIONS_SHOWN + POSITIONS_PAGE)
    expect(card.get_by_test_id("positions-more-button")).to_contain_text("12 not shown")
    card.get_by_test_id("positions-more-button").click()
    expect(rows).to_have_count(132)
    expect(card.get_by_test_id("positions-more")).to_have_count(0)
    expect(card.get_by_test_id("via").first).to_contain_text("via")
    shot(page, "accounts-360-positions-more")
