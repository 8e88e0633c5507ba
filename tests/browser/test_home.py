"""Signing in and the start page in a real browser: bad password, KPIs, global search, language."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.workspace.conftest import add_work


def test_wrong_password_shows_an_error(page, login, personas):
    login("kam", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("did not match")
    assert page.url.endswith("/login/")
    shot(page, "login-wrong-password")


def test_home_shows_my_work(page, login, world):
    add_work(world)
    login("kam")
    expect(page.get_by_test_id("greeting")).to_contain_text("Kim")
    expect(page.get_by_test_id("kpi-accounts")).to_have_text("4")
    expect(page.get_by_test_id("kpi-open-actions")).to_have_text("3")
    expect(page.get_by_test_id("kpi-overdue")).to_have_text("1")
    expect(page.get_by_test_id("kpi-interactions")).to_have_text("1")
    expect(page.get_by_test_id("action-row")).to_have_count(3)
    expect(page.get_by_test_id("my-plans")).to_contain_text("Beacon 2026 plan")
    expect(page.get_by_test_id("recent-interactions")).to_contain_text("Visit pharmacy director")
    expect(page.get_by_test_id("recent-interactions")).not_to_contain_text("Harbor lunch")
    shot(page, "home-kam")


def test_search_finds_what_kam_may_see_and_not_the_rest(page, login, world):
    login("kam")
    page.get_by_test_id("nav-search").fill("Medical")
    page.get_by_test_id("nav-search").press("Enter")
    expect(page.get_by_test_id("search-summary")).to_be_visible()
    expect(page.get_by_test_id("search-accounts")).not_to_contain_text("Harbor Medical Center")
    page.get_by_test_id("nav-search").fill("Beacon")
    page.get_by_test_id("nav-search").press("Enter")
    expect(page.get_by_test_id("search-account")).to_have_count(3)
    expect(page.get_by_test_id("search-accounts")).to_contain_text("Beacon General Hospital")
    shot(page, "search-kam")


def test_switch_to_german(page, login, world):
    login("kam")
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("language-de").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_test_id("kpis")).to_contain_text("Meine offenen Maßnahmen")
    expect(page.get_by_role("navigation")).to_contain_text("Interaktionen")
    shot(page, "home-kam-de")
