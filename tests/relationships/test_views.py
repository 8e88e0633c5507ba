"""Pages: the map, the person panel (HTMX edits), the Account 360 panel, naming a successor, committees."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from openkam.relationships.models import RelationshipStrength, StakeholderAssessment
from openkam.stakeholders.models import Position
from tests import factories as f

pytestmark = pytest.mark.django_db


def text(resp: Any) -> str:
    return re.sub(r"\s+", " ", resp.content.decode())


def test_map_page_shows_people_findings_matrix(mapped: Any, web: Any) -> None:
    w = mapped.w
    resp = web("kam").get(reverse("relationships:map", args=[w.idn.pk]))
    assert resp.status_code == 200
    body = text(resp)
    assert "4 people in current roles" in body and "2 links" in body
    assert 'data-code="blocker_outranks"' in body
    assert "Chiefson" in body and 'data-testid="coverage-matrix"' in body
    assert 'id="rel-graph"' in body


def test_map_filters_by_committee_and_domain(mapped: Any, web: Any) -> None:
    w = mapped.w
    url = reverse("relationships:map", args=[w.idn.pk])
    body = text(web("kam").get(url, {"committee": mapped.committee.pk}))
    assert "2 people in current roles" in body
    body = text(web("kam").get(url, {"domain": mapped.domains["financial"]}))
    assert "1 person in current roles" in body


def test_map_for_medical_has_no_judgements(mapped: Any, web: Any) -> None:
    w = mapped.w
    resp = web("msl").get(reverse("relationships:map", args=[w.idn.pk]))
    assert resp.status_code == 200
    body = text(resp)
    assert "1 link" in body  # reports-to stays, "influences" is a judgement
    assert "coverage-matrix" not in body and "not shown to your role" in body
    assert '"stance_label"' not in body and '"strengths"' not in body
    # the findings badge does not claim "0 findings" (all is well) to a role that is not shown them
    badge = re.search(r'<span[^>]*data-testid="findings-count"[^>]*>([^<]*)</span>', body)
    assert badge is not None and badge.group(1) == "not shown to your role" and "text-bg-success" not in badge.group(0)


def test_out_of_scope_is_404(mapped: Any, web: Any) -> None:
    w = mapped.w
    assert web("kam2").get(reverse("relationships:map", args=[w.idn.pk])).status_code == 404
    assert web("kam2").get(reverse("relationships:account_panel", args=[w.idn.pk])).status_code == 404
    assert web("kam2").get(reverse("relationships:map_data", args=[w.idn.pk])).status_code == 404


def test_person_panel_records_assessment_in_place(mapped: Any, web: Any) -> None:
    w = mapped.w
    url = reverse("relationships:person", args=[w.idn.pk, mapped.cfo.pk])
    client = web("kam")
    resp = client.get(url, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and "Money" in text(resp)
    resp = client.post(
        url,
        {"decision_role": "blocker", "stance": "-1", "influence": "5", "domain_ids": [mapped.domains["financial"]]},
        HTTP_HX_REQUEST="true",
    )
    assert resp.status_code == 200 and resp["HX-Trigger"] == "relationships-changed"
    assert StakeholderAssessment.objects.filter(stakeholder=mapped.cfo).count() == 2
    resp = client.post(url, {"decision_role": "blocker", "stance": "7"}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 422 and 'data-testid="error-stance"' in text(resp)
    assert StakeholderAssessment.objects.filter(stakeholder=mapped.cfo).count() == 2


def test_strength_set_in_panel_fixes_blocker_finding(mapped: Any, web: Any) -> None:
    w = mapped.w
    kam = w.users["kam"]
    client = web("kam")
    url = reverse("relationships:strength", args=[w.idn.pk, mapped.cfo.pk])
    resp = client.post(url, {"user": kam.pk, "current": 3, "desired": 4}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    assert RelationshipStrength.objects.get(stakeholder=mapped.cfo, user=kam).current == 3
    body = text(client.get(reverse("relationships:coverage", args=[w.idn.pk])))
    assert "blocker_outranks" not in body


def test_account_panel_card(mapped: Any, web: Any) -> None:
    w = mapped.w
    body = text(web("kam").get(reverse("relationships:account_panel", args=[w.idn.pk])))
    assert body.strip().startswith('<div class="card shadow-sm mb-3"') and "Open the map" in body
    assert "4</strong> people" in body


def test_succeed_page_names_new_incumbent(mapped: Any, web: Any) -> None:
    w = mapped.w
    newbie = Position.objects.create(
        stakeholder=mapped.fellow.__class__.objects.create(first_name="Nina", last_name="New"),
        account=w.department, title="Attending", valid_from=dt.date(2025, 1, 1),
    )  # fmt: skip
    client = web("kam")
    url = reverse("relationships:succeed", args=[w.idn.pk, mapped.chief_pos.pk])
    assert client.get(url).status_code == 200
    today = timezone.localdate()
    resp = client.post(url, {"stakeholder": newbie.stakeholder_id, "valid_from": today.isoformat()})
    assert resp.status_code == 302
    assert Position.objects.filter(stakeholder=newbie.stakeholder, title="Chief of Cardiology").exists()


def test_committee_detail_and_seat(mapped: Any, web: Any) -> None:
    client = web("kam")
    url = reverse("stakeholders:committee_detail", args=[mapped.committee.pk])
    body = text(client.get(url))
    assert "Beacon Health System and every account below it" in body
    assert body.count('data-testid="member-row"') == 2
    cand = Position.objects.get(stakeholder=mapped.fellow, committee=None)
    resp = client.post(url, {"position": cand.pk, "committee_role": "member", "role_in_decision": "influencer"})
    assert resp.status_code == 302
    assert Position.objects.filter(stakeholder=mapped.fellow, committee=mapped.committee).exists()


def test_settings_page_admin_only_changes(mapped: Any, web: Any) -> None:
    assert web("kam").get(reverse("relationships:settings")).status_code == 200
    resp = web("admin").post(
        reverse("relationships:settings"),
        {"form": "settings", "internal_share_limit": 40, "stakeholder_share_limit": 50, "key_person_days": 60},
    )
    assert resp.status_code == 302
    resp = web("kam").post(
        reverse("relationships:settings"),
        {"form": "settings", "internal_share_limit": 90, "stakeholder_share_limit": 50, "key_person_days": 60},
    )
    assert resp.status_code == 200 and "Only an administrator" in text(resp)


def test_in_place_edit_refreshes_key_figures_count_and_matrix_out_of_band(mapped: Any, web: Any) -> None:
    """After an edit in the person panel the page's findings request (``relationships-changed``) also brings
    the key figures, the people/link count and the coverage matrix as HTMX out-of-band swaps — with the
    page's filters."""
    w = mapped.w
    kam = w.users["kam"]
    client = web("kam")
    page = text(client.get(reverse("relationships:map", args=[w.idn.pk])))
    assert 'data-testid="kpi-covered">50%' in page and "2 links" in page
    assert page.count('class="text-center okam-strength-') == 2
    assert f"/relationships/accounts/{w.idn.pk}/coverage/?oob=1" in page

    resp = client.post(
        reverse("relationships:strength", args=[w.idn.pk, mapped.cfo.pk]),
        {"user": kam.pk, "current": 3, "desired": 4},
        HTTP_HX_REQUEST="true",
    )
    assert resp.status_code == 200 and resp["HX-Trigger"] == "relationships-changed"
    resp = client.post(
        reverse("relationships:link_add", args=[w.idn.pk, mapped.fellow.pk]),
        {"other": mapped.pharm.pk, "kind": "peer", "strength": 2, "outgoing": "1", "evidence": "Same ward"},
        HTTP_HX_REQUEST="true",
    )
    assert resp.status_code == 200, text(resp)[:500]

    url = reverse("relationships:coverage", args=[w.idn.pk])
    body = text(client.get(url, {"oob": "1"}, HTTP_HX_REQUEST="true"))
    assert 'data-testid="findings"' in body and "blocker_outranks" not in body
    assert 'id="coverage-kpis" hx-swap-oob="true"' in body and 'data-testid="kpi-covered">75%' in body
    assert 'id="map-count" data-testid="map-count" hx-swap-oob="true"' in body and "3 links" in body
    assert 'id="rel-matrix" hx-swap-oob="true"' in body
    assert body.count('class="text-center okam-strength-') == 3  # the CFO's new cell
    # with the page's filter: the matrix and the count follow it, the key figures stay the account's
    body = text(client.get(url, {"oob": "1", "committee": mapped.committee.pk}, HTTP_HX_REQUEST="true"))
    assert "2 people in current roles" in body and body.count('data-testid="matrix-row"') == 2
    assert 'data-testid="kpi-covered">75%' in body
    # without oob: the findings only (what Account 360 and the bench read)
    body = text(client.get(url))
    assert "hx-swap-oob" not in body and 'data-testid="findings"' in body


def _crowd(mapped: Any, n: int, start: int = 0) -> list[Any]:
    """``n`` more people at Beacon North (in bulk): a map too large to list everyone in the link form."""
    from openkam.stakeholders.models import Stakeholder

    w = mapped.w
    people = Stakeholder.objects.bulk_create(
        Stakeholder(first_name=f"Crowd{i:03d}", last_name="Member", country="US") for i in range(start, start + n)
    )
    Position.objects.bulk_create(
        Position(stakeholder=s, account=w.hospital2, title="Nurse", valid_from=dt.date(2020, 1, 1)) for s in people
    )
    return people


def test_person_panel_on_a_large_map_lists_colleagues_and_finds_the_rest(mapped: Any, web: Any) -> None:
    """More than 150 people: the link form lists 60, colleagues first, with a server search; a person found by
    search (not listed) can be linked; the panel's size and queries do not grow with the map."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from openkam.relationships.models import InfluenceLink

    w = mapped.w
    client = web("kam")
    url = reverse("relationships:person", args=[w.idn.pk, mapped.chief.pk])
    crowd = _crowd(mapped, 40)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    crowd += _crowd(mapped, 200, start=40)
    with CaptureQueriesContext(connection) as large:
        resp = client.get(url, HTTP_HX_REQUEST="true")
    assert len(large) == len(small)
    body = text(resp)
    assert 'data-testid="link-people-search"' in body
    other = re.search(r'<select name="other"[^>]*>(.*?)</select>', body).group(1)  # type: ignore[union-attr]
    options = re.findall(r'<option value="(\d+)"', other)
    assert len(options) == 60
    # colleagues first: at Cardiology (the fellow) and on the IDN's P&T, where the chief also sits
    assert set(options[:3]) == {str(mapped.fellow.pk), str(mapped.pharm.pk), str(mapped.cfo.pk)}
    assert str(mapped.chief.pk) not in options  # never the person themself
    last = crowd[-1]
    assert str(last.pk) not in options

    found = client.get(
        reverse("relationships:link_people", args=[w.idn.pk, mapped.chief.pk]), {"q": "crowd239"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert re.findall(r'<option value="(\d+)"', found.content.decode()) == [str(last.pk)]
    none = client.get(reverse("relationships:link_people", args=[w.idn.pk, mapped.chief.pk]), {"q": "zzz"})
    assert "Nobody on this map matches" in none.content.decode()

    resp = client.post(
        reverse("relationships:link_add", args=[w.idn.pk, mapped.chief.pk]),
        {"kind": "peer", "other": last.pk, "outgoing": "1", "strength": 2, "directional": ""},
        HTTP_HX_REQUEST="true",
    )
    assert resp.status_code == 200, text(resp)[:500]
    assert InfluenceLink.objects.filter(from_stakeholder=mapped.chief, to_stakeholder=last, kind="peer").exists()
    assert "Crowd239 Member" in text(resp)  # the new link is listed in the panel

    outsider = f.StakeholderFactory(first_name="Not", last_name="Here")  # holds no position on this map
    resp = client.post(
        reverse("relationships:link_add", args=[w.idn.pk, mapped.chief.pk]),
        {"kind": "peer", "other": outsider.pk, "outgoing": "1", "strength": 2},
        HTTP_HX_REQUEST="true",
    )
    assert resp.status_code == 422 and 'data-testid="link-error"' in text(resp)
    assert not InfluenceLink.objects.filter(to_stakeholder=outsider).exists()


def test_person_panel_node_is_the_one_the_whole_map_shows(mapped: Any) -> None:
    from openkam.relationships import selectors

    w = mapped.w
    kam = w.users["kam"]
    full = selectors.relationship_map(actor=kam, account_id=w.idn.pk)
    for sid in (mapped.chief.pk, mapped.cfo.pk, mapped.fellow.pk):
        card = selectors.stakeholder_card(actor=kam, account_id=w.idn.pk, stakeholder_id=sid)
        node = next(n for n in full["nodes"] if n["id"] == sid)
        assert card["node"] == node
        mine = [lk for lk in full["links"] if sid in (lk["source"], lk["target"])]
        assert [{k: lk[k] for k in mine[0]} for lk in card["links"]] == mine
