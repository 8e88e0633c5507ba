"""Stakeholder assessments per account, decision domains, relationship strengths, influence links (issue 4).

The assessment is of the *relationship* (a stakeholder at an account), not of the person: decision role,
decision domains, stance toward us, influence level. It is versioned: a change closes the current row
(``superseded_at``) and opens a new one (``effective_from``), so the movement of a stakeholder over time is
data — rows are never overwritten. Relationship strength (current and desired) is per internal team
member; owners are the team members responsible for the relationship. Influence links join two people.

Stances, influence, decision roles, strengths and judgement links (influences, conflicts with) are
commercial judgements: only roles that see commercial records see them (docs/relationships.md).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import Account
from openkam.core.audit import audited
from openkam.core.models import TimeStamped
from openkam.stakeholders.models import DecisionRole, Stakeholder


class Stance(models.IntegerChoices):
    """Stance toward us, five levels."""

    OPPONENT = -2, _("Opponent")
    SCEPTIC = -1, _("Sceptic")
    NEUTRAL = 0, _("Neutral")
    SUPPORTER = 1, _("Supporter")
    ADVOCATE = 2, _("Advocate")


class Influence(models.IntegerChoices):
    VERY_LOW = 1, _("Very low")
    LOW = 2, _("Low")
    MEDIUM = 3, _("Medium")
    HIGH = 4, _("High")
    VERY_HIGH = 5, _("Very high")


class Strength(models.IntegerChoices):
    """How well one of our people knows a stakeholder."""

    NONE = 0, _("None")
    WEAK = 1, _("Weak")
    MODERATE = 2, _("Moderate")
    GOOD = 3, _("Good")
    STRONG = 4, _("Strong")


# A relationship counts as "we have one" from this strength on (coverage analysis).
RELATIONSHIP_THRESHOLD = Strength.MODERATE


class LinkKind(models.TextChoices):
    REPORTS_TO = "reports_to", _("Reports to")
    INFLUENCES = "influences", _("Influences")
    PEER = "peer", _("Peer")
    CONFLICTS_WITH = "conflicts_with", _("Conflicts with")


# Judgements about people (hidden from medical roles and where a country's rules forbid them).
JUDGEMENT_LINK_KINDS = frozenset({LinkKind.INFLUENCES, LinkKind.CONFLICTS_WITH})


class LinkStrength(models.IntegerChoices):
    WEAK = 1, _("Weak")
    MODERATE = 2, _("Moderate")
    STRONG = 3, _("Strong")


@audited()
class DecisionDomain(TimeStamped):
    """A conversation a decision runs through (contractual, financial, ...). The seven standard domains are
    seeded by a migration; admins add their own. Domains are deactivated, never deleted (history refers to
    them)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_standard = models.BooleanField(_("standard"), default=False, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


@audited()
class StakeholderAssessment(models.Model):
    """One version of the assessment of a stakeholder at an account. The current version has
    ``superseded_at`` NULL (at most one per account and stakeholder)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="+")
    decision_role = models.CharField(
        _("decision role"), max_length=20, choices=DecisionRole.choices, default=DecisionRole.UNKNOWN
    )
    domain_ids = ArrayField(models.BigIntegerField(), default=list, blank=True, verbose_name=_("decision domains"))
    stance = models.SmallIntegerField(_("stance"), choices=Stance.choices, null=True, blank=True)
    influence = models.SmallIntegerField(_("influence"), choices=Influence.choices, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    effective_from = models.DateTimeField(_("from"))
    superseded_at = models.DateTimeField(_("until"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["account", "stakeholder", "-effective_from"]
        indexes = [
            models.Index(fields=["account", "superseded_at"], name="sh_assessment_account_idx"),
            models.Index(fields=["stakeholder", "superseded_at"], name="sh_assessment_sh_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "stakeholder"], condition=Q(superseded_at__isnull=True), name="assessment_current"
            ),
            models.CheckConstraint(
                condition=Q(stance__isnull=True) | Q(stance__gte=-2, stance__lte=2), name="assessment_stance_scale"
            ),
            models.CheckConstraint(
                condition=Q(influence__isnull=True) | Q(influence__gte=1, influence__lte=5),
                name="assessment_influence_scale",
            ),
            models.CheckConstraint(
                condition=Q(superseded_at__isnull=True) | Q(superseded_at__gte=F("effective_from")),
                name="assessment_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stakeholder_id}@{self.account_id} ({self.effective_from:%Y-%m-%d})"


@audited()
class AssessmentOwner(models.Model):
    """An internal team member who owns the relationship with a stakeholder at an account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    since = models.DateField(_("since"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "stakeholder", "user"], name="assessment_owner_unique")
        ]
        indexes = [
            models.Index(fields=["user"], name="assessment_owner_user_idx"),
            models.Index(fields=["stakeholder"], name="assessment_owner_sh_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} owns {self.stakeholder_id}@{self.account_id}"


@audited()
class RelationshipStrength(TimeStamped):
    """How well one internal team member knows a stakeholder at an account: now and where we want it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    current = models.SmallIntegerField(_("current strength"), choices=Strength.choices)
    desired = models.SmallIntegerField(_("desired strength"), choices=Strength.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "stakeholder", "user"], name="strength_unique"),
            models.CheckConstraint(condition=Q(current__gte=0, current__lte=4), name="strength_current_scale"),
            models.CheckConstraint(condition=Q(desired__gte=0, desired__lte=4), name="strength_desired_scale"),
        ]
        indexes = [
            models.Index(fields=["user"], name="strength_user_idx"),
            models.Index(fields=["stakeholder"], name="strength_sh_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}→{self.stakeholder_id}@{self.account_id}: {self.current}/{self.desired}"


@audited()
class InfluenceLink(TimeStamped):
    """A link between two people: reports to, influences, peer, conflicts with. ``directional`` links read
    from → to; peer and conflict links are usually mutual."""

    from_stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="+")
    to_stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=LinkKind.choices)
    strength = models.SmallIntegerField(_("strength"), choices=LinkStrength.choices, default=LinkStrength.MODERATE)
    directional = models.BooleanField(_("directional"), default=True)
    evidence = models.TextField(_("evidence"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["from_stakeholder", "kind"]
        indexes = [models.Index(fields=["to_stakeholder"], name="influence_link_to_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["from_stakeholder", "to_stakeholder", "kind"], name="influence_link_unique"
            ),
            models.CheckConstraint(condition=~Q(from_stakeholder=F("to_stakeholder")), name="influence_link_not_self"),
            models.CheckConstraint(condition=Q(strength__gte=1, strength__lte=3), name="influence_link_strength"),
        ]

    def __str__(self) -> str:
        return f"{self.from_stakeholder_id} {self.kind} {self.to_stakeholder_id}"


@audited()
class CountryPrivacyRule(TimeStamped):
    """What local rules allow us to record about people of a country (by the stakeholder's country)."""

    country = models.CharField(_("country"), max_length=2, unique=True)
    allow_stance = models.BooleanField(
        _("stance labels allowed"), default=True, help_text=_("Off: no stance is recorded or shown.")
    )
    allow_directional_influence = models.BooleanField(
        _("directional influence allowed"),
        default=True,
        help_text=_("Off: “influences” links are recorded and shown without direction."),
    )
    assessment_retention_days = models.PositiveIntegerField(
        _("keep superseded assessments (days)"),
        null=True,
        blank=True,
        help_text=_("Older superseded versions are deleted by the retention run; empty keeps them."),
    )
    note = models.TextField(_("legal basis / note"), blank=True)

    class Meta:
        ordering = ["country"]

    def __str__(self) -> str:
        return self.country


@audited()
class RelationshipSettings(TimeStamped):
    """Thresholds of the coverage analysis and the default retention (one row, id 1)."""

    internal_share_limit = models.PositiveSmallIntegerField(
        _("single-threading: one team member's share of relationships (%)"), default=60
    )
    stakeholder_share_limit = models.PositiveSmallIntegerField(
        _("single-threading: one stakeholder's share of interactions (%)"), default=50
    )
    key_person_days = models.PositiveSmallIntegerField(_("key person not reached for (days)"), default=90)
    assessment_retention_days = models.PositiveIntegerField(
        _("keep superseded assessments (days)"), null=True, blank=True
    )

    class Meta:
        verbose_name_plural = _("relationship settings")
        constraints = [
            models.CheckConstraint(condition=Q(internal_share_limit__gte=1, internal_share_limit__lte=100),
                                   name="settings_internal_share"),
            models.CheckConstraint(condition=Q(stakeholder_share_limit__gte=1, stakeholder_share_limit__lte=100),
                                   name="settings_stakeholder_share"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return "relationship settings"
