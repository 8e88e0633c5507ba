"""Date filters at the edges of the calendar: the last representable day is open-ended, never a 500."""

import datetime as dt

import pytest

from openkam.activities.selectors import day_range

pytestmark = pytest.mark.django_db


def test_day_range_treats_the_last_day_as_open_ended():
    start, end = day_range(dt.date(2025, 1, 1), dt.date.max)
    assert end is None and start is not None and start.date() == dt.date(2025, 1, 1)
    start, end = day_range(None, dt.date(2025, 3, 31))
    assert start is None and end is not None and end.date() == dt.date(2025, 4, 1)  # [start, end): the day after
    assert day_range(dt.date.min, dt.date.max)[0].date() == dt.date.min


@pytest.mark.parametrize(
    "query", ["until=9999-12-31", "since=0001-01-01&until=9999-12-31", "since=9999-12-31", "until=0001-01-01"]
)
def test_interaction_list_with_extreme_dates_answers(scene, web, api, query):
    resp = web("kam").get(f"/interactions/?{query}")
    assert resp.status_code == 200
    body = resp.content.decode()
    if query.startswith("until=9999"):  # open-ended: everything visible is listed
        assert "Formulary discussion" in body
    status, data = api("kam").get(f"interactions?{query}")
    assert status == 200, data
    names = [i["subject"] for i in data["items"]]
    assert ("Formulary discussion" in names) == ("9999-12-31" in query and "since=9999" not in query)
