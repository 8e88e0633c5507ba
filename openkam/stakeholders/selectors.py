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

from openkam.accounts.models import Account, qualified_name
from openkam.accounts.selectors import account_scope, account_subtree
from openkam.core.access import sees_all_accounts, visible_classifications
from openkam.core.errors import NotFound
from openkam.core.models import Classification, User
from openkam.stakeholders.models import (
    Committee,
    CommitteeScope,
    CommitteeScopeAccount,
    Position,
    Specialty,
    Stakeholder,
)


def can_see_judgements(actor: User) -> bool:
    """Decision roles (and stances, influence...) are commercial judgements about people: only readers who see
    commercial records see them (KAM, lead, market access, compliance, admin); medical users see the
    organisation — people, positions, committees, seats — without them (docs/relationships.md)."""
    return Classification.COMMERCIAL in visible_classifications(actor)


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
    ``primary_account_name`` (and ``primary_account_type`` / ``primary_account_parent_name`` for
    :func:`primary_account_label`). One subquery per column, so a page of people costs one query."""
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
        primary_account_type=Subquery(best.values("account__type")[:1]),
        primary_account_parent_name=Subquery(best.values("account__parent__name")[:1]),
    )


def primary_account_label(person: Stakeholder) -> str:
    """Where the person's primary position is, as lists name it (a department with its hospital)."""
    name = getattr(person, "primary_account_name", None) or ""
    return qualified_name(
        name, getattr(person, "primary_account_type", "") or "", getattr(person, "primary_account_parent_name", None)
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
        .select_related("account__parent", "committee")
        .annotate(
            is_current=Case(When(_current_q(), then=Value(True)), default=Value(False), output_field=BooleanField())
        )
        .order_by("-is_current", "-is_primary", "-valid_to", "-valid_from", "pk")
    )


def position_get(*, actor: User, position_id: int) -> Position:
    """One position at a visible account, or NotFound."""
    p = (
        _visible_positions(actor)
        .select_related("stakeholder", "account__parent", "committee")
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
        qs.select_related("stakeholder", "stakeholder__specialty", "account__parent", "committee")
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
    "account__name", "account__type", "account__parent", "account__parent__name", "committee__name",
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
        .prefetch_related("scope_accounts")
        .annotate(member_count=Count("positions", filter=_current_q("positions__"), distinct=True))
        .order_by("account__name", "name", "pk")
    )


def committee_get(*, actor: User, committee_id: int) -> Committee:
    """One visible committee with its account and the ids of its selected scope accounts (``_scope_ids``)."""
    c = _committee_scope(actor).select_related("account").filter(pk=committee_id).first()
    if c is None:
        raise NotFound(_("No such committee."), code="committee_not_found")
    c._scope_ids = list(  # type: ignore[attr-defined]
        CommitteeScopeAccount.objects.filter(committee=c).order_by("pk").values_list("account_id", flat=True)
    )
    return c


def _scope_ids(committee: Committee) -> list[int]:
    ids = getattr(committee, "_scope_ids", None)
    if ids is None:
        ids = list(CommitteeScopeAccount.objects.filter(committee=committee).values_list("account_id", flat=True))
        committee._scope_ids = ids  # type: ignore[attr-defined]
    return ids


def committee_decides_for(*, committee: Committee, account: Account) -> bool:
    """Whether ``committee`` decides for ``account``: its own account always; with scope ``subtree`` every
    account below it; with ``selected`` the selected accounts and everything below them."""
    if committee.account_id == account.pk:
        return True
    above = set(account.ancestors or [])
    if committee.scope == CommitteeScope.SUBTREE:
        return committee.account_id in above
    if committee.scope == CommitteeScope.SELECTED:
        return any(x == account.pk or x in above for x in _scope_ids(committee))
    return False


def committee_scope_text(*, committee: Committee) -> str:
    """The scope in words, e.g. “Beacon Health System and every account below it”."""
    name = committee.account.name
    if committee.scope == CommitteeScope.ACCOUNT:
        return _("%(a)s only") % {"a": name}
    if committee.scope == CommitteeScope.SELECTED:
        names = list(
            Account.objects.filter(pk__in=_scope_ids(committee)).order_by("name").values_list("name", flat=True)
        )
        return _("%(a)s and %(list)s (with the accounts below them)") % {"a": name, "list": ", ".join(names) or "—"}
    return _("%(a)s and every account below it") % {"a": name}


def committee_scope_accounts(*, actor: User, committee: Committee) -> QuerySet[Account]:
    """The selected accounts of a ``selected``-scope committee (from :func:`committee_get`), by name."""
    return Account.objects.filter(pk__in=_scope_ids(committee)).order_by("name", "pk")


def committees_deciding_for(*, actor: User, account: Account, include_below: bool = False) -> QuerySet[Committee]:
    """Committees that decide for ``account`` (from an access-checked selector): its own, those above it
    with a ``subtree`` scope, those above it that selected it or an account above it — and, with
    ``include_below``, every committee of an account below it. Visible to the actor (``account`` is, and
    committees above it are filtered through the scope). One query; annotated ``member_count``."""
    above = list(account.ancestors or [])
    decides = (
        Q(account_id=account.pk)
        | Q(account_id__in=above, scope=CommitteeScope.SUBTREE)
        | Q(
            account_id__in=above,
            scope=CommitteeScope.SELECTED,
            scope_accounts__account_id__in=[account.pk, *above],
        )
    )
    if include_below:
        decides |= Q(account_id__in=account_subtree(account=account, include_self=False))
    qs = Committee.objects.filter(decides)
    if above and not sees_all_accounts(actor):
        qs = qs.filter(Q(account_id__in=account_subtree(account=account)) | Q(account__in=account_scope(actor=actor)))
    ids = qs.values("pk")
    return (
        Committee.objects.filter(pk__in=ids)
        .select_related("account", "account__parent")  # the account's qualified_name (a department's hospital)
        .annotate(member_count=Count("positions", filter=_current_q("positions__"), distinct=True))
        .order_by("account__depth", "account__name", "name", "pk")
    )


def committee_members(*, actor: User, committee: Committee, include_ended: bool = True) -> QuerySet[Position]:
    """The seats of a committee (from :func:`committee_get`): current first (chair first), then past ones,
    with person and account, annotated ``is_current``. Seats at accounts the actor cannot see are left out."""
    qs = _visible_positions(actor).filter(committee_id=committee.pk)
    if not include_ended:
        qs = qs.filter(_current_q())
    role_order = Case(
        When(committee_role="chair", then=Value(0)),
        When(committee_role="vice_chair", then=Value(1)),
        When(committee_role="secretary", then=Value(3)),
        default=Value(2),
    )
    return (
        qs.select_related("stakeholder", "account__parent")
        .annotate(
            is_current=Case(When(_current_q(), then=Value(True)), default=Value(False), output_field=BooleanField()),
            role_order=role_order,
        )
        .order_by("-is_current", "role_order", "stakeholder__last_name", "stakeholder__first_name", "pk")
    )


def committee_seat_get(*, actor: User, committee_id: int, position_id: int) -> Position:
    """One seat (position) of a visible committee, annotated like :func:`committee_members`; a position that
    is not on this committee, or at an account the actor cannot see, is not found."""
    c = committee_get(actor=actor, committee_id=committee_id)
    seat = committee_members(actor=actor, committee=c).filter(pk=position_id).first()
    if seat is None:
        raise NotFound(_("No such seat on this committee."), code="seat_not_found")
    return seat


def committee_member_candidates(*, actor: User, committee: Committee, q: str = "", limit: int = 50) -> list[Position]:
    """Current positions (one per person, the primary first) at accounts the committee decides for, matching
    every word of ``q`` — the people who can take a seat. At most ``limit``."""
    c = committee
    if c.scope == CommitteeScope.ACCOUNT:
        where = Q(account_id=c.account_id)
    elif c.scope == CommitteeScope.SELECTED:
        where = Q(account_id=c.account_id)
        for x in _scope_ids(c):
            where |= Q(account_id__in=account_subtree(account=x))
    else:
        where = Q(account_id__in=account_subtree(account=c.account_id))
    qs = _visible_positions(actor).filter(where).filter(_current_q()).filter(committee__isnull=True)
    for word in (q or "").split():
        qs = qs.filter(Q(stakeholder__first_name__icontains=word) | Q(stakeholder__last_name__icontains=word))
    rows = list(
        qs.select_related("stakeholder", "account__parent")
        .order_by("stakeholder__last_name", "stakeholder__first_name", "stakeholder_id", "-is_primary", "pk")
        .distinct("stakeholder__last_name", "stakeholder__first_name", "stakeholder_id")[:limit]
    )
    return rows


def committee_choices(*, actor: User, account: Account) -> QuerySet[Committee]:
    """Committees a position at ``account`` may sit on: visible committees of the account or of an account
    above it (a hospital's P&T committee decides for its departments too)."""
    return (
        _committee_scope(actor)
        .filter(account_id__in=[account.pk, *account.ancestors])
        .select_related("account__parent")
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
