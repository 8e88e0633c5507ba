"""Knowledge transfer: reassigning a leaving team member's accounts, relationships, actions and plans (issue 4).

A :class:`Handover` records one reassignment (who did it, from whom, to whom, when, why, which accounts, what
moved); :class:`HandoverAccount` the accounts it covered with the counts per account. Both are written once, by
``openkam.handover.services.handover_perform``, inside the transaction that moves the work.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import Account
from openkam.core.audit import audited
from openkam.core.models import TimeStamped


@audited()
class Handover(TimeStamped):
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("performed by")
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handovers_given", verbose_name=_("from")
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handovers_received", verbose_name=_("to")
    )
    reason = models.CharField(_("reason"), max_length=255)
    whole_book = models.BooleanField(_("whole book"), default=True, help_text=_("Every account the person held."))
    counts = models.JSONField(_("what moved"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["from_user", "-created_at"], name="handover_from_idx"),
            models.Index(fields=["to_user", "-created_at"], name="handover_to_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user} ({self.created_at:%Y-%m-%d})"


@audited()
class HandoverAccount(models.Model):
    """One account (with everything below it) a handover covered, and what moved there."""

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="accounts")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["handover", "id"]
        constraints = [models.UniqueConstraint(fields=["handover", "account"], name="handover_account_unique")]

    def __str__(self) -> str:
        return f"{self.handover_id}:{self.account_id}"
