"""Account services and selectors: validation, rules, access, audit — what a user would notice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from openkam.accounts import selectors, services
from openkam.accounts.models import Account, AccountAffiliation, AccountTeamMember
from openkam.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.selectors import object_history
from tests import factories as f
from tests.accounts.conftest import BAD_NPI, GOOD_NPI

pytestmark = pytest.mark.django_db


def fields_of(exc: ValidationFailed) -> set[str]:
    return {e.field for e in exc.errors}


def visible(user) -> set[str]:
    return set(selectors.account_scope(actor=user).values_list("name", flat=True))


# --- create / update ------------------------------------------------------------------------------
def test_kam_creates_a_top_level_account_and_it_lands_on_their_book(personas):
    kam = personas["kam"]
    acct = services.account_create(actor=kam, name="  Riverside Clinic ", type="clinic", npi=GOOD_NPI, ccn="ab1234")
    assert acct.name == "Riverside Clinic" and acct.ccn == "AB1234"
    member = AccountTeamMember.objects.get(account=acct)
    assert member.user == kam and member.role == "account_lead"
    assert "Riverside Clinic" in visible(kam)
    event = object_history(obj=acct).first()
    assert event.pgh_label == "insert" and event.pgh_context["action"] == "accounts.account.create"


def test_a_child_created_under_a_visible_parent_is_visible_without_a_team_row(world):
    kam = world.users["kam"]
    child = services.account_create(actor=kam, name="Radiology", type="department", parent_id=world.hospital.pk)
    assert child.ancestors == [world.idn.pk, world.hospital.pk] and child.depth == 2
    assert not AccountTeamMember.objects.filter(account=child).exists()
    assert "Radiology" in visible(kam)


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"npi": BAD_NPI}, "npi", "npi_check_digit"),
        ({"npi": "12345"}, "npi", "npi_format"),
        ({"ccn": "12-45"}, "ccn", "ccn_format"),
        ({"website": "not a url"}, "website", "invalid"),
        ({"kam_level": "platinum"}, "kam_level", "invalid_choice"),
    ],
)
def test_bad_fields_are_refused_naming_the_field_and_nothing_is_written(personas, fields, field, code):
    with pytest.raises(ValidationFailed) as exc:
        services.account_create(actor=personas["kam"], name="X Clinic", type="clinic", **fields)
    assert field in fields_of(exc.value)
    assert code in {e.code for e in exc.value.errors}
    assert not Account.objects.filter(name="X Clinic").exists()


def test_an_organisation_npi_may_start_with_1(personas):
    """Real NPPES data: CSP Anesthesia LLC is an organisation (NPI-2) with NPI 1568946812."""
    account = services.account_create(actor=personas["kam"], name="CSP Anesthesia", type="clinic", npi="1568946812")
    assert account.npi == "1568946812"


def test_blank_name_and_unknown_type_are_both_reported(personas):
    with pytest.raises(ValidationFailed) as exc:
        services.account_create(actor=personas["kam"], name=" ", type="castle")
    assert {"name", "type"} <= fields_of(exc.value)


def test_identifiers_are_unique(world):
    admin = world.users["admin"]
    services.account_update(actor=admin, account=world.hospital, ccn="220071", npi=GOOD_NPI)
    with pytest.raises(ValidationFailed) as exc:
        services.account_create(actor=admin, name="Copy", type="hospital", ccn="220071", npi=GOOD_NPI)
    assert {e.code for e in exc.value.errors} == {"ccn_taken", "npi_taken"}
    services.account_update(actor=admin, account=world.hospital, ccn="220071")  # its own value is fine


def test_unknown_field_is_refused(personas):
    with pytest.raises(ValidationFailed) as exc:
        services.account_create(actor=personas["kam"], name="X", type="clinic", ancestors=[1])
    assert fields_of(exc.value) == {"ancestors"}


@pytest.mark.parametrize(("username", "code"), [("msl", "account_create_forbidden"), ("compliance", "read_only_role")])
def test_medical_and_compliance_cannot_create(personas, username, code):
    with pytest.raises(PermissionDenied) as exc:
        services.account_create(actor=personas[username], name="X", type="clinic")
    assert exc.value.code == code
    assert services.can_create_account(personas[username]) is False
    assert services.can_create_account(personas["kam"]) is True


def test_creating_under_an_invisible_parent_names_the_parent_field(world):
    with pytest.raises(ValidationFailed) as exc:
        services.account_create(actor=world.users["kam"], name="X", type="clinic", parent_id=world.other_account.pk)
    assert fields_of(exc.value) == {"parent_id"}


def test_update_owner_and_retire_by_status(world):
    admin = world.users["admin"]
    kam = world.users["kam"]
    acct = services.account_update(actor=kam, account=world.hospital.pk, owner_id=kam.pk, status="inactive")
    assert acct.owner == kam and acct.status == "inactive"
    gone = f.UserFactory(username="gone", is_active=False)
    with pytest.raises(ValidationFailed) as exc:
        services.account_update(actor=admin, account=world.hospital, owner_id=gone.pk)
    assert fields_of(exc.value) == {"owner_id"}
    with pytest.raises(ValidationFailed) as exc:
        services.account_update(actor=admin, account=world.hospital, owner_id=999999)
    assert fields_of(exc.value) == {"owner_id"}


def test_kam2_cannot_update_kams_account(world):
    with pytest.raises(NotFound):
        services.account_update(actor=world.users["kam2"], account=world.hospital, city="X")


# --- move -----------------------------------------------------------------------------------------
def test_move_by_id_and_cycle_message_names_both_accounts(world):
    kam = world.users["kam"]
    with pytest.raises(RuleViolation) as exc:
        services.account_move(actor=kam, account=world.hospital, new_parent_id=world.department.pk)
    assert exc.value.code == "hierarchy_cycle"
    assert "Beacon General Hospital" in exc.value.message and "Cardiology" in exc.value.message
    assert fields_of(exc.value) == {"parent_id"}
    moved = services.account_move(actor=kam, account=world.department.pk, new_parent_id=world.hospital2.pk)
    assert moved.ancestors == [world.idn.pk, world.hospital2.pk]


def test_move_under_an_invisible_parent_is_refused(world):
    with pytest.raises(ValidationFailed) as exc:
        services.account_move(actor=world.users["kam"], account=world.hospital, new_parent_id=world.other_account.pk)
    assert fields_of(exc.value) == {"parent_id"}


# --- team -----------------------------------------------------------------------------------------
def test_adding_a_team_member_gives_them_the_account_and_everything_below(world):
    kam, kam2 = world.users["kam"], world.users["kam2"]
    assert "Cardiology" not in visible(kam2)
    member = services.account_team_member_add(
        actor=kam, account=world.hospital, user_id=kam2.pk, role="specialist", reason="cover for Q3"
    )
    assert member.function == "commercial" and member.start_date == timezone.localdate()
    assert {"Beacon General Hospital", "Cardiology"} <= visible(kam2)
    assert "Beacon Health System" not in visible(kam2)
    ctx = object_history(obj=member).first().pgh_context
    assert ctx["action"] == "accounts.accountteammember.create" and ctx["reason"] == "cover for Q3"


def test_team_member_function_follows_the_users_role_unless_given(world):
    member = services.account_team_member_add(
        actor=world.users["kam"], account=world.hospital, user_id=world.users["msl"].pk, role="msl"
    )
    assert member.function == "medical"


def test_team_member_rules(world):
    kam, msl = world.users["kam"], world.users["msl"]
    with pytest.raises(RuleViolation) as exc:  # msl is already on the IDN team as kam (world fixture)
        services.account_team_member_add(actor=kam, account=world.idn, user_id=msl.pk, role="kam")
    assert exc.value.code == "team_member_duplicate"
    # the same person in another role is fine
    services.account_team_member_add(actor=kam, account=world.idn, user_id=msl.pk, role="msl")
    gone = f.UserFactory(username="gone", is_active=False)
    with pytest.raises(ValidationFailed) as exc:
        services.account_team_member_add(
            actor=kam,
            account=world.idn,
            user_id=gone.pk,
            role="boss",
            start_date=dt.date(2026, 5, 1),
            end_date=dt.date(2026, 4, 1),
        )
    assert fields_of(exc.value) == {"user_id", "role", "end_date"}


def test_team_writes_are_scoped_and_read_only_roles_refused(world):
    with pytest.raises(NotFound):
        services.account_team_member_add(
            actor=world.users["kam2"], account=world.idn, user_id=world.users["kam2"].pk, role="kam"
        )
    with pytest.raises(PermissionDenied):
        services.account_team_member_add(
            actor=world.users["compliance"], account=world.idn, user_id=world.users["kam2"].pk, role="kam"
        )


def test_ending_a_membership_revokes_access_at_once_and_keeps_the_row(world):
    kam, msl = world.users["kam"], world.users["msl"]
    member = AccountTeamMember.objects.get(account=world.idn, user=msl)
    ended = services.account_team_member_end(actor=kam, member=member.pk, account_id=world.idn.pk)
    assert ended.end_date == timezone.localdate() - dt.timedelta(days=1)
    assert visible(msl) == set()
    assert AccountTeamMember.objects.filter(pk=member.pk).exists()
    team = list(selectors.account_team(actor=kam, account=world.idn))
    assert [m.is_current for m in team if m.user_id == msl.pk] == [False]
    with pytest.raises(RuleViolation) as exc:
        services.account_team_member_end(actor=kam, member=member.pk)
    assert exc.value.code == "team_member_already_ended"


def test_ending_a_membership_validates_the_date_and_the_account(world):
    kam = world.users["kam"]
    member = AccountTeamMember.objects.get(account=world.idn, user=world.users["access"])
    with pytest.raises(ValidationFailed) as exc:
        services.account_team_member_end(actor=kam, member=member, end_date=dt.date(2020, 1, 1))
    assert fields_of(exc.value) == {"end_date"}
    with pytest.raises(NotFound):  # the membership is not one of this account's
        services.account_team_member_end(actor=kam, member=member, account_id=world.hospital.pk)
    with pytest.raises(NotFound):  # kam2 cannot see the IDN
        services.account_team_member_end(actor=world.users["kam2"], member=member)


# --- affiliations ---------------------------------------------------------------------------------
def test_affiliation_create_and_end(world):
    kam = world.users["kam"]
    gpo = services.account_create(actor=kam, name="Vizient", type="gpo")
    aff = services.affiliation_create(
        actor=kam, from_account=world.hospital, to_account_id=gpo.pk, type="gpo_member", start_date=dt.date(2024, 1, 1)
    )
    listed = list(selectors.account_affiliations(actor=kam, account=gpo))
    assert [(a.pk, a.outgoing, a.is_current, a.other_visible) for a in listed] == [(aff.pk, False, True, True)]
    with pytest.raises(RuleViolation) as exc:
        services.affiliation_create(actor=kam, from_account=world.hospital, to_account_id=gpo.pk, type="gpo_member")
    assert exc.value.code == "affiliation_duplicate"
    ended = services.affiliation_end(actor=kam, affiliation=aff.pk)
    assert ended.end_date == timezone.localdate() - dt.timedelta(days=1)
    assert not selectors.account_affiliations(actor=kam, account=gpo, include_ended=False).exists()
    with pytest.raises(RuleViolation):
        services.affiliation_end(actor=kam, affiliation=aff.pk)
    # after it ended, a new period may start
    services.affiliation_create(actor=kam, from_account=world.hospital, to_account_id=gpo.pk, type="gpo_member")
    assert AccountAffiliation.objects.count() == 2


def test_affiliation_validation(world):
    kam = world.users["kam"]
    with pytest.raises(ValidationFailed) as exc:
        services.affiliation_create(actor=kam, from_account=world.hospital, to_account_id=world.hospital.pk, type="x")
    assert fields_of(exc.value) == {"to_account_id", "type"}
    with pytest.raises(ValidationFailed) as exc:  # kam may not see Harbor: looks like a missing account
        services.affiliation_create(
            actor=kam, from_account=world.hospital, to_account_id=world.other_account.pk, type="network"
        )
    assert [e.code for e in exc.value.errors] == ["account_not_found"]
    with pytest.raises(ValidationFailed) as exc:
        services.affiliation_create(
            actor=kam,
            from_account=world.hospital,
            to_account_id=world.hospital2.pk,
            type="network",
            start_date=dt.date(2026, 2, 1),
            end_date=dt.date(2026, 1, 1),
        )
    assert fields_of(exc.value) == {"end_date"}
    with pytest.raises(PermissionDenied):
        services.affiliation_create(
            actor=world.users["compliance"],
            from_account=world.hospital,
            to_account_id=world.hospital2.pk,
            type="network",
        )


# --- selectors ------------------------------------------------------------------------------------
def test_list_search_matches_name_city_ccn_and_npi(world):
    admin, kam = world.users["admin"], world.users["kam"]
    services.account_update(actor=admin, account=world.hospital, ccn="220071", city="Boston")
    services.account_update(actor=admin, account=world.hospital2, npi=GOOD_NPI, city="Salem")

    def names(**kw):
        return [a.name for a in selectors.account_list(actor=kam, **kw)]

    assert names(q="general") == ["Beacon General Hospital"]
    assert names(q="salem") == ["Beacon North Hospital"]
    assert names(q="2200") == ["Beacon General Hospital"]
    assert names(q=GOOD_NPI[:6]) == ["Beacon North Hospital"]
    assert names(q="Harbor") == []  # out of scope
    assert names(type="department") == ["Cardiology"]
    assert names(parent_id=world.idn.pk) == ["Beacon General Hospital", "Beacon North Hospital"]
    counts = {a.name: a.children_count for a in selectors.account_list(actor=kam)}
    assert counts == {
        "Beacon General Hospital": 1,
        "Beacon Health System": 2,
        "Beacon North Hospital": 0,
        "Cardiology": 0,
    }


def test_list_never_names_a_parent_the_reader_cannot_see(world):
    kam2 = world.users["kam2"]
    f.AccountTeamMemberFactory(account=world.department, user=kam2, start_date=dt.date(2025, 1, 1))
    rows = {a.name: a.parent_name for a in selectors.account_list(actor=kam2)}
    assert rows == {"Cardiology": None, "Harbor Medical Center": None}
    assert selectors.account_ancestors(actor=kam2, account=world.department) == []
    kam_rows = {a.name: a.parent_name for a in selectors.account_list(actor=world.users["kam"])}
    assert kam_rows["Cardiology"] == "Beacon General Hospital"


def test_child_rollups_count_each_subtree_in_one_query(world, django_assert_num_queries):
    from openkam.stakeholders.models import Position

    onc = services.account_create(actor=world.users["admin"], name="Oncology", type="department", parent=world.hospital)
    f.PositionFactory(account=world.hospital)
    f.PositionFactory(account=world.department)
    same_person = f.PositionFactory(account=onc).stakeholder
    f.PositionFactory(account=world.department, stakeholder=same_person)
    f.PositionFactory(account=world.hospital2)
    f.PositionFactory(account=world.idn)  # at the IDN itself: no child gets it
    with django_assert_num_queries(1):
        people = selectors.account_child_rollup(account=world.idn, rows=Position.objects.all(), count="stakeholder_id")
    assert people == {world.hospital.pk: 3, world.hospital2.pk: 1}
    assert selectors.account_descendant_counts(account=world.idn) == {world.hospital.pk: 2}
    assert selectors.account_child_rollup(
        account=world.hospital, rows=Position.objects.all(), count="stakeholder_id"
    ) == {
        world.department.pk: 2,
        onc.pk: 1,
    }


def test_picker_excludes_the_subtree_and_keeps_the_chosen_account(world):
    kam = world.users["kam"]
    names = [a.name for a in selectors.account_picker(actor=kam, exclude_subtree_of=world.hospital.pk)]
    assert names == ["Beacon Health System", "Beacon North Hospital"]
    names = [a.name for a in selectors.account_picker(actor=kam, q="north", include_id=world.department.pk)]
    assert names == ["Beacon North Hospital", "Cardiology"]
    assert selectors.account_picker(actor=kam, q="harbor") == []
