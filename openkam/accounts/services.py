"""Account writes. Every function: keyword-only, access check, validation, atomic change with audit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account, AccountTeamMember, TeamRole
from openkam.accounts.selectors import account_get
from openkam.core.access import is_admin, require_write
from openkam.core.audit import audit_action
from openkam.core.errors import PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import Role, User
from openkam.core.validators import validate_ccn, validate_npi

ACCOUNT_EDITABLE_FIELDS = frozenset(
    {
        "name", "type", "ccn", "npi", "national_id", "address_line", "city", "state", "postal_code", "country",
        "phone", "website", "status", "kam_level", "owner", "territory", "description",
    }
)  # fmt: skip
_CREATOR_ROLES = frozenset({Role.KAM, Role.LEAD, Role.MARKET_ACCESS, Role.ADMIN})


def _validate_account(account: Account) -> None:
    errors: dict[str, list[DjangoValidationError]] = {}
    for field, validator in (("npi", validate_npi), ("ccn", validate_ccn)):
        try:
            validator(getattr(account, field))
        except DjangoValidationError as exc:
            errors.setdefault(field, []).append(exc)
    if account.npi and not account.npi.startswith("2"):
        errors.setdefault("npi", []).append(
            DjangoValidationError(_("An organisation NPI starts with 2."), code="npi_not_organisation")
        )
    try:
        account.full_clean(exclude=["parent", "ancestors", "depth"])
    except DjangoValidationError as exc:
        for field, errs in exc.error_dict.items():
            errors.setdefault(field, []).extend(errs)
    if errors:
        raise ValidationFailed.from_django(DjangoValidationError(errors))


def account_create(
    *, actor: User, name: str, type: str, parent: Account | None = None, reason: str = "", **fields: Any
) -> Account:
    """Create an account; a non-admin creator joins its team so it is on their book."""
    require_write(actor)
    if actor.role not in _CREATOR_ROLES and not is_admin(actor):
        raise PermissionDenied(_("Your role cannot create accounts."), code="account_create_forbidden")
    unknown = set(fields) - ACCOUNT_EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed(_("Unknown field: %(f)s") % {"f": ", ".join(sorted(unknown))}, field=sorted(unknown)[0])
    if parent is not None:
        parent = account_get(actor=actor, account_id=parent.pk)
    account = Account(name=(name or "").strip(), type=type, parent=parent, **fields)
    if parent is not None:
        account.ancestors = [*parent.ancestors, parent.pk]
        account.depth = len(account.ancestors)
    _validate_account(account)
    with audit_action(actor=actor, action="accounts.account.create", reason=reason):
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


def account_update(*, actor: User, account: Account, reason: str = "", **fields: Any) -> Account:
    """Change an account's own fields (not its place in the tree: see ``account_move``)."""
    require_write(actor)
    account = account_get(actor=actor, account_id=account.pk)
    unknown = set(fields) - ACCOUNT_EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed(_("Unknown field: %(f)s") % {"f": ", ".join(sorted(unknown))}, field=sorted(unknown)[0])
    for key, value in fields.items():
        setattr(account, key, value.strip() if isinstance(value, str) and key == "name" else value)
    _validate_account(account)
    with audit_action(actor=actor, action="accounts.account.update", reason=reason):
        account.save()
    return account


def account_move(*, actor: User, account: Account, new_parent: Account | None, reason: str = "") -> Account:
    """Put an account (and its whole subtree) under another parent, or make it a root.

    Refused when the move would create a cycle (the new parent is the account or one of its descendants).
    """
    require_write(actor)
    account = account_get(actor=actor, account_id=account.pk)
    if new_parent is not None:
        new_parent = account_get(actor=actor, account_id=new_parent.pk)
        if new_parent.pk == account.pk or account.pk in new_parent.ancestors:
            raise RuleViolation(
                _("“%(a)s” cannot be placed under “%(p)s”: that would make the hierarchy a cycle.")
                % {"a": account.name, "p": new_parent.name},
                field="parent",
                code="hierarchy_cycle",
            )
    new_prefix = [*new_parent.ancestors, new_parent.pk] if new_parent is not None else []
    old_depth = len(account.ancestors)
    with audit_action(actor=actor, action="accounts.account.move", reason=reason):
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
