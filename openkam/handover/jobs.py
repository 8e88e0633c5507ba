"""Long work of the handover app, run by the worker as the user who asked: the handover itself
(``handover.perform``) and the handover report (PDF, ``handover.report``)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openkam.core.documents import PDF_TYPE, render_pdf
from openkam.core.jobs import JobResult, Progress, job_handler
from openkam.core.models import Job
from openkam.handover import selectors, services

logger = logging.getLogger(__name__)

STAGE_LABELS = {
    "relationships": gettext_lazy("Moving relationships"),
    "plan_work": gettext_lazy("Moving plan work"),
    "accounts": gettext_lazy("Handing over account ownership"),
    "teams": gettext_lazy("Changing team places"),
    "record": gettext_lazy("Recording the handover"),
}


class LiveProgress:
    """The handover's stages as job progress, with when each started (``stages``, for the job's summary).

    The stages are reported from inside the handover's transaction; the job's ``progress`` commits them through
    a connection of its own there (``openkam.core.services._JobProgress``), so the polling page sees them
    before the commit and a failed job still shows how far it got."""

    def __init__(self, job: Job, progress: Progress) -> None:
        self.job, self.progress = job, progress
        self.stages: list[dict[str, Any]] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.stages or self.stages[-1]["stage"] != stage:
            if self.stages:
                self.stages[-1]["seconds"] = round(now - self.stages[-1].pop("_t"), 3)
            self.stages.append({"stage": stage, "_t": now})
        self.write(done, total, str(STAGE_LABELS.get(stage, stage)))

    def write(self, done: int, total: int, message: str) -> None:
        self.progress(done, total, message)

    def finish(self) -> list[dict[str, Any]]:
        """The stages with how long each took (seconds)."""
        if self.stages and "_t" in self.stages[-1]:
            self.stages[-1]["seconds"] = round(time.monotonic() - self.stages[-1].pop("_t"), 3)
        return self.stages


@job_handler(services.PERFORM_KIND)
def handover_perform(job: Job, progress: Progress) -> JobResult:
    """The handover, all or nothing; the result is the recorded handover (its id and page in the summary)."""
    params = job.params
    live = LiveProgress(job, progress)
    started = time.monotonic()
    try:
        handover = services.handover_perform(
            actor=job.requested_by,
            from_user_id=params.get("from_user_id"),
            to_user_id=params.get("to_user_id"),
            account_ids=params.get("account_ids"),
            reason=params.get("reason", ""),
            progress=live,
        )
    finally:
        stages = live.finish()
    progress(max(job.total, 1), max(job.total, 1), _("Done"))
    return JobResult(
        summary={
            "handover_id": handover.pk,
            "api_url": f"/api/v1/handover/{handover.pk}",
            "from_user": str(handover.from_user),
            "to_user": str(handover.to_user),
            "counts": handover.counts,
            "stages": stages,
            "seconds": round(time.monotonic() - started, 3),
        }
    )


@job_handler("handover.report")
def handover_report(job: Job, progress: Progress) -> JobResult:
    actor = job.requested_by
    handover = selectors.handover_get(actor=actor, handover_id=job.params["handover_id"])
    ids = list(job.params.get("account_ids") or [])
    sections = []
    for i, account_id in enumerate(ids):
        progress(i, len(ids) + 1, _("Collecting %(n)d of %(t)d accounts") % {"n": i + 1, "t": len(ids)})
        sections.append(selectors.handover_report_data(actor=actor, handover=handover, account_id=account_id))
    progress(len(ids), len(ids) + 1, _("Rendering the PDF"))
    title = (
        _("Handover report: %(a)s") % {"a": sections[0]["account"].name}
        if len(sections) == 1
        else _("Handover report: %(u)s's accounts") % {"u": handover.from_user}
    )
    pdf = render_pdf(
        "handover/print/report.html",
        {"title": title, "handover": handover, "sections": sections, "reader": actor},
    )
    stem = slugify(sections[0]["account"].name if len(sections) == 1 else str(handover.from_user)) or "accounts"
    filename = f"handover-{stem}-{timezone.localdate():%Y-%m-%d}.pdf"
    return JobResult(
        filename=filename, content_type=PDF_TYPE, data=pdf, summary={"accounts": len(sections), "pages_for": ids}
    )
