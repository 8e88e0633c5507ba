"""Formulary services and selectors: history as dated records, no overlaps, inheritance, access, wins/losses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from pghistory.models import Events

from openkam.core.errors import NotFound, PermissionDenied, ValidationFailed
from openkam.market_access import selectors, services
from openkam.market_access.models import FormularyStatus, FormularyTarget
from openkam.market_access.services import StatusInput
from tests import factories as f
from tests.market_access.conftest import TODAY, record

pytestmark = pytest.mark.django_db
D = dt.timedelta


def test_a_change_is_a_new_dated_record_and_closes_the_previous_period(formulary: Any) -> None:
    rows = list(
        FormularyStatus.objects.filter(account=formulary.world.idn, product=formulary.p1).order_by("effective_from")
    )
    assert [r.status for r in rows] == ["restricted", "on_formulary"]
    assert rows[0].effective_to == TODAY - D(days=21)  # closed the day before; its values unchanged
    assert rows[0].restriction_kinds == ["prior_authorisation"]
    assert rows[1].effective_to is None


def test_every_change_is_audited_with_actor_and_action(formulary: Any) -> None:
    ev = Events.objects.filter(pgh_model="market_access.FormularyStatusEvent").order_by("pgh_created_at")
    assert ev.count() == 4  # three inserts, one update (period closed)
    ctx = ev.last().pgh_context
    assert ctx["action"] == "market_access.formularystatus.record"
    assert ctx["username"] == "access"


def test_overlapping_period_is_refused_naming_the_field(formulary: Any) -> None:
    w = formulary.world
    with pytest.raises(ValidationFailed) as exc:
        # a closed past period [T-200, T-21] is overlapped by a record starting inside it
        record(w.users["access"], w.idn, formulary.p1, "removed", TODAY - D(days=100))
    assert exc.value.errors[0].field == "effective_from"
    assert exc.value.code == "overlapping_period"
    assert "overlap" in exc.value.message.lower()
    assert FormularyStatus.objects.filter(account=w.idn, product=formulary.p1).count() == 2  # nothing written
    with pytest.raises(ValidationFailed):  # a bounded period overlapping the open one
        record(w.users["access"], w.idn, formulary.p1, "removed", TODAY - D(days=300), effective_to=TODAY - D(days=150))


def test_database_refuses_overlap_even_without_the_service(formulary: Any) -> None:
    w = formulary.world
    with pytest.raises(IntegrityError), transaction.atomic():
        FormularyStatus.objects.create(account=w.idn, product=formulary.p1, status="removed",
                                       effective_from=TODAY - D(days=5))  # fmt: skip


def test_imported_values_live_beside_our_entries(formulary: Any) -> None:
    w = formulary.world
    services.formulary_status_record(
        actor=w.users["access"], account_id=w.idn.pk, source="imported",
        data=StatusInput(product_id=formulary.p1.pk, status="non_formulary", effective_from=TODAY - D(days=10)),
    )  # fmt: skip
    view = selectors.formulary_current(actor=w.users["kam"], account_ids=[w.idn.pk])[(w.idn.pk, formulary.p1.pk)]
    assert view.status == "on_formulary" and view.source == "entered"
    assert view.imported_status == "non_formulary"


def test_current_status_inherits_from_a_committee_covering_members(formulary: Any) -> None:
    w = formulary.world
    cur = selectors.formulary_current(actor=w.users["kam"], account_ids=[w.idn.pk, w.hospital.pk, w.department.pk,
                                                                          w.other_account.pk])  # fmt: skip
    inherited = cur[(w.department.pk, formulary.p1.pk)]
    assert inherited.status == "on_formulary" and inherited.inherited
    assert inherited.committee_name == "Beacon System P&T" and inherited.held_at_account_id == w.idn.pk
    assert cur[(w.hospital.pk, formulary.p2.pk)].status == "non_formulary"
    assert not cur[(w.hospital.pk, formulary.p2.pk)].inherited
    assert (w.idn.pk, formulary.p2.pk) not in cur  # an account-only record does not go up
    assert (w.other_account.pk, formulary.p1.pk) not in cur  # kam cannot see it (and it has nothing)
    # as of a past day
    past = selectors.formulary_current(actor=w.users["kam"], account_ids=[w.hospital.pk], on=TODAY - D(days=100))
    assert past[(w.hospital.pk, formulary.p1.pk)].status == "restricted"


def test_own_record_wins_over_inherited(formulary: Any) -> None:
    w = formulary.world
    record(w.users["access"], w.hospital2, formulary.p1, "under_review", TODAY - D(days=3))
    cur = selectors.formulary_current(actor=w.users["kam"], account_ids=[w.hospital2.pk], product_ids=[formulary.p1.pk])
    assert cur[(w.hospital2.pk, formulary.p1.pk)].status == "under_review"


def test_out_of_scope_accounts_are_left_out(formulary: Any) -> None:
    w = formulary.world
    assert selectors.formulary_current(actor=w.users["kam2"], account_ids=[w.idn.pk, w.hospital.pk]) == {}
    with pytest.raises(NotFound):
        record(w.users["access"], w.other_account, formulary.p1, "on_formulary", TODAY)


@pytest.mark.parametrize("who", ["kam", "lead", "msl", "compliance"])
def test_only_market_access_records_formulary(formulary: Any, who: str) -> None:
    w = formulary.world
    with pytest.raises(PermissionDenied):
        record(w.users[who], w.idn, formulary.p2, "on_formulary", TODAY)


def test_medical_reads_status_without_pricing(formulary: Any) -> None:
    w = formulary.world
    rec = record(w.users["access"], w.hospital2, formulary.p2, "on_formulary", TODAY - D(days=2),
                 net_price=Decimal("120.50"), currency="USD")  # fmt: skip
    kam_view = selectors.formulary_current(actor=w.users["kam"], account_ids=[w.hospital2.pk])[
        (w.hospital2.pk, formulary.p2.pk)
    ]
    msl_view = selectors.formulary_current(actor=w.users["msl"], account_ids=[w.hospital2.pk])[
        (w.hospital2.pk, formulary.p2.pk)
    ]
    assert kam_view.net_price == Decimal("120.50")
    assert msl_view.status == "on_formulary" and msl_view.net_price is None and msl_view.currency == ""
    assert selectors.formulary_status_get(actor=w.users["msl"], status_id=rec.pk).net_price is None


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"status": "restricted"}, "restriction_kinds"),
        ({"status": "on_formulary", "restriction_kinds": ["step_therapy"]}, "restriction_kinds"),
        ({"status": "bogus"}, "status"),
        ({"status": "on_formulary", "effective_to": TODAY - D(days=1)}, "effective_to"),
        ({"status": "on_formulary", "net_price": Decimal("5"), "currency": "XXX"}, "currency"),
        ({"status": "on_formulary", "scope": "planet"}, "scope"),
    ],
)
def test_bad_input_names_the_field(formulary: Any, kw: dict[str, Any], field: str) -> None:
    w = formulary.world
    with pytest.raises(ValidationFailed) as exc:
        services.formulary_status_record(
            actor=w.users["access"], account_id=w.hospital2.pk,
            data=StatusInput(product_id=formulary.p2.pk, effective_from=TODAY, **kw),
        )  # fmt: skip
    assert field in [e.field for e in exc.value.errors]


def test_committee_must_decide_for_the_account(formulary: Any) -> None:
    w = formulary.world
    elsewhere = f.CommitteeFactory(account=w.hospital2, name="North P&T")
    with pytest.raises(ValidationFailed) as exc:
        record(w.users["access"], w.hospital, formulary.p2, "on_formulary", TODAY, committee_id=elsewhere.pk)
    assert exc.value.errors[0].field == "committee_id"


def test_wins_and_losses(formulary: Any) -> None:
    w = formulary.world
    record(w.users["access"], w.hospital2, formulary.p2, "on_formulary", TODAY - D(days=80))
    record(w.users["access"], w.hospital2, formulary.p2, "removed", TODAY - D(days=5))
    accounts = selectors.dashboard_accounts(actor=w.users["lead"])
    changes, counts = selectors.formulary_changes(accounts=accounts, since=TODAY - D(days=90), until=TODAY)
    kinds = {(c.record.account_id, c.record.product_id, c.record.status): c.kind for c in changes}
    assert kinds[(w.idn.pk, formulary.p1.pk, "on_formulary")] == "win"  # restricted → on
    assert kinds[(w.hospital2.pk, formulary.p2.pk, "removed")] == "loss"
    assert kinds[(w.hospital2.pk, formulary.p2.pk, "on_formulary")] == "win"  # newly listed
    assert counts[("win", 30)] == 1 and counts[("loss", 30)] == 1 and counts[("win", 90)] == 2


def test_plan_target_gap(formulary: Any) -> None:
    w = formulary.world
    plan = f.PlanFactory(account=w.hospital, owner=w.users["kam"], status="active")
    services.formulary_target_set(actor=w.users["kam"], plan_id=plan.pk, product_id=formulary.p2.pk)
    services.formulary_target_set(actor=w.users["kam"], plan_id=plan.pk, product_id=formulary.p1.pk)
    gaps, n = selectors.target_gaps(actor=w.users["lead"], accounts=selectors.dashboard_accounts(actor=w.users["lead"]),
                                    on=TODAY)  # fmt: skip
    assert n == 1 and gaps[0].target.product == formulary.p2 and gaps[0].current.status == "non_formulary"
    d = selectors.formulary_dashboard(actor=w.users["lead"])  # the same gaps, counted in SQL with the distribution
    assert d.gap_count == 1 and d.gaps[0].target.pk == gaps[0].target.pk and d.gaps[0].current.status == "non_formulary"
    closed = f.PlanFactory(account=w.hospital2, owner=w.users["kam"], status="closed")
    FormularyTarget.objects.create(plan=closed, product=formulary.p2, target_status="on_formulary")
    assert selectors.formulary_dashboard(actor=w.users["lead"]).gap_count == 1  # closed plans want nothing
    with pytest.raises(PermissionDenied):
        services.formulary_target_set(actor=w.users["msl"], plan_id=plan.pk, product_id=formulary.p2.pk)


def test_protocol_with_products(formulary: Any) -> None:
    w = formulary.world
    p = services.protocol_create(actor=w.users["access"], account_id=w.idn.pk,
                                 data=services.ProtocolInput(name="Heart failure pathway", scope="members",
                                                             review_date=TODAY + D(days=40)))  # fmt: skip
    services.protocol_product_add(actor=w.users["access"], protocol_id=p.pk, product_id=formulary.p1.pk,
                                  line_of_therapy="second", preferred=True)  # fmt: skip
    with pytest.raises(ValidationFailed) as exc:
        services.protocol_product_add(actor=w.users["access"], protocol_id=p.pk, product_id=formulary.p1.pk,
                                      line_of_therapy="second")  # fmt: skip
    assert exc.value.errors[0].field == "product_id"
    af = selectors.account_formulary(actor=w.users["kam"], account_id=w.hospital.pk)
    assert [x.name for x in af.protocols] == ["Heart failure pathway"]  # covers members
    with pytest.raises(PermissionDenied):
        services.protocol_create(actor=w.users["kam"], account_id=w.idn.pk, data=services.ProtocolInput(name="X"))
