"""Background work of the core app: the one task that runs every kind of job (see ``openkam.core.jobs``)."""

from __future__ import annotations

from procrastinate.contrib.django import app

from openkam.core import services


@app.task(name="core.run_job", queue="default")
def run_job(job_id: int) -> None:
    services.job_execute(job_id=job_id)
