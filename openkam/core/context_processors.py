"""Template context shared by every page: the navigation the current user may use."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from openkam.core.access import is_admin, sees_all_accounts
from openkam.core.models import Role

# (url name, label, icon, who may see it: None = every signed-in user)
NAV_ITEMS = [
    ("accounts:list", _("Accounts"), "building", None),
    ("stakeholders:list", _("Stakeholders"), "people", None),
    ("plans:list", _("Plans"), "journal-check", None),
    ("activities:list", _("Interactions"), "chat-left-text", None),
    ("evaluation:matrix", _("Evaluation"), "grid-3x3-gap", None),
    ("market_access:dashboard", _("Formulary"), "clipboard2-pulse", None),
    ("commercial:pipeline", _("Pipeline"), "graph-up-arrow", None),
    ("portfolio:list", _("Portfolio"), "capsule", None),
    ("handover:home", _("Handover"), "arrow-left-right", "lead"),
    ("privacy:home", _("Personal data"), "person-lock", "audit"),
    ("core:audit", _("Audit"), "shield-check", "audit"),
    ("core:admin_home", _("Administration"), "gear", "admin"),
]


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for name, label, icon, who in NAV_ITEMS:
        if who == "admin" and not is_admin(user):
            continue
        if who == "audit" and not sees_all_accounts(user):
            continue
        if who == "lead" and user.role not in (Role.LEAD, Role.ADMIN):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # an area not wired yet is not shown (no placeholder pages)
        items.append({"url": url, "label": label, "icon": icon, "active": request.path.startswith(url), "role": who})
    # the role's own areas (handover, personal data, audit, administration) share a "More" menu on headers
    # narrower than 1800 px when there are two or more of them (base.html, app.css): the header fits from 1280 px
    more = [item for item in items if item["role"]]
    if len(more) < 2:
        more = []
    for item in more:
        item["in_more"] = True
    return {"nav_items": items, "nav_more": more, "nav_more_active": any(item["active"] for item in more)}
