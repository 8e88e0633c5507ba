"""``{% formulary_cell cell %}``: one coloured matrix cell, built in Python (a page shows up to 500 of them; an
included template per cell costs ~0.3 ms each). Labels and dates are translated/formatted once per language."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from openkam.market_access.models import FormularyStatusCode, RestrictionKind

register = template.Library()

_GLYPH = {"on_formulary": "✓", "restricted": "R", "under_review": "?", "non_formulary": "✗", "removed": "–"}


@lru_cache(maxsize=16)
def _labels(language: str | None) -> dict[str, str]:
    labels = {f"s:{k}": str(v) for k, v in FormularyStatusCode.choices}
    labels.update({f"r:{k}": str(v) for k, v in RestrictionKind.choices})
    labels.update(none=_("No status"), tier=_("tier %(t)s"), since=_("since %(d)s"),
                  inherited=_("decided for members at %(a)s"), imported=_("imported"))  # fmt: skip
    return labels


@lru_cache(maxsize=4096)
def _date(value: dt.date, language: str | None) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


@lru_cache(maxsize=1)
def _account_prefix() -> str:
    return reverse("market_access:account", args=[0])[:-2]


@register.simple_tag
def formulary_cell(cell: Any) -> SafeString:
    language = get_language()
    labels = _labels(language)
    if cell is None:
        return format_html(
            '<span class="okam-fcell okam-f-none" data-status="none" title="{}">·</span>', labels["none"]
        )
    first = labels.get(f"s:{cell.status}", cell.status)
    if cell.restriction_kinds:
        first += " — " + ", ".join(labels.get(f"r:{k}", k) for k in cell.restriction_kinds)
    parts = [first]
    if cell.tier:
        parts.append(labels["tier"] % {"t": cell.tier})
    parts.append(labels["since"] % {"d": _date(cell.effective_from, language)})
    if cell.inherited:
        parts.append(labels["inherited"] % {"a": cell.held_at_account_name})
    if cell.committee_name:
        parts.append(cell.committee_name)
    if cell.source == "imported":
        parts.append(labels["imported"])
    return format_html(
        '<a class="okam-fcell okam-f-{}{}" href="{}{}/" data-testid="fcell-{}-{}" data-status="{}" title="{}">{}{}</a>',
        cell.status, " okam-f-inherited" if cell.inherited else "", _account_prefix(), cell.account_id,
        cell.account_id, cell.product_id, cell.status, " · ".join(parts), _GLYPH.get(cell.status, "–"),
        format_html("<sup>↑</sup>") if cell.inherited else "",
    )  # fmt: skip
