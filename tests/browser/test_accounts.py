"""Accounts in a real browser: list, search, Account 360, team, and the create form's validation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.accounts.conftest import BAD_NPI, build_showcase
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_kam_searches_the_list_and_opens_account_360(world, page, login):
    build_showcase(world)
    login("kam")
    page.goto("/accounts/")
    expect(page.get_by_test_id("account-table")).to_be_visible()
    expect(page.get_by_test_id("account-table")).to_contain_text("Beacon General Hospital")
    expect(page.get_by_test_id("account-table")).not_to_contain_text("Harbor Medical Center")  # kam2's account
    shot(page, "accounts-list")

    page.fill("#id_q", "220071")  # search by CMS CCN
    page.get_by_test_id("account-search").click()
    rows = page.get_by_test_id("account-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Beacon General Hospital")

    page.fill("#id_q", "Beacon Health")
    page.get_by_test_id("account-search").click()
    page.get_by_role("link", name="Beacon Health System").click()
    expect(page.get_by_test_id("account-name")).to_have_text("Beacon Health System")
    children = page.get_by_test_id("children")
    expect(children).to_contain_text("Beacon General Hospital")
    general = page.get_by_test_id("child-row").filter(has_text="Beacon General Hospital")
    expect(general.get_by_test_id("child-descendants")).to_have_text("2")  # Cardiology, Oncology
    expect(general.get_by_test_id("child-stakeholders")).to_have_text("4")  # Clarke, Romero, Becker, Haddad
    team = page.get_by_test_id("account-team")
    expect(team).to_contain_text("Kim Kam")
    expect(team).to_contain_text("Mia Msl")
    positions = page.get_by_test_id("positions")
    expect(positions).to_contain_text("via Cardiology")
    expect(positions.get_by_test_id("vacated")).to_have_count(1)
    expect(page.get_by_test_id("account-affiliations")).to_contain_text("Vizient")
    shot(page, "accounts-360")

    page.get_by_test_id("tab-history").click()
    history = page.get_by_test_id("history-pane")
    expect(history).to_be_visible()
    expect(history).to_contain_text("kam_level")  # the admin's update, with its diff
    expect(history).to_contain_text("Account affiliation")  # readable model name

    page.get_by_test_id("tab-overview").click()
    page.get_by_test_id("children").get_by_role("link", name="Beacon General Hospital").click()
    expect(page.get_by_test_id("ancestors")).to_contain_text("Beacon Health System")


def test_kam_adds_a_team_member_in_place(world, page, login):
    login("kam")
    page.goto(f"/accounts/{world.hospital.pk}/")
    page.get_by_test_id("team-add-toggle").click()
    page.select_option("#team_user_id", str(world.users["lead"].pk))
    page.select_option("#team_role", "executive_sponsor")
    page.fill("#team_start_date", "2025-03-01")
    page.get_by_test_id("team-add-save").click()
    team = page.get_by_test_id("account-team")
    expect(team).to_contain_text("Lena Lead added to the team.")
    expect(team.get_by_test_id("team-member").filter(has_text="Lena Lead")).to_contain_text("Executive sponsor")
    team.get_by_test_id("team-member").filter(has_text="Lena Lead").get_by_test_id("team-end").click()
    expect(team).to_contain_text("Lena Lead is no longer on the team.")
    expect(team.get_by_test_id("team-member").filter(has_text="Lena Lead")).to_have_count(0)


def test_create_account_shows_a_bad_npi_then_succeeds(world, page, login):
    login("kam")
    page.goto("/accounts/")
    page.get_by_test_id("account-create").click()
    page.fill("#id_name", "Riverside Cancer Clinic")
    page.select_option("#id_type", "clinic")
    page.fill("#id_city", "Worcester")
    page.fill("#id_npi", BAD_NPI)
    page.get_by_test_id("account-save").click()
    expect(page.get_by_test_id("error-npi")).to_contain_text("check digit")
    shot(page, "accounts-create-error")
    page.fill("#id_npi", "2987654326")
    page.get_by_test_id("account-save").click()
    expect(page.get_by_test_id("account-name")).to_have_text("Riverside Cancer Clinic")
    expect(page.get_by_test_id("account-npi")).to_have_text("2987654326")
    expect(page.get_by_test_id("account-team")).to_contain_text("Account lead")  # the creator joined its team


def test_move_with_the_account_picker_refuses_a_cycle_then_moves(world, page, login):
    login("kam")
    page.goto(f"/accounts/{world.department.pk}/")
    page.get_by_test_id("account-move").click()
    page.get_by_test_id("picker-parent_id").fill("North")
    expect(page.locator("#id_parent_id option")).to_have_count(2)  # "—" and Beacon North Hospital
    page.select_option("#id_parent_id", str(world.hospital2.pk))
    page.get_by_test_id("move-save").click()
    expect(page.get_by_test_id("ancestors")).to_contain_text("Beacon North Hospital")

    page.goto(f"/accounts/{world.idn.pk}/move/")
    page.get_by_test_id("picker-parent_id").fill("Cardio")
    expect(page.locator("#id_parent_id option")).to_have_count(2)  # a descendant is never offered...
    expect(page.locator("#id_parent_id")).not_to_contain_text("Cardiology")
    expect(page.locator("#id_parent_id")).to_contain_text("No matching account")


def test_kam_opens_an_account_adds_a_stakeholder_position_and_sees_it(world, page, login):
    from tests import factories as f

    romero = f.StakeholderFactory(prefix="Dr.", first_name="Lucia", last_name="Romero", credentials="MD")
    f.PositionFactory(stakeholder=romero, account=world.department, title="Chief of Cardiology")
    login("kam")
    page.goto("/accounts/")
    page.get_by_test_id("account-table").get_by_role("link", name="Beacon General Hospital").click()
    expect(page.get_by_test_id("account-name")).to_have_text("Beacon General Hospital")
    page.get_by_test_id("position-add").click()
    expect(page.get_by_test_id("position-form")).to_be_visible()
    page.select_option("#id_stakeholder", str(romero.pk))
    page.fill("#id_title", "Chair, P&T Committee")
    page.select_option("#id_role_in_decision", "decision_maker")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("account-name")).to_have_text("Beacon General Hospital")  # back on Account 360
    row = page.get_by_test_id("position-row").filter(has_text="Chair, P&T Committee")
    expect(row).to_contain_text("Dr. Lucia Romero, MD")
    expect(row).to_contain_text("this account")
    expect(page.get_by_test_id("position-row").filter(has_text="Chief of Cardiology")).to_contain_text("via Cardiology")
    shot(page, "accounts-360-position-added")
