"""Account reads. ``account_scope`` is THE definition of which accounts a user may see; every other
app restricts its rows through it (``account__in=account_scope(actor=...)``), in one SQL query.

A user sees: accounts on whose team they are (active membership), accounts they own, accounts in
the territories of their team — for a lead, also those of the people they manage — and every account
below those in the hierarchy. Compliance and admin see all accounts.
"""

from __future__ import annotations

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account, AccountTeamMember
from openkam.core.access import sees_all_accounts
from openkam.core.errors import NotFound
from openkam.core.models import Role, Territory, User


def _people(actor: User) -> QuerySet[User]:
    """The actor, plus the people they manage when they lead a team."""
    q = Q(pk=actor.pk)
    if actor.role == Role.LEAD:
        q |= Q(manager_id=actor.pk)
    return User.objects.filter(q).values("pk")  # type: ignore[return-value]


def _directly_assigned(actor: User) -> QuerySet[Account]:
    today = timezone.localdate()
    people = _people(actor)
    memberships = AccountTeamMember.objects.filter(user_id__in=people, start_date__lte=today).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)
    )
    territories = Territory.objects.filter(teams__members__in=people).values("pk")
    return Account.objects.filter(
        Q(pk__in=memberships.values("account_id")) | Q(owner_id__in=people) | Q(territory_id__in=territories)
    ).values("pk")  # type: ignore[return-value]


def account_scope(*, actor: User) -> QuerySet[Account]:
    """Every account the actor may see (a lazy queryset: use it as a subquery)."""
    if not actor.is_active:
        return Account.objects.none()
    if sees_all_accounts(actor):
        return Account.objects.all()
    direct = _directly_assigned(actor)
    return Account.objects.filter(Q(pk__in=direct) | Q(ancestors__overlap=ArraySubquery(direct)))


def account_get(*, actor: User, account_id: int) -> Account:
    """One visible account, or NotFound (out of scope looks exactly like missing)."""
    account = account_scope(actor=actor).select_related("parent", "owner", "territory").filter(pk=account_id).first()
    if account is None:
        raise NotFound(_("No such account."), code="account_not_found")
    return account
