"""German interface: the language switcher, the login page, navigation and locale-formatted dates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_login_page_in_german_from_the_browser_language():
    html = Client(HTTP_ACCEPT_LANGUAGE="de").get("/login/").content.decode()
    assert 'lang="de"' in html and "Benutzername" in html and "Passwort" in html and ">Anmelden<" in html


def test_wrong_password_message_in_german():
    resp = Client(HTTP_ACCEPT_LANGUAGE="de").post("/login/", {"username": "nobody", "password": "x"})
    assert "Benutzername und Passwort passen nicht zusammen" in resp.content.decode()


def test_language_switcher_turns_the_interface_german(web, world):
    client = web("kam")
    assert 'data-testid="language-de"' in client.get("/").content.decode()
    resp = client.post("/i18n/setlang/", {"language": "de", "next": "/"}, follow=True)
    html = resp.content.decode()
    assert resp.status_code == 200 and 'lang="de"' in html
    assert "Meine offenen Maßnahmen" in html and ">Interaktionen<" in html and "Abmelden" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "My open actions" in client.get("/").content.decode()


def test_dates_follow_the_language(web, world):
    kam = world.users["kam"]
    plan = f.PlanFactory(account=world.idn, owner=kam, status="active")
    tactic = f.TacticFactory(objective=f.ObjectiveFactory(plan=plan))
    due = timezone.localdate() + dt.timedelta(days=3)
    f.ActionFactory(tactic=tactic, assignee=kam, start_date=None, due_date=due, title="Call the P&T chair")
    client = web("kam")
    assert due.strftime("%m/%d/%Y") in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    assert due.strftime("%d.%m.%Y") in client.get("/").content.decode()
