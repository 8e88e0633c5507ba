"""Background work of the evaluation app (procrastinate; a worker runs with ``manage.py procrastinate worker``)."""

from __future__ import annotations

from procrastinate.contrib.django import app

from openkam.evaluation import services


@app.task(name="evaluation.rescore_all", queue="default")
def rescore_all(run_id: int) -> None:
    """Re-score and re-tier every assessed account; progress is written to the RescoreRun row."""
    services.rescore_run_execute(run_id=run_id)


@app.periodic(cron="*/10 * * * *", periodic_id="evaluation.effort_refresh")
@app.task(name="evaluation.effort_refresh", queue="default", queueing_lock="evaluation.effort_refresh")
def effort_refresh(timestamp: int) -> None:
    """Every 10 minutes: rebuild the effort snapshot read by the portfolio matrix and the KAM analysis."""
    services.effort_snapshot_refresh()


@app.task(name="evaluation.effort_refresh_now", queue="default")
def effort_refresh_now() -> None:
    services.effort_snapshot_refresh()
