"""Plan sections, templates, lifecycle extras (return with comments, snapshots, compare, clone), health,
completeness, plan rot and the customer's agreement — at service/selector level."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from openkam.core.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.plans import selectors, services
from openkam.plans.models import (
    AccountPlan,
    Action,
    ActionStatus,
    CustomerAgreement,
    PlanReview,
    PlanSnapshot,
    PlanStatus,
    PlanStep,
    PlanTemplate,
    SwotObjective,
)
from tests import factories as f

pytestmark = pytest.mark.django_db


def _new_plan(world: Any, **kw: Any) -> AccountPlan:
    return services.plan_create(
        actor=world.users["kam"],
        account_id=kw.pop("account", world.hospital).pk,
        name=kw.pop("name", "Beacon General 2026"),
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        **kw,
    )


def _version(plan: AccountPlan) -> int:
    return AccountPlan.objects.get(pk=plan.pk).version


def test_new_plan_gets_the_template_for_its_account_type_with_its_checklist(world: Any) -> None:
    kam = world.users["kam"]
    plan = _new_plan(world)
    assert plan.template is not None and plan.template.name == "Strategic account plan"
    sections = selectors.plan_sections(actor=kam, plan=selectors.plan_get(actor=kam, plan_id=plan.pk))
    assert [s.stage.name for s in sections.stages][:3] == [
        "Portfolio vs. profit",
        "Understand the customer",
        "Relationship X-ray",
    ]
    assert sections.steps_total == PlanStep.objects.filter(stage__plan=plan).count() > 10
    assert sections.steps_done == 0 and sections.stage_completion == 0


def test_objective_without_target_is_refused_when_the_template_requires_one(world: Any) -> None:
    plan = _new_plan(world)
    kam = world.users["kam"]
    before = _version(plan)
    with pytest.raises(ValidationFailed) as exc:
        services.objective_create(actor=kam, plan_id=plan.pk, title="Be liked", metric="NPS")
    assert exc.value.errors[0].field == "target"
    assert "requires every objective" in exc.value.message
    assert not plan.objectives.exists() and _version(plan) == before
    o = services.objective_create(actor=kam, plan_id=plan.pk, title="Formulary", metric="listings", target=3)
    with pytest.raises(ValidationFailed):
        services.objective_update(actor=kam, objective_id=o.pk, target=None)
    o.refresh_from_db()
    assert o.target == Decimal("3")


def test_sections_crud_locking_and_swot_links(world: Any) -> None:
    kam = world.users["kam"]
    plan = _new_plan(world)
    o = services.objective_create(actor=kam, plan_id=plan.pk, title="Formulary", metric="listings", target=3)
    v = _version(plan)
    item = services.section_item_create(
        actor=kam,
        section="swot_item",
        plan_id=plan.pk,
        expected_version=v,
        kind="threat",
        title="Biosimilar entry in Q3",
        evidence="Competitor filing seen 2026-02",
        objective_ids=[o.pk],
    )
    assert item.plan_version == v + 1
    assert list(SwotObjective.objects.filter(swot_item=item).values_list("objective_id", flat=True)) == [o.pk]
    with pytest.raises(Conflict):  # stale page
        services.section_item_update(actor=kam, section="swot_item", item_id=item.pk, expected_version=v, title="x")
    with pytest.raises(ValidationFailed) as exc:
        services.section_item_update(actor=kam, section="swot_item", item_id=item.pk, kind="danger")
    assert exc.value.errors[0].field == "kind"
    other = f.PlanFactory(account=world.hospital, owner=kam)
    foreign = f.ObjectiveFactory(plan=other)
    with pytest.raises(ValidationFailed) as exc:
        services.section_item_update(actor=kam, section="swot_item", item_id=item.pk, objective_ids=[foreign.pk])
    assert exc.value.errors[0].field == "objective_ids"
    services.section_item_update(actor=kam, section="swot_item", item_id=item.pk, objective_ids=[])
    assert not SwotObjective.objects.filter(swot_item=item).exists()

    goal = services.section_item_create(actor=kam, section="goal", plan_id=plan.pk, title="Preferred partner")
    csf = services.section_item_create(actor=kam, section="csf", plan_id=plan.pk, title="P&T champion", goal=goal.pk)
    ka = services.section_item_create(
        actor=kam, section="key_action", parent_id=csf.pk, title="Brief Dr Chen", owner=kam.pk
    )
    services.section_item_update(actor=kam, section="key_action", item_id=ka.pk, done=True)
    services.section_item_create(actor=kam, section="customer_priority", plan_id=plan.pk, title="Cut readmissions")
    sections = selectors.plan_sections(actor=kam, plan=selectors.plan_get(actor=kam, plan_id=plan.pk))
    assert [n.csf.title for n in sections.goals[0].csfs] == ["P&T champion"]
    assert sections.goals[0].csfs[0].key_actions[0].done is True
    assert [p.title for p in sections.priorities] == ["Cut readmissions"]
    assert [s.title for s in sections.swot["threat"]] == ["Biosimilar entry in Q3"]

    step = PlanStep.objects.filter(stage__plan=plan).first()
    services.section_item_update(actor=kam, section="step", item_id=step.pk, done=True)
    step.refresh_from_db()
    assert step.done and step.done_by == kam and step.done_at is not None

    with pytest.raises(ValidationFailed):
        services.section_item_create(actor=kam, section="goal", plan_id=plan.pk, title="  ")
    with pytest.raises(ValidationFailed):
        services.section_item_create(actor=kam, section="nonsense", plan_id=plan.pk, title="x")
    services.section_item_delete(actor=kam, section="goal", item_id=goal.pk)
    csf.refresh_from_db()
    assert csf.goal_id is None


def test_sections_respect_scope_roles_and_classification(world: Any) -> None:
    kam, kam2, msl, compliance = (world.users[u] for u in ("kam", "kam2", "msl", "compliance"))
    plan = _new_plan(world)
    secret = services.section_item_create(
        actor=kam, section="swot_item", plan_id=plan.pk, kind="weakness", title="Price gap", classification="commercial"
    )
    with pytest.raises(NotFound):  # medical never sees commercial-only SWOT items
        services.section_item_update(actor=msl, section="swot_item", item_id=secret.pk, title="x")
    sections = selectors.plan_sections(actor=msl, plan=selectors.plan_get(actor=msl, plan_id=plan.pk))
    assert sections.swot["weakness"] == []
    with pytest.raises(PermissionDenied):
        services.section_item_create(
            actor=msl, section="swot_item", plan_id=plan.pk, kind="threat", title="x", classification="commercial"
        )
    with pytest.raises(NotFound):  # out of scope
        services.section_item_create(actor=kam2, section="goal", plan_id=plan.pk, title="x")
    with pytest.raises(PermissionDenied):  # compliance reads only
        services.section_item_create(actor=compliance, section="goal", plan_id=plan.pk, title="x")


def test_narrative_sections_edited_with_the_plan_version(world: Any) -> None:
    kam = world.users["kam"]
    plan = _new_plan(world)
    updated = services.plan_update(
        actor=kam,
        plan_id=plan.pk,
        expected_version=plan.version,
        positioning="The only once-daily option",
        value_proposition="Fewer readmissions",
        value_proposition_reviewed=True,
        strategy="Win the P&T, then scale",
    )
    assert updated.strategy == "Win the P&T, then scale" and updated.value_proposition_reviewed
    with pytest.raises(Conflict):
        services.plan_update(actor=kam, plan_id=plan.pk, expected_version=plan.version, strategy="old page")


def _ready_plan(world: Any) -> AccountPlan:
    kam = world.users["kam"]
    plan = _new_plan(world)
    o = services.objective_create(
        actor=kam, plan_id=plan.pk, title="Formulary listing", metric="listings", baseline=0, target=4, current=1
    )
    t = services.tactic_create(actor=kam, objective_id=o.pk, title="P&T dossier", classification="commercial")
    services.action_create(actor=kam, tactic_id=t.pk, title="Submit dossier", due_date=dt.date(2026, 3, 1))
    m = services.tactic_create(actor=world.users["msl"], objective_id=o.pk, title="Advisory", classification="medical")
    services.action_create(actor=world.users["msl"], tactic_id=m.pk, title="Advisory board")
    return plan


def test_return_needs_comments_and_approval_freezes_an_immutable_snapshot(world: Any) -> None:
    kam, lead = world.users["kam"], world.users["lead"]
    plan = _ready_plan(world)
    services.plan_transition(actor=kam, plan_id=plan.pk, to="in_review", comment="Ready for Q1 review")
    with pytest.raises(ValidationFailed) as exc:
        services.plan_transition(actor=lead, plan_id=plan.pk, to="draft")
    assert exc.value.errors[0].field == "comment"
    assert AccountPlan.objects.get(pk=plan.pk).status == PlanStatus.IN_REVIEW
    services.plan_transition(actor=lead, plan_id=plan.pk, to="draft", comment="Add a threat to the SWOT")
    review = PlanReview.objects.filter(plan=plan).first()
    assert review.kind == "return" and review.comment == "Add a threat to the SWOT" and review.author == lead
    services.plan_transition(actor=kam, plan_id=plan.pk, to="in_review")
    with pytest.raises(PermissionDenied):
        services.plan_transition(actor=kam, plan_id=plan.pk, to="approved")
    assert not PlanSnapshot.objects.filter(plan=plan).exists()
    services.plan_transition(actor=lead, plan_id=plan.pk, to="approved", comment="Good plan")
    snap = PlanSnapshot.objects.get(plan=plan)
    assert snap.number == 1 and snap.approved_by == lead
    assert snap.data["objectives"][0]["title"] == "Formulary listing"
    assert {t["classification"] for t in snap.data["objectives"][0]["tactics"]} == {"commercial", "medical"}
    with pytest.raises(DatabaseError), transaction.atomic():
        PlanSnapshot.objects.filter(pk=snap.pk).update(data={})
    with pytest.raises(RuleViolation):  # an approved-before plan keeps its versions
        services.plan_transition(actor=kam, plan_id=plan.pk, to="draft")
        services.plan_delete(actor=kam, plan_id=plan.pk)
    assert AccountPlan.objects.filter(pk=plan.pk).exists()


def test_compare_versions_shows_what_changed_for_the_reader(world: Any) -> None:
    kam, lead, msl = world.users["kam"], world.users["lead"], world.users["msl"]
    plan = _ready_plan(world)
    services.plan_transition(actor=kam, plan_id=plan.pk, to="in_review")
    services.plan_transition(actor=lead, plan_id=plan.pk, to="approved")
    objective = plan.objectives.get()
    services.objective_update(actor=kam, objective_id=objective.pk, current=3)
    services.section_item_create(actor=kam, section="swot_item", plan_id=plan.pk, kind="threat", title="Budget freeze")
    p = selectors.plan_get(actor=kam, plan_id=plan.pk)
    diff = selectors.plan_compare(actor=kam, plan=p, left="1", right="current")
    kinds = {(c.section, c.kind, c.item, c.title) for c in diff["changes"]}
    assert ("swot", "added", "swot", "Budget freeze") in kinds
    changed = next(c for c in diff["changes"] if c.item == "objective" and c.title == "Formulary listing")
    assert ("current", "1.00", "3.00") in changed.fields
    # the medical reader's comparison never shows commercial-only rows, and vice versa
    medical_view = selectors.plan_compare(
        actor=msl, plan=selectors.plan_get(actor=msl, plan_id=plan.pk), left="1", right="current"
    )
    tactics = medical_view["left_content"]["objectives"][0]["tactics"]
    assert [t["classification"] for t in tactics] == ["medical"]
    with pytest.raises(NotFound):
        selectors.plan_compare(actor=kam, plan=p, left="7", right="current")


def test_clone_into_next_period_resets_progress(world: Any) -> None:
    kam = world.users["kam"]
    plan = _ready_plan(world)
    Action.objects.filter(tactic__objective__plan=plan).update(status=ActionStatus.DONE)
    PlanStep.objects.filter(stage__plan=plan).update(done=True)
    services.section_item_create(actor=kam, section="swot_item", plan_id=plan.pk, kind="threat", title="Generic")
    clone = services.plan_clone(
        actor=kam, plan_id=plan.pk, period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31)
    )
    assert clone.status == PlanStatus.DRAFT and clone.cloned_from_id == plan.pk
    o = clone.objectives.get()
    assert o.baseline == Decimal("1") and o.current is None and o.target == Decimal("4")
    actions = Action.objects.filter(tactic__objective__plan=clone)
    # kam cannot see the medical tactic: it is not copied by kam
    assert [a.title for a in actions] == ["Submit dossier"]
    assert actions[0].status == ActionStatus.NOT_STARTED and actions[0].due_date == dt.date(2027, 3, 1)
    assert not PlanStep.objects.filter(stage__plan=clone, done=True).exists()
    assert PlanStep.objects.filter(stage__plan=clone).count() == PlanStep.objects.filter(stage__plan=plan).count()
    assert clone.swot_items.get().title == "Generic"
    with pytest.raises(ValidationFailed) as exc:
        services.plan_clone(
            actor=kam, plan_id=plan.pk, period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31)
        )
    assert exc.value.errors[0].field == "period_start"


def test_health_progress_toward_target_and_reasons(world: Any) -> None:
    kam = world.users["kam"]
    plan = _new_plan(world)
    on_track = services.objective_create(
        actor=kam, plan_id=plan.pk, title="On track", metric="m", baseline=0, target=10, current=9,
        due_date=dt.date(2026, 12, 31),
    )  # fmt: skip
    late = services.objective_create(
        actor=kam, plan_id=plan.pk, title="Late", metric="m", baseline=0, target=10, current=2,
        due_date=dt.date(2026, 2, 1),
    )  # fmt: skip
    p = selectors.plan_get(actor=kam, plan_id=plan.pk)
    tree = selectors.plan_tree(actor=kam, plan=p)
    tree.today = dt.date(2026, 7, 1)
    health, per = selectors.plan_health(tree)
    assert selectors.objective_progress(on_track) == 90.0
    assert per[on_track.pk].status == "green" and "90% of target" in per[on_track.pk].reason
    assert per[late.pk].status == "red" and "due date passed" in per[late.pk].reason
    assert health.status == "red" and "1 of 2 objectives red" in health.reason


def test_completeness_says_exactly_what_is_missing(world: Any) -> None:
    kam = world.users["kam"]
    plan = _new_plan(world)
    services.objective_create(actor=kam, plan_id=plan.pk, title="No owner", metric="m", target=1, owner=None)

    def completeness() -> Any:
        p = selectors.plan_get(actor=kam, plan_id=plan.pk)
        return selectors.plan_completeness(
            actor=kam,
            plan=p,
            tree=selectors.plan_tree(actor=kam, plan=p),
            sections=selectors.plan_sections(actor=kam, plan=p),
            has_decision_maker=selectors.account_has_decision_maker(actor=kam, account=p.account),
        )

    c = completeness()
    codes = {g.code for g in c.gaps}
    assert {"decision_maker", "objective_owner", "objective_due_date", "swot_threats", "strategy"} <= codes
    owner_gap = next(g for g in c.gaps if g.code == "objective_owner")
    assert "“No owner”" in owner_gap.message
    assert next(g for g in c.gaps if g.code == "swot_threats").required  # named by the template
    before = c.score
    f.PositionFactory(account=world.department, role_in_decision="decision_maker")
    services.section_item_create(actor=kam, section="swot_item", plan_id=plan.pk, kind="threat", title="Generic")
    c2 = completeness()
    assert "decision_maker" not in {g.code for g in c2.gaps} and "swot_threats" not in {g.code for g in c2.gaps}
    assert c2.score > before


def test_plan_rot_uses_the_template_threshold(world: Any) -> None:
    kam = world.users["kam"]
    plan = _new_plan(world)
    AccountPlan.objects.filter(pk=plan.pk).update(last_meaningful_update_at=timezone.now() - dt.timedelta(days=40))
    rows = {p.pk: p for p in selectors.plan_list(actor=kam)}
    assert rows[plan.pk].is_stale and rows[plan.pk].stale_after == 30
    PlanTemplate.objects.filter(pk=plan.template_id).update(stale_after_days=60)
    assert not {p.pk: p for p in selectors.plan_list(actor=kam)}[plan.pk].is_stale
    # a meaningful change resets the clock; a lifecycle move does not
    PlanTemplate.objects.filter(pk=plan.template_id).update(stale_after_days=30)
    services.plan_transition(actor=kam, plan_id=plan.pk, to="in_review")
    assert {p.pk: p for p in selectors.plan_list(actor=kam)}[plan.pk].is_stale
    services.section_item_create(actor=kam, section="goal", plan_id=plan.pk, title="Grow")
    p = selectors.plan_get(actor=kam, plan_id=plan.pk)
    days, limit, stale = selectors.plan_rot(p, p.template)
    assert days == 0 and limit == 30 and not stale


def test_customer_agreement_recorded_with_date_and_signatory(world: Any) -> None:
    kam, msl = world.users["kam"], world.users["msl"]
    plan = _ready_plan(world)
    with pytest.raises(RuleViolation):  # nothing shared yet
        services.customer_agreement_record(
            actor=kam, plan_id=plan.pk, agreed_on=dt.date(2026, 2, 1), signatory_name="Dr Ana Reyes"
        )
    o = plan.objectives.get()
    services.objective_update(actor=kam, objective_id=o.pk, shared_with_customer=True)
    with pytest.raises(ValidationFailed) as exc:
        services.customer_agreement_record(
            actor=kam, plan_id=plan.pk, agreed_on=timezone.localdate() + dt.timedelta(days=3), signatory_name="X"
        )
    assert exc.value.errors[0].field == "agreed_on"
    with pytest.raises(ValidationFailed):
        services.customer_agreement_record(
            actor=kam, plan_id=plan.pk, agreed_on=dt.date(2026, 2, 1), signatory_name=" "
        )
    with pytest.raises(PermissionDenied):
        services.customer_agreement_record(
            actor=msl, plan_id=plan.pk, agreed_on=dt.date(2026, 2, 1), signatory_name="Dr Ana Reyes"
        )
    a = services.customer_agreement_record(
        actor=kam,
        plan_id=plan.pk,
        agreed_on=dt.date(2026, 2, 1),
        signatory_name="Dr Ana Reyes",
        signatory_title="CMO",
    )
    assert CustomerAgreement.objects.get(pk=a.pk).plan_version == _version(plan)


def test_templates_are_for_administrators(world: Any) -> None:
    admin, kam = world.users["admin"], world.users["kam"]
    with pytest.raises(PermissionDenied):
        services.plan_template_save(actor=kam, name="Mine")
    t = services.plan_template_save(
        actor=admin,
        name="Payer light",
        account_types=["payer"],
        sections=["objectives", "swot"],
        required_fields=["objective.due_date"],
        stale_after_days=14,
        stages=[("Understand", ["Map the DMU", ""]), ("Act", ["Plan actions"])],
    )
    assert [s.name for s in t.stages.all()] == ["Understand", "Act"]
    assert [s.title for s in t.stages.first().steps.all()] == ["Map the DMU"]
    with pytest.raises(ValidationFailed) as exc:
        services.plan_template_save(actor=admin, template_id=t.pk, sections=["bogus"])
    assert exc.value.errors[0].field == "sections"
    with pytest.raises(ValidationFailed):
        services.plan_template_save(actor=admin, name="Strategic account plan")
