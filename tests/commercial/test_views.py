"""Commercial pages per role, the lazy panels, and constant query counts (1× and 10× data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openkam.commercial import services
from openkam.commercial.models import Opportunity, SalesImport
from tests import factories as f
from tests.commercial.conftest import add_cost, add_sales

TODAY = dt.date.today()


def _seed(world: Any, portfolio: Any, n: int) -> None:
    """n hospitals more under the IDN, each with a department, cells, opportunities, tenders and sales."""
    kam = world.users["kam"]
    from openkam.accounts import services as account_services

    admin = world.users["admin"]
    for i in range(n):
        h = account_services.account_create(actor=admin, name=f"Member {i:03d}", type="hospital", parent=world.idn)
        d = account_services.account_create(actor=admin, name="Oncology", type="department", parent=h)
        services.whitespace_cell_set(
            actor=kam,
            account_id=d.pk,
            indication_id=portfolio.lung.pk,
            status="used",
            potential_value=1000 + i,
            our_share=30,
            competitor="Rival",
        )
        services.opportunity_create(
            actor=kam,
            account_id=h.pk,
            name=f"Deal {i}",
            value=1000 + i,
            expected_close=TODAY + dt.timedelta(days=30 + i),
            stage="proposal",
            product_ids=[portfolio.cardio.pk, portfolio.onco.pk],
        )
        services.tender_create(
            actor=kam,
            account_id=h.pk,
            title=f"Tender {i}",
            publication_date=TODAY,
            submission_deadline=TODAY + dt.timedelta(days=10 + i),
            responsible_ids=[kam.pk],
            lots=[{"number": 1, "name": "Lot", "product_ids": [portfolio.onco.pk]}],
        )
        add_sales(h, portfolio.cardio, 6)
        add_sales(d, portfolio.onco, 6)
        add_cost(h, 6)


def _count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def test_pages_keep_a_constant_number_of_queries(world: Any, portfolio: Any, web: Any) -> None:
    client = web("kam")
    idn = world.idn.pk
    urls = [
        reverse("commercial:whitespace", args=[idn]),
        reverse("commercial:pipeline") + f"?account={idn}",
        reverse("commercial:pipeline"),
        reverse("commercial:tenders") + f"?account={idn}",
        reverse("commercial:account_pnl", args=[idn]),
        reverse("commercial:account_panel", args=[idn]),
    ]
    _seed(world, portfolio, 1)
    first = {u: _count(client, u) for u in urls}
    _seed(world, portfolio, 10)
    after = {u: _count(client, u) for u in urls}
    assert after == first


def test_pages_show_the_data(world: Any, portfolio: Any, web: Any) -> None:
    _seed(world, portfolio, 2)
    kam = web("kam")
    page = kam.get(reverse("commercial:whitespace", args=[world.idn.pk])).content.decode()
    assert "Member 000" in page and "Lung cancer" in page and 'data-status="used"' in page
    page = kam.get(reverse("commercial:pipeline") + f"?account={world.idn.pk}").content.decode()
    assert "Deal 1" in page and "forecast-chart" in page
    page = kam.get(reverse("commercial:tenders") + f"?account={world.idn.pk}").content.decode()
    assert "Tender 0" in page and "No bid/risk analysis yet" in page
    page = kam.get(reverse("commercial:account_pnl", args=[world.idn.pk])).content.decode()
    assert "Contribution" in page and "Member 001" in page
    panel = kam.get(reverse("commercial:account_panel", args=[world.idn.pk])).content.decode()
    assert "Last 12 months" in panel and "Tender 0" in panel


def test_medical_sees_no_money(world: Any, portfolio: Any, web: Any) -> None:
    _seed(world, portfolio, 1)
    msl = web("msl")
    panel = msl.get(reverse("commercial:account_panel", args=[world.idn.pk])).content.decode()
    assert 'data-testid="commercial-panel"' in panel and "panel-pnl" not in panel and "USD" not in panel
    assert msl.get(reverse("commercial:account_pnl", args=[world.idn.pk])).status_code == 403
    assert msl.get(reverse("commercial:sales_import")).status_code == 403
    page = msl.get(reverse("commercial:pipeline") + f"?account={world.idn.pk}").content.decode()
    assert "Deal 0" in page and "USD" not in page
    page = msl.get(reverse("commercial:whitespace", args=[world.idn.pk])).content.decode()
    assert "USD" not in page and "ws-convert" not in page
    opp = Opportunity.objects.first()
    assert opp is not None
    page = msl.get(reverse("commercial:opportunity", args=[opp.pk])).content.decode()
    assert "opportunity-readonly" in page and "1,000" not in page and "1000" not in page


def test_out_of_scope_is_404_and_panels_are_empty(world: Any, web: Any) -> None:
    kam = web("kam")
    other = world.other_account.pk
    assert kam.get(reverse("commercial:whitespace", args=[other])).status_code == 404
    assert kam.get(reverse("commercial:account_pnl", args=[other])).status_code == 404
    assert kam.get(reverse("commercial:account_panel", args=[other])).content == b""


def test_whitespace_cell_converts_with_htmx(world: Any, portfolio: Any, web: Any) -> None:
    kam = web("kam")
    url = reverse("commercial:whitespace_convert", args=[world.hospital.pk, portfolio.hf.pk])
    response = kam.post(url, {"grid": world.idn.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"opportunity created" in response.content
    opp = Opportunity.objects.get()
    assert opp.account == world.hospital and opp.indication == portfolio.hf
    again = kam.post(url, {"grid": world.idn.pk}, HTTP_HX_REQUEST="true")
    assert b"already an open opportunity" in again.content
    assert web("compliance").post(url, HTTP_HX_REQUEST="true").content.count(b"can read but not change") == 1


def test_forms_create_opportunity_tender_and_refuse_bad_input(world: Any, portfolio: Any, web: Any) -> None:
    kam = web("kam")
    url = reverse("commercial:opportunity_new") + f"?account={world.idn.pk}"
    bad = kam.post(
        url,
        {
            "name": "X",
            "value": "10",
            "currency": "USD",
            "stage": "qualified",
            "probability": "150",
            "expected_close": "2027-01-01",
        },
    )
    assert bad.status_code == 200 and b"Probability must be between 0 and 100" in bad.content
    assert not Opportunity.objects.exists()
    ok = kam.post(
        url,
        {
            "name": "X",
            "value": "10",
            "currency": "USD",
            "stage": "qualified",
            "probability": "",
            "expected_close": "2027-01-01",
            "products": [portfolio.cardio.pk],
        },
    )
    assert ok.status_code == 302 and Opportunity.objects.get().probability == 25
    url = reverse("commercial:tender_new") + f"?account={world.idn.pk}"
    data = {
        "title": "Cardio 2027",
        "tender_type": "open",
        "publication_date": "2026-12-01",
        "currency": "USD",
        "submission_deadline": "2026-11-01",
        "criteria": "Price: 70\nQuality: 30",
        "documents": "Declaration",
        "lots": "Heart: Cardivance",
    }
    bad = kam.post(url, data)
    assert b"before the publication date" in bad.content
    ok = kam.post(url, {**data, "submission_deadline": "2027-01-15"})
    assert ok.status_code == 302
    page = kam.get(ok["Location"]).content.decode()
    assert "Cardio 2027" in page and "Price" in page and "Declaration" in page and "Cardivance" in page


def test_sales_import_page_flow(world: Any, portfolio: Any, web: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from openkam.core.services import job_execute

    kam = web("kam")
    content = f"account,product,period,gross_sales\n{world.idn.pk},Cardivance,2026-01,100\n".encode()
    response = kam.post(reverse("commercial:sales_import"), {"file": SimpleUploadedFile("s.csv", content)})
    assert response.status_code == 302
    imp = SalesImport.objects.get()
    assert imp.job is not None
    job_execute(job_id=imp.job.pk)
    page = kam.get(response["Location"]).content.decode()
    assert "import-preview" in page and "Import 1 line" in page
    f.AccountFactory  # noqa: B018
