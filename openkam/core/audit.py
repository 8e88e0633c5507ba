"""Audit: trigger-based history (django-pghistory) plus the context of each change.

Every domain model is decorated with :func:`audited`, so INSERT/UPDATE/DELETE are recorded by
PostgreSQL triggers into append-only event tables (``PGHISTORY_APPEND_ONLY``: UPDATE and DELETE on
them are refused by the database). Services wrap writes in :func:`audit_action`, which opens a
transaction and attaches who (actor), why (reason) and the request id to every event written inside it.

Nesting. A service often calls other audited services (an NPPES import creates stakeholders and
accounts; a handover reassigns relationships and team memberships). The history must show the
operation the user performed, so **the outermost** ``audit_action`` owns the context: its ``action``,
``reason`` and user are what every event inside it carries. Inner ``audit_action`` blocks only add
their action code to the context's ``steps`` list (in order of first use, no duplicates, never the
outer action itself) and open a savepoint.

pghistory on its own merges nested contexts with ``dict.update`` (the innermost call wins, for every
event of the transaction, since all of them point at one ``pghistory_context`` row whose metadata is
upserted on each write). So each outermost ``audit_action`` gets a context of its own — a fresh id
whose metadata starts from the enclosing request context (request id, URL, signed-in user) — and the metadata
object refuses to let a nested ``pghistory.context(action=..., reason=...)`` call overwrite the
outer action: when an audit operation is nested, such a call is recorded as a step too. At the top
level it still refines the operation's own code (``plans.accountplan.transition`` →
``plans.accountplan.approve``). Two operations in one request are therefore two contexts with their
own action and reason instead of one where the last one wins.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pghistory
from django.db import transaction
from pghistory import runtime as pgh_runtime

if TYPE_CHECKING:
    from openkam.core.models import User

#: context metadata keys owned by the outermost audit operation (a nested block never overwrites them)
OWNED_KEYS = ("action", "reason", "user", "username")
STEPS = "steps"


def audited(**kwargs: Any) -> Any:
    """Class decorator: track inserts, updates and deletes of a model in an append-only event table."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        **kwargs,
    )


class AuditMetadata(dict[str, Any]):
    """The metadata of one audited operation's pghistory context (serialised into every statement).

    ``pghistory.context(**meta)`` entered or called while a context is open merges ``meta`` with
    :meth:`update`; while audit operations are nested, ``action`` becomes a step and the other owned
    keys are ignored, so the outermost operation keeps its identity.
    """

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        incoming = dict(*args, **kwargs)
        if len(_stack()) > 1:
            action = incoming.get("action")
            if isinstance(action, str) and action:
                self.add_step(action)
            incoming = {k: v for k, v in incoming.items() if k not in OWNED_KEYS and k != STEPS}
        super().update(incoming)

    def add_step(self, action: str) -> bool:
        """Record ``action`` as a step of this operation; False when it is the operation itself or known."""
        steps: list[str] = self.setdefault(STEPS, [])
        if action == self.get("action") or action in steps:
            return False
        steps.append(action)
        return True

    def remove_step(self, action: str) -> None:
        steps: list[str] = self.get(STEPS, [])
        if action in steps:
            steps.remove(action)
        if not steps:
            self.pop(STEPS, None)


@dataclass
class _Frame:
    action: str
    metadata: AuditMetadata


_local = threading.local()


def _stack() -> list[_Frame]:
    stack: list[_Frame] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def current_action() -> str | None:
    """The action code of the audit operation in progress (the outermost one), or None outside any."""
    stack = _stack()
    return stack[0].metadata.get("action") if stack else None


@contextlib.contextmanager
def audit_action(*, actor: User | None, action: str, reason: str = "") -> Iterator[None]:
    """One atomic change: a transaction whose trigger-written events carry actor, action code and reason.

    ``action`` is the audit event code ``<app>.<model>.<verb>``, e.g. ``accounts.account.move``. Inside
    another ``audit_action`` this is a step of that operation (a savepoint; its code is added to the
    context's ``steps``), and the outer operation's action, reason and user stay on the events.
    """
    stack = _stack()
    if stack:
        outer = stack[0].metadata
        with transaction.atomic():
            added = outer.add_step(action)
            stack.append(_Frame(action, outer))
            try:
                yield
            except BaseException:
                if added:  # its writes were rolled back with the savepoint: it is not a step of the operation
                    outer.remove_step(action)
                raise
            finally:
                stack.pop()
        return

    meta: dict[str, Any] = {"action": action}
    if actor is not None:
        meta["user"] = actor.pk
        meta["username"] = actor.get_username()
    if reason:
        meta["reason"] = reason
    # pghistory.context() installs the statement hook when no context is open (a task, a test, a shell) and
    # leaves an enclosing one (the request's) alone; the operation then runs in a context of its own.
    with transaction.atomic(), pghistory.context():
        enclosing = pgh_runtime._tracker.value
        inherited = {k: v for k, v in enclosing.metadata.items() if k not in ("action", "reason", STEPS)}
        own = pgh_runtime.Context(id=uuid.uuid4(), metadata=AuditMetadata({**inherited, **meta}))
        pgh_runtime._tracker.value = own
        stack.append(_Frame(action, own.metadata))
        try:
            yield
        finally:
            stack.pop()
            pgh_runtime._tracker.value = enclosing
