"""Commercial fixtures: a small portfolio (two products, three approved indications and one off-label) on top of the
shared ``world`` (IDN → two hospitals → a department, on kam's book; Harbor on kam2's)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from openkam.commercial.models import CostToServe, RiskFactor, SalesLine
from tests import factories as f


@dataclass
class Portfolio:
    cardio: Any
    onco: Any
    hf: Any  # approved, cardio
    lipid: Any  # approved, cardio
    lung: Any  # approved, onco
    off_label: Any  # not approved, cardio


@pytest.fixture
def portfolio(db: Any) -> Portfolio:
    cardio = f.ProductFactory(name="Cardivance", ndc="70999-101-30")
    onco = f.ProductFactory(name="Onkelara", ndc="70999-201-10")
    return Portfolio(
        cardio,
        onco,
        f.IndicationFactory(product=cardio, name="Heart failure", approved=True),
        f.IndicationFactory(product=cardio, name="Hypercholesterolaemia", approved=True),
        f.IndicationFactory(product=onco, name="Lung cancer", approved=True),
        f.IndicationFactory(product=cardio, name="HFpEF", approved=False),
    )


@pytest.fixture
def risk_factors(db: Any) -> list[RiskFactor]:
    """The default checklist (a transactional test flushes what the migration installed)."""
    from openkam.commercial.defaults import DEFAULT_RISK_FACTORS

    out = []
    for position, (code, name, weight, guidance) in enumerate(DEFAULT_RISK_FACTORS):
        factor, _ = RiskFactor.objects.get_or_create(
            code=code, defaults={"name": name, "weight": Decimal(weight), "guidance": guidance, "position": position}
        )
        out.append(factor)
    return out


def month(offset: int) -> dt.date:
    """The first day of the month ``offset`` months from this one."""
    d = dt.date.today().replace(day=1)
    step = 1 if offset > 0 else -1
    for _ in range(abs(offset)):
        d = (d + dt.timedelta(days=32)).replace(day=1) if step > 0 else (d - dt.timedelta(days=1)).replace(day=1)
    return d


def add_sales(account: Any, product: Any, months: int, gross: int = 1000, *, currency: str = "USD") -> None:
    SalesLine.objects.bulk_create(
        [
            SalesLine(
                account=account,
                product=product,
                period=month(-i),
                quantity=10,
                gross_sales=gross,
                discounts=gross // 10,
                rebates=gross // 20,
                cogs=gross // 5,
                currency=currency,
            )
            for i in range(months)
        ]
    )


def add_cost(account: Any, months: int, amount: int = 100) -> None:
    CostToServe.objects.bulk_create(
        [CostToServe(account=account, period=month(-i), category="team_time", amount=amount) for i in range(months)]
    )
