"""The benchmark worlds assess every evaluable account (the issue's "re-score all 6,000 accounts"); the demo
keeps some accounts not yet assessed, as a team that has just started would have."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from openkam.accounts.models import Account
from openkam.demo.loader import build_world, wipe_domain_data
from openkam.demo.scales import SCALES
from openkam.evaluation.models import AccountTier, ScoringModel

pytestmark = pytest.mark.django_db


def _evaluable() -> Any:
    types = {t for m in ScoringModel.objects.filter(status="active") for t in m.account_types}
    return Account.objects.filter(type__in=types)


def test_the_demo_keeps_some_accounts_unassessed_a_benchmark_scale_assesses_all(db: Any) -> None:
    call_command("seed_demo", seed=7, scale="tiny", stdout=StringIO())
    unassessed = _evaluable().filter(tier__isnull=True)
    assert unassessed.exists() and set(unassessed.values_list("kam_level", flat=True)) == {"unassessed"}
    wipe_domain_data()
    build_world(scale=SCALES["tiny"].with_(name="tiny-bench"), seed=7, log=lambda _m: None)  # beyond the demo
    evaluable = _evaluable()
    assert evaluable.count() >= 20
    assert not evaluable.filter(tier__isnull=True).exists()
    assert not evaluable.filter(kam_level="unassessed").exists()
    tiers = list(AccountTier.objects.select_related("account"))
    assert len(tiers) == evaluable.count()
    assert all(t.account.kam_level == t.level for t in tiers)
    assert {t.level for t in tiers} >= {"strategic", "key", "basic", "declined"}
