"""Formulary reads, always restricted to the accounts the actor may see.

The status *in force* for an account × product on a day (:func:`formulary_current`) is resolved in SQL:

1. the account's own product-wide record in force that day (any scope), else
2. the nearest account above it with a record in force whose scope is ``members`` (a system-level P&T decides
   for its member hospitals; the deciding committee is on the record);
3. at the same account, our entry wins over an imported value (the imported value stays and is shown beside it).

Indication-specific records (``indication`` set) are shown on the account's page and panel; the product × account
position (matrix, selector for other apps) is the product-wide one.

Medical users read formulary status but not pricing: ``net_price``/``currency`` are blanked for them here, so no
page or endpoint can show them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account, AccountType
from openkam.accounts.selectors import account_get, account_scope, account_subtree, valid_id
from openkam.core.errors import NotFound
from openkam.core.models import Role, User
from openkam.market_access.models import (
    STATUS_RANK,
    FormularyScope,
    FormularySource,
    FormularyStatus,
    FormularyStatusCode,
    FormularyTarget,
    Protocol,
    ProtocolProduct,
    RestrictionKind,
    TargetStatus,
)
from openkam.plans.models import AccountPlan, PlanStatus
from openkam.portfolio.models import Product, ProductStatus
from openkam.stakeholders.models import Committee, CommitteeKind

STATUS_COLOURS: dict[str, str] = {
    FormularyStatusCode.ON_FORMULARY: "#198754",
    FormularyStatusCode.RESTRICTED: "#ffc107",
    FormularyStatusCode.UNDER_REVIEW: "#0dcaf0",
    FormularyStatusCode.NON_FORMULARY: "#dc3545",
    FormularyStatusCode.REMOVED: "#6c2a32",
    "none": "#dee2e6",
}
TARGET_RANK: dict[str, int] = {TargetStatus.ON_FORMULARY: STATUS_RANK[FormularyStatusCode.ON_FORMULARY],
               TargetStatus.RESTRICTED: STATUS_RANK[FormularyStatusCode.RESTRICTED]}  # fmt: skip
DECIDING_COMMITTEE_KINDS = (CommitteeKind.P_AND_T, CommitteeKind.FORMULARY, CommitteeKind.VALUE_ANALYSIS)
OPEN_PLAN_STATUSES = (PlanStatus.DRAFT, PlanStatus.IN_REVIEW, PlanStatus.APPROVED, PlanStatus.ACTIVE)
DASHBOARD_PAGE_SIZE = 50
LIST_LIMIT = 50


def sees_pricing(actor: User) -> bool:
    return actor.role != Role.MEDICAL


def status_label(code: str) -> str:
    try:
        return str(FormularyStatusCode(code).label)
    except ValueError:
        return _("No status")


def restriction_labels(kinds: list[str] | tuple[str, ...]) -> list[str]:
    out = []
    for k in kinds:
        try:
            out.append(str(RestrictionKind(k).label))
        except ValueError:
            out.append(k)
    return out


@dataclass(frozen=True)
class FormularyStatusView:
    """The formulary position of a product at an account on a day (what other apps read)."""

    id: int  # the FormularyStatus record in force
    account_id: int  # the account asked about
    product_id: int
    status: str
    tier: str
    restriction_kinds: tuple[str, ...]
    restrictions: str
    effective_from: dt.date
    effective_to: dt.date | None
    next_review: dt.date | None
    source: str
    source_ref: str
    committee_id: int | None
    committee_name: str
    held_at_account_id: int  # where the record is held (an account above when inherited)
    held_at_account_name: str
    inherited: bool
    imported_status: str | None = None  # an imported value in force beside our entry (same account), if any
    net_price: Decimal | None = None  # None for medical users
    currency: str = ""

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def restriction_labels(self) -> list[str]:
        return restriction_labels(self.restriction_kinds)

    @property
    def rank(self) -> int | None:
        return STATUS_RANK.get(self.status)

    @property
    def colour(self) -> str:
        return STATUS_COLOURS.get(self.status, STATUS_COLOURS["none"])

    @property
    def is_restricted(self) -> bool:
        return self.status == FormularyStatusCode.RESTRICTED


# --- status in force ---------------------------------------------------------------------------------
def _in_force(alias: str) -> str:
    return (
        f"{alias}.indication_id IS NULL AND {alias}.effective_from <= %(on)s "
        f"AND ({alias}.effective_to IS NULL OR {alias}.effective_to >= %(on)s)"
        " AND (%(products)s::bigint[] IS NULL OR {a}.product_id = ANY(%(products)s::bigint[]))".format(a=alias)
    )


def _resolved_sql(accounts: QuerySet[Account]) -> tuple[str, dict[str, Any]]:
    """SQL selecting ``(for_account, product_id, fid, imported_fid)`` — the record in force per account × product
    for the accounts of ``accounts`` (a queryset; compiled in as a subquery) — and its named parameters, to which
    the caller adds ``on`` and ``products``."""
    acc_sql, acc_params = accounts.order_by().values("pk").query.sql_with_params()
    named = {f"acc{i}": p for i, p in enumerate(acc_params)}
    acc_sql = acc_sql % tuple(f"%({k})s" for k in named)
    sql = f"""
WITH acc AS (SELECT a.id, a.ancestors FROM accounts_account a WHERE a.id IN ({acc_sql})),
cand AS (
    SELECT acc.id AS for_account, f.product_id, f.id AS fid, 1000000 AS nearness, f.source
    FROM acc JOIN market_access_formularystatus f ON f.account_id = acc.id
    WHERE {_in_force("f")}
    UNION ALL
    SELECT acc.id, f.product_id, f.id, u.n::int, f.source
    FROM acc CROSS JOIN LATERAL unnest(acc.ancestors) WITH ORDINALITY AS u(anc, n)
    JOIN market_access_formularystatus f ON f.account_id = u.anc AND f.scope = '{FormularyScope.MEMBERS}'
    WHERE {_in_force("f")}
),
best AS (
    SELECT DISTINCT ON (for_account, product_id) for_account, product_id, fid, nearness, source
    FROM cand ORDER BY for_account, product_id, nearness DESC, (source = '{FormularySource.ENTERED}') DESC, fid DESC
)
SELECT b.for_account, b.product_id, b.fid,
       (SELECT c.fid FROM cand c WHERE c.for_account = b.for_account AND c.product_id = b.product_id
          AND c.nearness = b.nearness AND c.source = '{FormularySource.IMPORTED}'
          AND b.source = '{FormularySource.ENTERED}' LIMIT 1) AS imported_fid
FROM best b"""
    return sql, named


def _resolve(
    accounts: QuerySet[Account], *, on: dt.date, product_ids: list[int] | None
) -> list[tuple[int, int, int, int | None]]:
    sql, params = _resolved_sql(accounts)
    params.update(on=on, products=list(product_ids) if product_ids is not None else None)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _views(actor: User, rows: list[tuple[int, int, int, int | None]]) -> dict[tuple[int, int], FormularyStatusView]:
    ids = {r[2] for r in rows} | {r[3] for r in rows if r[3]}
    records = {
        f.pk: f
        for f in FormularyStatus.objects.filter(pk__in=ids).select_related("committee", "account").only(*_VIEW_FIELDS)
    }
    pricing = sees_pricing(actor)
    out: dict[tuple[int, int], FormularyStatusView] = {}
    for for_account, product_id, fid, imported_fid in rows:
        f = records[fid]
        imported = records.get(imported_fid) if imported_fid else None
        out[(for_account, product_id)] = FormularyStatusView(
            id=f.pk,
            account_id=for_account,
            product_id=product_id,
            status=f.status,
            tier=f.tier,
            restriction_kinds=tuple(f.restriction_kinds or ()),
            restrictions=f.restrictions,
            effective_from=f.effective_from,
            effective_to=f.effective_to,
            next_review=f.next_review,
            source=f.source,
            source_ref=f.source_ref,
            committee_id=f.committee_id,
            committee_name=f.committee.name if f.committee else "",
            held_at_account_id=f.account_id,
            held_at_account_name=f.account.name,
            inherited=f.account_id != for_account,
            imported_status=imported.status if imported else None,
            net_price=f.net_price if pricing else None,
            currency=f.currency if pricing else "",
        )
    return out


_VIEW_FIELDS = (
    "id", "account_id", "product_id", "status", "tier", "restriction_kinds", "restrictions", "effective_from",
    "effective_to", "next_review", "source", "source_ref", "committee_id", "committee__name", "account__name",
    "net_price", "currency",
)  # fmt: skip


def formulary_current(
    *,
    actor: User,
    account_ids: list[int],
    product_ids: list[int] | None = None,
    on: dt.date | None = None,
) -> dict[tuple[int, int], FormularyStatusView]:
    """The product-wide formulary status in force per (account, product) for the visible accounts among
    ``account_ids`` (others are silently left out), including status inherited from an account above whose
    record covers its members. Pairs without any status are absent. Three queries whatever the number of ids."""
    ids = [i for i in account_ids if valid_id(i)]
    if not ids:
        return {}
    accounts = account_scope(actor=actor).filter(pk__in=ids)
    rows = _resolve(accounts, on=on or timezone.localdate(), product_ids=product_ids)
    return _views(actor, rows)


# --- records -----------------------------------------------------------------------------------------
def formulary_status_scope(*, actor: User) -> QuerySet[FormularyStatus]:
    return FormularyStatus.objects.filter(account__in=account_scope(actor=actor))


def formulary_status_list(
    *,
    actor: User,
    account: Account | None = None,
    include_members: bool = False,
    product_id: int | None = None,
    source: str | None = None,
) -> QuerySet[FormularyStatus]:
    """Records (history included), newest period first. ``account`` comes from an access-checked selector."""
    if account is None:
        qs = formulary_status_scope(actor=actor)
    elif include_members:
        qs = FormularyStatus.objects.filter(account_id__in=account_subtree(account=account))
    else:
        qs = FormularyStatus.objects.filter(account_id=account.pk)
    if product_id is not None:
        qs = qs.filter(product_id=product_id)
    if source:
        qs = qs.filter(source=source)
    qs = qs.select_related("account", "product", "indication", "committee", "recorded_by")
    if not sees_pricing(actor):
        qs = qs.defer("net_price", "currency")
    return qs.order_by("account__name", "product__name", "indication_id", "-effective_from", "-pk")


def formulary_status_get(*, actor: User, status_id: int) -> FormularyStatus:
    if not valid_id(status_id):
        raise NotFound(_("No such formulary status."), code="formulary_status_not_found")
    f = (
        formulary_status_scope(actor=actor)
        .select_related("account", "product", "indication", "committee", "recorded_by")
        .filter(pk=status_id)
        .first()
    )
    if f is None:
        raise NotFound(_("No such formulary status."), code="formulary_status_not_found")
    if not sees_pricing(actor):
        f.net_price, f.currency = None, ""
    return f


def hide_pricing(actor: User, records: list[FormularyStatus]) -> list[FormularyStatus]:
    if not sees_pricing(actor):
        for f in records:
            f.__dict__["net_price"], f.__dict__["currency"] = None, ""
    return records


def formulary_products(*, actor: User, therapeutic_area_id: int | None = None) -> list[Product]:
    """The products a formulary matrix shows: marketed and launching ones (pipeline products have no status)."""
    if not actor.is_active:
        return []
    qs = Product.objects.select_related("therapeutic_area").filter(
        status__in=[ProductStatus.MARKETED, ProductStatus.LAUNCH]
    )
    if therapeutic_area_id:
        qs = qs.filter(therapeutic_area_id=therapeutic_area_id)
    return list(qs.order_by("therapeutic_area__name", "name"))


# --- changes: wins and losses ----------------------------------------------------------------------------
@dataclass
class FormularyChange:
    record: FormularyStatus
    previous_status: str | None

    @property
    def kind(self) -> str:
        """win | loss | change (neither: under review, or the same rank)."""
        new = STATUS_RANK.get(self.record.status)
        old = STATUS_RANK.get(self.previous_status) if self.previous_status else None
        if new is None:
            return "change"
        if old is None:
            if self.previous_status is None and new >= STATUS_RANK[FormularyStatusCode.RESTRICTED]:
                return "win"  # newly listed
            if self.previous_status is None:
                return "change"
            # from under review: listed = win, not listed = loss
            return "win" if new >= STATUS_RANK[FormularyStatusCode.RESTRICTED] else "loss"
        if new > old:
            return "win"
        if new < old:
            return "loss"
        return "change"

    @property
    def previous_label(self) -> str:
        return status_label(self.previous_status) if self.previous_status else _("No status")


def _previous_status() -> Subquery:
    prev = FormularyStatus.objects.filter(
        account_id=OuterRef("account_id"),
        product_id=OuterRef("product_id"),
        source=OuterRef("source"),
        effective_from__lt=OuterRef("effective_from"),
    ).filter(Q(indication_id=OuterRef("indication_id")) | Q(indication_id__isnull=True, indication__isnull=True))
    return Subquery(prev.order_by("-effective_from").values("status")[:1])


# The status a product-wide record replaced when the account had no earlier record of its own: the one inherited
# from the nearest account above (scope "members") in force the day before.
_INHERITED_PREVIOUS = RawSQL(
    f"""(SELECT f2.status FROM accounts_account a
        CROSS JOIN LATERAL unnest(a.ancestors) WITH ORDINALITY AS u(anc, n)
        JOIN market_access_formularystatus f2 ON f2.account_id = u.anc
        WHERE a.id = market_access_formularystatus.account_id AND f2.scope = '{FormularyScope.MEMBERS}'
          AND f2.indication_id IS NULL AND market_access_formularystatus.indication_id IS NULL
          AND f2.product_id = market_access_formularystatus.product_id
          AND f2.effective_from < market_access_formularystatus.effective_from
          AND (f2.effective_to IS NULL OR f2.effective_to >= market_access_formularystatus.effective_from - 1)
        ORDER BY u.n DESC, (f2.source = '{FormularySource.ENTERED}') DESC LIMIT 1)""",
    [],
)


def formulary_changes(
    *, accounts: QuerySet[Account], since: dt.date, until: dt.date, limit: int | None = LIST_LIMIT
) -> tuple[list[FormularyChange], Counter[tuple[str, int]]]:
    """Changes (new records) effective in [since, until] at ``accounts`` (an already-scoped queryset), newest
    first (the first ``limit``), with the status they replaced; and counts of wins/losses for the last 30 and 90
    days before ``until``: ``counts[("win", 30)]``. Counting reads plain tuples (thousands of changes at scale)."""
    qs = (
        FormularyStatus.objects.filter(
            account_id__in=accounts.order_by().values("pk"), effective_from__gte=since, effective_from__lte=until
        )
        .annotate(previous=Coalesce(_previous_status(), _INHERITED_PREVIOUS))
        .order_by("-effective_from", "-pk")
    )
    rows = list(qs.values_list("pk", "status", "previous", "effective_from"))
    counts: Counter[tuple[str, int]] = Counter()
    d30 = until - dt.timedelta(days=30)
    probe = FormularyStatus(effective_from=until)
    for _pk, status, previous, start in rows:
        probe.status = status
        kind = FormularyChange(probe, previous).kind
        counts[(kind, 90)] += 1
        if start >= d30:
            counts[(kind, 30)] += 1
    first = rows[:limit] if limit else rows
    previous_of = {r[0]: r[2] for r in first}
    records = (
        FormularyStatus.objects.filter(pk__in=list(previous_of))
        .select_related("account", "product", "committee")
        .only(
            "id",
            "account__name",
            "product__name",
            "committee__name",
            "status",
            "effective_from",
            "source",
            "indication_id",
            "restriction_kinds",
            "tier",
            "account_id",
            "product_id",
            "committee_id",
        )
        .order_by("-effective_from", "-pk")
    )
    return [FormularyChange(f, previous_of[f.pk]) for f in records], counts


# --- dashboard -------------------------------------------------------------------------------------------
@dataclass
class MatrixRow:
    account: Account
    cells: list[FormularyStatusView | None]


@dataclass
class TargetGap:
    target: FormularyTarget
    current: FormularyStatusView | None

    @property
    def current_label(self) -> str:
        return self.current.status_label if self.current else _("No status")


@dataclass
class FormularyDashboard:
    on: dt.date
    products: list[Product]
    account_count: int
    distribution: dict[int, dict[str, int]]  # product id → status (or "none") → accounts
    rows: list[MatrixRow]
    page: int
    pages: int
    changes: list[FormularyChange]
    change_counts: Counter[tuple[str, int]]
    reviews: list[FormularyStatus]
    review_count: int
    protocol_reviews: list[Protocol]
    meetings: list[Committee]
    gaps: list[TargetGap]
    gap_count: int
    filters: dict[str, Any] = field(default_factory=dict)


FORMULARY_ACCOUNT_TYPES = [t for t in AccountType.values if t != AccountType.DEPARTMENT]


def dashboard_accounts(
    *, actor: User, account_type: str | None = None, kam_level: str | None = None, portfolio_of: User | None = None
) -> QuerySet[Account]:
    """The accounts a formulary dashboard covers: visible to the actor (and, with ``portfolio_of``, also in that
    person's scope — a lead looking at one KAM's portfolio), formulary holders only (not departments)."""
    qs = account_scope(actor=actor)
    if portfolio_of is not None and portfolio_of.pk != actor.pk:
        qs = qs.filter(pk__in=account_scope(actor=portfolio_of).order_by().values("pk"))
    qs = qs.filter(type=account_type) if account_type else qs.filter(type__in=FORMULARY_ACCOUNT_TYPES)
    if kam_level:
        qs = qs.filter(kam_level=kam_level)
    return qs


def _distribution_and_filter(
    accounts: QuerySet[Account], *, on: dt.date, product_ids: list[int], status_filter: tuple[int, str] | None
) -> tuple[dict[int, dict[str, int]], int, list[int] | None]:
    """Accounts per product and status (one query), the number of accounts, and — with ``status_filter``
    (product id, status or "none") — the ids of the accounts in that cell."""
    sql, params = _resolved_sql(accounts)
    params.update(on=on, products=product_ids)
    dist_sql = (
        f"WITH r AS ({sql}) SELECT r.product_id, f.status, count(*) FROM r "
        "JOIN market_access_formularystatus f ON f.id = r.fid GROUP BY 1, 2"
    )
    acc_sql, acc_params = accounts.order_by().values("pk").query.sql_with_params()
    distribution: dict[int, dict[str, int]] = {p: {} for p in product_ids}
    with connection.cursor() as cur:
        cur.execute(dist_sql, params)
        for product_id, status, n in cur.fetchall():
            distribution.setdefault(product_id, {})[status] = n
        cur.execute(f"SELECT count(*) FROM ({acc_sql}) x", acc_params)
        total = cur.fetchone()[0]
        ids: list[int] | None = None
        if status_filter is not None:
            product_id, status = status_filter
            params["products"] = [product_id]
            if status == "none":
                named_acc = acc_sql % tuple(f"%(acc{i})s" for i in range(len(acc_params)))
                cur.execute(
                    f"WITH r AS ({sql}) SELECT a.id FROM accounts_account a WHERE a.id IN ({named_acc}) "
                    "AND NOT EXISTS (SELECT 1 FROM r WHERE r.for_account = a.id)",
                    params,
                )
            else:
                params["status"] = status
                cur.execute(
                    f"WITH r AS ({sql}) SELECT r.for_account FROM r "
                    "JOIN market_access_formularystatus f ON f.id = r.fid WHERE f.status = %(status)s",
                    params,
                )
            ids = [row[0] for row in cur.fetchall()]
    for product_id in distribution:
        distribution[product_id]["none"] = total - sum(distribution[product_id].values())
    return distribution, total, ids


def formulary_dashboard(
    *,
    actor: User,
    on: dt.date | None = None,
    account_type: str | None = None,
    kam_level: str | None = None,
    therapeutic_area_id: int | None = None,
    product_id: int | None = None,
    status: str | None = None,
    portfolio_of: User | None = None,
    page: int = 1,
    page_size: int = DASHBOARD_PAGE_SIZE,
) -> FormularyDashboard:
    """Everything the formulary dashboard shows, for the actor's scope (or one person's portfolio within it).
    A constant number of queries, whatever the number of accounts."""
    today = on or timezone.localdate()
    products = formulary_products(actor=actor, therapeutic_area_id=therapeutic_area_id)
    product_ids = [p.pk for p in products]
    accounts = dashboard_accounts(actor=actor, account_type=account_type, kam_level=kam_level,
                                  portfolio_of=portfolio_of)  # fmt: skip
    status_filter = (product_id, status) if product_id and status else None
    distribution, total, filtered_ids = _distribution_and_filter(
        accounts, on=today, product_ids=product_ids, status_filter=status_filter
    )
    # the matrix: one page of accounts, strategic first
    row_qs = accounts if filtered_ids is None else Account.objects.filter(pk__in=filtered_ids)
    count = total if filtered_ids is None else len(filtered_ids)
    pages = max(1, -(-count // page_size))
    page = min(max(1, page), pages)
    level_order = ["strategic", "key", "basic", "unassessed", "declined"]
    from django.db.models import Case, IntegerField, Value, When

    page_accounts = list(
        row_qs.annotate(
            level_rank=Case(
                *[When(kam_level=lvl, then=Value(i)) for i, lvl in enumerate(level_order)],
                default=Value(9),
                output_field=IntegerField(),
            )
        )
        .only("id", "name", "type", "kam_level", "city", "state", "depth")
        .order_by("level_rank", "name", "pk")[(page - 1) * page_size : page * page_size]
    )
    current = (
        _views(
            actor,
            _resolve(Account.objects.filter(pk__in=[a.pk for a in page_accounts]), on=today, product_ids=product_ids),
        )
        if page_accounts and product_ids
        else {}
    )
    rows = [MatrixRow(a, [current.get((a.pk, p.pk)) for p in products]) for a in page_accounts]
    changes, change_counts = formulary_changes(accounts=accounts, since=today - dt.timedelta(days=90), until=today)
    horizon = today + dt.timedelta(days=90)
    review_qs = FormularyStatus.objects.filter(
        account_id__in=accounts.order_by().values("pk"), next_review__gte=today, next_review__lte=horizon
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=today))
    if product_ids:
        review_qs = review_qs.filter(product_id__in=product_ids)
    reviews = list(
        review_qs.select_related("account", "product", "committee")
        .only(
            "id",
            "account__name",
            "product__name",
            "committee__name",
            "status",
            "next_review",
            "account_id",
            "product_id",
            "committee_id",
            "source",
        )
        .order_by("next_review", "account__name")[:LIST_LIMIT]
    )
    review_count = review_qs.count()
    protocol_reviews = list(
        Protocol.objects.filter(
            account_id__in=accounts.order_by().values("pk"), review_date__gte=today, review_date__lte=horizon
        )
        .exclude(status="retired")
        .select_related("account")
        .order_by("review_date", "name")[:20]
    )
    meetings = list(
        Committee.objects.filter(
            account_id__in=accounts.order_by().values("pk"),
            kind__in=DECIDING_COMMITTEE_KINDS,
            next_meeting__gte=today,
            next_meeting__lte=today + dt.timedelta(days=60),
        )
        .select_related("account")
        .only("id", "name", "kind", "next_meeting", "meeting_cadence", "account__name", "account_id")
        .order_by("next_meeting", "name")[:20]
    )
    gaps, gap_count = target_gaps(actor=actor, accounts=accounts, on=today, product_ids=product_ids)
    return FormularyDashboard(
        on=today, products=products, account_count=total, distribution=distribution, rows=rows, page=page,
        pages=pages, changes=changes, change_counts=change_counts, reviews=reviews, review_count=review_count,
        protocol_reviews=protocol_reviews, meetings=meetings, gaps=gaps, gap_count=gap_count,
        filters={"account_type": account_type, "kam_level": kam_level, "therapeutic_area_id": therapeutic_area_id,
                 "product_id": product_id, "status": status, "portfolio_of": portfolio_of},
    )  # fmt: skip


# --- plan targets ---------------------------------------------------------------------------------------
def target_gaps(
    *,
    actor: User,
    accounts: QuerySet[Account],
    on: dt.date,
    product_ids: list[int] | None = None,
    limit: int = LIST_LIMIT,
) -> tuple[list[TargetGap], int]:
    """Targets of open plans at ``accounts`` (already scoped) that the status in force does not meet."""
    targets = FormularyTarget.objects.filter(
        plan__account_id__in=accounts.order_by().values("pk"), plan__status__in=OPEN_PLAN_STATUSES
    )
    if product_ids is not None:
        targets = targets.filter(product_id__in=product_ids)
    pairs = list(targets.values_list("pk", "plan__account_id", "product_id", "target_status"))
    if not pairs:
        return [], 0
    current = _views(
        actor,
        _resolve(
            Account.objects.filter(pk__in={p[1] for p in pairs}), on=on, product_ids=sorted({p[2] for p in pairs})
        ),
    )
    missing = []
    for pk, account_id, product_id, target_status in pairs:
        view = current.get((account_id, product_id))
        if view is None or (view.rank or 0) < TARGET_RANK[target_status]:
            missing.append(pk)
    first = missing[:limit]
    records = {
        t.pk: t
        for t in FormularyTarget.objects.filter(pk__in=first).select_related(
            "plan", "plan__account", "product", "objective"
        )
    }
    gaps = [TargetGap(records[pk], current.get((records[pk].plan.account_id, records[pk].product_id))) for pk in first]
    gaps.sort(key=lambda g: (g.target.plan.account.name, g.target.product.name))
    return gaps, len(missing)


def plan_targets(*, actor: User, plan: AccountPlan) -> list[TargetGap]:
    """A plan's formulary targets with the status in force at the plan's account (``plan`` from plan_get)."""
    targets = list(
        FormularyTarget.objects.filter(plan_id=plan.pk).select_related("product", "objective").order_by("product__name")
    )
    current = formulary_current(actor=actor, account_ids=[plan.account_id], product_ids=[t.product_id for t in targets])
    return [TargetGap(t, current.get((plan.account_id, t.product_id))) for t in targets]


def target_met(gap: TargetGap) -> bool:
    return gap.current is not None and (gap.current.rank or 0) >= TARGET_RANK[gap.target.target_status]


def formulary_target_get(*, actor: User, target_id: int) -> FormularyTarget:
    if not valid_id(target_id):
        raise NotFound(_("No such formulary target."), code="formulary_target_not_found")
    t = (
        FormularyTarget.objects.filter(plan__account__in=account_scope(actor=actor), pk=target_id)
        .select_related("plan", "plan__account", "product")
        .first()
    )
    if t is None:
        raise NotFound(_("No such formulary target."), code="formulary_target_not_found")
    return t


# --- an account's formulary ----------------------------------------------------------------------------
@dataclass
class AccountFormulary:
    account: Account
    products: list[Product]
    members: list[Account]  # the account first, then members (not departments), at most MEMBER_LIMIT
    member_count: int
    matrix: list[MatrixRow]
    indication_records: list[FormularyStatus]
    protocols: list[Protocol]


MEMBER_LIMIT = 60


def account_formulary(*, actor: User, account_id: int, on: dt.date | None = None) -> AccountFormulary:
    """The formulary position of an account and its members (member hospitals of an IDN…): a product × account
    matrix (status in force, inherited shown), indication-specific records in force, protocols. Constant queries."""
    account = account_get(actor=actor, account_id=account_id)
    today = on or timezone.localdate()
    products = formulary_products(actor=actor)
    below = Account.objects.filter(pk__in=account_subtree(account=account, include_self=False)).exclude(
        type=AccountType.DEPARTMENT
    )
    member_count = below.count()
    members = [account, *below.only("id", "name", "type", "depth", "kam_level").order_by("depth", "name")[
        :MEMBER_LIMIT]]  # fmt: skip
    current = _views(actor, _resolve(Account.objects.filter(pk__in=[m.pk for m in members]), on=today,
                                     product_ids=[p.pk for p in products]))  # fmt: skip
    matrix = [MatrixRow(m, [current.get((m.pk, p.pk)) for p in products]) for m in members]
    indication_records = hide_pricing(
        actor,
        list(
            FormularyStatus.objects.filter(account_id=account.pk, indication__isnull=False, effective_from__lte=today)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=today))
            .select_related("product", "indication", "committee")
            .order_by("product__name", "indication__name")
        ),
    )
    protocols = list(
        Protocol.objects.filter(
            Q(account_id=account.pk) | Q(account_id__in=account.ancestors, scope=FormularyScope.MEMBERS)
        )
        .select_related("account", "owner", "therapeutic_area")
        .prefetch_related(_protocol_products())
        .order_by("status", "name")
    )
    return AccountFormulary(account, products, members, member_count, matrix, indication_records, protocols)


def _protocol_products() -> Any:
    from django.db.models import Prefetch

    return Prefetch(
        "products",
        queryset=ProtocolProduct.objects.select_related("product", "indication").order_by(
            "line_of_therapy", "product__name"
        ),
    )


# --- protocols ----------------------------------------------------------------------------------------
def protocol_scope(*, actor: User) -> QuerySet[Protocol]:
    return Protocol.objects.filter(account__in=account_scope(actor=actor))


def protocol_list(
    *, actor: User, account: Account | None = None, status: str | None = None, q: str | None = None
) -> QuerySet[Protocol]:
    qs = protocol_scope(actor=actor) if account is None else Protocol.objects.filter(account_id=account.pk)
    if status:
        qs = qs.filter(status=status)
    if q and q.strip():
        qs = qs.filter(name__icontains=q.strip())
    return (
        qs.select_related("account", "owner", "our_owner", "therapeutic_area")
        .prefetch_related(_protocol_products())
        .order_by("account__name", "name", "pk")
    )


def protocol_get(*, actor: User, protocol_id: int) -> Protocol:
    if not valid_id(protocol_id):
        raise NotFound(_("No such protocol."), code="protocol_not_found")
    p = protocol_list(actor=actor).filter(pk=protocol_id).first()
    if p is None:
        raise NotFound(_("No such protocol."), code="protocol_not_found")
    return p


def committees_for(*, actor: User, account: Account) -> QuerySet[Committee]:
    """Committees that may decide for ``account`` (from an access-checked selector): its own and those above."""
    return (
        Committee.objects.filter(account_id__in=[account.pk, *account.ancestors])
        .select_related("account")
        .order_by("account__depth", "name", "pk")
    )
