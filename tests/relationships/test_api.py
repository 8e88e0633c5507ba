"""/api/v1/relationships per role: read, write, 403 read-only, 404 out of scope, 422 bad field; constant
query counts of the map and the coverage as the map grows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openkam.relationships import services
from tests.relationships.conftest import person

pytestmark = pytest.mark.django_db


def test_map_and_coverage_per_role(mapped: Any, api: Any) -> None:
    a = mapped.w.idn.pk
    status, body = api("kam").get(f"relationships/accounts/{a}/map")
    assert status == 200 and len(body["nodes"]) == 4 and body["judgements"] is True
    assert {n["name"].split()[-1] for n in body["nodes"]} >= {"Chiefson", "Money"}
    status, body = api("msl").get(f"relationships/accounts/{a}/map")
    assert status == 200 and body["judgements"] is False and body["nodes"][0]["stance"] is None
    assert api("kam2").get(f"relationships/accounts/{a}/map")[0] == 404
    status, body = api("compliance").get(f"relationships/accounts/{a}/coverage")
    assert status == 200 and any(f["code"] == "blocker_outranks" for f in body["findings"])
    status, body = api("kam").get(f"relationships/accounts/{a}/coverage?internal_share=0")
    assert status == 422 and body["errors"][0]["field"] == "internal_share"
    status, body = api("kam").get(f"relationships/accounts/{a}/map?committee={mapped.committee.pk}")
    assert status == 200 and len(body["nodes"]) == 2


def test_assessment_record_and_history(mapped: Any, api: Any) -> None:
    a, s = mapped.w.idn.pk, mapped.cfo.pk
    path = f"relationships/accounts/{a}/stakeholders/{s}/assessments"
    status, body = api("kam").post(path, {"decision_role": "blocker", "stance": -1, "influence": 5})
    assert status == 201 and body["stance"] == -1 and body["recorded_by"] == "kam"
    status, body = api("kam").post(path, {"decision_role": "blocker", "stance": 5})
    assert status == 422 and body["errors"][0] == {
        "field": "stance", "code": "out_of_scale", "message": body["errors"][0]["message"]
    }  # fmt: skip
    status, body = api("kam").get(path)
    assert status == 200 and [v["stance"] for v in body] == [-1, -2]
    assert api("compliance").post(path, {"decision_role": "blocker"})[0] == 403
    assert api("msl").post(path, {"decision_role": "blocker"})[0] == 403
    assert api("kam2").post(path, {"decision_role": "blocker"})[0] == 404


def test_strengths_owners_links(mapped: Any, api: Any) -> None:
    w = mapped.w
    a, s = w.idn.pk, mapped.cfo.pk
    kam = w.users["kam"]
    status, body = api("kam").put(f"relationships/accounts/{a}/stakeholders/{s}/strengths/{kam.pk}",
                                  {"current": 2, "desired": 4})  # fmt: skip
    assert status == 200 and body["current"] == 2
    status, body = api("kam").put(f"relationships/accounts/{a}/stakeholders/{s}/strengths/{kam.pk}", {"current": 7})
    assert status == 422 and body["errors"][0]["field"] == "current"
    status, body = api("kam").put(f"relationships/accounts/{a}/stakeholders/{s}/owners", {"user_ids": [kam.pk]})
    assert status == 200 and body[0]["user_id"] == kam.pk
    status, body = api("kam").post("relationships/links", {"from_stakeholder_id": s, "to_stakeholder_id": s,
                                                           "kind": "peer"})  # fmt: skip
    assert status == 422 and body["code"] == "self_link"
    status, body = api("kam").post("relationships/links", {"from_stakeholder_id": s, "to_stakeholder_id":
                                                           mapped.chief.pk, "kind": "conflicts_with"})  # fmt: skip
    assert status == 201 and body["directional"] is False
    link = body["id"]
    assert api("msl").get(f"relationships/links/{link}")[0] == 404  # a judgement link
    assert api("kam").patch(f"relationships/links/{link}", {"strength": 3})[1]["strength"] == 3
    assert api("kam").delete(f"relationships/links/{link}")[0] == 204


def test_reference_data_admin_only(mapped: Any, api: Any) -> None:
    assert len(api("kam").get("relationships/domains")[1]) == 7
    assert api("kam").post("relationships/domains", {"name": "Digital health"})[0] == 403
    status, body = api("admin").post("relationships/domains", {"name": "Digital health"})
    assert status == 201 and body["is_standard"] is False
    standard = mapped.domains["contractual"]  # not pk 1: a browser test's flush re-installs them with new ids
    assert api("admin").patch(f"relationships/domains/{standard}", {"is_active": False})[0] == 400
    status, body = api("admin").put("relationships/privacy-rules/FR", {"allow_stance": False})
    assert status == 200 and body["country"] == "FR"
    assert api("admin").put("relationships/privacy-rules/FRA", {})[0] == 422
    assert api("admin").patch("relationships/settings", {"internal_share_limit": 55})[1]["internal_share_limit"] == 55
    assert api("kam").patch("relationships/settings", {"internal_share_limit": 55})[0] == 403


def test_succeed_via_api(mapped: Any, api: Any) -> None:
    w = mapped.w
    new, _p = person(w.hospital, "Attending", last_name="Next")
    status, body = api("kam").post(f"relationships/positions/{mapped.chief_pos.pk}/succeed",
                                   {"stakeholder_id": new.pk})  # fmt: skip
    assert status == 201 and body["stakeholder_id"] == new.pk and body["title"] == "Chief of Cardiology"
    status, body = api("kam").post(f"relationships/positions/{mapped.chief_pos.pk}/succeed",
                                   {"stakeholder_id": mapped.chief.pk})  # fmt: skip
    assert status == 422


def _grow(mapped: Any, n: int) -> None:
    w = mapped.w
    kam = w.users["kam"]
    prev = mapped.chief
    for i in range(n):
        s, _p = person(w.hospital2, f"Physician {i}", "influencer")
        services.assessment_record(actor=kam, account_id=w.idn.pk, stakeholder_id=s.pk, decision_role="influencer",
                                   stance=i % 5 - 2, influence=i % 5 + 1)  # fmt: skip
        services.strength_set(actor=kam, account_id=w.idn.pk, stakeholder_id=s.pk, user_id=kam.pk, current=i % 5)
        services.link_create(actor=kam, from_stakeholder_id=s.pk, to_stakeholder_id=prev.pk, kind="reports_to")
        prev = s


def test_constant_queries_as_the_map_grows(mapped: Any, web: Any) -> None:
    client = web("kam")
    a = mapped.w.idn.pk

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as q1:
            assert client.get(f"/relationships/accounts/{a}/data.json").status_code == 200
        with CaptureQueriesContext(connection) as q2:
            assert client.get(f"/relationships/accounts/{a}/coverage/").status_code == 200
        return len(q1), len(q2)

    _grow(mapped, 2)
    small = count()
    _grow(mapped, 20)
    assert count() == small
