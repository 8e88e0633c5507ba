"""Service level: weighted totals, thresholds, overrides with reasons, cap warnings, refusals that save nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from openkam.accounts.models import Account
from openkam.core.errors import PermissionDenied, RuleViolation, ValidationFailed
from openkam.evaluation import services
from openkam.evaluation.models import AccountTier, Assessment, Criterion, RescoreRun, ScoringModel, TeamStrategicCap
from tests.evaluation.conftest import all_scores

pytestmark = pytest.mark.django_db


def test_default_models_are_shipped_with_weights_adding_to_100(models: dict[str, ScoringModel]) -> None:
    p, t = models["partnership"], models["trade"]
    assert [c.key for c in p.criteria.all()] == ["innovation", "technology", "alignment", "partnership", "value"]
    assert [c.key for c in t.criteria.all()] == ["turnover", "margin", "discount", "penetration", "growth"]
    for m in (p, t):
        assert sum(c.weight for c in m.criteria.all()) == 100
        assert all(len(c.levels) == 5 and c.guidance for c in m.criteria.all())
    assert "hospital" in p.account_types and "payer" in p.account_types and "wholesaler" in t.account_types


def test_weighted_total_and_tier(world: Any, models: dict[str, ScoringModel]) -> None:
    p = models["partnership"]
    assert (
        services.weighted_total(
            model=p, scores=dict.fromkeys(["innovation", "technology", "alignment", "partnership", "value"], 5)
        )
        == 100
    )
    mixed = {"innovation": 3, "technology": 3, "alignment": 3, "partnership": 3, "value": 5}
    assert services.weighted_total(model=p, scores=mixed) == Decimal("65.00")  # 30 % × 100 + 70 % × 50
    assert p.tier_for(Decimal("75")) == "strategic" and p.tier_for(Decimal("74.99")) == "key"
    assert p.tier_for(Decimal("55")) == "key" and p.tier_for(Decimal("30")) == "basic" and p.tier_for(0) == "declined"


def test_kam_scores_own_account_and_level_follows(world: Any, models: dict[str, ScoringModel]) -> None:
    kam = world.users["kam"]
    assessment, result = services.assessment_create(
        actor=kam, account_id=world.hospital.pk, scores=all_scores(models["partnership"], 4)
    )
    assert assessment.total == Decimal("75.00") and assessment.tier == "strategic"
    assert result.level == "strategic" and result.changed
    world.hospital.refresh_from_db()
    assert world.hospital.kam_level == "strategic"
    tier = AccountTier.objects.get(account=world.hospital)
    assert tier.computed_level == "strategic" and tier.total == Decimal("75.00")
    # a second assessment is kept next to the first (trend), and the level follows the newest
    services.assessment_create(actor=kam, account_id=world.hospital.pk, scores=all_scores(models["partnership"], 3))
    world.hospital.refresh_from_db()
    assert world.hospital.kam_level == "basic"
    assert Assessment.objects.filter(account=world.hospital).count() == 2
    assert list(Assessment.objects.filter(account=world.hospital).values_list("tier", flat=True)) == [
        "basic",
        "strategic",
    ]


def test_score_outside_the_scale_is_refused_and_nothing_saved(world: Any, models: dict[str, ScoringModel]) -> None:
    scores = all_scores(models["partnership"], 3)
    scores[1]["score"] = 6
    with pytest.raises(ValidationFailed) as exc:
        services.assessment_create(actor=world.users["kam"], account_id=world.hospital.pk, scores=scores)
    assert exc.value.errors[0].field == "scores.1.score" and "from 1 to 5" in exc.value.message
    assert not Assessment.objects.exists() and not AccountTier.objects.exists()


def test_missing_criterion_and_future_date_refused(world: Any, models: dict[str, ScoringModel]) -> None:
    scores = all_scores(models["partnership"], 3)[:-1]
    with pytest.raises(ValidationFailed) as exc:
        services.assessment_create(actor=world.users["kam"], account_id=world.hospital.pk, scores=scores,
                                   assessed_on=dt.date.today() + dt.timedelta(days=3))  # fmt: skip
    fields = {e.field for e in exc.value.errors}
    assert fields == {"assessed_on", "scores"}
    assert not Assessment.objects.exists()


def test_decline_without_rationale_refused(world: Any, models: dict[str, ScoringModel]) -> None:
    kam = world.users["kam"]
    with pytest.raises(ValidationFailed) as exc:
        services.assessment_create(actor=kam, account_id=world.hospital.pk, scores=all_scores(models["partnership"], 1))
    assert exc.value.errors[0].field == "rationale"
    assert not Assessment.objects.exists()
    a, result = services.assessment_create(
        actor=kam, account_id=world.hospital.pk, scores=all_scores(models["partnership"], 1),
        rationale="Closed to industry; no overlap with our portfolio until 2028.",
    )  # fmt: skip
    assert a.tier == "declined" and result.level == "declined"


def test_model_must_fit_the_account_type(world: Any, models: dict[str, ScoringModel]) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.assessment_create(actor=world.users["kam"], account_id=world.hospital.pk,
                                   model_id=models["trade"].pk, scores=all_scores(models["trade"], 3))  # fmt: skip
    assert exc.value.errors[0].field == "model_id"
    with pytest.raises(ValidationFailed) as exc:  # departments are evaluated with their hospital
        services.assessment_create(actor=world.users["kam"], account_id=world.department.pk, scores=[])
    assert exc.value.errors[0].code == "no_model_for_type"


def test_override_needs_a_reason_and_is_audited(world: Any, models: dict[str, ScoringModel]) -> None:
    kam, lead = world.users["kam"], world.users["lead"]
    services.assessment_create(actor=kam, account_id=world.hospital.pk, scores=all_scores(models["partnership"], 3))
    with pytest.raises(PermissionDenied):
        services.tier_override(actor=kam, account_id=world.hospital.pk, level="strategic", reason="I like them")
    with pytest.raises(ValidationFailed) as exc:
        services.tier_override(actor=lead, account_id=world.hospital.pk, level="declined", reason="  ")
    assert exc.value.errors[0].field == "reason" and "will not invest" in exc.value.message
    result = services.tier_override(
        actor=lead, account_id=world.hospital.pk, level="key", reason="New cardiology centre opens in Q3"
    )
    assert result.level == "key"
    world.hospital.refresh_from_db()
    assert world.hospital.kam_level == "key"
    tier = AccountTier.objects.get(account=world.hospital)
    assert tier.computed_level == "basic" and tier.override_level == "key" and tier.override_by == lead
    events = tier.events.order_by("pgh_id").last()  # type: ignore[attr-defined]
    assert events.pgh_context.metadata["reason"] == "New cardiology centre opens in Q3"
    acc_event = Account.pgh_event_model.objects.filter(pgh_obj_id=world.hospital.pk).order_by("pgh_id").last()  # type: ignore[attr-defined]
    # the account's change is part of the override: the override's action, the account update a step of it
    assert acc_event.kam_level == "key" and acc_event.pgh_context.metadata["action"] == "evaluation.tier.override"
    assert acc_event.pgh_context.metadata["steps"] == ["accounts.account.update"]
    # a later assessment does not undo the override
    services.assessment_create(actor=kam, account_id=world.hospital.pk, scores=all_scores(models["partnership"], 5))
    world.hospital.refresh_from_db()
    assert world.hospital.kam_level == "key"
    services.tier_override(actor=lead, account_id=world.hospital.pk, level="", reason="Back to the score")
    world.hospital.refresh_from_db()
    assert world.hospital.kam_level == "strategic"


def test_strategic_cap_warns(world: Any, models: dict[str, ScoringModel]) -> None:
    kam, admin = world.users["kam"], world.users["admin"]
    from openkam.accounts.services import account_update

    account_update(actor=admin, account=world.hospital, owner_id=kam.pk)
    account_update(actor=admin, account=world.hospital2, owner_id=kam.pk)
    services.strategic_cap_set(actor=admin, team_id=kam.team_id, cap=1)
    _a, first = services.assessment_create(
        actor=kam, account_id=world.hospital.pk, scores=all_scores(models["partnership"], 5)
    )
    assert first.warnings == []
    _a, second = services.assessment_create(
        actor=kam, account_id=world.hospital2.pk, scores=all_scores(models["partnership"], 5)
    )
    assert second.level == "strategic" and "above its cap of 1" in second.warnings[0]
    with pytest.raises(ValidationFailed):
        services.strategic_cap_set(actor=admin, team_id=kam.team_id, cap=-1)
    assert TeamStrategicCap.objects.get().cap == 1


def test_lead_reviews_but_not_own_and_kam_cannot(world: Any, models: dict[str, ScoringModel]) -> None:
    kam, lead = world.users["kam"], world.users["lead"]
    a, _r = services.assessment_create(
        actor=kam, account_id=world.hospital.pk, scores=all_scores(models["partnership"], 3)
    )
    with pytest.raises(PermissionDenied):
        services.assessment_review(actor=kam, assessment_id=a.pk)
    reviewed = services.assessment_review(actor=lead, assessment_id=a.pk, note="Agreed")
    assert reviewed.status == "reviewed" and reviewed.reviewed_by == lead
    b, _r = services.assessment_create(
        actor=lead, account_id=world.hospital.pk, scores=all_scores(models["partnership"], 3)
    )
    with pytest.raises(RuleViolation):
        services.assessment_review(actor=lead, assessment_id=b.pk)


def _spec(**over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "code": "formulary-influence", "name": "Formulary influence", "account_types": ["hospital"],
        "criteria": [{"name": "P&T influence", "weight": 60, "levels": ["a", "b", "c", "d", "e"]},
                     {"name": "Budget", "weight": 40, "levels": ["none", "small", "some", "large", "any"]}],
    }  # fmt: skip
    spec.update(over)
    return spec


def test_model_validation_refuses_bad_models(world: Any, models: dict[str, ScoringModel]) -> None:
    admin = world.users["admin"]
    before = ScoringModel.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.scoring_model_create(actor=admin, **_spec(criteria=[]))
    assert exc.value.errors[0].field == "criteria" and "at least one criterion" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        services.scoring_model_create(
            actor=admin, **_spec(criteria=[{"name": "A", "weight": 60, "levels": list("abcde")},
                                           {"name": "B", "weight": 30, "levels": list("abcde")}])
        )  # fmt: skip
    assert exc.value.errors[0].code == "weights_not_100" and "90 %" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        services.scoring_model_create(actor=admin, **_spec(strategic_min=50, key_min=60))
    assert exc.value.errors[0].field == "key_min"
    with pytest.raises(PermissionDenied):
        services.scoring_model_create(actor=world.users["lead"], **_spec())
    assert ScoringModel.objects.count() == before


def test_versions_and_activation(world: Any, models: dict[str, ScoringModel]) -> None:
    admin = world.users["admin"]
    v1 = models["partnership"]
    v2 = services.scoring_model_new_version(actor=admin, model_id=v1.pk)
    assert v2.version == 2 and v2.status == "draft" and v2.criteria.count() == 5
    with pytest.raises(RuleViolation):
        services.scoring_model_update(actor=admin, model_id=v1.pk, name="x")
    services.scoring_model_update(actor=admin, model_id=v2.pk, strategic_min=Decimal("70"))
    services.scoring_model_activate(actor=admin, model_id=v2.pk)
    v1.refresh_from_db()
    assert v1.status == "retired" and ScoringModel.objects.get(pk=v2.pk).status == "active"


def test_scale_labels_are_required_one_per_level(world: Any, models: dict[str, ScoringModel]) -> None:
    admin = world.users["admin"]
    before = (ScoringModel.objects.count(), Criterion.objects.count())
    for levels in ([], ["a", "b", "c", "d"], ["a", "b", "", "d", "e"]):
        crit = [{"name": "P&T influence", "weight": 60, "levels": ["a", "b", "c", "d", "e"]},
                {"name": "Budget", "weight": 40, "levels": levels}]  # fmt: skip
        with pytest.raises(ValidationFailed) as exc:
            services.scoring_model_create(actor=admin, **_spec(criteria=crit))
        assert exc.value.errors[0].field == "criteria.1.levels" and "5 labels for a 1–5 scale" in exc.value.message
    assert (ScoringModel.objects.count(), Criterion.objects.count()) == before


def test_editing_a_used_active_model_creates_the_next_version(world: Any, models: dict[str, ScoringModel]) -> None:
    admin = world.users["admin"]
    v1 = models["partnership"]
    old_criteria = list(v1.criteria.values_list("pk", "weight"))
    a, _r = services.assessment_create(actor=world.users["kam"], account_id=world.hospital.pk, scores=all_scores(v1, 4))
    data = services._model_data(v1)
    data["criteria"][0]["weight"] += 5
    data["criteria"][1]["weight"] -= 5
    data["criteria"][0]["levels"][0] = "No appetite at all"
    with pytest.raises(ValidationFailed):  # weights 105 %: nothing written
        services.scoring_model_edit(actor=admin, model_id=v1.pk, criteria=[*data["criteria"][:1],
                                    {**data["criteria"][1], "weight": data["criteria"][1]["weight"] + 5},
                                    *data["criteria"][2:]])  # fmt: skip
    assert ScoringModel.objects.filter(code=v1.code).count() == 1
    saved = services.scoring_model_edit(actor=admin, model_id=v1.pk, criteria=data["criteria"], reason="QBR")
    assert saved.new_version and saved.replaced == v1 and saved.model.version == 2
    assert saved.model.status == "active" and ScoringModel.objects.get(pk=v1.pk).status == "retired"
    assert list(v1.criteria.values_list("pk", "weight")) == old_criteria  # the used version is untouched
    assert saved.model.criteria.first().levels[0] == "No appetite at all"
    assert Assessment.objects.get(pk=a.pk).model_id == v1.pk
    # a version nobody has scored with yet is edited in place
    again = services.scoring_model_edit(actor=admin, model_id=saved.model.pk, name="Partnership potential 2027")
    assert not again.new_version and again.model.pk == saved.model.pk and again.model.name.endswith("2027")
    with pytest.raises(PermissionDenied):
        services.scoring_model_edit(actor=world.users["lead"], model_id=saved.model.pk, name="x")


def test_a_new_draft_is_edited_in_place_and_activated_on_request(world: Any, models: dict[str, ScoringModel]) -> None:
    admin = world.users["admin"]
    draft = services.scoring_model_create(actor=admin, **_spec())
    saved = services.scoring_model_edit(actor=admin, model_id=draft.pk, account_types=["hospital", "idn"])
    assert not saved.new_version and saved.model.status == "draft" and saved.model.account_types == ["hospital", "idn"]
    saved = services.scoring_model_edit(actor=admin, model_id=draft.pk, activate=True)
    assert saved.model.status == "active" and saved.model.version == 1


def test_rescore_all_after_a_model_change(world: Any, models: dict[str, ScoringModel]) -> None:
    kam, admin = world.users["kam"], world.users["admin"]
    services.assessment_create(actor=kam, account_id=world.hospital.pk, scores=all_scores(models["partnership"], 4))
    services.assessment_create(actor=kam, account_id=world.hospital2.pk, scores=all_scores(models["partnership"], 3))
    v2 = services.scoring_model_new_version(actor=admin, model_id=models["partnership"].pk)
    services.scoring_model_update(actor=admin, model_id=v2.pk, strategic_min=Decimal("80"), key_min=Decimal("45"))
    services.scoring_model_activate(actor=admin, model_id=v2.pk)
    run = services.rescore_run_start(actor=admin)
    with pytest.raises(RuleViolation):
        services.rescore_run_start(actor=admin)
    from openkam.evaluation.tasks import rescore_all

    rescore_all(run.pk)
    run = RescoreRun.objects.get(pk=run.pk)
    assert (run.status, run.total, run.done, run.changed, run.percent) == ("done", 2, 2, 2, 100)
    world.hospital.refresh_from_db()
    world.hospital2.refresh_from_db()
    assert world.hospital.kam_level == "key" and world.hospital2.kam_level == "key"  # 75 < 80; 50 ≥ 45
    # re-tiered set-based, yet each level change is in the account's history with who, what and why
    from openkam.core.selectors import object_history

    for account, before in ((world.hospital, "strategic"), (world.hospital2, "basic")):
        event = object_history(obj=account).first()
        assert event.pgh_label == "update" and event.pgh_data["kam_level"] == "key"
        assert event.pgh_context["action"] == "accounts.account.kam_level"
        assert event.pgh_context["reason"] == f"re-tier run #{run.pk}" and event.pgh_context["user"] == admin.pk
        previous = object_history(obj=account)[1]
        assert previous.pgh_data["kam_level"] == before
    tier_event = object_history(obj=AccountTier.objects.get(account=world.hospital)).first()
    assert tier_event.pgh_context["action"] == "evaluation.tier.rescore"
    with pytest.raises(PermissionDenied):
        services.rescore_run_start(actor=world.users["lead"])


def test_kam_levels_set_in_bulk_is_audited_scoped_and_validated(world: Any, models: dict[str, ScoringModel]) -> None:
    from openkam.accounts.services import account_kam_levels_set

    kam, admin = world.users["kam"], world.users["admin"]
    outside = Account.objects.create(name="Elsewhere Hospital", type="hospital")  # not on kam's book
    with pytest.raises(ValidationFailed):
        account_kam_levels_set(actor=admin, levels={world.hospital.pk: "platinum"}, reason="x")
    with pytest.raises(PermissionDenied):
        account_kam_levels_set(actor=world.users["compliance"], levels={world.hospital.pk: "key"}, reason="x")
    changed = account_kam_levels_set(
        actor=kam, levels={world.hospital.pk: "strategic", world.hospital2.pk: world.hospital2.kam_level,
                           outside.pk: "declined"}, reason="Portfolio review",
    )  # fmt: skip
    assert changed == [world.hospital.pk]  # unchanged and invisible accounts are left alone
    outside.refresh_from_db()
    assert outside.kam_level == "unassessed"
