"""Audit: triggers record every change with context; history tables refuse UPDATE and DELETE."""

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError, ProgrammingError

from openkam.accounts import services
from openkam.accounts.models import Account
from openkam.core.models import User
from openkam.core.selectors import object_history


@pytest.mark.django_db
def test_change_is_recorded_with_actor_reason_and_diff(world):
    admin = world.users["admin"]
    services.account_update(actor=admin, account=world.hospital, city="Boston", reason="address check")
    events = list(object_history(obj=world.hospital))
    assert [e.pgh_label for e in events] == ["update", "insert"]
    update = events[0]
    assert update.pgh_diff["city"] == ["", "Boston"]
    assert update.pgh_context["username"] == "admin"
    assert update.pgh_context["reason"] == "address check"
    assert update.pgh_context["action"] == "accounts.account.update"


@pytest.mark.django_db
def test_raw_sql_changes_are_recorded_too(world):
    with connection.cursor() as cur:
        cur.execute("UPDATE accounts_account SET city = 'Salem' WHERE id = %s", [world.hospital.pk])
    assert object_history(obj=world.hospital).first().pgh_diff["city"] == ["", "Salem"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement", ["UPDATE accounts_accountevent SET name = 'forged'", "DELETE FROM accounts_accountevent"]
)
def test_history_tables_refuse_update_and_delete(world, statement):
    assert Account.pgh_event_model.objects.exists()
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic(), connection.cursor() as cur:
        cur.execute(statement)
    assert Account.pgh_event_model.objects.filter(name="forged").count() == 0


@pytest.mark.django_db
def test_users_are_never_deleted(personas):
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        User.objects.filter(username="kam").delete()
    assert User.objects.filter(username="kam").exists()


@pytest.mark.django_db
def test_compliance_exports_audit_csv_and_kam_may_not(world, web):
    services.account_update(actor=world.users["admin"], account=world.idn, city="Worcester", reason="moved HQ")
    resp = web("compliance").get("/audit/export.csv")
    assert resp.status_code == 200
    body = b"".join(resp.streaming_content).decode()
    assert "accounts.Account" in body and "moved HQ" in body and "Worcester" in body
    assert web("kam").get("/audit/export.csv").status_code == 403
    assert web("compliance").get("/audit/").status_code == 200


def test_history_names_models_readably():
    from openkam.core.templatetags.okam import model_label

    assert model_label("accounts.AccountTeamMember") == "Account team member"
    assert model_label("nope.Missing") == "Missing"


def test_audit_page_shows_the_latest_changes_first(personas: dict, web: object) -> None:
    from openkam.core.models import Territory

    for i in range(3):
        Territory.objects.create(code=f"t-{i}", name=f"Territory {i}")
    resp = web("compliance").get("/audit/")  # type: ignore[operator]
    shown = [(e.pgh_created_at, e.pgh_id) for e in resp.context["events"]]
    assert shown == sorted(shown, reverse=True) and len(shown) >= 3  # the latest first (the CSV: oldest first)
