"""Stakeholders in a real browser: list, a person's page, add a position with the pickers, end it (vacated),
and a bad NPI shown next to its field."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from openkam.stakeholders.models import Position, Stakeholder
from tests.browser.conftest import shot
from tests.stakeholders.conftest import (  # noqa: F401  (fixtures)
    bad_check_digit,
    build_showcase,
    make_npi,
    nucc_taxonomy,
    people,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_kam_maps_a_role_and_ends_it(world, people, page, login):  # noqa: F811
    build_showcase(world)
    login("kam")
    page.goto("/stakeholders/")
    table = page.get_by_test_id("stakeholder-table")
    expect(table).to_contain_text("Dr. Ada Chen, MD")
    expect(table).to_contain_text("Chief of Cardiology")
    expect(table).not_to_contain_text("Harbor")  # kam2's account
    expect(page.get_by_test_id("stakeholder-row")).to_have_count(9)
    shot(page, "stakeholders-list")

    page.fill("#f-q", "chen")
    page.get_by_test_id("filter-apply").click()
    expect(page.get_by_test_id("stakeholder-row")).to_have_count(1)
    page.get_by_role("link", name="Dr. Ada Chen, MD").click()
    expect(page.get_by_test_id("stakeholder-name")).to_have_text("Dr. Ada Chen, MD")
    expect(page.get_by_test_id("consent")).to_contain_text("Consents to email")
    expect(page.get_by_test_id("position-current")).to_have_count(1)
    shot(page, "stakeholders-detail")

    # add a position: pick the account with the search box (HTMX), then the committee list follows the account
    page.get_by_test_id("position-add").click()
    expect(page.get_by_test_id("fixed-stakeholder")).to_contain_text("Ada Chen")
    page.get_by_test_id("picker-account").fill("north")
    expect(page.locator("#id_account option", has_text="Beacon North Hospital")).to_have_count(1)
    page.select_option("#id_account", label="Beacon North Hospital")
    page.fill("#id_title", "Visiting Cardiologist")
    page.select_option("#id_role_in_decision", "influencer")
    shot(page, "stakeholders-position-add")
    page.get_by_test_id("submit").click()

    expect(page.get_by_test_id("position-current")).to_have_count(2)
    row = page.get_by_test_id("position-current").filter(has_text="Visiting Cardiologist")
    expect(row).to_contain_text("Beacon North Hospital")
    pid = Position.objects.get(title="Visiting Cardiologist").pk

    # end it: the modal asks for the last day; the role then shows as vacated, and its history stays
    page.get_by_test_id(f"position-end-{pid}").click()
    expect(page.get_by_test_id(f"end-form-{pid}")).to_be_visible()
    expect(page.locator(f"#end-{pid}")).to_have_class(re.compile(r"\bshow\b"))
    page.wait_for_timeout(400)  # let the fade-in finish before the screenshot
    page.fill(f"#end-{pid}-reason", "Rotation finished")
    shot(page, "stakeholders-position-end")
    page.get_by_test_id(f"end-submit-{pid}").click()
    past = page.get_by_test_id("position-past")
    expect(past).to_have_count(1)
    expect(past).to_contain_text("Visiting Cardiologist")
    expect(past.get_by_test_id("vacated")).to_contain_text("vacated since")
    expect(page.get_by_test_id("position-current")).to_have_count(1)
    expect(page.get_by_test_id("history")).to_contain_text("Rotation finished")
    shot(page, "stakeholders-detail-vacated")
    assert Position.objects.get(pk=pid).valid_to is not None


def test_bad_npi_shows_the_error_next_to_the_field(world, page, login):
    login("kam")
    page.goto(f"/stakeholders/positions/add/?account={world.hospital.pk}")
    expect(page.get_by_test_id("mode-existing")).to_have_class(re.compile("active"))
    shot(page, "stakeholders-add-at-account")
    page.get_by_test_id("mode-new").click()
    page.fill("#id_prefix", "Dr.")
    page.fill("#id_first_name", "Grace")
    page.fill("#id_last_name", "Hopper")
    page.fill("#id_credentials", "MD")
    page.fill("#id_npi", bad_check_digit(make_npi(555)))
    page.get_by_test_id("picker-specialty").fill("cardiovascular disease")
    expect(page.locator("#id_specialty option", has_text="Cardiovascular Disease Physician")).to_have_count(1)
    page.select_option("#id_specialty", "207RC0000X")
    page.fill("#id_title", "Head of Heart Failure Clinic")
    page.get_by_test_id("submit").click()

    error = page.get_by_test_id("field-npi").get_by_test_id("error-npi")
    expect(error).to_be_visible()
    expect(error).to_contain_text("check digit")
    expect(page.locator("#id_specialty")).to_have_value("207RC0000X")  # the choice survives the round trip
    shot(page, "stakeholders-bad-npi")
    assert not Stakeholder.objects.filter(last_name="Hopper").exists()

    page.fill("#id_npi", make_npi(555))
    page.get_by_test_id("submit").click()
    page.wait_for_url(lambda url: "/positions/add/" not in url)
    expect(page.locator(".alert-success")).to_contain_text("Grace Hopper, MD was added")
    s = Stakeholder.objects.get(last_name="Hopper")
    assert s.specialty_id == "207RC0000X"


def test_committee_page_names_places_and_hides_judgements_from_medical(world, people, page, login):  # noqa: F811
    """Review items 1 and 3: the seat picker names a department with its hospital; medical sees the seats
    (chair, voting member) but no decision role — no column, no field."""
    dept_pos = Position.objects.create(
        stakeholder=people.patel, account=world.department, title="Cardiology pharmacist", valid_from="2025-01-01"
    )
    Position.objects.filter(pk=people.chen_chief.pk).update(committee_role="chair", role_in_decision="champion")
    url = f"/stakeholders/committees/{people.pt_committee.pk}/"
    login("kam")
    page.goto(url)
    members = page.get_by_test_id("committee-members")
    expect(members).to_contain_text("Champion")
    expect(members).to_contain_text("Chair")
    option = page.locator("#id_position option", has_text="Ravi Patel")
    expect(option).to_have_text("Ravi Patel, PharmD — Cardiology pharmacist (Cardiology · Beacon General Hospital)")
    page.select_option("#id_position", str(dept_pos.pk))
    page.select_option("#id_committee_role", "secretary")
    shot(page, "committee-kam")
    page.get_by_test_id("member-submit").click()
    expect(page.get_by_test_id("member-row")).to_have_count(2)
    expect(page.get_by_test_id("committee-members")).to_contain_text("Cardiology · Beacon General Hospital")

    page.context.clear_cookies()
    login("msl")
    page.goto(url)
    members = page.get_by_test_id("committee-members")
    expect(members).to_contain_text("Dr. Ada Chen, MD")
    expect(members).to_contain_text("Chair")
    expect(members).not_to_contain_text("Champion")
    expect(members).not_to_contain_text("Role in decision")
    expect(page.locator("#id_role_in_decision")).to_have_count(0)
    shot(page, "committee-msl")
    page.goto(f"/stakeholders/{people.chen.pk}/")
    expect(page.get_by_test_id("positions")).not_to_contain_text("Role in decision")
    expect(page.get_by_test_id("positions")).not_to_contain_text("Champion")
