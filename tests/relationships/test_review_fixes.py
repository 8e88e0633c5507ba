"""Regression tests for the 2026-11-22 review of the relationship pages: read-only roles, committee findings at a
member hospital, places named with their hospital, findings that say what is true, locale dates, filters, and
"… and N more" findings that can be listed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from openkam.core.errors import PermissionDenied
from openkam.relationships import services
from openkam.stakeholders.models import Position

pytestmark = pytest.mark.django_db


def text(resp: Any) -> str:
    return re.sub(r"\s+", " ", resp.content.decode())


# --- item 8: read-only roles ----------------------------------------------------------------------------------
def test_compliance_person_panel_is_read_only(mapped: Any, web: Any) -> None:
    w = mapped.w
    url = reverse("relationships:person", args=[w.idn.pk, mapped.chief.pk])
    body = text(web("compliance").get(url, HTTP_HX_REQUEST="true"))
    assert 'data-testid="assessment-readonly"' in body and "Decision maker" in body and "Key opinion" in body
    assert "<form" not in body and "<select" not in body and "<textarea" not in body and "<input" not in body
    assert "hx-post" not in body
    kam = text(web("kam").get(url, HTTP_HX_REQUEST="true"))
    assert 'data-testid="assessment-form"' in kam and 'data-testid="assessment-readonly"' not in kam


def test_compliance_cannot_post_from_the_panel(mapped: Any, web: Any) -> None:
    w = mapped.w
    url = reverse("relationships:person", args=[w.idn.pk, mapped.cfo.pk])
    resp = web("compliance").post(url, {"decision_role": "champion"}, HTTP_HX_REQUEST="true")
    assert resp.status_code in (403, 422)
    with pytest.raises(PermissionDenied):
        services.assessment_record(
            actor=w.users["compliance"], account_id=w.idn.pk, stakeholder_id=mapped.cfo.pk, decision_role="champion"
        )


def test_succeed_page_refuses_read_only_role_on_get_and_post(mapped: Any, web: Any) -> None:
    w = mapped.w
    url = reverse("relationships:succeed", args=[w.idn.pk, mapped.chief_pos.pk])
    client = web("compliance")
    resp = client.get(url)
    assert resp.status_code == 403 and "succeed-form" not in text(resp)
    before = Position.objects.count()
    assert client.post(url, {"stakeholder": mapped.fellow.pk, "valid_from": "2026-01-01"}).status_code == 403
    assert Position.objects.count() == before
    assert web("kam2").get(url).status_code == 404  # out of scope stays a 404
    assert web("kam").get(url).status_code == 200
