"""Interaction reads: scoped to the actor's accounts AND to the classifications their role may see."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_scope
from openkam.activities.models import Interaction
from openkam.core.access import classification_q
from openkam.core.models import User


def interaction_scope(*, actor: User) -> QuerySet[Interaction]:
    return Interaction.objects.filter(classification_q(actor), account__in=account_scope(actor=actor))


def interaction_list(
    *,
    actor: User,
    account: Account | None = None,
    include_descendants: bool = False,
    since: datetime | None = None,
) -> QuerySet[Interaction]:
    """Visible interactions, newest first, optionally of one account (and below) and since a time."""
    qs = interaction_scope(actor=actor).select_related("account", "created_by")
    if account is not None:
        where = Q(account_id=account.pk)
        if include_descendants:
            where |= Q(account__ancestors__contains=[account.pk])
        qs = qs.filter(where)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    return qs.order_by("-occurred_at")
