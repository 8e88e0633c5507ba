"""Commercial reads: whitespace grid, pipeline and forecast, tender calendar and bid analysis, account P&L.

Every read is restricted to the accounts the actor may see (``account_scope``); an account fetched through
``account_get`` is visible with everything below it (``account_subtree``). Medical users never see money: P&L and
forecasts are refused to them (:func:`require_figures`), opportunity values and whitespace potential are left out
by the interfaces (:func:`sees_figures`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connection
from django.db.models import DEFERRED, Count, F, Model, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account, AccountType
from openkam.accounts.selectors import account_get, account_scope, account_subtree, valid_id
from openkam.commercial.models import (
    OPEN_STAGES,
    BidAssessment,
    CellStatus,
    CostToServe,
    Opportunity,
    RiskFactor,
    SalesImport,
    SalesLine,
    Stage,
    Tender,
    TenderLot,
    WhitespaceCell,
)
from openkam.core.access import can_write, is_admin
from openkam.core.errors import NotFound, PermissionDenied
from openkam.core.models import Role, User
from openkam.portfolio.models import Indication, Product

ZERO = Decimal("0")
M = TypeVar("M", bound=Model)


# --- who may do what ---------------------------------------------------------------------------------------
def sees_figures(actor: User) -> bool:
    """Medical never sees P&L, pricing or opportunity values."""
    return bool(actor.is_active and actor.role != Role.MEDICAL)


def require_figures(actor: User) -> None:
    if not sees_figures(actor):
        raise PermissionDenied(_("Commercial figures are not shown to medical roles."), code="figures_hidden")


def can_edit_commercial(actor: User) -> bool:
    """KAMs, leads and market access work on whitespace, opportunities and tenders (compliance reads)."""
    return can_write(actor) and (actor.role in (Role.KAM, Role.LEAD, Role.MARKET_ACCESS) or is_admin(actor))


def can_confirm_bid(actor: User) -> bool:
    return can_write(actor) and (actor.role == Role.LEAD or is_admin(actor))


# --- whitespace -------------------------------------------------------------------------------------------
# Column statuses, strongest first: an IDN's hospital is "used" when one of its units uses the indication.
_PRIORITY = [CellStatus.USED, CellStatus.COMPETITOR, CellStatus.FORMULARY_ONLY, CellStatus.NOT_USED,
             CellStatus.NOT_APPLICABLE]  # fmt: skip
_LISTED = {"on_formulary", "on", "listed", "restricted", "on_restricted", "preferred", "active"}


def _formulary_listed(view: Any) -> bool:
    """Whether a formulary status (market_access's ``FormularyStatusView``) puts the product on formulary."""
    for attr in ("is_listed", "on_formulary", "listed"):
        value = getattr(view, attr, None)
        if isinstance(value, bool):
            return value
    status = str(getattr(view, "status", "") or "")
    return status in _LISTED or status.startswith("on_")


def _formulary(*, actor: User, account_ids: list[int], product_ids: list[int]) -> dict[tuple[int, int], Any]:
    try:
        from openkam.market_access.selectors import formulary_current
    except ImportError:  # the formulary is not installed: no "formulary only" cells
        return {}
    return dict(formulary_current(actor=actor, account_ids=account_ids, product_ids=product_ids) or {})


@dataclass(slots=True)
class GridCell:
    column_id: int
    indication_id: int
    product_id: int
    status: str
    recorded: bool  # a WhitespaceCell row exists (at the column or below it)
    potential_value: Decimal | None = None
    currency: str = "USD"
    our_share: Decimal | None = None
    competitor: str = ""
    contract_end: dt.date | None = None
    notes: str = ""
    units: int = 0  # recorded units below the column (IDN view)
    opportunity_id: int | None = None
    formulary: bool = False

    @property
    def is_gap(self) -> bool:
        """An expansion opportunity: not used (or only listed) and no open opportunity yet."""
        return self.status in _GAP_STATUSES and self.opportunity_id is None

    @property
    def status_label(self) -> str:
        return str(CellStatus(self.status).label)


_GAP_STATUSES = frozenset({CellStatus.NOT_USED.value, CellStatus.FORMULARY_ONLY.value})


@dataclass
class GridRow:
    indication: Indication
    cells: list[GridCell]


@dataclass
class WhitespaceGrid:
    account: Account
    columns: list[Account]
    rows: list[GridRow]
    counts: dict[str, int] = field(default_factory=dict)
    gaps: int = 0
    open_opportunities: int = 0
    potential_by_currency: dict[str, Decimal] = field(default_factory=dict)  # potential of the gaps
    used_share: float | None = None  # % of applicable cells in use


# The grid's data in ONE round trip to the database (three statements in one ``execute``; on a busy server every
# round trip costs more than these small statements themselves): (1) the columns — the account's direct units /
# member hospitals, not pharmacies; (2) the rows — approved indications of marketed / launched products; (3) the
# roll-up of recorded cells and open opportunities to the columns, grouped per column × indication. A row below the
# account belongs to the column in its ``ancestors`` (or is the column); with no units, the account itself is the
# only column and everything below it rolls up to it.
_GRID_SQL = """
SELECT a.id, a.name, a.type, a.ancestors, a.depth FROM accounts_account a
WHERE a.parent_id = %(account)s AND a.type <> ALL(%(excluded)s) ORDER BY a.name, a.id;
SELECT i.id, i.name, i.product_id, p.name FROM portfolio_indication i JOIN portfolio_product p ON p.id = i.product_id
WHERE i.approved AND p.status = ANY(%(product_statuses)s) ORDER BY p.name, i.name;
WITH cols AS (
    SELECT a.id FROM accounts_account a WHERE a.parent_id = %(account)s AND a.type <> ALL(%(excluded)s)
), own AS (
    SELECT NOT EXISTS (SELECT 1 FROM cols) AS own
), sub AS MATERIALIZED (
    SELECT a.id, CASE WHEN own.own THEN %(account)s WHEN a.parent_id = %(account)s THEN a.id
                      ELSE a.ancestors[%(child_index)s] END AS col
    FROM accounts_account a CROSS JOIN own
    WHERE (a.id = %(account)s OR a.ancestors @> ARRAY[%(account)s]::bigint[])
      AND (own.own OR a.parent_id = %(account)s OR a.ancestors[%(child_index)s] IN (SELECT id FROM cols))
), cells AS (
    SELECT s.col, c.indication_id,
           min(array_position(%(priority)s::text[], c.status::text)) AS rank,
           sum(c.potential_value) AS potential,
           min(c.currency) AS currency,
           sum(c.our_share * coalesce(nullif(c.potential_value, 0), 1)) FILTER (WHERE c.our_share IS NOT NULL) AS sw,
           sum(coalesce(nullif(c.potential_value, 0), 1)) FILTER (WHERE c.our_share IS NOT NULL) AS w,
           array_agg(c.competitor) FILTER (WHERE c.competitor <> '') AS competitors,
           min(c.contract_end) AS contract_end,
           CASE WHEN count(*) = 1 THEN min(c.notes) ELSE '' END AS notes,
           count(*) AS units
    FROM commercial_whitespacecell c JOIN sub s ON s.id = c.account_id
    WHERE s.col IS NOT NULL AND (s.col = %(account)s OR s.col IN (SELECT id FROM cols))
    GROUP BY 1, 2
), opps AS (
    SELECT s.col, o.indication_id, min(o.id) AS opportunity_id
    FROM commercial_opportunity o JOIN sub s ON s.id = o.account_id
    WHERE s.col IS NOT NULL AND (s.col = %(account)s OR s.col IN (SELECT id FROM cols))
      AND o.stage = ANY(%(open)s) AND o.indication_id IS NOT NULL
    GROUP BY 1, 2
)
SELECT coalesce(cells.col, opps.col), coalesce(cells.indication_id, opps.indication_id), cells.rank, cells.potential,
       cells.currency, cells.sw, cells.w, cells.competitors, cells.contract_end, cells.notes, cells.units,
       opps.opportunity_id
FROM cells FULL JOIN opps ON opps.col = cells.col AND opps.indication_id = cells.indication_id
"""
_SHARE_STEP = Decimal("0.1")
_PRODUCT_STATUSES = ["marketed", "launch"]


def _loaded(model: type[M], values: dict[str, Any]) -> M:
    """A model instance from some of its columns read by raw SQL, as the ORM makes it (other fields deferred)."""
    fields = model._meta.concrete_fields
    row = [values.get(f.attname, DEFERRED) for f in fields]
    return model.from_db(connection.alias, [f.attname for f in fields if f.attname in values], row)


def _competitor(names: list[str] | None) -> str:
    """The most frequent competitor named in a column's units (one of them on a tie)."""
    if not names:
        return ""
    return names[0] if len(names) == 1 else Counter(names).most_common(1)[0][0]


def whitespace_grid(*, actor: User, account_id: int) -> WhitespaceGrid:
    """Approved indications of our marketed / launched products × the account's units (or member hospitals), in a
    fixed number of queries. A column's cell sums what is recorded at the column and every unit below it (strongest
    status, potentials added, share weighted by potential, most frequent competitor, earliest contract end) — the
    roll-up is grouped in SQL, so the Python work is one small object per cell."""
    account = account_get(actor=actor, account_id=account_id)
    recorded: dict[tuple[int, int], tuple[Any, ...]] = {}
    opps: dict[tuple[int, int], int] = {}
    with connection.cursor() as cur:
        cur.execute(
            _GRID_SQL,
            {
                "account": account.pk,
                "excluded": [AccountType.PHARMACY.value],
                "product_statuses": _PRODUCT_STATUSES,
                "child_index": len(account.ancestors or []) + 2,  # a direct child's place in ``ancestors`` (1-based)
                "priority": [s.value for s in _PRIORITY],
                "open": [s.value for s in OPEN_STAGES],
            },
        )
        columns = [
            _loaded(Account, {"id": pk, "name": name, "type": kind, "ancestors": ancestors, "depth": depth})
            for pk, name, kind, ancestors, depth in cur.fetchall()
        ]
        cur.cursor.nextset()
        indications = []
        for ind_id, name, product_id, product_name in cur.cursor.fetchall():
            ind = _loaded(Indication, {"id": ind_id, "name": name, "product_id": product_id})
            ind.product = _loaded(Product, {"id": product_id, "name": product_name})
            indications.append(ind)
        cur.cursor.nextset()
        for col, ind_id, *rest, opp_id in cur.cursor.fetchall():
            if rest[0] is not None:
                recorded[(col, ind_id)] = tuple(rest)
            if opp_id is not None:
                opps[(col, ind_id)] = opp_id
    columns = columns or [account]
    column_ids = [c.pk for c in columns]
    product_ids = sorted({i.product_id for i in indications})
    lookup_ids = sorted({*column_ids, account.pk, *account.ancestors})
    formulary = _formulary(actor=actor, account_ids=lookup_ids, product_ids=product_ids)
    listed = {key for key, view in formulary.items() if _formulary_listed(view)}
    column_chains = [(c.pk, [c.pk, *reversed(c.ancestors or [])]) for c in columns]
    listed_at = {
        (col, pid): any((a, pid) in listed for a in chain) for col, chain in column_chains for pid in product_ids
    }

    grid = WhitespaceGrid(account=account, columns=columns, rows=[])
    counts: Counter[str] = Counter()
    potential: dict[str, Decimal] = defaultdict(lambda: ZERO)
    not_used, formulary_only = CellStatus.NOT_USED.value, CellStatus.FORMULARY_ONLY.value
    priority = [s.value for s in _PRIORITY]
    for ind in indications:
        row = GridRow(indication=ind, cells=[])
        cells = row.cells
        ind_id, pid = ind.pk, ind.product_id
        for col in column_ids:
            listed_here = listed_at[(col, pid)]
            rec = recorded.get((col, ind_id))
            opp_id = opps.get((col, ind_id))
            if rec is None:
                status = formulary_only if listed_here else not_used
                cell = GridCell(col, ind_id, pid, status, False, formulary=listed_here, opportunity_id=opp_id)
            else:
                rank, value, currency, sw, w, competitors, end, notes, units = rec
                status = priority[rank - 1]
                if status == not_used and listed_here:
                    status = formulary_only
                share = (sw / w).quantize(_SHARE_STEP) if sw is not None and w else None
                cell = GridCell(col, ind_id, pid, status, True, value, currency, share, _competitor(competitors), end,
                                notes or "", units, opp_id, listed_here)  # fmt: skip
            counts[status] += 1
            if opp_id is not None:
                grid.open_opportunities += 1
            elif status in _GAP_STATUSES:
                grid.gaps += 1
                if cell.potential_value:
                    potential[cell.currency] += cell.potential_value
            cells.append(cell)
        grid.rows.append(row)
    grid.counts = {s.value: counts.get(s.value, 0) for s in CellStatus}
    applicable = sum(n for s, n in counts.items() if s != CellStatus.NOT_APPLICABLE)
    grid.used_share = round(100 * counts[CellStatus.USED] / applicable, 1) if applicable else None
    grid.potential_by_currency = dict(potential)
    return grid


def whitespace_cell_find(*, actor: User, account_id: int, indication_id: int) -> WhitespaceCell | None:
    """The recorded cell of a visible account × indication (None when nothing is recorded)."""
    account = account_get(actor=actor, account_id=account_id)
    return WhitespaceCell.objects.filter(account_id=account.pk, indication_id=indication_id).first()


# --- opportunities and pipeline ------------------------------------------------------------------------------
def opportunity_scope(*, actor: User) -> QuerySet[Opportunity]:
    return Opportunity.objects.filter(account__in=account_scope(actor=actor))


def opportunity_list(
    *,
    actor: User,
    account_id: int | None = None,
    include_below: bool = True,
    stage: str | None = None,
    open_only: bool = False,
    owner_id: int | None = None,
    team_id: int | None = None,
    q: str = "",
) -> QuerySet[Opportunity]:
    """Visible opportunities (of one account and, by default, everything below it), soonest close first."""
    if account_id is not None:
        account = account_get(actor=actor, account_id=account_id)
        qs = Opportunity.objects.filter(account__in=account_subtree(account=account) if include_below else [account.pk])
    else:
        qs = opportunity_scope(actor=actor)
    if stage:
        qs = qs.filter(stage=stage)
    if open_only:
        qs = qs.filter(stage__in=OPEN_STAGES)
    if owner_id:
        qs = qs.filter(owner_id=owner_id) if valid_id(owner_id) else qs.none()
    if team_id:
        qs = qs.filter(owner__team_id=team_id) if valid_id(team_id) else qs.none()
    q = (q or "").replace("\x00", "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(account__name__icontains=q))
    return (
        qs.select_related("account", "owner", "indication", "objective", "objective__plan")
        .prefetch_related("products")
        .order_by("expected_close", "pk")
    )


def opportunity_get(*, actor: User, opportunity_id: int) -> Opportunity:
    if not valid_id(opportunity_id):
        raise NotFound(_("No such opportunity."), code="opportunity_not_found")
    opp = (
        opportunity_scope(actor=actor)
        .select_related("account", "owner", "indication", "objective", "objective__plan")
        .prefetch_related("products")
        .filter(pk=opportunity_id)
        .first()
    )
    if opp is None:
        raise NotFound(_("No such opportunity."), code="opportunity_not_found")
    return opp


@dataclass
class StageTotal:
    stage: str
    label: str
    count: int = 0
    value: Decimal = ZERO
    weighted: Decimal = ZERO


@dataclass
class Pipeline:
    currency: str
    stages: list[StageTotal]
    open_count: int = 0
    open_value: Decimal = ZERO
    weighted: Decimal = ZERO
    won_value: Decimal = ZERO
    lost_value: Decimal = ZERO
    by_team: list[dict[str, Any]] = field(default_factory=list)
    by_child: list[dict[str, Any]] = field(default_factory=list)
    months: list[dict[str, Any]] = field(default_factory=list)  # forecast by month of expected close

    @property
    def win_rate(self) -> float | None:
        closed = self.won_value + self.lost_value
        return round(float(100 * self.won_value / closed), 1) if closed else None


def _weighted() -> Any:
    return Sum(F("value") * F("probability") / 100)


def pipeline_rollup(
    *, actor: User, account_id: int | None = None, team_id: int | None = None, months: int = 12
) -> list[Pipeline]:
    """The pipeline (one per currency): per stage, per team, per direct child of the account (own + members for
    an IDN), and the forecast by month of expected close (open value weighted by probability, and won value)."""
    require_figures(actor)
    qs = opportunity_list(actor=actor, account_id=account_id, team_id=team_id).order_by()
    qs = qs.select_related(None).prefetch_related(None)
    by_stage = qs.values("currency", "stage").annotate(n=Count("pk"), v=Sum("value"), w=_weighted())
    out: dict[str, Pipeline] = {}

    def pipe(currency: str) -> Pipeline:
        if currency not in out:
            out[currency] = Pipeline(currency, [StageTotal(s.value, str(s.label)) for s in Stage])
        return out[currency]

    for row in by_stage:
        p = pipe(row["currency"])
        st = next(s for s in p.stages if s.stage == row["stage"])
        st.count, st.value, st.weighted = row["n"], row["v"] or ZERO, (row["w"] or ZERO).quantize(Decimal("0.01"))
        if row["stage"] in OPEN_STAGES:
            p.open_count += row["n"]
            p.open_value += st.value
            p.weighted += st.weighted
        elif row["stage"] == Stage.WON:
            p.won_value += st.value
        else:
            p.lost_value += st.value
    open_qs = qs.filter(stage__in=OPEN_STAGES)
    for row in (
        open_qs.values("currency", "owner__team_id", "owner__team__name")
        .annotate(n=Count("pk"), v=Sum("value"), w=_weighted())
        .order_by("-v")
    ):
        pipe(row["currency"]).by_team.append(
            {"team_id": row["owner__team_id"], "team": row["owner__team__name"] or _("No team"), "count": row["n"],
             "value": row["v"] or ZERO, "weighted": (row["w"] or ZERO).quantize(Decimal("0.01"))}
        )  # fmt: skip
    if account_id is not None:
        account = account_get(actor=actor, account_id=account_id)
        index = len(account.ancestors) + 1  # a direct child's position in a descendant's ancestors
        names = dict(Account.objects.filter(parent_id=account.pk).values_list("pk", "name"))
        grouped: dict[tuple[str, int], list[Any]] = {}
        for currency, acc_id, ancestors, n, v, w in (
            open_qs.values_list("currency", "account_id", "account__ancestors")
            .annotate(n=Count("pk"), v=Sum("value"), w=_weighted())
            .order_by()
        ):
            if acc_id == account.pk:
                child = account.pk
            else:
                child = acc_id if acc_id in names else (ancestors[index] if len(ancestors) > index else acc_id)
            g = grouped.setdefault((currency, child), [0, ZERO, ZERO])
            g[0] += n
            g[1] += v or ZERO
            g[2] += w or ZERO
        for (currency, child), (n, v, w) in sorted(grouped.items(), key=lambda kv: -kv[1][1]):
            label = account.name + " " + _("(own)") if child == account.pk else names.get(child, "?")
            pipe(currency).by_child.append(
                {"account_id": child, "account": label, "count": n, "value": v, "weighted": w.quantize(Decimal("0.01"))}
            )
    today = timezone.localdate()
    first = today.replace(day=1)
    start = (first - dt.timedelta(days=1)).replace(day=1)  # last month too: what slipped
    month_keys = []
    m = start
    for _i in range(months + 1):
        month_keys.append(m)
        m = (m + dt.timedelta(days=32)).replace(day=1)
    end = m
    forecast = (
        qs.filter(expected_close__gte=start, expected_close__lt=end, stage__in=[*OPEN_STAGES, Stage.WON])
        .annotate(month=TruncMonth("expected_close"))
        .values("currency", "month", "stage")
        .annotate(v=Sum("value"), w=_weighted())
        .order_by()
    )
    cells: dict[tuple[str, dt.date], dict[str, Decimal]] = defaultdict(lambda: {"open": ZERO, "weighted": ZERO,
                                                                                "won": ZERO})  # fmt: skip
    for row in forecast:
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        c = cells[(row["currency"], month)]
        if row["stage"] == Stage.WON:
            c["won"] += row["v"] or ZERO
        else:
            c["open"] += row["v"] or ZERO
            c["weighted"] += row["w"] or ZERO
    for currency in {k[0] for k in cells}:
        pipe(currency)
    for p in out.values():
        p.months = [
            {"month": mk, **{k: v.quantize(Decimal("0.01")) for k, v in cells[(p.currency, mk)].items()}}
            for mk in month_keys
        ]
    return sorted(out.values(), key=lambda p: (-p.open_value, p.currency))


# --- tenders -------------------------------------------------------------------------------------------------
def tender_scope(*, actor: User) -> QuerySet[Tender]:
    return Tender.objects.filter(account__in=account_scope(actor=actor))


def tender_list(
    *,
    actor: User,
    account_id: int | None = None,
    when: str = "",
    outcome: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> QuerySet[Tender]:
    """Visible tenders (of an account and everything below it), by submission deadline. ``when``: ``upcoming``
    (deadline today or later, soonest first) or ``past`` (latest first)."""
    if account_id is not None:
        account = account_get(actor=actor, account_id=account_id)
        qs = Tender.objects.filter(account__in=account_subtree(account=account))
    else:
        qs = tender_scope(actor=actor)
    today = timezone.localdate()
    if when == "upcoming":
        qs = qs.filter(submission_deadline__gte=today)
    elif when == "past":
        qs = qs.filter(submission_deadline__lt=today)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if start:
        qs = qs.filter(submission_deadline__gte=start)
    if end:
        qs = qs.filter(submission_deadline__lte=end)
    qs = qs.select_related("account", "assessment").prefetch_related("responsible")
    order = ["-submission_deadline", "-pk"] if when == "past" else ["submission_deadline", "pk"]
    return qs.annotate(lot_count=Count("lots", distinct=True)).order_by(*order)


def tender_get(*, actor: User, tender_id: int) -> Tender:
    if not valid_id(tender_id):
        raise NotFound(_("No such tender."), code="tender_not_found")
    tender = (
        tender_scope(actor=actor)
        .select_related("account", "assessment", "assessment__assessed_by", "assessment__decided_by")
        .prefetch_related(
            "responsible", Prefetch("lots", queryset=TenderLot.objects.prefetch_related("products").order_by("number"))
        )
        .filter(pk=tender_id)
        .first()
    )
    if tender is None:
        raise NotFound(_("No such tender."), code="tender_not_found")
    return tender


def tender_assessment(tender: Tender) -> BidAssessment | None:
    try:
        return tender.assessment
    except BidAssessment.DoesNotExist:
        return None


def risk_factor_list(*, actor: User, active_only: bool = True) -> QuerySet[RiskFactor]:
    if not actor.is_active:
        return RiskFactor.objects.none()
    qs = RiskFactor.objects.all()
    return qs.filter(active=True) if active_only else qs


def risk_factor_get(*, actor: User, factor_id: int) -> RiskFactor:
    qs = risk_factor_list(actor=actor, active_only=False)
    factor = qs.filter(pk=factor_id).first() if valid_id(factor_id) else None
    if factor is None:
        raise NotFound(_("No such risk factor."), code="risk_factor_not_found")
    return factor


# --- account P&L -------------------------------------------------------------------------------------------------
PNL_FIELDS = ("gross_sales", "discounts", "rebates", "net_sales", "cogs", "cost_to_serve", "contribution")


@dataclass
class PnlPeriod:
    month: dt.date
    gross_sales: Decimal = ZERO
    discounts: Decimal = ZERO
    rebates: Decimal = ZERO
    cogs: Decimal = ZERO
    team_time: Decimal = ZERO
    events: Decimal = ZERO
    samples: Decimal = ZERO
    services: Decimal = ZERO

    @property
    def net_sales(self) -> Decimal:
        return self.gross_sales - self.discounts - self.rebates

    @property
    def cost_to_serve(self) -> Decimal:
        return self.team_time + self.events + self.samples + self.services

    @property
    def contribution(self) -> Decimal:
        return self.net_sales - self.cogs - self.cost_to_serve

    @property
    def margin(self) -> float | None:
        return round(float(100 * self.contribution / self.net_sales), 1) if self.net_sales else None

    def add(self, other: PnlPeriod) -> None:
        for name in ("gross_sales", "discounts", "rebates", "cogs", "team_time", "events", "samples", "services"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Pnl:
    account: Account
    currency: str
    start: dt.date
    end: dt.date
    months: list[PnlPeriod]
    total: PnlPeriod
    years: list[tuple[int, PnlPeriod]]
    by_child: list[tuple[int, str, PnlPeriod]] = field(default_factory=list)


def _month_range(start: dt.date, end: dt.date) -> list[dt.date]:
    out, m = [], start.replace(day=1)
    while m <= end:
        out.append(m)
        m = (m + dt.timedelta(days=32)).replace(day=1)
    return out


def pnl_default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last 36 full months and the current one (three years of trend)."""
    today = today or timezone.localdate()
    start = today.replace(day=1)
    for _i in range(36):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return start, today


def account_pnl(
    *, actor: User, account_id: int, start: dt.date | None = None, end: dt.date | None = None, by_child: bool = False
) -> list[Pnl]:
    """The P&L of an account and everything below it (an IDN rolls up its members), by month, one per currency:
    two grouped queries (sales lines, cost to serve) whatever the size; ``by_child`` adds one per direct child."""
    require_figures(actor)
    account = account_get(actor=actor, account_id=account_id)
    if start is None or end is None:
        d_start, d_end = pnl_default_period()
        start, end = start or d_start, end or d_end
    start = start.replace(day=1)
    subtree = account_subtree(account=account)
    sales = (
        SalesLine.objects.filter(account__in=subtree, period__gte=start, period__lte=end)
        .values("currency", "period")
        .annotate(g=Sum("gross_sales"), d=Sum("discounts"), r=Sum("rebates"), c=Sum("cogs"))
        .order_by()
    )
    costs = (
        CostToServe.objects.filter(account__in=subtree, period__gte=start, period__lte=end)
        .values("currency", "period", "category")
        .annotate(a=Sum("amount"))
        .order_by()
    )
    months = _month_range(start, end)
    data: dict[str, dict[dt.date, PnlPeriod]] = {}

    def period(currency: str, month: dt.date) -> PnlPeriod:
        book = data.setdefault(currency, {m: PnlPeriod(m) for m in months})
        return book.setdefault(month, PnlPeriod(month))

    for row in sales:
        p = period(row["currency"], row["period"].replace(day=1))
        p.gross_sales += row["g"] or ZERO
        p.discounts += row["d"] or ZERO
        p.rebates += row["r"] or ZERO
        p.cogs += row["c"] or ZERO
    for row in costs:
        p = period(row["currency"], row["period"].replace(day=1))
        setattr(p, row["category"], getattr(p, row["category"]) + (row["a"] or ZERO))
    result = []
    for currency, book in data.items():
        ordered = [book[m] for m in sorted(book)]
        total = PnlPeriod(start)
        years: dict[int, PnlPeriod] = {}
        for p in ordered:
            total.add(p)
            years.setdefault(p.month.year, PnlPeriod(p.month.replace(month=1))).add(p)
        result.append(Pnl(account, currency, start, end, ordered, total, sorted(years.items())))
    result.sort(key=lambda p: -p.total.gross_sales)
    if by_child and result:
        _pnl_children(account, start, end, result)
    return result


def _pnl_children(account: Account, start: dt.date, end: dt.date, pnls: list[Pnl]) -> None:
    index = len(account.ancestors) + 1
    names = dict(Account.objects.filter(parent_id=account.pk).values_list("pk", "name"))
    if not names:
        return
    per: dict[tuple[str, int], PnlPeriod] = {}

    def child_of(acc_id: int, ancestors: list[int]) -> int:
        if acc_id in names or acc_id == account.pk:
            return acc_id
        return ancestors[index] if len(ancestors) > index else acc_id

    for currency, acc_id, ancestors, g, d, r, c in (
        SalesLine.objects.filter(account__in=account_subtree(account=account), period__gte=start, period__lte=end)
        .values_list("currency", "account_id", "account__ancestors")
        .annotate(g=Sum("gross_sales"), d=Sum("discounts"), r=Sum("rebates"), c=Sum("cogs"))
        .order_by()
    ):
        p = per.setdefault((currency, child_of(acc_id, ancestors)), PnlPeriod(start))
        p.gross_sales += g or ZERO
        p.discounts += d or ZERO
        p.rebates += r or ZERO
        p.cogs += c or ZERO
    for currency, acc_id, ancestors, category, a in (
        CostToServe.objects.filter(account__in=account_subtree(account=account), period__gte=start, period__lte=end)
        .values_list("currency", "account_id", "account__ancestors", "category")
        .annotate(a=Sum("amount"))
        .order_by()
    ):
        p = per.setdefault((currency, child_of(acc_id, ancestors)), PnlPeriod(start))
        setattr(p, category, getattr(p, category) + (a or ZERO))
    for pnl in pnls:
        rows = [(acc, names.get(acc, account.name + " " + _("(own)")), p) for (cur, acc), p in per.items()
                if cur == pnl.currency]  # fmt: skip
        pnl.by_child = sorted(rows, key=lambda r: -r[2].net_sales)


def cost_to_serve_list(*, actor: User, account_id: int, limit: int = 50) -> QuerySet[CostToServe]:
    require_figures(actor)
    account = account_get(actor=actor, account_id=account_id)
    return CostToServe.objects.filter(account_id=account.pk).order_by("-period", "category", "-pk")[:limit]


def sales_import_list(*, actor: User, limit: int = 20) -> QuerySet[SalesImport]:
    """The actor's own sales files (an administrator / compliance see everyone's)."""
    require_figures(actor)
    qs = SalesImport.objects.defer("data").select_related("uploaded_by", "job")
    if not (is_admin(actor) or actor.role == Role.COMPLIANCE):
        qs = qs.filter(uploaded_by=actor)
    return qs.order_by("-created_at", "-pk")[:limit]


def sales_import_get(*, actor: User, import_id: int, with_data: bool = False) -> SalesImport:
    require_figures(actor)
    qs = SalesImport.objects.select_related("uploaded_by", "job")
    if not with_data:
        qs = qs.defer("data")
    if not (is_admin(actor) or actor.role == Role.COMPLIANCE):
        qs = qs.filter(uploaded_by=actor)
    imp = qs.filter(pk=import_id).first() if valid_id(import_id) else None
    if imp is None:
        raise NotFound(_("No such sales import."), code="sales_import_not_found")
    return imp


# --- panels ------------------------------------------------------------------------------------------------------
@dataclass
class AccountCommercial:
    grid: WhitespaceGrid
    pipelines: list[Pipeline]
    open_opportunities: int
    next_tender: Tender | None
    upcoming_tenders: int
    pnl: list[Pnl]


def account_commercial_summary(*, actor: User, account_id: int) -> AccountCommercial:
    """What Account 360 shows: whitespace summary, pipeline headline, next tender deadline, last-12-month P&L
    headline (figures only for roles that see them)."""
    grid = whitespace_grid(actor=actor, account_id=account_id)
    figures = sees_figures(actor)
    pipelines = pipeline_rollup(actor=actor, account_id=account_id, months=0) if figures else []
    open_count = opportunity_list(actor=actor, account_id=account_id, open_only=True).count()
    upcoming = tender_list(actor=actor, account_id=account_id, when="upcoming")
    next_tender = upcoming.first()
    n_upcoming = upcoming.count() if next_tender else 0
    pnl: list[Pnl] = []
    if figures:
        today = timezone.localdate()
        start = (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1)
        pnl = account_pnl(actor=actor, account_id=account_id, start=start, end=today)
    return AccountCommercial(grid, pipelines, open_count, next_tender, n_upcoming, pnl)
