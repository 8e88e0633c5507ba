"""NPPES import in a real browser: an admin uploads a registry answer, sees the preview, imports it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from openkam.core.models import Job
from openkam.core.services import job_execute
from openkam.stakeholders.models import Stakeholder
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)
DATA = Path(__file__).resolve().parents[1] / "data" / "nppes"


def test_admin_previews_and_applies_an_nppes_file(world: Any, page: Any, login: Any) -> None:
    login("admin")
    page.goto("/stakeholders/")
    page.get_by_test_id("nppes-import-link").click()
    # a malformed file: refused next to the field
    page.set_input_files("#id_file", str(DATA / "api-8d2d52.json"))
    page.get_by_test_id("nppes-preview").click()
    expect(page.get_by_test_id("error-file")).to_contain_text("No valid search criteria provided")
    # a real answer without an account: the preview says why the 5 new people are skipped
    page.set_input_files("#id_file", str(DATA / "api-f62abe.json"))
    page.get_by_test_id("nppes-preview").click()
    expect(page.get_by_test_id("nppes-needs-account")).to_contain_text("5 new people are skipped")
    expect(page.get_by_test_id("nppes-kept-file")).to_contain_text("api-f62abe.json")
    shot(page, "nppes-needs-account")
    # choose the account and preview again, without uploading the file again: 5 people to create
    page.get_by_test_id("picker-account").fill("Beacon General")
    expect(page.locator("#id_account option", has_text="— 1 match —")).to_have_count(1)
    expect(page.locator("#id_account option", has_text="Beacon General Hospital")).to_have_count(1)
    page.select_option(
        "#id_account", label=page.locator("#id_account option", has_text="Beacon General").first.inner_text()
    )
    page.get_by_test_id("nppes-preview").click()
    expect(page.get_by_test_id("error-file")).to_have_count(0)
    expect(page.get_by_test_id("nppes-needs-account")).to_have_count(0)
    expect(page.get_by_test_id("nppes-row")).to_have_count(5)
    expect(page.get_by_test_id("count-create")).to_contain_text("5")
    shot(page, "nppes-preview")
    page.get_by_test_id("nppes-apply").click()
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "queued")
    job_execute(job_id=Job.objects.get(kind="stakeholders.nppes_import").pk)
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("job-outcome")).to_contain_text("Created 5")
    shot(page, "nppes-done")
    assert Stakeholder.objects.filter(npi="1396949913", last_name="Steinberg").exists()
