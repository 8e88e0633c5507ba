"""Documents every app produces: PDF (WeasyPrint, from a print template) and XLSX (openpyxl) in one house style.

PDF: templates extend ``print/base.html`` (A4, running header and footer with page x of y, DejaVu fonts, tables,
cover page, contents); :func:`render_pdf` turns one into bytes. Static files (logo, CSS) resolve from the app's
static directories, so no web server is needed (the task worker renders too).

XLSX: :func:`xlsx_workbook` writes sheets of a header row and data rows, with the house header style, column
widths, frozen header row and an *About* sheet (what, when, who); :func:`xlsx_read_rows` reads one back for
imports (header mapping by name, row numbers as the user sees them in Excel).
"""

from __future__ import annotations

import gc
import io
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PDF_TYPE = "application/pdf"
HOUSE_COLOUR = "0B5563"  # the navbar's teal: headers, title bars


def _static_url_fetcher(url: str, *args: Any, **kwargs: Any) -> Any:
    """Serve ``/static/...`` from the app static directories; refuse anything else (no network)."""
    from weasyprint import default_url_fetcher

    if url.startswith("file:///static/") or url.startswith("/static/"):
        path = finders.find(url.split("/static/", 1)[1])
        if path:
            return default_url_fetcher("file://" + str(path), *args, **kwargs)
    if url.startswith("data:"):
        return default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"documents fetch only static files, not {url}")


_gc_lock = threading.Lock()
_gc_depth = 0
_gc_saved: tuple[int, int, int] = (700, 10, 10)


@contextmanager
def _no_full_gc() -> Iterator[None]:
    """No full (oldest-generation) garbage collection while WeasyPrint lays a document out.

    WeasyPrint allocates millions of small objects; with Python's default thresholds a handful of full
    collections run while it works, each walking every object of the process (Django's included) — measured at
    ~0.7 s of a 2.6 s CPU render of a 27-page plan. Young generations are still collected; what only a full
    collection would free (~4 MB per page) waits for the next one after the render. Nested/concurrent renders
    restore the thresholds only when the last one ends.
    """
    global _gc_depth, _gc_saved
    with _gc_lock:
        if _gc_depth == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(_gc_saved[0], _gc_saved[1], 1_000_000)
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0:
                gc.set_threshold(*_gc_saved)


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """Render a print template (extending ``print/base.html``) to PDF bytes."""
    from weasyprint import HTML

    context = {"generated_at": timezone.localtime(), **context}
    html = render_to_string(template_name, context)
    with _no_full_gc():
        return HTML(string=html, base_url="file:///", url_fetcher=_static_url_fetcher).write_pdf()  # type: ignore[no-any-return]


@dataclass
class Sheet:
    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] = ()
    wrap: bool = False


@dataclass
class About:
    title: str
    by: str = ""
    lines: list[tuple[str, Any]] = field(default_factory=list)


def xlsx_workbook(sheets: Sequence[Sheet], about: About | None = None) -> bytes:
    """An XLSX file of ``sheets`` (header row styled, frozen, widths set) and an optional About sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    head_font, head_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor=HOUSE_COLOUR)
    first = True
    for spec in sheets:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = spec.title[:31]
        ws.append(list(spec.header))
        for cell in ws[1]:
            cell.font, cell.fill = head_font, head_fill
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        for row in spec.rows:
            ws.append(list(row))
        for i, width in enumerate(spec.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        if spec.wrap:
            for row_cells in ws.iter_rows(min_row=2):
                for cell in row_cells:
                    cell.alignment = Alignment(vertical="top", wrap_text=True)
        ws.freeze_panes = "A2"
    if about is not None:
        info = wb.create_sheet("About")
        info.append([about.title])
        info.append(["Exported", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
        if about.by:
            info.append(["By", about.by])
        for label, value in about.lines:
            info.append([label, value])
        info["A1"].font = Font(bold=True, size=14)
        info.column_dimensions["A"].width = 28
        info.column_dimensions["B"].width = 40
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def xlsx_read_rows(data: bytes, *, sheet: str | None = None) -> Iterator[tuple[int, list[Any]]]:
    """``(row number as Excel shows it, cell values)`` for every row of a sheet (the first one by default),
    header row included (row 1). Raises ``ValueError`` with a plain message for a file that is not XLSX."""
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValueError("The file is not an Excel workbook (.xlsx).") from exc
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
    except KeyError as exc:
        raise ValueError(f"The workbook has no sheet named “{sheet}”.") from exc
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        yield number, list(row)
