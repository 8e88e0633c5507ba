"""Small template helpers of the commercial pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


def _number_formatters() -> tuple[Callable[[Decimal], str], Callable[[Decimal], str]]:
    """(money with 2 decimals and grouping, share with 1 decimal) in the active locale's format. The common case —
    groups of three — is Python's own ``format`` with the separators swapped (one C call per number); other
    groupings go through Django's ``number_format``."""
    from django.utils.formats import get_format, number_format

    decimal_sep = str(get_format("DECIMAL_SEPARATOR"))
    thousand_sep = str(get_format("THOUSAND_SEPARATOR"))
    share_table = str.maketrans({".": decimal_sep})

    def share(v: Decimal) -> str:
        return f"{v:.1f}".translate(share_table)

    if get_format("NUMBER_GROUPING") == 3:
        table = str.maketrans({",": thousand_sep, ".": decimal_sep})

        def money(v: Decimal) -> str:
            return f"{v:,.2f}".translate(table)

        return money, share
    return (lambda v: str(number_format(v, 2, force_grouping=True))), share


@register.simple_tag(takes_context=True)
def ws_rows(context: Any, grid: Any) -> str:
    """The body rows of the whitespace grid as HTML, built in Python: a 40-hospital grid has ~500 cells, and rendering
    each through template tags (URLs, money, translations) costs several times the data itself. Everything that is
    the same for many cells (labels, URL patterns, formatted dates, escaped competitor names) is computed once."""
    from django.urls import reverse
    from django.utils.formats import date_format
    from django.utils.html import conditional_escape as esc
    from django.utils.safestring import mark_safe
    from django.utils.text import Truncator
    from django.utils.translation import gettext as _

    from openkam.commercial.models import CellStatus

    def pattern(name: str, *args: int) -> str:
        url = reverse(name, args=args)  # 9999991 / 9999992 stand for the column and the indication
        return url.replace("9999991", "{c}").replace("9999992", "{i}")

    edit_url = pattern("commercial:cell_edit", 9999991, 9999992)
    convert_url = pattern("commercial:whitespace_convert", 9999991, 9999992)
    opp_url = pattern("commercial:opportunity", 9999991).replace("{c}", "{o}")
    grid_id = grid.account.pk
    figures, can_edit = bool(context.get("figures")), bool(context.get("can_edit"))
    money, share = _number_formatters()
    status_html = {s.value: f"<strong>{esc(s.label)}</strong>" for s in CellStatus}

    def label(text: str) -> str:  # escaped, and safe inside a str.format pattern
        return str(esc(text)).replace("{", "{{").replace("}", "}}")

    edit_html = (
        f'<a class="ws-e" href="{edit_url}?grid={grid_id}" title="{label(_("Edit"))}" aria-label="{label(_("Edit"))}">'
        '<i class="bi bi-pencil"></i></a>'
    )
    share_label, to_label = esc(_("share")), esc(_("contract to"))
    opp_html = (
        f'<a class="badge text-bg-primary text-decoration-none" href="{opp_url}" data-testid="ws-opportunity">'
        f'<i class="bi bi-graph-up-arrow me-1"></i>{label(_("opportunity"))}</a>'
    )
    convert_html = (
        f'<button class="btn btn-outline-primary btn-sm ws-b" hx-post="{convert_url}" data-testid="ws-convert">'
        f'<i class="bi bi-plus-lg"></i> {label(_("Opportunity"))}</button>'
    )
    dates: dict[dt.date, str] = {}
    texts: dict[str, str] = {}
    out = []
    for row in grid.rows:
        ind = row.indication
        out.append(
            f'<tr><th class="text-nowrap"><div>{esc(ind.product.name)}</div>'
            f'<div class="fw-normal text-secondary">{esc(Truncator(ind.name).chars(48))}</div></th>'
        )
        for cell in row.cells:
            c, i = cell.column_id, cell.indication_id
            out.append(
                f'<td><div class="ws-cell ws-{cell.status}" data-testid="ws-cell" data-status="{cell.status}" '
                f'data-column="{c}" data-indication="{i}"><div class="ws-h">{status_html[cell.status]}'
            )
            if can_edit:
                out.append(edit_html.format(c=c, i=i))
            out.append("</div>")
            if figures and cell.potential_value:
                cur = texts.get(cell.currency) or texts.setdefault(cell.currency, str(esc(cell.currency)))
                out.append(f"<div>{cur} {money(cell.potential_value)}</div>")
            if cell.our_share is not None:
                out.append(f"<div>{share_label} {share(cell.our_share)} %</div>")
            if cell.competitor:
                name = texts.get(cell.competitor) or texts.setdefault(cell.competitor, str(esc(cell.competitor)))
                out.append(f'<div class="text-danger-emphasis">{name}</div>')
            if cell.contract_end:
                end = dates.get(cell.contract_end)
                if end is None:
                    end = dates[cell.contract_end] = date_format(cell.contract_end, "SHORT_DATE_FORMAT")
                out.append(f'<div class="text-secondary">{to_label} {end}</div>')
            if cell.opportunity_id:
                out.append(opp_html.format(o=cell.opportunity_id))
            elif can_edit and figures and cell.is_gap:
                out.append(convert_html.format(c=c, i=i))
            out.append("</div></td>")
        out.append("</tr>")
    return mark_safe("".join(out))  # every value above is escaped, a number, a formatted date or a URL we built
