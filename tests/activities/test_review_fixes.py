"""Review fixes in the interaction form: departments named with their hospital, and ``?stakeholder=`` (a
coverage finding's "Log or plan a contact") ticks that person."""

from __future__ import annotations

import re

from tests import factories as f


def _checked(html: str) -> set[str]:
    return set(re.findall(r'name="stakeholders" value="(\d+)" id="sh-\d+" checked', html))


def test_account_is_named_with_its_hospital(scene, web):
    html = web("kam").get(f"/interactions/new/?account={scene.world.department.pk}").content.decode()
    assert "Cardiology · Beacon General Hospital" in html
    assert "— — Cardiology" not in html and "— Beacon General Hospital" not in html
    # the person picker names where they sit the same way
    assert "Chief of Cardiology · Cardiology · Beacon General Hospital" in html
    # the list page's account filter and rows
    html = web("msl").get("/interactions/").content.decode()
    assert "Cardiology · Beacon General Hospital" in html


def test_stakeholder_from_the_link_is_ticked(scene, web):
    kam = web("kam")
    base = f"/interactions/new/?account={scene.world.hospital.pk}"
    html = kam.get(f"{base}&stakeholder={scene.cardiologist.pk}").content.decode()  # at Cardiology, below
    assert _checked(html) == {str(scene.cardiologist.pk)}
    assert f'<option value="{scene.world.hospital.pk}" selected' in html
    # not at this account (Harbor), not a number, unknown: ignored, the form still opens
    for bad in (scene.harbor_doc.pk, "x", 99999999, "1" * 30):
        resp = kam.get(f"{base}&stakeholder={bad}")
        assert resp.status_code == 200 and _checked(resp.content.decode()) == set()
    # a person at another account of the book is not ticked at this one
    html = kam.get(f"/interactions/new/?account={scene.world.hospital2.pk}&stakeholder={scene.cardiologist.pk}")
    assert _checked(html.content.decode()) == set()
    # someone who may not be contacted is not ticked
    dnc = f.StakeholderFactory(first_name="Dee", last_name="Nocontact", do_not_contact=True)
    f.PositionFactory(stakeholder=dnc, account=scene.world.hospital, title="Nurse manager")
    assert _checked(kam.get(f"{base}&stakeholder={dnc.pk}").content.decode()) == set()


def test_ticked_stakeholder_is_logged(scene, web):
    from openkam.activities.models import Interaction

    kam = web("kam")
    html = kam.get(f"/interactions/new/?account={scene.world.hospital.pk}&stakeholder={scene.cardiologist.pk}")
    assert html.status_code == 200
    resp = kam.post(
        "/interactions/new/",
        {"account": scene.world.hospital.pk, "occurred_at": "2026-01-05T10:00", "channel": "visit",
         "subject": "From the finding", "classification": "commercial", "participants": [scene.users["kam"].pk],
         "stakeholders": [scene.cardiologist.pk]},
    )  # fmt: skip
    assert resp.status_code == 302
    assert list(Interaction.objects.get(subject="From the finding").stakeholders.all()) == [scene.cardiologist]
