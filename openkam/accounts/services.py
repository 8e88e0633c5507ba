"""Account writes. Every function: keyword-only, access check, validation, atomic change with audit.

Accounts are never deleted (interactions, plans and the audit trail point at them): an account that is
no longer worked is set to status ``inactive`` with ``account_update``. Team memberships and
affiliations are ended (dated), never deleted, so the account's history stays readable.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import (
    Account,
    AccountAffiliation,
    AccountTeamMember,
    AffiliationType,
    KamLevel,
    TeamRole,
)
from openkam.accounts.selectors import (
    account_get,
    account_scope,
    account_team_member_get,
    affiliation_get,
    valid_id,
)
from openkam.core.access import can_write, is_admin, require_write, sees_all_accounts
from openkam.core.audit import audit_action
from openkam.core.errors import FieldError, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import Function, Role, User
from openkam.core.validators import validate_ccn, validate_npi

ACCOUNT_EDITABLE_FIELDS = frozenset(
    {
        "name", "type", "ccn", "npi", "national_id", "address_line", "city", "state", "postal_code", "country",
        "phone", "website", "status", "kam_level", "owner", "owner_id", "territory", "territory_id", "description",
    }
)  # fmt: skip
_CREATOR_ROLES = frozenset({Role.KAM, Role.LEAD, Role.MARKET_ACCESS, Role.ADMIN})
# model field → the name callers use (forms, API): errors name the field the caller sent
_ERROR_FIELD = {"owner": "owner_id", "territory": "territory_id", "parent": "parent_id"}


def can_create_account(actor: User) -> bool:
    """Whether the actor's role may create accounts (medical and compliance may not)."""
    return can_write(actor) and (actor.role in _CREATOR_ROLES or is_admin(actor))


def _account(actor: User, account: Account | int) -> Account:
    return account_get(actor=actor, account_id=account if isinstance(account, int) else account.pk)


def _visible_parent(actor: User, parent_id: int, field: str = "parent_id") -> Account:
    try:
        return account_get(actor=actor, account_id=parent_id)
    except NotFound:
        raise ValidationFailed(_("No such account."), field=field, code="account_not_found") from None


def _reason(reason: str) -> str:
    """An audit reason as PostgreSQL can store it (no NUL characters), at most 255 characters."""
    return (reason or "").replace("\x00", "").strip()[:255]


def _refuse_nul(fields: dict[str, Any]) -> None:
    bad = sorted(k for k, v in fields.items() if isinstance(v, str) and "\x00" in v)
    if bad:
        raise ValidationFailed(
            _("Text may not contain NUL characters."),
            errors=[FieldError(k, "null_characters", _("Text may not contain NUL characters.")) for k in bad],
        )


def _clean_strings(fields: dict[str, Any]) -> dict[str, Any]:
    _refuse_nul(fields)
    out = {}
    for key, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
            if key in ("ccn", "country"):
                value = value.upper()
        elif value is None and key not in ("owner", "owner_id", "territory", "territory_id"):
            value = ""  # text fields are blank, never NULL
        out[key] = value
    return out


def _validate_account(account: Account) -> None:
    errors: dict[str, list[DjangoValidationError]] = {}
    for field, validator in (("npi", validate_npi), ("ccn", validate_ccn)):
        try:
            validator(getattr(account, field))
        except DjangoValidationError as exc:
            errors.setdefault(field, []).append(exc)
    # No rule on the first digit: NPPES gives organisations (NPI-2) NPIs starting with 1 as well, e.g.
    # 1568946812 (CSP Anesthesia LLC, tests/data/nppes/api-8bdc8b.json); the entity type is not in the number.
    for fk in ("owner_id", "territory_id"):  # beyond bigint: not found (before the database is asked)
        if getattr(account, fk) is not None and not valid_id(getattr(account, fk)):
            errors.setdefault(fk[:-3], []).append(DjangoValidationError(_("No such record."), code="invalid"))
            setattr(account, fk, None)
    try:
        account.full_clean(exclude=["parent", "ancestors", "depth"], validate_constraints=False)
    except DjangoValidationError as exc:
        for field, errs in exc.error_dict.items():
            errors.setdefault(field, []).extend(errs)
    if account.owner_id and "owner" not in errors:
        owner = User.objects.filter(pk=account.owner_id).only("is_active").first()
        if owner is not None and not owner.is_active:
            errors.setdefault("owner", []).append(
                DjangoValidationError(_("The owner must be an active user."), code="owner_inactive")
            )
    others = Account.objects.exclude(pk=account.pk) if account.pk else Account.objects.all()
    if account.ccn and "ccn" not in errors and others.filter(ccn=account.ccn).exists():
        errors.setdefault("ccn", []).append(
            DjangoValidationError(_("Another account already has this CMS CCN."), code="ccn_taken")
        )
    if account.npi and "npi" not in errors and others.filter(npi=account.npi).exists():
        errors.setdefault("npi", []).append(
            DjangoValidationError(_("Another account already has this NPI."), code="npi_taken")
        )
    if errors:
        renamed = {_ERROR_FIELD.get(k, k): v for k, v in errors.items()}
        raise ValidationFailed.from_django(DjangoValidationError(renamed))


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - ACCOUNT_EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed(_("Unknown field: %(f)s") % {"f": ", ".join(sorted(unknown))}, field=sorted(unknown)[0])


def account_create(
    *,
    actor: User,
    name: str,
    type: str,
    parent: Account | None = None,
    parent_id: int | None = None,
    reason: str = "",
    **fields: Any,
) -> Account:
    """Create an account; a non-admin creator of a top-level account joins its team so it is on their book
    (an account created below a visible parent is visible through it)."""
    require_write(actor)
    if not can_create_account(actor):
        raise PermissionDenied(_("Your role cannot create accounts."), code="account_create_forbidden")
    _check_fields(fields)
    if parent is not None:
        parent = account_get(actor=actor, account_id=parent.pk)
    elif parent_id is not None:
        parent = _visible_parent(actor, parent_id)
    _refuse_nul({"name": name or ""})
    account = Account(name=(name or "").strip(), type=type, parent=parent, **_clean_strings(fields))
    if parent is not None:
        account.ancestors = [*parent.ancestors, parent.pk]
        account.depth = len(account.ancestors)
    _validate_account(account)
    with audit_action(actor=actor, action="accounts.account.create", reason=_reason(reason)):
        account.save()
        if not is_admin(actor) and parent is None:
            AccountTeamMember.objects.create(
                account=account,
                user=actor,
                role=TeamRole.ACCOUNT_LEAD,
                function=actor.function,
                start_date=timezone.localdate(),
            )
    return account


def account_update(*, actor: User, account: Account | int, reason: str = "", **fields: Any) -> Account:
    """Change an account's own fields (not its place in the tree: see ``account_move``).

    To retire an account, set ``status="inactive"``: accounts are never deleted.
    """
    require_write(actor)
    account = _account(actor, account)
    _check_fields(fields)
    for key, value in _clean_strings(fields).items():
        setattr(account, key, value)
    _validate_account(account)
    with audit_action(actor=actor, action="accounts.account.update", reason=_reason(reason)):
        account.save()
    return account


_SET_LEVELS_SQL = f"""
UPDATE {Account._meta.db_table} a SET kam_level = v.level, updated_at = now()
FROM unnest(%s::bigint[], %s::text[]) AS v(id, level)
WHERE a.id = v.id AND a.kam_level <> v.level
RETURNING a.id"""


def account_kam_levels_set(*, actor: User, levels: dict[int, str], reason: str) -> list[int]:
    """Set the KAM level of many accounts at once (``{account_id: level}``): ONE set-based UPDATE, for a
    re-tier of thousands of accounts. Each row that changes is audited like any other change (the history
    triggers fire per row) with the actor, the action ``accounts.account.kam_level`` and ``reason``. Accounts
    the actor may not see are left alone; returns the ids of the accounts whose level changed."""
    require_write(actor)
    bad = sorted({lvl for lvl in levels.values() if lvl not in KamLevel.values})
    if bad:
        raise ValidationFailed(
            _("Unknown KAM level: %(l)s.") % {"l": ", ".join(bad)}, field="kam_level", code="invalid_choice"
        )
    ids = [pk for pk in levels if valid_id(pk)]
    if not sees_all_accounts(actor):
        ids = list(account_scope(actor=actor).filter(pk__in=ids).values_list("pk", flat=True))
    if not ids:
        return []
    audit = audit_action(actor=actor, action="accounts.account.kam_level", reason=_reason(reason))
    with audit, connection.cursor() as cur:
        cur.execute(_SET_LEVELS_SQL, [ids, [levels[pk] for pk in ids]])
        return sorted(row[0] for row in cur.fetchall())


def account_move(
    *,
    actor: User,
    account: Account | int,
    new_parent: Account | None = None,
    new_parent_id: int | None = None,
    reason: str = "",
) -> Account:
    """Put an account (and its whole subtree) under another parent (``new_parent`` or ``new_parent_id``),
    or make it a root (neither given).

    Refused when the move would create a cycle (the new parent is the account or one of its descendants).
    """
    require_write(actor)
    account = _account(actor, account)
    if new_parent is not None:
        new_parent = account_get(actor=actor, account_id=new_parent.pk)
    elif new_parent_id is not None:
        new_parent = _visible_parent(actor, new_parent_id)
    if new_parent is not None and (new_parent.pk == account.pk or account.pk in new_parent.ancestors):
        raise RuleViolation(
            _("“%(a)s” cannot be placed under “%(p)s”: that would make the hierarchy a cycle.")
            % {"a": account.name, "p": new_parent.name},
            field="parent_id",
            code="hierarchy_cycle",
        )
    new_prefix = [*new_parent.ancestors, new_parent.pk] if new_parent is not None else []
    old_depth = len(account.ancestors)
    with audit_action(actor=actor, action="accounts.account.move", reason=_reason(reason)):
        Account.objects.filter(pk=account.pk).update(
            parent=new_parent, ancestors=new_prefix, depth=len(new_prefix), updated_at=timezone.now()
        )
        with connection.cursor() as cur:  # the subtree keeps its shape under the new prefix
            cur.execute(
                "UPDATE accounts_account SET ancestors = %s::bigint[] || ancestors[%s:], "
                "depth = cardinality(%s::bigint[] || ancestors[%s:]), updated_at = now() "
                "WHERE %s = ANY(ancestors)",
                [new_prefix, old_depth + 1, new_prefix, old_depth + 1, account.pk],
            )
    account.refresh_from_db()
    return account


# --- account team ---------------------------------------------------------------------------------
def _overlaps(start: dt.date | None, end: dt.date | None) -> Q:
    """Rows whose [start_date, end_date] period overlaps [start, end] (None = open-ended)."""
    q = Q(end_date__isnull=True)
    if start is not None:
        q |= Q(end_date__gte=start)
    if end is not None:
        q &= Q(start_date__isnull=True) | Q(start_date__lte=end)
    return q


def _default_end(start_date: dt.date | None) -> dt.date:
    """Ending "now": the last day was yesterday (access ends at once), never before the start."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    return max(yesterday, start_date) if start_date is not None else yesterday


def account_team_member_add(
    *,
    actor: User,
    account: Account | int,
    user_id: int | None,
    role: str = TeamRole.KAM,
    function: str = "",
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    reason: str = "",
) -> AccountTeamMember:
    """Put a user on an account's team (role, function, dates). The member then sees the account and
    everything below it. Refused when the user already holds that role on the team for an overlapping period."""
    require_write(actor)
    account = _account(actor, account)
    errors: list[FieldError] = []
    user = User.objects.filter(pk=user_id, is_active=True).first() if valid_id(user_id) else None
    if user is None:
        errors.append(FieldError("user_id", "user_invalid", _("Choose an active user.")))
    if role not in TeamRole.values:
        errors.append(FieldError("role", "invalid_choice", _("Choose a valid team role.")))
    function = function or (user.function if user is not None else Function.COMMERCIAL)
    if function not in Function.values:
        errors.append(FieldError("function", "invalid_choice", _("Choose a valid function.")))
    start_date = start_date or timezone.localdate()
    if end_date is not None and end_date < start_date:
        errors.append(FieldError("end_date", "dates_order", _("The end date cannot be before the start date.")))
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    assert user is not None
    clash = (
        AccountTeamMember.objects.filter(account_id=account.pk, user_id=user.pk, role=role)
        .filter(_overlaps(start_date, end_date))
        .first()
    )
    if clash is not None:
        raise RuleViolation(
            _("%(u)s is already on this account's team as %(r)s (since %(d)s).")
            % {"u": user, "r": TeamRole(role).label, "d": clash.start_date.isoformat()},
            field="user_id",
            code="team_member_duplicate",
        )
    with audit_action(actor=actor, action="accounts.accountteammember.create", reason=_reason(reason)):
        return AccountTeamMember.objects.create(
            account=account, user=user, role=role, function=function, start_date=start_date, end_date=end_date
        )


def account_team_member_end(
    *,
    actor: User,
    member: AccountTeamMember | int,
    account_id: int | None = None,
    end_date: dt.date | None = None,
    reason: str = "",
) -> AccountTeamMember:
    """End a team membership (kept as history). Without ``end_date`` it ends now (last day: yesterday),
    and the person loses access that came only from this membership at once."""
    require_write(actor)
    member_id = member if isinstance(member, int) else member.pk
    member = account_team_member_get(actor=actor, member_id=member_id, account_id=account_id)
    today = timezone.localdate()
    if member.end_date is not None and member.end_date < today:
        raise RuleViolation(
            _("This membership already ended on %(d)s.") % {"d": member.end_date.isoformat()},
            code="team_member_already_ended",
        )
    end_date = end_date or _default_end(member.start_date)
    if end_date < member.start_date:
        raise ValidationFailed(
            _("The end date cannot be before the start date (%(d)s).") % {"d": member.start_date.isoformat()},
            field="end_date",
            code="dates_order",
        )
    with audit_action(actor=actor, action="accounts.accountteammember.end", reason=_reason(reason)):
        member.end_date = end_date
        member.save(update_fields=["end_date", "updated_at"])
    return member


# --- affiliations ---------------------------------------------------------------------------------
def affiliation_create(
    *,
    actor: User,
    from_account: Account | int,
    to_account_id: int | None,
    type: str,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    notes: str = "",
    reason: str = "",
) -> AccountAffiliation:
    """A dated, typed link from one visible account to another (a hospital in a GPO, a payer contract)."""
    require_write(actor)
    from_account = _account(actor, from_account)
    errors: list[FieldError] = []
    to_account = None
    if not valid_id(to_account_id):
        errors.append(FieldError("to_account_id", "required", _("Choose the affiliated account.")))
    else:
        try:
            to_account = account_get(actor=actor, account_id=to_account_id)
        except NotFound:
            errors.append(FieldError("to_account_id", "account_not_found", _("No such account.")))
    if to_account is not None and to_account.pk == from_account.pk:
        errors.append(
            FieldError("to_account_id", "affiliation_self", _("An account cannot be affiliated with itself."))
        )
    if type not in AffiliationType.values:
        errors.append(FieldError("type", "invalid_choice", _("Choose a valid affiliation type.")))
    if start_date is not None and end_date is not None and end_date < start_date:
        errors.append(FieldError("end_date", "dates_order", _("The end date cannot be before the start date.")))
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    assert to_account is not None
    clash = AccountAffiliation.objects.filter(
        from_account_id=from_account.pk, to_account_id=to_account.pk, type=type
    ).filter(_overlaps(start_date, end_date))
    if clash.exists():
        raise RuleViolation(
            _("“%(a)s” already has a %(t)s with “%(b)s” for that period.")
            % {"a": from_account.name, "t": AffiliationType(type).label, "b": to_account.name},
            field="to_account_id",
            code="affiliation_duplicate",
        )
    with audit_action(actor=actor, action="accounts.accountaffiliation.create", reason=_reason(reason)):
        return AccountAffiliation.objects.create(
            from_account=from_account,
            to_account=to_account,
            type=type,
            start_date=start_date,
            end_date=end_date,
            notes=(notes or "").replace("\x00", "").strip(),
        )


def affiliation_end(
    *,
    actor: User,
    affiliation: AccountAffiliation | int,
    account_id: int | None = None,
    end_date: dt.date | None = None,
    reason: str = "",
) -> AccountAffiliation:
    """End an affiliation (kept as history). Without ``end_date`` it ends now (last day: yesterday)."""
    require_write(actor)
    aff_id = affiliation if isinstance(affiliation, int) else affiliation.pk
    aff = affiliation_get(actor=actor, affiliation_id=aff_id, account_id=account_id)
    today = timezone.localdate()
    if aff.end_date is not None and aff.end_date < today:
        raise RuleViolation(
            _("This affiliation already ended on %(d)s.") % {"d": aff.end_date.isoformat()},
            code="affiliation_already_ended",
        )
    end_date = end_date or _default_end(aff.start_date)
    if aff.start_date is not None and end_date < aff.start_date:
        raise ValidationFailed(
            _("The end date cannot be before the start date (%(d)s).") % {"d": aff.start_date.isoformat()},
            field="end_date",
            code="dates_order",
        )
    with audit_action(actor=actor, action="accounts.accountaffiliation.end", reason=_reason(reason)):
        aff.end_date = end_date
        aff.save(update_fields=["end_date", "updated_at"])
    return aff
