"""``{% load evaluation_tags %}{% account_tier_card account %}``: the latest score and tier of an account, with a
link to its evaluation page — for Account 360 (one query; the account is already scope-checked by the page)."""

from __future__ import annotations

from typing import Any

from django import template

from openkam.evaluation.defaults import typology
from openkam.evaluation.models import AccountTier

register = template.Library()


@register.inclusion_tag("evaluation/_tier_card.html")
def account_tier_card(account: Any) -> dict[str, Any]:
    tier = AccountTier.objects.filter(account_id=account.pk).select_related("assessment").first()
    family, label, kpis = typology(account.type)
    return {"account": account, "tier": tier, "evaluated": family is not None, "typology": label, "kpis": kpis}
