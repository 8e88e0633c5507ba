"""The customer version (web, PDF, API) holds only what is shared with the customer — proven by filling every
internal field with a marker and looking for it in everything the customer gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import models

from openkam.core import services as core_services
from openkam.core.models import JobStatus
from openkam.plans import exports
from openkam.plans.document import plan_document
from openkam.plans.models import (
    AccountPlan,
    Action,
    ActionStatus,
    CriticalSuccessFactor,
    CustomerAgreement,
    CustomerPriority,
    Goal,
    KeyAction,
    Objective,
    PlanStage,
    PlanStep,
    SwotItem,
    Tactic,
)
from openkam.stakeholders.models import Position, Stakeholder
from tests.office import pdf_text
from tests.plans.export_support import act, rich_plan

pytestmark = pytest.mark.django_db
MARK = "LEAKMARK"

# What the customer may see of each kind of row (only on rows that are shared); every other text field is internal.
ALLOWED: dict[type[models.Model], set[str]] = {
    Objective: {"title", "metric"},
    Tactic: {"title"},
    Action: {"title"},
    CustomerPriority: {"title"},
    CustomerAgreement: {"signatory_name", "signatory_title"},
}
INTERNAL_MODELS = (
    AccountPlan, Objective, Tactic, Action, CustomerPriority, SwotItem, Goal, CriticalSuccessFactor, KeyAction,
    PlanStage, PlanStep, CustomerAgreement, Position, Stakeholder,
)  # fmt: skip


def _text_fields(model: type[models.Model]) -> list[tuple[str, int]]:
    """(name, max length) of the free-text fields (codes such as an NPI of 10 digits are too short to mark)."""
    return [
        (f.name, f.max_length or 10_000)
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField) and not f.choices and (f.max_length or 10_000) >= 30
    ]


def _mark_everything_internal(rp: Any) -> int:
    """Write a marker into every internal text field of every row around the plan; return how many were marked."""
    plan = rp.plan
    rows: list[models.Model] = [plan]
    rows += list(Objective.objects.filter(plan=plan)) + list(Tactic.objects.filter(objective__plan=plan))
    rows += list(Action.objects.filter(tactic__objective__plan=plan))
    rows += list(CustomerPriority.objects.filter(plan=plan)) + list(SwotItem.objects.filter(plan=plan))
    rows += list(Goal.objects.filter(plan=plan)) + list(CriticalSuccessFactor.objects.filter(plan=plan))
    rows += list(KeyAction.objects.filter(csf__plan=plan)) + list(PlanStage.objects.filter(plan=plan))
    rows += list(PlanStep.objects.filter(stage__plan=plan)) + list(CustomerAgreement.objects.filter(plan=plan))
    rows += list(Position.objects.all()) + list(Stakeholder.objects.all())
    marked = 0
    for row in rows:
        shared = getattr(row, "shared_with_customer", type(row) is CustomerAgreement)
        if isinstance(row, Tactic | Action) and row.pk in (rp.medical.pk, rp.medical_action.pk):
            shared = False  # medical-only: never shown, whatever the flag says
        allowed = ALLOWED.get(type(row), set()) if shared else set()
        changed = []
        for name, length in _text_fields(type(row)):
            if name in allowed:
                continue
            setattr(row, name, f"{MARK}{row.pk}-{type(row).__name__}-{name}"[:length])
            changed.append(name)
        if changed:
            type(row).objects.filter(pk=row.pk).update(**{n: getattr(row, n) for n in changed})
            marked += len(changed)
    return marked


@pytest.fixture
def marked(world: Any) -> Any:
    rp = rich_plan(world)
    # more things that must stay internal: a shared action under a medical tactic, a cancelled shared action,
    # an unshared action of a shared tactic, an objective that is not shared
    act(tactic=rp.medical, title="medical shared", shared_with_customer=True, owner=world.users["msl"])
    act(tactic=rp.joint, title="cancelled", shared_with_customer=True, status=ActionStatus.CANCELLED)
    rp.medical.shared_with_customer = True
    rp.medical.save()
    count = _mark_everything_internal(rp)
    assert count > 40  # the test marks a lot of fields; it would prove nothing if it marked none
    return rp


def test_no_internal_field_leaks_into_the_customer_web_view_pdf_or_api(marked: Any, world: Any, web: Any, api: Any,
                                                                       tmp_path: Path) -> None:  # fmt: skip
    rp = marked
    for username in ("kam", "msl", "lead", "compliance"):
        doc = plan_document(actor=world.users[username], plan_id=rp.plan.pk, audience="customer")
        pdf = tmp_path / f"customer-{username}.pdf"
        pdf.write_bytes(exports.plan_pdf(doc))
        text = pdf_text(pdf)
        assert MARK not in text, (username, [line for line in text.splitlines() if MARK in line][:3])
        assert "Cut 30-day HF readmissions" in text and "Pathway go-live" in text, username
    page = web("kam").get(f"/plans/{rp.plan.pk}/customer/")
    html = page.content.decode()
    assert page.status_code == 200 and MARK not in html
    assert "Cut 30-day HF readmissions" in html and "Pathway kick-off workshop" in html and "Fewer readmissions" in html
    status, body = api("kam").get(f"plans/{rp.plan.pk}/customer-version")
    assert status == 200 and MARK not in str(body)
    assert body["objectives"][0]["title"] == "Cut 30-day HF readmissions" and body["objectives"][0]["target"] == "17.00"
    # and the internal export does carry the markers (the marking works)
    internal = tmp_path / "internal.pdf"
    internal.write_bytes(exports.plan_pdf(plan_document(actor=world.users["kam"], plan_id=rp.plan.pk)))
    assert MARK in pdf_text(internal)


def test_customer_version_holds_only_shared_items(world: Any) -> None:
    rp = rich_plan(world)
    doc = plan_document(actor=world.users["kam"], plan_id=rp.plan.pk, audience="customer")
    assert [o.title for o in doc.objectives] == ["Cut 30-day HF readmissions"]
    shared = doc.objectives[0]
    assert (shared.baseline, shared.target) == (rp.shared_objective.baseline, rp.shared_objective.target)
    assert [a.title for a in shared.actions] == ["Pathway kick-off workshop", "Pathway go-live"]
    assert shared.actions[1].is_milestone and shared.tactics[0].title == "Joint HF pathway"
    assert [p.title for p in doc.priorities] == ["Fewer readmissions"]
    assert "Dr. Ada Chair" in doc.agreement
    assert doc.stakeholders == [] and doc.swot == {} and doc.sections == [] and doc.summary == ""
    assert all(not o.description and not o.owner for o in doc.objectives)


def test_shared_actions_of_an_unshared_objective_stand_apart(world: Any) -> None:
    rp = rich_plan(world)
    act(tactic=rp.commercial, title="Joint formulary review", shared_with_customer=True, owner=world.users["kam"])
    doc = plan_document(actor=world.users["kam"], plan_id=rp.plan.pk, audience="customer")
    loose = doc.objectives[-1]
    assert loose.ref == "" and loose.title == "Further joint steps"
    assert [a.title for a in loose.actions] == ["Joint formulary review"]
    assert loose.tactics[0].title == ""  # the tactic is not shared: its name stays internal
    assert "Formulary listing for Cardiozen" not in [o.title for o in doc.objectives]


def test_customer_pages_per_role(world: Any, web: Any, api: Any) -> None:
    rp = rich_plan(world)
    assert web("kam2").get(f"/plans/{rp.plan.pk}/customer/").status_code == 404
    assert api("kam2").get(f"plans/{rp.plan.pk}/customer-version")[0] == 404
    page = web("msl").get(f"/plans/{rp.plan.pk}/customer/")
    assert page.status_code == 200 and b"Run the cardiology advisory board" not in page.content
    status, job = api("compliance").post(f"plans/{rp.plan.pk}/exports/customer_pdf")
    assert status == 202 and job["kind"] == "plans.export_customer_pdf"
    done = core_services.job_execute(job_id=job["id"])
    assert done.status == JobStatus.DONE and done.result_name == "Joint account plan Beacon Health System.pdf"


def test_customer_page_and_document_query_counts_do_not_grow_with_the_plan(world: Any, web: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.plans.conftest import build_plan

    kam = world.users["kam"]
    client = web("kam")
    counts = []
    for size in (2, 20):
        plan = build_plan(account=world.hospital, owner=kam, objectives=size)
        Objective.objects.filter(plan=plan).update(shared_with_customer=True)
        Action.objects.filter(tactic__objective__plan=plan).update(shared_with_customer=True)
        with CaptureQueriesContext(connection) as page:
            assert client.get(f"/plans/{plan.pk}/customer/").status_code == 200
        with CaptureQueriesContext(connection) as internal:
            plan_document(actor=kam, plan_id=plan.pk, audience="internal")
        counts.append((len(page), len(internal)))
    assert counts[0] == counts[1], counts
