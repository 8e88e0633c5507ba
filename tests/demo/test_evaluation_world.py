"""The demo world carries assessments: the matrix and the KAM analysis are meaningful on first run."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count

from openkam.accounts.models import Account
from openkam.core.models import User
from openkam.evaluation import selectors
from openkam.evaluation.models import AccountTier, Assessment, Score

pytestmark = pytest.mark.django_db


def test_demo_accounts_carry_assessments_that_explain_their_level(db: Any) -> None:
    call_command("seed_demo", seed=7, scale="tiny", stdout=StringIO())
    tiers = list(AccountTier.objects.select_related("account", "assessment"))
    assert len(tiers) >= 20
    for t in tiers:
        assert t.account.kam_level == t.level  # the level follows the score, or a lead's override with a reason
        assert t.assessment is not None and t.total == t.assessment.total
        assert not t.override_level or t.override_reason
        assert t.account.type in t.assessment.model.account_types
    assert {t.account.kam_level for t in tiers} >= {"strategic", "key", "basic", "declined"}
    per_account = Assessment.objects.values("account").annotate(n=Count("id"))
    assert max(r["n"] for r in per_account) >= 2  # a trend to show
    assert Score.objects.count() == 5 * Assessment.objects.count()
    assert not Assessment.objects.filter(tier="declined", rationale="").exists()
    assert Account.objects.filter(type="department", tier__isnull=False).count() == 0

    kam, lead = User.objects.get(username="kam"), User.objects.get(username="lead")
    assert len(selectors.portfolio_matrix(actor=kam).points) >= 3
    analysis = selectors.kam_analysis(actor=lead)
    assert analysis.total_accounts >= 5 and analysis.total_interactions > 0


def test_same_seed_same_assessments(db: Any) -> None:
    call_command("seed_demo", seed=7, scale="tiny", stdout=StringIO())
    first = list(Assessment.objects.order_by("id").values_list("account_id", "assessed_on", "total", "tier"))
    call_command("seed_demo", seed=7, scale="tiny", force=True, stdout=StringIO())
    again = list(Assessment.objects.order_by("id").values_list("account_id", "assessed_on", "total", "tier"))
    assert first == again
