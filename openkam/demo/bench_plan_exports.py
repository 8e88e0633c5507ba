"""Benchmark tasks of the plan exports (``bench plan_export_pdf|plan_export_pptx|plan_export_xlsx``).

Issue 5 sets the size: a plan with 50 objectives and 300 actions (PDF ≤ 3 s, PPTX ≤ 2 s, XLSX ≤ 1 s). The task
exports the world's largest flagship plan (the plans world section grows it to that size, with every section
filled) — or, in a world without it, builds such a plan on the flagship IDN (untimed) — and times the export job
exactly as the worker runs it: reading the plan as the subject user, rendering, storing the file. Everything runs
in a transaction that is rolled back, so the kept world stays as built. The baseline (``bench/sql/plan_export.sql``)
reads everything an export shows of the world's largest flagship plan with raw SQL.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

from django.db import transaction

OBJECTIVES, TACTICS_PER_OBJECTIVE, ACTIONS = 50, 2, 300


class _Rollback(Exception):
    pass


def _build_plan(subjects: Any) -> int:
    """A plan of 50 objectives, 100 tactics (commercial, joint, market access; some shared) and 300 actions,
    with SWOT items, critical success factors and key actions — every section an export prints."""
    from openkam.core.models import Classification
    from openkam.plans.models import (
        AccountPlan,
        Action,
        CriticalSuccessFactor,
        KeyAction,
        Objective,
        SwotItem,
        Tactic,
    )

    user = subjects.user
    start = dt.date.today().replace(month=1, day=1)
    plan = AccountPlan.objects.create(
        account=subjects.idn,
        name="Bench export plan (50 objectives, 300 actions)",
        period_start=start,
        period_end=start.replace(year=start.year + 1) - dt.timedelta(days=1),
        owner=user,
        summary="Grow the cardiology franchise across the network. " * 6,
        customer_priorities="Reduce readmissions; value-based contracts; workforce.",
        positioning="The partner for outcomes in cardiology.",
        strategy="Lead with outcomes data, win the P&T listing, scale the pathway. " * 4,
    )
    objectives = Objective.objects.bulk_create(
        Objective(
            plan=plan, title=f"Objective {i + 1}: grow pathway adoption at site {i + 1}", metric="patients on pathway",
            baseline=Decimal(10 + i), target=Decimal(100 + i), current=Decimal(40 + i),
            due_date=start + dt.timedelta(days=90 + 5 * i), indicator="leading" if i % 2 else "lagging", owner=user,
            position=i, shared_with_customer=i % 3 == 0,
        )
        for i in range(OBJECTIVES)
    )  # fmt: skip
    classes = [Classification.COMMERCIAL, Classification.JOINT, Classification.MARKET_ACCESS]
    tactics = Tactic.objects.bulk_create(
        Tactic(
            objective=o, title=f"Tactic {j + 1} for {o.title[:20]}", owner=user, classification=classes[(i + j) % 3],
            shared_with_customer=j == 0, position=j,
        )
        for i, o in enumerate(objectives)
        for j in range(TACTICS_PER_OBJECTIVE)
    )  # fmt: skip
    statuses = ["done", "in_progress", "not_started", "blocked", "not_started", "done"]
    Action.objects.bulk_create(
        Action(
            tactic=tactics[k % len(tactics)], title=f"Action {k + 1}: meet the pharmacy and therapeutics lead",
            owner=user, assignee=user, status=statuses[k % len(statuses)], start_date=start + dt.timedelta(days=k),
            due_date=start + dt.timedelta(days=k + 30), position=k, shared_with_customer=k % 4 == 0,
            is_milestone=k % 25 == 0,
        )
        for k in range(ACTIONS)
    )  # fmt: skip
    kinds = ["strength", "weakness", "opportunity", "threat"]
    SwotItem.objects.bulk_create(
        SwotItem(plan=plan, kind=kinds[i % 4], title=f"SWOT item {i + 1}", evidence="Heard at P&T", position=i)
        for i in range(12)
    )
    for i in range(4):
        csf = CriticalSuccessFactor.objects.create(plan=plan, title=f"Critical success factor {i + 1}", position=i)
        KeyAction.objects.create(csf=csf, title=f"Key action {i + 1}", owner=user, position=0)
    return plan.pk


def _export(subjects: Any, kind: str) -> float:
    """Time the export job of the world's big flagship plan (50 objectives, 300 actions, every section filled by
    the plans world section), or — in a world without it — of a plan of that size built for the run."""
    from openkam.core import services as core_services

    seconds = 0.0
    try:
        with transaction.atomic():
            big = subjects.plan is not None and subjects.plan_actions >= ACTIONS
            plan_id = subjects.plan.pk if big else _build_plan(subjects)
            job = core_services.job_start(actor=subjects.user, kind=kind, label="bench", params={"plan_id": plan_id})
            started = time.perf_counter()
            job = core_services.job_execute(job_id=job.pk)
            seconds = time.perf_counter() - started
            if job.status != "done":
                raise RuntimeError(f"{kind} failed: {job.error}")
            raise _Rollback
    except _Rollback:
        pass
    return seconds


def plan_export_pdf_task(subjects: Any) -> float:
    return _export(subjects, "plans.export_pdf")


def plan_export_pptx_task(subjects: Any) -> float:
    return _export(subjects, "plans.export_pptx")


def plan_export_xlsx_task(subjects: Any) -> float:
    return _export(subjects, "plans.export_xlsx")
