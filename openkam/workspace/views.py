"""The start page ("My work") and the global search.

An interface app: it composes other apps' selectors and never writes. Every row shown comes from a
selector that restricts it to what the signed-in user may see (accounts through ``account_scope``,
classified rows through their classification), so nothing here can widen anyone's view.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.selectors import account_list, account_scope
from openkam.activities.selectors import interaction_list
from openkam.core.access import can_write
from openkam.core.models import Role, User
from openkam.plans.models import PlanStatus
from openkam.plans.selectors import OPEN_ACTION_STATUSES, action_list, plan_list, plan_status_counts
from openkam.stakeholders.selectors import stakeholder_list

ACTIONS_SHOWN = 8
INTERACTIONS_SHOWN = 8
PLANS_SHOWN = 6
DUE_SOON_DAYS = 7
SEARCH_LIMIT = 20
SEARCH_MIN_LENGTH = 2


def _greeting(hour: int) -> str:
    if hour < 12:
        return _("Good morning")
    if hour < 18:
        return _("Good afternoon")
    return _("Good evening")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """My work: what is on my book, what I owe, what happened lately, where my plans stand."""
    actor: User = request.user  # type: ignore[assignment]
    now = timezone.localtime()
    today = now.date()
    my_actions = action_list(actor=actor, assignee=actor, statuses=OPEN_ACTION_STATUSES)
    open_plan_statuses = [s for s in PlanStatus.values if s != PlanStatus.CLOSED]
    my_plans = plan_list(actor=actor, owner=actor, statuses=open_plan_statuses)
    context: dict[str, Any] = {
        "greeting": _greeting(now.hour),
        "can_write": can_write(actor),
        "today": today,
        "due_soon": today + timedelta(days=DUE_SOON_DAYS),
        "kpi": {
            "accounts": account_scope(actor=actor).count(),
            "open_actions": my_actions.count(),
            "overdue_actions": my_actions.filter(due_date__lt=today).count(),
            "interactions_30d": interaction_list(actor=actor, since=now - timedelta(days=30), mine=True).count(),
        },
        "actions": list(my_actions[:ACTIONS_SHOWN]),
        "interactions": list(interaction_list(actor=actor)[:INTERACTIONS_SHOWN]),
        "plans": list(my_plans[:PLANS_SHOWN]),
        "plan_counts": [
            (PlanStatus(s).label, s, n)
            for s, n in sorted(
                plan_status_counts(actor=actor, owner=actor).items(), key=lambda kv: PlanStatus.values.index(kv[0])
            )
        ],
        "review_plans": (
            list(plan_list(actor=actor, statuses=[PlanStatus.IN_REVIEW]).exclude(owner_id=actor.pk)[:PLANS_SHOWN])
            if actor.role == Role.LEAD
            else []
        ),
    }
    return render(request, "workspace/home.html", context)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Accounts and people matching ``q`` — only those the user may see."""
    actor: User = request.user  # type: ignore[assignment]
    q = (request.GET.get("q") or "").strip()[:100]
    context: dict[str, Any] = {"q": q, "too_short": 0 < len(q) < SEARCH_MIN_LENGTH, "searched": False}
    if len(q) >= SEARCH_MIN_LENGTH:
        accounts = account_list(actor=actor, q=q)
        people = stakeholder_list(actor=actor, q=q)
        context.update(
            searched=True,
            accounts=list(accounts[:SEARCH_LIMIT]),
            account_count=accounts.count(),
            stakeholders=list(people[:SEARCH_LIMIT]),
            stakeholder_count=people.count(),
            limit=SEARCH_LIMIT,
        )
    return render(request, "workspace/search.html", context)
