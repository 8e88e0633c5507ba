"""Badges and small helpers for plan pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
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


_URL_PATTERNS: dict[tuple[Any, str, str, int], list[str]] = {}
_PK_MARK = 987654321987


@register.simple_tag
def plan_url(name: str, *args: Any) -> str:
    """``{% url name arg… %}`` for the links repeated on every row of the plan page (several per action, SWOT item,
    key action, step): the URL is reversed once per name and the arguments put in, instead of a full ``reverse()``
    per row. Arguments are ids or section kinds (plain path segments)."""
    key = (get_urlconf(), get_script_prefix(), name, len(args))
    parts = _URL_PATTERNS.get(key)
    if parts is None:
        marks = [str(_PK_MARK + i) for i in range(len(args))]
        url = reverse(name, args=marks)
        parts = []
        for mark in marks:
            head, _sep, url = url.partition(mark)
            parts.append(head)
        parts.append(url)
        _URL_PATTERNS[key] = parts
    out = [parts[0]]
    for arg, tail in zip(args, parts[1:], strict=True):
        out.append(str(int(arg)) if isinstance(arg, int) or str(arg).isdigit() else quote(str(arg), safe=""))
        out.append(tail)
    return "".join(out)


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


# --- the action row, built in Python ----------------------------------------------------------------------
# The plan page shows one row per action (300 on a large plan): the same HTML as a template would give, built with
# format_html from strings prepared once per language — the template engine's per-node cost dominated the page.
_ROW_TEXT: dict[str | None, dict[str, str]] = {}


def _row_text() -> dict[str, str]:
    key = get_language()
    text = _ROW_TEXT.get(key)
    if text is None:
        from django.utils.translation import gettext

        text = _ROW_TEXT[key] = {
            k: str(escape(v)) if k != "from" else v
            for k, v in {
                "status": gettext("Status"),
                "milestone": gettext("Milestone"),
                "shared": gettext("Shared with the customer"),
                "unassigned": gettext("Unassigned"),
                "due": gettext("due"),
                "no_dates": gettext("No dates"),
                "overdue": gettext("overdue"),
                "edit": gettext("Edit action"),
                "delete": gettext("Delete action"),
                "from": gettext("from %(d)s"),
            }.items()
        }
    return text


_DATES: dict[tuple[str | None, Any], str] = {}


def _short_date(value: Any) -> str:
    """A date in the locale's short format (memoised: a plan page shows the same dates many times)."""
    key = (get_language(), value)
    text = _DATES.get(key)
    if text is None:
        from django.utils.formats import date_format

        if len(_DATES) > 20000:
            _DATES.clear()
        text = _DATES[key] = date_format(value, "SHORT_DATE_FORMAT")
    return text


@register.simple_tag
def action_row(a: Any, writable: Any) -> SafeString:
    """One action's ``<tr>`` on the plan page (status select when the reader may edit it, else a badge)."""
    text = _row_text()
    pk = int(a.pk)
    editable = a.tactic.classification in writable
    late = is_overdue(a, timezone.localdate())
    status_value = a.status
    row_class = (
        " is-done"
        if status_value == ActionStatus.DONE
        else " is-cancelled"
        if status_value == ActionStatus.CANCELLED
        else ""
    )
    if editable:
        status = (
            f'<select class="form-select form-select-sm okam-status okam-status-{escape(status_value)}" name="status" '
            f'aria-label="{text["status"]}" data-testid="action-status" '
            f'hx-post="{plan_url("plans:action_status", pk)}" hx-trigger="change" hx-include="#plan-version" '
            f'hx-target="#action-{pk}" hx-swap="outerHTML">{action_status_options(status_value)}</select>'
        )
    else:
        border = " border" if status_value == ActionStatus.CANCELLED else ""
        status = (
            f'<span class="badge text-bg-{action_status_colour(status_value)}{border}" '
            f'data-testid="action-status-badge">{escape(ActionStatus(status_value).label)}</span>'
        )
    title = f'<span class="okam-action-title" data-testid="action-title">{escape(a.title)}</span>'
    if a.is_milestone:
        flag = f'<i class="bi bi-flag-fill text-primary me-1" title="{text["milestone"]}" data-testid="milestone"></i>'
        title = flag + title
    if a.shared_with_customer:
        title += f' <i class="bi bi-people text-secondary" title="{text["shared"]}" data-testid="action-shared"></i>'
    if a.description:
        title += (
            f'<div class="small text-secondary text-truncate" style="max-width: 36rem">{escape(a.description)}</div>'
        )
    if a.assignee_id:
        assignee = f'<i class="bi bi-person me-1 text-secondary"></i>{escape(str(a.assignee))}'
    else:
        assignee = f'<span class="text-secondary">{text["unassigned"]}</span>'
    due_class = "text-danger fw-semibold" if late else ""
    if a.start_date and a.due_date:
        dates = (
            f'<span class="text-secondary">{_short_date(a.start_date)} – </span>'
            f'<span class="{due_class}" data-testid="action-due">{_short_date(a.due_date)}</span>'
        )
    elif a.due_date:
        dates = (
            f'<span class="text-secondary">{text["due"]} </span>'
            f'<span class="{due_class}" data-testid="action-due">{_short_date(a.due_date)}</span>'
        )
    elif a.start_date:
        dates = f'<span class="text-secondary">{escape(text["from"] % {"d": _short_date(a.start_date)})}</span>'
    else:
        dates = f'<span class="text-secondary">{text["no_dates"]}</span>'
    if late:
        dates += f' <span class="badge text-bg-danger ms-1" data-testid="overdue">{text["overdue"]}</span>'
    tools = ""
    if editable:
        tools = (
            f'<a class="okam-icon-btn" href="{plan_url("plans:action_edit", pk)}" title="{text["edit"]}" '
            f'data-testid="action-edit"><i class="bi bi-pencil"></i></a> '
            f'<a class="okam-icon-btn" href="{plan_url("plans:action_delete", pk)}" title="{text["delete"]}" '
            f'data-testid="action-delete"><i class="bi bi-trash"></i></a>'
        )
    # every value above is escaped or a fixed string of ours
    return mark_safe(
        f'<tr id="action-{pk}" data-testid="action" data-action-id="{pk}" class="okam-action{row_class}">'
        f"<td>{status}</td><td>{title}</td>"
        f'<td class="small text-nowrap" data-testid="action-assignee">{assignee}</td>'
        f'<td class="small text-nowrap">{dates}</td><td class="text-end text-nowrap">{tools}</td></tr>'
    )


@register.simple_tag
def objective_checkboxes(nodes: Any, linked: Any, key: str, item_id: Any) -> SafeString:
    """The "drives objectives" checkboxes of a SWOT item form (one per objective: built in Python)."""
    chosen = set(linked or [])
    return format_html_join(
        "",
        '<div class="form-check form-check-inline"><input class="form-check-input" type="checkbox" '
        'name="objective_ids" value="{}" id="{}-{}-o{}"{} data-testid="swot-link">'
        '<label class="form-check-label" for="{}-{}-o{}">{}</label></div>',
        (
            (
                n.objective.pk,
                key,
                item_id or "new",
                n.objective.pk,
                " checked" if n.objective.pk in chosen else "",
                key,
                item_id or "new",
                n.objective.pk,
                n.objective.title if len(n.objective.title) <= 40 else n.objective.title[:39] + "…",
            )
            for n in nodes
        ),
    )
