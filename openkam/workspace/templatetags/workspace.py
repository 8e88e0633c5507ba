"""Template helpers for pages that link into areas which may not be wired in every installation."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def url_or_none(name: str, *args: Any) -> str | None:
    """``{% url_or_none 'plans:detail' plan.pk as link %}`` → the URL, or None when that page does not exist."""
    try:
        return reverse(name, args=args or None)
    except NoReverseMatch:
        return None


@register.filter
def initials(user: Any) -> str:
    first = (getattr(user, "first_name", "") or "")[:1]
    last = (getattr(user, "last_name", "") or "")[:1]
    return (first + last).upper() or (getattr(user, "username", "") or "?")[:1].upper()


_CHANNEL_ICONS = {
    "visit": "geo-alt",
    "meeting": "people",
    "call": "telephone",
    "event": "calendar-event",
    "email": "envelope",
    "webinar": "camera-video",
    "portal": "globe2",
}
_PLAN_STATUS = {
    "draft": "secondary",
    "in_review": "warning",
    "approved": "info",
    "active": "success",
    "closed": "dark",
}
_ACTION_STATUS = {
    "not_started": "secondary",
    "in_progress": "primary",
    "blocked": "danger",
    "done": "success",
    "cancelled": "light",
}


@register.filter
def channel_icon(channel: str) -> str:
    return _CHANNEL_ICONS.get(channel, "chat-left-text")


@register.filter
def plan_status_colour(status: str) -> str:
    return _PLAN_STATUS.get(status, "secondary")


@register.filter
def action_status_colour(status: str) -> str:
    return _ACTION_STATUS.get(status, "secondary")
