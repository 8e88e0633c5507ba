"""Interactions API per role: scope (404), classification (never shown across functions), 403 for
read-only roles and forbidden classifications, 422 naming the field."""

import pytest
from django.utils import timezone

from openkam.activities.models import Interaction
from tests.activities.conftest import ago

pytestmark = pytest.mark.django_db


def subjects(body):
    return {i["subject"] for i in body["items"]}


def payload(scene, **kw):
    data = {
        "occurred_at": ago(hours=2).isoformat(),
        "channel": "visit",
        "account": scene.world.hospital.pk,
        "subject": "Lunch & learn",
        "classification": "commercial",
        "stakeholders": [scene.cardiologist.pk],
    }
    data.update(kw)
    return data


def test_kam_sees_beacon_interactions_but_not_medical_ones(scene, api):
    status, body = api("kam").get("interactions")
    assert status == 200
    assert subjects(body) == {"Formulary discussion", "Heart failure webinar"} and body["count"] == 2
    status, one = api("kam").get(f"interactions/{scene.commercial.pk}")
    assert status == 200
    assert one["account"] == {"id": scene.world.hospital.pk, "name": "Beacon General Hospital"}
    assert one["stakeholders"] == [{"id": scene.cardiologist.pk, "name": "Dr. Ada Heart, MD"}]
    assert one["tactic"] == {"id": scene.commercial_tactic.pk, "title": "P&T dossier"}
    assert one["participants"][0]["username"] == "kam" and one["can_edit"] is True
    assert (one["channel"], one["is_digital"], one["duration_minutes"]) == ("visit", False, 45)
    assert api("kam").get(f"interactions/{scene.medical.pk}")[0] == 404


def test_kam2_sees_nothing_of_beacon(scene, api):
    assert api("kam2").get("interactions")[1]["count"] == 0
    status, body = api("kam2").get(f"interactions/{scene.commercial.pk}")
    assert status == 404 and body["code"] == "interaction_not_found"


def test_msl_sees_medical_and_joint_never_commercial(scene, api):
    status, body = api("msl").get("interactions")
    assert status == 200 and subjects(body) == {"Trial data exchange", "Heart failure webinar"}
    assert api("msl").get(f"interactions/{scene.commercial.pk}")[0] == 404
    # filtering for it does not reveal it either
    _, body = api("msl").get("interactions?classification=commercial")
    assert body["count"] == 0
    _, body = api("msl").get(f"interactions?tactic={scene.commercial_tactic.pk}")
    assert body["count"] == 0


def test_msl_creating_a_commercial_interaction_is_forbidden(scene, api):
    status, body = api("msl").post("interactions", payload(scene))
    assert status == 403 and body["code"] == "classification_forbidden"
    status, body = api("msl").post("interactions", payload(scene, classification="medical"))
    assert status == 201 and body["classification"] == "medical"


def test_compliance_reads_everything_and_writes_nothing(scene, api):
    status, body = api("compliance").get("interactions")
    assert status == 200 and body["count"] == 3
    assert all(i["can_edit"] is False for i in body["items"])
    assert api("compliance").post("interactions", payload(scene, classification="joint"))[0] == 403
    assert api("compliance").patch(f"interactions/{scene.joint.pk}", {"subject": "x"})[0] == 403
    assert api("compliance").delete(f"interactions/{scene.joint.pk}")[0] == 403
    assert Interaction.objects.filter(pk=scene.joint.pk, subject="Heart failure webinar").exists()


def test_stakeholder_from_another_account_is_422_naming_stakeholders(scene, api):
    status, body = api("kam").post("interactions", payload(scene, stakeholders=[scene.harbor_doc.pk]))
    assert status == 422
    assert [e["field"] for e in body["errors"]] == ["stakeholders"]
    status, body = api("admin").post("interactions", payload(scene, stakeholders=[scene.harbor_doc.pk]))
    assert status == 422 and body["errors"][0]["field"] == "stakeholders" and "Cora Harbor" in body["message"]


def test_bad_fields_are_422_naming_them(scene, api):
    status, body = api("kam").post("interactions", payload(scene, channel="pigeon"))
    assert status == 422 and body["errors"][0]["field"] == "channel"
    status, body = api("kam").post("interactions", payload(scene, account=scene.world.other_account.pk))
    assert status == 422 and body["errors"][0]["field"] == "account"
    status, body = api("kam").post("interactions", payload(scene, tactic=scene.harbor_tactic.pk))
    assert status == 422 and body["errors"][0]["field"] == "tactic"
    status, body = api("kam").post("interactions", payload(scene, occurred_at=ago(days=-3).isoformat()))
    assert status == 422 and body["errors"][0]["field"] == "occurred_at"
    status, body = api("kam").post("interactions", payload(scene, duration_minutes=0))
    assert status == 422 and body["errors"][0]["field"] == "duration_minutes"


def test_create_patch_delete_round_trip(scene, api):
    kam = api("kam")
    status, created = kam.post(
        "interactions", payload(scene, action=scene.commercial_action.pk, notes="Dossier requested")
    )
    assert status == 201
    assert (
        created["tactic"]["id"] == scene.commercial_tactic.pk and created["action"]["id"] == scene.commercial_action.pk
    )
    assert [p["username"] for p in created["participants"]] == ["kam"]
    status, patched = kam.patch(
        f"interactions/{created['id']}",
        {"channel": "call", "stakeholders": [], "participants": [scene.users["kam"].pk, scene.users["access"].pk]},
    )
    assert status == 200
    assert patched["channel"] == "call" and patched["stakeholders"] == []
    assert {p["username"] for p in patched["participants"]} == {"kam", "access"}
    assert patched["subject"] == "Lunch & learn"  # untouched
    status, body = kam.patch(f"interactions/{created['id']}", {"subject": None})
    assert status == 422 and body["errors"][0]["field"] == "subject"
    assert kam.delete(f"interactions/{created['id']}?reason=duplicate")[0] == 204
    assert kam.get(f"interactions/{created['id']}")[0] == 404


def test_only_the_author_or_admin_edits(scene, api):
    status, body = api("kam").patch(f"interactions/{scene.joint.pk}", {"subject": "x"})
    assert status == 403 and body["code"] == "interaction_not_author"
    assert api("kam").get(f"interactions/{scene.joint.pk}")[1]["can_edit"] is False
    assert api("admin").patch(f"interactions/{scene.joint.pk}", {"subject": "HF webinar"})[0] == 200


def test_list_filters(scene, api):
    kam = api("kam")
    _, body = kam.get(f"interactions?account={scene.world.idn.pk}")
    assert subjects(body) == {"Formulary discussion", "Heart failure webinar"}
    _, body = kam.get(f"interactions?account={scene.world.idn.pk}&include_descendants=false")
    assert subjects(body) == {"Heart failure webinar"}
    _, body = kam.get("interactions?kind=digital")
    assert subjects(body) == {"Heart failure webinar"}
    _, body = kam.get("interactions?channel=visit&channel=call")
    assert subjects(body) == {"Formulary discussion"}
    _, body = kam.get(f"interactions?stakeholder={scene.cardiologist.pk}")
    assert subjects(body) == {"Formulary discussion"}
    _, body = kam.get(f"interactions?participant={scene.users['msl'].pk}")
    assert subjects(body) == {"Heart failure webinar"}
    day = timezone.localtime(ago(days=2)).date().isoformat()
    _, body = kam.get(f"interactions?since={day}&until={day}")
    assert subjects(body) == {"Formulary discussion"}
    _, body = kam.get("interactions?mine=true&page_size=1")
    assert body["count"] == 2 and len(body["items"]) == 1
    status, body = kam.get("interactions?kind=carrier-pigeon")
    assert status == 422 and body["errors"][0]["field"] == "kind"


def test_linked_commercial_tactic_is_hidden_from_the_msl(scene, api):
    _, created = api("kam").post(
        "interactions", payload(scene, classification="joint", tactic=scene.commercial_tactic.pk)
    )
    assert created["tactic"]["title"] == "P&T dossier"
    status, seen = api("msl").get(f"interactions/{created['id']}")
    assert status == 200 and seen["tactic"] is None and seen["action"] is None
