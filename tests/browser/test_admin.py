"""Administration in a real browser: an admin creates a user who then signs in; a KAM cannot get in."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import shot


def test_admin_creates_a_user_who_can_sign_in(page, login, personas):
    login("admin")
    page.get_by_test_id("nav-more").click()  # below 1600 px an admin's own areas share the "More" menu
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


def _header_fits(page, width: int) -> dict:
    page.set_viewport_size({"width": width, "height": 900})
    return page.evaluate(
        """() => {
        const menu = document.querySelector('[data-testid="user-menu"]').getBoundingClientRect();
        const nav = document.querySelector('nav.okam-navbar').getBoundingClientRect();
        const links = [...document.querySelectorAll('#okam-nav .navbar-nav.me-auto > li > .nav-link')]
            .filter(a => a.getBoundingClientRect().width > 0);
        const tops = new Set(links.map(a => Math.round(a.getBoundingClientRect().top)));
        const tall = links.filter(a => a.getBoundingClientRect().height > 48).map(a => a.textContent.trim());
        return {page: document.documentElement.scrollWidth, menuRight: menu.right, navHeight: nav.height,
                rows: tops.size, tall: tall, links: links.length};
    }"""
    )


def test_every_roles_header_fits_from_1280_px(page, login, personas):
    """Review item 9: the admin's header was 1589 px wide at 1400 px (user menu cut to "Tom"). Every role's
    header — all its menu items, the search and the user menu — fits on one line at 1280 px and wider."""
    admin = personas["admin"]
    admin.first_name, admin.last_name = "Kristina", "Montgomery-Ramirez"  # a long name
    admin.save(update_fields=["first_name", "last_name"])
    for role in ("admin", "kam", "lead", "compliance"):
        login(role)
        page.goto("/")
        for width in (1280, 1400, 1920):
            m = _header_fits(page, width)
            assert m["page"] <= width and m["menuRight"] <= width, (role, width, m)
            assert m["rows"] == 1 and not m["tall"] and m["navHeight"] < 70, (role, width, m)
            expect(page.get_by_test_id("user-menu")).to_be_visible()
            if width != 1920:
                shot(page, f"header-{role}-{width}")
        page.set_viewport_size({"width": 1400, "height": 900})
        page.get_by_test_id("user-menu").click()
        expect(page.get_by_test_id("user-menu-name")).to_be_visible()  # the name, also when the header hides it
        page.keyboard.press("Escape")
        if role in ("admin", "compliance"):  # their own areas: in the "More" menu below 1600 px, inline above
            page.get_by_test_id("nav-more").click()
            expect(page.get_by_role("link", name="Audit")).to_be_visible()
            page.set_viewport_size({"width": 1920, "height": 900})
            expect(page.get_by_test_id("nav-more")).to_be_hidden()
            expect(page.get_by_role("link", name="Audit")).to_be_visible()
        else:
            expect(page.get_by_test_id("nav-more")).to_have_count(0)
        page.set_viewport_size({"width": 1000, "height": 900})  # collapsed: the menu button lists every area
        expect(page.locator(".navbar-toggler")).to_be_visible()
        page.set_viewport_size({"width": 1400, "height": 900})
        page.context.clear_cookies()
