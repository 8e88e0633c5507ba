"""Interaction services and selectors: who may log what, with whom, linked to which plan work."""

import datetime as dt

import pytest

from openkam.activities import selectors, services
from openkam.activities.models import Interaction, InteractionParticipant, InteractionStakeholder
from openkam.core.errors import NotFound, PermissionDenied, ValidationFailed
from openkam.core.selectors import object_history
from tests.activities.conftest import ago

pytestmark = pytest.mark.django_db


def subjects(qs):
    return {i.subject for i in qs}


def fields_of(exc_info):
    return [e.field for e in exc_info.value.errors]


def log(scene, actor="kam", **kwargs):
    data = {
        "account": scene.world.hospital,
        "occurred_at": ago(hours=1),
        "channel": "call",
        "subject": "Follow-up call",
        "classification": "commercial",
    }
    data.update(kwargs)
    return services.interaction_create(actor=scene.users[actor], **data)


# --- visibility -----------------------------------------------------------------------------------
def test_each_role_sees_only_its_classifications_on_its_accounts(scene):
    u = scene.users
    assert subjects(selectors.interaction_list(actor=u["kam"])) == {"Formulary discussion", "Heart failure webinar"}
    assert subjects(selectors.interaction_list(actor=u["msl"])) == {"Trial data exchange", "Heart failure webinar"}
    assert subjects(selectors.interaction_list(actor=u["access"])) == {"Formulary discussion", "Heart failure webinar"}
    assert subjects(selectors.interaction_list(actor=u["compliance"])) == {
        "Formulary discussion",
        "Trial data exchange",
        "Heart failure webinar",
    }
    assert subjects(selectors.interaction_list(actor=u["kam2"])) == set()


def test_hidden_interactions_are_not_found(scene):
    u = scene.users
    with pytest.raises(NotFound):
        selectors.interaction_get(actor=u["msl"], interaction_id=scene.commercial.pk)
    with pytest.raises(NotFound):
        selectors.interaction_get(actor=u["kam"], interaction_id=scene.medical.pk)
    with pytest.raises(NotFound):
        selectors.interaction_get(actor=u["kam2"], interaction_id=scene.joint.pk)
    assert selectors.interaction_get(actor=u["msl"], interaction_id=scene.joint.pk).subject == "Heart failure webinar"


def test_filters(scene):
    kam, w = scene.users["kam"], scene.world
    assert subjects(selectors.interaction_list(actor=kam, account=w.hospital)) == {"Formulary discussion"}
    assert subjects(selectors.interaction_list(actor=kam, account=w.idn)) == {"Heart failure webinar"}
    assert subjects(selectors.interaction_list(actor=kam, account=w.idn, include_descendants=True)) == {
        "Formulary discussion",
        "Heart failure webinar",
    }
    assert subjects(selectors.interaction_list(actor=kam, digital=True)) == {"Heart failure webinar"}
    assert subjects(selectors.interaction_list(actor=kam, digital=False)) == {"Formulary discussion"}
    assert subjects(selectors.interaction_list(actor=kam, channels=["visit", "call"])) == {"Formulary discussion"}
    assert subjects(selectors.interaction_list(actor=kam, since=ago(days=1))) == {"Heart failure webinar"}
    assert subjects(selectors.interaction_list(actor=kam, until=ago(days=1))) == {"Formulary discussion"}
    assert subjects(selectors.interaction_list(actor=kam, stakeholder=scene.cardiologist)) == {"Formulary discussion"}
    assert subjects(selectors.interaction_list(actor=kam, participant=scene.users["msl"])) == {"Heart failure webinar"}
    assert subjects(selectors.interaction_list(actor=kam, tactic=scene.commercial_tactic)) == {"Formulary discussion"}
    assert subjects(selectors.interaction_list(actor=kam, q="webinar")) == {"Heart failure webinar"}
    # mine = logged it or took part
    assert subjects(selectors.interaction_list(actor=kam, mine=True)) == {
        "Formulary discussion",
        "Heart failure webinar",
    }
    assert subjects(selectors.interaction_list(actor=scene.users["access"], mine=True)) == set()


def test_day_range_is_inclusive_in_local_time():
    start, end = selectors.day_range(dt.date(2026, 3, 1), dt.date(2026, 3, 1))
    assert end - start == dt.timedelta(days=1) and start.hour == 0 and start.tzinfo is not None


def test_stakeholder_interactions_respect_classification_and_limit(scene):
    u = scene.users
    assert [i.subject for i in selectors.stakeholder_interactions(actor=u["kam"], stakeholder=scene.cardiologist)] == [
        "Formulary discussion"
    ]
    assert [i.subject for i in selectors.stakeholder_interactions(actor=u["msl"], stakeholder=scene.cardiologist)] == [
        "Trial data exchange"
    ]
    log(scene, subject="Second visit", stakeholders=[scene.cardiologist], occurred_at=ago(hours=2))
    rows = selectors.stakeholder_interactions(actor=u["compliance"], stakeholder=scene.cardiologist, limit=2)
    assert [i.subject for i in rows] == ["Second visit", "Trial data exchange"]


def test_list_runs_in_constant_queries(scene, django_assert_max_num_queries):
    def run():
        rows = list(selectors.interaction_list(actor=scene.users["compliance"]))
        for i in rows:
            _ = (i.account.name, i.created_by.username, [s.display_name for s in i.stakeholders.all()])
            _ = ([p.username for p in i.participants.all()], i.tactic and i.tactic.title)
        return len(rows)

    with django_assert_max_num_queries(3) as small:
        n1 = run()
    for n in range(10):
        log(scene, subject=f"Call {n}", stakeholders=[scene.cardiologist], participants=[scene.users["kam"]])
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert run() == n1 + 10


def test_linked_work_is_shown_only_to_who_may_see_it(scene):
    u = scene.users
    # kam logs a joint interaction supporting a commercial tactic: msl sees the interaction, not the tactic
    joint = log(scene, classification="joint", tactic=scene.commercial_tactic)
    assert selectors.interaction_get(actor=u["kam"], interaction_id=joint.pk).linked_work_visible is True
    assert selectors.interaction_get(actor=u["msl"], interaction_id=joint.pk).linked_work_visible is False


# --- create ---------------------------------------------------------------------------------------
def test_kam_logs_an_interaction_with_people_and_plan_work(scene):
    i = log(
        scene,
        stakeholders=[scene.cardiologist, scene.pharmacist.pk],
        action=scene.commercial_action,
        notes="  Agreed to review the dossier.  ",
        duration_minutes=30,
    )
    assert i.tactic == scene.commercial_tactic  # the action brings its tactic
    assert i.action == scene.commercial_action
    assert i.notes == "Agreed to review the dossier."
    assert {s.pk for s in i.stakeholders.all()} == {scene.cardiologist.pk, scene.pharmacist.pk}  # past positions count
    assert list(i.participants.all()) == [scene.users["kam"]]  # the logger by default
    assert i.created_by == scene.users["kam"]
    event = object_history(obj=i).first()
    assert event.pgh_context["action"] == "activities.interaction.create"


def test_classification_defaults_to_the_actors_function(scene):
    i = services.interaction_create(
        actor=scene.users["msl"], account=scene.world.idn, occurred_at=ago(1), channel="email", subject="Reprint"
    )
    assert i.classification == "medical"


@pytest.mark.parametrize(
    ("role", "classification"),
    [("msl", "commercial"), ("msl", "market_access"), ("kam", "medical"), ("access", "medical")],
)
def test_roles_cannot_log_classifications_outside_their_function(scene, role, classification):
    with pytest.raises(PermissionDenied) as exc:
        log(scene, actor=role, classification=classification, account=scene.world.idn)
    assert exc.value.code == "classification_forbidden"


def test_compliance_never_writes(scene):
    with pytest.raises(PermissionDenied):
        log(scene, actor="compliance", classification="joint")
    with pytest.raises(PermissionDenied):
        services.interaction_update(actor=scene.users["compliance"], interaction=scene.joint, subject="x")
    with pytest.raises(PermissionDenied):
        services.interaction_delete(actor=scene.users["compliance"], interaction=scene.joint)


def test_stakeholder_from_another_account_is_refused_naming_stakeholders(scene):
    count = Interaction.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        log(scene, stakeholders=[scene.cardiologist, scene.harbor_doc])
    assert fields_of(exc) == ["stakeholders"]
    assert "Cora Harbor" not in exc.value.message  # kam may not even see this person
    assert Interaction.objects.count() == count
    # a stakeholder the actor sees, but at a sibling account, is named in the message
    with pytest.raises(ValidationFailed) as exc:
        log(scene, account=scene.world.hospital2, stakeholders=[scene.cardiologist])
    assert fields_of(exc) == ["stakeholders"] and "Ada Heart" in exc.value.message
    # the admin sees Cora, but she never worked at Beacon General
    with pytest.raises(ValidationFailed) as exc:
        log(scene, actor="admin", stakeholders=[scene.harbor_doc])
    assert fields_of(exc) == ["stakeholders"] and "Cora Harbor" in exc.value.message


def test_people_at_accounts_below_count(scene):
    i = log(scene, account=scene.world.idn, stakeholders=[scene.cardiologist])
    assert list(i.stakeholders.all()) == [scene.cardiologist]


def test_account_out_of_scope_is_refused(scene):
    with pytest.raises(ValidationFailed) as exc:
        log(scene, account=scene.world.other_account)
    assert fields_of(exc) == ["account"]


def test_plan_work_must_be_of_a_related_visible_plan(scene):
    with pytest.raises(ValidationFailed) as exc:
        log(scene, tactic=scene.harbor_tactic)  # a plan of another account
    assert fields_of(exc) == ["tactic"]
    with pytest.raises(ValidationFailed) as exc:
        log(scene, tactic=scene.medical_tactic)  # kam may not see a medical tactic
    assert fields_of(exc) == ["tactic"]
    with pytest.raises(ValidationFailed) as exc:
        log(scene, tactic=scene.medical_tactic.pk, action=scene.commercial_action.pk, actor="admin")
    assert fields_of(exc) == ["action"]  # an action of another tactic
    # a plan of an ancestor (IDN) serves an interaction at a department below it
    i = log(scene, account=scene.world.department, tactic=scene.commercial_tactic)
    assert i.tactic == scene.commercial_tactic


def test_plan_of_a_descendant_is_linkable_too(scene):
    plan = scene.beacon_plan.__class__.objects.create(
        account=scene.world.department,
        name="Cardiology 2026",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        owner=scene.users["kam"],
    )
    objective = plan.objectives.create(title="Grow use")
    tactic = objective.tactics.create(title="Grand rounds", classification="joint")
    assert log(scene, account=scene.world.idn, tactic=tactic).tactic == tactic
    choices = selectors.interaction_linkable_tactics(actor=scene.users["msl"], account=scene.world.hospital)
    assert {t.title for t in choices} == {"Advisory board", "Grand rounds"}


def test_field_rules_are_reported_together_and_nothing_is_written(scene):
    count = Interaction.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        log(
            scene,
            subject="  ",
            channel="pigeon",
            occurred_at=ago(days=-2),
            duration_minutes=0,
            participants=[999999],
        )
    assert set(fields_of(exc)) == {"subject", "channel", "occurred_at", "duration_minutes", "participants"}
    assert Interaction.objects.count() == count


# --- update / delete --------------------------------------------------------------------------------
def test_author_updates_and_lists_are_replaced_minimally(scene):
    kam = scene.users["kam"]
    i = services.interaction_update(
        actor=kam,
        interaction=scene.commercial,
        subject="Formulary discussion (P&T prep)",
        stakeholders=[scene.cardiologist, scene.pharmacist],
        participants=[kam, scene.users["access"]],
        reason="added the pharmacist",
    )
    assert i.subject == "Formulary discussion (P&T prep)"
    assert {s.pk for s in i.stakeholders.all()} == {scene.cardiologist.pk, scene.pharmacist.pk}
    assert {p.username for p in i.participants.all()} == {"kam", "access"}
    history = list(selectors.interaction_history(actor=kam, interaction=i))
    kinds = [(e.pgh_obj_model.rsplit(".", 1)[1], e.pgh_label) for e in history]
    assert ("InteractionStakeholder", "insert") in kinds and ("Interaction", "update") in kinds
    # the cardiologist link was kept, not deleted and re-inserted
    assert ("InteractionStakeholder", "delete") not in kinds
    assert InteractionStakeholder.objects.filter(interaction=i).count() == 2
    assert history[0].pgh_context.get("reason") == "added the pharmacist"


def test_moving_to_another_account_rechecks_people_and_plan_work(scene):
    with pytest.raises(ValidationFailed) as exc:
        services.interaction_update(
            actor=scene.users["kam"], interaction=scene.commercial, account=scene.world.hospital2
        )
    assert fields_of(exc) == ["stakeholders"]  # the cardiologist is not at Beacon North
    i = services.interaction_update(
        actor=scene.users["kam"], interaction=scene.commercial, account=scene.world.hospital2, stakeholders=[]
    )
    assert i.account == scene.world.hospital2 and i.tactic == scene.commercial_tactic  # IDN plan still applies


def test_action_then_tactic_changes(scene):
    kam = scene.users["kam"]
    i = services.interaction_update(actor=kam, interaction=scene.commercial, action=scene.commercial_action)
    assert (i.tactic, i.action) == (scene.commercial_tactic, scene.commercial_action)
    i = services.interaction_update(actor=kam, interaction=i, tactic=None)
    assert (i.tactic, i.action) == (None, None)


def test_only_the_author_or_an_admin_changes(scene):
    with pytest.raises(PermissionDenied) as exc:
        services.interaction_update(actor=scene.users["kam"], interaction=scene.joint, subject="mine now")
    assert exc.value.code == "interaction_not_author"
    with pytest.raises(PermissionDenied):
        services.interaction_delete(actor=scene.users["lead"], interaction=scene.commercial)
    i = services.interaction_update(actor=scene.users["admin"], interaction=scene.joint, subject="Webinar (HF)")
    assert i.subject == "Webinar (HF)"


def test_msl_cannot_reclassify_into_commercial(scene):
    with pytest.raises(PermissionDenied):
        services.interaction_update(actor=scene.users["msl"], interaction=scene.joint, classification="commercial")
    assert Interaction.objects.get(pk=scene.joint.pk).classification == "joint"


def test_hidden_interaction_cannot_be_touched(scene):
    with pytest.raises(NotFound):
        services.interaction_delete(actor=scene.users["msl"], interaction=scene.commercial)


def test_author_deletes_and_history_remains(scene):
    pk = scene.commercial.pk
    services.interaction_delete(actor=scene.users["kam"], interaction=scene.commercial, reason="duplicate")
    assert not Interaction.objects.filter(pk=pk).exists()
    assert not InteractionParticipant.objects.filter(interaction_id=pk).exists()
    events = Interaction.pgh_event_model.objects.filter(pgh_obj_id=pk).order_by("pgh_id")
    assert [e.pgh_label for e in events][-1] == "delete"


def test_unknown_update_field_is_refused(scene):
    with pytest.raises(ValidationFailed) as exc:
        services.interaction_update(actor=scene.users["kam"], interaction=scene.commercial, created_by=1)
    assert fields_of(exc) == ["created_by"]
