"""Core reads: tokens, users, and the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Model, QuerySet
from pghistory.models import Events

from openkam.core.access import sees_all_accounts
from openkam.core.errors import PermissionDenied
from openkam.core.models import ApiToken, User


def api_token_list(*, actor: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=actor).order_by("-created_at")


def user_list(*, actor: User, active_only: bool = True) -> QuerySet[User]:
    """Users are visible to every signed-in user by name (to pick owners and participants)."""
    qs = User.objects.select_related("team").order_by("last_name", "first_name", "username")
    return qs.filter(is_active=True) if active_only else qs


def object_history(*, obj: Model) -> QuerySet[Any]:
    """Every recorded change of one row, newest first, with before/after diff and context.

    The caller has already fetched ``obj`` through an access-checked selector, so whoever may see
    the row may see its history.
    """
    return Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")


def object_history_many(*, objs: Iterable[Model]) -> QuerySet[Any]:
    return Events.objects.tracks(*list(objs)).order_by("-pgh_created_at", "-pgh_id")


def audit_trail(*, actor: User, since: datetime, until: datetime) -> QuerySet[Any]:
    """All audit events in a period (compliance and admin only)."""
    if not sees_all_accounts(actor):
        raise PermissionDenied("Only compliance can read the whole audit trail.", code="audit_forbidden")
    return Events.objects.filter(pgh_created_at__gte=since, pgh_created_at__lt=until).order_by(
        "pgh_created_at", "pgh_id"
    )
