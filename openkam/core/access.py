"""Role rules shared by every app (DESIGN.md §5 Access).

Which *accounts* a user sees is decided in ``openkam.accounts.selectors.account_scope``; this module
holds the role facts that do not depend on any domain app: classification visibility, who may write,
who administers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext as _

from openkam.core.errors import PermissionDenied
from openkam.core.models import Classification, Role

if TYPE_CHECKING:
    from openkam.core.models import User

# Roles that read every account (compliance: reads everything, changes nothing).
GLOBAL_READ_ROLES = frozenset({Role.COMPLIANCE, Role.ADMIN})

_VISIBLE: dict[str, frozenset[str]] = {
    Role.KAM: frozenset({Classification.COMMERCIAL, Classification.MARKET_ACCESS, Classification.JOINT}),
    Role.LEAD: frozenset({Classification.COMMERCIAL, Classification.MARKET_ACCESS, Classification.JOINT}),
    Role.MARKET_ACCESS: frozenset({Classification.COMMERCIAL, Classification.MARKET_ACCESS, Classification.JOINT}),
    Role.MEDICAL: frozenset({Classification.MEDICAL, Classification.JOINT}),
    Role.COMPLIANCE: frozenset(Classification.values),
    Role.ADMIN: frozenset(Classification.values),
}


def visible_classifications(user: User) -> frozenset[str]:
    """Classifications of records this user may see."""
    return _VISIBLE.get(user.role, frozenset({Classification.JOINT}))


def classification_q(user: User, field: str = "classification") -> Q:
    """A filter keeping only rows whose ``field`` the user may see."""
    return Q(**{f"{field}__in": sorted(visible_classifications(user))})


def can_see_classification(user: User, classification: str) -> bool:
    return classification in visible_classifications(user)


def writable_classifications(user: User) -> frozenset[str]:
    """Classifications a user may create or edit (medical writes medical/joint, commercial the rest)."""
    if not can_write(user):
        return frozenset()
    return visible_classifications(user)


def sees_all_accounts(user: User) -> bool:
    return user.role in GLOBAL_READ_ROLES


def can_write(user: User) -> bool:
    """Compliance reads everything and changes nothing; inactive users change nothing."""
    return bool(user.is_active and user.role != Role.COMPLIANCE)


def is_admin(user: User) -> bool:
    return bool(user.is_active and (user.role == Role.ADMIN or user.is_superuser))


def require_write(user: User) -> None:
    if not can_write(user):
        raise PermissionDenied(_("Your role can read but not change records."), code="read_only_role")


def require_admin(user: User) -> None:
    if not is_admin(user):
        raise PermissionDenied(_("Only an administrator can do this."), code="admin_only")


def require_classification(user: User, classification: str) -> None:
    if classification not in writable_classifications(user):
        raise PermissionDenied(
            _("Your role may not work with records classified “%(c)s”.") % {"c": Classification(classification).label},
            code="classification_forbidden",
        )
