"""Long work of the stakeholders app, run by the task worker (see ``openkam.core.jobs``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from openkam.core.jobs import JobResult, Progress, job_handler
from openkam.core.models import Job
from openkam.stakeholders import importers


@job_handler("stakeholders.nppes_import")
def nppes_import(job: Job, progress: Progress) -> JobResult:
    """Apply an NPPES import (all or nothing) as the user who started it."""
    params = job.params
    progress(0, None, _("Checking the file"))
    plan = importers.nppes_import_apply(
        actor=job.requested_by,
        payload=params["document"],
        account_id=params.get("account_id"),
        parent_id=params.get("parent_id"),
        reason=params.get("reason", ""),
    )
    outcome = _("Created %(c)d, updated %(u)d, skipped %(s)d") % {
        "c": plan.created,
        "u": plan.updated,
        "s": plan.skipped,
    }
    progress(plan.created + plan.updated, plan.created + plan.updated, outcome)
    return JobResult(summary={**plan.as_dict(), "outcome": outcome})
