"""Accounts: decision-making organisations in a tree of any depth, with affiliations and a team."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from openkam.core.audit import audited
from openkam.core.models import Function, Territory, TimeStamped


class AccountType(models.TextChoices):
    IDN = "idn", _("IDN / health system")
    HEALTH_SYSTEM = "health_system", _("Health system")
    HOSPITAL = "hospital", _("Hospital")
    DEPARTMENT = "department", _("Department")
    CLINIC = "clinic", _("Clinic")
    PAYER = "payer", _("Payer")
    PBM = "pbm", _("PBM")
    GPO = "gpo", _("GPO")
    WHOLESALER = "wholesaler", _("Wholesaler")
    PHARMACY_CHAIN = "pharmacy_chain", _("Pharmacy chain")
    PHARMACY = "pharmacy", _("Pharmacy")
    GOVERNMENT_BODY = "government_body", _("Government body")
    HTA_BODY = "hta_body", _("HTA body")
    OTHER = "other", _("Other")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PROSPECT = "prospect", _("Prospect")
    INACTIVE = "inactive", _("Inactive")


class KamLevel(models.TextChoices):
    STRATEGIC = "strategic", _("Strategic")
    KEY = "key", _("Key")
    BASIC = "basic", _("Basic")
    DECLINED = "declined", _("Declined")
    UNASSESSED = "unassessed", _("Not assessed")


def _choice_label(choices: type[models.Choices], value: str) -> str:
    """The translated label of ``value``, or the value itself when it is not one of ``choices``."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


# Accounts whose names repeat across an IDN (every hospital has a "Pharmacy"): shown with their parent's name.
QUALIFIED_TYPES = frozenset({AccountType.DEPARTMENT, AccountType.CLINIC})


def qualified_name(name: str, type: str, parent_name: str | None) -> str:
    """``name`` as a person can tell it apart across an IDN: "Emergency Medicine · Mount Sinai West" for a
    department or clinic with a parent, else ``name`` (see :attr:`Account.qualified_name`)."""
    if type in QUALIFIED_TYPES and parent_name:
        return f"{name} · {parent_name}"
    return name


@audited()
class Account(TimeStamped):
    """An organisation we sell to or through. ``ancestors`` (root first) is maintained by services."""

    name = models.CharField(_("name"), max_length=255)
    type = models.CharField(_("type"), max_length=20, choices=AccountType.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent")
    )
    ancestors = ArrayField(models.BigIntegerField(), default=list, blank=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    ccn = models.CharField(_("CMS CCN"), max_length=10, blank=True, help_text=_("CMS Certification Number"))
    npi = models.CharField(_("organisation NPI"), max_length=10, blank=True)
    national_id = models.CharField(_("national id"), max_length=50, blank=True)
    address_line = models.CharField(_("address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state / region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, default="US")
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    kam_level = models.CharField(_("KAM level"), max_length=12, choices=KamLevel.choices, default=KamLevel.UNASSESSED)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_accounts"
    )
    territory = models.ForeignKey(Territory, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            GinIndex(fields=["ancestors"], name="account_ancestors_gin"),
            models.Index(fields=["type"], name="account_type_idx"),
            models.Index(fields=["kam_level"], name="account_level_idx"),
            models.Index(fields=["country"], name="account_country_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["ccn"], condition=~Q(ccn=""), name="account_ccn_unique"),
            models.UniqueConstraint(fields=["npi"], condition=~Q(npi=""), name="account_npi_unique"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="account_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def qualified_name(self) -> str:
        """The name a person can tell apart in a list of a whole IDN: a department or clinic with its parent
        ("Emergency Medicine · Mount Sinai West"), anything else by its name. Reads ``parent``: load it with
        ``select_related("parent")`` (or set ``parent_name`` on the row) where many accounts are listed."""
        if self.type not in QUALIFIED_TYPES or not self.parent_id:
            return self.name
        parent_name = self.__dict__.get("parent_name")
        if parent_name is None:
            parent_name = self.parent.name  # type: ignore[union-attr]
        return qualified_name(self.name, self.type, parent_name)

    # Django's generated get_FOO_display() rebuilds a dict of every choice, translating each label, on each
    # call (20–50 µs); lists and Account 360 call these for every row. Same result, one enum lookup.
    def get_type_display(self) -> str:  # type: ignore[no-redef]
        return _choice_label(AccountType, self.type)

    def get_status_display(self) -> str:  # type: ignore[no-redef]
        return _choice_label(AccountStatus, self.status)

    def get_kam_level_display(self) -> str:  # type: ignore[no-redef]
        return _choice_label(KamLevel, self.kam_level)


class TeamRole(models.TextChoices):
    ACCOUNT_LEAD = "account_lead", _("Account lead")
    KAM = "kam", _("Key account manager")
    MSL = "msl", _("Medical science liaison")
    MARKET_ACCESS = "market_access", _("Market access manager")
    SPECIALIST = "specialist", _("Specialist rep")
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")
    OTHER = "other", _("Other")


@audited()
class AccountTeamMember(TimeStamped):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="team_members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="account_memberships")
    role = models.CharField(_("role"), max_length=20, choices=TeamRole.choices, default=TeamRole.KAM)
    function = models.CharField(_("function"), max_length=20, choices=Function.choices, default=Function.COMMERCIAL)
    start_date = models.DateField(_("since"))
    end_date = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["account", "start_date"]
        indexes = [models.Index(fields=["user", "end_date"], name="atm_user_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")), name="atm_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.account}"


class AffiliationType(models.TextChoices):
    GPO_MEMBER = "gpo_member", _("GPO membership")
    PAYER_CONTRACT = "payer_contract", _("Payer contract")
    SUPPLY = "supply", _("Supplied by (wholesaler)")
    NETWORK = "network", _("Network / alliance member")
    ACADEMIC = "academic", _("Academic affiliation")
    REFERRAL = "referral", _("Referral relationship")
    OTHER = "other", _("Other")


@audited()
class AccountAffiliation(TimeStamped):
    """A dated, typed link beyond the tree: a hospital in a GPO, a payer contract."""

    from_account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="affiliations_out")
    to_account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="affiliations_in")
    type = models.CharField(_("type"), max_length=20, choices=AffiliationType.choices)
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["from_account", "type"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_account=F("to_account")), name="affiliation_not_self"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(start_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="affiliation_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_account} → {self.to_account} ({self.get_type_display()})"
