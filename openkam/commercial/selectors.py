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
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
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
from openkam.portfolio.models import Indication

ZERO = Decimal("0")


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


@dataclass
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
        return self.status in (CellStatus.NOT_USED, CellStatus.FORMULARY_ONLY) and self.opportunity_id is None

    @property
    def status_label(self) -> str:
        return str(CellStatus(self.status).label)


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


def _columns(account: Account) -> list[Account]:
    """The account's direct units / member hospitals (the account itself when it has none)."""
    children = list(
        Account.objects.filter(parent_id=account.pk)
        .exclude(type__in=[AccountType.PHARMACY])
        .only("pk", "name", "type", "ancestors", "depth")
        .order_by("name", "pk")
    )
    return children or [account]


def whitespace_grid(*, actor: User, account_id: int) -> WhitespaceGrid:
    """Approved indications of our marketed / launched products × the account's units (or member hospitals), in a
    fixed number of queries. A column's cell sums what is recorded at the column and every unit below it."""
    account = account_get(actor=actor, account_id=account_id)
    columns = _columns(account)
    column_ids = [c.pk for c in columns]
    own_column = columns == [account]
    indications = list(
        Indication.objects.filter(approved=True, product__status__in=["marketed", "launch"])
        .select_related("product")
        .order_by("product__name", "name")
    )
    # Every recorded cell at a column or below it, mapped to its column.
    cells_qs = WhitespaceCell.objects.filter(account__in=account_subtree(account=account, include_self=own_column))
    rows_raw = cells_qs.values_list(
        "account_id", "account__ancestors", "indication_id", "status", "potential_value", "currency", "our_share",
        "competitor", "contract_end", "notes",
    )  # fmt: skip
    col_set = set(column_ids)
    grouped: dict[tuple[int, int], list[tuple[Any, ...]]] = defaultdict(list)
    for acc_id, ancestors, ind_id, *rest in rows_raw:
        col = acc_id if acc_id in col_set else next((a for a in (ancestors or []) if a in col_set), None)
        if col is not None:
            grouped[(col, ind_id)].append(tuple(rest))
    opps: dict[tuple[int, int], int] = {}
    opp_rows = (
        Opportunity.objects.filter(
            account__in=account_subtree(account=account, include_self=own_column),
            stage__in=OPEN_STAGES,
            indication_id__isnull=False,
        )
        .values_list("pk", "account_id", "account__ancestors", "indication_id")
        .order_by("pk")
    )
    for pk, acc_id, ancestors, ind_id in opp_rows:
        col = acc_id if acc_id in col_set else next((a for a in (ancestors or []) if a in col_set), None)
        if col is not None:
            opps.setdefault((col, ind_id), pk)
    product_ids = sorted({i.product_id for i in indications})
    lookup_ids = sorted({*column_ids, account.pk, *account.ancestors})
    formulary = _formulary(actor=actor, account_ids=lookup_ids, product_ids=product_ids)
    listed = {key for key, view in formulary.items() if _formulary_listed(view)}

    def on_formulary(column: Account, product_id: int) -> bool:
        chain = [column.pk, *(reversed(column.ancestors or []))]
        return any((a, product_id) in listed for a in chain)

    grid = WhitespaceGrid(account=account, columns=columns, rows=[])
    counts: Counter[str] = Counter()
    potential: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for ind in indications:
        row = GridRow(indication=ind, cells=[])
        for column in columns:
            recs = grouped.get((column.pk, ind.pk), [])
            listed_here = on_formulary(column, ind.product_id)
            cell = GridCell(column.pk, ind.pk, ind.product_id, CellStatus.NOT_USED, bool(recs), formulary=listed_here)
            if recs:
                statuses = {r[0] for r in recs}
                cell.status = next(s for s in _PRIORITY if s in statuses)
                values = [r[1] for r in recs if r[1] is not None]
                cell.potential_value = sum(values, ZERO) if values else None
                cell.currency = recs[0][2]
                shares = [(r[3], r[1] or Decimal(1)) for r in recs if r[3] is not None]
                if shares:
                    weight = sum((w for _s, w in shares), ZERO)
                    cell.our_share = (sum((s * w for s, w in shares), ZERO) / weight).quantize(Decimal("0.1"))
                competitors = Counter(r[4] for r in recs if r[4])
                cell.competitor = competitors.most_common(1)[0][0] if competitors else ""
                ends = [r[5] for r in recs if r[5] is not None]
                cell.contract_end = min(ends) if ends else None
                cell.notes = recs[0][6] if len(recs) == 1 else ""
                cell.units = len(recs)
            if cell.status == CellStatus.NOT_USED and listed_here:
                cell.status = CellStatus.FORMULARY_ONLY
            cell.opportunity_id = opps.get((column.pk, ind.pk))
            counts[cell.status] += 1
            if cell.opportunity_id:
                grid.open_opportunities += 1
            if cell.is_gap:
                grid.gaps += 1
                if cell.potential_value:
                    potential[cell.currency] += cell.potential_value
            row.cells.append(cell)
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
