"""Places inside a hospital are named with their hospital ("Cardiology · Beacon General Hospital") wherever
people, seats and accounts are listed across an IDN: the committee's seat picker and seats, the person page,
the position forms and account pickers, Account 360's stakeholders card — without a query per row."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openkam.accounts.services import account_create
from openkam.stakeholders.models import Position
from tests import factories as f

QUALIFIED = "Cardiology · Beacon General Hospital"


def _at_cardiology(world, people):
    return Position.objects.create(
        stakeholder=people.patel, account=world.department, title="Cardiology pharmacist",
        valid_from=dt.date(2025, 1, 1),
    )  # fmt: skip


def test_committee_seat_picker_and_seats(web, world, people):
    pos = _at_cardiology(world, people)
    url = reverse("stakeholders:committee_detail", args=[people.pt_committee.pk])
    html = web("kam").get(url).content.decode()
    assert f"Ravi Patel, PharmD — Cardiology pharmacist ({QUALIFIED})" in html
    assert "(Cardiology)" not in html
    r = web("kam").post(url, {"position": pos.pk, "committee_role": "secretary", "role_in_decision": "unknown"})
    assert r.status_code == 302
    html = web("kam").get(url).content.decode()
    assert f'<td class="small">{QUALIFIED}</td>' in html


def test_person_page_and_position_pages(web, world, people):
    pos = _at_cardiology(world, people)
    kam = web("kam")
    html = kam.get(reverse("stakeholders:detail", args=[people.patel.pk])).content.decode()
    assert f">{QUALIFIED}</a>" in html
    html = kam.get(reverse("stakeholders:position_edit", args=[pos.pk])).content.decode()
    assert f"Cardiology pharmacist at {QUALIFIED}" in html
    html = kam.get(reverse("stakeholders:position_end", args=[pos.pk])).content.decode()
    assert QUALIFIED in html
    html = kam.get(reverse("stakeholders:position_add") + f"?account={world.department.pk}").content.decode()
    assert QUALIFIED in html  # the fixed account
    # the list: where the person's primary position is
    pos.is_primary = True
    pos.save()
    Position.objects.filter(stakeholder=people.patel).exclude(pk=pos.pk).update(is_primary=False)
    html = kam.get(reverse("stakeholders:list") + "?q=Patel").content.decode()
    assert QUALIFIED in html


def test_account_pickers(web, world, people):
    kam = web("kam")
    html = kam.get(reverse("stakeholders:options", args=["account"]) + "?q=Cardio").content.decode()
    assert QUALIFIED in html and "— — Cardiology" not in html
    html = kam.get(reverse("stakeholders:position_add") + f"?stakeholder={people.chen.pk}").content.decode()
    assert QUALIFIED in html
    html = kam.get(reverse("stakeholders:list")).content.decode()  # the account filter
    assert QUALIFIED in html
    html = kam.get(reverse("accounts:options") + "?q=Cardio").content.decode()
    assert f"{QUALIFIED} · Department" in html


def test_account_360_names_the_place_below(web, world, people):
    _at_cardiology(world, people)
    html = web("kam").get(reverse("accounts:detail", args=[world.idn.pk])).content.decode()
    assert f"via {QUALIFIED}" in html


def test_seat_picker_queries_do_not_grow(web, world, people):
    kam = web("kam")
    url = reverse("stakeholders:committee_detail", args=[people.pt_committee.pk])

    def count() -> int:
        kam.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert kam.get(url).status_code == 200
        return len(ctx.captured_queries)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            admin = world.users["admin"]
            dept = account_create(actor=admin, name=f"Ward {i}", type="department", parent=world.hospital)
            f.PositionFactory(account=dept, title=f"Nurse {i}")

    add(2, 0)
    small = count()
    add(20, 2)
    assert count() == small
