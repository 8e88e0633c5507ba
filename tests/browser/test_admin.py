"""Administration in a real browser: an admin creates a user who then signs in; a KAM cannot get in."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import shot


def test_admin_creates_a_user_who_can_sign_in(page, login, personas):
    login("admin")
    page.get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    shot(page, "admin-home")

    page.get_by_test_id("admin-nav").get_by_role("link", name="Users").click()
    expect(page.get_by_test_id("user-row-kam")).to_be_visible()
    shot(page, "admin-users")

    page.get_by_test_id("new-user").click()
    page.fill("#id_username", "nadia")
    page.fill("#id_first_name", "Nadia")
    page.fill("#id_last_name", "Novak")
    page.fill("#id_email", "nadia.novak@example.com")
    page.fill("#id_title", "Key Account Manager, Oncology")
    page.select_option("#id_role", "kam")
    page.select_option("#id_team", label="Northeast KAM team")
    page.select_option("#id_manager", label="Lena Lead · KAM lead")
    page.fill("#id_password", "Welcome-2026")
    page.fill("#id_password2", "Welcome-2026")
    shot(page, "admin-user-create")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text("Nadia Novak can now sign in as “nadia”.")).to_be_visible()
    expect(page.get_by_test_id("user-status")).to_have_text("active")
    shot(page, "admin-user-edit")

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    login("nadia", "Welcome-2026")
    expect(page.get_by_test_id("greeting")).to_contain_text("Nadia")
    expect(page.get_by_role("link", name="Administration")).to_have_count(0)


def test_form_errors_and_manager_cycle_are_shown_next_to_fields(page, login, personas):
    login("admin")
    page.goto("/admin-area/users/new/")
    page.fill("#id_username", "kam")
    page.fill("#id_password", "x")
    page.fill("#id_password2", "x")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_test_id("error-username")).to_have_text("This username is already taken.")

    page.goto(f"/admin-area/users/{personas['lead'].pk}/")
    page.select_option("#id_manager", label="Kim Kam · Key account manager")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_test_id("error-manager")).to_contain_text("management cycle")
    shot(page, "admin-manager-cycle")


def test_teams_and_territories(page, login, personas):
    login("admin")
    page.goto("/admin-area/territories/")
    page.get_by_test_id("new-territory").click()
    page.fill("#id_code", "us-ne")
    page.fill("#id_name", "US Northeast")
    page.fill("#id_description", "New England and New York")
    page.get_by_role("button", name="Create territory").click()
    expect(page.get_by_test_id("territory-table")).to_contain_text("US Northeast")
    shot(page, "admin-territories")

    page.goto("/admin-area/teams/")
    page.get_by_role("link", name="Northeast KAM team").first.click()
    page.get_by_label("US Northeast").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_test_id("team-table")).to_contain_text("US Northeast")
    shot(page, "admin-teams")


def test_kam_cannot_open_the_admin_area(page, login, personas):
    login("kam")
    expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    response = page.goto("/admin-area/users/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_deactivated_user_is_refused_at_the_login_page(page, login, personas):
    login("admin")
    page.goto(f"/admin-area/users/{personas['kam2'].pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.fill("#deact-reason", "left the company")
    page.get_by_test_id("deactivate-form").get_by_role("button", name="Deactivate").click()
    expect(page.get_by_test_id("user-status")).to_have_text("deactivated")
    expect(page.get_by_test_id("history")).to_contain_text("left the company")
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    login("kam2")
    expect(page.get_by_role("alert")).to_contain_text("did not match")
