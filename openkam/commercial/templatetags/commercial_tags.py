"""Small template helpers of the commercial pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag(takes_context=True)
def ws_cells(context: Any, row: Any) -> str:
    """The cells of one whitespace row as HTML, built in Python: a 40-hospital grid has ~500 cells, and rendering
    each through template tags (URLs, money, translations) costs several times the data itself."""
    from django.urls import reverse
    from django.utils.formats import date_format, number_format
    from django.utils.html import conditional_escape as esc
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext as _

    cache = context.render_context.setdefault("ws_cells", {})
    if not cache:
        cache["edit"] = reverse("commercial:cell_edit", args=[1, 2]).replace("/1/", "/{c}/", 1).replace("/2/", "/{i}/")
        cache["convert"] = reverse("commercial:whitespace_convert", args=[1, 2])
        cache["convert"] = cache["convert"].replace("/1/", "/{c}/", 1).replace("/2/", "/{i}/")
        cache["opp"] = reverse("commercial:opportunity", args=[1]).replace("/1/", "/{o}/")
        cache["labels"] = {"edit": esc(_("Edit")), "share": esc(_("share")), "to": esc(_("contract to")),
                           "opp": esc(_("opportunity")), "new": esc(_("Opportunity"))}  # fmt: skip
    u, lab = cache, cache["labels"]
    grid_id = context["account"].pk
    figures, can_edit = context.get("figures"), context.get("can_edit")
    out = []
    for cell in row.cells:
        c, i = cell.column_id, cell.indication_id
        parts = [
            f'<td><div class="ws-cell ws-{cell.status}" data-testid="ws-cell" data-status="{cell.status}" '
            f'data-column="{c}" data-indication="{i}"><div class="d-flex justify-content-between">'
            f"<strong>{esc(cell.status_label)}</strong>"
        ]
        if can_edit:
            href = u["edit"].format(c=c, i=i)
            parts.append(f'<a class="text-secondary" href="{href}?grid={grid_id}" title="{lab["edit"]}">'
                         '<i class="bi bi-pencil"></i></a>')  # fmt: skip
        parts.append("</div>")
        if figures and cell.potential_value:
            parts.append(
                f"<div>{esc(cell.currency)} {number_format(cell.potential_value, 2, force_grouping=True)}</div>"
            )
        if cell.our_share is not None:
            parts.append(f"<div>{lab['share']} {number_format(cell.our_share, 1)} %</div>")
        if cell.competitor:
            parts.append(f'<div class="text-danger-emphasis">{esc(cell.competitor)}</div>')
        if cell.contract_end:
            end = date_format(cell.contract_end, "SHORT_DATE_FORMAT")
            parts.append(f'<div class="text-secondary">{lab["to"]} {end}</div>')
        if cell.opportunity_id:
            href = u["opp"].format(o=cell.opportunity_id)
            parts.append(
                f'<a class="badge text-bg-primary text-decoration-none" href="{href}" data-testid="ws-opportunity">'
                f'<i class="bi bi-graph-up-arrow me-1"></i>{lab["opp"]}</a>'
            )
        elif cell.is_gap and can_edit and figures:
            target = f"convert-{c}-{i}"
            parts.append(
                f'<div id="{target}"><button class="btn btn-outline-primary btn-sm py-0 px-1 mt-1" '
                f'style="font-size: .72rem" hx-post="{u["convert"].format(c=c, i=i)}" '
                f'hx-vals=\'{{"grid": "{grid_id}"}}\' hx-target="#{target}" hx-swap="innerHTML" '
                f'data-testid="ws-convert"><i class="bi bi-plus-lg"></i> {lab["new"]}</button></div>'
            )
        parts.append("</div></td>")
        out.append("".join(parts))
    return mark_safe("".join(out))  # every value above is escaped, a number or a URL we built
