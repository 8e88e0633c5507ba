"""The stakeholder picker of the interaction form stays small for big accounts and shows who may not be contacted."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_big_account_lists_a_first_page_and_finds_the_rest_by_search(scene: Any, web: Any) -> None:
    for i in range(90):
        person = f.StakeholderFactory(first_name=f"Person{i:02d}", last_name="Crowd")
        f.PositionFactory(stakeholder=person, account=scene.world.hospital, title="Nurse")
    blocked = f.StakeholderFactory(first_name="Zed", last_name="Private", do_not_contact=True)
    f.PositionFactory(stakeholder=blocked, account=scene.world.hospital, title="Director")
    client = web("kam")
    html = client.get(f"/interactions/form/pickers/?account={scene.world.hospital.pk}").content.decode()
    assert html.count('data-testid="person-row"') == 60
    assert "more people at this account: search to find them" in html
    found = client.get(f"/interactions/form/people/?account={scene.world.hospital.pk}&q=person8 crowd").content.decode()
    assert found.count('data-testid="person-row"') == 10  # Person80..Person89
    private = client.get(f"/interactions/form/people/?account={scene.world.hospital.pk}&q=zed").content.decode()
    assert "do not contact" in private and "disabled" in private
    assert (
        "Nobody at this account matches"
        in client.get(
            f"/interactions/form/people/?account={scene.world.hospital.pk}&q=nobody-like-this"
        ).content.decode()
    )
    # someone found by search can be named: the form accepts any eligible person, not only the listed ones
    late = f.StakeholderFactory(first_name="Late", last_name="Find")
    f.PositionFactory(stakeholder=late, account=scene.world.hospital, title="CMO")
    resp = client.post(
        "/interactions/new/",
        {"account": scene.world.hospital.pk, "occurred_at": "2026-01-05T10:00", "channel": "visit",
         "subject": "Met the CMO", "classification": "commercial", "stakeholders": [late.pk],
         "participants": [scene.users["kam"].pk]},
    )  # fmt: skip
    assert resp.status_code == 302, resp.content.decode()[:3000]


def test_out_of_scope_account_finds_nobody(scene: Any, web: Any) -> None:
    html = web("kam").get(f"/interactions/form/people/?account={scene.world.other_account.pk}&q=cora").content
    assert b"person-row" not in html
