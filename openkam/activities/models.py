"""Interactions: human and digital engagement with an account and its stakeholders."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import Account
from openkam.core.audit import audited
from openkam.core.models import Classification, TimeStamped
from openkam.plans.models import Action, Tactic
from openkam.stakeholders.models import Stakeholder


class Channel(models.TextChoices):
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    CALL = "call", _("Call")
    EVENT = "event", _("Event")
    EMAIL = "email", _("Email")
    WEBINAR = "webinar", _("Webinar")
    PORTAL = "portal", _("Portal")


DIGITAL_CHANNELS = frozenset({Channel.EMAIL, Channel.WEBINAR, Channel.PORTAL})


@audited()
class Interaction(TimeStamped):
    occurred_at = models.DateTimeField(_("when"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="interactions")
    subject = models.CharField(_("subject"), max_length=255)
    notes = models.TextField(_("notes"), blank=True)
    classification = models.CharField(
        _("classification"), max_length=20, choices=Classification.choices, default=Classification.COMMERCIAL
    )
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    tactic = models.ForeignKey(Tactic, null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions")
    action = models.ForeignKey(Action, null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    stakeholders: models.ManyToManyField[Stakeholder, InteractionStakeholder] = models.ManyToManyField(
        Stakeholder, through="InteractionStakeholder", related_name="interactions"
    )
    participants: models.ManyToManyField[Any, InteractionParticipant] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="InteractionParticipant", related_name="interactions"
    )

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            # Covering: "newest / how many at these accounts, of these classifications" (Account 360) is
            # answered from the index alone (index-only scans, no heap page per interaction).
            models.Index(
                fields=["account", "-occurred_at", "-id"],
                include=["classification"],
                name="interaction_account_cov_idx",
            ),
            models.Index(fields=["classification", "-occurred_at"], name="interaction_class_idx"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_digital(self) -> bool:
        return self.channel in DIGITAL_CHANNELS


@audited()
class InteractionStakeholder(models.Model):
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE)
    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["interaction", "stakeholder"], name="interaction_stakeholder_unique")
        ]
        indexes = [models.Index(fields=["stakeholder"], name="interaction_sh_idx")]

    def __str__(self) -> str:
        return f"{self.interaction_id}:{self.stakeholder_id}"


@audited()
class InteractionParticipant(models.Model):
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["interaction", "user"], name="interaction_participant_unique")]

    def __str__(self) -> str:
        return f"{self.interaction_id}:{self.user_id}"
