"""Edge cases the API fuzzer (tests/api/test_fuzz.py) found: every answer under /api/v1/ is JSON in the error
format and documented, whatever the path, method, page number or characters sent."""

import json

import pytest
from django.test import Client

from openkam.core.api import MAX_PAGE
from openkam.core.api import api as ninja_api

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"code", "message", "errors"}


def test_a_path_no_endpoint_matches_is_a_json_404(api):
    for path in ("nothing/here", "accounts/null,null", "plans/abc", "accounts/1/nothing"):
        status, body = api("kam").get(path)
        assert status == 404 and set(body) == ERROR_KEYS and body["code"] == "not_found", path
    # without a token too (nothing to authenticate: no such endpoint)
    response = Client().get("/api/v1/nothing/here")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_missing_trailing_slash_still_redirects(api):
    kam = api("kam")
    kam.get("/api/v1/accounts")
    assert kam.last_response.status_code == 301
    assert kam.last_response["Location"] == "/api/v1/accounts/"


def test_a_method_the_endpoint_does_not_take_is_a_json_405(api):
    kam = api("kam")
    status, body = kam.put("accounts/", {})
    assert status == 405 and set(body) == ERROR_KEYS and body["code"] == "method_not_allowed"
    assert set(kam.last_response["Allow"].split(", ")) == {"GET", "POST"}


def test_a_page_past_the_last_possible_one_is_a_422_not_a_500(world, api):
    status, body = api("kam").get(f"accounts/?page={MAX_PAGE + 1}")
    assert status == 422 and body["errors"][0]["field"] == "page"
    status, body = api("kam").get(f"stakeholders/committees?page={10**22}&page_size=2000")
    assert status == 422 and body["errors"][0]["field"] == "page"
    status, body = api("kam").get(f"plans/?page={MAX_PAGE}&page_size=200")
    assert status == 200 and body["items"] == []


def test_nul_characters_are_dropped_from_filters_and_refused_in_fields(world, api):
    admin = api("admin")
    status, body = admin.get("stakeholders/specialties?q=card%00iology")
    assert status == 200 and body["count"] > 0
    assert admin.get("portfolio/products?q=%00")[0] == 200
    assert admin.get("admin/users?q=k%00am")[0] == 200
    for path, data, field in [
        ("portfolio/therapeutic-areas", {"code": "c\x00v", "name": "Cardio"}, "code"),
        ("admin/teams", {"name": "Team\x00"}, "name"),
        ("plans/", {"account_id": world.idn.pk, "name": "P\x00", "period_start": "2026-01-01",
                    "period_end": "2026-12-31"}, "name"),
        ("stakeholders/committees", {"account": world.hospital.pk, "name": "P&T\x00", "kind": "p_and_t"}, "name"),
    ]:  # fmt: skip
        status, body = admin.post(path, data)
        assert status == 422, (path, body)
        assert body["code"] == "validation_failed" and body["errors"][0]["field"] == field, (path, body)
    # the audit reason loses its NUL characters (like a filter), it is not refused
    status, body = api("kam").post(f"accounts/{world.hospital.pk}/move", {"parent_id": None, "reason": "x\x00y"})
    assert status == 200


def test_nul_in_the_login_is_a_422_not_a_500(personas):
    client = Client()
    response = client.post(
        "/api/v1/auth/token", json.dumps({"username": "k\x00am", "password": "demo"}), content_type="application/json"
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "username"


def test_a_body_that_is_not_a_json_object_is_a_400_in_the_error_format(world, api):
    kam = api("kam")
    response = kam.client.post(
        "/api/v1/accounts/", data=b"\xd9{", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {kam.key}"
    )
    assert response.status_code == 400 and set(response.json()) == ERROR_KEYS
    # JSON, but not an object: not "every field at its default"
    admin = api("admin")
    for body in (b"false", b"[]", b"0"):
        response = admin.client.post(
            f"/api/v1/admin/users/{world.users['kam'].pk}/reactivate",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {admin.key}",
        )
        assert response.status_code == 400 and set(response.json()) == ERROR_KEYS, body


def test_the_schema_documents_the_framework_answers_on_every_operation():
    schema = ninja_api.get_openapi_schema(path_prefix="/api/v1/")
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            codes = {str(code) for code in op["responses"]}
            if op.get("security"):
                assert "401" in codes, (method, path)
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in codes, (method, path)
            if op.get("requestBody"):
                assert "400" in codes, (method, path)
            for code in {c for c in codes if int(c) >= 400}:
                assert op["responses"][int(code)]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorOut"
                }, (method, path, code)
    for path in ("/api/v1/admin/users", "/api/v1/admin/teams", "/api/v1/admin/territories"):
        assert 403 in schema["paths"][path]["get"]["responses"], path
