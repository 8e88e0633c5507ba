"""Long work of the market_access app, run by the task worker (see ``openkam.core.jobs``)."""

from __future__ import annotations

from openkam.core.jobs import JobResult, Progress, job_handler
from openkam.core.models import Job
from openkam.market_access import services


@job_handler("market_access.fhir_import")
def fhir_import(job: Job, progress: Progress) -> JobResult:
    """Check (preview) or write a FHIR formulary import as the user who started it."""
    summary = services.formulary_import_run(
        actor=job.requested_by,
        import_id=int(job.params["import_id"]),
        dry_run=bool(job.params.get("dry_run", True)),
        progress=progress,
    )
    return JobResult(summary=summary)
