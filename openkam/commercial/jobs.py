"""Long work of the commercial app: checking (dry run) and importing sales files."""

from __future__ import annotations

from openkam.commercial import imports, selectors
from openkam.core.jobs import JobResult, Progress, job_handler
from openkam.core.models import Job


@job_handler("commercial.sales_import")
def sales_import(job: Job, progress: Progress) -> JobResult:
    actor = job.requested_by
    imp = selectors.sales_import_get(actor=actor, import_id=job.params["import_id"], with_data=True)
    summary = imports.sales_import_execute(
        actor=actor, imp=imp, dry_run=bool(job.params.get("dry_run")), progress=progress
    )
    return JobResult(summary=summary)
