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


@register.simple_tag
def lazy_panel(url_name: str, *args: Any, testid: str = "", label: str = "") -> str:
    """A card that loads itself after the page (HTMX ``hx-get`` on load) from another app's panel view.

    Pages of lower apps (Account 360, the plan page) show what higher apps know about the record — formulary
    position, pipeline, relationship coverage — without importing them: ``{% lazy_panel "app:view" pk %}``. A panel
    whose view is not installed renders nothing. The panel view returns the card's HTML (or an empty string).
    """
    from django.urls import NoReverseMatch, reverse
    from django.utils.translation import gettext as _

    try:
        url = reverse(url_name, args=args)
    except NoReverseMatch:
        return ""
    return format_html(
        '<div class="okam-lazy-panel" hx-get="{}" hx-trigger="load" hx-swap="outerHTML" data-testid="{}">'
        '<div class="card shadow-sm mb-3"><div class="card-body small text-secondary">'
        '<span class="spinner-border spinner-border-sm me-2" aria-hidden="true"></span>{}</div></div></div>',
        url,
        testid or "lazy-" + url_name.replace(":", "-"),
        label or _("Loading…"),
    )
