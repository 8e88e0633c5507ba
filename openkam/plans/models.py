"""Account plans (core): plan → objectives → tactics → actions, with a status lifecycle."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import Account
from openkam.core.audit import audited
from openkam.core.models import Classification, Function, TimeStamped


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


# The only allowed moves (django-oscar style explicit map). Returned to draft from review = "return".
PLAN_TRANSITIONS: dict[str, tuple[str, ...]] = {
    PlanStatus.DRAFT: (PlanStatus.IN_REVIEW,),
    PlanStatus.IN_REVIEW: (PlanStatus.APPROVED, PlanStatus.DRAFT),
    PlanStatus.APPROVED: (PlanStatus.ACTIVE, PlanStatus.DRAFT),
    PlanStatus.ACTIVE: (PlanStatus.CLOSED,),
    PlanStatus.CLOSED: (),
}


# The lock bookkeeping (version, who/when last changed) is not history: the change itself is recorded
# on the row that changed (the plan header, an objective, a tactic or an action).
@audited(exclude=["version", "changed_by", "updated_at"])
class AccountPlan(TimeStamped):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="plans")
    name = models.CharField(_("name"), max_length=255)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_plans")
    status = models.CharField(_("status"), max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    summary = models.TextField(_("summary"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False, help_text="optimistic-locking version")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="who made the last change to the plan or anything in it (shown in conflict messages)",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="approved_plans",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-period_start", "name"]
        indexes = [models.Index(fields=["account", "status"], name="plan_account_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="plan_period_ordered")
        ]

    def __str__(self) -> str:
        return self.name


class IndicatorType(models.TextChoices):
    LEADING = "leading", _("Leading")
    LAGGING = "lagging", _("Lagging")


@audited()
class Objective(TimeStamped):
    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="objectives")
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    metric = models.CharField(_("metric"), max_length=200, blank=True)
    baseline = models.DecimalField(_("baseline"), max_digits=18, decimal_places=2, null=True, blank=True)
    target = models.DecimalField(_("target"), max_digits=18, decimal_places=2, null=True, blank=True)
    current = models.DecimalField(_("current"), max_digits=18, decimal_places=2, null=True, blank=True)
    due_date = models.DateField(_("due"), null=True, blank=True)
    indicator = models.CharField(
        _("indicator"), max_length=8, choices=IndicatorType.choices, default=IndicatorType.LAGGING
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_objectives"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "id"]

    def __str__(self) -> str:
        return self.title


@audited()
class Tactic(TimeStamped):
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="tactics")
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_tactics"
    )
    function = models.CharField(_("function"), max_length=20, choices=Function.choices, default=Function.COMMERCIAL)
    classification = models.CharField(
        _("classification"), max_length=20, choices=Classification.choices, default=Classification.COMMERCIAL
    )
    shared_with_customer = models.BooleanField(_("shared with customer"), default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["objective", "position", "id"]
        indexes = [models.Index(fields=["objective", "classification"], name="tactic_obj_class_idx")]

    def __str__(self) -> str:
        return self.title


class ActionStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    BLOCKED = "blocked", _("Blocked")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


@audited()
class Action(TimeStamped):
    """A dated move with named people. Its visibility follows its tactic's classification."""

    tactic = models.ForeignKey(Tactic, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_actions"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_actions"
    )
    start_date = models.DateField(_("start"), null=True, blank=True)
    due_date = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.NOT_STARTED
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["tactic", "position", "id"]
        indexes = [models.Index(fields=["assignee", "status"], name="action_assignee_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(due_date__isnull=True) | Q(due_date__gte=F("start_date")),
                name="action_start_before_due",
            )
        ]

    def __str__(self) -> str:
        return self.title
