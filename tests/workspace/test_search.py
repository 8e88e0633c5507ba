"""Global search: accounts and people the user may see — and nothing else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world):
    since = dt.date(2024, 1, 1)
    beacon_doc = f.StakeholderFactory(first_name="Alice", last_name="Beaconsfield", npi="1234567893")
    f.PositionFactory(stakeholder=beacon_doc, account=world.hospital, title="Director of Pharmacy", valid_from=since)
    harbor_doc = f.StakeholderFactory(first_name="Bob", last_name="Beaconsfield-Harbor")
    f.PositionFactory(stakeholder=harbor_doc, account=world.other_account, title="CMO", valid_from=since)
    return beacon_doc, harbor_doc


def test_kam_finds_an_account_they_may_see_and_not_one_they_may_not(web, world):
    world.other_account.city = "Beaconville"
    world.other_account.save()
    resp = web("kam").get("/search/", {"q": "beacon"})
    names = [a.name for a in resp.context["accounts"]]
    assert names == ["Beacon General Hospital", "Beacon Health System", "Beacon North Hospital"]
    html = resp.content.decode()
    assert "Harbor Medical Center" not in html
    kam2_names = [a.name for a in web("kam2").get("/search/", {"q": "beacon"}).context["accounts"]]
    assert kam2_names == ["Harbor Medical Center"]  # matched by city, on kam2's book


def test_search_by_ccn_and_compliance_sees_everything(web, world):
    world.other_account.ccn = "220071"
    world.other_account.save()
    assert web("kam").get("/search/", {"q": "220071"}).context["account_count"] == 0
    assert [a.name for a in web("compliance").get("/search/", {"q": "220071"}).context["accounts"]] == [
        "Harbor Medical Center"
    ]


def test_people_are_found_by_name_and_npi_within_scope(web, people):
    beacon_doc, harbor_doc = people
    resp = web("kam").get("/search/", {"q": "Beaconsfield"})
    assert [s.pk for s in resp.context["stakeholders"]] == [beacon_doc.pk]
    html = resp.content.decode()
    assert "Director of Pharmacy" in html and "Beaconsfield-Harbor" not in html
    assert [s.pk for s in web("kam").get("/search/", {"q": "1234567893"}).context["stakeholders"]] == [beacon_doc.pk]
    assert {s.pk for s in web("kam2").get("/search/", {"q": "Beaconsfield"}).context["stakeholders"]} == {harbor_doc.pk}


def test_short_and_empty_queries(web, world):
    resp = web("kam").get("/search/", {"q": "b"})
    assert resp.status_code == 200 and 'data-testid="search-too-short"' in resp.content.decode()
    resp = web("kam").get("/search/")
    assert resp.status_code == 200 and "Search accounts and people" in resp.content.decode()


def test_navbar_has_the_search_box(web, world):
    html = web("kam").get("/search/", {"q": "Beacon"}).content.decode()
    assert 'data-testid="nav-search"' in html and 'value="Beacon"' in html


def test_search_query_count_is_constant(web, world):
    client = web("kam")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/search/", {"q": "Beacon"}).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for i in range(15):
        acct = f.AccountFactory(name=f"Beacon clinic {i}", parent=None)
        f.AccountTeamMemberFactory(account=acct, user=world.users["kam"])
        f.PositionFactory(stakeholder=f.StakeholderFactory(last_name=f"Beacon {i}"), account=acct)
    assert count() == small
