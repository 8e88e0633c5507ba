"""Account reads. ``account_scope`` is THE definition of which accounts a user may see; every other
app restricts its rows through it (``account__in=account_scope(actor=...)``), in one SQL query.

A user sees: accounts on whose team they are (active membership), accounts they own, accounts in
the territories of their team — for a lead, also those of the people they manage — and every account
below those in the hierarchy. Compliance and admin see all accounts.

Because the scope is closed downwards, everything below a visible account is visible: rows "at this
account and below" of an account fetched through an access-checked selector (``account_get``) are
restricted with :func:`account_subtree` alone, never by re-applying the whole scope (ADR 0001 §3).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, TypeGuard

from django.contrib.postgres.fields import ArrayField
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account, AccountAffiliation, AccountTeamMember
from openkam.core.access import sees_all_accounts
from openkam.core.errors import NotFound
from openkam.core.models import Role, TeamTerritory, User

_MAX_ID = 2**63 - 1


def valid_id(value: object) -> TypeGuard[int]:
    """Whether ``value`` can be a primary key at all (an id beyond bigint is simply not found, not an error)."""
    return isinstance(value, int) and 0 < value <= _MAX_ID


def _directly_assigned(*, user_id: int, is_lead: bool, team_id: int | None, today: dt.date) -> QuerySet[Any]:
    """Ids of the accounts assigned to a user — and, for a lead, to the people they manage — directly:
    current team memberships, owned accounts, accounts in the territories of their teams. A UNION of
    index lookups (an OR of ``IN`` subqueries would scan every account). For anyone but a lead the
    people are just the user, so their id and team are literals (a smaller statement to build and plan).
    """
    if is_lead:
        people = User.objects.filter(Q(pk=user_id) | Q(manager_id=user_id)).order_by()
        member_q = Q(user_id__in=people.values("pk"))
        owner_q = Q(owner_id__in=people.values("pk"))
        team_q: Q | None = Q(team_id__in=people.values("team_id"))
    else:
        member_q = Q(user_id=user_id)
        owner_q = Q(owner_id=user_id)
        team_q = Q(team_id=team_id) if team_id is not None else None
    memberships = (
        AccountTeamMember.objects.filter(member_q, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .order_by()
        .values("account_id")
    )
    parts = [Account.objects.filter(owner_q).order_by().values("pk")]
    if team_q is not None:
        territories = TeamTerritory.objects.filter(team_q).values("territory_id")
        parts.append(Account.objects.filter(territory_id__in=territories).order_by().values("pk"))
    return memberships.union(*parts)


@lru_cache(maxsize=1024)
def _directly_assigned_sql(
    user_id: int, is_lead: bool, team_id: int | None, today: dt.date
) -> tuple[str, tuple[Any, ...]]:
    """:func:`_directly_assigned` compiled to SQL and parameters, once per user, team and day. Only the
    statement text is kept (a pure function of its arguments), never a result: every query that uses
    the scope asks the database again."""
    sql, params = _directly_assigned(
        user_id=user_id, is_lead=is_lead, team_id=team_id, today=today
    ).query.sql_with_params()
    return sql, tuple(params)


class _EqualsAny(Func):
    """``<expression> = ANY(<array>)``, a condition. Against an uncorrelated ``ARRAY(subquery)`` (computed
    once, an InitPlan, then a parameter) PostgreSQL uses it as an index condition, where ``IN (subquery)``
    OR-ed with another condition becomes a filter over every row."""

    output_field = BooleanField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        value, array = self.get_source_expressions()
        value_sql, value_params = compiler.compile(value)
        array_sql, array_params = compiler.compile(array)
        return f"{value_sql} = ANY({array_sql})", [*value_params, *array_params]


def account_scope(*, actor: User) -> QuerySet[Account]:
    """Every account the actor may see (a lazy queryset: use it as a subquery).

    SQL shape (measured on the large benchmark world, kam's 1,090-account book: 5 ms instead of 45 ms):
    ``id = ANY(ARRAY(direct)) OR ancestors && ARRAY(direct)``, where ``direct`` is the UNION of
    :func:`_directly_assigned`. Both arrays are computed once (InitPlans), so the two conditions are a
    BitmapOr of the primary-key index and the GIN index on ``ancestors``, never a scan of every account.
    """
    if not actor.is_active:
        return Account.objects.none()
    if sees_all_accounts(actor):
        return Account.objects.all()
    # The UNION goes in as compiled SQL: as an ORM subquery it would be cloned, relabelled and compiled again,
    # twice, at every use of the scope (several per page) — ~4 ms of Python each time.
    direct_sql, params = _directly_assigned_sql(actor.pk, actor.role == Role.LEAD, actor.team_id, timezone.localdate())
    direct = RawSQL(f"ARRAY({direct_sql})", params, output_field=ArrayField(BigIntegerField()))
    return Account.objects.filter(Q(_EqualsAny(F("pk"), direct)) | Q(ancestors__overlap=direct))


def account_subtree(*, account: Account | int, include_self: bool = True) -> QuerySet[Account]:
    """Ids of an account (unless ``include_self`` is False) and of every account below it, for
    ``account__in=account_subtree(...)``: a BitmapOr of the primary key and the GIN index on ``ancestors``.

    It checks no access: use it for an account fetched through an access-checked selector, whose subtree
    is visible by definition (the scope is closed downwards). Joining each row's account to test
    ``account_id = X OR account.ancestors @> [X]`` instead cannot use either index (a scan of the table).
    """
    pk = getattr(account, "pk", account)
    below = Q(ancestors__contains=[pk])
    return Account.objects.filter(Q(pk=pk) | below if include_self else below).order_by().values("pk")  # type: ignore[return-value]


def account_get(*, actor: User, account_id: int) -> Account:
    """One visible account, or NotFound (out of scope looks exactly like missing)."""
    if not valid_id(account_id):
        raise NotFound(_("No such account."), code="account_not_found")
    account = account_scope(actor=actor).select_related("parent", "owner", "territory").filter(pk=account_id).first()
    if account is None:
        raise NotFound(_("No such account."), code="account_not_found")
    return account


def _children_count() -> Any:
    """``children_count`` annotation: direct children of each row (one correlated count, no GROUP BY join)."""
    counts = (
        Account.objects.filter(parent_id=OuterRef("pk"))
        .order_by()
        .values("parent_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def _visible_parent_name(actor: User) -> Any:
    """The parent's name only when the actor may see the parent (a child's visibility never reveals it)."""
    visible = account_scope(actor=actor).filter(pk=OuterRef("parent_id")).values("name")[:1]
    return Subquery(visible)


def account_list(
    *,
    actor: User,
    q: str = "",
    type: str | None = None,
    kam_level: str | None = None,
    owner_id: int | None = None,
    country: str | None = None,
    status: str | None = None,
    parent_id: int | None = None,
) -> QuerySet[Account]:
    """Visible accounts, filtered, annotated ``children_count`` and ``parent_name`` (when visible).

    ``q`` matches name or city (contains) and CMS CCN or NPI (starts with).
    """
    qs = account_scope(actor=actor).select_related("owner")
    q = (q or "").replace("\x00", "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(city__icontains=q) | Q(ccn__istartswith=q) | Q(npi__startswith=q))
    if type:
        qs = qs.filter(type=type)
    if kam_level:
        qs = qs.filter(kam_level=kam_level)
    if owner_id:
        qs = qs.filter(owner_id=owner_id) if valid_id(owner_id) else qs.none()
    if country:
        qs = qs.filter(country=country.replace("\x00", "").upper())
    if status:
        qs = qs.filter(status=status)
    if parent_id:
        qs = qs.filter(parent_id=parent_id) if valid_id(parent_id) else qs.none()
    return qs.annotate(children_count=_children_count(), parent_name=_visible_parent_name(actor)).order_by("name", "pk")


def account_countries(*, actor: User) -> list[str]:
    """The distinct countries of the visible accounts (for a filter)."""
    return list(account_scope(actor=actor).order_by("country").values_list("country", flat=True).distinct())


def account_ancestors(*, actor: User, account: Account) -> list[Account]:
    """The visible accounts above ``account``, root first (one query). Invisible ancestors are left out."""
    if not account.ancestors:
        return []
    rows = {a.pk: a for a in account_scope(actor=actor).filter(pk__in=account.ancestors).only("pk", "name", "type")}
    return [rows[pk] for pk in account.ancestors if pk in rows]


def account_children(*, actor: User, account: Account) -> QuerySet[Account]:
    """The direct children of a visible account (visible too: everything below a visible account is), by
    name, with the columns a row of the hierarchy shows (name, type, status, KAM level: reading another
    field costs a query per row). Roll-ups per child come from :func:`account_child_rollup`."""
    return (
        Account.objects.filter(parent_id=account.pk).only("name", "type", "status", "kam_level").order_by("name", "pk")
    )


def _child_rollup_query(
    *, account: Account, rows: QuerySet[Any], account_field: str = "account", count: str = "pk"
) -> QuerySet[Any]:
    """The grouped query of :func:`account_child_rollup`: ``(_child, _n)`` rows."""
    prefix = f"{account_field}__" if account_field else ""
    child_index = len(account.ancestors) + 1  # where a direct child sits in a descendant's ``ancestors``
    child = Case(
        When(**{f"{prefix}parent_id": account.pk}, then=F(f"{prefix}id")),
        default=F(f"{prefix}ancestors__{child_index}"),
        output_field=BigIntegerField(),
    )
    return (
        rows.filter(**{f"{prefix}ancestors__contains": [account.pk]})
        .order_by()
        .annotate(_child=child)
        .values("_child")
        .annotate(_n=Count(count, distinct=True))
    )


def account_child_rollup(
    *, account: Account, rows: QuerySet[Any], account_field: str = "account", count: str = "pk"
) -> dict[int, int]:
    """Roll rows held anywhere below ``account`` up to its direct children, in ONE grouped query.

    ``rows`` is any (already access-restricted) queryset whose ``account_field`` points to an Account
    (``""`` when the rows are accounts); returns ``{child_id: number of distinct <count>}`` counting the
    rows at the child itself and everywhere below it. Used for "stakeholders / open plans per child".
    """
    grouped = _child_rollup_query(account=account, rows=rows, account_field=account_field, count=count)
    return dict(grouped.values_list("_child", "_n"))


def account_child_rollups(
    *, account: Account, descendants: bool = True, **rollups: tuple[QuerySet[Any], str]
) -> dict[str, dict[int, int]]:
    """Several :func:`account_child_rollup` figures: ``rollups`` maps a name to ``(rows, count)`` — rows
    pointing to an Account through ``account``, counting distinct ``count`` — and, with ``descendants``,
    ``"descendants"`` is the number of accounts below each child (not counting the child itself). Returns
    ``{name: {child_id: n}}``, one grouped query per figure.

    Not one ``UNION ALL`` statement: its summed cost crosses PostgreSQL's threshold for a parallel plan, and
    starting the workers cost 10–40 ms on a busy two-core machine (large benchmark world), where the three
    small statements take 1–3 ms each."""
    out: dict[str, dict[int, int]] = {}
    if descendants:
        below_children = Account.objects.filter(depth__gt=len(account.ancestors) + 1)
        out["descendants"] = account_child_rollup(account=account, rows=below_children, account_field="")
    for name, (rows, count) in rollups.items():
        out[name] = account_child_rollup(account=account, rows=rows, count=count)
    return out


def account_descendant_counts(*, account: Account) -> dict[int, int]:
    """``{child_id: number of accounts below that child}`` for each direct child (one query)."""
    return account_child_rollups(account=account)["descendants"]


def _is_current() -> Case:
    today = timezone.localdate()
    return Case(
        When(
            (Q(start_date__isnull=True) | Q(start_date__lte=today))
            & (Q(end_date__isnull=True) | Q(end_date__gte=today)),
            then=Value(True),
        ),
        default=Value(False),
        output_field=BooleanField(),
    )


def account_team(*, actor: User, account: Account, include_ended: bool = True) -> QuerySet[AccountTeamMember]:
    """The team of a visible account, current members first, annotated ``is_current``."""
    qs = AccountTeamMember.objects.filter(account_id=account.pk).select_related("user")
    qs = qs.annotate(is_current=_is_current())
    if not include_ended:
        qs = qs.filter(is_current=True)
    return qs.order_by("-is_current", "start_date", "user__last_name", "pk")


def account_team_inherited(*, actor: User, account: Account) -> QuerySet[AccountTeamMember]:
    """Current members of the teams of the (visible) accounts above ``account``: the people who cover it
    through a parent, nearest parent first, in one query."""
    if not account.ancestors:
        return AccountTeamMember.objects.none()
    return (
        AccountTeamMember.objects.filter(account_id__in=account.ancestors, account__in=account_scope(actor=actor))
        .annotate(is_current=_is_current())
        .filter(is_current=True)
        .select_related("user", "account")
        .order_by("-account__depth", "start_date", "pk")
    )


def account_team_member_get(*, actor: User, member_id: int, account_id: int | None = None) -> AccountTeamMember:
    """One team membership of a visible account, or NotFound."""
    if not valid_id(member_id):
        raise NotFound(_("No such team member."), code="team_member_not_found")
    qs = AccountTeamMember.objects.filter(pk=member_id, account__in=account_scope(actor=actor))
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    member = qs.select_related("account", "user").annotate(is_current=_is_current()).first()
    if member is None:
        raise NotFound(_("No such team member."), code="team_member_not_found")
    return member


def account_affiliations(*, actor: User, account: Account, include_ended: bool = True) -> QuerySet[AccountAffiliation]:
    """Affiliations of a visible account in both directions, annotated ``is_current``, ``outgoing``
    (the account is ``from_account``) and ``other_visible`` (the actor may open the other account)."""
    scope = account_scope(actor=actor)
    qs = (
        AccountAffiliation.objects.filter(Q(from_account_id=account.pk) | Q(to_account_id=account.pk))
        .select_related("from_account", "to_account")
        .annotate(
            is_current=_is_current(),
            outgoing=Case(
                When(from_account_id=account.pk, then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
        )
    )
    other = Case(When(from_account_id=account.pk, then=F("to_account_id")), default=F("from_account_id"))
    qs = qs.annotate(other_id=other, other_visible=Exists(scope.filter(pk=OuterRef("other_id"))))
    if not include_ended:
        qs = qs.filter(is_current=True)
    return qs.order_by("-is_current", "type", "pk")


def affiliation_get(*, actor: User, affiliation_id: int, account_id: int | None = None) -> AccountAffiliation:
    """One affiliation with at least one visible side (and, with ``account_id``, of that account), or NotFound."""
    if not valid_id(affiliation_id):
        raise NotFound(_("No such affiliation."), code="affiliation_not_found")
    scope = account_scope(actor=actor)
    qs = AccountAffiliation.objects.filter(pk=affiliation_id)
    if account_id is not None:
        qs = qs.filter(Q(from_account_id=account_id) | Q(to_account_id=account_id))
    aff = (
        qs.filter(Q(from_account__in=scope) | Q(to_account__in=scope))
        .select_related("from_account", "to_account")
        .annotate(is_current=_is_current())
        .first()
    )
    if aff is None:
        raise NotFound(_("No such affiliation."), code="affiliation_not_found")
    return aff


def account_picker(
    *,
    actor: User,
    q: str = "",
    exclude_subtree_of: int | None = None,
    include_id: int | None = None,
    limit: int = 50,
) -> list[Account]:
    """A short list of visible accounts matching ``q`` (for parent / affiliation pickers), in one query.

    ``exclude_subtree_of`` leaves out an account and everything below it (the places a move would make a
    cycle); ``include_id`` keeps the currently chosen account in the list even when it does not match.
    """
    scope = account_scope(actor=actor)
    qs = scope
    q = (q or "").replace("\x00", "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(city__icontains=q) | Q(ccn__istartswith=q) | Q(npi__startswith=q))
    if exclude_subtree_of and valid_id(exclude_subtree_of):
        qs = qs.exclude(pk=exclude_subtree_of).exclude(ancestors__contains=[exclude_subtree_of])
    # parent and its name: a department or clinic is shown with its hospital (``qualified_name``), no query per row
    fields = ("pk", "name", "type", "city", "state", "parent")
    qs = qs.only(*fields).annotate(parent_name=F("parent__name")).order_by("name", "pk")
    if include_id and valid_id(include_id):
        chosen = scope.filter(pk=include_id).only(*fields).annotate(parent_name=F("parent__name"))
        return list((chosen.union(qs[:limit], all=False)).order_by("name", "pk"))
    return list(qs[:limit])


def account_owners(*, actor: User) -> list[User]:
    """The people who own at least one visible account (for the owner filter), in one query."""
    owners = account_scope(actor=actor).filter(owner_id__isnull=False).values("owner_id")
    return list(User.objects.filter(pk__in=owners).order_by("last_name", "first_name", "username"))
