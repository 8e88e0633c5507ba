"""Whitespace, opportunities and pipeline, tenders with risk analysis, account P&L and sales lines (issue 6).

Money is ``Decimal`` with a currency from :data:`CURRENCIES`; roll-ups never add different currencies together.
Sales lines are facts loaded from the ERP in batches (:class:`SalesImport`): the batch is the audited unit (who
imported which file, how many lines, the totals), the lines themselves are not tracked one by one — a million-line
import must not write a million history rows; undoing an import deletes its batch (audited) and its lines.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import Account
from openkam.core.audit import audited
from openkam.core.models import Job, TimeStamped, User
from openkam.plans.models import Objective
from openkam.portfolio.models import Indication, Product

# ISO 4217 codes accepted for amounts (anything else is refused with a clear message).
CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP", "CHF", "CAD", "JPY", "AUD", "SEK", "DKK", "NOK")
DEFAULT_CURRENCY = "USD"
MONEY = {"max_digits": 16, "decimal_places": 2}


# --- whitespace ----------------------------------------------------------------------------------------
class CellStatus(models.TextChoices):
    USED = "used", _("Used")
    FORMULARY_ONLY = "formulary_only", _("Formulary only")
    COMPETITOR = "competitor", _("Competitor")
    NOT_USED = "not_used", _("Not used")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


@audited()
class WhitespaceCell(TimeStamped):
    """What we know about one approved indication at one clinical unit / site of care (or hospital).

    A unit × indication without a row is "not used" (or "formulary only" when the formulary lists the product):
    an opportunity. ``formulary_only`` is normally derived from the formulary, but may be recorded by hand.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="whitespace_cells")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    indication = models.ForeignKey(Indication, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=CellStatus.choices, default=CellStatus.NOT_USED)
    potential_value = models.DecimalField(_("potential value (yearly)"), null=True, blank=True, **MONEY)  # type: ignore[arg-type]
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    our_share = models.DecimalField(_("our share (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    competitor = models.CharField(_("competitor"), max_length=200, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["account", "product", "indication"]
        constraints = [
            models.UniqueConstraint(fields=["account", "indication"], name="ws_cell_unique"),
            models.CheckConstraint(
                condition=Q(our_share__isnull=True) | (Q(our_share__gte=0) & Q(our_share__lte=100)),
                name="ws_share_0_100",
            ),
            models.CheckConstraint(
                condition=Q(potential_value__isnull=True) | Q(potential_value__gte=0), name="ws_potential_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} × {self.indication_id}: {self.status}"


# --- opportunities -------------------------------------------------------------------------------------
class Stage(models.TextChoices):
    IDENTIFIED = "identified", _("Identified")
    QUALIFIED = "qualified", _("Qualified")
    PROPOSAL = "proposal", _("Proposal")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


OPEN_STAGES = (Stage.IDENTIFIED, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION)
# The probability a stage suggests when none is given.
STAGE_PROBABILITY = {"identified": 10, "qualified": 25, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}


@audited()
class Opportunity(TimeStamped):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="opportunities")
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    value = models.DecimalField(_("value"), **MONEY)  # type: ignore[arg-type]
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.IDENTIFIED)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=10)
    expected_close = models.DateField(_("expected close"))
    products: models.ManyToManyField[Product, OpportunityProduct] = models.ManyToManyField(
        Product, through="OpportunityProduct", related_name="+", blank=True
    )
    indication = models.ForeignKey(
        Indication, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("indication")
    )
    objective = models.ForeignKey(
        Objective,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
        verbose_name=_("plan objective"),
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opportunities")
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    loss_reason = models.CharField(_("loss reason"), max_length=255, blank=True)

    class Meta:
        ordering = ["expected_close", "pk"]
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["account", "stage"], name="opp_account_stage"),
            models.Index(fields=["owner", "stage"], name="opp_owner_stage"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(probability__gte=0) & Q(probability__lte=100), name="opp_prob_0_100"),
            models.CheckConstraint(condition=Q(value__gte=0), name="opp_value_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


@audited()
class OpportunityProduct(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["opportunity", "product"], name="opp_product_unique")]

    def __str__(self) -> str:
        return f"{self.opportunity_id}:{self.product_id}"


# --- tenders ---------------------------------------------------------------------------------------------
class TenderType(models.TextChoices):
    OPEN = "open", _("Open")
    RESTRICTED = "restricted", _("Restricted")
    NEGOTIATED = "negotiated", _("Negotiated")


class TenderOutcome(models.TextChoices):
    PENDING = "pending", _("Pending")
    WON = "won", _("Won")
    PARTIAL = "partial", _("Partly won")
    LOST = "lost", _("Lost")
    NO_BID = "no_bid", _("Not bid")
    CANCELLED = "cancelled", _("Cancelled")


class LossReason(models.TextChoices):
    PRICE = "price", _("Price")
    CLINICAL = "clinical", _("Clinical evidence / differentiation")
    SUPPLY = "supply", _("Supply security")
    RELATIONSHIP = "relationship", _("Relationship with evaluators")
    TERMS = "terms", _("Contract terms")
    COMPLIANCE = "compliance", _("Formal / compliance issue")
    OTHER = "other", _("Other")


@audited()
class Tender(TimeStamped):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tenders")
    title = models.CharField(_("title"), max_length=255)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    tender_type = models.CharField(_("type"), max_length=12, choices=TenderType.choices, default=TenderType.OPEN)
    publication_date = models.DateField(_("publication date"))
    submission_deadline = models.DateField(_("submission deadline"))
    award_date = models.DateField(_("award date"), null=True, blank=True)
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    estimated_value = models.DecimalField(_("estimated value"), null=True, blank=True, **MONEY)  # type: ignore[arg-type]
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    # [{"name": "Price", "weight": 60}, ...] — weights add up to 100
    award_criteria = models.JSONField(_("award criteria"), default=list, blank=True)
    # [{"name": "Signed declaration", "done": true}, ...]
    documents = models.JSONField(_("documents checklist"), default=list, blank=True)
    responsible: models.ManyToManyField[User, TenderResponsible] = models.ManyToManyField(
        User, through="TenderResponsible", related_name="tenders", blank=True
    )
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=TenderOutcome.choices, default=TenderOutcome.PENDING
    )
    loss_reason = models.CharField(_("loss reason"), max_length=14, choices=LossReason.choices, blank=True)
    outcome_notes = models.TextField(_("outcome notes"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["submission_deadline", "pk"]
        indexes = [models.Index(fields=["account", "submission_deadline"], name="tender_account_deadline")]
        constraints = [
            models.CheckConstraint(
                condition=Q(submission_deadline__gte=F("publication_date")), name="tender_deadline_after_publication"
            ),
        ]

    def __str__(self) -> str:
        return self.title


@audited()
class TenderResponsible(models.Model):
    tender = models.ForeignKey(Tender, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tender", "user"], name="tender_responsible_unique")]

    def __str__(self) -> str:
        return f"{self.tender_id}:{self.user_id}"


@audited()
class TenderLot(TimeStamped):
    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="lots")
    number = models.PositiveSmallIntegerField(_("lot"))
    name = models.CharField(_("name"), max_length=255)
    products: models.ManyToManyField[Product, TenderLotProduct] = models.ManyToManyField(
        Product, through="TenderLotProduct", related_name="+", blank=True
    )
    volume = models.CharField(_("volume"), max_length=100, blank=True)
    estimated_value = models.DecimalField(_("estimated value"), null=True, blank=True, **MONEY)  # type: ignore[arg-type]
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=TenderOutcome.choices, default=TenderOutcome.PENDING
    )

    class Meta:
        ordering = ["tender", "number"]
        constraints = [models.UniqueConstraint(fields=["tender", "number"], name="tender_lot_unique")]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"


@audited()
class TenderLotProduct(models.Model):
    lot = models.ForeignKey(TenderLot, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lot", "product"], name="lot_product_unique")]

    def __str__(self) -> str:
        return f"{self.lot_id}:{self.product_id}"


@audited()
class RiskFactor(TimeStamped):
    """One item of the bid risk checklist (configured by an administrator). Scored 1 (weak) – 5 (strong)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    guidance = models.TextField(_("guidance"), blank=True)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2, default=20)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.CheckConstraint(condition=Q(weight__gt=0), name="risk_weight_positive")]

    def __str__(self) -> str:
        return self.name


class Recommendation(models.TextChoices):
    GO = "go", _("Go")
    NO_GO = "no_go", _("No go")


@audited()
class BidAssessment(TimeStamped):
    """The bid/risk analysis of a tender: scores per risk factor → win likelihood → go / no-go recommendation,
    which the lead confirms (or overrides, with a note)."""

    tender = models.OneToOneField(Tender, on_delete=models.CASCADE, related_name="assessment")
    scores = models.JSONField(default=dict)  # {factor code: 1..5}
    notes = models.TextField(_("notes"), blank=True)
    win_likelihood = models.DecimalField(_("win likelihood (%)"), max_digits=5, decimal_places=2)
    recommendation = models.CharField(_("recommendation"), max_length=6, choices=Recommendation.choices)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField(_("assessed"))
    decision = models.CharField(_("decision"), max_length=6, choices=Recommendation.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    def __str__(self) -> str:
        return f"{self.tender_id}: {self.win_likelihood}% → {self.recommendation}"


# --- account P&L -------------------------------------------------------------------------------------------
class CostCategory(models.TextChoices):
    TEAM_TIME = "team_time", _("Team time")
    EVENTS = "events", _("Events")
    SAMPLES = "samples", _("Samples")
    SERVICES = "services", _("Value-added services")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKED = "checked", _("Checked (dry run)")
    INVALID = "invalid", _("Refused: errors")
    IMPORTED = "imported", _("Imported")
    UNDONE = "undone", _("Undone")


@audited(exclude=["data", "updated_at"])
class SalesImport(TimeStamped):
    """A sales file (CSV or XLSX) and what became of it: checked (dry run, with a preview), refused with row-level
    errors, imported (its lines point here), or undone."""

    filename = models.CharField(_("file"), max_length=255)
    data = models.BinaryField(editable=False)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    rows = models.PositiveIntegerField(_("lines"), default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row": 7, "field": "currency", "message": "..."}]
    preview = models.JSONField(default=dict, blank=True)  # totals, periods, accounts, first lines
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.filename


class SalesLine(models.Model):
    """One month of sales of a product to an account (from the ERP / a sales file). Not tracked row by row (see
    the module docstring): its batch is."""

    # A fact table loaded a million lines at a time: no per-row foreign-key triggers in the database (the import
    # resolves every account and product against live rows in the same run; Django still cascades/protects on ORM
    # deletes, and accounts are deactivated, not deleted) and no single-column indexes on account (the
    # (account, period) index covers it) and product.
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    period = models.DateField(_("month"))  # first day of the month
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=2, default=0)
    gross_sales = models.DecimalField(_("gross sales"), **MONEY)  # type: ignore[arg-type]
    discounts = models.DecimalField(_("discounts"), default=0, **MONEY)  # type: ignore[arg-type]
    rebates = models.DecimalField(_("rebates"), default=0, **MONEY)  # type: ignore[arg-type]
    cogs = models.DecimalField(_("cost of goods"), default=0, **MONEY)  # type: ignore[arg-type]
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    # A batch's lines are written together, so they sit together in the table: a BRIN index (a few pages, next to
    # nothing to maintain on a million-line insert) finds them for undo, where a B-tree costs a second per million.
    batch = models.ForeignKey(
        SalesImport,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="lines",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        ordering = ["period", "pk"]
        indexes = [
            models.Index(fields=["account", "period"], name="salesline_account_period"),
            BrinIndex(fields=["batch"], name="salesline_batch_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.period:%Y-%m} {self.gross_sales}"


@audited()
class CostToServe(TimeStamped):
    """What serving an account cost in a month: team time, events, samples, value-added services."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    period = models.DateField(_("month"))
    category = models.CharField(_("category"), max_length=10, choices=CostCategory.choices)
    amount = models.DecimalField(_("amount"), **MONEY)  # type: ignore[arg-type]
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta:
        ordering = ["period", "category", "pk"]
        indexes = [models.Index(fields=["account", "period"], name="cts_account_period")]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="cts_amount_positive")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.period:%Y-%m} {self.category} {self.amount}"
