"""Account plans (core): plan → objectives → tactics → actions, with a status lifecycle."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import Account, AccountType
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


class PlanSection(models.TextChoices):
    """The sections a plan can have; a template says which ones a plan of an account type shows."""

    CUSTOMER_PRIORITIES = "customer_priorities", _("Customer strategic priorities and objectives")
    POSITIONING = "positioning", _("Positioning and value proposition")
    STRATEGY = "strategy", _("Over-arching strategy")
    SWOT = "swot", _("SWOT")
    CSFS = "csfs", _("Critical success factors")
    GOALS = "goals", _("Goal → CSF → key action")
    OBJECTIVES = "objectives", _("Objectives and tactics")
    STAGES = "stages", _("Stages and steps")


class RequiredField(models.TextChoices):
    """Rules a template can make mandatory. Objective rules are enforced when objectives are saved; all of
    them count in the completeness score."""

    OBJECTIVE_METRIC = "objective.metric", _("Every objective names its metric")
    OBJECTIVE_TARGET = "objective.target", _("Every objective has a measurable target")
    OBJECTIVE_BASELINE = "objective.baseline", _("Every objective has a baseline")
    OBJECTIVE_DUE_DATE = "objective.due_date", _("Every objective has a due date")
    OBJECTIVE_OWNER = "objective.owner", _("Every objective has an owner")
    PLAN_CUSTOMER_PRIORITIES = "plan.customer_priorities", _("The customer's priorities are written down")
    PLAN_POSITIONING = "plan.positioning", _("Positioning is written down")
    PLAN_VALUE_PROPOSITION = "plan.value_proposition", _("The value proposition is written down")
    PLAN_STRATEGY = "plan.strategy", _("The over-arching strategy is written down")
    SWOT_THREATS = "swot.threats", _("The SWOT names at least one threat")
    CSFS = "plan.csfs", _("At least one critical success factor")
    DECISION_MAKER = "account.decision_maker", _("A decision maker is mapped at the account")


OBJECTIVE_REQUIRED_FIELDS = {
    RequiredField.OBJECTIVE_METRIC: "metric",
    RequiredField.OBJECTIVE_TARGET: "target",
    RequiredField.OBJECTIVE_BASELINE: "baseline",
    RequiredField.OBJECTIVE_DUE_DATE: "due_date",
    RequiredField.OBJECTIVE_OWNER: "owner",
}


@audited()
class PlanTemplate(TimeStamped):
    """What a plan of a given account type has: sections, stages with steps, required fields, rot threshold."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    account_types = ArrayField(
        models.CharField(max_length=20, choices=AccountType.choices),
        default=list,
        blank=True,
        verbose_name=_("account types"),
        help_text=_("Plans of accounts of these types use this template. Empty: only when chosen or as default."),
    )
    is_default = models.BooleanField(
        _("default template"), default=False, help_text=_("Used when no template names the account's type.")
    )
    sections = ArrayField(
        models.CharField(max_length=30, choices=PlanSection.choices),
        default=list,
        blank=True,
        verbose_name=_("sections"),
    )
    required_fields = ArrayField(
        models.CharField(max_length=40, choices=RequiredField.choices),
        default=list,
        blank=True,
        verbose_name=_("required fields"),
    )
    stale_after_days = models.PositiveIntegerField(
        _("stale after (days)"),
        default=30,
        help_text=_("A plan with no meaningful update for this many days is flagged as stale."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="plan_template_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name


@audited()
class TemplateStage(TimeStamped):
    template = models.ForeignKey(PlanTemplate, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["template", "position", "id"]

    def __str__(self) -> str:
        return self.name


@audited()
class TemplateStep(TimeStamped):
    stage = models.ForeignKey(TemplateStage, on_delete=models.CASCADE, related_name="steps")
    title = models.CharField(_("title"), max_length=255)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["stage", "position", "id"]

    def __str__(self) -> str:
        return self.title


# The lock bookkeeping (version, who/when last changed) is not history: the change itself is recorded
# on the row that changed (the plan header, an objective, a tactic or an action).
@audited(exclude=["version", "changed_by", "updated_at", "last_meaningful_update_at"])
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
    template = models.ForeignKey(
        PlanTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plans",
        verbose_name=_("template"),
    )
    # --- narrative sections (edited in place) ---
    customer_priorities = models.TextField(
        _("customer strategic priorities"),
        blank=True,
        help_text=_("The customer's own strategy, in their words (structured items: CustomerPriority)."),
    )
    positioning = models.TextField(_("positioning"), blank=True)
    value_proposition = models.TextField(_("value proposition"), blank=True)
    value_proposition_reviewed = models.BooleanField(
        _("value proposition compliance-reviewed"),
        default=False,
        help_text=_("Checked when the value proposition stays within label and was reviewed (MLR)."),
    )
    strategy = models.TextField(_("over-arching strategy"), blank=True)
    # --- lifecycle extras ---
    cloned_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clones",
        editable=False,
        verbose_name=_("cloned from"),
    )
    last_meaningful_update_at = models.DateTimeField(
        _("last meaningful update"),
        default=timezone.now,
        editable=False,
        help_text=_("Last change to the plan's content (not lifecycle moves): plan rot is measured from it."),
    )

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
    shared_with_customer = models.BooleanField(_("shared with customer"), default=False)
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
    is_milestone = models.BooleanField(_("milestone"), default=False)
    shared_with_customer = models.BooleanField(_("shared with customer"), default=False)
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


# --- plan sections ---------------------------------------------------------------------------------
@audited()
class CustomerPriority(TimeStamped):
    """One of the customer's own strategic priorities or objectives (their words, not ours)."""

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="customer_priority_items")
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    shared_with_customer = models.BooleanField(_("shared with customer"), default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "id"]

    def __str__(self) -> str:
        return self.title


class SwotKind(models.TextChoices):
    STRENGTH = "strength", _("Strength")
    WEAKNESS = "weakness", _("Weakness")
    OPPORTUNITY = "opportunity", _("Opportunity")
    THREAT = "threat", _("Threat")


@audited()
class SwotItem(TimeStamped):
    """A strength, weakness, opportunity or threat with its evidence, linked to the objectives it drives.

    Internal only: never part of the customer version. Classified like tactics (competitor notes are
    commercial; a medical insight can be medical-only)."""

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="swot_items")
    kind = models.CharField(_("kind"), max_length=12, choices=SwotKind.choices)
    title = models.CharField(_("title"), max_length=255)
    evidence = models.TextField(_("evidence"), blank=True)
    classification = models.CharField(
        _("classification"), max_length=20, choices=Classification.choices, default=Classification.JOINT
    )
    objectives = models.ManyToManyField(  # type: ignore[var-annotated]
        Objective, through="SwotObjective", blank=True, related_name="swot_items", verbose_name=_("drives")
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["plan", "kind", "position", "id"]
        indexes = [models.Index(fields=["plan", "kind"], name="swot_plan_kind_idx")]

    def __str__(self) -> str:
        return self.title


@audited()
class SwotObjective(models.Model):
    """A SWOT item drives an objective."""

    swot_item = models.ForeignKey(SwotItem, on_delete=models.CASCADE, related_name="objective_links")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="swot_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["swot_item", "objective"], name="swot_objective_unique")]

    def __str__(self) -> str:
        return f"{self.swot_item_id} → {self.objective_id}"


@audited()
class Goal(TimeStamped):
    """The top of a Goal → CSF → key action chain."""

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="goals")
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "id"]

    def __str__(self) -> str:
        return self.title


@audited()
class CriticalSuccessFactor(TimeStamped):
    """What must go right. Listed in the CSF section; under a goal when it belongs to a chain."""

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="csfs")
    goal = models.ForeignKey(
        Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="csfs", verbose_name=_("goal")
    )
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "id"]

    def __str__(self) -> str:
        return self.title


@audited()
class KeyAction(TimeStamped):
    """A key action that delivers a critical success factor."""

    csf = models.ForeignKey(CriticalSuccessFactor, on_delete=models.CASCADE, related_name="key_actions")
    title = models.CharField(_("title"), max_length=255)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_key_actions"
    )
    due_date = models.DateField(_("due"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["csf", "position", "id"]

    def __str__(self) -> str:
        return self.title


@audited()
class PlanStage(TimeStamped):
    """A stage of the plan's process checklist (copied from the template when the plan is created)."""

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "id"]

    def __str__(self) -> str:
        return self.name


@audited()
class PlanStep(TimeStamped):
    stage = models.ForeignKey(PlanStage, on_delete=models.CASCADE, related_name="steps")
    title = models.CharField(_("title"), max_length=255)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done on"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["stage", "position", "id"]

    def __str__(self) -> str:
        return self.title


# --- lifecycle records -------------------------------------------------------------------------------
class ReviewKind(models.TextChoices):
    SUBMIT = "submit", _("Submitted")
    RETURN = "return", _("Returned with comments")
    APPROVE = "approve", _("Approved")
    COMMENT = "comment", _("Comment")


@audited()
class PlanReview(TimeStamped):
    """What a reviewer (or the submitter) said at a lifecycle step: the comments a plan is returned with."""

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField(_("kind"), max_length=10, choices=ReviewKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(_("comment"), blank=True)
    plan_version = models.PositiveIntegerField(_("plan version"))

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.plan_id}"


class PlanSnapshot(models.Model):
    """The plan as approved, frozen: the database refuses UPDATE (and DELETE outside the plan's own deletion,
    which the services refuse once a plan has snapshots). ``data`` holds every section with classifications,
    so a reader sees only what their role may see when comparing versions."""

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="snapshots")
    number = models.PositiveIntegerField(_("snapshot"))
    plan_version = models.PositiveIntegerField(_("plan version"))
    status = models.CharField(_("status"), max_length=12, choices=PlanStatus.choices)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("frozen"), default=timezone.now, editable=False)
    data = models.JSONField(_("content"), default=dict)

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="plan_snapshot_number_unique")]
        triggers = [pgtrigger.Protect(name="plan_snapshots_are_immutable", operation=pgtrigger.Update)]

    def __str__(self) -> str:
        return f"{self.plan_id} v{self.number}"


@audited()
class CustomerAgreement(TimeStamped):
    """The customer agreed to the co-created plan: when, who signed, on which plan version."""

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="customer_agreements")
    agreed_on = models.DateField(_("agreed on"))
    signatory_name = models.CharField(_("signatory"), max_length=200)
    signatory_title = models.CharField(_("signatory's title"), max_length=200, blank=True)
    stakeholder = models.ForeignKey(
        "stakeholders.Stakeholder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("signatory (stakeholder)"),
    )
    note = models.TextField(_("note"), blank=True)
    plan_version = models.PositiveIntegerField(_("plan version"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-agreed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.signatory_name} · {self.agreed_on}"
