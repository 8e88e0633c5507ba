"""Personal data: export (JSON, PDF job), erasure by pseudonymisation (audit trail kept, no editing back),
assessment retention (admin setting, purge job), API per role, pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from openkam.core.errors import PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import JobStatus
from openkam.core.selectors import object_history
from openkam.core.services import job_execute
from openkam.privacy import selectors, services
from openkam.relationships.models import RelationshipStrength, StakeholderAssessment
from openkam.stakeholders import services as stakeholder_services
from openkam.stakeholders.models import Stakeholder
from tests import factories as f
from tests.office import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(world: Any) -> Stakeholder:
    from openkam.relationships import services as rel

    admin, kam, msl = world.users["admin"], world.users["kam"], world.users["msl"]
    s = stakeholder_services.stakeholder_create(
        actor=admin, first_name="Ada", last_name="Chen", prefix="Dr.", credentials="MD", npi="1720377294",
        email="ada.chen@example.org", phone="555-0100", notes="Prefers mornings", account=world.hospital,
        title="Chief of Cardiology", consent_email=True, consent_date=dt.date(2025, 3, 1),
    )  # fmt: skip
    rel.strength_set(
        actor=admin, account_id=world.hospital.pk, stakeholder_id=s.pk, user_id=kam.pk, current=3, note="golf buddy"
    )
    rel.assessment_record(
        actor=admin, account_id=world.hospital.pk, stakeholder_id=s.pk, decision_role="champion", stance=2,
        note="Supportive since the 2025 congress",
    )  # fmt: skip
    visit = f.InteractionFactory(account=world.hospital, created_by=kam, subject="Commercial visit")
    exchange = f.InteractionFactory(
        account=world.hospital, created_by=msl, subject="Medical exchange", classification="medical"
    )
    visit.stakeholders.add(s)
    exchange.stakeholders.add(s)
    return s


def test_export_holds_everything_compliance_reads_all(person: Any, world: Any) -> None:
    data = selectors.stakeholder_personal_data(actor=world.users["compliance"], stakeholder_id=person.pk)
    assert data["person"]["last_name"] == "Chen" and data["person"]["email"] == "ada.chen@example.org"
    assert data["consent"]["consent_email"] is True and data["consent"]["consent_date"] == "2025-03-01"
    assert [p["title"] for p in data["positions"]] == ["Chief of Cardiology"]
    subjects = {i["subject"] for i in data["interactions"]}
    assert subjects == {"Commercial visit", "Medical exchange"}  # compliance reads every classification
    assert data["relationships"]["strengths"][0]["note"] == "golf buddy"
    assert data["relationships"]["assessments"][0]["decision_role"] == "champion"
    assert any(e["model"].startswith("stakeholders.") for e in data["audit_events"])


@pytest.mark.parametrize("role", ["kam", "lead", "msl", "access"])
def test_only_compliance_and_admin_export_or_erase(person: Any, world: Any, role: str) -> None:
    with pytest.raises(PermissionDenied):
        selectors.stakeholder_personal_data(actor=world.users[role], stakeholder_id=person.pk)
    with pytest.raises(PermissionDenied):
        services.stakeholder_erase(actor=world.users[role], stakeholder_id=person.pk, reason="x", confirm=True)


def test_pdf_export_job(person: Any, world: Any, tmp_path: Any) -> None:
    job = services.privacy_export_pdf_start(actor=world.users["compliance"], stakeholder_id=person.pk)
    job = job_execute(job_id=job.pk)
    assert job.status == JobStatus.DONE, job.error
    pdf = tmp_path / "export.pdf"
    pdf.write_bytes(bytes(job.result))
    text = pdf_text(pdf)
    for expected in ("Dr. Ada Chen", "ada.chen@example.org", "Chief of Cardiology", "Medical exchange", "golf buddy",
                     "Audit events about the person"):  # fmt: skip
        assert expected in text, expected
    # people read labels, choice names and Yes/No — not the JSON's field names and codes
    for label in ("First name", "NPI", "Consents to email", "Consent recorded on", "Privacy restricted", "Champion",
                  "Advocate", "Medical only", "Stakeholder #"):  # fmt: skip
        assert label in text, label
    for raw in RAW_NAMES:
        assert raw not in text, raw


RAW_NAMES = ("first_name", "last_name", "npi", "consent_email", "consent_date", "privacy_restricted", "do_not_contact",
             "display_name", "decision_role", "stakeholders.StakeholderEvent", "True", "False", "insert")  # fmt: skip


def test_json_export_keeps_stable_field_names(person: Any, world: Any) -> None:
    """Programs read the JSON: its keys are the model field names, whatever the reader's language."""
    from django.utils import translation

    with translation.override("de"):
        data = selectors.stakeholder_personal_data(actor=world.users["compliance"], stakeholder_id=person.pk)
    assert set(data) == {"exported_at", "exported_by", "stakeholder_id", "erased_at", "person", "consent",
                         "positions", "committee_seats", "interactions", "relationships", "audit_events",
                         "users"}  # fmt: skip
    assert set(data["person"]) == {*selectors.PERSON_FIELDS, "display_name", "specialty", "created_at", "updated_at"}
    assert data["consent"] == {"consent_contact": True, "consent_email": True, "consent_date": "2025-03-01",
                               "do_not_contact": False, "privacy_restricted": False}  # fmt: skip
    assert data["positions"][0]["role_in_decision"] == "unknown"
    assert {i["classification"] for i in data["interactions"]} == {"commercial", "medical"}


def test_labelled_export_for_people(person: Any, world: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    data = selectors.stakeholder_personal_data(actor=world.users["compliance"], stakeholder_id=person.pk)
    with CaptureQueriesContext(connection) as queries:
        v = selectors.personal_data_for_people(data)
    assert len(queries) == 0  # labels come from model metadata, not the database
    person_rows = {r["key"]: (r["label"], r["value"]) for r in v["person"]}
    assert person_rows["first_name"] == ("First name", "Ada") and person_rows["npi"] == ("NPI", "1720377294")
    assert person_rows["kind"] == ("Kind", "Physician")
    consent = {r["key"]: (r["label"], r["value"]) for r in v["consent"]}
    assert consent["privacy_restricted"] == ("Privacy restricted", "No")
    assert consent["consent_email"] == ("Consents to email", "Yes")
    assert consent["consent_date"] == ("Consent recorded on", "03/01/2025")  # the reader's locale
    assert v["positions"][0]["role_in_decision"] == "Unknown" and v["positions"][0]["primary"] == "Yes"
    assert {i["classification_label"] for i in v["interactions"]} == {"Commercial only", "Medical only"}
    assert (v["assessments"][0]["decision_role"], v["assessments"][0]["stance"]) == ("Champion", "Advocate")
    assert v["strengths"][0]["current"] == "Good"
    events = {(e["record"], e["event"]) for e in v["audit_events"]}
    assert events >= {("Stakeholder", "created"), ("Position", "created")}
    stakeholder_services.stakeholder_update(actor=world.users["admin"], stakeholder=person.pk, email="a@example.org",
                                            privacy_restricted=True)  # fmt: skip
    data = selectors.stakeholder_personal_data(actor=world.users["compliance"], stakeholder_id=person.pk)
    # (one test transaction: every event has the same timestamp, so find the change rather than take the newest)
    changed = [e for e in selectors.personal_data_for_people(data)["audit_events"] if e["event"] == "changed"]
    assert [(e["record"], e["fields"]) for e in changed] == [("Stakeholder", "Email, Privacy restricted")]
    with translation.override("de"):
        v = selectors.personal_data_for_people(data)
    labels = {r["key"]: r["label"] for r in v["consent"]}
    assert labels["privacy_restricted"] != "Privacy restricted"  # translated (German catalogue)
    assert {r["value"] for r in v["consent"] if r["key"] == "privacy_restricted"} == {"Ja"}


def test_erasure_pseudonymises_and_keeps_the_audit_trail(person: Any, world: Any) -> None:
    compliance = world.users["compliance"]
    before = object_history(obj=person).count()
    s = services.stakeholder_erase(actor=compliance, stakeholder_id=person.pk, reason="DP-114", confirm=True)
    s.refresh_from_db()
    assert s.display_name == f"Erased person #{s.pk}" and s.erased_at is not None
    assert (s.npi, s.email, s.phone, s.notes, s.credentials, s.specialty_id) == ("", "", "", "", "", None)
    assert s.do_not_contact and not s.consent_contact and not s.consent_email and s.privacy_restricted
    assert s.positions.count() == 1  # the role history stays
    assert RelationshipStrength.objects.get(stakeholder=s).note == ""
    assert not StakeholderAssessment.objects.filter(stakeholder=s).exclude(note="").exists()
    events = list(object_history(obj=s))
    assert len(events) == before + 1 and events[0].pgh_context["reason"] == "DP-114"
    assert events[0].pgh_context["action"] == "privacy.stakeholder.erase"
    # the relationships step is part of the erasure: its events carry the erasure's action and reason
    note_event = object_history(obj=RelationshipStrength.objects.get(stakeholder=s)).first()
    assert (note_event.pgh_context["action"], note_event.pgh_context["reason"]) == (
        "privacy.stakeholder.erase",
        "DP-114",
    )
    assert note_event.pgh_context["steps"] == ["relationships.stakeholder.pseudonymise"]
    # the earlier events are append-only and stay (documented in docs/privacy.md)
    assert any(e.pgh_data.get("last_name") == "Chen" for e in events[1:])


def test_an_erased_person_cannot_be_edited_back(person: Any, world: Any) -> None:
    services.stakeholder_erase(actor=world.users["admin"], stakeholder_id=person.pk, reason="request", confirm=True)
    with pytest.raises(RuleViolation) as exc:
        stakeholder_services.stakeholder_update(actor=world.users["admin"], stakeholder=person.pk, first_name="Ada")
    assert exc.value.code == "stakeholder_erased"
    assert Stakeholder.objects.get(pk=person.pk).first_name == "Erased person"
    with pytest.raises(RuleViolation):
        services.stakeholder_erase(actor=world.users["admin"], stakeholder_id=person.pk, reason="again", confirm=True)


def test_erasure_needs_a_reason_and_a_confirmation(person: Any, world: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.stakeholder_erase(actor=world.users["compliance"], stakeholder_id=person.pk, reason=" ", confirm=False)
    assert {e.field for e in exc.value.errors} == {"reason", "confirm"}
    assert Stakeholder.objects.get(pk=person.pk).erased_at is None


def test_retention_setting_and_purge_job(person: Any, world: Any) -> None:
    from openkam.relationships import services as rel

    admin = world.users["admin"]
    rel.assessment_record(
        actor=admin, account_id=world.hospital.pk, stakeholder_id=person.pk, decision_role="champion", stance=1
    )  # supersedes the first version
    old = StakeholderAssessment.objects.filter(stakeholder=person, superseded_at__isnull=False)
    assert old.count() == 1
    old.update(
        effective_from=timezone.now() - dt.timedelta(days=500), superseded_at=timezone.now() - dt.timedelta(days=400)
    )
    with pytest.raises(PermissionDenied):
        services.retention_set(actor=world.users["compliance"], days=365)
    assert services.retention_set(actor=admin, days=365, reason="policy") == 365
    job = job_execute(job_id=services.retention_purge_start(actor=admin).pk)
    assert job.status == JobStatus.DONE and job.summary["deleted"] == 1 and "1 assessment" in job.message
    assert StakeholderAssessment.objects.filter(stakeholder=person).count() == 1  # the current one stays
    with pytest.raises(ValidationFailed):
        services.retention_set(actor=admin, days=0)


# --- API ------------------------------------------------------------------------------------------------
def test_api(person: Any, world: Any, api: Any) -> None:
    status, body = api("compliance").get(f"privacy/stakeholders/{person.pk}/export")
    assert status == 200 and body["person"]["npi"] == "1720377294"
    assert api("kam").get(f"privacy/stakeholders/{person.pk}/export")[0] == 403
    assert api("compliance").get("privacy/stakeholders/999999/export")[0] == 404
    status, body = api("compliance").post(f"privacy/stakeholders/{person.pk}/export-pdf")
    assert status == 202 and body["kind"] == "privacy.export_pdf"
    status, body = api("compliance").post(f"privacy/stakeholders/{person.pk}/erase", {"reason": "", "confirm": False})
    assert status == 422 and {e["field"] for e in body["errors"]} == {"reason", "confirm"}
    status, body = api("compliance").post(
        f"privacy/stakeholders/{person.pk}/erase", {"reason": "DP-114", "confirm": True}
    )
    assert status == 200 and body["display_name"] == f"Erased person #{person.pk}"
    status, body = api("admin").put("privacy/retention", {"assessment_retention_days": 730})
    assert status == 200 and body["assessment_retention_days"] == 730
    assert api("compliance").put("privacy/retention", {"assessment_retention_days": 1})[0] == 403
    assert api("compliance").get("privacy/retention")[1]["assessment_retention_days"] == 730
    assert api("admin").post("privacy/retention/purge")[0] == 202


# --- pages -----------------------------------------------------------------------------------------------
def visible_text(html: str) -> str:
    """What a reader sees: the page without tags and attributes (``data-field="first_name"`` is for tests)."""
    import re

    return re.sub(r"<[^>]+>", " ", html.split("<main", 1)[-1])


def test_pages(person: Any, world: Any, web: Any) -> None:
    client = web("compliance")
    html = client.get("/privacy/?q=Chen").content.decode()
    assert 'data-testid="privacy-result"' in html
    html = client.get(f"/privacy/stakeholders/{person.pk}/").content.decode()
    assert "ada.chen@example.org" in html and 'data-testid="erase-form"' in html
    text = visible_text(html)
    for label in ("First name", "NPI", "Consents to email", "Privacy restricted", "Role in decision", "Champion",
                  "Medical only", "Changed fields"):  # fmt: skip
        assert label in text, label
    for raw in RAW_NAMES:
        assert raw not in text, raw
    resp = client.get(f"/privacy/stakeholders/{person.pk}/export.json")
    assert resp.status_code == 200 and b'"golf buddy"' in resp.content and "attachment" in resp["Content-Disposition"]
    resp = client.post(f"/privacy/stakeholders/{person.pk}/erase/", {"reason": "", "confirm": ""})
    assert resp.status_code == 422 and 'data-testid="error-reason"' in resp.content.decode()
    resp = client.post(f"/privacy/stakeholders/{person.pk}/erase/", {"reason": "DP-114", "confirm": "on"})
    assert resp.status_code == 302
    html = client.get(f"/privacy/stakeholders/{person.pk}/").content.decode()
    assert 'data-testid="erased-banner"' in html and "ada.chen@example.org" not in html.split("audit")[0]
    assert web("kam").get("/privacy/").status_code == 403
    assert web("kam").get(f"/privacy/stakeholders/{person.pk}/").status_code == 403


# --- review item 16: our people by name, plurals, the finished job card --------------------------------------
def test_export_names_our_people_by_full_name(person: Any, world: Any) -> None:
    """The PDF and page show "Kim Kam", not the username "kam"; the username only when there is no name."""
    kam, msl = world.users["kam"], world.users["msl"]
    msl.first_name = msl.last_name = ""
    msl.save(update_fields=["first_name", "last_name"])
    data = selectors.stakeholder_personal_data(actor=world.users["compliance"], stakeholder_id=person.pk)
    assert data["relationships"]["strengths"][0]["user"] == "kam"  # the JSON keeps the stable reference
    assert data["users"]["kam"] == "Kim Kam" and data["users"]["msl"] == "msl"
    v = selectors.personal_data_for_people(data)
    assert [x["user"] for x in v["strengths"]] == ["Kim Kam"]
    assert {i["subject"]: i["logged_by"] for i in v["interactions"]} == {
        "Commercial visit": "Kim Kam",
        "Medical exchange": "msl",
    }
    assert v["exported_by"] == world.users["compliance"].get_full_name()
    assert v["assessments"][0]["recorded_by"] == world.users["admin"].get_full_name()
    assert "admin" not in {e["by"] for e in v["audit_events"]}
    assert kam.get_full_name() == "Kim Kam"


def test_pdf_names_our_people(person: Any, world: Any, tmp_path: Any) -> None:
    job = job_execute(
        job_id=services.privacy_export_pdf_start(actor=world.users["compliance"], stakeholder_id=person.pk).pk
    )
    assert job.status == JobStatus.DONE
    pdf = tmp_path / "export.pdf"
    pdf.write_bytes(bytes(job.result))
    text = " ".join(pdf_text(pdf).split())
    assert "Kim Kam" in text and "Mia Msl" in text
    assert world.users["compliance"].get_full_name() in text  # "exported by …"


def test_page_counts_relationships_in_singular_and_plural(person: Any, world: Any, web: Any) -> None:
    html = web("compliance").get(f"/privacy/stakeholders/{person.pk}/").content.decode()
    counts = " ".join(
        visible_text(html.split('data-testid="privacy-relationship-counts">', 1)[1].split("</span>")[0]).split()
    )
    assert counts == "1 assessment version, 1 relationship strength, 0 influence links."
    assert f"<td>{world.users['admin'].get_full_name()}</td>" in html


def test_a_done_job_card_shows_no_stale_progress_message(person: Any, world: Any, web: Any) -> None:
    compliance = world.users["compliance"]
    job = job_execute(job_id=services.privacy_export_pdf_start(actor=compliance, stakeholder_id=person.pk).pk)
    assert job.message == "Rendering the PDF"  # the last progress reported (kept in the record)
    html = web("compliance").get(f"/me/jobs/{job.pk}/").content.decode()
    assert 'data-status="done"' in html and "Rendering the PDF" not in html and "2 / 2" not in html
    assert 'data-testid="job-progress"' not in html


def test_a_done_job_card_shows_the_outcome_and_plurals(person: Any, world: Any, web: Any) -> None:
    admin = world.users["admin"]
    services.retention_set(actor=admin, days=1, reason="policy")
    job = job_execute(job_id=services.retention_purge_start(actor=admin).pk)
    assert job.label == "Assessment retention: older than 1 day"
    assert job.summary["outcome"] == "0 assessment versions deleted"
    html = web("admin").get(f"/me/jobs/{job.pk}/").content.decode()
    assert 'data-testid="job-outcome"' in html and "0 assessment versions deleted" in html
    assert "Kept for <strong>1</strong> day." in web("admin").get("/privacy/").content.decode()


def test_a_failed_job_keeps_how_far_it_got_a_cancelled_one_shows_none(world: Any, web: Any) -> None:
    from openkam.core.models import Job

    compliance = world.users["compliance"]
    failed = Job.objects.create(
        kind="privacy.export_pdf", label="PDF", requested_by=compliance, status=JobStatus.FAILED,
        done=1, total=2, message="Rendering the PDF", error="Boom.",
    )  # fmt: skip
    cancelled = Job.objects.create(
        kind="privacy.export_pdf", label="PDF", requested_by=compliance, status=JobStatus.CANCELLED,
        message="Collecting the data",
    )  # fmt: skip
    html = web("compliance").get(f"/me/jobs/{failed.pk}/").content.decode()
    assert "1 / 2 · Rendering the PDF" in html and "Boom." in html
    html = web("compliance").get(f"/me/jobs/{cancelled.pk}/").content.decode()
    assert "Collecting the data" not in html and 'data-testid="job-progress"' not in html
