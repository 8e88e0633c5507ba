"""NPPES import: dry run, all-or-nothing apply (a job), matching by NPI, NUCC mapping, access, API and page."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openkam.accounts.models import Account
from openkam.core.errors import PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import JobStatus
from openkam.core.services import job_execute
from openkam.stakeholders import importers
from openkam.stakeholders.models import Position, Specialty, Stakeholder
from tests import factories as f

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[1] / "data" / "nppes"


def doc(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_bytes())


def raw(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_preview_of_new_people_writes_nothing(world: Any) -> None:
    kam = world.users["kam"]
    plan = importers.nppes_import_preview(actor=kam, payload=raw("api-34c18d.json"), account_id=world.hospital.pk)
    assert (plan.created, plan.updated, plan.skipped, plan.people) == (10, 0, 0, 10)
    kam_row = next(r for r in plan.rows if r.npi == "1144227976")  # BOB KAM: primary taxonomy listed second
    assert kam_row.name.startswith("Bob Kam") and kam_row.action == "create"
    assert kam_row.specialty == Specialty.objects.get(pk="207L00000X").display_name
    assert not Stakeholder.objects.exists() and not Position.objects.exists()


def test_new_people_without_an_account_are_skipped_with_the_reason(world: Any) -> None:
    plan = importers.nppes_import_preview(actor=world.users["kam"], payload=raw("api-b2f594.json"))
    assert plan.skipped == 1 and "choose the account" in plan.rows[0].reason


def test_apply_creates_people_with_specialty_kind_and_position(world: Any) -> None:
    kam = world.users["kam"]
    job = importers.nppes_import_start(
        actor=kam, payload=raw("api-34c18d.json"), account_id=world.hospital.pk, reason="Q3 refresh"
    )
    assert job.status == JobStatus.QUEUED and not Stakeholder.objects.exists()
    job = job_execute(job_id=job.pk)
    assert job.status == JobStatus.DONE, job.error
    assert job.summary["created"] == 10 and "Created 10" in job.message
    bob = Stakeholder.objects.get(npi="1144227976")
    assert (bob.first_name, bob.last_name) == ("Bob", "Kam")
    assert bob.specialty_id == "207L00000X" and bob.kind == "physician"
    assert bob.consent_contact is False  # a registry entry implies no consent
    pharmacist = Stakeholder.objects.get(npi="1548268055")  # 183500000X
    assert pharmacist.kind == "pharmacist"
    position = Position.objects.get(stakeholder=bob)
    assert position.account_id == world.hospital.pk and position.is_primary and position.title == "Anesthesiology"
    # the import is audited with the reason
    from openkam.core.selectors import object_history

    event = object_history(obj=bob).first()
    assert event is not None and event.pgh_context["reason"] == "Q3 refresh"


def test_update_changes_only_registry_fields_and_previews_old_to_new(world: Any) -> None:
    kam = world.users["kam"]
    person = f.StakeholderFactory(
        first_name="Elise", last_name="Hizza", npi="1720377294", email="e.hiza@example.org", phone="", notes="keep"
    )
    f.PositionFactory(stakeholder=person, account=world.hospital, title="Surgeon")
    plan = importers.nppes_import_preview(actor=kam, payload=raw("api-b2f594.json"))
    row = plan.rows[0]
    assert row.action == "update" and row.existing_id == person.pk
    changed = {c.field: (c.old, c.new) for c in row.changes}
    assert changed["last_name"] == ("Hizza", "Hiza")
    assert changed["specialty"][1] == Specialty.objects.get(pk="207X00000X").display_name
    assert changed["phone"] == ("", "828-252-7331")
    importers.nppes_import_apply(actor=kam, payload=raw("api-b2f594.json"))
    person.refresh_from_db()
    assert person.last_name == "Hiza" and person.specialty_id == "207X00000X" and person.credentials == "M.D."
    assert person.email == "e.hiza@example.org" and person.notes == "keep"  # never touched
    again = importers.nppes_import_preview(actor=kam, payload=raw("api-b2f594.json"))
    assert again.rows[0].action == "skip" and again.rows[0].reason == "Already up to date."


def test_organisations_create_and_update_accounts(world: Any) -> None:
    kam = world.users["kam"]
    existing = f.AccountFactory(name="Northeast Atlanta Vascular", type="clinic", npi="1417229741", city="")
    f.AccountTeamMemberFactory(account=existing, user=kam, start_date=timezone.localdate())
    plan = importers.nppes_import_preview(actor=kam, payload=raw("api-1f9cef.json"), parent_id=world.idn.pk)
    assert (plan.created, plan.updated, plan.organisations) == (9, 1, 10)
    importers.nppes_import_apply(actor=kam, payload=raw("api-1f9cef.json"), parent_id=world.idn.pk)
    csp = Account.objects.get(npi="1568946812")
    assert csp.name == "CSP ANESTHESIA LLC" and csp.parent_id == world.idn.pk and csp.type == "clinic"
    assert (csp.address_line, csp.city, csp.state, csp.postal_code) == (
        "403 PERMIAN WAY STE D",
        "Villa Rica",
        "GA",
        "30180-3226",
    )
    home_health = Account.objects.get(npi="1447417639")  # 251E00000X: an agency
    assert home_health.type == "other"
    existing.refresh_from_db()
    assert existing.name == "Northeast Atlanta Vascular" and existing.city  # name kept, address from the registry


def test_skips_deactivated_erased_and_invisible_people(world: Any) -> None:
    kam = world.users["kam"]
    payload = doc("api-34c18d.json")
    payload["results"][0]["basic"]["status"] = "D"  # ABERNATHY deactivated
    erased = f.StakeholderFactory(first_name="Erased", last_name="Person", npi="1780689109")
    f.PositionFactory(stakeholder=erased, account=world.hospital, title="x")
    Stakeholder.objects.filter(pk=erased.pk).update(erased_at=timezone.now())
    hidden = f.StakeholderFactory(first_name="Bob", last_name="Biller", npi="1225035769")
    f.PositionFactory(stakeholder=hidden, account=world.other_account, title="x")  # kam2's account
    plan = importers.nppes_import_preview(actor=kam, payload=payload, account_id=world.hospital.pk)
    reasons = {r.npi: r.reason for r in plan.rows if r.action == "skip"}
    assert "Deactivated" in reasons["1114920071"]
    assert "erased on request" in reasons["1780689109"]
    assert "cannot see" in reasons["1225035769"]
    assert plan.created == 7
    # the admin sees the hidden person and would update them; the erased one stays skipped
    admin = world.users["admin"]
    admin_plan = importers.nppes_import_preview(actor=admin, payload=payload, account_id=world.hospital.pk)
    by_npi = {r.npi: r for r in admin_plan.rows}
    assert by_npi["1225035769"].action == "update" and by_npi["1780689109"].action == "skip"


@pytest.mark.parametrize(
    ("name", "code"),
    [("api-8d2d52.json", "nppes_api_error"), ("api-a2f836.json", "nppes_empty")],
)
def test_error_and_empty_answers_are_refused_clearly(world: Any, name: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        importers.nppes_import_preview(actor=world.users["kam"], payload=raw(name), account_id=world.hospital.pk)
    assert exc.value.code == code and exc.value.errors[0].field == "file"


def test_malformed_file_writes_nothing(world: Any) -> None:
    broken = doc("api-34c18d.json")
    broken["results"][4]["number"] = 1144227977  # bad check digit in the 5th provider
    with pytest.raises(ValidationFailed, match=r"results\[4\]\.number"):
        importers.nppes_import_apply(actor=world.users["kam"], payload=broken, account_id=world.hospital.pk)
    assert not Stakeholder.objects.exists()


def test_the_job_rechecks_access_and_writes_nothing_when_refused(world: Any) -> None:
    """Between the preview and the worker, kam leaves the IDN's team: the parent account is no longer visible,
    the job fails with the reason and no account of the file exists."""
    from openkam.accounts.models import AccountTeamMember

    kam = world.users["kam"]
    job = importers.nppes_import_start(actor=kam, payload=doc("api-1f9cef.json"), parent_id=world.idn.pk)
    AccountTeamMember.objects.filter(user=kam).update(end_date=timezone.localdate() - dt.timedelta(days=1))
    job = job_execute(job_id=job.pk)
    assert job.status == JobStatus.FAILED and "No such account" in job.error
    assert not Account.objects.filter(npi="1568946812").exists()


def test_partial_failure_mid_import_leaves_nothing(world: Any, monkeypatch: Any) -> None:
    kam = world.users["kam"]
    calls = {"n": 0}
    real = importers.stakeholder_services.stakeholder_create

    def flaky(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 6:
            raise ValidationFailed("refused", field="last_name", code="x")
        return real(**kwargs)

    monkeypatch.setattr(importers.stakeholder_services, "stakeholder_create", flaky)
    with pytest.raises(ValidationFailed, match=r"Provider #6 \(NPI \d{10}"):
        importers.nppes_import_apply(actor=kam, payload=raw("api-34c18d.json"), account_id=world.hospital.pk)
    assert calls["n"] == 6 and not Stakeholder.objects.exists() and not Position.objects.exists()


def test_nothing_to_do_is_refused(world: Any) -> None:
    with pytest.raises(RuleViolation):
        importers.nppes_import_start(actor=world.users["kam"], payload=raw("api-b2f594.json"))  # no account


@pytest.mark.parametrize("role", ["msl", "compliance"])
def test_roles_that_may_not_import(world: Any, role: str) -> None:
    with pytest.raises(PermissionDenied):
        importers.nppes_import_preview(actor=world.users[role], payload=raw("api-b2f594.json"))


def test_out_of_scope_account_is_refused(world: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        importers.nppes_import_preview(
            actor=world.users["kam"], payload=raw("api-b2f594.json"), account_id=world.other_account.pk
        )
    assert exc.value.errors[0].field == "account_id"


def test_preview_queries_do_not_grow_with_the_file(world: Any) -> None:
    kam = world.users["kam"]
    one = doc("api-b2f594.json")
    many = doc("api-34c18d.json")
    for s in [*one["results"], *many["results"][:5]]:
        person = f.StakeholderFactory(first_name="x", last_name="y", npi=str(s["number"]))
        f.PositionFactory(stakeholder=person, account=world.hospital, title="t")
    with CaptureQueriesContext(connection) as small:
        importers.nppes_import_preview(actor=kam, payload=one, account_id=world.hospital.pk)
    with CaptureQueriesContext(connection) as big:
        importers.nppes_import_preview(actor=kam, payload=many, account_id=world.hospital.pk)
    assert len(big) == len(small)


def test_name_case() -> None:
    assert importers.name_case("O'NEIL-SMITH") == "O'Neil-Smith"
    assert importers.name_case("MCCRANIE") == "McCranie"
    assert importers.name_case("van der Berg") == "van der Berg"


# --- API --------------------------------------------------------------------------------------------
def test_api_preview_and_import(world: Any, api: Any) -> None:
    status, body = api("access").post(
        "stakeholders/nppes/preview", {"payload": doc("api-b2f594.json"), "account_id": world.hospital.pk}
    )
    assert status == 200, body
    assert body["created"] == 1 and body["rows"][0]["action"] == "create" and body["rows"][0]["npi"] == "1720377294"
    status, body = api("access").post(
        "stakeholders/nppes/import",
        {"payload": doc("api-b2f594.json"), "account_id": world.hospital.pk, "reason": "api"},
    )
    assert status == 202 and body["status"] == "queued" and body["kind"] == "stakeholders.nppes_import"
    job_execute(job_id=body["id"])
    status, body = api("access").get(f"me/jobs/{body['id']}")
    assert body["status"] == "done" and body["summary"]["created"] == 1
    assert Stakeholder.objects.filter(npi="1720377294").exists()


def test_api_errors(world: Any, api: Any) -> None:
    status, body = api("kam").post("stakeholders/nppes/preview", {"payload": doc("api-8d2d52.json")})
    assert status == 422 and body["code"] == "nppes_api_error" and body["errors"][0]["field"] == "file"
    assert "No valid search criteria" in body["message"]
    status, body = api("msl").post("stakeholders/nppes/preview", {"payload": doc("api-b2f594.json")})
    assert status == 403
    status, body = api("compliance").post("stakeholders/nppes/import", {"payload": doc("api-b2f594.json")})
    assert status == 403
    status, body = api("kam").post(
        "stakeholders/nppes/preview", {"payload": doc("api-b2f594.json"), "account_id": world.other_account.pk}
    )
    assert status == 422 and body["errors"][0]["field"] == "account_id"
    status, body = api("kam").post("stakeholders/nppes/import", {"payload": doc("api-b2f594.json")})
    assert status == 400 and body["code"] == "nppes_nothing_to_do"
    assert not Stakeholder.objects.exists()


# --- page -------------------------------------------------------------------------------------------
def test_page_preview_then_import(world: Any, web: Any) -> None:
    client = web("admin")
    assert client.get("/stakeholders/import/nppes/").status_code == 200
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("oncology.json", raw("api-f62abe.json"), content_type="application/json")
    resp = client.post("/stakeholders/import/nppes/", {"step": "preview", "file": upload, "account": world.hospital.pk})
    html = resp.content.decode()
    assert resp.status_code == 200 and 'data-testid="nppes-preview-card"' in html
    assert html.count('data-testid="nppes-row"') == 5 and "5 to create" in html
    token = resp.context["token"]
    resp = client.post(
        "/stakeholders/import/nppes/", {"step": "apply", "token": token, "account": world.hospital.pk, "reason": ""}
    )
    html = resp.content.decode()
    assert 'data-testid="nppes-job-card"' in html and 'data-status="queued"' in html
    job_execute(job_id=resp.context["job"].pk)
    assert Stakeholder.objects.count() == 5
    # the token was used: applying again is refused with a clear message
    resp = client.post("/stakeholders/import/nppes/", {"step": "apply", "token": token})
    assert "no longer available" in resp.content.decode()


def test_page_shows_file_errors_next_to_the_field(world: Any, web: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("bad.json", b"{oops", content_type="application/json")
    resp = web("kam").post("/stakeholders/import/nppes/", {"step": "preview", "file": upload})
    html = resp.content.decode()
    assert 'data-testid="error-file"' in html and "not valid JSON" in html
    assert web("msl").get("/stakeholders/import/nppes/").status_code == 403
    assert web("compliance").get("/stakeholders/import/nppes/").status_code == 403


# --- review item 11: no account chosen, preview again without uploading again, plurals, JSON errors ----------
def test_preview_says_why_new_people_are_skipped_and_previews_again_with_the_kept_file(world: Any, web: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = web("admin")
    upload = SimpleUploadedFile("oncology.json", raw("api-f62abe.json"), content_type="application/json")
    resp = client.post("/stakeholders/import/nppes/", {"step": "preview", "file": upload})
    html = resp.content.decode()
    assert resp.context["plan"].people_need_account == 5 and 'data-testid="nppes-needs-account"' in html
    assert "5 new people are skipped: no account for new people was chosen." in html
    assert 'data-testid="nppes-kept-file"' in html and "oncology.json" in html
    token = resp.context["token"]
    assert f'<input type="hidden" name="token" value="{token}">' in html.split('data-testid="nppes-upload-form"')[1]
    # choose the account and preview again — no file sent: the kept one is used
    resp = client.post("/stakeholders/import/nppes/", {"step": "preview", "token": token, "account": world.hospital.pk})
    html = resp.content.decode()
    assert resp.context["plan"].created == 5 and 'data-testid="nppes-needs-account"' not in html
    assert "Choose the JSON file" not in html and "Preview of oncology.json" in html
    resp = client.post("/stakeholders/import/nppes/", {"step": "apply", "token": resp.context["token"],
                                                        "account": world.hospital.pk})  # fmt: skip
    job = job_execute(job_id=resp.context["job"].pk)
    assert job.status == JobStatus.DONE and Stakeholder.objects.count() == 5
    assert job.label == "NPPES import: 5 providers (oncology.json)" and job.summary["outcome"].startswith("Created 5")


def test_a_preview_again_needs_the_sessions_token(world: Any, web: Any) -> None:
    """A token that is not this session's (or none) never reads a kept file: the file is asked for again."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    admin = web("admin")
    upload = SimpleUploadedFile("oncology.json", raw("api-f62abe.json"), content_type="application/json")
    token = admin.post("/stakeholders/import/nppes/", {"step": "preview", "file": upload}).context["token"]
    for client, sent in ((web("kam"), token), (admin, "forged"), (admin, "")):
        resp = client.post("/stakeholders/import/nppes/", {"step": "preview", "token": sent})
        html = resp.content.decode()
        assert "Choose the JSON file to import." in html and "plan" not in resp.context


def test_one_new_person_in_singular(world: Any, web: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("one.json", raw("api-b2f594.json"), content_type="application/json")
    html = web("kam").post("/stakeholders/import/nppes/", {"step": "preview", "file": upload}).content.decode()
    assert "1 new person is skipped: no account for new people was chosen." in html
    assert "1 person, 0 organisations" in html


def test_api_preview_names_the_skip_and_the_people_waiting_for_an_account(world: Any, api: Any) -> None:
    status, body = api("kam").post("stakeholders/nppes/preview", {"payload": doc("api-b2f594.json")})
    assert status == 200 and body["people_need_account"] == 1 and body["rows"][0]["skip"] == "needs_account"
    status, body = api("kam").post(
        "stakeholders/nppes/preview", {"payload": doc("api-b2f594.json"), "account_id": world.hospital.pk}
    )
    assert status == 200 and body["people_need_account"] == 0 and body["rows"][0]["skip"] == ""


def test_malformed_json_gets_a_clean_message(world: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        importers.nppes_import_preview(actor=world.users["kam"], payload=b'{"a": "bc')
    assert exc.value.message == "The file is not valid JSON: unterminated string at line 1, column 7."
    with pytest.raises(ValidationFailed) as exc:
        importers.nppes_import_preview(actor=world.users["kam"], payload=b"[1,]")
    assert exc.value.message == "The file is not valid JSON: expecting value at line 1, column 4."


def test_the_account_picker_counts_in_singular(world: Any, web: Any) -> None:
    name = world.hospital.name
    html = web("kam").get("/stakeholders/options/account/", {"q": name}).content.decode()
    assert "— 1 match —" in html and "1 matches" not in html
