"""The internal plan PDF as a reader uses it: the contents page's numbers lead to the right pages, the objectives
table keeps every measure; and the faster rendering (no full garbage collection while WeasyPrint works) leaves the
process's GC settings as they were."""

from __future__ import annotations

import gc
import re
from pathlib import Path
from typing import Any

import pytest

from openkam.core import documents
from openkam.plans import exports
from openkam.plans.document import plan_document
from tests.office import pdf_text
from tests.plans.export_support import rich_plan

pytestmark = pytest.mark.django_db


def test_contents_page_numbers_lead_to_the_sections(world: Any, tmp_path: Path) -> None:
    rp = rich_plan(world)
    doc = plan_document(actor=world.users["kam"], plan_id=rp.plan.pk)
    path = tmp_path / "plan.pdf"
    path.write_bytes(exports.plan_pdf(doc))
    pages = pdf_text(path).split("\f")
    contents = pages[1]
    assert "Contents" in contents
    numbers = {}
    for title in ("The plan at a glance", "SWOT", "Objectives and measures of success", "Tactics and actions",
                  "Stakeholder summary"):  # fmt: skip
        match = re.search(re.escape(title) + r"[ .]*?(\d+)\s*$", contents, flags=re.M)
        assert match, f"{title} has no page number on the contents page"
        numbers[title] = int(match.group(1))
        heading_page = pages[numbers[title] - 1]
        assert re.search(r"^\s*" + re.escape(title) + r"\s*$", heading_page, flags=re.M), (title, numbers[title])
    assert list(numbers.values()) == sorted(numbers.values())
    # the objectives table: every measure, due date and owner of the first objective
    table = pages[numbers["Objectives and measures of success"] - 1]
    assert "Cut 30-day HF readmissions" in table and "Due · owner" in table
    assert "Baseline →" in table and "Toward" in table and "Kim Kam" in table


def test_render_pdf_restores_the_gc_thresholds() -> None:
    before = gc.get_threshold()
    documents.render_pdf("print/base.html", {"title": "Empty"})
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), documents._no_full_gc():
        assert gc.get_threshold()[2] > before[2]
        raise RuntimeError("boom")
    assert gc.get_threshold() == before
