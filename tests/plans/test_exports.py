"""Plan exports: the document a reader gets, the PDF, PowerPoint and Excel files, as jobs, per role."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openkam.core import services as core_services
from openkam.core.errors import NotFound, ValidationFailed
from openkam.core.models import JobStatus
from openkam.plans import exports
from openkam.plans.document import plan_document
from tests.office import libreoffice_convert, pdf_text, pdf_to_pngs
from tests.plans.conftest import build_plan
from tests.plans.export_support import rich_plan

pytestmark = pytest.mark.django_db
LOOK = Path(os.environ.get("OPENKAM_SCREENSHOTS", "var/screenshots"))


def _keep(name: str, data: bytes, tmp_path: Path) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- the document ---------------------------------------------------------------------------------------
def test_document_holds_every_section_for_the_kam(world: Any) -> None:
    rp = rich_plan(world)
    doc = plan_document(actor=world.users["kam"], plan_id=rp.plan.pk)
    assert [o.title for o in doc.objectives] == ["Cut 30-day HF readmissions", "Formulary listing for Cardiozen"]
    titles = {t.title for t in doc.tactics}
    assert titles == {"P&T dossier push", "Joint HF pathway"}  # kam sees no medical-only tactic
    assert doc.hidden_classifications == ["Medical only"]
    assert {s.key for s in doc.sections} == {"customer_priorities", "positioning", "strategy"}
    assert [i.title for i in doc.swot["threats"]] == ["Competitor rebate offer"]  # not the medical-only threat
    assert doc.swot["strengths"][0].drives == ["O1"]
    assert (
        doc.csfs[0].key_actions[0].title == "Meet the P&T chair"
        and doc.goals[0].csfs[0].title == "P&T champion on side"
    )
    assert doc.stages[0].done == 1 and len(doc.stages[0].steps) == 2
    assert "Dr. Ada Chair" in doc.agreement
    # decision makers first; users left out
    assert [s.role for s in doc.stakeholders] == ["decision_maker", "approver"] and doc.stakeholder_total == 2
    assert doc.counts["overdue"] == 1 and doc.objectives[0].progress == pytest.approx(100 * 1.7 / 4.5)


def test_a_medical_reader_gets_no_commercial_only_item(world: Any, tmp_path: Path) -> None:
    rp = rich_plan(world)
    doc = plan_document(actor=world.users["msl"], plan_id=rp.plan.pk)
    assert {t.title for t in doc.tactics} == {"Joint HF pathway", "Advisory board"}
    assert "Submit the P&T dossier" not in {a.title for a in doc.actions}
    assert [i.title for i in doc.swot.get("threats", [])] == ["Off-label safety questions"]
    assert "weaknesses" not in doc.swot  # the commercial-only weakness is left out
    assert doc.hidden_classifications == ["Commercial only", "Market access"]
    # decision roles are commercial judgements about people: not in a medical reader's document
    assert doc.stakeholders_hidden and doc.stakeholders == [] and doc.stakeholder_total == 0
    assert doc.stakeholder_roles == []
    text = pdf_text(_keep("plan-msl.pdf", exports.plan_pdf(doc), tmp_path))
    assert "not shown to your role" in text and "Director of Pharmacy" not in text and "Decision maker" not in text


def test_document_out_of_scope_and_bad_audience(world: Any) -> None:
    rp = rich_plan(world)
    with pytest.raises(NotFound):
        plan_document(actor=world.users["kam2"], plan_id=rp.plan.pk)
    with pytest.raises(ValidationFailed) as exc:
        plan_document(actor=world.users["kam"], plan_id=rp.plan.pk, audience="board")
    assert exc.value.errors[0].field == "audience"


def test_document_query_count_is_constant(world: Any) -> None:
    kam = world.users["kam"]
    small = build_plan(account=world.hospital, owner=kam, objectives=2)
    big = build_plan(account=world.hospital, owner=kam, objectives=20)
    counts = []
    for plan in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            doc = plan_document(actor=kam, plan_id=plan.pk)
            exports.plan_xlsx(doc)
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts


# --- the files ------------------------------------------------------------------------------------------
def test_pdf_has_every_section_and_reads_as_text(world: Any, tmp_path: Path) -> None:
    rp = rich_plan(world)
    doc = plan_document(actor=world.users["kam"], plan_id=rp.plan.pk)
    pdf = _keep("plan.pdf", exports.plan_pdf(doc), tmp_path)
    text = pdf_text(pdf)
    for expected in (
        "Beacon Health System 2026", "Contents", "The plan at a glance", "Customer strategic priorities",
        "Over-arching strategy", "SWOT", "Strengths", "Threats", "Competitor rebate offer",
        "Critical success factors", "P&T champion on side", "Objectives and measures of success",
        "Cut 30-day HF readmissions", "Tactics and actions", "Submit the P&T dossier", "Stakeholder summary",
        "Director of Pharmacy", "Stages and steps", "Relationship X-ray", "Medical only",
    ):  # fmt: skip
        assert expected in text, expected
    assert "Advisory board" not in text and "Off-label safety questions" not in text
    assert "Nurse" not in text  # a user, not a decision role
    pngs = pdf_to_pngs(pdf, tmp_path, dpi=50, first=1, last=4)
    assert len(pngs) == 4


def test_pptx_opens_in_libreoffice_with_every_slide(world: Any, tmp_path: Path) -> None:
    from pptx import Presentation

    rp = rich_plan(world)
    doc = plan_document(actor=world.users["kam"], plan_id=rp.plan.pk)
    data = exports.plan_pptx(doc)
    deck = Presentation(io.BytesIO(data))
    assert deck.slide_width / deck.slide_height == pytest.approx(16 / 9, rel=0.01)
    texts = [" ".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in deck.slides]
    heads = texts
    for title in ("Account overview", "Strategy", "SWOT", "Objectives and measures of success", "Next actions",
                  "Stakeholders"):  # fmt: skip
        assert any(title in t for t in heads), title
    tables = " ".join(
        c.text for s in deck.slides for sh in s.shapes if sh.has_table for r in sh.table.rows for c in r.cells
    )
    assert "Cut 30-day HF readmissions" in tables and "Director of Pharmacy" in tables
    assert "Advisory board" not in tables + " ".join(texts)
    pdf = libreoffice_convert(_keep("plan.pptx", data, tmp_path), "pdf")
    assert "Competitor rebate offer" in pdf_text(pdf)


def test_xlsx_has_the_import_layout_and_opens_in_libreoffice(world: Any, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    rp = rich_plan(world)
    doc = plan_document(actor=world.users["kam"], plan_id=rp.plan.pk)
    data = exports.plan_xlsx(doc)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Objectives", "Tactics", "Actions", "About"]
    assert [c.value for c in wb["Objectives"][1]] == list(exports.OBJECTIVE_COLUMNS)
    assert [c.value for c in wb["Tactics"][1]] == list(exports.TACTIC_COLUMNS)
    assert [c.value for c in wb["Actions"][1]] == list(exports.ACTION_COLUMNS)
    first = [c.value for c in wb["Objectives"][2]]
    assert first[:6] == [
        "O1",
        rp.shared_objective.pk,
        "Cut 30-day HF readmissions",
        "30-day readmission rate %",
        21.5,
        17,
    ]
    tactics = [r[3] for r in wb["Tactics"].iter_rows(min_row=2, values_only=True)]
    assert "Advisory board" not in tactics and len(tactics) == 2
    csv = libreoffice_convert(_keep("plan.xlsx", data, tmp_path), "csv")
    assert "Cut 30-day HF readmissions" in csv.read_text()


# --- as jobs, per role ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind", ["plans.export_pdf", "plans.export_pptx", "plans.export_xlsx", "plans.export_customer_pdf"]
)
def test_export_jobs_produce_their_file(world: Any, kind: str) -> None:
    rp = rich_plan(world)
    job = core_services.job_start(actor=world.users["kam"], kind=kind, label="x", params={"plan_id": rp.plan.pk})
    job = core_services.job_execute(job_id=job.pk)
    assert job.status == JobStatus.DONE, job.error
    assert job.result_name.startswith("Beacon Health System") or job.result_name.startswith("Joint account plan")
    assert job.result_size > 1000 and job.done == job.total


def test_export_job_of_a_plan_out_of_scope_fails_cleanly(world: Any) -> None:
    rp = rich_plan(world)
    job = core_services.job_start(
        actor=world.users["kam2"], kind="plans.export_pdf", label="x", params={"plan_id": rp.plan.pk}
    )
    job = core_services.job_execute(job_id=job.pk)
    assert job.status == JobStatus.FAILED and "No such plan" in job.error and not job.has_file


def test_look_at_the_pdf_and_deck(world: Any, tmp_path: Path) -> None:
    """Render the first pages of the PDF and of the deck to PNG (var/screenshots) for a person to look at."""
    rp = rich_plan(world)
    doc = plan_document(actor=world.users["kam"], plan_id=rp.plan.pk)
    LOOK.mkdir(parents=True, exist_ok=True)
    pdf = _keep("plan-export.pdf", exports.plan_pdf(doc), tmp_path)
    assert len(pdf_to_pngs(pdf, LOOK, dpi=60, first=1, last=8)) >= 6
    deck = libreoffice_convert(_keep("plan-deck.pptx", exports.plan_pptx(doc), tmp_path), "pdf")
    assert len(pdf_to_pngs(deck, LOOK, dpi=50, first=1, last=8)) >= 7
    customer = plan_document(actor=world.users["kam"], plan_id=rp.plan.pk, audience="customer")
    cpdf = _keep("plan-customer.pdf", exports.plan_pdf(customer), tmp_path)
    assert len(pdf_to_pngs(cpdf, LOOK, dpi=60, first=1, last=3)) >= 2


def test_a_medical_readers_export_files_have_no_commercial_only_item(world: Any, tmp_path: Path) -> None:
    rp = rich_plan(world)
    msl = world.users["msl"]
    for kind, ext in (("plans.export_xlsx", "xlsx"), ("plans.export_pdf", "pdf"), ("plans.export_pptx", "pptx")):
        job = core_services.job_start(actor=msl, kind=kind, label="x", params={"plan_id": rp.plan.pk})
        job = core_services.job_execute(job_id=job.pk)
        path = _keep(f"msl.{ext}", bytes(job.result), tmp_path)
        text = pdf_text(path if ext == "pdf" else libreoffice_convert(path, "pdf"))
        assert "Advisory board" in text or ext == "pptx", kind  # the deck lists open actions, not tactics
        for commercial in ("P&T dossier push", "Submit the P&T dossier", "Competitor rebate offer"):
            assert commercial not in text, (kind, commercial)


def test_export_api_and_views_per_role(world: Any, api: Any, web: Any) -> None:
    rp = rich_plan(world)
    status, job = api("kam").post(f"plans/{rp.plan.pk}/exports/pptx")
    assert status == 202 and job["kind"] == "plans.export_pptx" and job["status"] == "queued"
    assert api("kam2").post(f"plans/{rp.plan.pk}/exports/pdf")[0] == 404
    assert api("kam").post(f"plans/{rp.plan.pk}/exports/docx")[0] == 422
    status, job = api("compliance").post(f"plans/{rp.plan.pk}/exports/xlsx")  # read-only roles may export
    assert status == 202
    page = web("kam").post(f"/plans/{rp.plan.pk}/export/pdf/")
    assert page.status_code == 200 and b'data-testid="job"' in page.content
    assert web("kam").get(f"/plans/{rp.plan.pk}/export/pdf/").status_code == 405
    assert web("kam").post(f"/plans/{rp.plan.pk}/export/docx/").status_code == 404
    assert web("kam2").post(f"/plans/{rp.plan.pk}/export/pdf/").status_code == 404
    htmx = web("kam").post(f"/plans/{rp.plan.pk}/export/xlsx/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and htmx.content.lstrip().startswith(b'<div class="card okam-job')
    menu = web("msl").get(f"/plans/{rp.plan.pk}/")
    assert b'data-testid="export-pdf"' in menu.content and b'data-testid="import-xlsx"' in menu.content
    assert b'data-testid="import-xlsx"' not in web("compliance").get(f"/plans/{rp.plan.pk}/").content
