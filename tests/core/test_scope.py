"""Who sees which account, and hierarchy moves (no cycles; the subtree follows)."""

import pytest

from openkam.accounts import services
from openkam.accounts.models import Account
from openkam.accounts.selectors import account_get, account_scope
from openkam.core.errors import NotFound, PermissionDenied, RuleViolation


def names(user):
    return set(account_scope(actor=user).values_list("name", flat=True))


@pytest.mark.django_db
def test_team_members_see_their_accounts_and_everything_below(world):
    u = world.users
    beacon = {"Beacon Health System", "Beacon General Hospital", "Beacon North Hospital", "Cardiology"}
    assert names(u["kam"]) == beacon
    assert names(u["msl"]) == beacon
    assert names(u["kam2"]) == {"Harbor Medical Center"}
    assert names(u["lead"]) == beacon | {"Harbor Medical Center"}  # the people they manage
    assert names(u["compliance"]) == beacon | {"Harbor Medical Center"}


@pytest.mark.django_db
def test_out_of_scope_is_not_found(world):
    with pytest.raises(NotFound):
        account_get(actor=world.users["kam"], account_id=world.other_account.pk)


@pytest.mark.django_db
def test_move_refuses_cycles(world):
    with pytest.raises(RuleViolation) as exc:
        services.account_move(actor=world.users["kam"], account=world.idn, new_parent=world.department)
    assert exc.value.code == "hierarchy_cycle"
    assert Account.objects.get(pk=world.idn.pk).parent_id is None


@pytest.mark.django_db
def test_move_carries_the_subtree(world):
    admin = world.users["admin"]
    services.account_move(actor=admin, account=world.hospital, new_parent=world.hospital2)
    dept = Account.objects.get(pk=world.department.pk)
    assert dept.ancestors == [world.idn.pk, world.hospital2.pk, world.hospital.pk]
    assert dept.depth == 3
    services.account_move(actor=admin, account=world.hospital, new_parent=None)
    dept.refresh_from_db()
    assert dept.ancestors == [world.hospital.pk] and dept.depth == 1


@pytest.mark.django_db
def test_compliance_cannot_change(world):
    with pytest.raises(PermissionDenied):
        services.account_update(actor=world.users["compliance"], account=world.idn, city="X")
