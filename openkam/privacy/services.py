"""Personal-data writes: erasure on request (pseudonymisation) and the assessment retention.

Erasure replaces the person's identifying fields with a pseudonym (“Erased person #id”) and clears NPI, email,
phone, notes, credentials and specialty; consent is withdrawn (do not contact, privacy restricted) and
``erased_at`` is set; the relationships app clears its free text about the person. The row stays (positions,
committee seats, interactions and plans point at it, and the account's history must still add up) and the
audit trail stays: its event rows are append-only by design (see docs/privacy.md for what remains and why).
Once erased, the person cannot be edited back (:func:`refuse_editing_erased`, a ``pre_save`` guard).

Erasure is a privileged compliance operation: compliance — otherwise read-only — and administrators may do it.
It writes the stakeholder row directly (the stakeholders services refuse read-only roles), inside one audited
transaction, with the reason.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from openkam.core.audit import audit_action
from openkam.core.errors import FieldError, RuleViolation, ValidationFailed
from openkam.core.models import Job, User
from openkam.privacy.selectors import privacy_stakeholder_get
from openkam.stakeholders.models import Stakeholder

ERASED_FIRST_NAME = "Erased person"


def refuse_editing_erased(sender: Any, instance: Stakeholder, **kwargs: Any) -> None:
    """``pre_save`` guard: a person whose data was erased stays erased (one indexed lookup per save)."""
    if instance.pk is None or getattr(instance, "_privacy_erasing", False):
        return
    if Stakeholder.objects.filter(pk=instance.pk, erased_at__isnull=False).exists():
        raise RuleViolation(
            _("This person's data was erased on request; the record cannot be edited."), code="stakeholder_erased"
        )


def stakeholder_erase(*, actor: User, stakeholder_id: Any, reason: str, confirm: bool) -> Stakeholder:
    """Erase (pseudonymise) one person's personal data; returns the erased row. Needs a reason and ``confirm``."""
    from openkam.relationships.services import stakeholder_relationships_pseudonymise

    s = privacy_stakeholder_get(actor=actor, stakeholder_id=stakeholder_id)
    reason = (reason or "").replace("\x00", "").strip()
    errors: list[FieldError] = []
    if not reason:
        errors.append(
            FieldError("reason", "required", _("Say why (e.g. “erasure request of 2 March, ticket DP-114”)."))
        )
    elif len(reason) > 255:
        errors.append(FieldError("reason", "max_length", _("At most 255 characters.")))
    if confirm is not True:
        errors.append(FieldError("confirm", "required", _("Confirm that the person's data is to be erased.")))
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    if s.erased_at is not None:
        raise RuleViolation(
            _("This person's data was already erased on %(d)s.") % {"d": timezone.localtime(s.erased_at).date()},
            code="already_erased",
        )
    with audit_action(actor=actor, action="privacy.stakeholder.erase", reason=reason):
        row = Stakeholder.objects.select_for_update().get(pk=s.pk)
        row.prefix = ""
        row.first_name = ERASED_FIRST_NAME
        row.last_name = f"#{row.pk}"
        row.credentials = ""
        row.npi = ""
        row.email = ""
        row.phone = ""
        row.notes = ""
        row.specialty = None
        row.consent_contact = False
        row.consent_email = False
        row.consent_date = None
        row.do_not_contact = True
        row.privacy_restricted = True
        row.erased_at = timezone.now()
        row._privacy_erasing = True  # type: ignore[attr-defined]
        # a step of the erasure: its events carry this operation's action and reason (openkam.core.audit)
        stakeholder_relationships_pseudonymise(actor=actor, stakeholder_id=row.pk)
        row.save()
    return row


def privacy_export_pdf_start(*, actor: User, stakeholder_id: Any) -> Job:
    """Start the PDF of a person's data export as a job (checked first: the reader may export it)."""
    from openkam.core.services import job_start

    s = privacy_stakeholder_get(actor=actor, stakeholder_id=stakeholder_id)
    return job_start(
        actor=actor,
        kind="privacy.export_pdf",
        label=_("Personal data of %(p)s (PDF)") % {"p": s.display_name},
        params={"stakeholder_id": s.pk},
    )


def retention_set(*, actor: User, days: Any, reason: str = "") -> int | None:
    """Set how long superseded stakeholder assessments are kept (days; empty = kept for ever). Admin only."""
    from openkam.relationships.services import settings_update

    value = None if days in (None, "") else days
    return settings_update(actor=actor, reason=reason, assessment_retention_days=value).assessment_retention_days


def retention_purge_start(*, actor: User) -> Job:
    """Start the retention purge (a job): superseded assessments older than the retention are deleted."""
    from openkam.core.access import require_admin
    from openkam.core.services import job_start
    from openkam.relationships.selectors import settings_get

    require_admin(actor)
    days = settings_get().assessment_retention_days
    label = (
        ngettext("Assessment retention: older than %(d)d day", "Assessment retention: older than %(d)d days", days)
        % {"d": days}
        if days
        else _("Assessment retention (country rules only)")
    )
    return job_start(actor=actor, kind="privacy.retention_purge", label=label, params={"days": days})
