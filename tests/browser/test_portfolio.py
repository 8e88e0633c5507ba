"""Portfolio in a real browser: an administrator builds the catalogue; a KAM reads it, grouped by
therapeutic area, without any edit buttons."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.portfolio.conftest import catalogue  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_adds_a_product_and_its_indication(catalogue, page, login):  # noqa: F811
    login("admin")
    page.goto("/portfolio/")
    expect(page.get_by_test_id("edit-ta-cardio")).to_be_visible()
    shot(page, "portfolio-list-admin")
    page.get_by_test_id("add-product").click()
    page.fill("#id_name", "Oncolix")
    page.fill("#id_generic_name", "oncolixib")
    page.select_option("#id_therapeutic_area", label="Oncology")
    page.select_option("#id_status", value="launch")
    page.fill("#id_launch_date", "2026-02-01")
    page.fill("#id_ndc", "12345-6789-01")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("product-name")).to_have_text("Oncolix")

    page.get_by_test_id("add-indication").first.click()
    page.fill("#id_name", "Metastatic melanoma")
    page.fill("#id_icd10", "c43.9")
    page.fill("#id_line_of_therapy", "1L")
    page.fill("#id_approval_date", "2026-01-20")
    page.get_by_role("button", name="Save").click()
    row = page.get_by_test_id("indication-row").filter(has_text="Metastatic melanoma")
    expect(row).to_contain_text("C43.9")
    expect(row).to_contain_text("Approved")
    expect(page.get_by_test_id("history")).to_be_visible()
    shot(page, "portfolio-product-admin")

    # a duplicate brand name is refused on the field
    page.goto("/portfolio/products/new/")
    page.fill("#id_name", "Cardiovex")
    page.fill("#id_generic_name", "again")
    page.select_option("#id_therapeutic_area", label="Cardiovascular")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("error-name")).to_be_visible()
    shot(page, "portfolio-form-error")


def test_kam_reads_the_grouped_catalogue(catalogue, page, login):  # noqa: F811
    login("kam")
    page.goto("/portfolio/")
    cardio = page.get_by_test_id("ta-cardio")
    expect(cardio.get_by_test_id("product-row")).to_have_count(2)
    expect(cardio).to_contain_text("Chronic heart failure")
    expect(page.get_by_test_id("ta-onco")).to_contain_text("Tumorex")
    expect(page.get_by_test_id("add-product")).to_have_count(0)
    shot(page, "portfolio-list-kam")
    page.get_by_role("link", name="Cardiovex").click()
    expect(page.get_by_test_id("indication-row")).to_have_count(2)
    expect(page.get_by_test_id("add-indication")).to_have_count(0)
    shot(page, "portfolio-product-kam")
