"""Personal data in a real browser: compliance finds a person, exports the PDF, erases the person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from openkam.core.models import Job
from openkam.core.services import job_execute
from openkam.stakeholders.models import Stakeholder
from tests.browser.conftest import shot
from tests.office import pdf_text, pdf_to_pngs

pytestmark = pytest.mark.django_db(transaction=True)


def test_compliance_exports_and_erases(world: Any, page: Any, login: Any, tmp_path: Path) -> None:
    from openkam.stakeholders import services as stakeholder_services

    person = stakeholder_services.stakeholder_create(
        actor=world.users["admin"], first_name="Ada", last_name="Chen", prefix="Dr.", credentials="MD",
        email="ada.chen@example.org", account=world.hospital, title="Chief of Cardiology",
    )  # fmt: skip
    from openkam.relationships import services as rel

    rel.strength_set(
        actor=world.users["admin"], account_id=world.hospital.pk, stakeholder_id=person.pk,
        user_id=world.users["msl"].pk, current=3, note="met at the congress",
    )  # fmt: skip
    login("compliance")
    page.goto("/")
    page.get_by_test_id("nav-more").click()  # compliance's own areas share the "More" menu below 1600 px
    page.get_by_role("link", name="Personal data").first.click()
    page.get_by_test_id("privacy-q").fill("Chen")
    page.get_by_test_id("privacy-find").click()
    page.get_by_test_id("privacy-result").first.click()
    expect(page.get_by_test_id("privacy-name")).to_have_text("Dr. Ada Chen, MD")
    # people read the fields' names, not the database's
    details = page.get_by_test_id("privacy-person")
    expect(details).to_contain_text("First name")
    expect(details).to_contain_text("Email")
    expect(details).not_to_contain_text("first_name")
    consent = page.get_by_test_id("privacy-consent")
    expect(consent.locator('[data-field="privacy_restricted"]')).to_have_text("Privacy restricted")
    expect(consent.locator('[data-field="do_not_contact"] + dd')).to_have_text("No")
    expect(page.get_by_test_id("privacy-positions")).to_contain_text("Chief of Cardiology")
    expect(page.get_by_test_id("privacy-audit")).to_contain_text("Stakeholder")
    expect(page.get_by_test_id("privacy-audit")).not_to_contain_text("insert")
    expect(page.get_by_test_id("privacy-relationship-counts")).to_contain_text("1 relationship strength,")
    page.get_by_test_id("export-pdf").click()
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "queued")
    job_execute(job_id=Job.objects.get(kind="privacy.export_pdf").pk)
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "done")
    shot(page, "privacy-person")
    with page.expect_download() as info:
        page.get_by_test_id("job-download").click()
    pdf = tmp_path / "export.pdf"
    info.value.save_as(pdf)
    text = pdf_text(pdf)
    assert "ada.chen@example.org" in text and "Privacy restricted" in text and "privacy_restricted" not in text
    expect(page.get_by_test_id("job")).not_to_contain_text("Rendering the PDF")  # a done job: no stale message
    assert "Mia Msl" in text  # our person by name, not the username "msl"
    out = Path("var/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    for i, png in enumerate(pdf_to_pngs(pdf, tmp_path, dpi=60, first=1, last=2)):
        (out / f"privacy-export-p{i + 1}.png").write_bytes(png.read_bytes())
    # erasure: reason and confirmation are required
    page.get_by_test_id("erase-submit").click()
    expect(page.get_by_test_id("error-reason")).to_be_visible()
    expect(page.get_by_test_id("error-confirm")).to_be_visible()
    page.fill("#id_reason", "Erasure request of 2 March, ticket DP-114")
    page.check("#id_confirm")
    page.get_by_test_id("erase-submit").click()
    expect(page.get_by_test_id("erased-banner")).to_be_visible()
    expect(page.get_by_test_id("privacy-name")).to_have_text(f"Erased person #{person.pk}")
    expect(page.get_by_test_id("privacy-consent").locator('[data-field="privacy_restricted"] + dd')).to_have_text("Yes")
    expect(page.get_by_test_id("privacy-audit")).to_contain_text("Privacy restricted")  # the erasure's changed fields
    shot(page, "privacy-erased")
    assert Stakeholder.objects.get(pk=person.pk).email == ""
