"""Stakeholders: people (HCPs and others), their effective-dated positions, and committees."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import Account
from openkam.core.audit import audited
from openkam.core.models import TimeStamped


class Specialty(models.Model):
    """NUCC Health Care Provider Taxonomy code (reference data, loaded by migration)."""

    code = models.CharField(_("code"), max_length=10, primary_key=True)
    grouping = models.CharField(max_length=200)
    classification = models.CharField(max_length=200)
    specialization = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=255)
    section = models.CharField(max_length=20)
    definition = models.TextField(blank=True)

    class Meta:
        ordering = ["display_name"]
        verbose_name_plural = _("specialties")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.code})"


class StakeholderKind(models.TextChoices):
    PHYSICIAN = "physician", _("Physician")
    PHARMACIST = "pharmacist", _("Pharmacist")
    NURSE = "nurse", _("Nurse / advanced practice")
    OTHER_HCP = "other_hcp", _("Other HCP")
    ADMINISTRATOR = "administrator", _("Administrator / executive")
    PROCUREMENT = "procurement", _("Procurement / purchasing")
    PAYER = "payer", _("Payer / access decision maker")
    OTHER = "other", _("Other")


HCP_KINDS = frozenset(
    {StakeholderKind.PHYSICIAN, StakeholderKind.PHARMACIST, StakeholderKind.NURSE, StakeholderKind.OTHER_HCP}
)


@audited()
class Stakeholder(TimeStamped):
    prefix = models.CharField(_("prefix"), max_length=20, blank=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    credentials = models.CharField(_("credentials"), max_length=60, blank=True, help_text=_("e.g. MD, PharmD"))
    kind = models.CharField(
        _("kind"), max_length=20, choices=StakeholderKind.choices, default=StakeholderKind.PHYSICIAN
    )
    npi = models.CharField(_("NPI"), max_length=10, blank=True)
    specialty = models.ForeignKey(Specialty, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    country = models.CharField(_("country"), max_length=2, default="US")
    consent_contact = models.BooleanField(_("consents to contact"), default=True)
    consent_email = models.BooleanField(_("consents to email"), default=False)
    consent_date = models.DateField(_("consent recorded on"), null=True, blank=True)
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    privacy_restricted = models.BooleanField(
        _("privacy restricted"), default=False, help_text=_("No profiling or assessment of this person.")
    )
    notes = models.TextField(_("notes"), blank=True)
    erased_at = models.DateTimeField(
        _("erased on"), null=True, blank=True, editable=False,
        help_text=_("Personal data erased on request (pseudonymised); the record and its audit trail remain."),
    )  # fmt: skip

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["last_name", "first_name"], name="stakeholder_name_idx")]
        constraints = [models.UniqueConstraint(fields=["npi"], condition=~Q(npi=""), name="stakeholder_npi_unique")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = " ".join(p for p in [self.prefix, self.first_name, self.last_name] if p)
        return f"{name}, {self.credentials}" if self.credentials else name

    @property
    def is_hcp(self) -> bool:
        return self.kind in HCP_KINDS


class CommitteeKind(models.TextChoices):
    P_AND_T = "p_and_t", _("Pharmacy & therapeutics (P&T)")
    VALUE_ANALYSIS = "value_analysis", _("Value analysis")
    FORMULARY = "formulary", _("Formulary")
    PROCUREMENT = "procurement", _("Procurement")
    TENDER_BOARD = "tender_board", _("Tender board")
    ETHICS = "ethics", _("Ethics")
    OTHER = "other", _("Other")


class CommitteeScope(models.TextChoices):
    """Which accounts of the hierarchy a committee decides for."""

    SUBTREE = "subtree", _("This account and every account below it")
    ACCOUNT = "account", _("This account only")
    SELECTED = "selected", _("Selected accounts below it (and everything below those)")


class CommitteeRole(models.TextChoices):
    """A member's role on a committee (the seat), next to their role in the decision."""

    CHAIR = "chair", _("Chair")
    VICE_CHAIR = "vice_chair", _("Vice chair")
    MEMBER = "member", _("Voting member")
    SECRETARY = "secretary", _("Secretary")
    ADVISOR = "advisor", _("Advisor (non-voting)")


@audited()
class Committee(TimeStamped):
    """A decision-making unit of an account (P&T, value analysis, procurement...).

    ``scope`` says which accounts it decides for: a system-level P&T decides for every member hospital
    (``subtree``), a hospital's ethics board for that hospital (``account``), a regional value-analysis
    committee for some hospitals (``selected``, with :class:`CommitteeScopeAccount` rows). Members are
    positions with ``committee`` set (their seat: ``committee_role``, ``valid_from``/``valid_to``).
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="committees")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=CommitteeKind.choices)
    description = models.TextField(_("description"), blank=True)
    meeting_cadence = models.CharField(_("meeting cadence"), max_length=100, blank=True)
    next_meeting = models.DateField(_("next meeting"), null=True, blank=True)
    scope = models.CharField(
        _("decides for"),
        max_length=10,
        choices=CommitteeScope.choices,
        default=CommitteeScope.SUBTREE,
        db_default=CommitteeScope.SUBTREE,
    )

    class Meta:
        ordering = ["account", "name"]

    def __str__(self) -> str:
        return self.name


@audited()
class CommitteeScopeAccount(models.Model):
    """An account a ``selected``-scope committee decides for (with everything below it)."""

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="scope_accounts")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["committee", "account"], name="committee_scope_unique")]
        indexes = [models.Index(fields=["account"], name="committee_scope_account_idx")]

    def __str__(self) -> str:
        return f"{self.committee_id} → {self.account_id}"


class DecisionRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    APPROVER = "approver", _("Approver")
    INFLUENCER = "influencer", _("Influencer")
    CHAMPION = "champion", _("Champion")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")
    USER = "user", _("User")
    BLOCKER = "blocker", _("Blocker")
    UNKNOWN = "unknown", _("Unknown")


@audited()
class Position(TimeStamped):
    """A stakeholder's role at an account (or department, or on a committee) for a period.

    People move, roles stay: ending a position sets ``valid_to``; the row and its history remain and
    the account shows the role as vacated.
    """

    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="positions")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="positions")
    committee = models.ForeignKey(Committee, null=True, blank=True, on_delete=models.SET_NULL, related_name="positions")
    committee_role = models.CharField(
        _("role on the committee"), max_length=12, choices=CommitteeRole.choices, blank=True, default="", db_default=""
    )
    title = models.CharField(_("title"), max_length=200)
    role_in_decision = models.CharField(
        _("role in decision"), max_length=20, choices=DecisionRole.choices, default=DecisionRole.UNKNOWN
    )
    is_primary = models.BooleanField(_("primary position"), default=False)
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["account", "title"]
        indexes = [
            # Covering: "who holds a current position at these accounts" (Account 360's roll-ups and key
            # figures) is answered from the index alone (index-only scans).
            models.Index(fields=["account", "valid_to"], include=["stakeholder"], name="position_account_cov_idx"),
            models.Index(fields=["stakeholder", "valid_to"], name="position_stakeholder_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="position_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.stakeholder}"
