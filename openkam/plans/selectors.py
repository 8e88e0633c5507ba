"""Plan reads, scoped to the actor's accounts (and, for tactics/actions, their classifications)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_scope
from openkam.core.models import User
from openkam.plans.models import AccountPlan


def plan_scope(*, actor: User) -> QuerySet[AccountPlan]:
    return AccountPlan.objects.filter(account__in=account_scope(actor=actor))


def plan_list(
    *,
    actor: User,
    account: Account | None = None,
    include_descendants: bool = False,
    statuses: Iterable[str] | None = None,
) -> QuerySet[AccountPlan]:
    """Visible plans, optionally of one account (and the accounts below it), optionally by status."""
    qs = plan_scope(actor=actor).select_related("account", "owner")
    if account is not None:
        where = Q(account_id=account.pk)
        if include_descendants:
            where |= Q(account__ancestors__contains=[account.pk])
        qs = qs.filter(where)
    if statuses is not None:
        qs = qs.filter(status__in=list(statuses))
    return qs.order_by("-period_start", "name")
