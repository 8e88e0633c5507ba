"""Plan services: lifecycle, roll-up, classification, optimistic locking, date rules, history."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from openkam.core.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.plans import selectors, services
from openkam.plans.models import PLAN_TRANSITIONS, AccountPlan, Action, ActionStatus, PlanStatus, Tactic
from tests import factories as f
from tests.plans.conftest import build_plan

pytestmark = pytest.mark.django_db
STATUSES = list(PlanStatus.values)


def _set_status(plan, status):
    AccountPlan.objects.filter(pk=plan.pk).update(status=status)
    plan.refresh_from_db()


def _version(plan):
    return AccountPlan.objects.get(pk=plan.pk).version


# --- lifecycle ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("current", "to"), list(itertools.product(STATUSES, STATUSES)))
def test_transition_matrix(pw, current, to):
    """Every (from, to) pair: the moves in PLAN_TRANSITIONS work, every other one is refused naming both."""
    lead = pw.plan.owner.manager
    _set_status(pw.plan, current)
    if to in PLAN_TRANSITIONS[current]:
        plan = services.plan_transition(actor=lead, plan_id=pw.plan.pk, to=to, comment="Needs work")
        assert plan.status == to
    else:
        with pytest.raises(RuleViolation) as exc:
            services.plan_transition(actor=lead, plan_id=pw.plan.pk, to=to)
        assert exc.value.code == "invalid_transition"
        assert str(PlanStatus(current).label) in exc.value.message and str(PlanStatus(to).label) in exc.value.message
        assert AccountPlan.objects.get(pk=pw.plan.pk).status == current


def test_unknown_status_is_a_field_error(pw):
    with pytest.raises(ValidationFailed) as exc:
        services.plan_transition(actor=pw.plan.owner, plan_id=pw.plan.pk, to="published")
    assert exc.value.errors[0].field == "to"


def test_kam_submits_but_cannot_approve_own_plan_lead_approves(world, pw):
    kam, lead = world.users["kam"], world.users["lead"]
    plan = services.plan_transition(actor=kam, plan_id=pw.plan.pk, to=PlanStatus.IN_REVIEW, expected_version=1)
    assert plan.status == PlanStatus.IN_REVIEW and plan.version == 2
    assert services.plan_available_transitions(actor=kam, plan=plan) == [PlanStatus.DRAFT]
    with pytest.raises(PermissionDenied) as exc:
        services.plan_transition(actor=kam, plan_id=pw.plan.pk, to=PlanStatus.APPROVED)
    assert exc.value.code == "approval_forbidden"
    approved = services.plan_transition(actor=lead, plan_id=pw.plan.pk, to=PlanStatus.APPROVED)
    assert approved.status == PlanStatus.APPROVED
    assert approved.approved_by == lead and approved.approved_at is not None
    event = AccountPlan.pgh_event_model.objects.filter(pgh_obj_id=pw.plan.pk).order_by("-pgh_id").first()
    assert event.pgh_context.metadata["action"] == "plans.accountplan.approve"


def test_nobody_approves_their_own_plan(world):
    lead = world.users["lead"]
    plan = f.PlanFactory(account=world.hospital, owner=lead, status=PlanStatus.IN_REVIEW)
    with pytest.raises(PermissionDenied) as exc:
        services.plan_transition(actor=lead, plan_id=plan.pk, to=PlanStatus.APPROVED)
    assert exc.value.code == "own_plan_approval"
    assert services.plan_transition(actor=world.users["admin"], plan_id=plan.pk, to="approved").status == "approved"


@pytest.mark.parametrize(
    ("username", "code"),
    [("msl", "transition_forbidden"), ("access", "transition_forbidden"), ("compliance", "read_only_role")],
)
def test_only_owner_or_lead_submits_and_returns(world, pw, username, code):
    with pytest.raises(PermissionDenied) as exc:
        services.plan_transition(actor=world.users[username], plan_id=pw.plan.pk, to=PlanStatus.IN_REVIEW)
    assert exc.value.code == code
    _set_status(pw.plan, PlanStatus.IN_REVIEW)
    assert (
        services.plan_transition(
            actor=world.users["lead"], plan_id=pw.plan.pk, to="draft", comment="Add a threat"
        ).status
        == "draft"
    )


def test_out_of_scope_plan_is_not_found(world, pw):
    with pytest.raises(NotFound):
        services.plan_transition(actor=world.users["kam2"], plan_id=pw.plan.pk, to=PlanStatus.IN_REVIEW)
    with pytest.raises(NotFound):
        selectors.plan_get(actor=world.users["kam2"], plan_id=pw.plan.pk)


def test_closed_plan_is_read_only(world, pw):
    kam = world.users["kam"]
    _set_status(pw.plan, PlanStatus.CLOSED)
    attempts = [
        lambda: services.plan_update(actor=kam, plan_id=pw.plan.pk, expected_version=pw.plan.version, name="x"),
        lambda: services.objective_create(actor=kam, plan_id=pw.plan.pk, title="More"),
        lambda: services.tactic_update(actor=kam, tactic_id=pw.commercial.pk, title="x"),
        lambda: services.action_update(actor=kam, action_id=pw.commercial_actions[1].pk, status="done"),
        lambda: services.action_delete(actor=kam, action_id=pw.commercial_actions[1].pk),
    ]
    for attempt in attempts:
        with pytest.raises(RuleViolation) as exc:
            attempt()
        assert exc.value.code == "plan_closed"
    assert not services.plan_can_edit(actor=kam, plan=pw.plan)
    assert Action.objects.get(pk=pw.commercial_actions[1].pk).status == ActionStatus.NOT_STARTED


def test_create_plan_rules(world):
    kam = world.users["kam"]
    plan = services.plan_create(
        actor=kam, account_id=world.hospital.pk, name=" Beacon 2027 ", period_start=dt.date(2027, 1, 1),
        period_end=dt.date(2027, 12, 31),
    )  # fmt: skip
    assert plan.name == "Beacon 2027" and plan.owner == kam and plan.status == PlanStatus.DRAFT and plan.version == 1
    with pytest.raises(ValidationFailed) as exc:
        services.plan_create(
            actor=kam, account_id=world.hospital.pk, name="Backwards", period_start=dt.date(2027, 6, 1),
            period_end=dt.date(2027, 1, 1),
        )  # fmt: skip
    assert exc.value.errors[0].field == "period_end"
    with pytest.raises(NotFound):
        services.plan_create(
            actor=world.users["kam2"], account_id=world.hospital.pk, name="Not mine",
            period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31),
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.plan_create(
            actor=world.users["compliance"], account_id=world.hospital.pk, name="Nope",
            period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31),
        )  # fmt: skip
    assert AccountPlan.objects.count() == 1


def test_only_drafts_are_deleted_and_never_with_hidden_work(world, pw):
    kam = world.users["kam"]
    with pytest.raises(PermissionDenied) as exc:
        services.plan_delete(actor=kam, plan_id=pw.plan.pk)
    assert exc.value.code == "plan_has_hidden_work"
    other = build_plan(account=world.hospital, owner=kam, objectives=1, tactics_per_objective=2)
    _set_status(other, PlanStatus.ACTIVE)
    with pytest.raises(RuleViolation) as exc:
        services.plan_delete(actor=kam, plan_id=other.pk)
    assert exc.value.code == "plan_not_draft"
    _set_status(other, PlanStatus.DRAFT)
    services.plan_delete(actor=kam, plan_id=other.pk)
    assert not AccountPlan.objects.filter(pk=other.pk).exists()


# --- completion roll-up ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("username", "expected_plan", "expected_tactics"),
    [
        ("kam", 37.5, {"Formulary push": 25.0, "Joint HEOR study": 50.0}),
        ("msl", 75.0, {"Joint HEOR study": 50.0, "Advisory board": 100.0}),
        (
            "compliance",
            (25 + 50 + 100) / 3,
            {"Formulary push": 25.0, "Joint HEOR study": 50.0, "Advisory board": 100.0},
        ),
    ],
)
def test_rollup_is_computed_over_what_the_reader_may_see(world, pw, username, expected_plan, expected_tactics):
    actor = world.users[username]
    plan = selectors.plan_get(actor=actor, plan_id=pw.plan.pk)
    tree = selectors.plan_tree(actor=actor, plan=plan)
    assert {t.tactic.title: t.completion for t in tree.tactics()} == pytest.approx(expected_tactics)
    assert tree.completion == pytest.approx(expected_plan)
    # The list's SQL figure and the page's figure agree.
    assert plan.completion == pytest.approx(expected_plan)
    listed = selectors.plan_list(actor=actor).get(pk=pw.plan.pk)
    assert listed.completion == pytest.approx(expected_plan)


def test_rollup_means_and_exclusions(world, pw):
    """Objective % = mean of its tactics, plan % = mean of objectives; cancelled and empty are left out."""
    kam = world.users["kam"]
    second = f.ObjectiveFactory(plan=pw.plan, title="Second")
    t1 = f.TacticFactory(objective=second, classification="commercial")
    f.ActionFactory(tactic=t1, status=ActionStatus.DONE)
    only_cancelled = f.TacticFactory(objective=second, classification="commercial")
    f.ActionFactory(tactic=only_cancelled, status=ActionStatus.CANCELLED)
    f.ObjectiveFactory(plan=pw.plan, title="Empty objective")  # no tactics: no figure, not a zero
    tree = selectors.plan_tree(actor=kam, plan=selectors.plan_get(actor=kam, plan_id=pw.plan.pk))
    assert tree.tactic(only_cancelled.pk).completion is None
    assert tree.objective(second.pk).completion == pytest.approx(100.0)
    assert tree.completion == pytest.approx((37.5 + 100.0) / 2)
    assert selectors.plan_list(actor=kam).get(pk=pw.plan.pk).completion == pytest.approx((37.5 + 100.0) / 2)


def test_marking_done_moves_completion(world, pw):
    kam = world.users["kam"]
    services.action_update(actor=kam, action_id=pw.commercial_actions[1].pk, status=ActionStatus.DONE)
    action = Action.objects.get(pk=pw.commercial_actions[1].pk)
    assert action.completed_at is not None
    tree = selectors.plan_tree(actor=kam, plan=selectors.plan_get(actor=kam, plan_id=pw.plan.pk))
    assert tree.tactic(pw.commercial.pk).completion == pytest.approx(50.0)
    services.action_update(actor=kam, action_id=pw.commercial_actions[1].pk, status=ActionStatus.IN_PROGRESS)
    assert Action.objects.get(pk=pw.commercial_actions[1].pk).completed_at is None


def test_empty_plan_has_no_figure(world):
    plan = f.PlanFactory(account=world.hospital, owner=world.users["kam"])
    assert selectors.plan_list(actor=world.users["kam"]).get(pk=plan.pk).completion is None


# --- classification ----------------------------------------------------------------------------
def test_medical_never_sees_commercial_only_and_commercial_never_sees_medical_only(world, pw):
    msl, kam = world.users["msl"], world.users["kam"]
    msl_tree = selectors.plan_tree(actor=msl, plan=selectors.plan_get(actor=msl, plan_id=pw.plan.pk))
    assert {t.tactic.title for t in msl_tree.tactics()} == {"Joint HEOR study", "Advisory board"}
    assert not any(a.tactic_id == pw.commercial.pk for a in msl_tree.actions())
    kam_tree = selectors.plan_tree(actor=kam, plan=selectors.plan_get(actor=kam, plan_id=pw.plan.pk))
    assert {t.tactic.title for t in kam_tree.tactics()} == {"Formulary push", "Joint HEOR study"}
    with pytest.raises(NotFound):
        selectors.tactic_get(actor=msl, tactic_id=pw.commercial.pk)
    with pytest.raises(NotFound):
        selectors.action_get(actor=msl, action_id=pw.commercial_actions[0].pk)
    with pytest.raises(NotFound):
        selectors.tactic_get(actor=kam, tactic_id=pw.medical.pk)
    with pytest.raises(NotFound):
        services.action_update(actor=msl, action_id=pw.commercial_actions[1].pk, status="done")
    assert {a.tactic_id for a in selectors.action_list(actor=msl)} == {pw.joint.pk, pw.medical.pk}
    assert {a.tactic_id for a in selectors.action_list(actor=kam)} == {pw.commercial.pk, pw.joint.pk}


def test_writes_check_classification(world, pw):
    msl, kam = world.users["msl"], world.users["kam"]
    with pytest.raises(PermissionDenied) as exc:
        services.tactic_create(actor=msl, objective_id=pw.objective.pk, title="Rebate", classification="commercial")
    assert exc.value.code == "classification_forbidden"
    with pytest.raises(PermissionDenied):
        services.tactic_create(actor=kam, objective_id=pw.objective.pk, title="MSL talk", classification="medical")
    with pytest.raises(PermissionDenied):
        services.tactic_update(actor=kam, tactic_id=pw.joint.pk, classification="medical")
    tactic = services.tactic_create(
        actor=msl, objective_id=pw.objective.pk, title="Speaker training", classification="medical"
    )
    assert tactic.function == "medical"
    action = services.action_create(actor=msl, tactic_id=tactic.pk, title="Book venue", assignee=msl.pk)
    assert action.owner == msl and action.assignee == msl
    with pytest.raises(PermissionDenied):
        services.tactic_create(
            actor=world.users["compliance"], objective_id=pw.objective.pk, title="x", classification="joint"
        )


def test_people_on_a_classified_action_must_be_able_to_see_it(world, pw):
    with pytest.raises(ValidationFailed) as exc:
        services.action_create(
            actor=world.users["kam"], tactic_id=pw.commercial.pk, title="x", assignee=world.users["msl"].pk
        )
    assert exc.value.errors[0].field == "assignee" and exc.value.code == "user_cannot_see"
    assert (
        services.action_create(
            actor=world.users["kam"], tactic_id=pw.joint.pk, title="y", assignee=world.users["msl"]
        ).assignee
        == world.users["msl"]
    )


def test_deleting_an_objective_with_hidden_tactics_is_refused(world, pw):
    with pytest.raises(PermissionDenied) as exc:
        services.objective_delete(actor=world.users["kam"], objective_id=pw.objective.pk)
    assert exc.value.code == "objective_has_hidden_work"
    assert Tactic.objects.filter(pk=pw.medical.pk).exists()
    services.tactic_delete(actor=world.users["msl"], tactic_id=pw.medical.pk)
    services.objective_delete(actor=world.users["kam"], objective_id=pw.objective.pk)
    assert not Tactic.objects.filter(objective_id=pw.objective.pk).exists()


# --- optimistic locking ------------------------------------------------------------------------
def test_header_edit_requires_a_version(world, pw):
    with pytest.raises(ValidationFailed) as exc:
        services.plan_update(actor=world.users["kam"], plan_id=pw.plan.pk, expected_version=None, name="x")
    assert exc.value.errors[0].field == "version"


def test_two_users_load_first_saves_second_gets_conflict_no_lost_update(world, pw):
    kam, lead = world.users["kam"], world.users["lead"]
    loaded_by_kam = selectors.plan_get(actor=kam, plan_id=pw.plan.pk).version
    loaded_by_lead = selectors.plan_get(actor=lead, plan_id=pw.plan.pk).version
    services.plan_update(actor=kam, plan_id=pw.plan.pk, expected_version=loaded_by_kam, summary="Kam's summary")
    with pytest.raises(Conflict) as exc:
        services.plan_update(actor=lead, plan_id=pw.plan.pk, expected_version=loaded_by_lead, summary="Lead's summary")
    assert exc.value.status == 409
    assert "changed by Kim Kam at" in exc.value.message and "reload" in exc.value.message
    plan = AccountPlan.objects.get(pk=pw.plan.pk)
    assert plan.summary == "Kam's summary" and plan.version == loaded_by_kam + 1


def test_every_child_change_bumps_the_version_and_stale_child_changes_conflict(world, pw):
    kam, msl = world.users["kam"], world.users["msl"]
    v = _version(pw.plan)
    objective = services.objective_create(actor=kam, plan_id=pw.plan.pk, title="Grow share", expected_version=v)
    assert objective.plan.version == v + 1
    tactic = services.tactic_create(actor=kam, objective_id=objective.pk, title="Tender", classification="commercial")
    action = services.action_create(actor=kam, tactic_id=tactic.pk, title="Draft bid")
    services.action_update(actor=kam, action_id=action.pk, status="in_progress")
    services.objective_update(actor=kam, objective_id=objective.pk, current=3)
    assert _version(pw.plan) == v + 5
    plan = AccountPlan.objects.select_related("changed_by").get(pk=pw.plan.pk)
    assert plan.changed_by == kam
    with pytest.raises(Conflict):
        services.action_update(actor=msl, action_id=pw.joint_actions[1].pk, status="done", expected_version=v)
    assert Action.objects.get(pk=pw.joint_actions[1].pk).status == ActionStatus.NOT_STARTED
    services.action_update(actor=msl, action_id=pw.joint_actions[1].pk, status="done", expected_version=v + 5)
    assert _version(pw.plan) == v + 6


def test_version_is_not_bumped_when_a_change_is_refused(world, pw):
    v = _version(pw.plan)
    with pytest.raises(ValidationFailed):
        services.action_update(actor=world.users["kam"], action_id=pw.commercial_actions[0].pk, title="")
    assert _version(pw.plan) == v


# --- dates -------------------------------------------------------------------------------------
def test_action_start_after_due_is_refused_on_due_date(world, pw):
    kam = world.users["kam"]
    with pytest.raises(ValidationFailed) as exc:
        services.action_create(
            actor=kam, tactic_id=pw.commercial.pk, title="Backwards", start_date=dt.date(2026, 5, 1),
            due_date=dt.date(2026, 4, 1),
        )  # fmt: skip
    assert [e.field for e in exc.value.errors] == ["due_date"]
    assert not Action.objects.filter(title="Backwards").exists()
    action = pw.commercial_actions[1]
    with pytest.raises(ValidationFailed) as exc:
        services.action_update(actor=kam, action_id=action.pk, due_date=action.start_date - dt.timedelta(days=1))
    assert exc.value.errors[0].field == "due_date"


def test_unknown_fields_are_refused(world, pw):
    with pytest.raises(ValidationFailed) as exc:
        services.action_update(actor=world.users["kam"], action_id=pw.commercial_actions[0].pk, tactic=pw.joint)
    assert exc.value.errors[0].field == "tactic"


# --- history -----------------------------------------------------------------------------------
def _history_titles(actor, plan):
    events = selectors.plan_history(actor=actor, plan=plan, limit=500)
    return {(e.pgh_obj_model, e.pgh_data.get("title") or e.pgh_data.get("name")) for e in events}


def test_history_never_shows_events_of_hidden_tactics_or_actions(world, pw):
    kam, msl = world.users["kam"], world.users["msl"]
    services.action_update(actor=kam, action_id=pw.commercial_actions[1].pk, status="done", reason="won the tender")
    services.tactic_update(actor=msl, tactic_id=pw.medical.pk, title="Advisory board (Q3)")
    doomed = services.tactic_create(
        actor=kam, objective_id=pw.objective.pk, title="Dropped idea", classification="commercial"
    )
    services.tactic_delete(actor=kam, tactic_id=doomed.pk)
    msl_seen = _history_titles(msl, pw.plan)
    assert ("plans.Tactic", "Advisory board (Q3)") in msl_seen and ("plans.Tactic", "Joint HEOR study") in msl_seen
    assert not any(title and ("Formulary push" in title or "Dropped idea" in title) for _m, title in msl_seen)
    kam_seen = _history_titles(kam, pw.plan)
    assert ("plans.Tactic", "Dropped idea") in kam_seen  # the delete of a visible tactic stays in history
    assert not any(title and "Advisory board" in title for _m, title in kam_seen)
    assert ("plans.AccountPlan", "Beacon General 2026") in kam_seen


def test_history_hides_a_tactic_that_was_ever_hidden_from_the_reader(world, pw):
    services.tactic_update(actor=world.users["kam"], tactic_id=pw.commercial.pk, classification="joint")
    msl = world.users["msl"]
    assert selectors.tactic_get(actor=msl, tactic_id=pw.commercial.pk)  # visible now...
    assert not any(t and "Formulary push" in t for _m, t in _history_titles(msl, pw.plan))  # ...its past is not


def test_out_of_range_position_is_a_field_error(world, pw):
    with pytest.raises(ValidationFailed) as exc:
        services.objective_update(actor=world.users["kam"], objective_id=pw.objective.pk, position=10**12)
    assert exc.value.errors[0].field == "position"
