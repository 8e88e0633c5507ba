"""The plan as files: PDF (WeasyPrint), PowerPoint (python-pptx) and Excel (openpyxl), from a :class:`PlanDocument`.

Each writer takes a document already restricted to its reader (:func:`openkam.plans.document.plan_document`), so
an export never shows more than the reader may see. The Excel layout is also the import layout
(:mod:`openkam.plans.importers`, documented in ``docs/plan-exports.md``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from openkam.core.documents import About, Sheet, render_pdf, xlsx_workbook
from openkam.plans.document import DocAction, PlanDocument

# --- the Excel layout (export and import) ---------------------------------------------------------------
OBJECTIVES_SHEET, TACTICS_SHEET, ACTIONS_SHEET = "Objectives", "Tactics", "Actions"
OBJECTIVE_COLUMNS = (
    "Ref", "ID", "Title", "Metric", "Baseline", "Target", "Current", "Due date", "Indicator", "Owner",
    "Shared with customer", "Description", "Completion %", "Health",
)  # fmt: skip
TACTIC_COLUMNS = (
    "Ref", "ID", "Objective ref", "Title", "Classification", "Function", "Owner", "Shared with customer",
    "Description", "Completion %",
)  # fmt: skip
ACTION_COLUMNS = (
    "Ref", "ID", "Tactic ref", "Title", "Owner", "Assignee", "Start date", "Due date", "Status", "Milestone",
    "Shared with customer", "Description", "Completed on",
)  # fmt: skip
# Columns an import reads back; the others (Completion %, Completed on) are figures the export shows.
READ_ONLY_COLUMNS = frozenset({"Completion %", "Completed on", "Health"})

Progress = Callable[[int, int | None, str], None]


def _no_progress(done: int, total: int | None = None, message: str = "") -> None:
    return None


def filename(doc: PlanDocument, ext: str, suffix: str = "") -> str:
    """``<account> - <plan><suffix>.<ext>`` with characters file systems dislike removed."""
    base = f"{doc.account_name} - {doc.title}" if not doc.is_customer else doc.title
    base = re.sub(r'[\\/:*?"<>|\r\n\t]+', " ", base + suffix).strip()
    return f"{re.sub(r' {2,}', ' ', base)[:150]}.{ext}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _pct(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _num(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


# --- PDF --------------------------------------------------------------------------------------------------
def plan_pdf(doc: PlanDocument) -> bytes:
    """The full plan (internal) or the customer version as a PDF, by the document's audience."""
    template = "plans/print/customer.html" if doc.is_customer else "plans/print/plan.html"
    return render_pdf(template, {"doc": doc, "title": doc.title})


# --- Excel ------------------------------------------------------------------------------------------------
def plan_xlsx(doc: PlanDocument) -> bytes:
    """Objectives, Tactics and Actions sheets (the import layout) and an About sheet."""
    objectives = [
        (o.ref, o.id, o.title, o.metric, _num(o.baseline), _num(o.target), _num(o.current), o.due_date,
         o.indicator_label, o.owner, _yes(o.shared_with_customer), o.description, _pct(o.completion),
         f"{o.health_label}: {o.health_reason}" if o.health else "")
        for o in doc.objectives
    ]  # fmt: skip
    tactics = [
        (t.ref, t.id, t.ref.rsplit(".", 1)[0], t.title, t.classification_label, t.function_label, t.owner,
         _yes(t.shared_with_customer), t.description, _pct(t.completion))
        for t in doc.tactics
    ]  # fmt: skip
    actions = [
        (a.ref, a.id, a.ref.rsplit(".", 1)[0], a.title, a.owner, a.assignee, a.start_date, a.due_date,
         a.status_label, _yes(a.is_milestone), _yes(a.shared_with_customer), a.description, a.completed_on)
        for a in doc.actions
    ]  # fmt: skip
    about = About(
        title=f"{doc.account_name} — {doc.title}",
        by=doc.reader,
        lines=[
            (_("Plan period"), f"{doc.period_start:%Y-%m-%d} – {doc.period_end:%Y-%m-%d}"),
            (_("Status"), doc.status_label),
            (_("Plan version"), doc.version),
            (_("Plan id"), doc.plan_id),
            (_("Left out (not visible to you)"), ", ".join(doc.hidden_classifications) or _("nothing")),
            (_("Import"), _("Edit these sheets and import them back on the plan page (Export → Import from Excel).")),
        ],
    )
    return xlsx_workbook(
        [
            Sheet(
                OBJECTIVES_SHEET,
                OBJECTIVE_COLUMNS,
                objectives,
                widths=(7, 8, 44, 26, 11, 11, 11, 12, 11, 20, 12, 50, 13, 40),
            ),
            Sheet(TACTICS_SHEET, TACTIC_COLUMNS, tactics, widths=(9, 8, 13, 44, 17, 15, 20, 12, 50, 13)),
            Sheet(ACTIONS_SHEET, ACTION_COLUMNS, actions, widths=(12, 8, 11, 48, 20, 20, 12, 12, 13, 10, 12, 50, 13)),
        ],
        about,
    )


# --- PowerPoint -----------------------------------------------------------------------------------------
TEAL = (0x0B, 0x55, 0x63)
INK = (0x1F, 0x29, 0x33)
GREY = (0x6C, 0x75, 0x7D)
LIGHT = (0xF1, 0xF5, 0xF7)
QUADRANTS = {
    "strengths": ((0xE6, 0xF2, 0xEF), (0x19, 0x87, 0x54)),
    "weaknesses": ((0xFD, 0xF3, 0xE1), (0xD9, 0x8E, 0x04)),
    "opportunities": ((0xE7, 0xF0, 0xFA), (0x0D, 0x6E, 0xFD)),
    "threats": ((0xFB, 0xE9, 0xEB), (0xDC, 0x35, 0x45)),
}
RAG_FILLS = {"red": (0xF8, 0xD7, 0xDA), "amber": (0xFF, 0xF3, 0xCD), "green": (0xD1, 0xE7, 0xDD)}
OBJECTIVES_PER_SLIDE = 8
ACTIONS_PER_SLIDE = 12
ACTION_SLIDES_MAX = 3
STAKEHOLDERS_ON_SLIDE = 12


def _date(value: Any) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else ""


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return formats.number_format(value, decimal_pos=0 if value == value.to_integral_value() else 2, use_l10n=True)


class _Deck:
    """A 16:9 deck in the house style: a teal title bar, body, and a footer with the account and page number."""

    def __init__(self, doc: PlanDocument) -> None:
        from pptx import Presentation
        from pptx.util import Inches

        self.doc = doc
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = Inches(13.333), Inches(7.5)
        self.blank = self.prs.slide_layouts[6]
        self.number = 0

    # low-level helpers
    def rgb(self, colour: tuple[int, int, int]) -> Any:
        from pptx.dml.color import RGBColor

        return RGBColor(*colour)

    def box(self, slide: Any, x: float, y: float, w: float, h: float, fill: tuple[int, int, int] | None) -> Any:
        from pptx.enum.shapes import MSO_SHAPE
        from pptx.util import Inches

        shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(x), Inches(y), Inches(w), Inches(h))
        shape.line.fill.background()
        if fill is None:
            shape.fill.background()
        else:
            shape.fill.solid()
            shape.fill.fore_color.rgb = self.rgb(fill)
        shape.shadow.inherit = False
        return shape

    def text(
        self,
        slide: Any,
        x: float,
        y: float,
        w: float,
        h: float,
        lines: Sequence[str] | str,
        *,
        size: int = 14,
        colour: tuple[int, int, int] = INK,
        bold: bool = False,
        bullets: bool = False,
    ) -> Any:
        from pptx.util import Inches, Pt

        tb = slide.shapes.add_textbox(Inches(x), Inches(y), Inches(w), Inches(h))
        frame = tb.text_frame
        frame.word_wrap = True
        for i, line in enumerate([lines] if isinstance(lines, str) else lines):
            para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            para.text = ("•  " if bullets else "") + line
            para.space_after = Pt(6 if bullets else 2)
            for run in para.runs:
                run.font.size, run.font.bold, run.font.color.rgb = Pt(size), bold, self.rgb(colour)
                run.font.name = "Calibri"
        return tb

    def slide(self, title: str, subtitle: str = "") -> Any:
        slide = self.prs.slides.add_slide(self.blank)
        self.number += 1
        self.box(slide, 0, 0, 13.333, 1.0, TEAL)
        self.text(slide, 0.5, 0.18, 10.5, 0.7, title, size=26, colour=(0xFF, 0xFF, 0xFF), bold=True)
        if subtitle:
            self.text(slide, 9.3, 0.32, 3.6, 0.5, subtitle, size=12, colour=(0xD5, 0xE8, 0xEB))
        self.box(slide, 0.5, 7.05, 12.333, 0.01, (0xD5, 0xDD, 0xE2))
        footer = f"{self.doc.account_name} · {self.doc.title}"
        self.text(slide, 0.5, 7.08, 10.0, 0.35, footer, size=9, colour=GREY)
        tag = _("Joint plan") if self.doc.is_customer else _("Internal — confidential")
        self.text(slide, 10.3, 7.08, 2.55, 0.35, f"{tag} · {self.number}", size=9, colour=GREY)
        return slide

    def table(
        self,
        slide: Any,
        x: float,
        y: float,
        w: float,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        *,
        size: int = 11,
    ) -> Any:
        from pptx.util import Inches, Pt

        row_h = 0.36
        shape = slide.shapes.add_table(len(rows) + 1, len(header), Inches(x), Inches(y), Inches(w), Inches(row_h))
        table = shape.table
        total = sum(widths)
        for i, width in enumerate(widths):
            table.columns[i].width = Inches(w * width / total)
        for r in range(len(rows) + 1):
            table.rows[r].height = Inches(row_h)
        for c, label in enumerate(header):
            cell = table.cell(0, c)
            cell.text = label
            cell.fill.solid()
            cell.fill.fore_color.rgb = self.rgb(TEAL)
            for para in cell.text_frame.paragraphs:
                for run in para.runs:
                    run.font.size, run.font.bold = Pt(size), True
                    run.font.color.rgb = self.rgb((0xFF, 0xFF, 0xFF))
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                cell = table.cell(r, c)
                cell.text = str(value)
                cell.fill.solid()
                cell.fill.fore_color.rgb = self.rgb(LIGHT if r % 2 == 0 else (0xFF, 0xFF, 0xFF))
                cell.margin_top = cell.margin_bottom = Inches(0.03)
                for para in cell.text_frame.paragraphs:
                    for run in para.runs:
                        run.font.size = Pt(size)
                        run.font.color.rgb = self.rgb(INK)
        return table

    def kpi(self, slide: Any, x: float, y: float, value: str, label: str) -> None:
        self.box(slide, x, y, 2.3, 1.15, LIGHT)
        self.box(slide, x, y, 0.08, 1.15, TEAL)
        self.text(slide, x + 0.2, y + 0.08, 2.0, 0.6, value, size=26, colour=TEAL, bold=True)
        self.text(slide, x + 0.2, y + 0.7, 2.0, 0.4, label.upper(), size=10, colour=GREY)

    def save(self) -> bytes:
        buffer = io.BytesIO()
        self.prs.save(buffer)
        return buffer.getvalue()


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def plan_pptx(doc: PlanDocument, progress: Progress = _no_progress) -> bytes:
    """Title, account overview, strategy, SWOT, objectives, actions and stakeholders as a 16:9 deck."""
    deck = _Deck(doc)
    period = f"{_date(doc.period_start)} – {_date(doc.period_end)}"

    # 1. title
    slide = deck.prs.slides.add_slide(deck.blank)
    deck.number += 1
    deck.box(slide, 0, 0, 13.333, 7.5, TEAL)
    deck.box(slide, 0.8, 2.2, 0.12, 2.4, (0x5F, 0xB3, 0xBF))
    tag = _("Joint account plan") if doc.is_customer else _("Account plan · internal")
    deck.text(slide, 1.1, 1.5, 10, 0.5, tag.upper(), size=14, colour=(0xB9, 0xDD, 0xE2), bold=True)
    deck.text(slide, 1.1, 2.1, 11.2, 1.6, doc.title, size=40, colour=(0xFF, 0xFF, 0xFF), bold=True)
    deck.text(slide, 1.1, 3.75, 11, 0.6, doc.account_name, size=22, colour=(0xFF, 0xFF, 0xFF))
    meta = [period]
    if not doc.is_customer:
        meta.append(f"{doc.status_label} · {_('Owner')}: {doc.owner}")
    deck.text(slide, 1.1, 4.9, 11, 1.0, meta, size=14, colour=(0xD5, 0xE8, 0xEB))
    progress(1, 7, _("Title"))

    # 2. account overview
    slide = deck.slide(_("Account overview"), period)
    counts = doc.counts
    completion = f"{doc.completion:.0f} %" if doc.completion is not None else "—"
    if doc.is_customer:
        kpis = [
            (str(counts["objectives"]), _("Shared objectives")),
            (str(counts["tactics"]), _("Joint initiatives")),
        ]
    else:
        kpis = [(completion, _("Completion")), (str(counts["objectives"]), _("Objectives"))]
    kpis += [(f"{counts['done']} / {counts['actions']}", _("Actions done")), (str(counts["overdue"]), _("Overdue"))]
    for i, (value, label) in enumerate(kpis):
        deck.kpi(slide, 0.5 + i * 2.5, 1.35, value, label)
    overview = [(k, v) for k, v in doc.overview if v != doc.account_name] or [(_("Plan period"), period)]
    deck.table(slide, 0.5, 2.85, 6.2, [_("Account"), doc.account_name], overview, (2, 4), size=12)
    if doc.summary and not doc.is_customer:
        deck.text(slide, 7.2, 2.85, 5.6, 0.4, _("Summary"), size=14, colour=TEAL, bold=True)
        deck.text(slide, 7.2, 3.3, 5.6, 3.6, _clip(doc.summary, 900), size=12)
    progress(2, 7, _("Account overview"))

    # 3. strategy
    slide = deck.slide(_("Strategy"))
    sections = [s for s in doc.sections if s.body or s.items]
    if sections:
        col_w = 12.3 / min(3, len(sections))
        for i, s in enumerate(sections[:3]):
            x = 0.5 + i * col_w
            deck.box(slide, x, 1.35, col_w - 0.25, 0.06, TEAL)
            deck.text(slide, x, 1.5, col_w - 0.3, 0.8, s.title, size=16, colour=TEAL, bold=True)
            top = 2.35
            if s.body:
                deck.text(slide, x, top, col_w - 0.3, 2.2, [_clip(s.body, 500)], size=12)
                top += 0.3 + min(2.2, 0.24 * (len(_clip(s.body, 500)) // int(col_w * 14) + 1 + s.body.count("\n")))
            if s.items:
                deck.text(slide, x, top, col_w - 0.3, 3.0, [_clip(i, 120) for i in s.items[:6]], size=12, bullets=True)
    else:
        goals = [_clip(o.title, 110) for o in doc.objectives[:8]]
        deck.text(slide, 0.5, 1.35, 12, 0.5, _("What we will achieve"), size=16, colour=TEAL, bold=True)
        deck.text(slide, 0.5, 1.95, 12.2, 4.8, goals or [_("No objectives yet.")], size=15, bullets=bool(goals))
    progress(3, 7, _("Strategy"))

    # 4. SWOT
    if not doc.is_customer:
        slide = deck.slide(_("SWOT"))
        for i, (key, label, items) in enumerate(doc.swot_quadrants):
            x, y = 0.5 + (i % 2) * 6.25, 1.3 + (i // 2) * 2.85
            fill, edge = QUADRANTS[key]
            deck.box(slide, x, y, 6.05, 2.7, fill)
            deck.box(slide, x, y, 0.1, 2.7, edge)
            deck.text(slide, x + 0.3, y + 0.12, 5.5, 0.45, label, size=16, colour=edge, bold=True)
            shown = [_clip(item.title, 110) for item in items[:5]] or [_("None recorded.")]
            deck.text(slide, x + 0.3, y + 0.62, 5.6, 2.0, shown, size=12, bullets=bool(items))
    progress(4, 7, _("SWOT"))

    # 5. objectives (8 per slide)
    chunks = [doc.objectives[i : i + OBJECTIVES_PER_SLIDE] for i in range(0, len(doc.objectives), OBJECTIVES_PER_SLIDE)]
    for n, chunk in enumerate(chunks or [[]], start=1):
        title = _("Objectives and measures of success")
        slide = deck.slide(title, f"{n} / {len(chunks)}" if len(chunks) > 1 else "")
        if not chunk:
            deck.text(slide, 0.5, 1.4, 12, 0.5, _("No objectives yet."), size=14, colour=GREY)
            continue
        rows = [
            (o.ref, _clip(o.title, 60), _clip(o.metric, 30), f"{_fmt(o.baseline)} → {_fmt(o.target)}", _fmt(o.current),
             f"{o.progress:.0f} %" if o.progress is not None else "—", _date(o.due_date),
             o.health_label or o.indicator_label)
            for o in chunk
        ]  # fmt: skip
        header = [
            "#", _("Objective"), _("Metric"), _("Baseline → target"), _("Current"), _("Toward target"), _("Due"),
            _("Health") if not doc.is_customer else _("Type"),
        ]  # fmt: skip
        table = deck.table(slide, 0.5, 1.3, 12.333, header, rows, (0.5, 4.0, 2.2, 1.8, 1.0, 1.2, 1.3, 1.0), size=11)
        for r, o in enumerate(chunk, start=1):
            if o.health in RAG_FILLS:
                cell = table.cell(r, len(header) - 1)
                cell.fill.solid()
                cell.fill.fore_color.rgb = deck.rgb(RAG_FILLS[o.health])
    progress(5, 7, _("Objectives"))

    # 6. actions: overdue first, then the open ones by due date (then the rest), at most three slides
    _action_slides(deck, doc)
    progress(6, 7, _("Actions"))

    # 7. stakeholders (internal only)
    if not doc.is_customer:
        slide = deck.slide(_("Stakeholders"), _("Decision roles in the account"))
        if doc.stakeholders_hidden:
            deck.text(slide, 0.5, 1.4, 12, 0.5,
                      _("Decision roles are commercial judgements about people and are not shown to your role."),
                      size=14)  # fmt: skip
        elif doc.stakeholder_total:
            for i, (label, n) in enumerate(doc.stakeholder_roles[:5]):
                deck.kpi(slide, 0.5 + i * 2.5, 1.3, str(n), label)
            people = [(s.name, _clip(s.title, 40), _clip(s.account, 36), s.role_label)
                    for s in doc.stakeholders[:STAKEHOLDERS_ON_SLIDE]]  # fmt: skip
            deck.table(slide, 0.5, 2.7, 12.333, [_("Person"), _("Title"), _("Account"), _("Role in decision")], people,
                       (3, 3.5, 3.5, 2), size=10)  # fmt: skip
        else:
            deck.text(slide, 0.5, 1.4, 12, 0.5, _("No decision roles are mapped for this account yet."), size=14,
                      colour=GREY)  # fmt: skip
    progress(7, 7, _("Stakeholders"))
    return deck.save()


def _action_slides(deck: _Deck, doc: PlanDocument) -> None:
    actions = doc.actions
    open_ = [a for a in actions if a.status in ("not_started", "in_progress", "blocked")]
    order: list[DocAction] = sorted(
        open_, key=lambda a: (not a.overdue, a.due_date is None, a.due_date or doc.period_end, a.ref)
    )
    limit = ACTIONS_PER_SLIDE * ACTION_SLIDES_MAX
    shown = order[:limit]
    chunks = [shown[i : i + ACTIONS_PER_SLIDE] for i in range(0, len(shown), ACTIONS_PER_SLIDE)] or [[]]
    for n, chunk in enumerate(chunks, start=1):
        sub = _("%(open)d open of %(all)d") % {"open": len(open_), "all": len(actions)}
        slide = deck.slide(_("Next actions"), sub + (f" · {n} / {len(chunks)}" if len(chunks) > 1 else ""))
        if not chunk:
            deck.text(slide, 0.5, 1.4, 12, 0.5, _("No open actions."), size=14, colour=GREY)
            continue
        rows = [
            (a.ref, _clip(a.title, 70), a.assignee or a.owner, _date(a.due_date) + (" ⚠" if a.overdue else ""),
             a.status_label)
            for a in chunk
        ]  # fmt: skip
        deck.table(slide, 0.5, 1.3, 12.333, ["#", _("Action"), _("Who"), _("Due"), _("Status")], rows,
                   (1.1, 6.0, 2.3, 1.4, 1.5), size=11)  # fmt: skip
        if n == len(chunks) and len(order) > limit:
            more = _("%(n)d more open actions are in the PDF and Excel exports.") % {"n": len(order) - limit}
            deck.text(slide, 0.5, 6.55, 12, 0.4, more, size=11, colour=GREY)
