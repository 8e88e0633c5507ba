"""Personal-data reads: everything OpenKAM holds about one stakeholder, for a subject-access export.

Only compliance and administrators read it (compliance reads every classification). Each part comes from the
app that owns it: the person, positions and committee seats (stakeholders), interactions where the person
appears (activities, with the reader's classification rules), assessments, strengths and links
(relationships), and the audit events about the person and their positions (core).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from openkam.core.access import is_admin
from openkam.core.errors import NotFound, PermissionDenied
from openkam.core.models import Role, User
from openkam.core.selectors import object_history, object_history_many
from openkam.stakeholders.models import Position, Stakeholder
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
    data: dict[str, Any] = {
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
    data["users"] = _user_names(data)
    return data


def _usernames(data: dict[str, Any]) -> set[str]:
    """Every user of ours the export names (by username: the JSON's stable reference)."""
    rel = data.get("relationships") or {}
    names = {data["exported_by"]}
    names.update(i["logged_by"] for i in data["interactions"])
    names.update(a.get("recorded_by") for a in rel.get("assessments", []))
    names.update(o.get("user") for o in rel.get("owners", []))
    names.update(x.get("user") for x in rel.get("strengths", []))
    names.update(e.get("by") for e in data["audit_events"])
    return {n for n in names if n}


def _user_names(data: dict[str, Any]) -> dict[str, str]:
    """``{username: full name}`` for our people in the export (one query); the username when there is no name."""
    users = User.objects.filter(username__in=_usernames(data)).only("username", "first_name", "last_name")
    return {u.username: u.get_full_name() or u.username for u in users}


# --- for people: the export with labels ---------------------------------------------------------------------
# The JSON export keeps the stable field names (``first_name``, ``npi``, ``privacy_restricted``): programs read
# it. The page and the PDF show the same data to people: the models' verbose names (translated), choice labels
# instead of codes, Yes/No, dates and times in the reader's locale.
EMPTY = "—"


def _relationships_model(name: str) -> type[models.Model]:
    return apps.get_model("relationships", name)


def _interaction_model() -> type[models.Model]:
    return apps.get_model("activities", "Interaction")


def _field(model: type[models.Model], name: str) -> Any:
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def field_label(model: type[models.Model], name: str) -> str:
    """The field's verbose name, capitalised and translated (``first_name`` → “First name”)."""
    field = _field(model, name)
    if field is None or not hasattr(field, "verbose_name"):
        return capfirst(name.replace("_", " "))
    return capfirst(str(field.verbose_name))


def _when(value: Any, *, with_time: bool) -> str:
    """An ISO date or date-time of the export, in the reader's locale (date-times in the local time zone)."""
    if value in (None, ""):
        return EMPTY
    if isinstance(value, str):
        parsed: Any = parse_datetime(value) if "T" in value else parse_date(value)
        value = parsed if parsed is not None else value
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return formats.date_format(value, "SHORT_DATETIME_FORMAT" if with_time else "SHORT_DATE_FORMAT")
    if isinstance(value, dt.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def _yes_no(value: Any) -> str:
    return EMPTY if value is None else (_("Yes") if value else _("No"))


def field_value(model: type[models.Model], name: str, value: Any) -> str:
    """A value of the export as people read it: choice label, Yes/No, localised date, or the text itself."""
    field = _field(model, name)
    if value is None or value == "" or value == []:
        return _("No") if isinstance(field, models.BooleanField) else EMPTY
    if field is not None and getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField) or isinstance(value, bool):
        return _yes_no(value)
    if isinstance(field, models.DateTimeField):
        return _when(value, with_time=True)
    if isinstance(field, models.DateField):
        return _when(value, with_time=False)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _rows(model: type[models.Model], values: dict[str, Any], names: tuple[str, ...]) -> list[dict[str, str]]:
    return [
        {"key": n, "label": field_label(model, n), "value": field_value(model, n, values.get(n))}
        for n in names
        if n in values
    ]


def _event_label(label: str) -> str:
    return {
        "insert": pgettext("audit event", "created"),
        "update": pgettext("audit event", "changed"),
        "delete": pgettext("audit event", "deleted"),
    }.get(label, label)


def _tracked_model(event_model_label: str) -> type[models.Model] | None:
    try:
        event_model = apps.get_model(event_model_label)
    except (LookupError, ValueError):
        return None
    return getattr(event_model, "pgh_tracked_model", None)


def personal_data_for_people(data: dict[str, Any]) -> dict[str, Any]:
    """The export of :func:`stakeholder_personal_data` labelled for the page and the PDF (no queries).

    Every field shows its model's verbose name and a human value; the keys stay alongside (``key``) for tests
    and for readers who compare with the JSON.
    """
    Assessment = _relationships_model("StakeholderAssessment")
    Strength = _relationships_model("RelationshipStrength")
    Link = _relationships_model("InfluenceLink")
    Owner = _relationships_model("AssessmentOwner")
    Interaction = _interaction_model()
    person = data["person"]
    specialty = person.get("specialty")
    person_rows = _rows(Stakeholder, person, PERSON_FIELDS)
    person_rows.append(
        {
            "key": "specialty",
            "label": field_label(Stakeholder, "specialty"),
            "value": f"{specialty['name']} ({specialty['code']})" if specialty else EMPTY,
        }
    )
    person_rows += _rows(Stakeholder, person, ("created_at", "updated_at"))
    rel = data.get("relationships") or {}
    users: dict[str, str] = data.get("users") or {}

    def who(username: str | None) -> str:
        """Our person by name (the username when the account has no name, or is gone)."""
        return users.get(username, username) if username else EMPTY

    link_direction = {"outgoing": _("from this person"), "incoming": _("to this person")}
    labels: dict[type[models.Model] | None, str] = {}

    def record(model: type[models.Model] | None, fallback: str) -> str:
        if model not in labels:
            labels[model] = capfirst(str(model._meta.verbose_name)) if model is not None else fallback
        return labels[model]

    events = []
    for e in data["audit_events"]:
        tracked = _tracked_model(e["model"])
        changed = [k for k in (e.get("changes") or {}) if k not in ("updated_at", "created_at")]
        events.append(
            {
                "at": _when(e["at"], with_time=True),
                "record": record(tracked, e["model"]),
                "object_id": e["object_id"],
                "event": _event_label(e["label"]),
                "by": who(e.get("by")),
                "action": e.get("action") or "",
                "reason": e.get("reason") or "",
                "fields": ", ".join(field_label(tracked, k) if tracked else k for k in changed),
            }
        )
    return {
        "stakeholder_id": data["stakeholder_id"],
        "name": person["display_name"],
        "exported_by": who(data["exported_by"]),
        "exported_at": _when(data["exported_at"], with_time=True),
        "erased_at": _when(data["erased_at"], with_time=False) if data.get("erased_at") else None,
        "person": person_rows,
        "consent": _rows(Stakeholder, data["consent"], CONSENT_FIELDS),
        "positions": [
            {
                "title": p["title"] or EMPTY,
                "account": p["account"],
                "role_in_decision": field_value(Position, "role_in_decision", p["role_in_decision"]),
                "primary": _yes_no(p["is_primary"]),
                "is_primary": bool(p["is_primary"]),
                "current": _yes_no(p["current"]),
                "committee": p["committee"]["name"] if p["committee"] else EMPTY,
                "committee_role": (
                    field_value(Position, "committee_role", p["committee"]["role"])
                    if p["committee"] and p["committee"]["role"]
                    else ""
                ),
                "valid_from": _when(p["valid_from"], with_time=False),
                "valid_to": _when(p["valid_to"], with_time=False),
            }
            for p in data["positions"]
        ],
        "committee_seats": len(data["committee_seats"]),
        "interactions": [
            {
                "occurred_at": _when(i["occurred_at"], with_time=True),
                "channel": field_value(Interaction, "channel", i["channel"]),
                "subject": i["subject"],
                "notes": i["notes"],
                "account": i["account"],
                "classification": i["classification"],
                "classification_label": field_value(Interaction, "classification", i["classification"]),
                "logged_by": who(i["logged_by"]),
            }
            for i in data["interactions"]
        ],
        "assessments": [
            {
                "account": a["account"],
                "decision_role": field_value(Assessment, "decision_role", a["decision_role"]),
                "decision_domains": ", ".join(a["decision_domains"]) or EMPTY,
                "stance": field_value(Assessment, "stance", a["stance"]),
                "influence": field_value(Assessment, "influence", a["influence"]),
                "note": a["note"],
                "effective_from": _when(a["effective_from"], with_time=False),
                "superseded_at": _when(a["superseded_at"], with_time=False),
                "recorded_by": who(a.get("recorded_by")),
            }
            for a in rel.get("assessments", [])
        ],
        "owners": [
            {"account": o["account"], "user": who(o["user"]), "since": field_value(Owner, "since", o["since"])}
            for o in rel.get("owners", [])
        ],
        "strengths": [
            {
                "account": x["account"],
                "user": who(x["user"]),
                "current": field_value(Strength, "current", x["current"]),
                "desired": field_value(Strength, "desired", x["desired"]),
                "note": x["note"],
            }
            for x in rel.get("strengths", [])
        ],
        "links": [
            {
                "kind": field_value(Link, "kind", lk["kind"]),
                "direction": link_direction.get(lk["direction"], lk["direction"]),
                "other": lk["other"],
                "strength": field_value(Link, "strength", lk["strength"]),
                "evidence": lk["evidence"],
            }
            for lk in rel.get("links", [])
        ],
        "decision_domains": ", ".join(rel.get("decision_domains", [])),
        "audit_events": events,
    }
