"""Background work of the evaluation app (procrastinate; a worker runs with ``manage.py procrastinate worker``)."""

from __future__ import annotations

from procrastinate.contrib.django import app

from openkam.evaluation import services


@app.task(name="evaluation.rescore_all", queue="default")
def rescore_all(run_id: int) -> None:
    """Re-score and re-tier every assessed account; progress is written to the RescoreRun row."""
    services.rescore_run_execute(run_id=run_id)
