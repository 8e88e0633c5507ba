"""The relationship map in a real browser: the graph renders (pixels on the canvas; time to first render is
printed), a coverage finding is shown, fixing it in the person panel (HTMX) makes it disappear, and an
assessment recorded in place changes the graph."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from openkam.relationships.models import RelationshipStrength, StakeholderAssessment
from tests.browser.conftest import shot
from tests.relationships.conftest import domains, mapped  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def _painted_share(png: bytes) -> float:
    """Share of the canvas's pixels that are not (near) white background."""
    img = Image.open(io.BytesIO(png)).convert("RGB").resize((200, 150))
    raw = img.tobytes()
    px = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    return sum(1 for r, g, b in px if min(r, g, b) < 235) / len(px)


def test_map_renders_finding_fixed_in_place(mapped: Any, page: Any, login: Any) -> None:  # noqa: F811
    w = mapped.w
    login("kam")
    started = time.perf_counter()
    page.goto(f"/relationships/accounts/{w.idn.pk}/")
    graph = page.locator("#rel-graph[data-rendered='1']")
    expect(graph).to_be_visible()
    wall_ms = (time.perf_counter() - started) * 1000
    render_ms = page.get_attribute("#rel-graph", "data-render-ms")
    print(f"\nrelationship map: graph first render {render_ms} ms after init, {wall_ms:.0f} ms from navigation")
    expect(page.locator("#rel-graph[data-settled-ms]")).to_have_count(1)  # the layout settled
    canvas = page.locator("#rel-graph canvas").first
    assert _painted_share(canvas.screenshot()) > 0.004, "the graph canvas is blank"
    shot(page, "relationships-map")

    finding = page.locator("[data-testid=finding][data-code=champion_single_contact]")
    expect(finding).to_have_count(1)
    expect(finding).to_contain_text("known only by")

    # fix it: open the champion from the coverage matrix, add a second contact
    page.click("[data-testid=tab-matrix]")
    page.locator("[data-testid=matrix-row]", has_text="Pharma").locator("a").first.click()
    card = page.locator(f"[data-testid=person-card][data-stakeholder='{mapped.pharm.pk}']")
    expect(card).to_be_visible()
    form = card.locator("[data-testid=strength-form]")
    form.locator("select[name=user]").select_option(str(w.users["msl"].pk))
    form.locator("select[name=current]").select_option("3")
    form.locator("[data-testid=strength-save]").click()
    expect(card.locator("[data-testid=strength-row]")).to_have_count(2)
    expect(page.locator("[data-testid=finding][data-code=champion_single_contact]")).to_have_count(0)
    # the coverage matrix and the key figures follow without a reload (out-of-band swaps)
    expect(page.locator("[data-testid=matrix-member]")).to_have_count(2)
    assert RelationshipStrength.objects.filter(stakeholder=mapped.pharm).count() == 2
    shot(page, "relationships-fixed")

    # assess the unassessed fellow in place: a new version, the graph reloads
    page.evaluate(f"OKAM_REL.openPerson({mapped.fellow.pk})")
    card = page.locator(f"[data-testid=person-card][data-stakeholder='{mapped.fellow.pk}']")
    expect(card).to_be_visible()
    card.locator("select[name=decision_role]").select_option("influencer")
    card.locator("select[name=stance]").select_option("2")
    card.locator("select[name=influence]").select_option("3")
    card.locator("[data-testid=assessment-save]").click()
    expect(page.locator("[data-testid=saved]")).to_be_visible()
    assert StakeholderAssessment.objects.get(stakeholder=mapped.fellow, superseded_at=None).stance == 2
    expect(page.locator("[data-testid=kpi-assessed]")).to_have_text(re.compile(r"^\s*4\s*/\s*4\s*$"))
    expect(page.locator("#rel-graph[data-rendered='1']")).to_have_count(1)  # reloaded after the change


def test_org_chart_and_committee_page(mapped: Any, page: Any, login: Any) -> None:  # noqa: F811
    w = mapped.w
    login("kam")
    page.goto(f"/relationships/accounts/{w.idn.pk}/?view=org")
    expect(page.locator("#rel-org canvas")).to_have_count(1)
    page.wait_for_timeout(500)
    assert _painted_share(page.locator("#rel-org canvas").first.screenshot()) > 0.002
    shot(page, "relationships-org")
    page.goto(f"/stakeholders/committees/{mapped.committee.pk}/")
    expect(page.locator("[data-testid=member-row]")).to_have_count(2)
    shot(page, "relationships-committee")
