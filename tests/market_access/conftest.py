"""Market-access fixtures: products, a formulary history on the shared ``world`` tree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from openkam.market_access import services
from openkam.market_access.services import StatusInput
from tests import factories as f

TODAY = dt.date.today()


@dataclass
class Formulary:
    world: Any
    p1: Any
    p2: Any
    committee: Any


def record(actor: Any, account: Any, product: Any, status: str, start: dt.date, **kw: Any) -> Any:
    return services.formulary_status_record(
        actor=actor,
        account_id=account.pk,
        data=StatusInput(product_id=product.pk, status=status, effective_from=start, **kw),
    )


@pytest.fixture
def products(db: Any) -> tuple[Any, Any]:
    ta = f.TherapeuticAreaFactory(code="cardio", name="Cardiology")
    return (
        f.ProductFactory(name="Cardiora", generic_name="doxepin", therapeutic_area=ta),
        f.ProductFactory(name="Renvia", generic_name="renvimab", therapeutic_area=ta),
    )


@pytest.fixture
def formulary(world: Any, products: tuple[Any, Any]) -> Formulary:
    """The IDN's system P&T lists Cardiora for all members (restricted since 200 days, on formulary since 20 days);
    Beacon General has its own record for Renvia (non-formulary)."""
    p1, p2 = products
    access = world.users["access"]
    committee = f.CommitteeFactory(account=world.idn, name="Beacon System P&T")
    record(access, world.idn, p1, "restricted", TODAY - dt.timedelta(days=200), scope="members",
           committee_id=committee.pk, restriction_kinds=["prior_authorisation"])  # fmt: skip
    record(access, world.idn, p1, "on_formulary", TODAY - dt.timedelta(days=20), scope="members",
           committee_id=committee.pk, next_review=TODAY + dt.timedelta(days=30))  # fmt: skip
    record(access, world.hospital, p2, "non_formulary", TODAY - dt.timedelta(days=60))
    return Formulary(world, p1, p2, committee)
