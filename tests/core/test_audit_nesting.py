"""Nested audit operations: the outermost ``audit_action`` names the change; inner services are its steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pghistory
import pytest
from django.utils import timezone
from pghistory.models import Context, Events

from openkam.accounts import services as account_services
from openkam.accounts.models import Account
from openkam.core.audit import audit_action, current_action
from openkam.core.errors import RuleViolation
from openkam.core.selectors import object_history
from openkam.stakeholders import importers
from openkam.stakeholders.models import Position, Stakeholder
from tests import factories as f

pytestmark = pytest.mark.django_db
NPPES = Path(__file__).resolve().parents[1] / "data" / "nppes"


def test_single_level_action_is_unchanged(world: Any) -> None:
    admin = world.users["admin"]
    account_services.account_update(actor=admin, account=world.hospital, city="Boston", reason="address check")
    ctx = object_history(obj=world.hospital).first().pgh_context
    assert ctx == {
        "action": "accounts.account.update",
        "user": admin.pk,
        "username": "admin",
        "reason": "address check",
    }


def test_nested_actions_keep_the_outer_action_and_reason_and_list_the_steps(world: Any) -> None:
    lead = world.users["lead"]
    with audit_action(actor=lead, action="tests.operation.run", reason="the user's reason"):
        assert current_action() == "tests.operation.run"
        account_services.account_update(actor=lead, account=world.hospital, city="Salem", reason="inner reason")
        created = account_services.account_create(actor=lead, name="New clinic", type="clinic", reason="inner")
        account_services.account_update(actor=lead, account=created, city="Lynn", reason="inner again")
        with audit_action(actor=lead, action="tests.operation.run"):  # the operation itself is not a step
            account_services.account_update(actor=lead, account=world.idn, city="Worcester")
    assert current_action() is None
    events = [e for e in Events.objects.tracks(world.hospital, created, world.idn) if e.pgh_context]
    touched = [e for e in events if e.pgh_context.get("action") == "tests.operation.run"]
    assert len(touched) == 4  # hospital update, clinic insert + update, idn update
    for e in touched:
        assert e.pgh_context["reason"] == "the user's reason" and e.pgh_context["username"] == "lead"
        # deduplicated, in order of first use, without the operation itself
        assert e.pgh_context["steps"] == ["accounts.account.update", "accounts.account.create"]
    # one context row for the whole operation
    assert len({e.pgh_context_id for e in touched}) == 1


def test_a_failed_step_rolled_back_by_the_outer_operation_is_not_a_step(world: Any) -> None:
    lead = world.users["lead"]
    with audit_action(actor=lead, action="tests.operation.run", reason="why"):
        try:
            with audit_action(actor=lead, action="tests.step.fails"):
                Account.objects.filter(pk=world.idn.pk).update(city="Nowhere")
                raise RuleViolation("no", code="no")
        except RuleViolation:
            pass
        account_services.account_update(actor=lead, account=world.hospital, city="Salem")
    world.idn.refresh_from_db()
    assert world.idn.city != "Nowhere"  # the step's savepoint was rolled back
    ctx = object_history(obj=world.hospital).first().pgh_context
    assert ctx["action"] == "tests.operation.run" and ctx["steps"] == ["accounts.account.update"]
    assert not Context.objects.filter(metadata__steps__contains=["tests.step.fails"]).exists()


def test_a_nested_pghistory_context_call_cannot_rename_the_operation(world: Any) -> None:
    lead = world.users["lead"]
    with audit_action(actor=lead, action="tests.operation.run", reason="outer"):
        with audit_action(actor=lead, action="tests.step.one", reason="inner"):
            pghistory.context(action="tests.step.refined", reason="inner refined", user=0, extra="kept")
            account_services.account_update(actor=lead, account=world.hospital, city="Salem")
    ctx = object_history(obj=world.hospital).first().pgh_context
    assert ctx["action"] == "tests.operation.run" and ctx["reason"] == "outer" and ctx["user"] == lead.pk
    assert ctx["steps"] == ["tests.step.one", "tests.step.refined", "accounts.account.update"]
    assert ctx["extra"] == "kept"
    # at the top level the call still refines the operation's own code (e.g. plans: transition → approve)
    with audit_action(actor=lead, action="tests.operation.transition", reason="r"):
        pghistory.context(action="tests.operation.approve")
        account_services.account_update(actor=lead, account=world.idn, city="Worcester")
    assert object_history(obj=world.idn).first().pgh_context["action"] == "tests.operation.approve"


def test_operations_in_one_request_context_each_keep_their_own_action(world: Any) -> None:
    """The request middleware opens one pghistory context; each operation inside it gets its own."""
    lead = world.users["lead"]
    with pghistory.context(request_id="r-1", url="/x/", method="POST", user=lead.pk, username="lead"):
        account_services.account_update(actor=lead, account=world.hospital, city="Salem", reason="first")
        account_services.account_move(actor=lead, account=world.department, new_parent=world.idn, reason="second")
        Account.objects.filter(pk=world.idn.pk).update(city="Outside any operation")
    first = object_history(obj=world.hospital).first().pgh_context
    second = object_history(obj=world.department).first().pgh_context
    outside = object_history(obj=world.idn).first().pgh_context
    assert (first["action"], first["reason"], first["request_id"]) == ("accounts.account.update", "first", "r-1")
    assert (second["action"], second["reason"], second["request_id"]) == ("accounts.account.move", "second", "r-1")
    assert outside["request_id"] == "r-1" and "action" not in outside and "reason" not in outside


def test_an_api_request_records_the_request_and_the_operation(world: Any, api: Any) -> None:
    status, _ = api("kam").patch(f"accounts/{world.hospital.pk}", {"city": "Quincy", "reason": "via the API"})
    assert status == 200
    event = object_history(obj=world.hospital).first()
    assert event.pgh_label == "update" and event.pgh_data["city"] == "Quincy"
    ctx = event.pgh_context
    assert (ctx["action"], ctx["reason"], ctx["username"]) == ("accounts.account.update", "via the API", "kam")
    assert ctx["request_id"] and ctx["method"] == "PATCH" and "steps" not in ctx


def test_nppes_import_events_carry_the_import_action(world: Any) -> None:
    kam = world.users["kam"]
    existing = f.AccountFactory(name="Northeast Atlanta Vascular", type="clinic", npi="1417229741", city="")
    f.AccountTeamMemberFactory(account=existing, user=kam, start_date=timezone.localdate())
    importers.nppes_import_apply(
        actor=kam, payload=(NPPES / "api-1f9cef.json").read_bytes(), parent_id=world.idn.pk, reason="Q3 refresh"
    )
    importers.nppes_import_apply(
        actor=kam, payload=(NPPES / "api-34c18d.json").read_bytes(), account_id=world.hospital.pk, reason="people"
    )
    updated = object_history(obj=existing).first()
    created = object_history(obj=Account.objects.get(npi="1568946812")).first()
    for event in (updated, created):
        ctx = event.pgh_context
        assert ctx["action"] == "stakeholders.nppes.import" and ctx["reason"] == "Q3 refresh"
        assert set(ctx["steps"]) == {"accounts.account.create", "accounts.account.update"}
    bob = Stakeholder.objects.get(npi="1144227976")
    events = [*object_history(obj=bob), *Events.objects.tracks(*Position.objects.filter(stakeholder=bob))]
    assert len(events) >= 2
    for event in events:
        ctx = event.pgh_context
        assert ctx["action"] == "stakeholders.nppes.import" and ctx["reason"] == "people" and ctx["username"] == "kam"
        assert "stakeholders.stakeholder.create" in ctx["steps"]


def test_audit_trail_page_and_csv_show_the_operation_and_its_steps(world: Any, web: Any) -> None:
    lead = world.users["lead"]
    with audit_action(actor=lead, action="tests.operation.run", reason="bulk fix"):
        account_services.account_update(actor=lead, account=world.hospital, city="Salem")
    html = web("compliance").get("/audit/").content.decode()
    assert "<code>tests.operation.run</code>" in html and "steps: accounts.account.update" in html
    resp = web("compliance").get("/audit/export.csv")
    lines = b"".join(resp.streaming_content).decode().splitlines()
    assert lines[0].endswith(",steps")
    row = next(line for line in lines if "tests.operation.run" in line and "Salem" in line)
    assert row.endswith(",accounts.account.update") and "bulk fix" in row
