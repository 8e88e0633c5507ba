"""Long work as jobs: the registry of job kinds and what a handler gets and gives back.

An app registers a handler for each kind of long work it offers (``<app>.<what>``, e.g. ``plans.export_pdf``)
in its ``jobs.py`` module, which core imports when Django starts (``CoreConfig.ready``)::

    @job_handler("plans.export_pdf")
    def export_pdf(job: Job, progress: Progress) -> JobResult:
        plan = selectors.plan_get(actor=job.requested_by, plan_id=job.params["plan_id"])
        progress(0, 3, "Rendering")
        ...
        return JobResult(filename="plan.pdf", content_type="application/pdf", data=pdf_bytes)

Start one with ``openkam.core.services.job_start(actor=..., kind=..., params=..., label=...)``; the worker runs
``openkam.core.services.job_execute``. A handler raising :class:`openkam.core.errors.DomainError` fails the job
with that message (shown to the user); any other exception fails it with a generic message (and is logged).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from openkam.core.models import Job


class Progress(Protocol):
    def __call__(self, done: int, total: int | None = None, message: str = "") -> None: ...


@dataclass
class JobResult:
    """What a handler gives back: a file to download (``data`` with its name and type), a summary, or both."""

    filename: str = ""
    content_type: str = ""
    data: bytes | None = None
    summary: dict[str, Any] = field(default_factory=dict)


Handler = Callable[["Job", Progress], "JobResult | None"]
_HANDLERS: dict[str, Handler] = {}


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        return fn

    return register


def handler_for(kind: str) -> Handler | None:
    return _HANDLERS.get(kind)


def known_kinds() -> list[str]:
    return sorted(_HANDLERS)
