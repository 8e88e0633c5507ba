"""The start page ("My work"): KPIs, my open actions, my plans, recent interactions — only what I may see."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.workspace.conftest import add_work

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login():
    resp = Client().get("/")
    assert resp.status_code == 302 and resp["Location"].startswith("/login/")


def test_kam_sees_their_kpis(web, book):
    resp = web("kam").get("/")
    assert resp.status_code == 200
    ctx = resp.context
    assert ctx["kpi"] == {
        "accounts": 4,  # the IDN, its two hospitals and the department
        "open_actions": 3,  # overdue, soon, later — not done, not medical-only, not on kam2's account
        "overdue_actions": 1,
        "interactions_30d": 1,  # logged by kam in the last 30 days (the 45-day-old call is out)
    }
    html = resp.content.decode()
    assert 'data-testid="kpi-accounts">4<' in html and 'data-testid="kpi-overdue">1<' in html


def test_my_actions_soonest_first_and_never_out_of_scope(web, book):
    resp = web("kam").get("/")
    titles = [a.title for a in resp.context["actions"]]
    assert titles == ["Send budget impact model", "Book P&T pre-meeting", "Draft value dossier"]
    html = resp.content.decode()
    assert "Harbor secret action" not in html and "Brief the MSL" not in html and "Map the committee" not in html
    assert "overdue" in html


def test_recent_interactions_respect_scope_and_classification(web, book):
    kam_html = web("kam").get("/").content.decode()
    assert "Visit pharmacy director" in kam_html
    assert "Medical exchange on data" not in kam_html  # medical-only: hidden from commercial roles
    assert "Harbor lunch" not in kam_html  # kam2's account
    msl_html = web("msl").get("/").content.decode()
    assert "Medical exchange on data" in msl_html and "Visit pharmacy director" not in msl_html


def test_my_plans_with_status(web, book):
    resp = web("kam").get("/")
    assert [p.name for p in resp.context["plans"]] == ["Beacon 2026 plan"]
    html = resp.content.decode()
    assert "Beacon 2026 plan" in html and "Active" in html and "Harbor plan" not in html
    assert "Harbor plan" in web("kam2").get("/").content.decode()


def test_lead_sees_plans_waiting_for_review(web, book):
    book.plan.status = "in_review"
    book.plan.save()
    resp = web("lead").get("/")
    assert [p.name for p in resp.context["review_plans"]] == ["Beacon 2026 plan"]
    assert "Waiting for your review" in resp.content.decode()


@pytest.mark.parametrize("who", ["kam", "kam2", "lead", "msl", "access", "compliance", "admin"])
def test_every_role_gets_a_start_page(web, world, who):
    resp = web(who).get("/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'data-testid="kpis"' in html
    assert resp.context["can_write"] == (who != "compliance")  # compliance gets no "log" / "new plan" buttons


def test_empty_book_explains_what_to_do(web, personas):
    html = web("kam").get("/").content.decode()
    assert "Nothing assigned to you is open" in html and "No interactions yet" in html


def test_home_query_count_does_not_grow_with_data(web, world):
    client = web("kam")
    add_work(world)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for i in range(9):
        add_work(world, suffix=f" #{i}")
    assert count() == small
