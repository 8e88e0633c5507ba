"""The functions the handover / personal-data work builds on (issue 4 items 6 and 8)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction

from openkam.core.errors import NotFound, ValidationFailed
from openkam.relationships import selectors, services
from openkam.relationships.models import AssessmentOwner, InfluenceLink, RelationshipStrength, StakeholderAssessment
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_reassign_moves_ownership_and_strengths_and_merges(mapped: Any) -> None:
    w = mapped.w
    kam, kam2, lead = w.users["kam"], w.users["kam2"], w.users["lead"]
    a = w.idn.pk
    # kam2 already knows the pharmacist: kam2's row is kept, kam's is removed
    RelationshipStrength.objects.create(account=w.idn, stakeholder=mapped.pharm, user=kam2, current=2, desired=3)
    with transaction.atomic():
        n = services.relationships_reassign(actor=lead, from_user_id=kam.pk, to_user_id=kam2.pk, reason="Kim leaves")
    assert n == 3  # owner of chief moved, strength on chief moved, strength on pharm merged
    assert not RelationshipStrength.objects.filter(user=kam).exists()
    assert not AssessmentOwner.objects.filter(user=kam).exists()
    kept = RelationshipStrength.objects.get(user=kam2, stakeholder=mapped.pharm)
    assert (kept.current, kept.desired) == (2, 3)
    assert RelationshipStrength.objects.get(user=kam2, stakeholder=mapped.chief, account_id=a).current == 3
    assert AssessmentOwner.objects.filter(user=kam2, stakeholder=mapped.chief).exists()


def test_reassign_limited_to_accounts_and_refuses_inactive(mapped: Any) -> None:
    w = mapped.w
    kam, kam2, lead = w.users["kam"], w.users["kam2"], w.users["lead"]
    assert (
        services.relationships_reassign(
            actor=lead, from_user_id=kam.pk, to_user_id=kam2.pk, account_ids=[w.hospital.pk], reason="x"
        )
        == 0
    )  # rows are at the IDN, above the hospital
    gone = f.UserFactory(username="gone", is_active=False)
    with pytest.raises(ValidationFailed) as exc:
        services.relationships_reassign(actor=lead, from_user_id=kam.pk, to_user_id=gone.pk, reason="x")
    assert exc.value.errors[0].field == "to_user_id" and exc.value.code == "user_inactive"
    assert RelationshipStrength.objects.filter(user=kam).count() == 2


def test_record_holds_everything_and_is_json(mapped: Any) -> None:
    w = mapped.w
    services.assessment_record(actor=w.users["kam"], account_id=w.idn.pk, stakeholder_id=mapped.chief.pk,
                               decision_role="decision_maker", stance=0, influence=4)  # fmt: skip
    rec = selectors.stakeholder_relationship_record(actor=w.users["compliance"], stakeholder_id=mapped.chief.pk)
    json.dumps(rec)
    assert len(rec["assessments"]) == 2  # both versions
    assert [a["stance"] for a in rec["assessments"]] == [0, 1]
    assert rec["assessments"][1]["note"] == "Key opinion"
    assert rec["strengths"][0]["note"] == "Met at ACC"
    assert rec["links"][0]["kind"] == "reports_to" and rec["links"][0]["direction"] == "incoming"
    assert rec["owners"][0]["user"] == "kam"
    assert rec["decision_domains"] == ["Science and efficacy"]
    with pytest.raises(NotFound):
        selectors.stakeholder_relationship_record(actor=w.users["kam2"], stakeholder_id=mapped.chief.pk)


def test_pseudonymise_clears_free_text_keeps_structure(mapped: Any) -> None:
    w = mapped.w
    n = services.stakeholder_relationships_pseudonymise(actor=w.users["compliance"], stakeholder_id=mapped.chief.pk)
    assert n == 3  # assessment note, strength note, link evidence
    assert StakeholderAssessment.objects.get(stakeholder=mapped.chief).note == ""
    assert RelationshipStrength.objects.get(stakeholder=mapped.chief).note == ""
    link = InfluenceLink.objects.get(to_stakeholder=mapped.chief)
    assert link.evidence == "" and link.kind == "reports_to"
    # the audit trail still holds the before-image (append-only history)
    events = StakeholderAssessment.pgh_event_model.objects.filter(
        pgh_obj_id=StakeholderAssessment.objects.get(stakeholder=mapped.chief).pk
    )  # type: ignore[attr-defined]
    assert events.count() >= 2


def test_summary_for_handover(mapped: Any) -> None:
    w = mapped.w
    s = selectors.account_relationship_summary(actor=w.users["lead"], account_id=w.idn.pk)
    json.dumps(s, default=str)
    first = s["key_relationships"][0]
    assert first["name"].endswith("Chiefson") and first["role"] == "Decision maker"
    assert first["stance"] == "Supporter" and first["owners"] == ["Kim Kam"]
    assert any(f["code"] == "blocker_outranks" for f in s["findings"])
    with pytest.raises(NotFound):
        selectors.account_relationship_summary(actor=w.users["kam2"], account_id=w.idn.pk)
