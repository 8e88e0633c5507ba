"""Portfolio fixtures: a small catalogue (two therapeutic areas, three products, indications)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from openkam.portfolio import services


@dataclass
class Catalogue:
    cardio: Any
    onco: Any
    cardiovex: Any
    lipidra: Any
    tumorex: Any
    hf: Any


@pytest.fixture
def catalogue(personas: dict[str, Any]) -> Catalogue:
    admin = personas["admin"]
    cardio = services.ta_create(actor=admin, code="cardio", name="Cardiovascular")
    onco = services.ta_create(actor=admin, code="onco", name="Oncology", description="Solid tumours")
    cardiovex = services.product_create(
        actor=admin,
        name="Cardiovex",
        generic_name="vexalimab",
        therapeutic_area=cardio,
        status="marketed",
        launch_date=dt.date(2021, 3, 1),
        ndc="12345-678-90",
    )
    lipidra = services.product_create(
        actor=admin, name="Lipidra", generic_name="lipirocumab", therapeutic_area=cardio, status="pipeline"
    )
    tumorex = services.product_create(
        actor=admin, name="Tumorex", generic_name="tumorinib", therapeutic_area=onco, status="launch"
    )
    hf = services.indication_create(
        actor=admin,
        product=cardiovex,
        name="Chronic heart failure",
        icd10="i50.22",
        line_of_therapy="2L",
        approval_date=dt.date(2021, 2, 1),
    )
    services.indication_create(actor=admin, product=cardiovex, name="Post-MI remodelling", approved=False)
    services.indication_create(actor=admin, product=tumorex, name="NSCLC, EGFR+", icd10="C34.90", line_of_therapy="1L")
    return Catalogue(cardio, onco, cardiovex, lipidra, tumorex, hf)
