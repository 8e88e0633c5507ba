"""Portfolio API per role: everyone reads, only administrators write, conflicts are 422 naming the field."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["kam", "msl", "access", "compliance", "admin"])
def test_every_role_reads(catalogue, api, role):
    status, body = api(role).get("portfolio/therapeutic-areas")
    assert status == 200
    assert [(t["name"], t["product_count"]) for t in body["items"]] == [("Cardiovascular", 2), ("Oncology", 1)]
    status, body = api(role).get("portfolio/products")
    assert status == 200 and body["count"] == 3
    status, body = api(role).get(f"portfolio/indications?product={catalogue.cardiovex.pk}")
    assert status == 200 and body["count"] == 2


def test_product_list_filters_and_paginates(catalogue, api):
    client = api("kam")
    _, body = client.get(f"portfolio/products?ta={catalogue.cardio.pk}")
    assert [p["name"] for p in body["items"]] == ["Cardiovex", "Lipidra"]
    _, body = client.get("portfolio/products?status=launch")
    assert [p["name"] for p in body["items"]] == ["Tumorex"]
    _, body = client.get("portfolio/products?q=VEXALI")
    assert [p["name"] for p in body["items"]] == ["Cardiovex"]
    _, body = client.get("portfolio/products?page_size=2&page=2")
    assert body["count"] == 3 and [p["name"] for p in body["items"]] == ["Tumorex"]
    status, body = client.get("portfolio/products?status=bogus")
    assert status == 422 and body["errors"][0]["field"] == "status"


def test_product_detail_shape(catalogue, api):
    status, body = api("msl").get(f"portfolio/products/{catalogue.cardiovex.pk}")
    assert status == 200
    assert body["therapeutic_area"] == {"id": catalogue.cardio.pk, "code": "cardio", "name": "Cardiovascular"}
    assert body["ndc"] == "12345-678-90" and body["launch_date"] == "2021-03-01"
    assert (body["indication_count"], body["approved_indication_count"]) == (2, 1)
    assert api("msl").get("portfolio/products/999999")[0] == 404


@pytest.mark.parametrize("role", ["kam", "msl", "compliance"])
def test_non_admin_writes_are_forbidden(catalogue, api, role):
    client = api(role)
    status, body = client.post("portfolio/therapeutic-areas", {"code": "derm", "name": "Dermatology"})
    assert status == 403 and body["code"] in {"admin_only", "read_only_role"}
    status, _ = client.post(
        "portfolio/products", {"name": "X", "generic_name": "y", "therapeutic_area": catalogue.cardio.pk}
    )
    assert status == 403
    assert client.patch(f"portfolio/products/{catalogue.cardiovex.pk}", {"status": "withdrawn"})[0] == 403
    assert client.post("portfolio/indications", {"product": catalogue.lipidra.pk, "name": "HoFH"})[0] == 403
    assert client.patch(f"portfolio/indications/{catalogue.hf.pk}", {"line_of_therapy": "1L"})[0] == 403
    assert client.delete(f"portfolio/indications/{catalogue.hf.pk}")[0] == 403


def test_admin_creates_and_updates(catalogue, api):
    admin = api("admin")
    status, ta = admin.post("portfolio/therapeutic-areas", {"code": "Derm", "name": "Dermatology"})
    assert status == 201 and ta["code"] == "derm" and ta["product_count"] == 0
    status, product = admin.post(
        "portfolio/products",
        {"name": "Dermaclear", "generic_name": "dermumab", "therapeutic_area": ta["id"], "status": "pipeline"},
    )
    assert status == 201 and product["therapeutic_area"]["name"] == "Dermatology"
    status, product = admin.patch(
        f"portfolio/products/{product['id']}", {"status": "launch", "launch_date": "2026-01-15", "ndc": "12345-6789-1"}
    )
    assert status == 200 and (product["status"], product["launch_date"]) == ("launch", "2026-01-15")
    status, ind = admin.post(
        "portfolio/indications",
        {"product": product["id"], "name": "Plaque psoriasis", "icd10": "l40.0", "approval_date": "2025-12-01"},
    )
    assert status == 201 and ind["icd10"] == "L40.0" and ind["approved"] is True
    status, ind = admin.patch(f"portfolio/indications/{ind['id']}", {"line_of_therapy": "2L"})
    assert status == 200 and ind["line_of_therapy"] == "2L"
    status, ta = admin.patch(f"portfolio/therapeutic-areas/{ta['id']}", {"description": "Skin"})
    assert status == 200 and ta["description"] == "Skin" and ta["product_count"] == 1
    assert admin.delete(f"portfolio/indications/{ind['id']}")[0] == 204
    assert admin.get(f"portfolio/indications/{ind['id']}")[0] == 404


def test_unique_name_conflicts_are_422_naming_the_field(catalogue, api):
    admin = api("admin")
    status, body = admin.post("portfolio/therapeutic-areas", {"code": "heart", "name": "Cardiovascular"})
    assert status == 422 and [e["field"] for e in body["errors"]] == ["name"]
    status, body = admin.post(
        "portfolio/products", {"name": "Tumorex", "generic_name": "z", "therapeutic_area": catalogue.onco.pk}
    )
    assert status == 422 and [e["field"] for e in body["errors"]] == ["name"]
    status, body = admin.patch(f"portfolio/products/{catalogue.lipidra.pk}", {"name": "Cardiovex"})
    assert status == 422 and [e["field"] for e in body["errors"]] == ["name"]
    status, body = admin.post(
        "portfolio/indications", {"product": catalogue.cardiovex.pk, "name": "Chronic Heart Failure"}
    )
    assert status == 422 and [e["field"] for e in body["errors"]] == ["name"]
    status, body = admin.post("portfolio/products", {"name": "New", "generic_name": "n", "therapeutic_area": 999999})
    assert status == 422 and body["errors"][0]["field"] == "therapeutic_area"
    status, body = admin.patch(f"portfolio/products/{catalogue.lipidra.pk}", {"ndc": "abc"})
    assert status == 422 and body["errors"][0]["field"] == "ndc"


def test_missing_rows_are_404(catalogue, api):
    client = api("admin")
    assert client.get("portfolio/therapeutic-areas/999999")[0] == 404
    assert client.patch("portfolio/products/999999", {"status": "launch"})[0] == 404
    assert client.get("portfolio/indications/999999")[0] == 404
