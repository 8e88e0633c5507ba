"""Formulary in a real browser: market access records a formulary change at a hospital and the lead sees it on
the formulary dashboard (as a loss, in the matrix); Account 360 and the plan page load the formulary panels."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import expect

from openkam.market_access import services
from openkam.market_access.services import StatusInput
from tests import factories as f
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = dt.date.today()


def _formulary(world: Any) -> tuple[Any, Any]:
    ta = f.TherapeuticAreaFactory(code="cardio", name="Cardiology")
    p1 = f.ProductFactory(name="Cardiora", generic_name="velcoraptan", therapeutic_area=ta)
    p2 = f.ProductFactory(name="Renvia", generic_name="renvimab", therapeutic_area=ta)
    committee = f.CommitteeFactory(
        account=world.idn, name="Beacon System P&T", next_meeting=TODAY + dt.timedelta(days=12)
    )
    access = world.users["access"]
    services.formulary_status_record(
        actor=access, account_id=world.idn.pk,
        data=StatusInput(product_id=p1.pk, status="on_formulary", effective_from=TODAY - dt.timedelta(days=300),
                         scope="members", committee_id=committee.pk, next_review=TODAY + dt.timedelta(days=20)),
    )  # fmt: skip
    services.formulary_status_record(
        actor=access, account_id=world.hospital.pk,
        data=StatusInput(product_id=p2.pk, status="on_formulary", effective_from=TODAY - dt.timedelta(days=200)),
    )  # fmt: skip
    return p1, p2


def test_record_a_formulary_change_and_see_it_on_the_dashboard(page: Any, login: Any, world: Any) -> None:
    p1, _p2 = _formulary(world)
    login("access")
    page.goto(f"/market-access/accounts/{world.hospital.pk}/")
    expect(page.get_by_test_id(f"fcell-{world.hospital.pk}-{p1.pk}")).to_have_attribute("data-status", "on_formulary")
    page.get_by_test_id("record-status").click()
    page.select_option("#id_product", label="Cardiora")
    page.select_option("#id_status", "restricted")
    page.fill("#id_effective_from", (TODAY - dt.timedelta(days=2)).isoformat())
    page.get_by_test_id("status-save").click()
    expect(page.get_by_test_id("error-restriction_kinds")).to_be_visible()  # restricted needs its restrictions
    page.check("input[name=restriction_kinds][value=prior_authorisation]")
    page.fill("#id_restrictions", "Cardiology attendings only, PA form 12")
    page.fill("#id_reason", "P&T minutes of this week")
    shot(page, "formulary-record")
    page.get_by_test_id("status-save").click()
    expect(page.get_by_test_id(f"fcell-{world.hospital.pk}-{p1.pk}")).to_have_attribute("data-status", "restricted")
    expect(page.get_by_test_id("formulary-history")).to_contain_text("Cardiology attendings only")
    shot(page, "formulary-account")

    page.context.clear_cookies()
    login("lead")
    page.goto("/market-access/")
    expect(page.get_by_test_id("fd-losses-30")).to_have_text("1")
    expect(page.get_by_test_id("fd-changes")).to_contain_text("Cardiora")
    expect(page.get_by_test_id("fd-changes")).to_contain_text("On formulary → On with restrictions")
    expect(page.get_by_test_id(f"fcell-{world.hospital.pk}-{p1.pk}")).to_have_attribute("data-status", "restricted")
    expect(page.get_by_test_id(f"fcell-{world.hospital2.pk}-{p1.pk}")).to_have_attribute("data-status", "on_formulary")
    expect(page.get_by_test_id("fd-reviews-list")).to_contain_text("Beacon System P&T")
    page.wait_for_timeout(300)
    shot(page, "formulary-dashboard")
    page.get_by_test_id(f"fcell-{world.hospital.pk}-{p1.pk}").click()  # drill down to the account
    expect(page.get_by_test_id("formulary-history")).to_be_visible()
    assert f"/market-access/accounts/{world.hospital.pk}/" in page.url


def test_account_360_and_plan_page_show_the_formulary_panels(page: Any, login: Any, world: Any) -> None:
    p1, _p2 = _formulary(world)
    plan = f.PlanFactory(account=world.hospital, owner=world.users["kam"], status="active")
    login("kam")
    page.goto(f"/accounts/{world.idn.pk}/")
    panel = page.get_by_test_id("formulary-panel")
    expect(panel).to_contain_text("Formulary position")
    expect(panel.get_by_test_id(f"fcell-{world.hospital2.pk}-{p1.pk}")).to_have_attribute("data-status", "on_formulary")
    shot(page, "formulary-account-360")
    page.goto(f"/plans/{plan.pk}/")
    plan_panel = page.get_by_test_id("plan-formulary-panel")
    expect(plan_panel).to_be_visible()
    plan_panel.locator("select[name=product]").select_option(label="Renvia")
    plan_panel.locator("button[type=submit]").click()
    expect(page.get_by_test_id("plan-targets")).to_contain_text("Renvia")
    shot(page, "formulary-plan-panel")


def test_create_edit_and_retire_a_protocol(page: Any, login: Any, world: Any) -> None:
    _formulary(world)
    login("access")
    page.goto(f"/market-access/accounts/{world.idn.pk}/")
    page.get_by_role("link", name="New protocol").click()
    page.fill("#id_name", "Heart failure pathway")
    page.select_option("#id_scope", "members")
    page.get_by_test_id("protocol-save").click()
    page.select_option("#id_product", label="Cardiora")
    page.select_option("#id_line_of_therapy", "second")
    page.get_by_role("button", name="Add product").click()
    expect(page.locator("table")).to_contain_text("Cardiora")
    page.get_by_test_id("protocol-edit").click()
    expect(page.locator("#id_name")).to_have_value("Heart failure pathway")
    page.fill("#id_effective_from", TODAY.isoformat())
    page.fill("#id_review_date", (TODAY - dt.timedelta(days=3)).isoformat())
    page.get_by_test_id("protocol-save").click()
    expect(page.get_by_test_id("error-review_date")).to_contain_text("before the protocol starts")
    page.fill("#id_review_date", (TODAY + dt.timedelta(days=180)).isoformat())
    page.fill("#id_name", "Heart failure pathway 2026")
    page.fill("#id_description", "GDMT first; Cardiora as second line.")
    page.fill("#id_reason", "P&T revision")
    shot(page, "formulary-protocol-edit")
    page.get_by_test_id("protocol-save").click()
    expect(page.locator("h1")).to_contain_text("Heart failure pathway 2026")
    expect(page.get_by_test_id("protocol-description")).to_contain_text("GDMT first")
    shot(page, "formulary-protocol")
    page.get_by_test_id("protocol-edit").click()
    page.locator("input[name=reason]").last.fill("Replaced by the 2027 pathway")
    page.get_by_test_id("protocol-retire").click()
    expect(page.get_by_test_id("protocol-retired")).to_be_visible()
    page.goto(f"/market-access/accounts/{world.hospital.pk}/")  # covers the members: listed, retired
    expect(page.get_by_test_id("protocols")).to_contain_text("Heart failure pathway 2026")
    expect(page.get_by_test_id("protocols")).to_contain_text("Retired")


def test_fhir_import_preview_then_write(page: Any, login: Any, world: Any, tmp_path: Any) -> None:
    import json
    from pathlib import Path

    from openkam.core.models import Job
    from openkam.core.services import job_execute

    data = Path(__file__).resolve().parents[1] / "data" / "fhir"
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": json.loads(p.read_text())} for p in sorted(data.glob("*.json"))]}  # fmt: skip
    path = tmp_path / "payer-formulary.json"
    path.write_text(json.dumps(bundle))
    f.ProductFactory(name="Doxepa", generic_name="doxepin")
    payer = f.AccountFactory(name="Sample Medicare Advantage", type="payer", parent=world.idn,
                             ancestors=[world.idn.pk], depth=1)  # fmt: skip
    login("access")
    page.goto(f"/market-access/accounts/{payer.pk}/")
    page.get_by_role("link", name="Import FHIR formulary").click()
    page.set_input_files("#id_file", str(path))
    page.fill("#id_reason", "CMS formulary 2021")
    page.get_by_test_id("import-check").click()
    expect(page.get_by_test_id("job")).to_be_visible()
    job_execute(job_id=Job.objects.filter(kind="market_access.fhir_import").latest("pk").pk)  # what the worker does
    expect(page.get_by_test_id("import-ready")).to_be_visible(timeout=10000)  # the page polls itself
    expect(page.get_by_test_id("import-preview")).to_contain_text("FormularyItem-D1002-1000091")
    shot(page, "formulary-import-preview")
    page.get_by_test_id("import-apply").click()
    job_execute(job_id=Job.objects.filter(kind="market_access.fhir_import").latest("pk").pk)
    expect(page.get_by_test_id("import-done")).to_be_visible(timeout=10000)
    shot(page, "formulary-import-done")
    page.get_by_test_id("import-see-account").click()
    expect(page.get_by_test_id("formulary-history")).to_contain_text("Imported")
    expect(page.get_by_test_id("formulary-history")).to_contain_text("Doxepa")
    expect(page.get_by_test_id("formulary-history")).to_contain_text("Generic")
