"""Long work of the privacy app: the personal-data export as PDF, the assessment retention purge."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from openkam.core.documents import PDF_TYPE, render_pdf
from openkam.core.jobs import JobResult, Progress, job_handler
from openkam.core.models import Job
from openkam.privacy import selectors


@job_handler("privacy.export_pdf")
def export_pdf(job: Job, progress: Progress) -> JobResult:
    progress(0, 2, _("Collecting the data"))
    data = selectors.stakeholder_personal_data(actor=job.requested_by, stakeholder_id=job.params["stakeholder_id"])
    progress(1, 2, _("Rendering the PDF"))
    pdf = render_pdf(
        "privacy/print/export.html",
        {
            "title": _("Personal data export: %(p)s") % {"p": data["person"]["display_name"]},
            "v": selectors.personal_data_for_people(data),
        },
    )
    name = f"personal-data-{data['stakeholder_id']}-{timezone.localdate():%Y-%m-%d}.pdf"
    return JobResult(filename=name, content_type=PDF_TYPE, data=pdf, summary={"stakeholder_id": data["stakeholder_id"]})


@job_handler("privacy.retention_purge")
def retention_purge(job: Job, progress: Progress) -> JobResult:
    from openkam.relationships.services import assessment_retention_apply

    progress(0, 1, _("Deleting superseded assessments past the retention"))
    deleted = assessment_retention_apply(actor=job.requested_by)
    outcome = ngettext("%(n)d assessment version deleted", "%(n)d assessment versions deleted", deleted) % {
        "n": deleted
    }
    progress(1, 1, outcome)
    return JobResult(summary={"deleted": deleted, "outcome": outcome})
