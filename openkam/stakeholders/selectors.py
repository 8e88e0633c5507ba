"""Stakeholder reads, always scoped: a person is visible when they hold (or held) a position at an
account the actor may see. Compliance and admin see everyone.

Only the positions at visible accounts are ever shown: a person's role at an account the actor cannot
see stays invisible, even when the person is visible through another account.
"""

from __future__ import annotations

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_scope, account_subtree
from openkam.core.access import sees_all_accounts
from openkam.core.errors import NotFound
from openkam.core.models import User
from openkam.stakeholders.models import Committee, Position, Specialty, Stakeholder


def _current_q(prefix: str = "") -> Q:
    """Held today. ``valid_to`` is the end date: from that day on the role is vacated (so a position ended
    today shows as vacated at once); a future ``valid_to`` is a planned departure."""
    today = timezone.localdate()
    return Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": today})


def _visible_positions(actor: User) -> QuerySet[Position]:
    if sees_all_accounts(actor):
        return Position.objects.all()
    return Position.objects.filter(account__in=account_scope(actor=actor))


def _with_primary_position(qs: QuerySet[Stakeholder], actor: User) -> QuerySet[Stakeholder]:
    """Annotate the person's current primary position among those the actor may see (primary flag first,
    then the most recent start): ``primary_position_id``, ``primary_title``, ``primary_account_id``,
    ``primary_account_name``. One subquery per column, so a page of people costs one query."""
    best = (
        _visible_positions(actor)
        .filter(_current_q(), stakeholder=OuterRef("pk"))
        .order_by("-is_primary", "-valid_from", "-pk")
    )
    return qs.annotate(
        primary_position_id=Subquery(best.values("pk")[:1]),
        primary_title=Subquery(best.values("title")[:1]),
        primary_account_id=Subquery(best.values("account_id")[:1]),
        primary_account_name=Subquery(best.values("account__name")[:1]),
    )


def stakeholder_scope(*, actor: User) -> QuerySet[Stakeholder]:
    if sees_all_accounts(actor):
        return Stakeholder.objects.all()
    visible_positions = Position.objects.filter(stakeholder=OuterRef("pk"), account__in=account_scope(actor=actor))
    return Stakeholder.objects.filter(Exists(visible_positions))


def stakeholder_get(*, actor: User, stakeholder_id: int) -> Stakeholder:
    qs = _with_primary_position(stakeholder_scope(actor=actor).select_related("specialty"), actor)
    s = qs.filter(pk=stakeholder_id).first()
    if s is None:
        raise NotFound(_("No such stakeholder."), code="stakeholder_not_found")
    return s


def stakeholder_list(
    *,
    actor: User,
    q: str = "",
    specialty: str | None = None,
    kind: str | None = None,
    account: Account | None = None,
    include_descendants: bool = True,
) -> QuerySet[Stakeholder]:
    """Visible people, by name, annotated with their current primary position (see ``_with_primary_position``).

    ``q`` matches every word against first/last name, credentials, NPI or email; ``specialty`` is a NUCC code;
    ``account`` (from an access-checked selector) keeps people who hold or held a position there — and, with
    ``include_descendants``, at any account below it.
    """
    qs = stakeholder_scope(actor=actor).select_related("specialty")
    for word in (q or "").split():
        qs = qs.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(credentials__icontains=word)
            | Q(npi__startswith=word)
            | Q(email__icontains=word)
        )
    if specialty:
        qs = qs.filter(specialty_id=specialty)
    if kind:
        qs = qs.filter(kind=kind)
    if account is not None:
        at = account_subtree(account=account) if include_descendants else [account.pk]
        qs = qs.filter(Exists(Position.objects.filter(account_id__in=at, stakeholder=OuterRef("pk"))))
    return _with_primary_position(qs, actor).order_by("last_name", "first_name", "pk")


def stakeholder_positions(*, actor: User, stakeholder: Stakeholder) -> QuerySet[Position]:
    """A visible person's positions at accounts the actor may see: current first (primary first), then past
    ones, most recently ended first. Annotated ``is_current``."""
    return (
        _visible_positions(actor)
        .filter(stakeholder_id=stakeholder.pk)
        .select_related("account", "committee")
        .annotate(
            is_current=Case(When(_current_q(), then=Value(True)), default=Value(False), output_field=BooleanField())
        )
        .order_by("-is_current", "-is_primary", "-valid_to", "-valid_from", "pk")
    )


def position_get(*, actor: User, position_id: int) -> Position:
    """One position at a visible account, or NotFound."""
    p = (
        _visible_positions(actor)
        .select_related("stakeholder", "account", "committee")
        .annotate(
            is_current=Case(When(_current_q(), then=Value(True)), default=Value(False), output_field=BooleanField())
        )
        .filter(pk=position_id)
        .first()
    )
    if p is None:
        raise NotFound(_("No such position."), code="position_not_found")
    return p


def account_positions(
    *, actor: User, account: Account, include_descendants: bool = True, include_ended: bool = True
) -> QuerySet[Position]:
    """Positions at an account — and, with ``include_descendants``, at every account below it, annotated
    ``inherited`` (True when held at a child account) and ``is_current`` (held today: no end date, or an end
    date after today — from ``valid_to`` on, the role is vacated).

    ``account`` must come from an access-checked selector; descendants of a visible account are visible.
    """
    if include_descendants:  # by account id: the primary-key and GIN indexes, then (account, valid_to)
        qs = Position.objects.filter(account_id__in=account_subtree(account=account))
    else:
        qs = Position.objects.filter(account_id=account.pk)
    if not include_ended:
        qs = qs.filter(_current_q())
    return _position_rows(qs, account)


def _position_rows(qs: QuerySet[Position], account: Account) -> QuerySet[Position]:
    """Person, specialty, account and committee joined; ``inherited`` / ``is_current``; own first, current
    first, then by account name and title."""
    return (
        qs.select_related("stakeholder", "stakeholder__specialty", "account", "committee")
        .annotate(
            inherited=Case(
                When(account_id=account.pk, then=Value(False)), default=Value(True), output_field=BooleanField()
            ),
            is_current=Case(
                When(_current_q(), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .order_by("inherited", "-is_current", "account__name", "title", "pk")
    )


# What a row of Account 360's people panel shows (person, specialty, committee, where), nothing more.
_POSITION_ROW_FIELDS = (
    "title", "role_in_decision", "is_primary", "valid_from", "valid_to", "account_id", "stakeholder_id",
    "committee_id", "stakeholder__prefix", "stakeholder__first_name", "stakeholder__last_name",
    "stakeholder__credentials", "stakeholder__specialty_id", "stakeholder__specialty__display_name",
    "account__name", "account__type", "committee__name",
)  # fmt: skip


def account_positions_first(*, actor: User, account: Account, limit: int, offset: int = 0) -> QuerySet[Position]:
    """Rows ``offset`` to ``offset + limit`` of :func:`account_positions` (here and below, same order, same
    annotations), in one query that picks their ids before joining person, specialty and committee —
    instead of joining all of them for every position of the subtree and sorting that (large benchmark
    world, 2,215 positions under one IDN: ~3 ms instead of ~15 ms). Account 360 shows a first page and
    fetches the next ones on demand ("Show more").

    Only the columns a list row shows are loaded (title, role, dates, the person's name and specialty,
    the account's name and type, the committee's name): reading another field costs a query per row.
    """
    start = max(0, offset)
    page = account_positions(actor=actor, account=account, include_descendants=True).values("pk")
    first = page[start : start + max(0, limit)]
    return _position_rows(Position.objects.filter(pk__in=first), account).only(*_POSITION_ROW_FIELDS)


# --- committees -------------------------------------------------------------------------------------
def _committee_scope(actor: User) -> QuerySet[Committee]:
    if sees_all_accounts(actor):
        return Committee.objects.all()
    return Committee.objects.filter(account__in=account_scope(actor=actor))


def committee_list(
    *, actor: User, account: Account | None = None, include_descendants: bool = False
) -> QuerySet[Committee]:
    """Visible committees (at accounts the actor may see), optionally of one account (and below), annotated
    ``member_count`` (current positions on the committee). ``account`` comes from an access-checked
    selector (its committees and those below it are visible)."""
    if account is None:
        qs = _committee_scope(actor)
    elif include_descendants:  # below a visible account everything is visible: the ids are the scope
        qs = Committee.objects.filter(account_id__in=account_subtree(account=account))
    else:
        qs = Committee.objects.filter(account_id=account.pk)
    return (
        qs.select_related("account")
        .annotate(member_count=Count("positions", filter=_current_q("positions__"), distinct=True))
        .order_by("account__name", "name", "pk")
    )


def committee_get(*, actor: User, committee_id: int) -> Committee:
    c = _committee_scope(actor).select_related("account").filter(pk=committee_id).first()
    if c is None:
        raise NotFound(_("No such committee."), code="committee_not_found")
    return c


def committee_choices(*, actor: User, account: Account) -> QuerySet[Committee]:
    """Committees a position at ``account`` may sit on: visible committees of the account or of an account
    above it (a hospital's P&T committee decides for its departments too)."""
    return (
        _committee_scope(actor)
        .filter(account_id__in=[account.pk, *account.ancestors])
        .select_related("account")
        .order_by("account__depth", "name", "pk")
    )


# --- reference data ---------------------------------------------------------------------------------
def specialty_list(*, actor: User | None = None, q: str = "") -> QuerySet[Specialty]:
    """NUCC taxonomy codes (public reference data: every signed-in user sees all of them). Every word of
    ``q`` must match the name, classification, specialization, grouping or code; exact code first."""
    qs = Specialty.objects.all()
    words = (q or "").split()
    for word in words:
        qs = qs.filter(
            Q(display_name__icontains=word)
            | Q(classification__icontains=word)
            | Q(specialization__icontains=word)
            | Q(grouping__icontains=word)
            | Q(code__istartswith=word)
        )
    if len(words) == 1:
        qs = qs.annotate(exact=Case(When(code__iexact=words[0], then=Value(0)), default=Value(1))).order_by(
            "exact", "display_name", "code"
        )
    else:
        qs = qs.order_by("display_name", "code")
    return qs


def specialty_get(*, code: str) -> Specialty:
    s = Specialty.objects.filter(pk=code).first()
    if s is None:
        raise NotFound(_("No such specialty code."), code="specialty_not_found")
    return s


def specialties_in_use(*, actor: User) -> QuerySet[Specialty]:
    """Specialties of the people the actor may see (for list filters)."""
    return Specialty.objects.filter(
        code__in=stakeholder_scope(actor=actor).exclude(specialty=None).values("specialty_id")
    ).order_by("display_name")
