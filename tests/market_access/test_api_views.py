"""API per role, pages, panels, and constant query counts of the dashboard and the account panel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openkam.accounts import services as account_services
from tests import factories as f
from tests.market_access.conftest import TODAY, record

pytestmark = pytest.mark.django_db
D = dt.timedelta


def _payload(w: Any, product: Any, **kw: Any) -> dict[str, Any]:
    return {"account_id": w.hospital2.pk, "product_id": product.pk, "status": "on_formulary",
            "effective_from": TODAY.isoformat(), **kw}  # fmt: skip


def test_api_record_and_read_per_role(formulary: Any, api: Any) -> None:
    w, p2 = formulary.world, formulary.p2
    status, body = api("access").post(
        "market-access/formulary/statuses", _payload(w, p2, net_price="99.00", currency="USD")
    )
    assert status == 201, body
    sid = body["id"]
    for who in ("kam", "lead", "msl", "compliance"):
        assert api(who).post("market-access/formulary/statuses", _payload(w, p2))[0] in (403, 404)
    assert api("kam").get(f"market-access/formulary/statuses/{sid}")[1]["net_price"] == "99.00"
    assert api("msl").get(f"market-access/formulary/statuses/{sid}")[1]["net_price"] is None
    assert api("kam2").get(f"market-access/formulary/statuses/{sid}")[0] == 404
    status, body = api("kam").get(
        f"market-access/formulary/current?account_ids={w.hospital2.pk}&account_ids={w.department.pk}"
    )
    assert status == 200
    got = {(r["account_id"], r["product_id"]): r for r in body}
    assert got[(w.hospital2.pk, p2.pk)]["status"] == "on_formulary"
    assert got[(w.department.pk, formulary.p1.pk)]["inherited"] is True
    assert api("kam2").get(f"market-access/formulary/current?account_ids={w.hospital2.pk}")[1] == []


def test_api_overlap_names_the_field(formulary: Any, api: Any) -> None:
    w = formulary.world
    status, body = api("access").post("market-access/formulary/statuses", {
        "account_id": w.idn.pk, "product_id": formulary.p1.pk, "status": "removed",
        "effective_from": (TODAY - D(days=100)).isoformat()})  # fmt: skip
    assert status == 422
    assert body["errors"][0]["field"] == "effective_from" and body["code"] == "overlapping_period"
    status, body = api("access").post("market-access/formulary/statuses", _payload(w, formulary.p2, currency="ZZZ",
                                                                                   net_price="5"))  # fmt: skip
    assert status == 422 and body["errors"][0]["field"] == "currency"


def test_api_dashboard_history_protocols_targets(formulary: Any, api: Any) -> None:
    w = formulary.world
    status, body = api("lead").get("market-access/formulary/dashboard")
    assert status == 200 and body["wins_30"] == 1 and body["account_count"] == 4
    cardiora = next(p for p in body["products"] if p["product_id"] == formulary.p1.pk)
    assert cardiora["counts"]["on_formulary"] == 3  # the IDN and both hospitals (inherited)
    status, body = api("kam").get(f"market-access/formulary/statuses?account_id={w.idn.pk}")
    assert status == 200 and body["count"] == 2
    status, body = api("access").post("market-access/protocols", {"account_id": w.idn.pk, "name": "HF pathway"})
    assert status == 201
    pid = body["id"]
    status, body = api("access").post(f"market-access/protocols/{pid}/products",
                                      {"product_id": formulary.p1.pk, "line_of_therapy": "first"})  # fmt: skip
    assert status == 201 and body["products"][0]["line_of_therapy"] == "first"
    assert api("kam").post("market-access/protocols", {"account_id": w.idn.pk, "name": "X"})[0] == 403
    plan = f.PlanFactory(account=w.hospital, owner=w.users["kam"], status="active")
    status, body = api("kam").put(f"market-access/plans/{plan.pk}/targets", {"product_id": formulary.p2.pk})
    assert status == 200 and body["met"] is False and body["current_status"] == "non_formulary"
    assert api("msl").put(f"market-access/plans/{plan.pk}/targets", {"product_id": formulary.p2.pk})[0] == 403
    assert api("kam2").get(f"market-access/plans/{plan.pk}/targets")[0] == 404


def test_pages_and_panels(formulary: Any, web: Any) -> None:
    w = formulary.world
    plan = f.PlanFactory(account=w.hospital, owner=w.users["kam"], status="active")
    for url in ["/market-access/", f"/market-access/accounts/{w.idn.pk}/", f"/market-access/accounts/{w.idn.pk}/panel/",
                f"/market-access/plans/{plan.pk}/panel/"]:  # fmt: skip
        resp = web("kam").get(url)
        assert resp.status_code == 200, url
        assert "Cardiora" in resp.content.decode()
    assert web("kam2").get(f"/market-access/accounts/{w.idn.pk}/").status_code == 404
    assert web("kam2").get(f"/market-access/accounts/{w.idn.pk}/panel/").content == b""
    assert web("kam").get(f"/market-access/accounts/{w.idn.pk}/record/").status_code == 302  # KAMs read only
    resp = web("access").post(f"/market-access/accounts/{w.idn.pk}/record/", {
        "product": formulary.p1.pk, "status": "removed", "effective_from": (TODAY - D(days=100)).isoformat(),
        "scope": "account"})  # fmt: skip
    assert resp.status_code == 200 and "may not overlap" in resp.content.decode()
    msl_page = web("msl").get(f"/market-access/accounts/{w.idn.pk}/").content.decode()
    assert "Net price" not in msl_page and "Cardiora" in msl_page


def _grow(w: Any, formulary: Any, n: int) -> None:
    admin, access = w.users["admin"], w.users["access"]
    for i in range(n):
        h = account_services.account_create(actor=admin, name=f"Member {i}", type="hospital", parent=w.idn)
        record(access, h, formulary.p2, ["on_formulary", "restricted", "removed"][i % 3], TODAY - D(days=10 + i),
               restriction_kinds=["step_therapy"] if i % 3 == 1 else [])  # fmt: skip
        f.CommitteeFactory(account=h, next_meeting=TODAY + D(days=5))
        plan = f.PlanFactory(account=h, owner=w.users["kam"], status="active")
        from openkam.market_access import services

        services.formulary_target_set(actor=w.users["kam"], plan_id=plan.pk, product_id=formulary.p2.pk)


def _count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/market-access/", "/market-access/accounts/{idn}/panel/",
                                 "/api/v1/market-access/formulary/dashboard"])  # fmt: skip
def test_query_count_does_not_grow_with_data(formulary: Any, web: Any, url: str) -> None:
    w = formulary.world
    client = web("lead")
    url = url.format(idn=w.idn.pk)
    _grow(w, formulary, 2)
    small = _count(client, url)
    _grow(w, formulary, 20)
    assert _count(client, url) == small


def test_protocol_edit_and_retire_pages(formulary: Any, web: Any, api: Any) -> None:
    from openkam.market_access import services
    from openkam.market_access.models import Protocol

    w = formulary.world
    p = services.protocol_create(actor=w.users["access"], account_id=w.idn.pk,
                                 data=services.ProtocolInput(name="HF pathway", scope="members"))  # fmt: skip
    url = f"/market-access/protocols/{p.pk}/edit/"
    assert web("kam").get(url).status_code == 302  # read only: back to the protocol
    assert web("kam2").get(url).status_code == 404
    client = web("access")
    form = {"name": "Heart failure pathway 2026", "kind": "pathway", "status": "active", "scope": "members",
            "effective_from": TODAY.isoformat(), "review_date": (TODAY - D(days=1)).isoformat()}  # fmt: skip
    resp = client.post(url, form)
    assert resp.status_code == 200 and "before the protocol starts" in resp.content.decode()  # nothing written
    assert Protocol.objects.get(pk=p.pk).name == "HF pathway"
    resp = client.post(url, {**form, "review_date": (TODAY + D(days=300)).isoformat(), "description": "GDMT first"})
    assert resp.status_code == 302
    p.refresh_from_db()
    assert (p.name, p.description, p.review_date) == ("Heart failure pathway 2026", "GDMT first", TODAY + D(days=300))
    actions = [e.pgh_context.metadata["action"] for e in Protocol.pgh_event_model.objects.filter(pgh_obj_id=p.pk)
               .select_related("pgh_context").order_by("pgh_id") if e.pgh_context]  # type: ignore[attr-defined]  # fmt: skip
    assert actions[-1] == "market_access.protocol.update"
    assert client.post(url, {"retire": "1", "reason": "replaced"}).status_code == 302
    p.refresh_from_db()
    assert p.status == "retired"
    last = Protocol.pgh_event_model.objects.filter(pgh_obj_id=p.pk).order_by("-pgh_id").first()  # type: ignore[attr-defined]
    assert last.pgh_context.metadata["action"] == "market_access.protocol.retire"
    assert last.pgh_context.metadata["reason"] == "replaced"
    assert 'data-testid="protocol-retired"' in client.get(f"/market-access/protocols/{p.pk}/").content.decode()
    assert api("access").post(f"market-access/protocols/{p.pk}/retire", {})[0] == 400  # already retired
    assert api("kam").post(f"market-access/protocols/{p.pk}/retire", {})[0] == 403
