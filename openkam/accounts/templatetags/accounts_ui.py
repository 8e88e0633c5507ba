"""Small presentation helpers for account pages: type icons and status colours."""

from __future__ import annotations

from django import template

register = template.Library()

_ICONS = {
    "idn": "diagram-3-fill",
    "health_system": "diagram-3",
    "hospital": "hospital",
    "department": "door-open",
    "clinic": "heart-pulse",
    "payer": "cash-coin",
    "pbm": "capsule-pill",
    "gpo": "people",
    "wholesaler": "truck",
    "pharmacy_chain": "shop",
    "pharmacy": "shop-window",
    "government_body": "bank",
    "hta_body": "clipboard-data",
}
_STATUS = {"active": "success", "prospect": "info", "inactive": "secondary"}


@register.filter
def account_icon(account_type: str) -> str:
    """Bootstrap-icons name for an account type."""
    return _ICONS.get(str(account_type), "building")


@register.filter
def status_colour(status: str) -> str:
    return _STATUS.get(str(status), "secondary")
