"""Plan exports and the Excel import as jobs (run by the task worker as the requesting user).

Each handler reads the plan again as the requester (:func:`~openkam.plans.document.plan_document`), so the file
respects the access the requester has when the job runs, not when it was asked for.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from openkam.core.documents import PDF_TYPE, PPTX_TYPE, XLSX_TYPE
from openkam.core.jobs import JobResult, Progress, job_handler

# The plan modules are imported when a job runs, not when Django starts (core imports every app's jobs.py from
# its ready()): starting the site never depends on the export code.

EXPORT_KINDS = {
    "pdf": "plans.export_pdf",
    "pptx": "plans.export_pptx",
    "xlsx": "plans.export_xlsx",
    "customer_pdf": "plans.export_customer_pdf",
}
IMPORT_KIND = "plans.import_xlsx"


def _plan_id(job: Any) -> int:
    return int(job.params["plan_id"])


def plan_document(*, actor: Any, plan_id: int, audience: str) -> Any:
    from openkam.plans.document import plan_document as build

    return build(actor=actor, plan_id=plan_id, audience=audience)


@job_handler("plans.export_pdf")
def export_pdf(job: Any, progress: Progress) -> JobResult:
    from openkam.plans import exports

    progress(0, 3, _("Reading the plan"))
    doc = plan_document(actor=job.requested_by, plan_id=_plan_id(job), audience="internal")
    progress(1, 3, _("Laying out the pages"))
    data = exports.plan_pdf(doc)
    progress(3, 3, _("Done"))
    return JobResult(filename=exports.filename(doc, "pdf"), content_type=PDF_TYPE, data=data, summary=doc.counts)


@job_handler("plans.export_customer_pdf")
def export_customer_pdf(job: Any, progress: Progress) -> JobResult:
    from openkam.plans import exports

    progress(0, 3, _("Reading what is shared with the customer"))
    doc = plan_document(actor=job.requested_by, plan_id=_plan_id(job), audience="customer")
    progress(1, 3, _("Laying out the pages"))
    data = exports.plan_pdf(doc)
    progress(3, 3, _("Done"))
    return JobResult(filename=exports.filename(doc, "pdf"), content_type=PDF_TYPE, data=data, summary=doc.counts)


@job_handler("plans.export_pptx")
def export_pptx(job: Any, progress: Progress) -> JobResult:
    from openkam.plans import exports

    progress(0, 8, _("Reading the plan"))
    doc = plan_document(actor=job.requested_by, plan_id=_plan_id(job), audience="internal")

    def step(done: int, total: int | None = None, message: str = "") -> None:
        progress(done + 1, 8, message)

    data = exports.plan_pptx(doc, step)
    return JobResult(filename=exports.filename(doc, "pptx"), content_type=PPTX_TYPE, data=data, summary=doc.counts)


@job_handler("plans.export_xlsx")
def export_xlsx(job: Any, progress: Progress) -> JobResult:
    from openkam.plans import exports

    progress(0, 2, _("Reading the plan"))
    doc = plan_document(actor=job.requested_by, plan_id=_plan_id(job), audience="internal")
    progress(1, 2, _("Writing the workbook"))
    data = exports.plan_xlsx(doc)
    progress(2, 2, _("Done"))
    return JobResult(filename=exports.filename(doc, "xlsx"), content_type=XLSX_TYPE, data=data, summary=doc.counts)


@job_handler("plans.import_xlsx")
def import_xlsx(job: Any, progress: Progress) -> JobResult:
    """Apply an uploaded workbook (kept in the file storage, see ``importers.upload_keep``): all rows or none."""
    from openkam.plans import importers

    data = importers.upload_take(job.params["upload"])
    result = importers.plan_import_apply(
        actor=job.requested_by,
        plan_id=_plan_id(job),
        data=data,
        expected_version=job.params.get("version"),
        progress=progress,
    )
    return JobResult(summary=result.summary())
