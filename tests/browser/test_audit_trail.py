"""Audit trail in a real browser: an NPPES import is one operation, its creates and updates are its steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from openkam.stakeholders import importers
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)
NPPES = Path(__file__).resolve().parents[1] / "data" / "nppes"


def test_compliance_sees_the_operation_and_its_steps(world: Any, page: Any, login: Any) -> None:
    importers.nppes_import_apply(
        actor=world.users["kam"], payload=(NPPES / "api-34c18d.json").read_bytes(), account_id=world.hospital.pk,
        reason="Q3 refresh",
    )  # fmt: skip
    login("compliance")
    page.goto("/audit/")
    rows = page.get_by_test_id("history").locator("tbody tr").filter(has_text="Q3 refresh")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 20  # 10 people and their positions
    for i in range(rows.count()):
        expect(rows.nth(i).get_by_test_id("history-action")).to_contain_text("stakeholders.nppes.import")
    expect(rows.first.get_by_test_id("history-steps")).to_contain_text("stakeholders.stakeholder.create")
    shot(page, "audit-trail-operation")
