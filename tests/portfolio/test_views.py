"""Portfolio pages: the grouped catalogue for everyone, forms for administrators only."""

import pytest

from openkam.portfolio.models import Indication, Product

pytestmark = pytest.mark.django_db


def test_catalogue_is_grouped_by_therapeutic_area(catalogue, web):
    resp = web("kam").get("/portfolio/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert html.index("Cardiovascular") < html.index("Cardiovex") < html.index("Lipidra") < html.index("Oncology")
    assert "Chronic heart failure" in html  # approved indication shown
    assert "Post-MI remodelling" not in html  # not approved: not in the list of approved indications
    assert 'data-testid="add-product"' not in html  # read-only for a KAM


def test_admin_sees_the_add_and_edit_buttons(catalogue, web):
    html = web("admin").get("/portfolio/").content.decode()
    assert 'data-testid="add-product"' in html and 'data-testid="edit-ta-cardio"' in html


def test_filters(catalogue, web):
    html = web("kam").get("/portfolio/?status=launch").content.decode()
    assert "Tumorex" in html and "Cardiovex" not in html
    html = web("kam").get("/portfolio/?q=nothing-like-this").content.decode()
    assert "No product matches these filters" in html


def test_product_page_lists_indications_and_history(catalogue, web):
    resp = web("msl").get(f"/portfolio/products/{catalogue.cardiovex.pk}/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "Chronic heart failure" in html and "Post-MI remodelling" in html and "I50.22" in html
    assert 'data-testid="history"' in html
    assert 'data-testid="add-indication"' not in html
    assert web("msl").get("/portfolio/products/999999/").status_code == 404


def test_kam_cannot_open_the_forms(catalogue, web):
    kam = web("kam")
    assert kam.get("/portfolio/products/new/").status_code == 403
    assert kam.post("/portfolio/areas/new/", {"name": "X", "code": "x"}).status_code == 403
    assert kam.post(f"/portfolio/indications/{catalogue.hf.pk}/delete/").status_code == 403
    assert Indication.objects.filter(pk=catalogue.hf.pk).exists()


def test_admin_adds_a_product_and_an_indication_through_the_forms(catalogue, web):
    admin = web("admin")
    resp = admin.post(
        "/portfolio/products/new/",
        {"name": "Oncolix", "generic_name": "oncolixib", "therapeutic_area": catalogue.onco.pk, "status": "pipeline"},
    )
    product = Product.objects.get(name="Oncolix")
    assert resp.status_code == 302 and resp["Location"] == f"/portfolio/products/{product.pk}/"
    resp = admin.post(
        f"/portfolio/products/{product.pk}/indications/new/",
        {
            "name": "Melanoma",
            "icd10": "C43.9",
            "line_of_therapy": "1L",
            "approved": "on",
            "approval_date": "2026-01-02",
        },
    )
    assert resp.status_code == 302
    assert Indication.objects.get(product=product).icd10 == "C43.9"


def test_form_shows_the_services_error_next_to_the_field(catalogue, web):
    resp = web("admin").post(
        "/portfolio/products/new/",
        {"name": "Cardiovex", "generic_name": "again", "therapeutic_area": catalogue.cardio.pk, "status": "marketed"},
    )
    assert resp.status_code == 400
    assert 'data-testid="error-name"' in resp.content.decode()
    resp = web("admin").post(
        f"/portfolio/indications/{catalogue.hf.pk}/edit/",
        {"name": "Chronic heart failure", "icd10": "not a code", "approved": "on"},
    )
    assert resp.status_code == 400 and 'data-testid="error-icd10"' in resp.content.decode()


def test_admin_removes_an_indication(catalogue, web):
    resp = web("admin").post(f"/portfolio/indications/{catalogue.hf.pk}/delete/")
    assert resp.status_code == 302
    assert not Indication.objects.filter(pk=catalogue.hf.pk).exists()
