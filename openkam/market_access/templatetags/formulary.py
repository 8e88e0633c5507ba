"""``{% formulary_cell cell %}``: one coloured matrix cell; ``{% formulary_rows rows %}``: every row of the dashboard
matrix at once. Built in Python (a page shows up to 500 cells; template machinery per cell — a tag call, lookups —
costs more than the whole page's SQL). Labels and dates are translated/formatted once per language."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
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


@lru_cache(maxsize=16)
def _level_labels_cached(language: str | None) -> dict[str, str]:
    from openkam.accounts.models import AccountType, KamLevel

    out = {f"l:{k}": str(conditional_escape(v)) for k, v in KamLevel.choices}
    out.update({f"t:{k}": str(conditional_escape(v)) for k, v in AccountType.choices})
    return out


@register.simple_tag
def formulary_rows(rows: Any) -> SafeString:
    """The ``<tr>`` rows of the dashboard matrix (account, KAM level, one cell per product) as one string."""
    language = get_language()
    names = _level_labels_cached(language)
    prefix = _account_prefix()
    out = []
    for row in rows:
        a = row.account
        out.append(
            f'<tr data-testid="fd-row-{a.pk}"><td><a href="{prefix}{a.pk}/">{conditional_escape(a.name)}</a> '
            f'<span class="small text-secondary">{names.get("t:" + a.type, a.type)}</span></td>'
            f'<td><span class="badge badge-level-{a.kam_level}">'
            f"{names.get('l:' + a.kam_level, a.kam_level)}</span></td>"
        )
        out.extend(f'<td class="text-center">{formulary_cell(cell)}</td>' for cell in row.cells)
        out.append("</tr>")
    return mark_safe("".join(out))  # every value above is escaped or a constant


@lru_cache(maxsize=8192)
def _cell_parts(
    language: str | None,
    status: str,
    kinds: tuple[str, ...],
    tier: str,
    start: dt.date,
    inherited: bool,
    held_at: str,
    committee: str,
    source: str,
) -> tuple[str, str]:
    """(class and title attributes, inner HTML) of a cell, escaped — shared by every cell with the same position
    (all members inheriting one system decision): computed once."""
    labels = _labels(language)
    first = labels.get(f"s:{status}", status)
    if kinds:
        first += " — " + ", ".join(labels.get(f"r:{k}", k) for k in kinds)
    parts = [first]
    if tier:
        parts.append(labels["tier"] % {"t": tier})
    parts.append(labels["since"] % {"d": _date(start, language)})
    if inherited:
        parts.append(labels["inherited"] % {"a": held_at})
    if committee:
        parts.append(committee)
    if source == "imported":
        parts.append(labels["imported"])
    css = f"okam-fcell okam-f-{conditional_escape(status)}{' okam-f-inherited' if inherited else ''}"
    attrs = f'class="{css}" data-status="{conditional_escape(status)}" title="{conditional_escape(" · ".join(parts))}"'
    return attrs, _GLYPH.get(status, "–") + ("<sup>↑</sup>" if inherited else "")


@lru_cache(maxsize=16)
def _none_cell(language: str | None) -> SafeString:
    return format_html('<span class="okam-fcell okam-f-none" data-status="none" title="{}">·</span>',
                       _labels(language)["none"])  # fmt: skip


@register.simple_tag
def formulary_cell(cell: Any) -> SafeString:
    language = get_language()
    if cell is None:
        return _none_cell(language)
    attrs, inner = _cell_parts(
        language, cell.status, tuple(cell.restriction_kinds), cell.tier, cell.effective_from, cell.inherited,
        cell.held_at_account_name if cell.inherited else "", cell.committee_name, cell.source,
    )  # fmt: skip
    a, p = int(cell.account_id), int(cell.product_id)
    return mark_safe(f'<a {attrs} href="{_account_prefix()}{a}/" data-testid="fcell-{a}-{p}">{inner}</a>')


@register.simple_tag
def fast_select(field: Any) -> SafeString:
    """A bound choice field as a ``<select>`` built in Python: Django renders each ``<option>`` through a template
    include (~50 includes for the dashboard's filters, more than the whole matrix costs)."""
    widget = field.field.widget
    value = field.value()
    selected = {str(v) for v in value} if isinstance(value, (list, tuple)) else {"" if value is None else str(value)}
    css = conditional_escape(widget.attrs.get("class", "form-select"))
    options = "".join(
        f'<option value="{conditional_escape(k)}"{" selected" if str(k) in selected else ""}>'
        f"{conditional_escape(label)}</option>"
        for k, label in field.field.choices
    )
    return mark_safe(  # every value is escaped
        f'<select name="{conditional_escape(field.html_name)}" id="{conditional_escape(field.id_for_label)}" '
        f'class="{css}">{options}</select>'
    )
