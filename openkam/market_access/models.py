"""Formulary and protocol status per account or committee × product (issue 6; see docs/adr/0004).

History is data: a change of formulary position is a NEW dated record (``effective_from`` … ``effective_to``);
recording it closes the period of the record it replaces and never rewrites its values. Periods of the same
account × product (× indication) and source may not overlap — enforced by a PostgreSQL exclusion constraint
(GiST over single-point ranges, so no ``btree_gist`` extension is needed) and reported by the service as a clear
field error before the database is asked.

Imported values (``source=imported``, e.g. from a Da Vinci FHIR formulary) live beside our own entries
(``source=entered``): both are kept; where both are in force for an account, our entry wins.

A record with ``scope=members`` holds for the account and every account below it (a system-level P&T decides
for its member hospitals) unless a lower account has its own record.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import Account
from openkam.core.audit import audited
from openkam.core.models import TimeStamped
from openkam.plans.models import AccountPlan, Objective
from openkam.portfolio.models import Indication, Product, TherapeuticArea
from openkam.stakeholders.models import Committee, Stakeholder


class FormularyStatusCode(models.TextChoices):
    ON_FORMULARY = "on_formulary", _("On formulary")
    RESTRICTED = "restricted", _("On with restrictions")
    UNDER_REVIEW = "under_review", _("Under review")
    NON_FORMULARY = "non_formulary", _("Non-formulary")
    REMOVED = "removed", _("Removed")


# How much access a status gives (higher = better for us). A change to a higher rank is a win, to a lower one a
# loss; "under review" is pending and neither.
STATUS_RANK: dict[str, int] = {
    FormularyStatusCode.ON_FORMULARY: 4,
    FormularyStatusCode.RESTRICTED: 3,
    FormularyStatusCode.NON_FORMULARY: 1,
    FormularyStatusCode.REMOVED: 0,
}


class RestrictionKind(models.TextChoices):
    PRIOR_AUTHORISATION = "prior_authorisation", _("Prior authorisation")
    STEP_THERAPY = "step_therapy", _("Step therapy")
    SPECIALIST_ONLY = "specialist_only", _("Specialist only")
    QUANTITY_LIMIT = "quantity_limit", _("Quantity limit")


class FormularySource(models.TextChoices):
    ENTERED = "entered", _("Our entry")
    IMPORTED = "imported", _("Imported")


class FormularyScope(models.TextChoices):
    ACCOUNT = "account", _("This account only")
    MEMBERS = "members", _("This account and its members")


class _PointRange(Func):
    """``int8range(x, x, '[]')``: equality as range overlap, usable in a GiST exclusion constraint."""

    output_field = models.BigIntegerField()  # never read; only compiled into the constraint

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"int8range({sql}, {sql}, '[]')", [*params, *params]


class _DateRange(Func):
    function = "daterange"
    template = "%(function)s(%(expressions)s, '[]')"
    output_field = models.DateField()


def _no_overlap(source: str) -> ExclusionConstraint:
    return ExclusionConstraint(
        name=f"formulary_no_overlap_{source}",
        index_type="gist",
        expressions=[
            (_PointRange(F("account_id")), RangeOperators.OVERLAPS),
            (_PointRange(F("product_id")), RangeOperators.OVERLAPS),
            (_PointRange(Coalesce(F("indication_id"), Value(0))), RangeOperators.OVERLAPS),
            (_DateRange(F("effective_from"), F("effective_to")), RangeOperators.OVERLAPS),
        ],
        condition=Q(source=source),
        violation_error_message=_("Effective periods of the same account × product may not overlap."),
    )


@audited()
class FormularyStatus(TimeStamped):
    """The formulary position of a product (optionally for one indication) at an account, for a period."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="formulary_statuses", verbose_name=_("account")
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    indication = models.ForeignKey(
        Indication, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("indication")
    )
    committee = models.ForeignKey(
        Committee,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("deciding committee"),
    )
    scope = models.CharField(
        _("applies to"), max_length=10, choices=FormularyScope.choices, default=FormularyScope.ACCOUNT
    )
    status = models.CharField(_("status"), max_length=16, choices=FormularyStatusCode.choices)
    restriction_kinds = ArrayField(
        models.CharField(max_length=24, choices=RestrictionKind.choices),
        default=list,
        blank=True,
        verbose_name=_("restrictions"),
    )
    restrictions = models.TextField(_("restrictions (text)"), blank=True)
    tier = models.CharField(_("tier"), max_length=40, blank=True)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective until"), null=True, blank=True)
    next_review = models.DateField(_("next review"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=FormularySource.choices, default=FormularySource.ENTERED
    )
    source_ref = models.CharField(_("source reference"), max_length=255, blank=True)
    # pricing: hidden from medical users
    net_price = models.DecimalField(_("net price per unit"), max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["account", "product", "-effective_from"]
        verbose_name = _("formulary status")
        verbose_name_plural = _("formulary statuses")
        indexes = [
            models.Index(fields=["account", "product", "effective_from"], name="formulary_acc_prod_idx"),
            models.Index(fields=["effective_from"], name="formulary_from_idx"),
            models.Index(fields=["next_review"], name="formulary_review_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="formulary_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(net_price__isnull=True) | ~Q(currency=""), name="formulary_price_has_currency"
            ),
            _no_overlap(FormularySource.ENTERED),
            _no_overlap(FormularySource.IMPORTED),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.account_id}: {self.status} from {self.effective_from}"


class TargetStatus(models.TextChoices):
    ON_FORMULARY = "on_formulary", _("On formulary without restrictions")
    RESTRICTED = "restricted", _("At least on with restrictions")


@audited()
class FormularyTarget(TimeStamped):
    """What an account plan wants for a product at the plan's account: the rule behind "restricted where the plan
    wants unrestricted" (the plans app has no product link on objectives, so the plan states it here)."""

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="+", verbose_name=_("plan"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("objective")
    )
    target_status = models.CharField(
        _("target status"), max_length=16, choices=TargetStatus.choices, default=TargetStatus.ON_FORMULARY
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["plan", "product"]
        constraints = [models.UniqueConstraint(fields=["plan", "product"], name="formulary_target_unique")]

    def __str__(self) -> str:
        return f"{self.plan_id}:{self.product_id} → {self.target_status}"


class ProtocolKind(models.TextChoices):
    PROTOCOL = "protocol", _("Local protocol")
    PATHWAY = "pathway", _("Clinical pathway")
    GUIDELINE = "guideline", _("Treatment guideline")


class ProtocolStatus(models.TextChoices):
    DRAFT = "draft", _("In preparation")
    ACTIVE = "active", _("In force")
    RETIRED = "retired", _("Retired")


@audited()
class Protocol(TimeStamped):
    """A local protocol or clinical pathway of an account: which products, in which line of therapy."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="protocols", verbose_name=_("account"))
    scope = models.CharField(
        _("applies to"), max_length=10, choices=FormularyScope.choices, default=FormularyScope.ACCOUNT
    )
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=10, choices=ProtocolKind.choices, default=ProtocolKind.PATHWAY)
    status = models.CharField(_("status"), max_length=8, choices=ProtocolStatus.choices, default=ProtocolStatus.ACTIVE)
    therapeutic_area = models.ForeignKey(
        TherapeuticArea, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("description"), blank=True)
    effective_from = models.DateField(_("in force since"), null=True, blank=True)
    review_date = models.DateField(_("review date"), null=True, blank=True)
    owner = models.ForeignKey(
        Stakeholder,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("clinical owner"),
    )
    our_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("tracked by"),
    )

    class Meta:
        ordering = ["account", "name"]
        indexes = [models.Index(fields=["review_date"], name="protocol_review_idx")]

    def __str__(self) -> str:
        return self.name


class LineOfTherapy(models.TextChoices):
    FIRST = "first", _("First line")
    SECOND = "second", _("Second line")
    THIRD_PLUS = "third_plus", _("Third line or later")
    MAINTENANCE = "maintenance", _("Maintenance")
    ADJUVANT = "adjuvant", _("Adjuvant / neoadjuvant")
    ANY = "any", _("Any line")


@audited()
class ProtocolProduct(TimeStamped):
    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    indication = models.ForeignKey(
        Indication, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("indication")
    )
    line_of_therapy = models.CharField(
        _("line of therapy"), max_length=12, choices=LineOfTherapy.choices, default=LineOfTherapy.ANY
    )
    preferred = models.BooleanField(_("preferred option"), default=False)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["protocol", "line_of_therapy", "product"]
        constraints = [
            models.UniqueConstraint(
                fields=["protocol", "product", "line_of_therapy"], name="protocol_product_line_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.protocol_id}:{self.product_id} ({self.line_of_therapy})"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKED = "checked", _("Checked (preview)")
    INVALID = "invalid", _("Refused: problems")
    IMPORTED = "imported", _("Imported")


@audited(exclude=["data", "preview", "updated_at"])
class FormularyImport(TimeStamped):
    """A FHIR formulary file uploaded for an account and what became of it: checked (a preview of every item, run
    as a job), refused, or imported (all its items written as imported status records, run as a job)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", verbose_name=_("account"))
    filename = models.CharField(_("file"), max_length=255)
    data = models.BinaryField(editable=False)
    size = models.PositiveIntegerField(default=0)
    mapping = models.JSONField(default=dict, blank=True)  # RxNorm code → product id
    formulary_id = models.CharField(max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    preview = models.JSONField(default=dict, blank=True)  # counts, issues, lines
    created_count = models.PositiveIntegerField(default=0)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.filename
