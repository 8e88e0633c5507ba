"""Services and selectors: versioned assessments, bad input refused with nothing written, privacy rules,
committee scope, succession, coverage findings appearing and disappearing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from openkam.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.relationships import selectors, services
from openkam.relationships.models import InfluenceLink, StakeholderAssessment
from openkam.stakeholders import services as sh_services
from openkam.stakeholders.models import Position
from tests import factories as f
from tests.relationships.conftest import person

pytestmark = pytest.mark.django_db


def codes(cov: dict[str, Any]) -> set[str]:
    return {x["code"] for x in cov["findings"]}


def test_assessment_versions_are_never_overwritten(mapped: Any) -> None:
    w, kam = mapped.w, mapped.w.users["kam"]
    first = StakeholderAssessment.objects.get(stakeholder=mapped.cfo)
    second = services.assessment_record(actor=kam, account_id=w.idn.pk, stakeholder_id=mapped.cfo.pk,
                                        decision_role="blocker", stance=-1, influence=5)  # fmt: skip
    first.refresh_from_db()
    assert first.superseded_at == second.effective_from and second.superseded_at is None
    same = services.assessment_record(actor=kam, account_id=w.idn.pk, stakeholder_id=mapped.cfo.pk,
                                      decision_role="blocker", stance=-1, influence=5)  # fmt: skip
    assert same.pk == second.pk  # nothing changed, nothing recorded
    history = selectors.assessment_history(actor=kam, account_id=w.idn.pk, stakeholder_id=mapped.cfo.pk)
    assert [h.stance for h in history] == [-1, -2]


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"stance": 3}, "stance", "out_of_scale"),
        ({"stance": -3}, "stance", "out_of_scale"),
        ({"influence": 0}, "influence", "out_of_scale"),
        ({"decision_role": "king"}, "decision_role", "invalid_choice"),
        ({"domain_ids": [999999]}, "domain_ids", "domain_unknown"),
    ],
)
def test_bad_assessment_refused_nothing_written(mapped: Any, kwargs: dict[str, Any], field: str, code: str) -> None:
    w = mapped.w
    before = StakeholderAssessment.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.assessment_record(actor=w.users["kam"], account_id=w.idn.pk, stakeholder_id=mapped.cfo.pk, **kwargs)
    assert exc.value.errors[0].field == field and exc.value.errors[0].code == code
    assert StakeholderAssessment.objects.count() == before


def test_self_link_and_duplicate_refused(mapped: Any) -> None:
    kam = mapped.w.users["kam"]
    with pytest.raises(ValidationFailed) as exc:
        services.link_create(actor=kam, from_stakeholder_id=mapped.cfo.pk, to_stakeholder_id=mapped.cfo.pk,
                             kind="peer")  # fmt: skip
    assert exc.value.code == "self_link"
    with pytest.raises(ValidationFailed) as exc:
        services.link_create(actor=kam, from_stakeholder_id=mapped.fellow.pk, to_stakeholder_id=mapped.chief.pk,
                             kind="reports_to")  # fmt: skip
    assert exc.value.errors[0].code == "link_exists"
    with pytest.raises(ValidationFailed):
        services.link_create(actor=kam, from_stakeholder_id=mapped.fellow.pk, to_stakeholder_id=mapped.cfo.pk,
                             kind="peer", strength=9)  # fmt: skip
    assert InfluenceLink.objects.count() == 2


def test_roles_compliance_reads_medical_no_judgements(mapped: Any) -> None:
    w = mapped.w
    with pytest.raises(PermissionDenied):
        services.assessment_record(actor=w.users["compliance"], account_id=w.idn.pk, stakeholder_id=mapped.cfo.pk)
    with pytest.raises(PermissionDenied):
        services.strength_set(actor=w.users["msl"], account_id=w.idn.pk, stakeholder_id=mapped.cfo.pk,
                              user_id=w.users["msl"].pk, current=2)  # fmt: skip
    # medical may record facts (reports to), not judgements
    services.link_create(actor=w.users["msl"], from_stakeholder_id=mapped.pharm.pk, to_stakeholder_id=mapped.cfo.pk,
                         kind="reports_to")  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.link_create(actor=w.users["msl"], from_stakeholder_id=mapped.pharm.pk,
                             to_stakeholder_id=mapped.chief.pk, kind="influences")  # fmt: skip
    m = selectors.relationship_map(actor=w.users["msl"], account_id=w.idn.pk)
    assert not m["judgements"] and all("stance" not in n for n in m["nodes"])
    assert {lk["kind"] for lk in m["links"]} == {"reports_to"}
    cm = selectors.relationship_map(actor=w.users["compliance"], account_id=w.idn.pk)
    assert cm["judgements"] and any(n["stance"] == -2 for n in cm["nodes"])
    with pytest.raises(NotFound):
        selectors.relationship_map(actor=w.users["kam2"], account_id=w.idn.pk)


def test_country_privacy_rule_hides_stance_and_direction(mapped: Any) -> None:
    w = mapped.w
    services.privacy_rule_set(actor=w.users["admin"], country="de", allow_stance=False,
                              allow_directional_influence=False)  # fmt: skip
    mapped.cfo.country = "DE"
    mapped.cfo.save()
    m = selectors.relationship_map(actor=w.users["kam"], account_id=w.idn.pk)
    cfo = next(n for n in m["nodes"] if n["id"] == mapped.cfo.pk)
    assert cfo["stance"] is None and cfo["stance_allowed"] is False
    infl = next(lk for lk in m["links"] if lk["kind"] == "influences")
    assert infl["directional"] is False
    with pytest.raises(ValidationFailed) as exc:
        services.assessment_record(actor=w.users["kam"], account_id=w.idn.pk, stakeholder_id=mapped.cfo.pk,
                                   decision_role="blocker", stance=-1)  # fmt: skip
    assert exc.value.errors[0].code == "stance_not_allowed"
    with pytest.raises(ValidationFailed):
        services.link_create(actor=w.users["kam"], from_stakeholder_id=mapped.cfo.pk,
                             to_stakeholder_id=mapped.chief.pk, kind="influences", directional=True)  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.privacy_rule_set(actor=w.users["kam"], country="FR")


def test_privacy_restricted_person_is_not_assessed(mapped: Any) -> None:
    w = mapped.w
    mapped.fellow.privacy_restricted = True
    mapped.fellow.save()
    with pytest.raises(RuleViolation):
        services.assessment_record(actor=w.users["kam"], account_id=w.idn.pk, stakeholder_id=mapped.fellow.pk)


def test_committee_scope_and_membership_outside_refused(mapped: Any) -> None:
    w = mapped.w
    kam = w.users["kam"]
    c = sh_services.committee_create(actor=kam, account=w.idn, name="North VAC", kind="value_analysis",
                                     scope="selected", scope_accounts=[w.hospital2.pk])  # fmt: skip
    with pytest.raises(ValidationFailed) as exc:
        sh_services.committee_member_add(actor=kam, committee=c, stakeholder=mapped.fellow, account=w.department)
    assert exc.value.errors[0].field == "committee"
    assert not Position.objects.filter(committee=c).exists()
    seat = sh_services.committee_member_add(actor=kam, committee=c, stakeholder=mapped.cfo, committee_role="chair")
    assert seat.committee_role == "chair" and seat.account_id == w.idn.pk
    with pytest.raises(ValidationFailed) as exc:  # selected accounts must be below the committee's account
        sh_services.committee_create(actor=kam, account=w.hospital, name="X", kind="ethics", scope="selected",
                                     scope_accounts=[w.hospital2.pk])  # fmt: skip
    assert exc.value.errors[0].code == "scope_outside_hierarchy"
    sh_services.committee_member_add(actor=kam, committee=mapped.committee, stakeholder=mapped.fellow,
                                     account=w.department)  # fmt: skip
    with pytest.raises(ValidationFailed) as exc:  # narrowing the scope would strand a member
        sh_services.committee_update(actor=kam, committee=mapped.committee, scope="selected",
                                     scope_accounts=[w.hospital2.pk])  # fmt: skip
    assert exc.value.errors[0].code == "members_out_of_scope"


def test_role_change_vacancy_then_successor_carries_role(mapped: Any) -> None:
    w = mapped.w
    kam = w.users["kam"]
    today = timezone.localdate()
    sh_services.position_end(actor=kam, position=mapped.chief_pos, valid_to=today)
    m = selectors.relationship_map(actor=kam, account_id=w.idn.pk)
    assert any(v["position_id"] == mapped.chief_pos.pk for v in m["vacancies"])
    cov = selectors.relationship_coverage(actor=kam, account_id=w.idn.pk, map_data=m)
    assert "key_person_left" in codes(cov)
    new, _p = person(w.hospital, "Attending", last_name="Newcomer")
    seat = Position.objects.get(stakeholder=mapped.chief, committee=mapped.committee)
    pos = services.role_succeed(actor=kam, position_id=mapped.chief_pos.pk, stakeholder_id=new.pk, valid_from=today)
    assert pos.title == "Chief of Cardiology" and pos.stakeholder_id == new.pk
    assert Position.objects.filter(stakeholder=new, committee=mapped.committee, valid_to=None).exists()
    seat.refresh_from_db()
    assert seat.valid_to == today  # the old seat is history, not deleted
    carried = StakeholderAssessment.objects.get(stakeholder=new, superseded_at=None)
    assert carried.decision_role == "decision_maker" and carried.domain_ids == [mapped.domains["science_efficacy"]]
    assert carried.stance is None  # the stance was about the former holder
    m = selectors.relationship_map(actor=kam, account_id=w.idn.pk)
    assert not any(v["position_id"] == mapped.chief_pos.pk for v in m["vacancies"])
    assert StakeholderAssessment.objects.filter(stakeholder=mapped.chief).exists()


def test_findings_appear_and_disappear(mapped: Any) -> None:
    w = mapped.w
    kam, kam2 = w.users["kam"], w.users["kam2"]
    a = w.idn.pk
    cov = selectors.relationship_coverage(actor=kam, account_id=a)
    found = codes(cov)
    assert "blocker_outranks" in found  # CFO (influence 5) vs our best contact (4)
    assert "champion_single_contact" in found  # pharmacist known by kam only
    assert "domain_no_relationship" in found  # financial: only the CFO
    assert "domain_unmapped" in found  # e.g. supply chain
    assert "single_threaded_member" not in found  # only two relationships so far
    # fix: a second contact for the champion, a relationship with the CFO
    services.strength_set(actor=kam, account_id=a, stakeholder_id=mapped.pharm.pk, user_id=kam2.pk, current=2)
    services.strength_set(actor=kam, account_id=a, stakeholder_id=mapped.cfo.pk, user_id=kam.pk, current=2)
    found = codes(selectors.relationship_coverage(actor=kam, account_id=a))
    assert "champion_single_contact" not in found and "blocker_outranks" not in found
    assert "single_threaded_member" in codes(selectors.relationship_coverage(actor=kam, account_id=a,
                                                                             internal_share=50))  # fmt: skip


def test_single_threaded_stakeholder_and_key_person_not_reached(mapped: Any) -> None:
    w = mapped.w
    kam = w.users["kam"]
    found = codes(selectors.relationship_coverage(actor=kam, account_id=w.idn.pk))
    assert "key_person_not_reached" in found
    for i in range(6):
        it = f.InteractionFactory(account=w.hospital, created_by=kam,
                                  occurred_at=timezone.now() - dt.timedelta(days=i + 1))  # fmt: skip
        it.stakeholders.add(mapped.pharm)
    cov = selectors.relationship_coverage(actor=kam, account_id=w.idn.pk)
    single = [x for x in cov["findings"] if x["code"] == "single_threaded_stakeholder"]
    assert single and single[0]["stakeholder_id"] == mapped.pharm.pk and single[0]["share"] == 100
    pharm = next(n for n in selectors.relationship_map(actor=kam, account_id=w.idn.pk)["nodes"]
                 if n["id"] == mapped.pharm.pk)  # fmt: skip
    assert pharm["last_contact"] == (timezone.localtime(timezone.now() - dt.timedelta(days=1))).date().isoformat()
    with pytest.raises(ValidationFailed):
        selectors.relationship_coverage(actor=kam, account_id=w.idn.pk, internal_share=0)


def test_hidden_influencer_found_by_centrality(mapped: Any) -> None:
    w = mapped.w
    kam = w.users["kam"]
    hub, _p = person(w.hospital2, "Medical Director", last_name="Hub")
    others = [person(w.hospital2, f"Physician {i}")[0] for i in range(8)]
    for o in others:
        services.link_create(actor=kam, from_stakeholder_id=hub.pk, to_stakeholder_id=o.pk, kind="influences",
                             strength=3)  # fmt: skip
    services.link_create(actor=kam, from_stakeholder_id=hub.pk, to_stakeholder_id=mapped.chief.pk, kind="influences")
    cov = selectors.relationship_coverage(actor=kam, account_id=w.idn.pk)
    hidden = [x for x in cov["findings"] if x["code"] == "hidden_influencer"]
    assert hidden and hidden[0]["stakeholder_id"] == hub.pk
    services.strength_set(actor=kam, account_id=w.idn.pk, stakeholder_id=hub.pk, user_id=kam.pk, current=3)
    cov = selectors.relationship_coverage(actor=kam, account_id=w.idn.pk)
    assert hub.pk not in {x.get("stakeholder_id") for x in cov["findings"] if x["code"] == "hidden_influencer"}


def test_retention_removes_old_superseded_versions_only(mapped: Any) -> None:
    w = mapped.w
    services.assessment_record(actor=w.users["kam"], account_id=w.idn.pk, stakeholder_id=mapped.cfo.pk,
                               decision_role="blocker", stance=-1, influence=5)  # fmt: skip
    services.settings_update(actor=w.users["admin"], assessment_retention_days=30)
    later = timezone.localdate() + dt.timedelta(days=31)
    assert services.assessment_retention_apply(actor=w.users["admin"], today=later) == 1
    assert StakeholderAssessment.objects.filter(stakeholder=mapped.cfo).count() == 1


def test_people_grouped_by_the_account_directly_below(mapped: Any) -> None:
    """Large maps group people by hospital of an IDN (by department of a hospital): each node and vacancy names
    the account directly below the mapped one it sits under, or the mapped account itself."""
    w = mapped.w
    kam = w.users["kam"]
    m = selectors.relationship_map(actor=kam, account_id=w.idn.pk)
    group = {n["id"]: n["group_id"] for n in m["nodes"]}
    assert group[mapped.chief.pk] == w.hospital.pk  # Cardiology → Beacon General
    assert group[mapped.pharm.pk] == w.hospital.pk
    assert group[mapped.cfo.pk] == w.idn.pk  # at the IDN itself
    assert {g["id"] for g in m["groups"]} == {w.idn.pk, w.hospital.pk, w.hospital2.pk}
    at_hospital = selectors.relationship_map(actor=kam, account_id=w.hospital.pk)
    assert {n["id"]: n["group_id"] for n in at_hospital["nodes"]}[mapped.chief.pk] == w.department.pk
    sh_services.position_end(actor=kam, position=mapped.chief_pos, valid_to=timezone.localdate())
    vacancy = next(v for v in selectors.relationship_map(actor=kam, account_id=w.idn.pk)["vacancies"])
    assert vacancy["group_id"] == w.hospital.pk


def test_graph_only_leaves_out_what_only_the_page_shows(mapped: Any) -> None:
    w = mapped.w
    kam = w.users["kam"]
    full = selectors.relationship_map(actor=kam, account_id=w.idn.pk)
    graph = selectors.relationship_map(actor=kam, account_id=w.idn.pk, graph_only=True)
    assert full["committees"] and full["departments"] and full["team"]
    assert graph["committees"] == [] and graph["departments"] == [] and graph["team"] == []
    assert graph["nodes"] == full["nodes"] and graph["links"] == full["links"]  # the same people and links


def test_assessment_shown_is_the_nearest_then_newest(mapped: Any) -> None:
    """Made here beats made above beats made below; among those made at the same account the newest wins."""
    w = mapped.w
    kam = w.users["kam"]
    services.assessment_record(actor=kam, account_id=w.hospital.pk, stakeholder_id=mapped.fellow.pk,
                               decision_role="influencer", stance=-1, influence=2)  # fmt: skip
    services.assessment_record(actor=kam, account_id=w.department.pk, stakeholder_id=mapped.fellow.pk,
                               decision_role="user", stance=1, influence=3)  # fmt: skip

    def shown(account_id: int) -> tuple[Any, ...]:
        n = next(n for n in selectors.relationship_map(actor=kam, account_id=account_id)["nodes"]
                 if n["id"] == mapped.fellow.pk)  # fmt: skip
        return n["assessed_at"], n["stance"]

    assert shown(w.hospital.pk) == (w.hospital.pk, -1)  # made here
    assert shown(w.department.pk) == (w.department.pk, 1)  # made here
    assert shown(w.idn.pk) in {(w.hospital.pk, -1), (w.department.pk, 1)}  # both below: the most recent
    services.assessment_record(actor=kam, account_id=w.department.pk, stakeholder_id=mapped.fellow.pk,
                               decision_role="user", stance=2, influence=3)  # fmt: skip
    assert shown(w.idn.pk) == (w.department.pk, 2)  # the newest version, made below
    assert shown(w.department.pk) == (w.department.pk, 2)


def test_last_contact_is_the_local_day_of_the_latest_visible_interaction(mapped: Any) -> None:
    from openkam.activities.models import InteractionStakeholder

    w = mapped.w
    kam = w.users["kam"]
    late = timezone.make_aware(dt.datetime.combine(timezone.localdate() - dt.timedelta(days=5), dt.time(23, 30)))
    for when in (late - dt.timedelta(days=40), late):
        i = f.InteractionFactory(account=w.department, occurred_at=when, created_by=kam)
        InteractionStakeholder.objects.create(interaction=i, stakeholder=mapped.chief)
    m = selectors.relationship_map(actor=kam, account_id=w.idn.pk)
    chief = next(n for n in m["nodes"] if n["id"] == mapped.chief.pk)
    assert chief["last_contact"] == late.date().isoformat()  # 23:30 local stays that day (not the UTC day)
    assert chief["interactions_12m"] == 2
    assert m["interactions_12m"] == 2
    graph = selectors.relationship_map(actor=kam, account_id=w.idn.pk, graph_only=True)
    assert next(n for n in graph["nodes"] if n["id"] == mapped.chief.pk)["last_contact"] == chief["last_contact"]


def test_map_people_search_near_and_limit(mapped: Any) -> None:
    w = mapped.w
    kam = w.users["kam"]
    everyone, total = selectors.map_people(actor=kam, account_id=w.idn.pk)
    assert total == len(everyone) == 4
    last = {mapped.chief.pk: "chiefson", mapped.pharm.pk: "pharma", mapped.cfo.pk: "money", mapped.fellow.pk: "fellow"}
    assert [o[0] for o in everyone] == sorted(last, key=lambda pk: last[pk])  # by last name
    near, _n = selectors.map_people(actor=kam, account_id=w.idn.pk, near=mapped.cfo.pk)
    assert near[-1][0] == mapped.fellow.pk  # the only one who shares no account with the CFO (IDN level) comes last
    found, n = selectors.map_people(actor=kam, account_id=w.idn.pk, q="financial officer")
    assert n == 1 and found[0][0] == mapped.cfo.pk and "Chief Financial Officer · Beacon Health System" in found[0][1]
    cut, n = selectors.map_people(actor=kam, account_id=w.idn.pk, limit=2)
    assert len(cut) == 2 and n == 4
    with pytest.raises(NotFound):
        selectors.map_people(actor=w.users["kam2"], account_id=w.idn.pk)


def test_standard_domains_and_link_kinds_read_in_the_readers_language(mapped: Any) -> None:
    from django.utils import translation

    w = mapped.w
    kam = w.users["kam"]
    services.domain_create(actor=w.users["admin"], name="Hospital at home")
    with translation.override("de"):
        m = selectors.relationship_map(actor=kam, account_id=w.idn.pk)
        names = {d["name"] for d in m["domains"]}
        assert {"Finanziell", "Lieferkette"} <= names and "Financial" not in names
        assert "Hospital at home" in names  # admin-defined names are shown as written
        cfo = next(n for n in m["nodes"] if n["id"] == mapped.cfo.pk)
        assert cfo["domain_names"] == ["Finanziell"]
        card = selectors.stakeholder_card(actor=kam, account_id=w.idn.pk, stakeholder_id=mapped.chief.pk)
        assert {lk["kind_label"] for lk in card["links"]} == {"Berichtet an"}
