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
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_get
from openkam.core.access import require_write
from openkam.core.audit import audit_action
from openkam.core.errors import FieldError, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import User
from openkam.core.validators import validate_npi
from openkam.stakeholders.models import (
    Committee,
    CommitteeKind,
    CommitteeRole,
    CommitteeScope,
    CommitteeScopeAccount,
    DecisionRole,
    Position,
    Specialty,
    Stakeholder,
    StakeholderKind,
)
from openkam.stakeholders.selectors import (
    can_see_judgements,
    committee_decides_for,
    committee_get,
    committee_scope_text,
    position_get,
    stakeholder_get,
    stakeholder_positions,
)

STAKEHOLDER_FIELDS = frozenset(
    {
        "prefix", "first_name", "last_name", "credentials", "kind", "npi", "specialty", "email", "phone",
        "country", "consent_contact", "consent_email", "consent_date", "do_not_contact", "privacy_restricted",
        "notes",
    }
)  # fmt: skip
POSITION_FIELDS = frozenset(
    {"title", "role_in_decision", "committee", "committee_role", "is_primary", "valid_from", "valid_to"}
)
COMMITTEE_FIELDS = frozenset(
    {"name", "kind", "description", "meeting_cadence", "next_meeting", "scope", "scope_accounts"}
)
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
    """The committee a position at ``account`` sits on: visible, and deciding for ``account`` (its scope)."""
    if committee in (None, ""):
        return None
    try:
        c = committee_get(actor=actor, committee_id=_pk(committee))
    except NotFound:
        raise ValidationFailed(_("No such committee."), field="committee", code="committee_not_found")
    if not committee_decides_for(committee=c, account=account):
        raise ValidationFailed(
            _(
                "“%(a)s” is outside the scope of “%(c)s” (it decides for %(scope)s): a member's position must be at "
                "an account the committee decides for."
            )
            % {"a": account.name, "c": c.name, "scope": committee_scope_text(committee=c)},
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
    if p.committee_role and p.committee_role not in CommitteeRole.values:
        errors.append(
            FieldError(
                "committee_role", "invalid_choice", _("“%(v)s” is not a role on a committee.") % {"v": p.committee_role}
            )
        )
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
def _require_judgement_right(actor: User, role_in_decision: str | None) -> None:
    """A decision role is a commercial judgement: a reader who may not see judgements (medical) records the
    position without one (“unknown”); anything else is refused, naming the field."""
    if role_in_decision and role_in_decision != DecisionRole.UNKNOWN and not can_see_judgements(actor):
        raise PermissionDenied(
            _("Your role may not record decision roles: they are commercial judgements about people."),
            field="role_in_decision",
            code="judgements_not_allowed",
        )


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
    _require_judgement_right(actor, role_in_decision)
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
    committee_role: str = "",
    is_primary: bool = False,
    reason: str = "",
) -> Position:
    """Give a visible person a (new) role at a visible account. With ``is_primary`` it becomes their primary
    position and the flag leaves their other current positions."""
    require_write(actor)
    _require_judgement_right(actor, role_in_decision)
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
        committee_role=committee_role or "",
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
    if position.committee is not None and not position.committee_role:
        position.committee_role = CommitteeRole.MEMBER
    if position.committee is None:
        position.committee_role = ""
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
    if "role_in_decision" in fields and fields["role_in_decision"] != p.role_in_decision:
        # changing (or clearing) a decision role one may not see is a judgement too
        new_role = fields["role_in_decision"]
        _require_judgement_right(actor, p.role_in_decision if new_role in ("", DecisionRole.UNKNOWN) else new_role)
    fields = _clean(fields)
    if "committee" in fields:
        fields["committee"] = _committee_for(actor, fields["committee"], p.account)
    for key, value in fields.items():
        setattr(p, key, "" if value is None and key == "committee_role" else value)
    if p.committee_id is None:
        p.committee_role = ""
    elif not p.committee_role:
        p.committee_role = CommitteeRole.MEMBER
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
    if c.scope not in CommitteeScope.values:
        errors.append(FieldError("scope", "invalid_choice", _("“%(v)s” is not a committee scope.") % {"v": c.scope}))
    _raise_collected(errors)


def _scope_accounts(actor: User, committee_account: Account, scope: str, ids: list[Any] | None) -> list[Account]:
    """The accounts of a ``selected`` scope: visible, strictly below the committee's account, no duplicates."""
    if scope != CommitteeScope.SELECTED:
        return []
    chosen: list[Account] = []
    for value in ids or []:
        try:
            acct = account_get(actor=actor, account_id=int(_pk(value)))
        except (NotFound, TypeError, ValueError):
            raise ValidationFailed(
                _("No such account: %(v)s.") % {"v": value}, field="scope_accounts", code="account_not_found"
            )
        if committee_account.pk not in (acct.ancestors or []):
            raise ValidationFailed(
                _("“%(a)s” is not below “%(c)s”: a committee decides for accounts in its own hierarchy.")
                % {"a": acct.name, "c": committee_account.name},
                field="scope_accounts",
                code="scope_outside_hierarchy",
            )
        if all(a.pk != acct.pk for a in chosen):
            chosen.append(acct)
    if not chosen:
        raise ValidationFailed(
            _("Choose at least one account the committee decides for, or let it decide for the whole hierarchy."),
            field="scope_accounts",
            code="required",
        )
    return chosen


def _check_members_in_scope(committee: Committee) -> None:
    """After a scope change: every current member's position must still be in scope."""
    today = timezone.localdate()
    members = (
        Position.objects.filter(committee=committee)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today))
        .select_related("account", "stakeholder")
    )
    outside = [p for p in members if not committee_decides_for(committee=committee, account=p.account)]
    if outside:
        names = ", ".join(f"{p.stakeholder} ({p.account.name})" for p in outside[:5])
        raise ValidationFailed(
            _("Current members would be outside the new scope: %(n)s. End their seats first or widen the scope.")
            % {"n": names},
            field="scope",
            code="members_out_of_scope",
        )


def committee_create(
    *,
    actor: User,
    account: Account | int | None,
    name: str,
    kind: str,
    description: str = "",
    meeting_cadence: str = "",
    next_meeting: dt.date | None = None,
    scope: str = CommitteeScope.SUBTREE,
    scope_accounts: list[Any] | None = None,
    reason: str = "",
) -> Committee:
    """A decision-making unit (P&T, value analysis, procurement...) of a visible account, deciding for
    ``scope`` (the account and below, the account only, or selected accounts below it)."""
    require_write(actor)
    acct = _account(actor, account)
    committee = Committee(
        account=acct,
        name=(name or "").strip(),
        kind=kind,
        description=description or "",
        meeting_cadence=(meeting_cadence or "").strip(),
        next_meeting=next_meeting,
        scope=scope or CommitteeScope.SUBTREE,
    )
    _validate_committee(committee)
    chosen = _scope_accounts(actor, acct, committee.scope, scope_accounts)
    with audit_action(actor=actor, action="stakeholders.committee.create", reason=reason):
        committee.save()
        CommitteeScopeAccount.objects.bulk_create(
            [CommitteeScopeAccount(committee=committee, account=a) for a in chosen]
        )
    return committee_get(actor=actor, committee_id=committee.pk)


def committee_update(*, actor: User, committee: Committee | int, reason: str = "", **fields: Any) -> Committee:
    """Change a committee; a new scope must still hold every current member (else refused, nothing written)."""
    require_write(actor)
    c = committee_get(actor=actor, committee_id=_pk(committee))
    _reject_unknown(fields, COMMITTEE_FIELDS)
    scope_ids = fields.pop("scope_accounts", None)
    fields = _clean(fields)
    for key, value in fields.items():
        setattr(c, key, "" if value is None and key in {"description", "meeting_cadence"} else value)
    if c.scope is None:
        c.scope = CommitteeScope.SUBTREE
    _validate_committee(c)
    scope_changed = "scope" in fields or scope_ids is not None
    chosen: list[Account] = []
    if scope_changed:
        if c.scope == CommitteeScope.SELECTED and scope_ids is None:
            scope_ids = [x.account_id for x in CommitteeScopeAccount.objects.filter(committee=c)]
        chosen = _scope_accounts(actor, c.account, c.scope, scope_ids)
        c._scope_ids = [a.pk for a in chosen]  # type: ignore[attr-defined]  # read by committee_decides_for
        _check_members_in_scope(c)
    with audit_action(actor=actor, action="stakeholders.committee.update", reason=reason):
        c.save()
        if scope_changed:
            keep = {a.pk for a in chosen}
            CommitteeScopeAccount.objects.filter(committee=c).exclude(account_id__in=keep).delete()
            have = set(CommitteeScopeAccount.objects.filter(committee=c).values_list("account_id", flat=True))
            CommitteeScopeAccount.objects.bulk_create(
                [CommitteeScopeAccount(committee=c, account=a) for a in chosen if a.pk not in have]
            )
    return committee_get(actor=actor, committee_id=c.pk)


def committee_member_add(
    *,
    actor: User,
    committee: Committee | int,
    stakeholder: Stakeholder | int,
    account: Account | int | None = None,
    committee_role: str = CommitteeRole.MEMBER,
    role_in_decision: str = DecisionRole.UNKNOWN,
    title: str = "",
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    reason: str = "",
) -> Position:
    """Seat a visible person on a committee: a position (at ``account``, default the committee's account)
    with the committee, the seat's role and dates. The account must be one the committee decides for."""
    c = committee_get(actor=actor, committee_id=_pk(committee))
    if committee_role not in CommitteeRole.values:
        raise ValidationFailed(
            _("“%(v)s” is not a role on a committee.") % {"v": committee_role},
            field="committee_role",
            code="invalid_choice",
        )
    s = stakeholder_get(actor=actor, stakeholder_id=_pk(stakeholder))
    if (
        Position.objects.filter(committee=c, stakeholder=s)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=timezone.localdate()))
        .exists()
    ):
        raise RuleViolation(
            _("%(p)s already has a current seat on “%(c)s”.") % {"p": s, "c": c.name},
            field="stakeholder",
            code="already_member",
        )
    seat_title = (title or "").strip() or f"{CommitteeRole(committee_role).label}, {c.name}"
    return position_add(
        actor=actor,
        stakeholder=s,
        account=account if account not in (None, "") else c.account_id,
        title=seat_title[:200],
        role_in_decision=role_in_decision,
        valid_from=valid_from,
        valid_to=valid_to,
        committee=c,
        committee_role=committee_role,
        reason=reason,
    )


def position_succeed(
    *,
    actor: User,
    position: Position | int,
    stakeholder: Stakeholder | int,
    valid_from: dt.date | None = None,
    carry_seat_ids: list[int] | None = None,
    reason: str = "",
) -> tuple[Position, list[Position]]:
    """Name the new incumbent of a role. The old position ends the day the successor starts (if it has not
    ended already); the new person gets the same title, account, role in decision and committee seat; the
    old person's committee seats in ``carry_seat_ids`` (default: every current seat at the same account or
    on a committee deciding for it) move over the same way. The old person's positions stay as history.

    Returns the new position and the new seats."""
    require_write(actor)
    old = position_get(actor=actor, position_id=_pk(position))
    s = stakeholder_get(actor=actor, stakeholder_id=_pk(stakeholder))
    start = valid_from or timezone.localdate()
    if s.pk == old.stakeholder_id:
        raise ValidationFailed(
            _("The successor must be another person than %(p)s.") % {"p": old.stakeholder},
            field="stakeholder",
            code="successor_same_person",
        )
    if start < old.valid_from:
        raise ValidationFailed(
            _("The successor cannot start (%(d)s) before the role began (%(f)s).")
            % {"d": start.isoformat(), "f": old.valid_from.isoformat()},
            field="valid_from",
            code="successor_before_start",
        )
    if old.valid_to is not None and start < old.valid_to:
        raise ValidationFailed(
            _("The role is held until %(t)s; the successor can start on that date or later.")
            % {"t": old.valid_to.isoformat()},
            field="valid_from",
            code="successor_overlap",
        )

    def seat_goes_with_role(p: Position) -> bool:
        if p.committee is None or p.pk == old.pk:
            return False
        if not (p.account_id == old.account_id or committee_decides_for(committee=p.committee, account=old.account)):
            return False
        if p.is_current:  # type: ignore[attr-defined]
            return True
        # the person left: the seats that ended with the role (or after it) go with it
        return old.valid_to is not None and p.valid_to is not None and p.valid_to >= old.valid_to

    seats = [p for p in stakeholder_positions(actor=actor, stakeholder=old.stakeholder) if seat_goes_with_role(p)]
    if carry_seat_ids is not None:
        wanted = {int(x) for x in carry_seat_ids}
        unknown = wanted - {p.pk for p in seats}
        if unknown:
            raise ValidationFailed(
                _("Seat %(id)s is not a current committee seat of %(p)s at this account.")
                % {"id": sorted(unknown)[0], "p": old.stakeholder},
                field="carry_seat_ids",
                code="seat_not_found",
            )
        seats = [p for p in seats if p.pk in wanted]
    with audit_action(actor=actor, action="stakeholders.position.succeed", reason=reason):
        ended: list[Position] = [old, *seats]
        for p in ended:
            if p.valid_to is None or p.valid_to > start:
                p.valid_to = max(start, p.valid_from)
                p.save(update_fields=["valid_to", "updated_at"])
        has_primary = (
            Position.objects.filter(stakeholder=s, is_primary=True)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
            .exists()
        )
        copies = []
        for p in ended:
            copies.append(
                Position.objects.create(
                    stakeholder=s,
                    account_id=p.account_id,
                    committee_id=p.committee_id,
                    committee_role=p.committee_role,
                    title=p.title,
                    role_in_decision=p.role_in_decision,
                    is_primary=p is old and not has_primary,
                    valid_from=start,
                )
            )
    return position_get(actor=actor, position_id=copies[0].pk), copies[1:]


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
