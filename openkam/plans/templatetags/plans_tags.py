"""Badges and small helpers for plan pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from openkam.core.models import Classification
from openkam.core.templatetags.okam import progress_bar
from openkam.plans.models import ActionStatus, PlanStatus
from openkam.plans.selectors import is_overdue

register = template.Library()

_PLAN_STATUS = {
    PlanStatus.DRAFT: ("secondary", "pencil"),
    PlanStatus.IN_REVIEW: ("warning", "hourglass-split"),
    PlanStatus.APPROVED: ("info", "patch-check"),
    PlanStatus.ACTIVE: ("success", "play-circle"),
    PlanStatus.CLOSED: ("dark", "archive"),
}
_ACTION_STATUS = {
    ActionStatus.NOT_STARTED: "secondary",
    ActionStatus.IN_PROGRESS: "primary",
    ActionStatus.BLOCKED: "danger",
    ActionStatus.DONE: "success",
    ActionStatus.CANCELLED: "light",
}


@register.simple_tag
def plan_status_badge(status: str) -> str:
    colour, icon = _PLAN_STATUS.get(status, ("secondary", "circle"))  # type: ignore[call-overload]
    text = "text-bg-warning" if colour == "warning" else f"text-bg-{colour}"
    return format_html(
        '<span class="badge {} okam-plan-status" data-testid="plan-status" data-status="{}">'
        '<i class="bi bi-{} me-1"></i>{}</span>',
        text,
        status,
        icon,
        PlanStatus(status).label,
    )


@register.simple_tag
def classification_badge(classification: str) -> str:
    return format_html(
        '<span class="badge badge-class-{}" data-testid="classification" title="{}">{}</span>',
        classification,
        Classification(classification).label,
        Classification(classification).label,
    )


@register.filter
def action_status_colour(status: str) -> str:
    return _ACTION_STATUS.get(status, "secondary")  # type: ignore[call-overload]


_URL_PATTERNS: dict[tuple[Any, str, str], tuple[str, str]] = {}
_PK_MARK = 987654321987


@register.simple_tag
def plan_url(name: str, pk: int) -> str:
    """``{% url name pk %}`` for the links repeated on every row of the plan page (three per action): the URL
    is reversed once per name and the id put in, instead of a full ``reverse()`` per row."""
    key = (get_urlconf(), get_script_prefix(), name)
    parts = _URL_PATTERNS.get(key)
    if parts is None:
        head, _mark, tail = reverse(name, args=[_PK_MARK]).partition(str(_PK_MARK))
        parts = _URL_PATTERNS[key] = (head, tail)
    return f"{parts[0]}{int(pk)}{parts[1]}"


_STATUS_OPTIONS: dict[tuple[str | None, str], SafeString] = {}


@register.simple_tag
def action_status_options(status: str) -> SafeString:
    """The ``<option>`` elements of an action's status select, ``status`` selected (built once per language and
    status: the plan page renders one select per action)."""
    key = (get_language(), status)
    html = _STATUS_OPTIONS.get(key)
    if html is None:
        html = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((value, " selected" if value == status else "", label) for value, label in ActionStatus.choices),
        )
        _STATUS_OPTIONS[key] = html
    return html


@register.filter
def overdue(action: Any) -> bool:
    return is_overdue(action, timezone.localdate())


@register.filter
def has_key(mapping: Any, key: Any) -> bool:
    return key in mapping


@register.simple_tag
def completion_bar(value: Any, kind: str, pk: Any = "") -> str:
    """The shared progress bar, with a stable test id (``progress-plan``, ``progress-tactic-12``);
    "no figure yet" (None) is shown as such, not as 0 %."""
    label = f"{kind}-{pk}" if pk != "" else kind
    if value is None:
        return format_html(
            '<div class="d-flex align-items-center gap-2 okam-bar-none" title="{}"><div class="progress flex-grow-1">'
            '</div><span class="small text-secondary text-nowrap" data-testid="progress-{}">—</span></div>',
            _("No actions to measure yet"),
            label,
        )
    return progress_bar(value, label)


@register.filter
def event_label(event: Any) -> str:
    """The title (or name) of the row an audit event is about, as it was then."""
    data = getattr(event, "pgh_data", None) or {}
    return str(data.get("title") or data.get("name") or "")


_KINDS = {
    "plans.AccountPlan": _("Plan"),
    "plans.Objective": _("Objective"),
    "plans.Tactic": _("Tactic"),
    "plans.Action": _("Action"),
}


@register.filter
def event_kind(model_label: str) -> str:
    return str(_KINDS.get(model_label, str(model_label).rsplit(".", 1)[-1]))


_CARD_OF = {
    "customer_priority": "priorities",
    "swot_item": "swot",
    "goal": "csfs",
    "csf": "csfs",
    "key_action": "csfs",
    "stage": "stages",
    "step": "stages",
}


@register.filter
def card_of(kind: str) -> str:
    """The section card a kind of row lives in (its element id is ``section-<card>``)."""
    return _CARD_OF.get(kind, kind)


@register.simple_tag
def field_value(form: Any, item: Any, name: str) -> Any:
    """What an inline section form shows: what the user typed (after an error), else the row's value."""
    if form is not None and getattr(form, "is_bound", False):
        if name == "objective_ids":
            return [int(v) for v in form.data.getlist(name) if str(v).isdigit()]
        return form.data.get(name, "")
    if item is None:
        return [] if name == "objective_ids" else ""
    if name == "objective_ids":
        ids = getattr(item, "objective_ids", None)
        return list(ids) if ids is not None else list(item.objective_links.values_list("objective_id", flat=True))
    if name in ("goal", "owner"):
        return getattr(item, f"{name}_id") or ""
    value = getattr(item, name, "")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value


@register.filter
def in_list(value: Any, values: Any) -> bool:
    return value in (values or [])


_RAG = {
    "green": ("success", "check-circle-fill", _("On track")),
    "amber": ("warning", "exclamation-triangle-fill", _("At risk")),
    "red": ("danger", "x-octagon-fill", _("Off track")),
    "none": ("secondary", "dash-circle", _("Not measured")),
}


@register.simple_tag
def rag_badge(health: Any, testid: str = "rag") -> str:
    """Red/amber/green with its reason as a tooltip and for screen readers."""
    if health is None:
        return ""
    colour, icon, label = _RAG.get(health.status, _RAG["none"])
    return format_html(
        '<span class="badge rounded-pill text-bg-{} okam-rag" data-testid="{}" data-rag="{}" title="{}">'
        '<i class="bi bi-{} me-1"></i>{}</span>',
        colour,
        testid,
        health.status,
        health.reason,
        icon,
        label,
    )


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``mapping[key]`` in a template (None when missing)."""
    try:
        return mapping.get(key) if hasattr(mapping, "get") else mapping[key]
    except (KeyError, IndexError, TypeError):
        return None
