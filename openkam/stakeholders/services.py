"""Stakeholder writes: people, their effective-dated positions, and committees.

Every function: keyword-only, access check first (``require_write``; related rows fetched through
access-checked selectors), then validation of everything (``ValidationFailed`` naming the field), then one
atomic, audited change. People move, roles stay: a position is ended (``valid_to``), never deleted, so the
account keeps the vacated role and its history.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_get
from openkam.core.access import require_write
from openkam.core.audit import audit_action
from openkam.core.errors import FieldError, NotFound, RuleViolation, ValidationFailed
from openkam.core.models import User
from openkam.core.validators import validate_npi
from openkam.stakeholders.models import (
    Committee,
    CommitteeKind,
    DecisionRole,
    Position,
    Specialty,
    Stakeholder,
    StakeholderKind,
)
from openkam.stakeholders.selectors import committee_get, position_get, stakeholder_get, stakeholder_positions

STAKEHOLDER_FIELDS = frozenset(
    {
        "prefix", "first_name", "last_name", "credentials", "kind", "npi", "specialty", "email", "phone",
        "country", "consent_contact", "consent_email", "consent_date", "do_not_contact", "privacy_restricted",
        "notes",
    }
)  # fmt: skip
POSITION_FIELDS = frozenset({"title", "role_in_decision", "committee", "is_primary", "valid_from", "valid_to"})
COMMITTEE_FIELDS = frozenset({"name", "kind", "description", "meeting_cadence", "next_meeting"})
_STRIPPED = frozenset({"prefix", "first_name", "last_name", "credentials", "npi", "email", "phone", "title", "name"})


# --- helpers ----------------------------------------------------------------------------------------
def _pk(value: Any) -> Any:
    return getattr(value, "pk", value)


def _reject_unknown(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationFailed(
            _("Unknown field: %(f)s") % {"f": ", ".join(unknown)}, field=unknown[0], code="unknown_field"
        )


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in fields.items():
        if key in _STRIPPED:
            value = (value or "").strip()
        out[key] = value
    return out


def _account(actor: User, account: Account | int | None) -> Account:
    if account in (None, ""):
        raise ValidationFailed(_("Choose the account this position is at."), field="account", code="required")
    return account_get(actor=actor, account_id=_pk(account))


def _specialty(value: Specialty | str | None) -> Specialty | None:
    if value in (None, ""):
        return None
    code = _pk(value)
    specialty = Specialty.objects.filter(pk=code).first()
    if specialty is None:
        raise ValidationFailed(
            _("“%(c)s” is not a NUCC taxonomy code.") % {"c": code}, field="specialty", code="specialty_unknown"
        )
    return specialty


def _committee_for(actor: User, committee: Committee | int | None, account: Account) -> Committee | None:
    if committee in (None, ""):
        return None
    try:
        c = committee_get(actor=actor, committee_id=_pk(committee))
    except NotFound:
        raise ValidationFailed(_("No such committee."), field="committee", code="committee_not_found")
    if c.account_id != account.pk and c.account_id not in account.ancestors:
        raise ValidationFailed(
            _("The committee “%(c)s” belongs to another account; pick one of “%(a)s” or of an account above it.")
            % {"c": c.name, "a": account.name},
            field="committee",
            code="committee_other_account",
        )
    return c


def _raise_collected(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors[0].message, code=errors[0].code, errors=errors)


def _validate_stakeholder(s: Stakeholder) -> None:
    """Every field rule of a person, collected so a form can show them all at once."""
    errors: list[FieldError] = []
    if not s.first_name:
        errors.append(FieldError("first_name", "required", _("Enter the first name.")))
    if not s.last_name:
        errors.append(FieldError("last_name", "required", _("Enter the last name.")))
    if s.kind not in StakeholderKind.values:
        errors.append(FieldError("kind", "invalid_choice", _("“%(v)s” is not a kind of stakeholder.") % {"v": s.kind}))
    if s.npi:
        try:
            validate_npi(s.npi)
        except DjangoValidationError as exc:
            errors.append(FieldError("npi", exc.code or "npi_invalid", str(exc.messages[0])))
        else:
            if not s.npi.startswith("1"):
                errors.append(
                    FieldError(
                        "npi",
                        "npi_not_individual",
                        _("A person's NPI starts with 1 (NPIs starting with 2 belong to organisations)."),
                    )
                )
            elif Stakeholder.objects.filter(npi=s.npi).exclude(pk=s.pk).exists():
                errors.append(
                    FieldError(
                        "npi", "npi_duplicate", _("Another stakeholder already has NPI %(npi)s.") % {"npi": s.npi}
                    )
                )
    if s.do_not_contact and (s.consent_contact or s.consent_email):
        errors.append(
            FieldError(
                "do_not_contact",
                "consent_conflict",
                _("A person marked “do not contact” cannot also consent to contact or email: untick one of them."),
            )
        )
    if s.consent_email and not s.consent_contact:
        errors.append(
            FieldError("consent_email", "consent_conflict", _("Email consent needs consent to be contacted at all."))
        )
    if s.consent_date and s.consent_date > timezone.localdate():
        errors.append(FieldError("consent_date", "date_in_future", _("A consent cannot be recorded in the future.")))
    try:
        s.full_clean(exclude=["specialty", "npi", "kind"], validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        reported = {e.field for e in errors}
        for field, errs in exc.error_dict.items():
            if field in reported:
                continue
            for err in errs:
                msg = err.message % err.params if err.params else err.message
                errors.append(FieldError(field, err.code or "invalid", str(msg)))
    _raise_collected(errors)


def _validate_position(p: Position) -> None:
    errors: list[FieldError] = []
    if not p.title:
        errors.append(FieldError("title", "required", _("Enter the title of the position, e.g. Chief of Cardiology.")))
    if p.role_in_decision not in DecisionRole.values:
        errors.append(
            FieldError(
                "role_in_decision",
                "invalid_choice",
                _("“%(v)s” is not a role in decision.") % {"v": p.role_in_decision},
            )
        )
    if p.valid_from is None:
        errors.append(FieldError("valid_from", "required", _("Enter the date the position started.")))
    elif p.valid_to is not None and p.valid_to < p.valid_from:
        errors.append(
            FieldError(
                "valid_to",
                "end_before_start",
                _("The end date (%(to)s) cannot be before the start date (%(fr)s).")
                % {"to": p.valid_to.isoformat(), "fr": p.valid_from.isoformat()},
            )
        )
    if len(p.title) > 200:
        errors.append(FieldError("title", "max_length", _("A title has at most 200 characters.")))
    _raise_collected(errors)


def _make_sole_primary(position: Position, actor: User) -> None:
    """Only one current primary position per person among those the actor may see."""
    for other in stakeholder_positions(actor=actor, stakeholder=position.stakeholder).filter(is_primary=True):
        if other.pk == position.pk or not other.is_current:  # type: ignore[attr-defined]
            continue
        other.is_primary = False
        other.save(update_fields=["is_primary", "updated_at"])


def _save_stakeholder(s: Stakeholder) -> None:
    try:
        s.save()
    except IntegrityError:  # a concurrent insert of the same NPI won the race
        raise ValidationFailed(
            _("Another stakeholder already has NPI %(npi)s.") % {"npi": s.npi}, field="npi", code="npi_duplicate"
        )


# --- stakeholders -----------------------------------------------------------------------------------
def stakeholder_create(
    *,
    actor: User,
    first_name: str,
    last_name: str,
    account: Account | int | None,
    title: str,
    role_in_decision: str = DecisionRole.UNKNOWN,
    valid_from: dt.date | None = None,
    committee: Committee | int | None = None,
    reason: str = "",
    **fields: Any,
) -> Stakeholder:
    """Create a person together with their first (primary) position at a visible account — so the creator,
    and everyone on that account, can see them."""
    require_write(actor)
    _reject_unknown(fields, STAKEHOLDER_FIELDS - {"first_name", "last_name"})
    fields = _clean({"first_name": first_name, "last_name": last_name, **fields})
    errors: list[FieldError] = []
    code = fields.pop("specialty", None)
    stakeholder = Stakeholder(**fields)
    position = Position(
        stakeholder=stakeholder,
        title=(title or "").strip(),
        role_in_decision=role_in_decision or DecisionRole.UNKNOWN,
        valid_from=valid_from or timezone.localdate(),
        is_primary=True,
    )
    checks = [
        lambda: setattr(stakeholder, "specialty", _specialty(code)),
        lambda: _validate_stakeholder(stakeholder),
        lambda: _validate_position(position),
        lambda: setattr(position, "account", _account(actor, account)),  # NotFound when out of scope
    ]
    for check in checks:
        try:
            check()
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if position.account_id is not None:
        try:
            position.committee = _committee_for(actor, committee, position.account)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    _raise_collected(errors)
    with audit_action(actor=actor, action="stakeholders.stakeholder.create", reason=reason):
        _save_stakeholder(stakeholder)
        position.stakeholder = stakeholder
        position.save()
    return stakeholder_get(actor=actor, stakeholder_id=stakeholder.pk)


def stakeholder_update(*, actor: User, stakeholder: Stakeholder | int, reason: str = "", **fields: Any) -> Stakeholder:
    """Change a visible person's own fields (positions change through ``position_*``)."""
    require_write(actor)
    s = stakeholder_get(actor=actor, stakeholder_id=_pk(stakeholder))
    _reject_unknown(fields, STAKEHOLDER_FIELDS)
    fields = _clean(fields)
    errors: list[FieldError] = []
    if "specialty" in fields:
        try:
            fields["specialty"] = _specialty(fields["specialty"])
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            fields.pop("specialty")
    for key, value in fields.items():
        setattr(s, key, value)
    try:
        _validate_stakeholder(s)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    _raise_collected(errors)
    with audit_action(actor=actor, action="stakeholders.stakeholder.update", reason=reason):
        _save_stakeholder(s)
    return stakeholder_get(actor=actor, stakeholder_id=s.pk)


# --- positions --------------------------------------------------------------------------------------
def position_add(
    *,
    actor: User,
    stakeholder: Stakeholder | int,
    account: Account | int | None,
    title: str,
    role_in_decision: str = DecisionRole.UNKNOWN,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    committee: Committee | int | None = None,
    is_primary: bool = False,
    reason: str = "",
) -> Position:
    """Give a visible person a (new) role at a visible account. With ``is_primary`` it becomes their primary
    position and the flag leaves their other current positions."""
    require_write(actor)
    s = stakeholder_get(actor=actor, stakeholder_id=_pk(stakeholder))
    acct = _account(actor, account)
    position = Position(
        stakeholder=s,
        account=acct,
        title=(title or "").strip(),
        role_in_decision=role_in_decision or DecisionRole.UNKNOWN,
        valid_from=valid_from or timezone.localdate(),
        valid_to=valid_to,
        is_primary=bool(is_primary),
    )
    errors: list[FieldError] = []
    try:
        _validate_position(position)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    try:
        position.committee = _committee_for(actor, committee, acct)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    _raise_collected(errors)
    with audit_action(actor=actor, action="stakeholders.position.add", reason=reason):
        position.save()
        if position.is_primary:
            _make_sole_primary(position, actor)
    return position_get(actor=actor, position_id=position.pk)


def position_update(*, actor: User, position: Position | int, reason: str = "", **fields: Any) -> Position:
    """Correct a position (title, role in decision, committee, primary flag, dates). A person who moves to
    another account gets a new position; the old one is ended, not rewritten."""
    require_write(actor)
    p = position_get(actor=actor, position_id=_pk(position))
    _reject_unknown(fields, POSITION_FIELDS)
    fields = _clean(fields)
    if "committee" in fields:
        fields["committee"] = _committee_for(actor, fields["committee"], p.account)
    for key, value in fields.items():
        setattr(p, key, value)
    _validate_position(p)
    with audit_action(actor=actor, action="stakeholders.position.update", reason=reason):
        p.save()
        if fields.get("is_primary"):
            _make_sole_primary(p, actor)
    return position_get(actor=actor, position_id=p.pk)


def position_end(
    *, actor: User, position: Position | int, valid_to: dt.date | None = None, reason: str = ""
) -> Position:
    """End a position on ``valid_to`` (default today; a later date plans the departure). The row and its history
    stay: from that date the account shows the role as vacated and the person's page lists it as past."""
    require_write(actor)
    p = position_get(actor=actor, position_id=_pk(position))
    if p.valid_to is not None and p.valid_to <= timezone.localdate():
        raise RuleViolation(
            _("This position already ended on %(d)s.") % {"d": p.valid_to.isoformat()},
            field="valid_to",
            code="position_already_ended",
        )
    end = valid_to or timezone.localdate()
    if end < p.valid_from:
        raise ValidationFailed(
            _("The end date (%(to)s) cannot be before the start date (%(fr)s).")
            % {"to": end.isoformat(), "fr": p.valid_from.isoformat()},
            field="valid_to",
            code="end_before_start",
        )
    with audit_action(actor=actor, action="stakeholders.position.end", reason=reason):
        p.valid_to = end
        p.save(update_fields=["valid_to", "updated_at"])
    return position_get(actor=actor, position_id=p.pk)


# --- committees -------------------------------------------------------------------------------------
def _validate_committee(c: Committee) -> None:
    errors: list[FieldError] = []
    if not c.name:
        errors.append(FieldError("name", "required", _("Enter the committee's name.")))
    elif len(c.name) > 200:
        errors.append(FieldError("name", "max_length", _("A name has at most 200 characters.")))
    if c.kind not in CommitteeKind.values:
        errors.append(FieldError("kind", "invalid_choice", _("“%(v)s” is not a kind of committee.") % {"v": c.kind}))
    if len(c.meeting_cadence or "") > 100:
        errors.append(FieldError("meeting_cadence", "max_length", _("At most 100 characters.")))
    _raise_collected(errors)


def committee_create(
    *,
    actor: User,
    account: Account | int | None,
    name: str,
    kind: str,
    description: str = "",
    meeting_cadence: str = "",
    next_meeting: dt.date | None = None,
    reason: str = "",
) -> Committee:
    """A decision-making unit (P&T, value analysis, procurement...) of a visible account."""
    require_write(actor)
    acct = _account(actor, account)
    committee = Committee(
        account=acct,
        name=(name or "").strip(),
        kind=kind,
        description=description or "",
        meeting_cadence=(meeting_cadence or "").strip(),
        next_meeting=next_meeting,
    )
    _validate_committee(committee)
    with audit_action(actor=actor, action="stakeholders.committee.create", reason=reason):
        committee.save()
    return committee


def committee_update(*, actor: User, committee: Committee | int, reason: str = "", **fields: Any) -> Committee:
    require_write(actor)
    c = committee_get(actor=actor, committee_id=_pk(committee))
    _reject_unknown(fields, COMMITTEE_FIELDS)
    fields = _clean(fields)
    for key, value in fields.items():
        setattr(c, key, "" if value is None and key in {"description", "meeting_cadence"} else value)
    _validate_committee(c)
    with audit_action(actor=actor, action="stakeholders.committee.update", reason=reason):
        c.save()
    return c


# --- reference data ---------------------------------------------------------------------------------
NUCC_CSV = Path(__file__).resolve().parent / "data" / "nucc_taxonomy_251.csv"


def specialty_taxonomy_load(*, path: Path = NUCC_CSV) -> int:
    """(Re)load the NUCC provider taxonomy shipped with the app (upsert by code; returns the number of codes).

    Migration 0002 loads it once; call this after anything that emptied the table (e.g. a flush)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = [
            Specialty(
                code=r["Code"].strip(),
                grouping=r["Grouping"].strip(),
                classification=r["Classification"].strip(),
                specialization=r["Specialization"].strip(),
                display_name=(r["Display Name"] or r["Classification"]).strip(),
                section=r["Section"].strip(),
                definition=(r["Definition"] or "").strip(),
            )
            for r in csv.DictReader(fh)
        ]
    Specialty.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["grouping", "classification", "specialization", "display_name", "section", "definition"],
    )
    return len(rows)
