"""Account evaluation in a real browser: score an account and see its tier and its point on the matrix change;
the lead's KAM analysis and the admin's re-score progress."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from openkam.accounts import services as account_services
from openkam.evaluation import services
from openkam.evaluation.models import ScoringModel
from tests import factories as f
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)

NAMES = [
    "Mercy Regional", "St. Agnes Medical Center", "Lakeside Community Hospital", "Northfield Memorial",
    "Riverside University Hospital", "Harborview Children's", "Eastgate General", "Summit Heart Institute",
]  # fmt: skip


def _portfolio(world: Any) -> None:
    """A handful of assessed hospitals under kam's IDN spread across the quadrants, with interactions."""
    services.scoring_model_install_defaults()
    model = ScoringModel.objects.get(code="partnership-potential", status="active")
    admin, kam = world.users["admin"], world.users["kam"]
    patterns = [(5, 14), (4, 3), (3, 12), (2, 1), (5, 6), (4, 13), (1, 9), (3, 0)]
    for name, (value, visits) in zip(NAMES, patterns, strict=True):
        h = account_services.account_create(actor=admin, name=name, type="hospital", parent=world.idn, state="MA")
        for months, delta in ((12, -1), (6, 0), (0, 0)):
            v = max(1, min(5, value + delta))
            scores = [{"criterion_id": c.pk, "score": v if i % 2 else max(1, v - (i % 3 == 0)), "evidence": "QBR"}
                      for i, c in enumerate(model.criteria.all())]  # fmt: skip
            services.assessment_create(
                actor=kam, account_id=h.pk, scores=scores, rationale="Closed to industry partnerships",
                assessed_on=timezone.localdate() - dt.timedelta(days=30 * months),
            )  # fmt: skip
        for d in range(visits):
            f.InteractionFactory(account=h, created_by=kam, occurred_at=timezone.now() - dt.timedelta(days=2 + d * 5))
    services.effort_snapshot_refresh()


def _matrix_point(page: Any, name: str) -> Any:
    return page.evaluate(
        """(name) => { const c = echarts.getInstanceByDom(document.getElementById('matrix-chart'));
        for (const s of c.getOption().series) {
          for (const p of s.data) { if (p.name === name) return {level: p.level, value: p.value}; }
        }
        return null; }""",
        name,
    )


def test_kam_scores_an_account_and_sees_tier_and_matrix_point_change(world: Any, page: Any, login: Any) -> None:
    _portfolio(world)
    login("kam")
    page.goto("/evaluation/")
    expect(page.get_by_test_id("matrix-chart")).to_be_visible()
    page.wait_for_function("document.getElementById('matrix-chart').dataset.points === '8'")
    assert _matrix_point(page, "Beacon General Hospital") is None  # not assessed yet
    shot(page, "evaluation-matrix")

    page.goto(f"/evaluation/accounts/{world.hospital.pk}/")
    expect(page.get_by_test_id("tier-badge")).to_have_text("Not assessed")
    page.get_by_test_id("assess-button").click()
    rows = page.get_by_test_id("criterion-row")
    expect(rows).to_have_count(5)
    for i in range(5):
        rows.nth(i).locator("select").select_option("2")
        rows.nth(i).locator("textarea").fill("Reviewed at the quarterly business review")
    expect(page.get_by_test_id("live-total")).to_contain_text("25.0")  # previewed before saving
    expect(page.get_by_test_id("live-total")).to_contain_text("Declined")
    page.get_by_test_id("assessment-save").click()
    expect(page.get_by_test_id("error-rationale")).to_contain_text("will not invest")  # 25/100 means declined
    shot(page, "evaluation-assess-error")
    page.fill("#id_rationale", "No overlap with our portfolio until the new cardiology wing opens")
    page.get_by_test_id("assessment-save").click()
    expect(page.get_by_test_id("tier-badge")).to_have_text("Declined")
    expect(page.get_by_test_id("latest-score")).to_contain_text("25.0")

    page.goto("/evaluation/")
    page.wait_for_function("document.getElementById('matrix-chart').dataset.points === '9'")
    first = _matrix_point(page, "Beacon General Hospital")
    assert first["level"] == "declined" and first["value"][1] == 25.0

    page.goto(f"/evaluation/accounts/{world.hospital.pk}/assess/")
    for i in range(5):
        rows.nth(i).locator("select").select_option("5")
    page.get_by_test_id("assessment-save").click()
    expect(page.get_by_test_id("tier-badge")).to_have_text("Strategic")
    expect(page.get_by_test_id("assessment-history").locator("li")).to_have_count(2)
    shot(page, "evaluation-account")

    page.goto("/evaluation/")
    page.wait_for_function("document.getElementById('matrix-chart').dataset.points === '9'")
    second = _matrix_point(page, "Beacon General Hospital")
    assert second["level"] == "strategic" and second["value"][1] == 100.0


def test_lead_reads_the_kam_analysis(world: Any, page: Any, login: Any) -> None:
    _portfolio(world)
    login("lead")
    page.goto("/evaluation/analysis/")
    expect(page.get_by_test_id("level-count-strategic")).not_to_have_text("0")
    expect(page.get_by_test_id("flag-table")).to_contain_text("Declined account still getting")
    shot(page, "evaluation-analysis")
    with page.expect_download() as download:
        page.get_by_test_id("analysis-xlsx").click()
    assert download.value.suggested_filename.startswith("kam-analysis-")


def test_admin_sees_rescore_progress(world: Any, page: Any, login: Any) -> None:
    _portfolio(world)
    login("admin")
    page.goto("/evaluation/models/")
    page.get_by_test_id("rescore-button").click()
    expect(page.get_by_test_id("rescore-run")).to_have_attribute("data-status", "queued")
    from openkam.evaluation.models import RescoreRun
    from openkam.evaluation.tasks import rescore_all

    rescore_all(RescoreRun.objects.get().pk)  # what the worker does
    expect(page.get_by_test_id("rescore-run")).to_have_attribute("data-status", "done")  # the page polls
    expect(page.get_by_test_id("rescore-run")).to_contain_text("8 of 8 accounts")
    shot(page, "evaluation-models")


def test_admin_creates_a_model_and_a_kam_scores_with_it(world: Any, page: Any, login: Any) -> None:
    """The model editor: an admin defines a model for GPOs (weights, a label per level, guidance), is told
    what is wrong, fixes it; a KAM then scores a GPO with it and sees its tier."""
    services.scoring_model_install_defaults()
    gpo = account_services.account_create(
        actor=world.users["admin"], name="Keystone Purchasing Alliance", type="gpo", owner_id=world.users["kam"].pk
    )
    login("admin")
    page.goto("/evaluation/models/")
    page.get_by_test_id("model-new").click()
    page.fill("#id_name", "Purchasing leverage")
    page.fill("#id_code", "purchasing-leverage")
    page.fill("#id_description", "How much a GPO's contracts move our volume.")
    page.locator("input[name=account_types][value=gpo]").check()
    page.fill("#id_scale_max", "3")
    rows = page.get_by_test_id("criterion-edit-row")
    rows.nth(0).locator("input[name$=-name]").fill("Member reach")
    rows.nth(0).locator("input[name$=-weight]").fill("60")
    rows.nth(0).locator("textarea[name$=-guidance]").fill("Share of our target hospitals that are members.")
    rows.nth(0).locator("textarea[name$=-levels]").fill("Under 10 %\n10–40 %\nOver 40 %")
    rows.nth(1).locator("input[name$=-name]").fill("Contract compliance")
    rows.nth(1).locator("input[name$=-weight]").fill("30")
    rows.nth(1).locator("textarea[name$=-levels]").fill("Loose\nTracked")
    expect(page.get_by_test_id("weight-sum")).to_have_text("90")  # live sum while typing
    page.locator("#id_activate").check()
    page.get_by_test_id("model-save").click()
    expect(page.get_by_test_id("criteria-errors")).to_contain_text("add up to 90 %")
    expect(page.get_by_test_id("model-form")).to_contain_text("3 labels for a 1–3 scale")
    shot(page, "evaluation-model-editor-errors")
    assert not ScoringModel.objects.filter(code="purchasing-leverage").exists()  # nothing saved
    rows = page.get_by_test_id("criterion-edit-row")
    rows.nth(1).locator("input[name$=-weight]").fill("40")
    rows.nth(1).locator("textarea[name$=-levels]").fill("Loose\nTracked\nEnforced")
    expect(page.get_by_test_id("weight-sum")).to_have_text("100")
    page.get_by_test_id("model-save").click()
    card = page.locator("[data-testid=model-card]", has_text="Purchasing leverage")
    expect(card).to_contain_text("Active")
    expect(card).to_contain_text("Enforced")
    shot(page, "evaluation-model-created")

    page.context.clear_cookies()
    login("kam")
    page.goto(f"/evaluation/accounts/{gpo.pk}/assess/")
    crit = page.get_by_test_id("criterion-row")
    expect(crit).to_have_count(2)
    expect(crit.nth(0)).to_contain_text("Share of our target hospitals")
    crit.nth(0).locator("select").select_option("3")
    crit.nth(1).locator("select").select_option("2")
    expect(page.get_by_test_id("live-total")).to_contain_text("80.0")  # 60 × 1 + 40 × 0.5
    page.get_by_test_id("assessment-save").click()
    expect(page.get_by_test_id("tier-badge")).to_have_text("Strategic")
    expect(page.get_by_test_id("latest-score")).to_contain_text("80.0")
