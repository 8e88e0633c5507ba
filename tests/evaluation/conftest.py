"""Evaluation fixtures: the shipped scoring models (reinstalled after a flush) and scoring helpers."""

from __future__ import annotations

from typing import Any

import pytest

from openkam.evaluation import services
from openkam.evaluation.defaults import PARTNERSHIP, TRADE
from openkam.evaluation.models import ScoringModel


@pytest.fixture
def models(db: Any) -> dict[str, ScoringModel]:
    services.scoring_model_install_defaults()
    return {
        "partnership": ScoringModel.objects.get(code=PARTNERSHIP, status="active"),
        "trade": ScoringModel.objects.get(code=TRADE, status="active"),
    }


def all_scores(
    model: ScoringModel, value: int | dict[str, int], evidence: str = "Seen in the 2026 review"
) -> list[dict[str, Any]]:
    """One score row per criterion (same value for all, or by key)."""
    out = []
    for c in model.criteria.all():
        v = value[c.key] if isinstance(value, dict) else value
        out.append({"criterion_id": c.pk, "score": v, "evidence": evidence})
    return out
