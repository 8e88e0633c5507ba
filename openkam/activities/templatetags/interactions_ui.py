"""Template helpers for interaction pages: channel icons and links to pages that may not exist yet."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()

CHANNEL_ICONS = {
    "visit": "geo-alt",
    "meeting": "people",
    "call": "telephone",
    "event": "calendar-event",
    "email": "envelope",
    "webinar": "camera-video",
    "portal": "globe2",
}


@register.filter
def channel_icon(channel: str) -> str:
    return CHANNEL_ICONS.get(str(channel), "chat-left-text")


@register.simple_tag
def url_if_exists(name: str, *args: Any) -> str:
    """``reverse(name, args)``, or "" when that page is not wired (then the template shows plain text)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""
