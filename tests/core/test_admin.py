"""Administration: users, teams and territories — services, API per role, pages.

The admin API routers (``openkam.core.api_admin``) are mounted by ``config/api.py`` at ``/api/v1/admin`` and
``/api/v1/me``. This module also serves them on a private API object under the same paths (``urlpatterns``
below), so the tests hold whether or not the real mount is in place yet.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path
from ninja import NinjaAPI

import config.urls as project_urls
from openkam.core import selectors, services
from openkam.core.api import BearerToken, SessionCookie
from openkam.core.api import api as project_api
from openkam.core.api_admin import me_router, router
from openkam.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import Role, Team, Territory, User
from openkam.core.selectors import object_history
from tests import factories as f

_api = NinjaAPI(urls_namespace="admin_api_under_test", auth=[BearerToken(), SessionCookie()], docs_url=None)
for _exc, _handler in project_api._exception_handlers.items():
    _api.add_exception_handler(_exc, _handler)
_api.add_router("/admin", router)
_api.add_router("/me", me_router)
urlpatterns = [path("api/v1/", _api.urls), *project_urls.urlpatterns]
handler403 = project_urls.handler403
handler404 = project_urls.handler404

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


# --- services -------------------------------------------------------------------------------------------
def test_admin_creates_a_user_who_can_sign_in(personas):
    admin, team = personas["admin"], personas["kam"].team
    user = services.user_create(
        actor=admin,
        username="nora",
        password="S3cure-pass",
        first_name="Nora",
        last_name="North",
        email="Nora@Example.com",
        role=Role.KAM,
        team_id=team.pk,
        manager_id=personas["lead"].pk,
        reason="new hire",
    )
    assert authenticate(username="nora", password="S3cure-pass") == user
    assert (user.team, user.manager, user.role) == (team, personas["lead"], Role.KAM)
    event = object_history(obj=user).first()
    assert event.pgh_label == "insert"
    assert event.pgh_context["action"] == "core.user.create" and event.pgh_context["reason"] == "new hire"
    assert "password" not in event.pgh_data


@pytest.mark.parametrize("who", ["kam", "lead", "compliance", "msl"])
def test_only_admins_administer(personas, who):
    actor = personas[who]
    with pytest.raises(PermissionDenied):
        services.user_create(actor=actor, username="x1", password="pw")
    with pytest.raises(PermissionDenied):
        services.user_update(actor=actor, user_id=personas["kam"].pk, title="Boss")
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=actor, user_id=personas["kam2"].pk)
    with pytest.raises(PermissionDenied):
        services.team_create(actor=actor, name="Rogue team")
    with pytest.raises(PermissionDenied):
        services.territory_create(actor=actor, code="rogue", name="Rogue")
    with pytest.raises(PermissionDenied):
        selectors.user_admin_list(actor=actor)
    assert not User.objects.filter(username="x1").exists() and not Team.objects.filter(name="Rogue team").exists()


def test_bad_user_input_names_every_field_and_writes_nothing(personas):
    before = User.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(
            actor=personas["admin"], username="KAM", password="", email="not-an-email", role="wizard", team_id=999999
        )
    fields = {e.field: e.code for e in exc.value.errors}
    assert fields == {
        "username": "username_taken",
        "password": "required",
        "email": "email_format",
        "role": "invalid_choice",
        "team_id": "team_not_found",
    }
    assert User.objects.count() == before


def test_username_format_and_unknown_update_field(personas):
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(actor=personas["admin"], username="has space", password="pw")
    assert exc.value.errors[0].code == "username_format"
    with pytest.raises(ValidationFailed) as exc:
        services.user_update(actor=personas["admin"], user_id=personas["kam"].pk, is_superuser=True)
    assert exc.value.errors[0].field == "is_superuser"


def test_manager_cycle_is_refused_with_a_clear_message(personas):
    admin, lead, kam = personas["admin"], personas["lead"], personas["kam"]
    assert kam.manager == lead
    with pytest.raises(RuleViolation) as exc:
        services.user_update(actor=admin, user_id=lead.pk, manager_id=kam.pk)
    assert exc.value.code == "manager_cycle"
    assert "Lena Lead → Kim Kam → Lena Lead" in exc.value.message
    lead.refresh_from_db()
    assert lead.manager is None


def test_longer_manager_cycle_and_self_management_are_refused(personas):
    admin = personas["admin"]
    a = services.user_create(actor=admin, username="a", password="pw")
    b = services.user_create(actor=admin, username="b", password="pw", manager_id=a.pk)
    c = services.user_create(actor=admin, username="c", password="pw", manager_id=b.pk)
    with pytest.raises(RuleViolation):
        services.user_update(actor=admin, user_id=a.pk, manager_id=c.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.user_update(actor=admin, user_id=a.pk, manager_id=a.pk)
    assert exc.value.errors[0].code == "manager_self"
    services.user_update(actor=admin, user_id=c.pk, manager_id=a.pk)  # a → b, a → c: no loop, fine
    c.refresh_from_db()
    assert c.manager == a


def test_deactivated_user_cannot_sign_in_or_use_tokens_and_comes_back(personas):
    admin, kam = personas["admin"], personas["kam"]
    _token, key = services.api_token_create(actor=kam)
    services.user_deactivate(actor=admin, user_id=kam.pk, reason="left the company")
    kam.refresh_from_db()
    assert not kam.is_active
    assert not Client().login(username="kam", password="demo")
    assert services.api_token_authenticate(key=key) is None
    assert User.objects.filter(pk=kam.pk).exists()  # never deleted
    assert object_history(obj=kam).first().pgh_context["reason"] == "left the company"
    services.user_reactivate(actor=admin, user_id=kam.pk)
    assert Client().login(username="kam", password="demo")
    assert services.api_token_authenticate(key=key) is None  # old keys stay revoked


def test_admin_cannot_deactivate_or_demote_themselves(personas):
    admin = personas["admin"]
    with pytest.raises(RuleViolation) as exc:
        services.user_deactivate(actor=admin, user_id=admin.pk)
    assert exc.value.code == "deactivate_self"
    with pytest.raises(RuleViolation):
        services.user_update(actor=admin, user_id=admin.pk, role=Role.KAM)
    admin.refresh_from_db()
    assert admin.is_active and admin.role == Role.ADMIN


def test_reset_password(personas):
    services.user_set_password(actor=personas["admin"], user_id=personas["kam"].pk, password="n3w-Secret")
    assert authenticate(username="kam", password="n3w-Secret") is not None
    assert authenticate(username="kam", password="demo") is None
    with pytest.raises(ValidationFailed):
        services.user_set_password(actor=personas["admin"], user_id=personas["kam"].pk, password="")
    with pytest.raises(NotFound):
        services.user_set_password(actor=personas["admin"], user_id=987654, password="x")


def test_teams_and_territories(personas):
    admin = personas["admin"]
    ne = services.territory_create(actor=admin, code="us-ne", name="US Northeast", country="us")
    se = services.territory_create(actor=admin, code="us-se", name="US Southeast")
    assert ne.country == "US"
    team = services.team_create(actor=admin, name="Oncology KAMs", territory_ids=[ne.pk])
    assert list(team.territories.all()) == [ne]
    services.team_update(actor=admin, team_id=team.pk, territory_ids=[se.pk], name="Oncology key accounts")
    team.refresh_from_db()
    assert team.name == "Oncology key accounts" and list(team.territories.all()) == [se]
    with pytest.raises(ValidationFailed) as exc:
        services.team_update(actor=admin, team_id=team.pk, territory_ids=[se.pk, 424242])
    assert exc.value.errors[0].field == "territory_ids" and "424242" in exc.value.message
    assert list(team.territories.all()) == [se]  # unchanged
    with pytest.raises(ValidationFailed) as exc:
        services.team_create(actor=admin, name="oncology KEY accounts")
    assert exc.value.errors[0].code == "team_name_taken"
    with pytest.raises(ValidationFailed) as exc:
        services.territory_create(actor=admin, code="US-NE", name="Bad", country="USA")
    assert {e.code for e in exc.value.errors} == {"territory_code_taken", "country_format"}
    services.territory_update(actor=admin, territory_id=se.pk, name="US South-East", description="FL, GA")
    se.refresh_from_db()
    assert se.name == "US South-East" and se.code == "us-se"


def test_user_list_filters(personas):
    admin = personas["admin"]
    services.user_deactivate(actor=admin, user_id=personas["kam2"].pk)
    names = lambda **kw: {u.username for u in selectors.user_admin_list(actor=admin, **kw)}  # noqa: E731
    assert names(role=Role.KAM) == {"kam", "kam2"}
    assert names(role=Role.KAM, active=True) == {"kam"}
    assert names(manager_id=personas["lead"].pk) == {"kam", "kam2"}
    assert names(team_id=0) == {"msl", "access", "compliance", "admin"}
    assert names(q="kim kam") == {"kam"}


# --- API ----------------------------------------------------------------------------------------------------
def test_api_admin_creates_user_who_gets_a_token(api, personas):
    status, body = api("admin").post(
        "admin/users",
        {"username": "otto", "password": "Pw-123456", "first_name": "Otto", "role": "medical", "reason": "hire"},
    )
    assert status == 201, body
    assert body["role"] == "medical" and body["role_label"] == "Medical (MSL)" and body["is_active"] is True
    token = Client().post(
        "/api/v1/auth/token", data={"username": "otto", "password": "Pw-123456"}, content_type="application/json"
    )
    assert token.status_code == 200


@pytest.mark.parametrize("who", ["kam", "lead", "compliance"])
def test_api_non_admins_get_403(api, personas, who):
    client = api(who)
    kam_id = personas["kam"].pk
    for method, url, data in [
        ("get", "admin/users", None),
        ("get", f"admin/users/{kam_id}", None),
        ("post", "admin/users", {"username": "zz", "password": "pw"}),
        ("patch", f"admin/users/{kam_id}", {"title": "x"}),
        ("post", f"admin/users/{kam_id}/deactivate", {}),
        ("get", "admin/teams", None),
        ("post", "admin/teams", {"name": "x"}),
        ("get", "admin/territories", None),
        ("post", "admin/territories", {"code": "x", "name": "x"}),
    ]:
        status, body = client.get(url) if data is None else getattr(client, method)(url, data)
        assert status == 403, (method, url, status, body)
        assert body["code"] == "admin_only"
    assert not User.objects.filter(username="zz").exists()


def test_api_user_list_is_paginated_and_filtered(api, personas):
    status, body = api("admin").get("admin/users?role=kam&page_size=1")
    assert status == 200
    assert body["count"] == 2 and len(body["items"]) == 1
    status, body = api("admin").get("admin/users?active=false")
    assert status == 200 and body["count"] == 0


def test_api_errors(api, personas):
    admin = api("admin")
    status, body = admin.post("admin/users", {"username": "kam", "password": "pw"})
    assert status == 422 and body["errors"][0]["field"] == "username"
    status, body = admin.post("admin/users", {"username": "ok", "password": "pw", "role": "wizard"})
    assert status == 422 and body["errors"][0]["field"] == "role"
    status, body = admin.get("admin/users/987654")
    assert status == 404 and body["code"] == "user_not_found"
    status, body = admin.patch(f"admin/users/{personas['lead'].pk}", {"manager_id": personas["kam"].pk})
    assert status == 400 and body["code"] == "manager_cycle"
    status, body = admin.post(f"admin/users/{personas['admin'].pk}/deactivate", {})
    assert status == 400 and body["code"] == "deactivate_self"


def test_api_patch_changes_only_what_is_sent(api, personas):
    kam = personas["kam"]
    status, body = api("admin").patch(f"admin/users/{kam.pk}", {"title": "Senior KAM", "reason": "promotion"})
    assert status == 200 and body["title"] == "Senior KAM"
    assert body["manager"]["id"] == personas["lead"].pk and body["team"]["name"] == "Northeast KAM team"
    status, body = api("admin").patch(f"admin/users/{kam.pk}", {"team_id": None, "title": None})
    assert status == 200 and body["team"] is None and body["title"] == ""
    status, body = api("admin").patch(f"admin/users/{kam.pk}", {"role": None})
    assert status == 422 and body["errors"][0]["field"] == "role"


def test_api_deactivate_and_reactivate(api, personas):
    kam2 = personas["kam2"]
    status, body = api("admin").post(f"admin/users/{kam2.pk}/deactivate", {"reason": "leave"})
    assert status == 200 and body["is_active"] is False
    bad = Client().post(
        "/api/v1/auth/token", data={"username": "kam2", "password": "demo"}, content_type="application/json"
    )
    assert bad.status_code == 403
    status, body = api("admin").post(f"admin/users/{kam2.pk}/reactivate", {})
    assert status == 200 and body["is_active"] is True
    status, _body = api("admin").post(f"admin/users/{kam2.pk}/password", {"password": "Another-1"})
    assert status == 200 and authenticate(username="kam2", password="Another-1") is not None


def test_api_teams_and_territories(api, personas):
    admin = api("admin")
    status, terr = admin.post("admin/territories", {"code": "de-bay", "name": "Bavaria", "country": "DE"})
    assert status == 201 and terr["teams"] == []
    status, team = admin.post("admin/teams", {"name": "DACH", "territory_ids": [terr["id"]]})
    assert status == 201 and team["territories"][0]["code"] == "de-bay" and team["member_count"] == 0
    status, body = admin.get("admin/teams")
    assert status == 200 and {t["name"] for t in body["items"]} == {"DACH", "Northeast KAM team"}
    status, body = admin.get(f"admin/teams/{team['id']}")
    assert status == 200 and body["name"] == "DACH"
    status, body = admin.patch(f"admin/teams/{team['id']}", {"territory_ids": []})
    assert status == 200 and body["territories"] == [] and body["name"] == "DACH"
    status, body = admin.patch(f"admin/territories/{terr['id']}", {"country": "XX1"})
    assert status == 422 and body["errors"][0]["field"] == "country"
    status, body = admin.get(f"admin/territories/{terr['id']}")
    assert status == 200 and body["country"] == "DE"
    status, body = admin.get("admin/territories?q=bav")
    assert status == 200 and body["count"] == 1
    status, body = admin.get("admin/teams/999999")
    assert status == 404


def test_api_me(api, personas):
    status, body = api("kam").get("me")
    assert status == 200
    assert body["username"] == "kam" and body["role"] == "kam" and body["full_name"] == "Kim Kam"
    assert body["manager"]["username"] == "lead" and body["team"]["name"] == "Northeast KAM team"
    assert body["is_admin"] is False and body["can_write"] is True
    assert body["visible_classifications"] == ["commercial", "joint", "market_access"]
    _s, body = api("compliance").get("me")
    assert body["can_write"] is False
    _s, body = api("admin").get("me")
    assert body["is_admin"] is True
    assert Client().get("/api/v1/me").status_code == 401


# --- pages -------------------------------------------------------------------------------------------------
ADMIN_PAGES = ["/admin-area/", "/admin-area/users/", "/admin-area/users/new/", "/admin-area/teams/",
               "/admin-area/teams/new/", "/admin-area/territories/", "/admin-area/territories/new/"]  # fmt: skip


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_are_for_admins_only(web, url):
    assert web("admin").get(url).status_code == 200
    assert web("kam").get(url).status_code == 403
    assert web("compliance").get(url).status_code == 403
    assert Client().get(url).status_code == 302  # to the login page


def test_kam_cannot_open_a_user_page_or_post(web, personas):
    kam2 = personas["kam2"]
    assert web("kam").get(f"/admin-area/users/{kam2.pk}/").status_code == 403
    assert web("kam").post(f"/admin-area/users/{kam2.pk}/deactivate/").status_code == 403
    kam2.refresh_from_db()
    assert kam2.is_active


def test_navigation_shows_administration_to_admins_only(web):
    assert b'href="/admin-area/"' in web("admin").get("/me/tokens/").content
    assert b'href="/admin-area/"' not in web("kam").get("/me/tokens/").content


def test_create_user_through_the_form_then_sign_in(web, personas):
    resp = web("admin").post(
        "/admin-area/users/new/",
        {
            "username": "petra",
            "first_name": "Petra",
            "last_name": "Pharm",
            "email": "petra@example.com",
            "title": "KAM Oncology",
            "role": "kam",
            "team": personas["kam"].team_id,
            "manager": personas["lead"].pk,
            "password": "Welcome-1",
            "password2": "Welcome-1",
        },
        follow=True,
    )
    assert resp.status_code == 200
    assert "Petra Pharm can now sign in as “petra”." in resp.content.decode()
    assert Client().login(username="petra", password="Welcome-1")


def test_create_form_shows_errors_next_to_fields(web, personas):
    resp = web("admin").post(
        "/admin-area/users/new/",
        {"username": "KAM", "role": "kam", "password": "a", "password2": "b", "email": "x@example.com"},
    )
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'data-testid="error-password2"' in html
    resp = web("admin").post(
        "/admin-area/users/new/", {"username": "KAM", "role": "kam", "password": "a", "password2": "a"}
    )
    html = resp.content.decode()
    assert 'data-testid="error-username"' in html and "This username is already taken." in html


def test_edit_form_refuses_manager_cycle(web, personas):
    lead, kam = personas["lead"], personas["kam"]
    resp = web("admin").post(
        f"/admin-area/users/{lead.pk}/", {"role": "lead", "manager": kam.pk, "first_name": "Lena", "last_name": "Lead"}
    )
    assert resp.status_code == 200
    assert 'data-testid="error-manager"' in resp.content.decode() or "management cycle" in resp.content.decode()
    assert "management cycle" in resp.content.decode()
    lead.refresh_from_db()
    assert lead.manager is None


def test_edit_deactivate_reactivate_and_password_pages(web, personas):
    admin_client, kam = web("admin"), personas["kam"]
    resp = admin_client.post(
        f"/admin-area/users/{kam.pk}/",
        {"first_name": "Kim", "last_name": "Kam", "role": "lead", "title": "Lead KAM", "reason": "promotion"},
        follow=True,
    )
    kam.refresh_from_db()
    assert kam.role == Role.LEAD and kam.title == "Lead KAM" and kam.team is None
    assert "promotion" in resp.content.decode()  # the history on the page shows the reason
    admin_client.post(f"/admin-area/users/{kam.pk}/deactivate/", {"reason": "parental leave"})
    kam.refresh_from_db()
    assert not kam.is_active
    resp = admin_client.post(f"/admin-area/users/{personas['admin'].pk}/deactivate/", follow=True)
    assert "You cannot deactivate yourself" in resp.content.decode()
    admin_client.post(f"/admin-area/users/{kam.pk}/reactivate/")
    kam.refresh_from_db()
    assert kam.is_active
    resp = admin_client.post(
        f"/admin-area/users/{kam.pk}/password/", {"password": "Fresh-pass1", "password2": "Fresh-pass1"}, follow=True
    )
    assert "New password set" in resp.content.decode()
    assert Client().login(username="kam", password="Fresh-pass1")
    resp = admin_client.post(f"/admin-area/users/{kam.pk}/password/", {"password": "a", "password2": "b"}, follow=True)
    assert "The two passwords differ." in resp.content.decode()


def test_admin_resetting_own_password_stays_signed_in(web, personas):
    client = web("admin")
    admin = personas["admin"]
    client.post(f"/admin-area/users/{admin.pk}/password/", {"password": "Mine-123", "password2": "Mine-123"})
    assert client.get("/admin-area/").status_code == 200


def test_team_and_territory_pages(web, personas):
    client = web("admin")
    client.post("/admin-area/territories/new/", {"code": "us-mw", "name": "US Midwest", "country": "US"})
    terr = Territory.objects.get(code="us-mw")
    resp = client.post("/admin-area/territories/new/", {"code": "us-mw", "name": "Dup", "country": "US"})
    assert "Another territory already uses this code." in resp.content.decode()
    client.post("/admin-area/teams/new/", {"name": "Midwest KAMs", "territories": [terr.pk]})
    team = Team.objects.get(name="Midwest KAMs")
    assert list(team.territories.all()) == [terr]
    assert "US Midwest" in client.get("/admin-area/teams/").content.decode()
    client.post(f"/admin-area/teams/{team.pk}/", {"name": "Midwest key accounts", "territories": []})
    team.refresh_from_db()
    assert team.name == "Midwest key accounts" and not team.territories.exists()
    client.post(f"/admin-area/territories/{terr.pk}/", {"code": "us-mw", "name": "Midwest", "country": "US"})
    terr.refresh_from_db()
    assert terr.name == "Midwest"
    assert client.get("/admin-area/teams/999999/").status_code == 404
    assert client.get("/admin-area/users/999999/").status_code == 404


def test_user_list_page_filters_and_constant_queries(web, personas):
    client = web("admin")
    html = client.get("/admin-area/users/?role=lead").content.decode()
    assert 'data-testid="user-row-lead"' in html and 'data-testid="user-row-kam"' not in html

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/admin-area/users/?status=all").status_code == 200
        return len(ctx.captured_queries)

    small = count()
    team = f.TeamFactory()
    for i in range(20):
        f.UserFactory(username=f"bulk{i}", team=team, manager=personas["lead"])
    assert count() == small


def test_openapi_schema_documents_the_admin_api(personas):
    schema = Client().get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert {"/api/v1/admin/users", "/api/v1/admin/users/{user_id}", "/api/v1/admin/teams", "/api/v1/me"} <= set(paths)
    create = paths["/api/v1/admin/users"]["post"]
    assert {"201", "403", "422"} <= set(create["responses"])
    assert "manager_cycle" in paths["/api/v1/admin/users/{user_id}"]["patch"]["description"]


def test_admin_overview_names_the_records_that_changed(web, personas):
    services.user_update(actor=personas["admin"], user_id=personas["kam"].pk, title="Senior KAM", reason="promotion")
    html = web("admin").get("/admin-area/").content.decode()
    assert 'data-testid="admin-changes"' in html
    assert f'href="/admin-area/users/{personas["kam"].pk}/">Kim Kam</a>' in html
    assert '<code class="ms-1">title</code>' in html and "promotion" in html
