"""Commercial services and selectors: whitespace, opportunities and pipeline, tenders and bid analysis, P&L, imports."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest

from openkam.commercial import selectors, services
from openkam.commercial.models import (
    BidAssessment,
    CellStatus,
    ImportStatus,
    Opportunity,
    SalesImport,
    SalesLine,
    Tender,
    WhitespaceCell,
)
from openkam.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import Job
from openkam.core.services import job_execute
from tests import factories as f
from tests.commercial.conftest import add_cost, add_sales, month

TODAY = dt.date.today()


def codes(exc: Any) -> set[tuple[str, str]]:
    return {(e.field, e.code) for e in exc.value.errors}


# --- whitespace -------------------------------------------------------------------------------------------
def test_grid_of_an_idn_is_hospitals_by_approved_indications(world: Any, portfolio: Any) -> None:
    kam = world.users["kam"]
    services.whitespace_cell_set(
        actor=kam,
        account_id=world.department.pk,
        indication_id=portfolio.hf.pk,
        status="used",
        potential_value="50000",
        our_share=40,
        competitor="Rivalix",
    )
    services.whitespace_cell_set(
        actor=kam,
        account_id=world.hospital2.pk,
        indication_id=portfolio.lung.pk,
        status="competitor",
        competitor="Oncorival",
        contract_end="2027-03-31",
        potential_value=80000,
    )
    grid = selectors.whitespace_grid(actor=kam, account_id=world.idn.pk)
    assert [c.name for c in grid.columns] == ["Beacon General Hospital", "Beacon North Hospital"]
    assert [r.indication.name for r in grid.rows] == ["Heart failure", "Hypercholesterolaemia", "Lung cancer"]
    hf = {c.column_id: c for c in grid.rows[0].cells}
    # the department's record rolls up to its hospital's column
    assert hf[world.hospital.pk].status == CellStatus.USED and hf[world.hospital.pk].our_share == Decimal("40.0")
    assert hf[world.hospital2.pk].status == CellStatus.NOT_USED and hf[world.hospital2.pk].is_gap
    lung = {c.column_id: c for c in grid.rows[2].cells}
    assert lung[world.hospital2.pk].competitor == "Oncorival"
    assert lung[world.hospital2.pk].contract_end == dt.date(2027, 3, 31)
    assert grid.counts["used"] == 1 and grid.counts["competitor"] == 1 and grid.gaps == 4
    # a hospital's grid: its departments are the columns
    hospital_grid = selectors.whitespace_grid(actor=kam, account_id=world.hospital.pk)
    assert [c.name for c in hospital_grid.columns] == ["Cardiology"]


def test_a_column_rolls_up_its_units_and_a_grid_without_units_is_one_column(world: Any, portfolio: Any) -> None:
    """The SQL roll-up: strongest status, potentials added, share weighted by potential, most frequent competitor,
    earliest contract end, units counted; pharmacies are no column; an account without units is its own column."""
    from openkam.accounts import services as account_services

    kam, admin = world.users["kam"], world.users["admin"]
    ward = account_services.account_create(actor=admin, name="Ward 2", type="department", parent=world.hospital)
    pharmacy = account_services.account_create(actor=admin, name="Outpatient pharmacy", type="pharmacy",
                                               parent=world.idn)  # fmt: skip
    cell = services.whitespace_cell_set
    cell(actor=kam, account_id=world.hospital.pk, indication_id=portfolio.lung.pk, status="not_used",
         potential_value=100000, our_share=10, competitor="Oncorival", contract_end=dt.date(2028, 1, 31))  # fmt: skip
    cell(actor=kam, account_id=world.department.pk, indication_id=portfolio.lung.pk, status="competitor",
         potential_value=300000, our_share=50, competitor="Oncorival", contract_end=dt.date(2027, 6, 30))  # fmt: skip
    cell(actor=kam, account_id=ward.pk, indication_id=portfolio.lung.pk, status="used", competitor="Lungex",
         notes="pilot")  # fmt: skip
    cell(actor=kam, account_id=pharmacy.pk, indication_id=portfolio.lung.pk, status="used")
    opp = services.whitespace_cell_to_opportunity(actor=kam, account_id=ward.pk, indication_id=portfolio.hf.pk)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        grid = selectors.whitespace_grid(actor=kam, account_id=world.idn.pk)
    # the access check, the grid's columns + rows + roll-up in one round trip, the formulary
    assert len(ctx.captured_queries) == 3, [q["sql"][:80] for q in ctx.captured_queries]
    assert [c.pk for c in grid.columns] == [world.hospital.pk, world.hospital2.pk]  # no pharmacy column
    lung = {c.column_id: c for c in grid.rows[2].cells}[world.hospital.pk]
    assert lung.status == CellStatus.USED and lung.recorded and lung.units == 3
    assert lung.potential_value == Decimal("400000.00")
    assert lung.our_share == Decimal("40.0")  # (10 × 100,000 + 50 × 300,000) / 400,000
    assert lung.competitor == "Oncorival" and lung.contract_end == dt.date(2027, 6, 30) and lung.notes == ""
    hf = {c.column_id: c for c in grid.rows[0].cells}
    assert hf[world.hospital.pk].opportunity_id == opp.pk and not hf[world.hospital.pk].is_gap
    assert not hf[world.hospital.pk].recorded and hf[world.hospital2.pk].is_gap
    assert grid.open_opportunities == 1 and grid.counts["used"] == 1
    assert grid.rows[0].indication.product.name == "Cardivance"  # rows read with their product, no extra query

    ward_grid = selectors.whitespace_grid(actor=kam, account_id=ward.pk)
    assert ward_grid.columns == [ward] and len(ward_grid.rows[2].cells) == 1
    only = ward_grid.rows[2].cells[0]
    assert only.status == CellStatus.USED and only.notes == "pilot" and only.competitor == "Lungex"
    pharmacy_grid = selectors.whitespace_grid(actor=kam, account_id=pharmacy.pk)
    assert pharmacy_grid.columns == [pharmacy] and pharmacy_grid.rows[2].cells[0].status == CellStatus.USED


def test_whitespace_refuses_off_label_and_bad_values(world: Any, portfolio: Any) -> None:
    kam = world.users["kam"]
    with pytest.raises(ValidationFailed) as exc:
        services.whitespace_cell_set(actor=kam, account_id=world.hospital.pk, indication_id=portfolio.off_label.pk)
    assert ("indication_id", "off_label") in codes(exc)
    with pytest.raises(ValidationFailed) as exc:
        services.whitespace_cell_set(
            actor=kam,
            account_id=world.hospital.pk,
            indication_id=portfolio.hf.pk,
            our_share=140,
            currency="XYZ",
            status="maybe",
        )
    assert {("our_share", "out_of_range"), ("currency", "unknown_currency"), ("status", "invalid_choice")} <= codes(exc)
    assert not WhitespaceCell.objects.exists()
    with pytest.raises(NotFound):
        services.whitespace_cell_set(actor=kam, account_id=world.other_account.pk, indication_id=portfolio.hf.pk)
    with pytest.raises(PermissionDenied):
        services.whitespace_cell_set(
            actor=world.users["msl"], account_id=world.hospital.pk, indication_id=portfolio.hf.pk, status="used"
        )


def test_formulary_only_cells_come_from_the_formulary(world: Any, portfolio: Any, monkeypatch: Any) -> None:
    class View:
        status = "restricted"

    def fake(*, actor: Any, account_ids: list[int], product_ids: Any = None, on: Any = None) -> dict[Any, Any]:
        return {(world.idn.pk, portfolio.onco.pk): View()}

    monkeypatch.setattr("openkam.market_access.selectors.formulary_current", fake)
    grid = selectors.whitespace_grid(actor=world.users["kam"], account_id=world.idn.pk)
    lung = grid.rows[2].cells
    assert {c.status for c in lung} == {CellStatus.FORMULARY_ONLY}  # listed at the IDN → every member hospital
    assert {c.status for c in grid.rows[0].cells} == {CellStatus.NOT_USED}


def test_a_gap_becomes_an_opportunity_in_one_step(world: Any, portfolio: Any) -> None:
    kam = world.users["kam"]
    services.whitespace_cell_set(
        actor=kam, account_id=world.hospital2.pk, indication_id=portfolio.hf.pk, potential_value="120000.00"
    )
    opp = services.whitespace_cell_to_opportunity(
        actor=kam, account_id=world.hospital2.pk, indication_id=portfolio.hf.pk
    )
    assert opp.value == Decimal("120000.00") and opp.stage == "identified" and opp.probability == 10
    assert [p.name for p in opp.products.all()] == ["Cardivance"] and opp.owner == kam
    assert "Heart failure" in opp.name and "Beacon North Hospital" in opp.name
    grid = selectors.whitespace_grid(actor=kam, account_id=world.idn.pk)
    cell = next(c for c in grid.rows[0].cells if c.column_id == world.hospital2.pk)
    assert cell.opportunity_id == opp.pk and not cell.is_gap
    with pytest.raises(RuleViolation) as rule:
        services.whitespace_cell_to_opportunity(actor=kam, account_id=world.hospital2.pk, indication_id=portfolio.hf.pk)
    assert rule.value.code == "opportunity_exists"
    services.whitespace_cell_set(
        actor=kam, account_id=world.hospital.pk, indication_id=portfolio.lung.pk, status="used"
    )
    with pytest.raises(RuleViolation):
        services.whitespace_cell_to_opportunity(
            actor=kam, account_id=world.hospital.pk, indication_id=portfolio.lung.pk
        )


# --- opportunities and pipeline -----------------------------------------------------------------------------
def _opp(actor: Any, account: Any, **kw: Any) -> Opportunity:
    fields = {"name": "Deal", "value": "1000", "expected_close": TODAY + dt.timedelta(days=40), **kw}
    return services.opportunity_create(actor=actor, account_id=account.pk, **fields)


def test_opportunity_validation_names_the_field(world: Any, portfolio: Any) -> None:
    kam = world.users["kam"]
    for prob in (101, -1, "50.5"):
        with pytest.raises(ValidationFailed) as exc:
            _opp(kam, world.idn, probability=prob)
        assert "probability" in {e.field for e in exc.value.errors}
    with pytest.raises(ValidationFailed) as exc:
        _opp(kam, world.idn, currency="ZZZ", value="-5")
    assert {("currency", "unknown_currency"), ("value", "out_of_range")} <= codes(exc)
    with pytest.raises(ValidationFailed) as exc:
        _opp(kam, world.idn, stage="lost")
    assert ("loss_reason", "required") in codes(exc)
    assert not Opportunity.objects.exists()
    opp = _opp(kam, world.idn, stage="proposal")
    assert opp.probability == 50
    opp = services.opportunity_update(actor=kam, opportunity_id=opp.pk, stage="won")
    assert opp.probability == 100 and opp.closed_on == TODAY


def test_opportunity_links_a_plan_objective_of_the_account_tree(world: Any, portfolio: Any) -> None:
    kam = world.users["kam"]
    objective = f.ObjectiveFactory(plan=f.PlanFactory(account=world.idn, owner=kam))
    other = f.ObjectiveFactory(plan=f.PlanFactory(account=world.other_account, owner=world.users["kam2"]))
    opp = _opp(kam, world.hospital, objective_id=objective.pk, product_ids=[portfolio.cardio.pk])
    assert opp.objective == objective
    with pytest.raises(ValidationFailed) as exc:
        _opp(kam, world.hospital, objective_id=other.pk)
    assert ("objective_id", "not_found") in codes(exc)


def test_pipeline_rolls_up_the_idn_and_forecasts_by_month(world: Any) -> None:
    kam = world.users["kam"]
    _opp(kam, world.idn, value="1000", stage="qualified")  # 25 %
    _opp(kam, world.hospital, value="2000", stage="proposal")  # 50 %
    _opp(kam, world.department, value="4000", stage="negotiation", probability=80)
    _opp(kam, world.hospital2, value="500", stage="won")
    _opp(world.users["kam2"], world.other_account, value="9999")
    [pipe] = selectors.pipeline_rollup(actor=kam, account_id=world.idn.pk)
    assert pipe.open_count == 3 and pipe.open_value == Decimal("7000")
    assert pipe.weighted == Decimal("250") + Decimal("1000") + Decimal("3200")
    assert pipe.won_value == Decimal("500")
    by_child = {c["account_id"]: c for c in pipe.by_child}
    assert by_child[world.hospital.pk]["value"] == Decimal("6000")  # the hospital and its department
    assert by_child[world.idn.pk]["value"] == Decimal("1000")
    close = (TODAY + dt.timedelta(days=40)).replace(day=1)
    month_row = next(m for m in pipe.months if m["month"] == close)
    assert month_row["weighted"] == Decimal("4450.00") and month_row["open"] == Decimal("7000.00")
    assert month_row["won"] == Decimal("500.00")
    [team] = pipe.by_team
    assert team["team"] == "Northeast KAM team" and team["count"] == 3
    with pytest.raises(PermissionDenied):
        selectors.pipeline_rollup(actor=world.users["msl"], account_id=world.idn.pk)
    with pytest.raises(NotFound):
        selectors.pipeline_rollup(actor=kam, account_id=world.other_account.pk)


# --- tenders ------------------------------------------------------------------------------------------------------
def _tender(actor: Any, account: Any, **kw: Any) -> Tender:
    fields = {
        "title": "Anticoagulants 2027",
        "publication_date": TODAY - dt.timedelta(days=10),
        "submission_deadline": TODAY + dt.timedelta(days=20),
        "tender_type": "open",
        "award_criteria": [{"name": "Price", "weight": 60}, {"name": "Quality", "weight": 40}],
        "documents": [{"name": "Signed declaration"}, {"name": "Product dossier", "done": True}],
        **kw,
    }
    return services.tender_create(actor=actor, account_id=account.pk, **fields)


def test_tender_rules(world: Any, portfolio: Any) -> None:
    kam = world.users["kam"]
    with pytest.raises(ValidationFailed) as exc:
        _tender(kam, world.idn, publication_date=TODAY, submission_deadline=TODAY - dt.timedelta(days=1))
    assert ("submission_deadline", "before_publication") in codes(exc)
    assert "before the publication date" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        _tender(kam, world.idn, award_criteria=[{"name": "Price", "weight": 70}], estimated_value="1", currency="XX")
    assert {("award_criteria", "weights_sum"), ("currency", "unknown_currency")} <= codes(exc)
    assert not Tender.objects.exists()
    tender = _tender(
        kam,
        world.idn,
        responsible_ids=[kam.pk, world.users["access"].pk],
        lots=[
            {"number": 1, "name": "Heart failure", "product_ids": [portfolio.cardio.pk], "estimated_value": "5000"},
            {"number": 2, "name": "Oncology", "product_ids": [portfolio.onco.pk]},
        ],
    )
    assert [lot.name for lot in tender.lots.all()] == ["Heart failure", "Oncology"]
    assert {u.username for u in tender.responsible.all()} == {"kam", "access"}
    tender = services.tender_document_toggle(actor=kam, tender_id=tender.pk, index=0, done=True)
    assert all(d["done"] for d in tender.documents)
    with pytest.raises(ValidationFailed) as exc:  # outcome before the deadline
        services.tender_update(actor=kam, tender_id=tender.pk, outcome="won")
    assert ("outcome", "too_early") in codes(exc)
    past = _tender(
        kam,
        world.hospital,
        publication_date=TODAY - dt.timedelta(days=90),
        submission_deadline=TODAY - dt.timedelta(days=30),
    )
    with pytest.raises(ValidationFailed) as exc:
        services.tender_update(actor=kam, tender_id=past.pk, outcome="lost")
    assert ("loss_reason", "required") in codes(exc)
    past = services.tender_update(actor=kam, tender_id=past.pk, outcome="lost", loss_reason="price")
    assert past.outcome == "lost"
    assert [t.pk for t in selectors.tender_list(actor=kam, account_id=world.idn.pk, when="upcoming")] == [tender.pk]
    assert [t.pk for t in selectors.tender_list(actor=kam, account_id=world.idn.pk, when="past")] == [past.pk]


def test_bid_assessment_and_the_leads_decision(world: Any, risk_factors: Any) -> None:
    kam, lead = world.users["kam"], world.users["lead"]
    tender = _tender(kam, world.idn)
    scores = {
        "price_position": 4,
        "clinical_differentiation": 5,
        "supply_security": 4,
        "evaluator_relationship": 3,
        "contract_terms": 4,
    }
    with pytest.raises(ValidationFailed) as exc:
        services.bid_assessment_save(actor=kam, tender_id=tender.pk, scores={**scores, "price_position": 6})
    assert ("scores.price_position", "out_of_range") in codes(exc)
    with pytest.raises(ValidationFailed) as exc:
        services.bid_assessment_save(actor=kam, tender_id=tender.pk, scores={"price_position": 3})
    assert ("scores.contract_terms", "required") in codes(exc)
    a = services.bid_assessment_save(actor=kam, tender_id=tender.pk, scores=scores)
    assert a.win_likelihood == Decimal("75.00") and a.recommendation == "go"
    with pytest.raises(PermissionDenied):
        services.bid_decision_confirm(actor=kam, tender_id=tender.pk, decision="go")
    with pytest.raises(ValidationFailed) as exc:
        services.bid_decision_confirm(actor=lead, tender_id=tender.pk, decision="no_go")
    assert ("note", "required") in codes(exc)
    a = services.bid_decision_confirm(actor=lead, tender_id=tender.pk, decision="go")
    assert a.decision == "go" and a.decided_by == lead
    # a red flag (a factor scored 1) means no go, whatever the average; new scores withdraw the decision
    a = services.bid_assessment_save(actor=kam, tender_id=tender.pk, scores={**scores, "supply_security": 1})
    assert a.recommendation == "no_go" and a.decision == "" and a.win_likelihood == Decimal("60.00")
    assert BidAssessment.objects.count() == 1


# --- P&L --------------------------------------------------------------------------------------------------------------
def test_pnl_rolls_up_the_hierarchy(world: Any, portfolio: Any) -> None:
    kam = world.users["kam"]
    add_sales(world.hospital, portfolio.cardio, 3, gross=1000)
    add_sales(world.department, portfolio.onco, 2, gross=2000)
    add_cost(world.idn, 3, amount=100)
    add_sales(world.other_account, portfolio.cardio, 3, gross=50_000)
    [pnl] = selectors.account_pnl(actor=kam, account_id=world.idn.pk, start=month(-5), end=TODAY, by_child=True)
    assert pnl.total.gross_sales == Decimal("7000")
    assert pnl.total.net_sales == Decimal("7000") - Decimal("700") - Decimal("350")
    assert pnl.total.cogs == Decimal("1400") and pnl.total.cost_to_serve == Decimal("300")
    assert pnl.total.contribution == Decimal("5950") - Decimal("1400") - Decimal("300")
    assert len(pnl.months) == 6 and pnl.months[-1].gross_sales == Decimal("3000")
    children = {acc: p for acc, _name, p in pnl.by_child}
    assert children[world.hospital.pk].gross_sales == Decimal("7000")
    assert children[world.idn.pk].cost_to_serve == Decimal("300")
    with pytest.raises(PermissionDenied):
        selectors.account_pnl(actor=world.users["msl"], account_id=world.idn.pk)


# --- sales import -----------------------------------------------------------------------------------------------------
HEADER = "account,product,period,quantity,gross_sales,discounts,rebates,cogs,currency\n"


def _run(actor: Any, content: bytes, *, name: str = "sales.csv", dry_run: bool) -> tuple[SalesImport, Job]:
    imp = services.sales_import_upload(actor=actor, filename=name, data=content)
    imp = services.sales_import_start(actor=actor, import_id=imp.pk, dry_run=dry_run)
    assert imp.job is not None
    job = job_execute(job_id=imp.job.pk)
    imp.refresh_from_db()
    return imp, job


def test_sales_import_dry_run_then_import(world: Any, portfolio: Any) -> None:
    kam = world.users["kam"]
    f.AccountFactory  # noqa: B018  (factories loaded)
    world.hospital.ccn = "330101"
    world.hospital.save()
    body = HEADER + (
        f"{world.idn.pk},Cardivance,2026-01,10,1000.00,100,50,200,USD\n"
        f"330101,70999-201-10,2026-02-15,5,2500.5,,,,\n"
        f" {world.department.pk} , cardivance ,2026-03,1,300,0,0,0,usd\n"
    )
    imp, job = _run(kam, body.encode(), dry_run=True)
    assert job.status == "done", job.error
    assert imp.status == ImportStatus.CHECKED and imp.rows == 3 and not SalesLine.objects.exists()
    [totals] = imp.preview["totals"]
    assert totals["gross_sales"] == "3800.50" and totals["accounts"] == 3
    assert imp.preview["first_lines"][1]["account"] == "Beacon General Hospital"
    imp = services.sales_import_start(actor=kam, import_id=imp.pk, dry_run=False)
    job = job_execute(job_id=imp.job.pk)  # type: ignore[union-attr]
    assert job.status == "done", job.error
    imp.refresh_from_db()
    assert imp.status == ImportStatus.IMPORTED and SalesLine.objects.filter(batch=imp).count() == 3
    line = SalesLine.objects.get(account=world.hospital)
    assert (
        line.period == dt.date(2026, 2, 1) and line.gross_sales == Decimal("2500.50") and line.product == portfolio.onco
    )
    assert job.summary["rows"] == 3
    services.sales_import_undo(actor=kam, import_id=imp.pk)
    assert not SalesLine.objects.exists()


@pytest.mark.parametrize(
    ("line", "field", "text"),
    [
        ("{acc},Cardivance,2026-01,1,100,0,0,0,XYZ", "currency", "unknown currency “XYZ”"),
        ("{acc},Cardivance,2026-13,1,100,0,0,0,USD", "period", "not a month"),
        ("{acc},Nothing,2026-01,1,100,0,0,0,USD", "product", "no product “Nothing”"),
        ("{other},Cardivance,2026-01,1,100,0,0,0,USD", "account", "that you may see"),
        ('{acc},Cardivance,2026-01,1,"1,000",0,0,0,USD', "gross_sales", "not an amount"),
        ("{acc},Cardivance,2026-01,1,100,-5,0,0,USD", "discounts", "not an amount"),
        ("{acc},Cardivance,2026-01,1,100.125,0,0,0,USD", "gross_sales", "not an amount"),
        ("{acc},Cardivance,2026-01,1,NaN,0,0,0,USD", "gross_sales", "not an amount"),
        ("{acc},Cardivance,2026-01,1,,0,0,0,USD", "gross_sales", "not an amount"),
        ("{acc},Cardivance,2026-01,1,123456789012345,0,0,0,USD", "gross_sales", "not an amount"),
        ("{acc},Cardivance,2026-01,1,100,0,0,Infinity,USD", "cogs", "not an amount"),
        ("{acc},Cardivance,2026-01,1x,100,0,0,0,USD", "quantity", "not a quantity"),
        ("{acc},Cardivance,2026-02-30,1,100,0,0,0,USD", "period", "not a month"),
        ("{acc},Cardivance,,1,100,0,0,0,USD", "period", "not a month"),
    ],
)
def test_a_bad_row_refuses_the_whole_file(world: Any, portfolio: Any, line: str, field: str, text: str) -> None:
    kam = world.users["kam"]
    good = f"{world.idn.pk},Cardivance,2026-01,1,100,0,0,0,USD\n"
    bad = line.format(acc=world.idn.pk, other=world.other_account.pk)
    imp, job = _run(kam, (HEADER + good + good + bad + "\n" + good).encode(), dry_run=False)
    assert job.status == "failed"
    assert "Row 4" in job.error and text in job.error
    assert imp.status == ImportStatus.INVALID and imp.errors[0]["row"] == 4 and imp.errors[0]["field"] == field
    assert not SalesLine.objects.exists()


def test_many_bad_rows_list_the_first_hundred_in_file_order(world: Any, portfolio: Any) -> None:
    kam = world.users["kam"]
    good = f"{world.idn.pk},Cardivance,2026-01, -2 , 100.5 ,,0.10,0,eur\n"  # spaces, negative quantity: fine
    lines = [good if i % 3 else f"{world.idn.pk},Cardivance,2026-01,1,100,0,0,0,ZZZ\n" for i in range(450)]
    lines[7] = f"{world.idn.pk},Nothing,2026-99,1,x,0,0,0,ZZZ\n"  # several bad fields: the first one is named
    imp, job = _run(kam, (HEADER + "".join(lines)).encode(), dry_run=True)
    assert job.status == "failed" and "151 of 450 lines are wrong" in job.error and "Row 2, currency" in job.error
    assert len(imp.errors) == 100 and [e["row"] for e in imp.errors] == sorted(e["row"] for e in imp.errors)
    nothing = "no product “Nothing” (use the brand name or the NDC)"
    assert {"row": 9, "field": "product", "message": nothing} in imp.errors
    imp, job = _run(kam, (HEADER + good * 3).encode(), dry_run=False)
    assert job.status == "done", job.error
    line = SalesLine.objects.filter(batch=imp).first()
    assert line is not None and line.quantity == Decimal("-2") and line.currency == "EUR" and line.discounts == 0
    assert line.gross_sales == Decimal("100.50") and line.rebates == Decimal("0.10")


def test_bad_header_and_unreadable_lines(world: Any, portfolio: Any) -> None:
    kam = world.users["kam"]
    _imp, job = _run(kam, b"account,product,colour\n1,2,3\n", dry_run=True)
    assert (
        job.status == "failed"
        and "colour" in job.error
        and "missing column(s): period (YYYY-MM), gross sales" in job.error
    )
    _imp, job = _run(
        kam, (HEADER + f"{world.idn.pk},Cardivance,2026-01,1,100,0,0,0,USD,extra\n").encode(), dry_run=True
    )
    assert job.status == "failed" and "Row 2" in job.error
    assert not SalesLine.objects.exists()


def test_xlsx_import(world: Any, portfolio: Any) -> None:
    from openkam.core.documents import Sheet, xlsx_workbook

    kam = world.users["kam"]
    data = xlsx_workbook(
        [
            Sheet(
                "Sales",
                ["Account", "Product", "Month", "Gross sales", "Currency"],
                [
                    [world.idn.pk, "Onkelara", dt.date(2026, 4, 1), 1234.5, "EUR"],
                    [world.hospital.pk, "Cardivance", "2026-05", 99, "EUR"],
                ],
            )
        ]
    )
    _imp, job = _run(kam, data, name="sales.xlsx", dry_run=False)
    assert job.status == "done", job.error
    assert sorted(SalesLine.objects.values_list("gross_sales", flat=True)) == [Decimal("99.00"), Decimal("1234.50")]
    assert set(SalesLine.objects.values_list("currency", flat=True)) == {"EUR"}
    _ = io  # keep the import list short


def test_medical_and_compliance_cannot_import(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.sales_import_upload(actor=world.users["msl"], filename="s.csv", data=b"x")
    with pytest.raises(PermissionDenied):
        services.sales_import_upload(actor=world.users["compliance"], filename="s.csv", data=b"x")
