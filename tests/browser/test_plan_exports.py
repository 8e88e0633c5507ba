"""Plan exports in a real browser: each export downloads from the plan page (the job runs as the worker would),
the customer version shows only what is shared, and an Excel file is imported after its preview."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from openkam.core import services as core_services
from openkam.plans import exports
from openkam.plans.document import plan_document
from openkam.plans.models import Objective
from tests.browser.conftest import shot
from tests.office import libreoffice_convert, pdf_text
from tests.plans.export_support import rich_plan

pytestmark = pytest.mark.django_db(transaction=True)


def _download(page: Any, testid: str, tmp_path: Path) -> Path:
    """Click an export in the plan's menu, run its job (what the worker does), download the file."""
    page.get_by_test_id("exports-menu").click()
    page.get_by_test_id(testid).click()
    card = page.get_by_test_id("job")
    expect(card).to_be_visible()
    core_services.job_execute(job_id=int(card.get_attribute("data-job-id")))
    link = page.get_by_test_id("job-download")
    expect(link).to_be_visible(timeout=15_000)  # the card polls itself and offers the file
    with page.expect_download() as info:
        link.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_kam_downloads_every_export_from_the_plan_page(world: Any, page: Any, login: Any, tmp_path: Path) -> None:
    rp = rich_plan(world)
    login("kam")
    page.goto(f"/plans/{rp.plan.pk}/")
    page.get_by_test_id("exports-menu").click()
    shot(page, "plan-exports-menu")
    page.keyboard.press("Escape")

    pdf = _download(page, "export-pdf", tmp_path)
    assert pdf.name == "Beacon Health System - Beacon Health System 2026.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and "Stakeholder summary" in pdf_text(pdf)
    shot(page, "plan-export-ready")

    page.goto(f"/plans/{rp.plan.pk}/")
    pptx = _download(page, "export-pptx", tmp_path)
    assert pptx.suffix == ".pptx" and "Next actions" in pdf_text(libreoffice_convert(pptx, "pdf"))

    page.goto(f"/plans/{rp.plan.pk}/")
    xlsx = _download(page, "export-xlsx", tmp_path)
    assert xlsx.suffix == ".xlsx" and "Cut 30-day HF readmissions" in libreoffice_convert(xlsx, "csv").read_text()

    page.goto(f"/plans/{rp.plan.pk}/")
    customer = _download(page, "export-customer-pdf", tmp_path)
    text = pdf_text(customer)
    assert "Measures of success" in text and "Brief the rep team" not in text


def test_customer_version_in_the_browser(world: Any, page: Any, login: Any) -> None:
    rp = rich_plan(world)
    login("kam")
    page.goto(f"/plans/{rp.plan.pk}/")
    page.get_by_test_id("exports-menu").click()
    page.get_by_test_id("customer-view").click()
    version = page.get_by_test_id("customer-version")
    expect(version).to_contain_text("Cut 30-day HF readmissions")
    expect(version).to_contain_text("Pathway go-live")
    expect(version).not_to_contain_text("Brief the rep team")  # not shared
    expect(version).not_to_contain_text("Formulary listing for Cardiozen")  # objective not shared
    expect(page.get_by_test_id("customer-agreement")).to_contain_text("Dr. Ada Chair")
    shot(page, "plan-customer-version")


def test_kam_imports_objectives_from_excel_after_a_preview(world: Any, page: Any, login: Any, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    rp = rich_plan(world)
    kam = world.users["kam"]
    wb = load_workbook(io.BytesIO(exports.plan_xlsx(plan_document(actor=kam, plan_id=rp.plan.pk))))
    wb["Objectives"].append(["N1", None, "Second site live on the pathway", "sites", 1, 3, None, "2027-06-30"])
    wb["Tactics"].append(["N1.T1", None, "N1", "Roll-out kit", "Joint", "Commercial", "kam", "no"])
    wb["Actions"].append(["N1.T1.A1", None, "N1.T1", "Train the North team", "kam"])
    good = tmp_path / "plan.xlsx"
    wb.save(good)
    bad = tmp_path / "bad.xlsx"
    wb["Actions"].append(["N1.T1.A2", None, "N9", "Orphan step"])
    wb.save(bad)

    login("kam")
    page.goto(f"/plans/{rp.plan.pk}/")
    page.get_by_test_id("exports-menu").click()
    page.get_by_test_id("import-xlsx").click()
    page.set_input_files("#id_file", str(bad))
    page.get_by_test_id("import-preview").click()
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_contain_text("Tactic ref")
    expect(errors).to_contain_text("No tactic with Ref “N9”")
    shot(page, "plan-import-errors")

    page.goto(f"/plans/{rp.plan.pk}/import/")
    page.set_input_files("#id_file", str(good))
    page.get_by_test_id("import-preview").click()
    expect(page.get_by_test_id("import-counts")).to_contain_text("1")
    shot(page, "plan-import-preview")
    assert not Objective.objects.filter(plan=rp.plan, title="Second site live on the pathway").exists()
    page.get_by_test_id("import-confirm").click()
    card = page.get_by_test_id("job")
    core_services.job_execute(job_id=int(card.get_attribute("data-job-id")))
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "done", timeout=15_000)
    page.get_by_test_id("back-to-plan").click()
    expect(page.get_by_test_id("objective").filter(has_text="Second site live on the pathway")).to_be_visible()
    expect(page.get_by_test_id("action-title").filter(has_text="Train the North team")).to_be_visible()
