"""Platform models: users with a role, teams, territories, API tokens, and shared base classes."""

from __future__ import annotations

import hashlib
import secrets

import pgtrigger
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from openkam.core.audit import audited


class TimeStamped(models.Model):
    """created_at / updated_at on every domain row."""

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class Role(models.TextChoices):
    """A user's job in the product (DESIGN.md §1). Decides access; see ``openkam.core.access``."""

    KAM = "kam", _("Key account manager")
    LEAD = "lead", _("KAM lead")
    MEDICAL = "medical", _("Medical (MSL)")
    MARKET_ACCESS = "market_access", _("Market access")
    COMPLIANCE = "compliance", _("Compliance")
    ADMIN = "admin", _("Administrator")


class Function(models.TextChoices):
    """The function a person or a piece of work belongs to."""

    COMMERCIAL = "commercial", _("Commercial")
    MEDICAL = "medical", _("Medical")
    MARKET_ACCESS = "market_access", _("Market access")


class Classification(models.TextChoices):
    """Who may see a record: medical never sees commercial-only, commercial never sees medical-only."""

    COMMERCIAL = "commercial", _("Commercial only")
    MEDICAL = "medical", _("Medical only")
    MARKET_ACCESS = "market_access", _("Market access")
    JOINT = "joint", _("Joint")


@audited()
class Territory(TimeStamped):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200, unique=True)
    country = models.CharField(_("country"), max_length=2, default="US")
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")

    def __str__(self) -> str:
        return self.name


@audited()
class Team(TimeStamped):
    name = models.CharField(_("name"), max_length=200, unique=True)
    territories: models.ManyToManyField[Territory, TeamTerritory] = models.ManyToManyField(
        Territory, related_name="teams", blank=True, through="TeamTerritory"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")

    def __str__(self) -> str:
        return self.name


@audited()
class TeamTerritory(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "territory"], name="team_territory_unique")]

    def __str__(self) -> str:
        return f"{self.team_id}:{self.territory_id}"


class OpenKAMUserManager(UserManager["User"]):
    pass


@audited(exclude=["password", "last_login"])
class User(AbstractUser):
    """A person using OpenKAM. Deactivated, never deleted (a trigger refuses DELETE)."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.KAM)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports", verbose_name=_("manager")
    )
    title = models.CharField(_("job title"), max_length=200, blank=True)

    objects = OpenKAMUserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        triggers = [pgtrigger.Protect(name="users_are_never_deleted", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def function(self) -> str:
        mapping: dict[str, str] = {Role.MEDICAL: Function.MEDICAL, Role.MARKET_ACCESS: Function.MARKET_ACCESS}
        return mapping.get(self.role, Function.COMMERCIAL)


@audited(exclude=["key_hash", "last_used_at"])
class ApiToken(TimeStamped):
    """A personal API token. Only its SHA-256 is stored; the key is shown once, at creation."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, default="api")
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return "okam_" + secrets.token_urlsafe(32)


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", pgettext_lazy("job status", "Cancelled")


@audited(exclude=["result", "done", "total", "message", "updated_at"])
class Job(TimeStamped):
    """A piece of long work run by the task worker for one user: an export, an import, a recalculation.

    ``kind`` names a handler registered with :func:`openkam.core.jobs.job_handler`; the handler runs with the
    requesting user as actor, so what it produces respects that user's access. Progress (``done`` of ``total``,
    ``message``) is written as it goes and polled by the page (HTMX) or the API; a file result is kept in
    ``result`` (bytea) with its name and content type, downloadable only by the requester.
    """

    kind = models.CharField(_("kind"), max_length=60)
    label = models.CharField(_("label"), max_length=200)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="jobs")
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    summary = models.JSONField(default=dict, blank=True)  # what the handler reports (counts, figures)
    result = models.BinaryField(null=True, blank=True, editable=False)
    result_name = models.CharField(max_length=200, blank=True)
    result_type = models.CharField(max_length=120, blank=True)
    result_size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="core_job_user_created")]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return min(100, int(100 * self.done / self.total)) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)

    @property
    def has_file(self) -> bool:
        return self.status == JobStatus.DONE and bool(self.result_name)
