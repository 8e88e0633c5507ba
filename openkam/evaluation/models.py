"""Account evaluation: scoring models (versioned), assessments with evidence, tiers (KAM level) and re-score runs.

A *scoring model* has criteria (weight in %, a scale with a label per level, guidance) and applies to some
account types. An *assessment* scores one account against one model version; its weighted total (0–100) maps
through the model's thresholds to a tier. ``AccountTier`` is the one current row per assessed account: the
computed tier, an optional override (with its reason) and the latest total. The account's ``kam_level`` mirrors
the effective tier and is changed only through ``openkam.accounts.services.account_update``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import Account, KamLevel
from openkam.core.audit import audited
from openkam.core.models import Team, TimeStamped


class ModelStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


@audited()
class ScoringModel(TimeStamped):
    """One version of a scoring model. ``code`` names the family; one active version per family."""

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    account_types = ArrayField(models.CharField(max_length=20), default=list, verbose_name=_("account types"))
    scale_min = models.PositiveSmallIntegerField(_("lowest score"), default=1)
    scale_max = models.PositiveSmallIntegerField(_("highest score"), default=5)
    strategic_min = models.DecimalField(_("strategic from"), max_digits=5, decimal_places=2, default=Decimal("75"))
    key_min = models.DecimalField(_("key from"), max_digits=5, decimal_places=2, default=Decimal("55"))
    basic_min = models.DecimalField(_("basic from"), max_digits=5, decimal_places=2, default=Decimal("30"))
    status = models.CharField(_("status"), max_length=10, choices=ModelStatus.choices, default=ModelStatus.DRAFT)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="scoring_model_version_unique"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(status="active"), name="scoring_model_one_active_version"
            ),
            models.CheckConstraint(condition=Q(scale_max__gt=models.F("scale_min")), name="scoring_model_scale"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def tier_for(self, total: Decimal | float) -> str:
        """The KAM level a weighted total (0–100) maps to."""
        value = Decimal(str(total))
        if value >= self.strategic_min:
            return KamLevel.STRATEGIC
        if value >= self.key_min:
            return KamLevel.KEY
        if value >= self.basic_min:
            return KamLevel.BASIC
        return KamLevel.DECLINED


@audited()
class Criterion(models.Model):
    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="criteria")
    key = models.SlugField(_("key"), max_length=60, help_text=_("Stable across versions of the model."))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=200)
    guidance = models.TextField(_("guidance"), blank=True)
    weight = models.DecimalField(_("weight (%)"), max_digits=5, decimal_places=2)
    levels = models.JSONField(_("scale labels"), default=list, blank=True, help_text=_("One label per score."))

    class Meta:
        ordering = ["model", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["model", "key"], name="criterion_key_unique")]

    def __str__(self) -> str:
        return self.name

    def label_for(self, score: int) -> str:
        index = score - self.model.scale_min
        return str(self.levels[index]) if 0 <= index < len(self.levels) else ""


class AssessmentStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting review")
    REVIEWED = "reviewed", _("Reviewed")


@audited()
class Assessment(TimeStamped):
    """An account scored against one scoring model version. Kept forever: the list of them is the trend."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="assessments")
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="assessments")
    assessed_on = models.DateField(_("assessed on"))
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(_("weighted score"), max_digits=5, decimal_places=2)
    tier = models.CharField(_("tier"), max_length=12, choices=KamLevel.choices)
    rationale = models.TextField(_("rationale"), blank=True)
    status = models.CharField(
        _("review"), max_length=10, choices=AssessmentStatus.choices, default=AssessmentStatus.SUBMITTED
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        ordering = ["-assessed_on", "-id"]
        indexes = [models.Index(fields=["account", "-assessed_on", "-id"], name="assessment_account_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} · {self.assessed_on} · {self.total}"


@audited()
class Score(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    evidence = models.TextField(_("evidence"), blank=True)
    evidence_date = models.DateField(_("evidence date"), null=True, blank=True)

    class Meta:
        ordering = ["assessment", "criterion__position"]
        constraints = [models.UniqueConstraint(fields=["assessment", "criterion"], name="score_unique")]

    def __str__(self) -> str:
        return f"{self.criterion_id}={self.score}"


@audited()
class AccountTier(TimeStamped):
    """The current evaluation of an account: computed tier, optional override, latest total."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="tier")
    assessment = models.ForeignKey(Assessment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    total = models.DecimalField(_("latest score"), max_digits=5, decimal_places=2, null=True, blank=True)
    computed_level = models.CharField(_("computed tier"), max_length=12, choices=KamLevel.choices)
    override_level = models.CharField(_("override"), max_length=12, choices=KamLevel.choices, blank=True)
    override_reason = models.TextField(_("override reason"), blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["computed_level"], name="tier_level_idx")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.level}"

    @property
    def level(self) -> str:
        return self.override_level or self.computed_level


@audited()
class TeamStrategicCap(TimeStamped):
    """How many strategic accounts a team should carry at most ("few accounts only"): above it, a warning."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="strategic_cap")
    cap = models.PositiveIntegerField(_("strategic accounts at most"))

    def __str__(self) -> str:
        return f"{self.team}: {self.cap}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


@audited(exclude=["done", "updated_at"])
class RescoreRun(TimeStamped):
    """A re-score/re-tier of every assessed account (background task); the page polls its progress."""

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == RunStatus.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class EffortSnapshot(models.Model):
    """Effort per evaluated unit (an account with its departments/clinics/pharmacies) over the last 90/60/30 days,
    per *audience* (the set of classifications a role may see, comma-joined): interactions and the colleagues who
    logged them. Derived data, rebuilt by ``effort_snapshot_refresh`` (periodic task, after re-score runs and after
    a world load): the matrix and the KAM analysis read it instead of scanning millions of interactions.
    Not audited (derived, rebuilt wholesale)."""

    unit = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    audience = models.CharField(max_length=100)
    n90 = models.PositiveIntegerField(default=0)
    n60 = models.PositiveIntegerField(default=0)
    n30 = models.PositiveIntegerField(default=0)
    people = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "audience"], name="effort_unit_audience_unique")]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.audience}: {self.n90}"
