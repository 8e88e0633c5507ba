"""Handover in a real browser: a lead previews and hands over a KAM's book (a job: progress, then the result),
then downloads a handover report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from openkam.core.models import Job
from openkam.core.services import job_execute
from openkam.handover.models import Handover
from tests.browser.conftest import shot
from tests.handover.conftest import book  # noqa: F401  (fixture)
from tests.office import pdf_text, pdf_to_pngs

pytestmark = pytest.mark.django_db(transaction=True)


def test_lead_hands_over_a_book_and_downloads_the_report(book: Any, page: Any, login: Any, tmp_path: Path) -> None:  # noqa: F811
    w = book.world
    kam, kam2 = w.users["kam"], w.users["kam2"]
    login("lead")
    page.goto("/")
    page.get_by_role("link", name="Handover").first.click()
    page.get_by_test_id("from-user").select_option(str(kam.pk))
    expect(page.get_by_test_id("book-row")).to_have_count(1)
    expect(page.get_by_test_id("book")).to_contain_text("Beacon Health System")
    expect(page.get_by_test_id("book-subtree")).to_have_text("3")  # 2 hospitals and a department below it
    expect(page.locator("#id_reason")).to_have_attribute("aria-required", "true")
    expect(page.locator('label[for="id_reason"]')).to_contain_text("*")
    page.select_option("#id_to_user", str(kam2.pk))
    page.fill("#id_reason", "Kim moves to the West territory")
    page.get_by_test_id("handover-preview").click()
    card = page.get_by_test_id("handover-preview-card")
    expect(card).to_be_visible()
    expect(page.get_by_test_id("total-relationships")).to_have_text("2")
    expect(page.get_by_test_id("total-actions")).to_have_text("2")
    expect(page.get_by_test_id("preview-subtree")).to_have_text("and 3 accounts below")
    shot(page, "handover-preview")
    page.get_by_test_id("handover-perform").click()
    expect(page.get_by_test_id("error-confirm")).to_be_visible()  # the confirmation is required
    assert not Handover.objects.exists()
    page.check("#id_confirm")
    page.get_by_test_id("handover-perform").click()
    # the handover runs as a job: its progress card polls itself, the result appears when it is done
    job_card = page.get_by_test_id("job")
    expect(job_card).to_have_attribute("data-status", "queued")
    expect(page.get_by_test_id("handover-result")).to_have_attribute("data-status", "queued")
    assert not Handover.objects.exists()
    shot(page, "handover-job-queued")
    job = Job.objects.get(kind="handover.perform")
    assert job_execute(job_id=job.pk).status == "done"  # what the worker does
    expect(job_card).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("handover-done")).to_contain_text("is now with")
    shot(page, "handover-job-done")
    page.get_by_test_id("handover-result-link").click()
    expect(page.get_by_test_id("handover-accounts")).to_contain_text("Beacon Health System")
    expect(page.get_by_test_id("count-relationships")).to_have_text("2")
    page.get_by_test_id("report-account").click()
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "queued")
    job_execute(job_id=Job.objects.get(kind="handover.report").pk)  # what the worker does
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "done")
    shot(page, "handover-done")
    with page.expect_download() as info:
        page.get_by_test_id("job-download").click()
    pdf = tmp_path / "handover.pdf"
    info.value.save_as(pdf)
    text = pdf_text(pdf)
    assert "Beacon Health System" in text and "Ada Chen" in text and "Book the P&T slot" in text
    out = Path("var/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    for i, png in enumerate(pdf_to_pngs(pdf, tmp_path, dpi=60, first=1, last=3)):
        (out / f"handover-report-p{i + 1}.png").write_bytes(png.read_bytes())


def test_inactive_colleagues_are_not_offered(book: Any, page: Any, login: Any) -> None:  # noqa: F811
    from tests import factories as f

    w = book.world
    gone = f.UserFactory(username="gone", role="kam", manager=w.users["lead"], is_active=False)
    login("admin")
    page.goto(f"/handover/?from_user={w.users['kam'].pk}")
    # inactive users are not offered as colleagues at all
    assert page.locator(f"#id_to_user option[value='{gone.pk}']").count() == 0


def _start_handover(page: Any, login: Any, kam: Any, kam2: Any) -> None:
    """As the lead: hand kam's book to kam2 from the handover page (preview, confirm); the job is queued."""
    login("lead")
    page.goto(f"/handover/?from_user={kam.pk}")
    page.select_option("#id_to_user", str(kam2.pk))
    page.fill("#id_reason", "Kim moves to the West territory")
    page.get_by_test_id("handover-preview").click()
    expect(page.get_by_test_id("handover-preview-card")).to_be_visible()
    page.check("#id_confirm")
    page.get_by_test_id("handover-perform").click()
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "queued")


def test_a_failed_handover_job_says_why_and_nothing_moved(book: Any, page: Any, login: Any, monkeypatch: Any) -> None:  # noqa: F811
    from openkam.accounts import services as account_services
    from openkam.core.errors import ValidationFailed

    w = book.world
    kam, kam2 = w.users["kam"], w.users["kam2"]
    _start_handover(page, login, kam, kam2)

    def refuse(**kwargs: Any) -> Any:
        raise ValidationFailed("Kam2 may not join this team right now.", field="user_id", code="x")

    monkeypatch.setattr(account_services, "account_team_member_add", refuse)
    job_execute(job_id=Job.objects.get(kind="handover.perform").pk)
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "failed")
    expect(page.get_by_test_id("job-error")).to_have_text("Kam2 may not join this team right now.")
    expect(page.get_by_test_id("handover-failed")).to_be_visible()
    shot(page, "handover-job-failed")
    assert not Handover.objects.exists()
    from openkam.accounts.models import Account

    assert Account.objects.get(pk=w.idn.pk).owner_id == kam.pk
    page.get_by_test_id("handover-retry").click()
    expect(page.get_by_test_id("book-row")).to_have_count(1)


def test_a_queued_handover_is_cancelled_from_its_page(book: Any, page: Any, login: Any) -> None:  # noqa: F811
    """The worker has not taken the handover yet: the lead cancels it on its page, nothing moves, and the
    person's handover can be started again."""
    w = book.world
    kam, kam2 = w.users["kam"], w.users["kam2"]
    _start_handover(page, login, kam, kam2)
    shot(page, "handover-job-queued-cancel")
    page.get_by_test_id("job-cancel").click()
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "cancelled")
    expect(page.get_by_test_id("job-cancelled")).to_be_visible()
    expect(page.get_by_test_id("handover-cancelled")).to_contain_text("nothing was changed")
    shot(page, "handover-job-cancelled")
    job = Job.objects.get(kind="handover.perform")
    assert job.status == "cancelled" and job_execute(job_id=job.pk).status == "cancelled"
    from openkam.accounts.models import Account

    assert not Handover.objects.exists() and Account.objects.get(pk=w.idn.pk).owner_id == kam.pk
    # the person is free again: the link back starts over from their book
    page.get_by_test_id("handover-retry").click()
    expect(page.get_by_test_id("book-row")).to_have_count(1)

    # the list of one's work shows it as cancelled, without a button
    page.goto("/me/jobs/")
    card = page.get_by_test_id("job").first
    expect(card).to_have_attribute("data-status", "cancelled")
    expect(card.get_by_test_id("job-cancel")).to_have_count(0)
