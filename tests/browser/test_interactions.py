"""Interactions in a real browser: a KAM logs a visit through the form (HTMX pickers) and finds it in the
list; the MSL never sees it because it is commercial-only."""

import re

import pytest
from playwright.sync_api import expect

from openkam.activities.models import Interaction
from tests.activities.conftest import scene  # noqa: F401  (fixture)
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_kam_logs_an_interaction_and_msl_does_not_see_it(scene, page, login):  # noqa: F811
    login("kam")
    page.goto("/interactions/")
    expect(page.get_by_role("heading", name="Interactions")).to_be_visible()
    shot(page, "interactions-list-kam-before")
    page.get_by_test_id("log-interaction").click()
    expect(page.get_by_text("Choose the account first")).to_be_visible()

    # the account is found by searching the book (HTMX options); choosing it loads its people and plans (HTMX)
    page.get_by_test_id("picker-account").fill("Beacon General")
    expect(page.locator("#id_account option", has_text="Beacon Health System")).to_have_count(0)  # narrowed
    page.select_option("[data-testid=account-select]", label="Beacon General Hospital")
    expect(page.get_by_text("Dr. Ada Heart, MD")).to_be_visible()
    expect(page.get_by_text("Cora Harbor")).to_have_count(0)
    page.fill("#id_subject", "Budget impact model walkthrough")
    page.fill("#id_notes", "Pharmacy director asked for the budget impact model before the March P&T.")
    page.fill("#id_duration_minutes", "40")
    page.check(f"#sh-{scene.cardiologist.pk}")
    page.select_option("#id_plan_link", value=f"a{scene.commercial_action.pk}")
    # a colleague is found by name; the people already picked (the author) stay picked
    page.get_by_test_id("picker-participants").fill("Lena")
    expect(page.locator("#id_participants option", has_text="Kim Kam")).to_have_count(1)
    expect(page.locator("#id_participants option", has_text="Mia Msl")).to_have_count(0)
    page.select_option("#id_participants", label=["Kim Kam · Key account manager", "Lena Lead · KAM lead"])
    shot(page, "interactions-form-filled")
    page.get_by_test_id("save-interaction").click()

    expect(page.get_by_test_id("interaction-subject")).to_have_text("Budget impact model walkthrough")
    expect(page.get_by_test_id("linked-tactic")).to_have_text("P&T dossier")
    expect(page.get_by_test_id("classification")).to_have_text("Commercial only")
    shot(page, "interactions-detail")
    created = Interaction.objects.get(subject="Budget impact model walkthrough")
    assert created.action == scene.commercial_action and list(created.stakeholders.all()) == [scene.cardiologist]
    assert {u.username for u in created.participants.all()} == {"kam", "lead"}

    page.goto("/interactions/")
    row = page.get_by_test_id("interaction-row").filter(has_text="Budget impact model walkthrough")
    expect(row).to_be_visible()
    expect(row.get_by_text("Dr. Ada Heart, MD")).to_be_visible()
    expect(row.get_by_test_id("classification")).to_have_text("Commercial only")
    shot(page, "interactions-list-kam")

    # the medical colleague on the same account never sees it
    page.context.clear_cookies()
    login("msl")
    page.goto("/interactions/")
    expect(page.get_by_text("Trial data exchange")).to_be_visible()
    expect(page.get_by_text("Budget impact model walkthrough")).to_have_count(0)
    expect(page.get_by_text("Formulary discussion")).to_have_count(0)
    shot(page, "interactions-list-msl")
    response = page.goto(f"/interactions/{created.pk}/")
    assert response is not None and response.status == 404


def test_filters_narrow_the_list(scene, page, login):  # noqa: F811
    login("kam")
    page.goto("/interactions/")
    page.select_option("#f-channel", value="digital")
    page.get_by_test_id("apply-filters").click()
    expect(page).to_have_url(re.compile(r"channel=digital"))
    expect(page.get_by_test_id("interaction-row")).to_have_count(1)
    expect(page.get_by_text("Heart failure webinar")).to_be_visible()
    shot(page, "interactions-list-filtered")


def test_msl_form_offers_only_medical_and_joint(scene, page, login):  # noqa: F811
    login("msl")
    page.goto(f"/interactions/new/?account={scene.world.idn.pk}")
    options = page.locator("#id_classification option").all_inner_texts()
    assert options == ["Medical only", "Joint"]
    expect(page.get_by_text("Dr. Ada Heart, MD")).to_be_visible()
    shot(page, "interactions-form-msl")


def test_author_edits_then_deletes_through_the_modal(scene, page, login):  # noqa: F811
    login("kam")
    page.goto(f"/interactions/{scene.commercial.pk}/")
    page.get_by_test_id("edit-interaction").click()
    expect(page.locator("#id_subject")).to_have_value("Formulary discussion")
    expect(page.locator(f"#sh-{scene.cardiologist.pk}")).to_be_checked()
    page.fill("#id_subject", "Formulary discussion with pharmacy")
    page.check(f"#sh-{scene.pharmacist.pk}")
    page.fill("#edit-reason", "pharmacist joined")
    shot(page, "interactions-edit")
    page.get_by_test_id("save-interaction").click()
    expect(page.get_by_test_id("interaction-subject")).to_have_text("Formulary discussion with pharmacy")
    expect(page.get_by_test_id("interaction-stakeholders")).to_contain_text("Ben Pill, PharmD")
    expect(page.get_by_test_id("history")).to_contain_text("pharmacist joined")
    shot(page, "interactions-detail-after-edit")

    page.get_by_test_id("delete-interaction").click()
    page.fill("#delete-reason", "logged twice")
    shot(page, "interactions-delete-modal")
    page.get_by_test_id("confirm-delete").click()
    expect(page.get_by_role("alert")).to_contain_text("deleted")
    expect(page.get_by_test_id("interaction-row").filter(has_text="Formulary discussion")).to_have_count(0)
    assert not Interaction.objects.filter(pk=scene.commercial.pk).exists()


def test_form_errors_keep_the_input(scene, page, login):  # noqa: F811
    login("kam")
    page.goto(f"/interactions/new/?account={scene.world.hospital.pk}")
    page.fill("#id_notes", "Quick note")
    page.check(f"#sh-{scene.cardiologist.pk}")
    page.get_by_test_id("save-interaction").click()  # no subject
    expect(page.get_by_test_id("error-subject")).to_be_visible()
    expect(page.locator("#id_notes")).to_have_value("Quick note")
    expect(page.locator(f"#sh-{scene.cardiologist.pk}")).to_be_checked()
    shot(page, "interactions-form-errors")


def test_kam_finds_a_person_at_a_big_account_by_search(scene, page, login):  # noqa: F811
    from tests import factories as f

    for i in range(70):
        f.PositionFactory(
            stakeholder=f.StakeholderFactory(first_name=f"Nurse{i:02d}", last_name="Crowd"),
            account=scene.world.hospital,
            title="Nurse",
        )
    late = f.StakeholderFactory(first_name="Vera", last_name="Zylinski")
    f.PositionFactory(stakeholder=late, account=scene.world.hospital, title="Chief Medical Officer")
    login("kam")
    page.goto(f"/interactions/new/?account={scene.world.hospital.pk}")
    expect(page.get_by_test_id("people-hidden")).to_be_visible()
    expect(page.locator(f"#sh-{late.pk}")).to_have_count(0)  # not in the first page of people
    page.get_by_test_id("people-search").fill("zylinski")
    page.locator(f"#okam-people-results #sh-{late.pk}").check()
    page.get_by_test_id("people-search").fill("crowd nurse05")  # a new search keeps Vera ticked
    expect(page.locator("#okam-people-results [data-testid=person-row]")).to_have_count(1)
    expect(page.locator(f"#okam-people-chosen #sh-{late.pk}")).to_be_checked()
    shot(page, "interactions-form-people-search")
    page.fill("#id_subject", "Introduction to the new CMO")
    page.get_by_test_id("save-interaction").click()
    expect(page.get_by_test_id("interaction-subject")).to_have_text("Introduction to the new CMO")
    assert list(Interaction.objects.get(subject="Introduction to the new CMO").stakeholders.all()) == [late]


def test_contact_link_opens_with_the_person_ticked(scene, page, login):  # noqa: F811
    """Review item 5: a coverage finding's "Log or plan a contact" (?account=…&stakeholder=…) opens the form
    with the account chosen and that person ticked; the department is named with its hospital."""
    login("kam")
    page.goto(f"/interactions/new/?account={scene.world.hospital.pk}&stakeholder={scene.cardiologist.pk}")
    expect(page.locator(f"#sh-{scene.cardiologist.pk}")).to_be_checked()
    expect(page.locator("[data-testid=account-select] option:checked")).to_have_text("Beacon General Hospital")
    expect(page.get_by_test_id("person-row").filter(has_text="Dr. Ada Heart")).to_contain_text(
        "Cardiology · Beacon General Hospital"
    )
    shot(page, "interaction-from-finding")
