"""Long work of the handover app: the handover report (PDF), run by the worker as the user who asked."""

from __future__ import annotations

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from openkam.core.documents import PDF_TYPE, render_pdf
from openkam.core.jobs import JobResult, Progress, job_handler
from openkam.core.models import Job
from openkam.handover import selectors


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
