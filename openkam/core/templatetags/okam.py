"""Small template helpers shared by every page."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict
from django.utils.formats import number_format
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context: dict[str, Any], **kwargs: Any) -> str:
    """The current query string with some parameters replaced (for pagination and sorting links)."""
    request = context.get("request")
    query: QueryDict = request.GET.copy() if request is not None else QueryDict(mutable=True)
    for key, value in kwargs.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.filter
def model_label(value: str) -> str:
    """'accounts.AccountTeamMember' → 'Account team member' (the model's verbose name)."""
    from django.apps import apps

    try:
        return str(apps.get_model(str(value))._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return str(value).rsplit(".", 1)[-1]


@register.filter
def percent(value: Any) -> str:
    if value is None:
        return "—"
    return f"{number_format(round(float(value)), 0)} %"


@register.simple_tag
def progress_bar(value: Any, label: str = "") -> str:
    pct = 0 if value is None else max(0, min(100, round(float(value))))
    colour = "success" if pct >= 75 else "info" if pct >= 40 else "warning"
    return format_html(
        '<div class="d-flex align-items-center gap-2" title="{}"><div class="progress flex-grow-1" role="progressbar" '
        'aria-valuenow="{}" aria-valuemin="0" aria-valuemax="100">'
        '<div class="progress-bar bg-{}" style="width: {}%"></div>'
        '</div><span class="small text-secondary text-nowrap" data-testid="progress-{}">{} %</span></div>',
        label,
        pct,
        colour,
        pct,
        label,
        pct,
    )


@register.simple_tag
def money(amount: Any, currency: str = "USD") -> str:
    if amount is None:
        return "—"
    return f"{currency} {number_format(amount, 2, force_grouping=True)}"
