"""Personal-data reads: everything OpenKAM holds about one stakeholder, for a subject-access export.

Only compliance and administrators read it (compliance reads every classification). Each part comes from the
app that owns it: the person, positions and committee seats (stakeholders), interactions where the person
appears (activities, with the reader's classification rules), assessments, strengths and links
(relationships), and the audit events about the person and their positions (core).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.core.access import is_admin
from openkam.core.errors import NotFound, PermissionDenied
from openkam.core.models import Role, User
from openkam.core.selectors import object_history, object_history_many
from openkam.stakeholders.models import Stakeholder
from openkam.stakeholders.selectors import stakeholder_get, stakeholder_positions

PERSON_FIELDS = (
    "prefix", "first_name", "last_name", "credentials", "kind", "npi", "email", "phone", "country", "notes",
)  # fmt: skip
CONSENT_FIELDS = ("consent_contact", "consent_email", "consent_date", "do_not_contact", "privacy_restricted")


def privacy_can_manage(actor: User) -> bool:
    """Compliance (the data-protection role) and administrators export and erase personal data."""
    return bool(actor.is_active and (actor.role == Role.COMPLIANCE or is_admin(actor)))


def require_privacy(actor: User) -> None:
    if not privacy_can_manage(actor):
        raise PermissionDenied(
            _("Only compliance and administrators can export or erase a person's data."), code="privacy_forbidden"
        )


def privacy_stakeholder_get(*, actor: User, stakeholder_id: Any) -> Stakeholder:
    require_privacy(actor)
    if not str(stakeholder_id).isdigit():
        raise NotFound(_("No such stakeholder."), code="stakeholder_not_found")
    return stakeholder_get(actor=actor, stakeholder_id=int(stakeholder_id))


def _value(v: Any) -> Any:
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def stakeholder_personal_data(*, actor: User, stakeholder_id: Any) -> dict[str, Any]:
    """The subject-access export of one person, JSON-serialisable."""
    from openkam.activities.selectors import stakeholder_interactions
    from openkam.relationships.selectors import stakeholder_relationship_record

    s = privacy_stakeholder_get(actor=actor, stakeholder_id=stakeholder_id)
    positions = list(stakeholder_positions(actor=actor, stakeholder=s))
    interactions = list(
        stakeholder_interactions(actor=actor, stakeholder=s).select_related("account", "created_by")[:2000]
    )
    try:
        relationships = stakeholder_relationship_record(actor=actor, stakeholder_id=s.pk)
    except NotFound:
        relationships = {}
    events = list(object_history(obj=s)[:2000])
    if positions:
        events += list(object_history_many(objs=positions)[:2000])
    events.sort(key=lambda e: (e.pgh_created_at, e.pgh_id), reverse=True)
    return {
        "exported_at": timezone.now().isoformat(),
        "exported_by": actor.get_username(),
        "stakeholder_id": s.pk,
        "erased_at": _value(s.erased_at),
        "person": {
            **{f: _value(getattr(s, f)) for f in PERSON_FIELDS},
            "display_name": s.display_name,
            "specialty": {"code": s.specialty.pk, "name": s.specialty.display_name} if s.specialty else None,
            "created_at": _value(s.created_at),
            "updated_at": _value(s.updated_at),
        },
        "consent": {f: _value(getattr(s, f)) for f in CONSENT_FIELDS},
        "positions": [
            {
                "id": p.pk,
                "account_id": p.account_id,
                "account": p.account.name,
                "title": p.title,
                "role_in_decision": p.role_in_decision,
                "is_primary": p.is_primary,
                "valid_from": _value(p.valid_from),
                "valid_to": _value(p.valid_to),
                "current": bool(getattr(p, "is_current", False)),
                "committee": (
                    {"id": p.committee.pk, "name": p.committee.name, "role": getattr(p, "committee_role", "")}
                    if p.committee
                    else None
                ),
            }
            for p in positions
        ],
        "committee_seats": [
            {
                "committee_id": p.committee.pk,
                "committee": p.committee.name,
                "account": p.account.name,
                "role": getattr(p, "committee_role", "") or "member",
                "valid_from": _value(p.valid_from),
                "valid_to": _value(p.valid_to),
            }
            for p in positions
            if p.committee is not None
        ],
        "interactions": [
            {
                "id": i.pk,
                "occurred_at": _value(i.occurred_at),
                "channel": i.channel,
                "subject": i.subject,
                "notes": getattr(i, "notes", ""),
                "classification": i.classification,
                "account": i.account.name,
                "logged_by": i.created_by.get_username(),
            }
            for i in interactions
        ],
        "relationships": relationships,
        "audit_events": [
            {
                "at": _value(e.pgh_created_at),
                "label": e.pgh_label,
                "model": e.pgh_model,
                "object_id": e.pgh_obj_id,
                "by": (e.pgh_context or {}).get("username"),
                "action": (e.pgh_context or {}).get("action"),
                "reason": (e.pgh_context or {}).get("reason"),
                "changes": {k: [_value(v) for v in pair] for k, pair in (e.pgh_diff or {}).items()},
            }
            for e in events
        ],
    }
