"""Excel import: the export's layout round-trips, a dry run names every bad cell, the apply is all or nothing."""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from openkam.core import services as core_services
from openkam.core.documents import Sheet, xlsx_workbook
from openkam.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from openkam.core.models import Job, JobStatus
from openkam.plans import exports, importers
from openkam.plans.document import plan_document
from openkam.plans.exports import ACTION_COLUMNS, OBJECTIVE_COLUMNS, TACTIC_COLUMNS
from openkam.plans.models import Action, Objective, PlanStatus, Tactic
from tests import factories as f
from tests.plans.export_support import rich_plan

pytestmark = pytest.mark.django_db


def workbook(objectives: list[list[Any]], tactics: list[list[Any]], actions: list[list[Any]]) -> bytes:
    """A workbook in the export's layout (missing trailing cells are blank)."""

    def pad(rows: list[list[Any]], n: int) -> list[list[Any]]:
        return [r + [None] * (n - len(r)) for r in rows]

    return xlsx_workbook(
        [
            Sheet("Objectives", OBJECTIVE_COLUMNS, pad(objectives, len(OBJECTIVE_COLUMNS))),
            Sheet("Tactics", TACTIC_COLUMNS, pad(tactics, len(TACTIC_COLUMNS))),
            Sheet("Actions", ACTION_COLUMNS, pad(actions, len(ACTION_COLUMNS))),
        ]
    )


GOOD = {
    "objectives": [
        ["A", None, "Grow the HF pathway", "patients on pathway", 10, 200, 40, "2027-03-31", "Leading", "kam"],
        ["B", None, "Listing at North", "listings", 0, 1, None, None, "lagging", "Kim Kam"],
    ],
    "tactics": [
        ["A.1", None, "A", "Pathway workshops", "Joint", "Commercial", "kam", "yes", "with the HF team"],
        ["B.1", None, "B", "Dossier", "commercial", None, None, "no"],
    ],
    "actions": [
        ["A.1.1", None, "A.1", "Workshop 1", "kam", "msl", "2027-01-10", "2027-01-20", "In progress"],
        ["A.1.2", None, "A.1", "Workshop 2", "kam", None, None, "2027-02-20"],
        ["B.1.1", None, "B.1", "Send dossier", None, None, None, None, "done"],
    ],
}


def _good() -> bytes:
    return workbook(GOOD["objectives"], GOOD["tactics"], GOOD["actions"])


def test_preview_then_apply_creates_every_row(world: Any) -> None:
    kam = world.users["kam"]
    plan = f.PlanFactory(account=world.hospital, owner=kam)
    preview = importers.plan_import_preview(actor=kam, plan_id=plan.pk, data=_good())
    assert preview.ok, preview.errors
    assert preview.counts()["actions"]["create"] == 3 and not Objective.objects.filter(plan=plan).exists()
    importers.plan_import_apply(actor=kam, plan_id=plan.pk, data=_good(), expected_version=plan.version)
    grow = Objective.objects.get(plan=plan, title="Grow the HF pathway")
    assert (grow.metric, grow.baseline, grow.target, grow.indicator, grow.owner) == (
        "patients on pathway", 10, 200, "leading", kam,
    )  # fmt: skip
    workshops = Tactic.objects.get(objective=grow)
    assert workshops.classification == "joint" and workshops.shared_with_customer
    one = Action.objects.get(tactic=workshops, title="Workshop 1")
    assert one.assignee == world.users["msl"] and one.status == "in_progress" and str(one.due_date) == "2027-01-20"
    assert Action.objects.get(title="Send dossier").completed_at is not None  # through the service: done → completed
    plan.refresh_from_db()
    assert plan.version > 1  # every write went through the plan services (locking, audit)


def test_export_then_import_round_trips_and_updates_only_what_changed(world: Any) -> None:
    from openpyxl import load_workbook

    rp = rich_plan(world)
    kam = world.users["kam"]
    data = exports.plan_xlsx(plan_document(actor=kam, plan_id=rp.plan.pk))
    unchanged = importers.plan_import_preview(actor=kam, plan_id=rp.plan.pk, data=data)
    assert unchanged.ok, unchanged.errors
    assert unchanged.summary()["created"] == 0 and unchanged.summary()["updated"] == 0
    wb = load_workbook(io.BytesIO(data))
    wb["Objectives"]["G2"] = 20.5  # current value of O1
    wb["Actions"]["I2"] = "Done"  # status of the first action
    wb["Actions"].append(["new", None, "O1.T1", "Extra step", "kam"])
    buffer = io.BytesIO()
    wb.save(buffer)
    preview = importers.plan_import_apply(actor=kam, plan_id=rp.plan.pk, data=buffer.getvalue())
    assert preview.summary()["updated"] == 2 and preview.summary()["created"] == 1
    rp.shared_objective.refresh_from_db()
    assert str(rp.shared_objective.current) == "20.50"
    assert Action.objects.get(pk=rp.shared_action.pk).status == "done"
    assert Action.objects.filter(tactic=rp.joint, title="Extra step").exists()


def test_row_level_errors_name_sheet_row_and_column_and_nothing_is_written(world: Any) -> None:
    kam = world.users["kam"]
    plan = f.PlanFactory(account=world.hospital, owner=kam)
    data = workbook(
        [
            ["A", None, "", "m", "ten"],  # row 2: no title, baseline not a number
            ["A", None, "Dup ref", None, None, None, None, "31/02/2027"],  # row 3: duplicate ref, bad date
            ["C", 999999, "Unknown id", None, None, None, None, None, "sideways", "nobody"],  # row 4
        ],
        [["T", None, "Z", "Tactic", "Medical only"], ["U", None, "C", "T2", "Top secret"]],
        [["X", None, "nope", "Act", None, None, "2027-02-01", "2027-01-01", "finished"]],
    )
    preview = importers.plan_import_preview(actor=kam, plan_id=plan.pk, data=data)
    found = {(e.sheet, e.row, e.column) for e in preview.errors}
    assert {
        ("Objectives", 2, "Title"), ("Objectives", 2, "Baseline"), ("Objectives", 3, "Ref"),
        ("Objectives", 3, "Due date"), ("Objectives", 4, "ID"), ("Objectives", 4, "Indicator"),
        ("Objectives", 4, "Owner"), ("Tactics", 2, "Objective ref"), ("Tactics", 2, "Classification"),
        ("Tactics", 3, "Classification"), ("Actions", 2, "Tactic ref"), ("Actions", 2, "Due date"),
        ("Actions", 2, "Status"),
    } <= found, found  # fmt: skip
    messages = {(e.sheet, e.row, e.column): e.message for e in preview.errors}
    assert "Medical only" in messages[("Tactics", 2, "Classification")]  # kam may not write medical-only work
    with pytest.raises(ValidationFailed) as exc:
        importers.plan_import_apply(actor=kam, plan_id=plan.pk, data=data)
    assert "nothing was imported" in exc.value.message and "Objectives, row 2, Title" in exc.value.message
    assert not Objective.objects.filter(plan=plan).exists()


def test_a_refusal_by_a_service_mid_way_undoes_every_row(world: Any, monkeypatch: Any) -> None:
    from openkam.plans import services

    kam = world.users["kam"]
    plan = f.PlanFactory(account=world.hospital, owner=kam)
    real = services.action_create

    def refuse_third(**kw: Any) -> Any:
        if kw["title"] == "Send dossier":
            raise ValidationFailed("refused for the test", field="title")
        return real(**kw)

    monkeypatch.setattr(services, "action_create", refuse_third)
    with pytest.raises(ValidationFailed) as exc:
        importers.plan_import_apply(actor=kam, plan_id=plan.pk, data=_good())
    assert exc.value.message.startswith("Actions, row 4: refused for the test")
    assert not Objective.objects.filter(plan=plan).exists() and not Action.objects.filter(title="Workshop 1").exists()


def test_stale_version_and_closed_plan_and_roles(world: Any) -> None:
    kam = world.users["kam"]
    plan = f.PlanFactory(account=world.hospital, owner=kam)
    with pytest.raises(Conflict):
        importers.plan_import_apply(actor=kam, plan_id=plan.pk, data=_good(), expected_version=plan.version - 1 or 99)
    assert not Objective.objects.filter(plan=plan).exists()
    with pytest.raises(NotFound):
        importers.plan_import_preview(actor=world.users["kam2"], plan_id=plan.pk, data=_good())
    with pytest.raises(PermissionDenied):
        importers.plan_import_preview(actor=world.users["compliance"], plan_id=plan.pk, data=_good())
    plan.status = PlanStatus.CLOSED
    plan.save()
    with pytest.raises(PermissionDenied):
        importers.plan_import_preview(actor=kam, plan_id=plan.pk, data=_good())


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"name,title\nx,y\n", "not_xlsx"),
        (b"PK\x03\x04 broken zip", "not_xlsx"),
        (b"x" * (importers.MAX_BYTES + 1), "too_large"),
    ],
)
def test_malformed_or_oversized_files_are_refused(world: Any, data: bytes, code: str) -> None:
    plan = f.PlanFactory(account=world.hospital, owner=world.users["kam"])
    with pytest.raises(ValidationFailed) as exc:
        importers.plan_import_preview(actor=world.users["kam"], plan_id=plan.pk, data=data)
    assert exc.value.code == code and exc.value.errors[0].field == "file"


def test_a_zip_bomb_and_a_workbook_without_the_sheets_are_refused(world: Any) -> None:
    kam = world.users["kam"]
    plan = f.PlanFactory(account=world.hospital, owner=kam)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (importers.MAX_UNPACKED_BYTES + 10))
    with pytest.raises(ValidationFailed) as exc:
        importers.plan_import_preview(actor=kam, plan_id=plan.pk, data=buffer.getvalue())
    assert exc.value.code == "too_large"
    other = xlsx_workbook([Sheet("Plan", ["a"], [[1]])])
    with pytest.raises(ValidationFailed) as exc:
        importers.plan_import_preview(actor=kam, plan_id=plan.pk, data=other)
    assert exc.value.code == "missing_sheet" and "Objectives" in exc.value.message
    no_title = xlsx_workbook([Sheet("Objectives", ["Ref", "Metric"], [["A", "x"]])])
    preview = importers.plan_import_preview(actor=kam, plan_id=plan.pk, data=no_title)
    assert [(e.row, e.column) for e in preview.errors] == [(1, "Title")]


def test_import_job_and_pages(world: Any, web: Any, api: Any) -> None:
    kam = world.users["kam"]
    plan = f.PlanFactory(account=world.hospital, owner=kam)
    client = web("kam")
    page = client.get(f"/plans/{plan.pk}/import/")
    assert page.status_code == 200 and b'type="file"' in page.content
    bad = client.post(f"/plans/{plan.pk}/import/", {"file": SimpleUploadedFile("p.xlsx", b"not a workbook")})
    assert bad.status_code == 422 and "not an Excel workbook" in bad.content.decode()
    preview = client.post(f"/plans/{plan.pk}/import/", {"file": SimpleUploadedFile("plan.xlsx", _good())})
    assert preview.status_code == 200 and b'data-testid="import-confirm"' in preview.content
    b64 = base64.b64encode(_good()).decode()
    started = client.post(f"/plans/{plan.pk}/import/", {"confirm": "1", "file_b64": b64, "version": plan.version})
    assert started.status_code == 200 and b'data-testid="job"' in started.content
    job = core_services.job_execute(job_id=started.context["job"].pk)
    assert job.status == JobStatus.DONE and job.summary["created"] == 7, job.error
    assert Objective.objects.filter(plan=plan).count() == 2
    assert web("compliance").get(f"/plans/{plan.pk}/import/").status_code == 403


def test_import_api(world: Any, api: Any) -> None:
    kam = world.users["kam"]
    plan = f.PlanFactory(account=world.hospital, owner=kam)
    client = api("kam")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {client.key}"}
    resp = client.client.post(
        f"/api/v1/plans/{plan.pk}/import/preview", {"file": SimpleUploadedFile("plan.xlsx", _good())}, **auth
    )
    body = resp.json()
    assert resp.status_code == 200 and body["ok"] and body["created"] == 7 and body["rows"][0]["operation"] == "create"
    bad = client.client.post(
        f"/api/v1/plans/{plan.pk}/import/preview", {"file": SimpleUploadedFile("x.xlsx", b"nope")}, **auth
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "file"
    resp = client.client.post(
        f"/api/v1/plans/{plan.pk}/import",
        {"file": SimpleUploadedFile("plan.xlsx", _good()), "version": str(plan.version)},
        **auth,
    )
    assert resp.status_code == 202, resp.content
    from django.core.files.storage import default_storage

    kept = Job.objects.get(pk=resp.json()["id"]).params["upload"]
    assert default_storage.exists(kept) and set(Job.objects.get(pk=resp.json()["id"]).params) == {
        "plan_id", "upload", "version",
    }  # fmt: skip  # the file waits in the storage, not in the (audited) job row
    job = core_services.job_execute(job_id=resp.json()["id"])
    assert job.status == JobStatus.DONE and Action.objects.filter(tactic__objective__plan=plan).count() == 3
    assert not default_storage.exists(kept)  # read once, then removed
    again = core_services.job_start(
        actor=kam, kind="plans.import_xlsx", label="x", params={"plan_id": plan.pk, "upload": kept}
    )
    failed = core_services.job_execute(job_id=again.pk)
    assert failed.status == JobStatus.FAILED and "no longer available" in failed.error
    other = api("kam2").client.post(
        f"/api/v1/plans/{plan.pk}/import/preview",
        {"file": SimpleUploadedFile("plan.xlsx", _good())},
        HTTP_AUTHORIZATION=f"Bearer {api('kam2').key}",
    )
    assert other.status_code == 404


def test_a_sheet_exported_in_german_imports_on_an_english_page(world: Any) -> None:
    from django.utils import translation

    rp = rich_plan(world)
    kam = world.users["kam"]
    with translation.override("de"):
        data = exports.plan_xlsx(plan_document(actor=kam, plan_id=rp.plan.pk))
    with translation.override("en"):
        preview = importers.plan_import_preview(actor=kam, plan_id=rp.plan.pk, data=data)
    assert preview.ok, preview.errors
    assert preview.summary()["created"] == 0 and preview.summary()["updated"] == 0
