"""Stakeholder reads, always scoped: a person is visible when they hold (or held) a position at an
account the actor may see. Compliance and admin see everyone."""

from __future__ import annotations

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_scope
from openkam.core.access import sees_all_accounts
from openkam.core.errors import NotFound
from openkam.core.models import User
from openkam.stakeholders.models import Position, Stakeholder


def stakeholder_scope(*, actor: User) -> QuerySet[Stakeholder]:
    if sees_all_accounts(actor):
        return Stakeholder.objects.all()
    visible_positions = Position.objects.filter(stakeholder=OuterRef("pk"), account__in=account_scope(actor=actor))
    return Stakeholder.objects.filter(Exists(visible_positions))


def stakeholder_get(*, actor: User, stakeholder_id: int) -> Stakeholder:
    s = stakeholder_scope(actor=actor).select_related("specialty").filter(pk=stakeholder_id).first()
    if s is None:
        raise NotFound(_("No such stakeholder."), code="stakeholder_not_found")
    return s


def account_positions(
    *, actor: User, account: Account, include_descendants: bool = True, include_ended: bool = True
) -> QuerySet[Position]:
    """Positions at an account — and, with ``include_descendants``, at every account below it, annotated
    ``inherited`` (True when held at a child account) and ``is_current`` (not ended as of today).

    ``account`` must come from an access-checked selector; descendants of a visible account are visible.
    """
    today = timezone.localdate()
    where = Q(account_id=account.pk)
    if include_descendants:
        where |= Q(account__ancestors__contains=[account.pk])
    qs = Position.objects.filter(where)
    if not include_ended:
        qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    return (
        qs.select_related("stakeholder", "stakeholder__specialty", "account", "committee")
        .annotate(
            inherited=Case(
                When(account_id=account.pk, then=Value(False)), default=Value(True), output_field=BooleanField()
            ),
            is_current=Case(
                When(Q(valid_to__isnull=True) | Q(valid_to__gte=today), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .order_by("inherited", "-is_current", "account__name", "title")
    )
