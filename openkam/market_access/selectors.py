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
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Window
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account, AccountType
from openkam.accounts.selectors import account_get, account_scope, account_subtree, valid_id
from openkam.core.errors import NotFound
from openkam.core.models import Role, User
from openkam.market_access.models import (
    STATUS_RANK,
    FormularyImport,
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


def _acc_cte(accounts: QuerySet[Account] | list[int]) -> tuple[str, dict[str, Any]]:
    """The body of the ``acc(id, ancestors)`` CTE: the accounts of a queryset (compiled in as a subquery) or of a
    list of ids (one array parameter, whatever its length), with its named parameters."""
    if isinstance(accounts, list):
        return "SELECT a.id, a.ancestors FROM accounts_account a WHERE a.id = ANY(%(acc_ids)s::bigint[])", {
            "acc_ids": accounts
        }
    acc_sql, acc_params = accounts.order_by().values("pk").query.sql_with_params()
    named = {f"acc{i}": p for i, p in enumerate(acc_params)}
    acc_sql = acc_sql % tuple(f"%({k})s" for k in named)
    return f"SELECT a.id, a.ancestors FROM accounts_account a WHERE a.id IN ({acc_sql})", named


def _cand_sql(acc_body: str) -> str:
    """CTEs ``acc`` and ``cand``: every product-wide record in force that may apply to each account — its own
    (nearness 1000000) and those of the accounts above it deciding for their members (nearness = position in
    ``ancestors``, the root first). Parameters: the ``acc`` ones, ``on`` and ``products`` (an array or NULL)."""
    return f"""
WITH acc AS ({acc_body}),
cand AS (
    SELECT acc.id AS for_account, f.product_id, f.id AS fid, 1000000 AS nearness, f.source
    FROM acc JOIN market_access_formularystatus f ON f.account_id = acc.id
    WHERE {_in_force("f")}
    UNION ALL
    SELECT acc.id, f.product_id, f.id, u.n::int, f.source
    FROM acc CROSS JOIN LATERAL unnest(acc.ancestors) WITH ORDINALITY AS u(anc, n)
    JOIN market_access_formularystatus f ON f.account_id = u.anc AND f.scope = '{FormularyScope.MEMBERS}'
    WHERE {_in_force("f")}
)"""


def _best_sql(acc_body: str) -> str:
    """:func:`_cand_sql` and ``best``: the record in force per account × product (own record, else the nearest
    account above deciding for members; our entry before an imported one)."""
    return f"""{_cand_sql(acc_body)},
best AS (
    SELECT DISTINCT ON (for_account, product_id) for_account, product_id, fid, nearness, source
    FROM cand ORDER BY for_account, product_id, nearness DESC, (source = '{FormularySource.ENTERED}') DESC, fid DESC
)"""


_VIEW_COLUMNS = (
    "f.status, f.tier, f.restriction_kinds, f.restrictions, f.effective_from, f.effective_to, f.next_review, "
    "f.source, f.source_ref, f.committee_id, cm.name, f.account_id, ha.name, f.net_price, f.currency"
)


def _resolve_views(
    actor: User, accounts: QuerySet[Account] | list[int], *, on: dt.date, product_ids: list[int] | None
) -> dict[tuple[int, int], FormularyStatusView]:
    """The status in force per (account, product) for ``accounts`` (already access-checked), with everything a
    cell shows (committee, where it is held, the imported value beside our entry): one query."""
    acc_body, params = _acc_cte(accounts)
    params.update(on=on, products=list(product_ids) if product_ids is not None else None)
    sql = f"""{_best_sql(acc_body)},
imp AS (
    SELECT DISTINCT ON (for_account, product_id) for_account, product_id, fid, nearness FROM cand
    WHERE source = '{FormularySource.IMPORTED}' ORDER BY for_account, product_id, nearness DESC, fid DESC
)
SELECT b.for_account, b.product_id, b.fid, {_VIEW_COLUMNS}, fi.status
FROM best b JOIN market_access_formularystatus f ON f.id = b.fid
JOIN accounts_account ha ON ha.id = f.account_id
LEFT JOIN imp ON imp.for_account = b.for_account AND imp.product_id = b.product_id AND imp.nearness = b.nearness
     AND b.source = '{FormularySource.ENTERED}'
LEFT JOIN market_access_formularystatus fi ON fi.id = imp.fid
LEFT JOIN stakeholders_committee cm ON cm.id = f.committee_id"""
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    pricing = sees_pricing(actor)
    out: dict[tuple[int, int], FormularyStatusView] = {}
    for (for_account, product_id, fid, status, tier, kinds, restrictions, start, end, review, source, source_ref,
         committee_id, committee_name, held_at, held_at_name, price, currency, imported) in rows:  # fmt: skip
        out[(for_account, product_id)] = FormularyStatusView(
            id=fid, account_id=for_account, product_id=product_id, status=status, tier=tier,
            restriction_kinds=tuple(kinds or ()), restrictions=restrictions, effective_from=start,
            effective_to=end, next_review=review, source=source, source_ref=source_ref, committee_id=committee_id,
            committee_name=committee_name or "", held_at_account_id=held_at, held_at_account_name=held_at_name,
            inherited=held_at != for_account, imported_status=imported,
            net_price=price if pricing else None, currency=currency if pricing else "",
        )  # fmt: skip
    return out


def formulary_current(
    *,
    actor: User,
    account_ids: list[int],
    product_ids: list[int] | None = None,
    on: dt.date | None = None,
) -> dict[tuple[int, int], FormularyStatusView]:
    """The product-wide formulary status in force per (account, product) for the visible accounts among
    ``account_ids`` (others are silently left out), including status inherited from an account above whose
    record covers its members. Pairs without any status are absent. One query whatever the number of ids."""
    ids = [i for i in account_ids if valid_id(i)]
    if not ids:
        return {}
    accounts = account_scope(actor=actor).filter(pk__in=ids)
    return _resolve_views(actor, accounts, on=on or timezone.localdate(), product_ids=product_ids)


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


def _rank_sql(col: str) -> str:
    whens = " ".join(f"WHEN '{k}' THEN {v}" for k, v in STATUS_RANK.items())
    return f"(CASE {col} {whens} END)"


_RESTRICTED_RANK = STATUS_RANK[FormularyStatusCode.RESTRICTED]

# Changes (records effective in a window) with the status each replaced — the previous record of the same account
# × product × indication × source, else (product-wide, no earlier own record) the status inherited from the nearest
# account above the day before — and the kind of change, computed in SQL exactly as FormularyChange.kind does.
_CHANGES_SQL = f"""
WITH ch AS MATERIALIZED (
    SELECT f.id, f.status, f.effective_from, COALESCE(
        (SELECT g.status FROM market_access_formularystatus g
         WHERE g.account_id = f.account_id AND g.product_id = f.product_id AND g.source = f.source
           AND g.indication_id IS NOT DISTINCT FROM f.indication_id AND g.effective_from < f.effective_from
         ORDER BY g.effective_from DESC LIMIT 1),
        (SELECT f2.status FROM accounts_account a
         CROSS JOIN LATERAL unnest(a.ancestors) WITH ORDINALITY AS u(anc, n)
         JOIN market_access_formularystatus f2 ON f2.account_id = u.anc
         WHERE f.indication_id IS NULL AND a.id = f.account_id AND f2.scope = '{FormularyScope.MEMBERS}'
           AND f2.indication_id IS NULL AND f2.product_id = f.product_id AND f2.effective_from < f.effective_from
           AND (f2.effective_to IS NULL OR f2.effective_to >= f.effective_from - 1)
         ORDER BY u.n DESC, (f2.source = '{FormularySource.ENTERED}') DESC LIMIT 1)) AS previous
    FROM market_access_formularystatus f
    WHERE {{acc}} AND f.effective_from BETWEEN %(since)s AND %(until)s
),
k AS (
    SELECT ch.*, CASE
        WHEN {_rank_sql("status")} IS NULL THEN 'change'
        WHEN previous IS NULL THEN CASE WHEN {_rank_sql("status")} >= {_RESTRICTED_RANK} THEN 'win' ELSE 'change' END
        WHEN {_rank_sql("previous")} IS NULL
            THEN CASE WHEN {_rank_sql("status")} >= {_RESTRICTED_RANK} THEN 'win' ELSE 'loss' END
        WHEN {_rank_sql("status")} > {_rank_sql("previous")} THEN 'win'
        WHEN {_rank_sql("status")} < {_rank_sql("previous")} THEN 'loss'
        ELSE 'change' END AS kind
    FROM ch
)
SELECT id, previous, kind,
       count(*) FILTER (WHERE kind = 'win') OVER (), count(*) FILTER (WHERE kind = 'loss') OVER (),
       count(*) FILTER (WHERE kind = 'win' AND effective_from >= %(d30)s) OVER (),
       count(*) FILTER (WHERE kind = 'loss' AND effective_from >= %(d30)s) OVER (),
       count(*) FILTER (WHERE kind = 'change') OVER (),
       count(*) FILTER (WHERE kind = 'change' AND effective_from >= %(d30)s) OVER ()
FROM k ORDER BY effective_from DESC, id DESC LIMIT %(limit)s"""


def formulary_changes(
    *, accounts: QuerySet[Account] | list[int], since: dt.date, until: dt.date, limit: int = LIST_LIMIT
) -> tuple[list[FormularyChange], Counter[tuple[str, int]]]:
    """Changes (new records) effective in [since, until] at ``accounts`` (an already-scoped queryset, or ids), newest
    first (the first ``limit``), with the status they replaced; and counts of wins/losses/other changes for the
    last 30 and 90 days before ``until``: ``counts[("win", 30)]``. Counted in SQL: two queries at any scale."""
    params: dict[str, Any]
    if isinstance(accounts, list):  # a constant array: PostgreSQL hashes it (no nested loop over the accounts)
        acc_filter, params = "f.account_id = ANY(%(acc_ids)s::bigint[])", {"acc_ids": accounts}
    else:
        acc_body, params = _acc_cte(accounts)
        acc_filter = f"f.account_id IN (SELECT x.id FROM ({acc_body}) x)"
    params.update(since=since, until=until, d30=until - dt.timedelta(days=30), limit=max(1, limit))
    with connection.cursor() as cur:
        cur.execute(_CHANGES_SQL.format(acc=acc_filter), params)
        rows = cur.fetchall()
    counts: Counter[tuple[str, int]] = Counter()
    if rows:
        w90, l90, w30, l30, c90, c30 = rows[0][3:]
        counts.update({("win", 90): w90, ("loss", 90): l90, ("win", 30): w30, ("loss", 30): l30,
                       ("change", 90): c90, ("change", 30): c30})  # fmt: skip
    previous_of = {r[0]: r[1] for r in rows}
    records = (
        FormularyStatus.objects.filter(pk__in=list(previous_of))
        .select_related("account", "product", "committee")
        .only("id", "account__name", "product__name", "committee__name", "status", "effective_from", "source",
              "indication_id", "restriction_kinds", "tier", "account_id", "product_id", "committee_id")
        .order_by("-effective_from", "-pk")
    ) if rows else []  # fmt: skip
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
    reviews: Sequence[FormularyStatus]
    review_count: int
    protocol_reviews: list[Protocol]
    meetings: list[Committee]
    gaps: list[TargetGap]
    gap_count: int
    row_count: int = 0  # accounts in the matrix (all, or those matching the product + status filter)
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


_LEVEL_ORDER = ["strategic", "key", "basic", "unassessed", "declined"]


def _ordered_ids(accounts: QuerySet[Account]) -> list[int]:
    """The ids of the dashboard's accounts in matrix order (strategic first, then by name): one query."""
    from django.db.models import Case, IntegerField, Value, When

    rank = Case(*[When(kam_level=lvl, then=Value(i)) for i, lvl in enumerate(_LEVEL_ORDER)], default=Value(9),
                output_field=IntegerField())  # fmt: skip
    return list(accounts.order_by(rank, "name", "pk").values_list("pk", flat=True))


def _distribution(
    ids: list[int], *, on: dt.date, product_ids: list[int], filter_product: int | None
) -> tuple[dict[int, dict[str, int]], dict[str, set[int]], list[int]]:
    """One query over the status in force of every account × product of the scope: accounts per product and status,
    — for ``filter_product`` — the accounts in each status of that product, and the ids of the open plans' formulary
    targets (at those accounts) that the status in force does not meet."""
    distribution: dict[int, dict[str, int]] = {p: {} for p in product_ids}
    members: dict[str, set[int]] = {}
    gap_ids: list[int] = []
    if not ids or not product_ids:
        return distribution, members, gap_ids
    acc_body, params = _acc_cte(ids)
    params.update(on=on, products=product_ids, fp=filter_product, open=list(OPEN_PLAN_STATUSES))
    target_rank = " ".join(f"WHEN '{k}' THEN {v}" for k, v in TARGET_RANK.items())
    # ``best`` again, as a hash aggregate instead of a sort (6,000 accounts × 10 products: ~70,000 candidates), and
    # without reading the records back: the winner is the max of one bigint packing nearness (bits 36+), "our entry"
    # (bit 35), the record id (bits 3-34, ids below 2³²) and its status (bits 0-2).
    codes = list(FormularyStatusCode.values)
    status_code = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(codes))
    code_rank = " ".join(f"WHEN {i} THEN {STATUS_RANK[c]}" for i, c in enumerate(codes) if c in STATUS_RANK)
    sql = f"""{_cand_sql(acc_body)},
packed AS (
    SELECT c.for_account, c.product_id,
           max(c.nearness::bigint * 68719476736 + (c.source = '{FormularySource.ENTERED}')::int * 34359738368
               + c.fid::bigint * 8 + (CASE f.status {status_code} END)) AS k
    FROM cand c JOIN market_access_formularystatus f ON f.id = c.fid GROUP BY 1, 2
),
rs AS (SELECT for_account, product_id, (k & 7)::int AS status FROM packed),
gaps AS (
    SELECT t.id FROM market_access_formularytarget t JOIN plans_accountplan pl ON pl.id = t.plan_id
    LEFT JOIN rs ON rs.for_account = pl.account_id AND rs.product_id = t.product_id
    WHERE pl.account_id = ANY(%(acc_ids)s::bigint[]) AND pl.status = ANY(%(open)s)
      AND t.product_id = ANY(%(products)s::bigint[])
      AND COALESCE((CASE rs.status {code_rank} END), 0) < (CASE t.target_status {target_rank} END)
)
SELECT product_id, status, count(*), array_agg(for_account) FILTER (WHERE product_id = %(fp)s)
FROM rs GROUP BY 1, 2
UNION ALL
SELECT NULL, NULL, 0, array_agg(id ORDER BY id) FROM gaps"""
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for product_id, status, n, accs in cur.fetchall():
            if product_id is None:
                gap_ids = list(accs or [])
                continue
            distribution.setdefault(product_id, {})[codes[status]] = n
            if accs:
                members[codes[status]] = set(accs)
    for product_id in distribution:
        distribution[product_id]["none"] = len(ids) - sum(distribution[product_id].values())
    return distribution, members, gap_ids


def _gaps_listed(actor: User, gap_ids: list[int], *, on: dt.date) -> list[TargetGap]:
    """The first targets not met (ids from :func:`_distribution`) with their plan, product and status in force."""
    if not gap_ids:
        return []
    targets = list(
        FormularyTarget.objects.filter(pk__in=gap_ids).select_related("plan", "plan__account", "product", "objective")
    )
    current = _resolve_views(actor, sorted({t.plan.account_id for t in targets}), on=on,
                             product_ids=sorted({t.product_id for t in targets}))  # fmt: skip
    gaps = [TargetGap(t, current.get((t.plan.account_id, t.product_id))) for t in targets]
    gaps.sort(key=lambda g: (g.target.plan.account.name, g.target.product.name))
    return gaps


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
    list_limit: int = LIST_LIMIT,
    products: list[Product] | None = None,
) -> FormularyDashboard:
    """Everything the formulary dashboard shows, for the actor's scope (or one person's portfolio within it).

    Set-based and a constant number of queries whatever the number of accounts: the scope's ids in matrix order
    (1), the status in force of every account × product counted per product and status with the inheritance rule
    in SQL (1), one page of the matrix with everything its cells show (1 + the page's accounts), changes with their
    kind and counts (2), reviews with their count (1), protocol reviews (1), meetings (1); plan targets not met are
    counted in the distribution query, the listed ones read with their status (2)."""
    today = on or timezone.localdate()
    if products is None:  # the caller may pass formulary_products(actor=actor) it already has
        products = formulary_products(actor=actor)
    if therapeutic_area_id:
        products = [p for p in products if p.therapeutic_area_id == therapeutic_area_id]
    product_ids = [p.pk for p in products]
    accounts = dashboard_accounts(actor=actor, account_type=account_type, kam_level=kam_level,
                                  portfolio_of=portfolio_of)  # fmt: skip
    ids = _ordered_ids(accounts)
    total = len(ids)
    filter_product = product_id if product_id and status and product_id in product_ids else None
    distribution, by_status, gap_ids = _distribution(
        ids, on=today, product_ids=product_ids, filter_product=filter_product
    )
    row_ids = ids
    if filter_product is not None:
        if status == "none":
            listed = set().union(*by_status.values()) if by_status else set()
            row_ids = [i for i in ids if i not in listed]
        else:
            wanted = by_status.get(str(status), set())
            row_ids = [i for i in ids if i in wanted]
    elif product_id and status:
        row_ids = []  # a product outside the matrix (another therapeutic area): nothing matches
    count = len(row_ids)
    pages = max(1, -(-count // page_size))
    page = min(max(1, page), pages)
    page_ids = row_ids[(page - 1) * page_size : page * page_size]
    rows: list[MatrixRow] = []
    if page_ids:
        by_pk = {a.pk: a for a in Account.objects.filter(pk__in=page_ids).only("id", "name", "type", "kam_level")}
        current = _resolve_views(actor, page_ids, on=today, product_ids=product_ids) if product_ids else {}
        rows = [MatrixRow(by_pk[i], [current.get((i, p)) for p in product_ids]) for i in page_ids]
    changes, change_counts = formulary_changes(
        accounts=ids, since=today - dt.timedelta(days=90), until=today, limit=list_limit
    )
    horizon = today + dt.timedelta(days=90)
    in_ids = RawSQL("SELECT unnest(%s::bigint[])", [ids])
    review_qs = FormularyStatus.objects.filter(
        account_id__in=in_ids, next_review__gte=today, next_review__lte=horizon
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=today))
    if product_ids:
        review_qs = review_qs.filter(product_id__in=product_ids)
    reviews = list(
        review_qs.select_related("account", "product", "committee")
        .annotate(total=Window(Count("id")))
        .only("id", "account__name", "product__name", "committee__name", "status", "next_review", "account_id",
              "product_id", "committee_id", "source")
        .order_by("next_review", "account__name")[:list_limit]
    )  # fmt: skip
    review_count = reviews[0].total if reviews else 0  # type: ignore[attr-defined]
    protocol_reviews = list(
        Protocol.objects.filter(account_id__in=in_ids, review_date__gte=today, review_date__lte=horizon)
        .exclude(status="retired")
        .select_related("account")
        .only("id", "name", "review_date", "status", "account_id", "account__name")
        .order_by("review_date", "name")[:20]
    )
    meetings = list(
        Committee.objects.filter(
            account_id__in=in_ids,
            kind__in=DECIDING_COMMITTEE_KINDS,
            next_meeting__gte=today,
            next_meeting__lte=today + dt.timedelta(days=60),
        )
        .select_related("account")
        .only("id", "name", "kind", "next_meeting", "meeting_cadence", "account__name", "account_id")
        .order_by("next_meeting", "name")[:20]
    )
    gaps, gap_count = _gaps_listed(actor, gap_ids[:list_limit], on=today), len(gap_ids)
    return FormularyDashboard(
        on=today, products=products, account_count=total, distribution=distribution, rows=rows, page=page,
        pages=pages, changes=changes, change_counts=change_counts, reviews=reviews, review_count=review_count,
        protocol_reviews=protocol_reviews, meetings=meetings, gaps=gaps, gap_count=gap_count, row_count=count,
        filters={"account_type": account_type, "kam_level": kam_level, "therapeutic_area_id": therapeutic_area_id,
                 "product_id": product_id, "status": status, "portfolio_of": portfolio_of},
    )  # fmt: skip


# --- plan targets ---------------------------------------------------------------------------------------
def target_gaps(
    *,
    actor: User,
    accounts: QuerySet[Account] | list[int],
    on: dt.date,
    product_ids: list[int] | None = None,
    limit: int = LIST_LIMIT,
) -> tuple[list[TargetGap], int]:
    """Targets of open plans at ``accounts`` (already scoped: a queryset or ids) that the status in force does not
    meet: three queries."""
    account_filter = (
        RawSQL("SELECT unnest(%s::bigint[])", [accounts]) if isinstance(accounts, list)
        else accounts.order_by().values("pk")
    )  # fmt: skip
    targets = FormularyTarget.objects.filter(plan__account_id__in=account_filter, plan__status__in=OPEN_PLAN_STATUSES)
    if product_ids is not None:
        targets = targets.filter(product_id__in=product_ids)
    pairs = list(targets.values_list("pk", "plan__account_id", "product_id", "target_status"))
    if not pairs:
        return [], 0
    current = _resolve_views(actor, sorted({p[1] for p in pairs}), on=on, product_ids=sorted({p[2] for p in pairs}))
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
    current = _resolve_views(actor, [m.pk for m in members], on=today, product_ids=[p.pk for p in products])
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


# --- FHIR formulary imports -------------------------------------------------------------------------------
def formulary_import_get(*, actor: User, import_id: int, with_data: bool = False) -> FormularyImport:
    """An import of an account the actor may see (the file's bytes only with ``with_data``)."""
    if not valid_id(import_id):
        raise NotFound(_("No such import."), code="formulary_import_not_found")
    qs = FormularyImport.objects.filter(account__in=account_scope(actor=actor), pk=import_id).select_related(
        "account", "uploaded_by", "job"
    )
    if not with_data:
        qs = qs.defer("data")
    imp = qs.first()
    if imp is None:
        raise NotFound(_("No such import."), code="formulary_import_not_found")
    return imp


def formulary_import_list(*, actor: User, account: Account) -> QuerySet[FormularyImport]:
    """The imports of an account (from an access-checked selector), newest first."""
    return (
        FormularyImport.objects.filter(account_id=account.pk)
        .defer("data", "preview")
        .select_related("uploaded_by", "job")
        .order_by("-created_at", "-pk")
    )
