"""Interactions API edge cases the API fuzzer found: extreme dates and UTC offsets are a 201 or a 422, never a 500."""

import datetime as dt

import pytest

from openkam.activities.models import Interaction

pytestmark = pytest.mark.django_db


def payload(scene, occurred_at):
    return {"occurred_at": occurred_at, "channel": "visit", "account": scene.world.hospital.pk, "subject": "Visit"}


def test_an_offset_postgresql_does_not_know_is_stored_as_the_same_instant(scene, api):
    # Python takes UTC offsets up to ±23:59, PostgreSQL only up to ±15:59
    status, body = api("kam").post("interactions", payload(scene, "2025-02-15T00:35:06+23:05"))
    assert status == 201, body
    stored = Interaction.objects.get(pk=body["id"]).occurred_at
    assert stored == dt.datetime(2025, 2, 14, 1, 30, 6, tzinfo=dt.UTC)
    status, body = api("kam").patch(f"interactions/{body['id']}", {"occurred_at": "2025-03-01T08:00:00-20:00"})
    assert status == 200, body
    assert Interaction.objects.get(pk=body["id"]).occurred_at == dt.datetime(2025, 3, 2, 4, 0, tzinfo=dt.UTC)


def test_a_time_before_year_one_in_utc_is_a_422(scene, api):
    status, body = api("kam").post("interactions", payload(scene, "0001-01-01T00:00:00+05:00"))
    assert status == 422 and body["errors"][0]["field"] == "occurred_at"
    status, body = api("kam").post("interactions", payload(scene, "0001-01-02T00:00:00+05:00"))
    assert status == 201, body


def test_the_last_day_there_is_as_until_means_no_end(scene, api):
    status, body = api("kam").get("interactions?until=9999-12-31")
    assert status == 200 and body["count"] == 2  # the last calendar day: open-ended, as on the web page
    status, body = api("kam").get("interactions?since=0001-01-01&until=9999-12-30")
    assert status == 200 and body["count"] == 2


def test_a_day_filter_is_an_iso_date_not_a_unix_time(scene, api):
    for query in ("until=0", "since=1700000000", "since=2025-1-1"):
        status, body = api("kam").get(f"interactions?{query}")
        assert status == 422 and body["errors"][0]["field"] == query.split("=")[0], query
