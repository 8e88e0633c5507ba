"""Commercial pages in a real browser: turn a whitespace gap into an opportunity in one click and find it in the
pipeline; score a tender's bid risks and confirm the decision as the lead; the account P&L; the Account 360 panel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import expect

from openkam.commercial import services
from openkam.commercial.models import Opportunity
from tests import factories as f
from tests.browser.conftest import shot
from tests.commercial.conftest import add_cost, add_sales

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = dt.date.today()


def _data(world: Any) -> Any:
    kam = world.users["kam"]
    cardio = f.ProductFactory(name="Cardivance")
    onco = f.ProductFactory(name="Onkelara")
    hf = f.IndicationFactory(product=cardio, name="Heart failure with reduced ejection fraction", approved=True)
    lung = f.IndicationFactory(product=onco, name="Non-small cell lung cancer", approved=True)
    services.whitespace_cell_set(
        actor=kam,
        account_id=world.department.pk,
        indication_id=hf.pk,
        status="used",
        potential_value=250000,
        our_share=45,
        competitor="Cardiorex",
    )
    services.whitespace_cell_set(
        actor=kam,
        account_id=world.hospital2.pk,
        indication_id=lung.pk,
        status="competitor",
        competitor="Oncorival",
        potential_value=180000,
        contract_end=TODAY + dt.timedelta(days=200),
    )
    services.whitespace_cell_set(actor=kam, account_id=world.hospital2.pk, indication_id=hf.pk, potential_value=320000)
    for i, stage in enumerate(("qualified", "proposal", "negotiation", "won")):
        services.opportunity_create(
            actor=kam,
            account_id=world.hospital.pk,
            name=f"Deal {stage}",
            value=100000 + i * 50000,
            stage=stage,
            product_ids=[cardio.pk],
            expected_close=TODAY + dt.timedelta(days=30 * (i + 1)),
        )
    add_sales(world.hospital, cardio, 24, gross=40000)
    add_sales(world.hospital2, onco, 24, gross=25000)
    add_cost(world.idn, 24, amount=3000)
    from openkam.commercial.defaults import DEFAULT_RISK_FACTORS
    from openkam.commercial.models import RiskFactor

    for position, (code, name, weight, guidance) in enumerate(DEFAULT_RISK_FACTORS):
        RiskFactor.objects.get_or_create(
            code=code, defaults={"name": name, "weight": weight, "guidance": guidance, "position": position}
        )
    tender = services.tender_create(
        actor=kam,
        account_id=world.idn.pk,
        title="Cardiometabolic medicines framework",
        tender_type="open",
        publication_date=TODAY - dt.timedelta(days=10),
        submission_deadline=TODAY + dt.timedelta(days=12),
        estimated_value=1200000,
        award_criteria=[{"name": "Price", "weight": 60}, {"name": "Quality", "weight": 40}],
        documents=[{"name": "Signed declaration"}, {"name": "Price schedule"}],
        responsible_ids=[kam.pk],
        lots=[{"number": 1, "name": "Heart failure", "product_ids": [cardio.pk]}],
    )
    return hf, tender


def test_whitespace_gap_becomes_an_opportunity(world: Any, page: Any, login: Any) -> None:
    hf, _tender = _data(world)
    login("kam")
    page.goto(f"/commercial/accounts/{world.idn.pk}/whitespace/")
    grid = page.get_by_test_id("ws-grid")
    expect(grid).to_contain_text("Beacon North Hospital")
    gap = page.locator(f'[data-testid=ws-cell][data-column="{world.hospital2.pk}"][data-indication="{hf.pk}"]')
    expect(gap).to_have_attribute("data-status", "not_used")
    shot(page, "commercial-whitespace")
    gap.get_by_test_id("ws-convert").click()
    expect(gap.get_by_test_id("ws-opportunity")).to_contain_text("opportunity created")
    opp = Opportunity.objects.get(indication=hf, account=world.hospital2)
    assert opp.value == 320000 and opp.stage == "identified"
    page.goto(f"/commercial/?account={world.idn.pk}")
    expect(page.get_by_test_id("opportunity-list")).to_contain_text("Beacon North Hospital")
    expect(page.get_by_test_id("kpi-open")).to_contain_text("770,000")  # 320k + 100k + 150k + 200k open
    page.wait_for_timeout(500)
    shot(page, "commercial-pipeline")


def test_tender_bid_analysis_and_lead_decision(world: Any, page: Any, login: Any) -> None:
    _hf, tender = _data(world)
    login("kam")
    page.goto(f"/commercial/tenders/?account={world.idn.pk}")
    expect(page.get_by_test_id("tender-upcoming")).to_contain_text("No bid/risk analysis yet")
    shot(page, "commercial-tenders")
    page.get_by_text("Cardiometabolic medicines framework").click()
    for code, score in (
        ("price_position", "3"),
        ("clinical_differentiation", "5"),
        ("supply_security", "4"),
        ("evaluator_relationship", "4"),
        ("contract_terms", "4"),
    ):
        page.select_option(f"#score-{code}", score)
    page.get_by_test_id("assess").click()
    expect(page.get_by_test_id("win-likelihood")).to_have_text("75 %")
    expect(page.get_by_test_id("recommendation")).to_have_text("Go")
    page.get_by_role("button", name="done").first.click()
    expect(page.get_by_test_id("tender-documents")).to_contain_text("Signed declaration")
    page.context.clear_cookies()
    login("lead")
    page.goto(f"/commercial/tenders/{tender.pk}/")
    page.get_by_test_id("decision-form").get_by_role("button").click()
    expect(page.get_by_test_id("decision")).to_contain_text("confirmed by Lena Lead")
    shot(page, "commercial-tender")


def test_account_pnl_and_panel(world: Any, page: Any, login: Any) -> None:
    _data(world)
    login("kam")
    page.goto(f"/commercial/accounts/{world.idn.pk}/pnl/")
    expect(page.get_by_test_id("pnl-table")).to_contain_text("Contribution")
    expect(page.get_by_test_id("pnl-members")).to_contain_text("Beacon General Hospital")
    page.wait_for_timeout(500)
    shot(page, "commercial-pnl")
    page.goto(f"/accounts/{world.idn.pk}/")
    panel = page.get_by_test_id("commercial-panel")
    expect(panel).to_contain_text("Next tender deadline")
    expect(panel.get_by_test_id("panel-pnl")).to_contain_text("Net sales")
    shot(page, "commercial-account-panel")
    page.context.clear_cookies()
    login("msl")
    page.goto(f"/accounts/{world.idn.pk}/")
    panel = page.get_by_test_id("commercial-panel")
    expect(panel).to_contain_text("Whitespace gaps")
    expect(panel.get_by_test_id("panel-pnl")).to_have_count(0)
