"""Stakeholder services: NPI rules, consent rules, positions that end but keep their history, committees."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from pghistory.models import Events

from openkam.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.stakeholders import selectors, services
from openkam.stakeholders.models import Position, Stakeholder

from .conftest import CARDIOLOGY, bad_check_digit, make_npi

pytestmark = pytest.mark.django_db


def field_codes(exc: ValidationFailed) -> dict[str, str]:
    return {e.field: e.code for e in exc.errors}


def create(world, actor="kam", **kw):
    data = {"first_name": "Grace", "last_name": "Hopper", "account": world.hospital, "title": "CMO"}
    data.update(kw)
    return services.stakeholder_create(actor=world.users[actor], **data)


# --- creating people ----------------------------------------------------------------------------------
def test_create_with_first_position_makes_the_person_visible_to_the_account_team(world):
    npi = make_npi(42)
    s = create(world, npi=npi, specialty=CARDIOLOGY, credentials="MD", role_in_decision="influencer", reason="met")
    assert s.npi == npi and s.specialty_id == CARDIOLOGY
    pos = Position.objects.get(stakeholder=s)
    assert (pos.account_id, pos.title, pos.is_primary, pos.valid_from) == (
        world.hospital.pk,
        "CMO",
        True,
        timezone.localdate(),
    )
    assert s.primary_title == "CMO"  # type: ignore[attr-defined]
    # everyone on Beacon's team sees the person; kam2 (Harbor) does not
    for user in ("kam", "msl", "access", "lead", "compliance"):
        assert selectors.stakeholder_get(actor=world.users[user], stakeholder_id=s.pk).pk == s.pk
    with pytest.raises(NotFound):
        selectors.stakeholder_get(actor=world.users["kam2"], stakeholder_id=s.pk)
    ctx = Events.objects.tracks(s).get().pgh_context
    assert ctx["action"] == "stakeholders.stakeholder.create" and ctx["username"] == "kam" and ctx["reason"] == "met"


def test_bad_npi_check_digit_is_refused_naming_field_and_rule(world):
    with pytest.raises(ValidationFailed) as exc:
        create(world, npi=bad_check_digit(make_npi(7)))
    assert field_codes(exc.value) == {"npi": "npi_check_digit"}
    assert "check digit" in exc.value.errors[0].message
    assert not Stakeholder.objects.exists() and not Position.objects.exists()


@pytest.mark.parametrize(
    ("npi", "code"),
    [
        ("123456789", "npi_format"),  # 9 digits
        ("12345678AB", "npi_format"),
        ("3234567891", "npi_format"),  # must start with 1 or 2
        (make_npi(5, first="2"), "npi_not_individual"),  # a valid organisation NPI
    ],
)
def test_npi_format_and_individual_rules(world, npi, code):
    with pytest.raises(ValidationFailed) as exc:
        create(world, npi=npi)
    assert field_codes(exc.value)["npi"] == code


def test_well_known_valid_npi_is_accepted(world):
    assert create(world, npi=" 1234567893 ").npi == "1234567893"


def test_duplicate_npi_is_a_clear_error_on_create_and_update(world, people):
    with pytest.raises(ValidationFailed) as exc:
        create(world, npi=people.chen.npi)
    assert field_codes(exc.value) == {"npi": "npi_duplicate"}
    with pytest.raises(ValidationFailed) as exc:
        services.stakeholder_update(actor=world.users["kam"], stakeholder=people.patel, npi=people.chen.npi)
    assert field_codes(exc.value) == {"npi": "npi_duplicate"}
    # saving a person with their own NPI is not a duplicate
    services.stakeholder_update(actor=world.users["kam"], stakeholder=people.chen, npi=people.chen.npi, phone="555")


def test_all_field_errors_come_back_together_and_nothing_is_written(world):
    with pytest.raises(ValidationFailed) as exc:
        create(world, first_name=" ", title="", npi="1", specialty="NOPE", email="not-an-email")
    assert set(field_codes(exc.value)) == {"first_name", "title", "npi", "specialty", "email"}
    assert not Stakeholder.objects.exists()


def test_unknown_specialty_names_the_field(world):
    with pytest.raises(ValidationFailed) as exc:
        create(world, specialty="999999999X")
    assert field_codes(exc.value) == {"specialty": "specialty_unknown"}


def test_missing_title_and_account(world):
    with pytest.raises(ValidationFailed) as exc:
        create(world, title="  ", account=None)
    assert set(field_codes(exc.value)) == {"title", "account"}


def test_first_position_must_be_at_a_visible_account(world):
    with pytest.raises(NotFound):
        create(world, account=world.other_account)
    assert not Stakeholder.objects.exists()


def test_compliance_reads_but_never_writes(world, people):
    compliance = world.users["compliance"]
    with pytest.raises(PermissionDenied):
        create(world, actor="compliance")
    with pytest.raises(PermissionDenied):
        services.stakeholder_update(actor=compliance, stakeholder=people.chen, phone="1")
    with pytest.raises(PermissionDenied):
        services.position_end(actor=compliance, position=people.chen_chief)
    with pytest.raises(PermissionDenied):
        services.committee_create(actor=compliance, account=world.hospital, name="VAC", kind="value_analysis")
    assert selectors.stakeholder_get(actor=compliance, stakeholder_id=people.chen.pk)


def test_consent_rules(world):
    with pytest.raises(ValidationFailed) as exc:
        create(world, do_not_contact=True)  # consent_contact defaults to True
    assert field_codes(exc.value) == {"do_not_contact": "consent_conflict"}
    with pytest.raises(ValidationFailed) as exc:
        create(world, consent_contact=False, consent_email=True)
    assert field_codes(exc.value) == {"consent_email": "consent_conflict"}
    with pytest.raises(ValidationFailed) as exc:
        create(world, consent_date=timezone.localdate() + dt.timedelta(days=2))
    assert field_codes(exc.value) == {"consent_date": "date_in_future"}
    s = create(world, do_not_contact=True, consent_contact=False, privacy_restricted=True)
    assert s.do_not_contact and s.privacy_restricted and not s.consent_contact


def test_update_changes_fields_and_records_history(world, people):
    kam = world.users["kam"]
    s = services.stakeholder_update(
        actor=kam, stakeholder=people.chen.pk, specialty="207RX0202X", phone="+1 617 555 0100", reason="new card"
    )
    assert s.specialty_id == "207RX0202X" and s.phone == "+1 617 555 0100"
    event = Events.objects.tracks(s).filter(pgh_label="update").get()
    assert event.pgh_diff["specialty_id"] == [CARDIOLOGY, "207RX0202X"]
    assert event.pgh_context["reason"] == "new card"
    with pytest.raises(ValidationFailed) as exc:
        services.stakeholder_update(actor=kam, stakeholder=people.chen, shoe_size=42)
    assert exc.value.code == "unknown_field"


def test_out_of_scope_person_is_not_found_for_writes(world, people):
    with pytest.raises(NotFound):
        services.stakeholder_update(actor=world.users["kam"], stakeholder=people.harbor, phone="1")
    with pytest.raises(NotFound):
        services.position_end(actor=world.users["kam"], position=people.harbor_pos)
    with pytest.raises(NotFound):
        services.position_add(
            actor=world.users["kam2"], stakeholder=people.chen, account=world.other_account, title="X"
        )


# --- positions ----------------------------------------------------------------------------------------
def test_ending_a_position_keeps_its_history_and_shows_the_role_vacated(world, people):
    kam = world.users["kam"]
    end = dt.date(2026, 1, 31)
    ended = services.position_end(actor=kam, position=people.chen_chief, valid_to=end, reason="retired")
    assert ended.valid_to == end and ended.is_current is False  # type: ignore[attr-defined]
    assert Position.objects.filter(pk=people.chen_chief.pk).exists()  # never deleted
    # the account still lists the role, as vacated
    at_hospital = {p.pk: p for p in selectors.account_positions(actor=kam, account=world.hospital)}
    assert at_hospital[people.chen_chief.pk].is_current is False
    assert at_hospital[people.chen_chief.pk].valid_to == end
    # the person's page lists it under past positions
    positions = list(selectors.stakeholder_positions(actor=kam, stakeholder=people.chen))
    assert [(p.pk, p.is_current) for p in positions] == [(people.chen_chief.pk, False)]
    # the history records the end with who and why
    events = list(Events.objects.tracks(people.chen_chief).order_by("pgh_id"))
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert events[1].pgh_diff["valid_to"] == [None, "2026-01-31"]
    assert events[1].pgh_context["action"] == "stakeholders.position.end"
    assert events[1].pgh_context["reason"] == "retired"
    # a person whose roles all ended stays visible (history is data) but has no current primary role
    person = selectors.stakeholder_get(actor=kam, stakeholder_id=people.chen.pk)
    assert person.primary_title is None  # type: ignore[attr-defined]


def test_end_defaults_to_today_and_vacates_at_once(world, people):
    kam = world.users["kam"]
    ended = services.position_end(actor=kam, position=people.chen_chief.pk)
    assert ended.valid_to == timezone.localdate() and ended.is_current is False  # type: ignore[attr-defined]
    with pytest.raises(RuleViolation):
        services.position_end(actor=kam, position=people.chen_chief.pk)


def test_a_future_end_date_plans_the_departure(world, people):
    kam = world.users["kam"]
    later = timezone.localdate() + dt.timedelta(days=30)
    p = services.position_end(actor=kam, position=people.chen_chief, valid_to=later)
    assert p.is_current is True  # type: ignore[attr-defined]  # still held until then
    p = services.position_end(actor=kam, position=people.chen_chief, valid_to=timezone.localdate())  # moved earlier
    assert p.is_current is False  # type: ignore[attr-defined]


def test_end_before_start_names_valid_to_and_changes_nothing(world, people):
    with pytest.raises(ValidationFailed) as exc:
        services.position_end(actor=world.users["kam"], position=people.chen_chief, valid_to=dt.date(2019, 12, 31))
    assert field_codes(exc.value) == {"valid_to": "end_before_start"}
    people.chen_chief.refresh_from_db()
    assert people.chen_chief.valid_to is None
    # ending on the first day is allowed (a one-day role)
    p = services.position_end(actor=world.users["kam"], position=people.chen_chief, valid_to=dt.date(2020, 1, 1))
    assert p.valid_to == dt.date(2020, 1, 1)


def test_an_ended_position_cannot_be_ended_again(world, people):
    with pytest.raises(RuleViolation) as exc:
        services.position_end(actor=world.users["kam"], position=people.patel_past)
    assert exc.value.code == "position_already_ended"


def test_medical_users_may_add_positions(world, people):
    # the organisational fact, without a decision role (a commercial judgement medical may not record)
    p = services.position_add(
        actor=world.users["msl"], stakeholder=people.chen, account=world.department, title="Heart failure lead",
        valid_from=dt.date(2026, 2, 1),
    )  # fmt: skip
    assert (p.account_id, p.title, p.valid_from, p.is_primary, p.role_in_decision) == (
        world.department.pk,
        "Heart failure lead",
        dt.date(2026, 2, 1),
        False,
        "unknown",
    )


def test_primary_flag_moves_to_the_new_position(world, people):
    kam = world.users["kam"]
    p = services.position_add(actor=kam, stakeholder=people.chen, account=world.hospital2, title="CMO", is_primary=True)
    people.chen_chief.refresh_from_db()
    assert p.is_primary and not people.chen_chief.is_primary
    assert selectors.stakeholder_get(actor=kam, stakeholder_id=people.chen.pk).primary_title == "CMO"  # type: ignore[attr-defined]


def test_position_committee_must_belong_to_the_account_or_above(world, people):
    kam = world.users["kam"]
    # the hospital's P&T committee decides for its department too
    p = services.position_add(
        actor=kam, stakeholder=people.patel, account=world.department, title="Member", committee=people.pt_committee
    )
    assert p.committee_id == people.pt_committee.pk
    with pytest.raises(ValidationFailed) as exc:
        services.position_add(
            actor=kam, stakeholder=people.patel, account=world.hospital2, title="Member", committee=people.pt_committee
        )
    assert field_codes(exc.value) == {"committee": "committee_other_account"}


def test_position_dates_and_fields_are_validated(world, people):
    kam = world.users["kam"]
    with pytest.raises(ValidationFailed) as exc:
        services.position_add(
            actor=kam, stakeholder=people.chen, account=world.hospital2, title="", role_in_decision="boss",
            valid_from=dt.date(2026, 5, 1), valid_to=dt.date(2026, 4, 1),
        )  # fmt: skip
    assert field_codes(exc.value) == {
        "title": "required",
        "role_in_decision": "invalid_choice",
        "valid_to": "end_before_start",
    }
    with pytest.raises(ValidationFailed) as exc:
        services.position_update(actor=kam, position=people.chen_chief, valid_to=dt.date(2019, 1, 1))
    assert field_codes(exc.value) == {"valid_to": "end_before_start"}
    with pytest.raises(ValidationFailed):
        services.position_update(actor=kam, position=people.chen_chief, account=world.hospital2)
    p = services.position_update(actor=kam, position=people.chen_chief, title="Chair, Cardiology", committee=None)
    assert p.title == "Chair, Cardiology" and p.committee_id is None


# --- committees ---------------------------------------------------------------------------------------
def test_committee_create_and_update(world):
    kam = world.users["kam"]
    c = services.committee_create(
        actor=kam, account=world.hospital, name=" Value Analysis Committee ", kind="value_analysis",
        meeting_cadence="Monthly", next_meeting=dt.date(2026, 7, 14),
    )  # fmt: skip
    assert c.name == "Value Analysis Committee" and c.account_id == world.hospital.pk
    c = services.committee_update(actor=kam, committee=c.pk, next_meeting=None, meeting_cadence="Quarterly")
    assert c.next_meeting is None and c.meeting_cadence == "Quarterly"
    with pytest.raises(ValidationFailed) as exc:
        services.committee_create(actor=kam, account=world.hospital, name="", kind="club")
    assert field_codes(exc.value) == {"name": "required", "kind": "invalid_choice"}
    with pytest.raises(NotFound):
        services.committee_create(actor=world.users["kam2"], account=world.hospital, name="X", kind="other")
    with pytest.raises(NotFound):
        services.committee_update(actor=world.users["kam2"], committee=c, name="X")
