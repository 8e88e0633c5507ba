"""Audit: trigger-based history (django-pghistory) plus the context of each change.

Every domain model is decorated with :func:`audited`, so INSERT/UPDATE/DELETE are recorded by
PostgreSQL triggers into append-only event tables (``PGHISTORY_APPEND_ONLY``: UPDATE and DELETE on
them are refused by the database). Services wrap writes in :func:`audit_action`, which opens a
transaction and attaches who (actor), why (reason) and the request id to every event written inside it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pghistory
from django.db import transaction

if TYPE_CHECKING:
    from openkam.core.models import User


def audited(**kwargs: Any) -> Any:
    """Class decorator: track inserts, updates and deletes of a model in an append-only event table."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        **kwargs,
    )


@contextlib.contextmanager
def audit_action(*, actor: User | None, action: str, reason: str = "") -> Iterator[None]:
    """One atomic change: a transaction whose trigger-written events carry actor, action code and reason.

    ``action`` is the audit event code ``<app>.<model>.<verb>``, e.g. ``accounts.account.move``.
    """
    meta: dict[str, Any] = {"action": action}
    if actor is not None:
        meta["user"] = actor.pk
        meta["username"] = actor.get_username()
    if reason:
        meta["reason"] = reason
    with transaction.atomic(), pghistory.context(**meta):
        yield
