"""Shared test kit: named personas (one per role, like the demo) and an API client per persona.

Personas: ``kam`` and ``kam2`` (KAMs, reporting to ``lead``), ``lead``, ``msl`` (medical), ``access``
(market access), ``compliance`` (reads everything), ``admin``. ``world`` adds a small account tree:
an IDN with two hospitals and a department, on ``kam``'s book; ``other_account`` belongs to ``kam2``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from openkam.core.models import Role, User
from tests import factories as f

NUCC_CODES = 883  # reference rows loaded by migration stakeholders.0002


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    """Each test starts in the default language: the test client's LocaleMiddleware leaves the last request's
    language active in the thread (a German request in one test would otherwise leak into the next)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _reference_data(request: Any) -> None:
    """Keep migration-loaded reference data (NUCC specialties) present for every database test.

    Transactional tests (browser tests, via live_server) flush every table when they end, including
    reference data; the next database test on that worker reloads it (one COUNT query when present).
    """
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in names or "live_server" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker is not None:
        request.getfixturevalue("db")
    else:
        return
    from openkam.stakeholders.models import Specialty

    if Specialty.objects.count() < NUCC_CODES:
        from openkam.stakeholders.services import specialty_taxonomy_load

        specialty_taxonomy_load()


@pytest.fixture
def personas(db: Any) -> dict[str, User]:
    team = f.TeamFactory(name="Northeast KAM team")
    lead = f.UserFactory(username="lead", role=Role.LEAD, team=team, first_name="Lena", last_name="Lead")
    users = {
        "lead": lead,
        "kam": f.UserFactory(username="kam", role=Role.KAM, team=team, manager=lead, first_name="Kim", last_name="Kam"),
        "kam2": f.UserFactory(username="kam2", role=Role.KAM, team=team, manager=lead),
        "msl": f.UserFactory(username="msl", role=Role.MEDICAL, first_name="Mia", last_name="Msl"),
        "access": f.UserFactory(username="access", role=Role.MARKET_ACCESS),
        "compliance": f.UserFactory(username="compliance", role=Role.COMPLIANCE),
        "admin": f.UserFactory(username="admin", role=Role.ADMIN, is_staff=True),
    }
    return users


@dataclass
class World:
    users: dict[str, User]
    idn: Any
    hospital: Any
    hospital2: Any
    department: Any
    other_account: Any


@pytest.fixture
def world(personas: dict[str, User]) -> World:
    """A small tree on kam's book; msl and access are on the IDN's team too; one account for kam2."""
    from openkam.accounts import services as account_services

    admin = personas["admin"]
    idn = account_services.account_create(actor=admin, name="Beacon Health System", type="idn", state="MA")
    hospital = account_services.account_create(actor=admin, name="Beacon General Hospital", type="hospital", parent=idn)
    hospital2 = account_services.account_create(actor=admin, name="Beacon North Hospital", type="hospital", parent=idn)
    department = account_services.account_create(actor=admin, name="Cardiology", type="department", parent=hospital)
    other = account_services.account_create(actor=admin, name="Harbor Medical Center", type="hospital")
    since = dt.date(2025, 1, 1)
    for username, acct in [("kam", idn), ("msl", idn), ("access", idn), ("kam2", other)]:
        f.AccountTeamMemberFactory(account=acct, user=personas[username], start_date=since)
    return World(personas, idn, hospital, hospital2, department, other)


class ApiClient:
    """Calls /api/v1 as a user with a bearer token; returns (status, json)."""

    def __init__(self, user: User) -> None:
        from openkam.core import services

        _token, self.key = services.api_token_create(actor=user, name="tests")
        self.client = Client()

    def _call(self, method: str, path: str, data: Any = None, **headers: str) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"}
        kwargs.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
        url = path if path.startswith("/") else f"/api/v1/{path}"
        if data is not None:
            resp = getattr(self.client, method)(url, data=json.dumps(data), content_type="application/json", **kwargs)
        else:
            resp = getattr(self.client, method)(url, **kwargs)
        body = resp.json() if resp.get("Content-Type", "").startswith("application/json") and resp.content else None
        self.last_response = resp
        return resp.status_code, body

    def get(self, path: str, **h: str) -> tuple[int, Any]:
        return self._call("get", path, **h)

    def post(self, path: str, data: Any = None, **h: str) -> tuple[int, Any]:
        return self._call("post", path, data if data is not None else {}, **h)

    def patch(self, path: str, data: Any, **h: str) -> tuple[int, Any]:
        return self._call("patch", path, data, **h)

    def put(self, path: str, data: Any, **h: str) -> tuple[int, Any]:
        return self._call("put", path, data, **h)

    def delete(self, path: str, **h: str) -> tuple[int, Any]:
        return self._call("delete", path, **h)


@pytest.fixture
def api(personas: dict[str, User]) -> Any:
    """``api("kam").get("accounts/")`` → (status, json)."""
    cache: dict[str, ApiClient] = {}

    def for_user(username: str) -> ApiClient:
        if username not in cache:
            cache[username] = ApiClient(personas[username])
        return cache[username]

    return for_user


@pytest.fixture
def web(personas: dict[str, User]) -> Any:
    """``web("kam")`` → a Django test Client logged in as that persona."""

    def for_user(username: str) -> Client:
        c = Client()
        c.force_login(personas[username])
        return c

    return for_user
