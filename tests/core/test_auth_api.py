"""API authentication: token issue, use, revoke; unauthenticated requests get 401, not data."""

import json

import pytest
from django.test import Client


def _issue(client, username, password):
    return client.post(
        "/api/v1/auth/token",
        data=json.dumps({"username": username, "password": password}),
        content_type="application/json",
    )


@pytest.mark.django_db
def test_token_lifecycle(personas):
    c = Client()
    resp = _issue(c, "kam", "demo")
    assert resp.status_code == 200
    token = resp.json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    listed = c.get("/api/v1/auth/tokens", **auth)
    assert listed.status_code == 200 and len(listed.json()) == 1
    token_id = listed.json()[0]["id"]
    assert c.delete(f"/api/v1/auth/tokens/{token_id}", **auth).status_code == 200
    assert c.get("/api/v1/auth/tokens", **auth).status_code == 401


@pytest.mark.django_db
def test_bad_credentials_and_bad_payload(personas):
    c = Client()
    bad = _issue(c, "kam", "wrong")
    assert bad.status_code == 403 and bad.json()["code"] == "invalid_credentials"
    missing = c.post("/api/v1/auth/token", data="{}", content_type="application/json")
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {"username", "password"}


@pytest.mark.django_db
def test_no_token_is_401(personas):
    resp = Client().get("/api/v1/auth/tokens")
    assert resp.status_code == 401 and resp.json()["code"] == "unauthenticated"


@pytest.mark.django_db
def test_cannot_revoke_someone_elses_token(api):
    _s, mine = api("kam").get("auth/tokens")
    status, _body = api("kam2").delete(f"auth/tokens/{mine[0]['id']}")
    assert status == 404


@pytest.mark.django_db
def test_openapi_schema_and_docs_are_served(personas):
    c = Client()
    schema = c.get("/api/v1/openapi.json")
    assert schema.status_code == 200 and "/api/v1/auth/token" in schema.json()["paths"]
    c.force_login(personas["kam"])
    assert c.get("/api/v1/docs").status_code == 200


@pytest.mark.django_db
def test_tokens_page_creates_and_revokes(web, personas):
    c = web("kam")
    resp = c.post("/me/tokens/", {"name": "script"})
    assert resp.status_code == 200 and b"okam_" in resp.content
    token = personas["kam"].api_tokens.get()
    c.post(f"/me/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
