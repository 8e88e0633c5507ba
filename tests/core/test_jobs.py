"""Jobs: long work started by a user, run by the worker, with progress and a private downloadable result."""

from __future__ import annotations

from typing import Any

import pytest

from openkam.core import selectors, services
from openkam.core.errors import NotFound, ValidationFailed
from openkam.core.jobs import JobResult, job_handler
from openkam.core.models import Job, JobStatus

pytestmark = pytest.mark.django_db


@job_handler("tests.count_to_three")
def _count(job: Job, progress: Any) -> JobResult:
    for i in range(3):
        progress(i + 1, 3, f"step {i + 1}")
    who = job.requested_by.username
    return JobResult(filename="report ü.txt", content_type="text/plain", data=f"hello {who}".encode(), summary={"n": 3})


@job_handler("tests.fails_with_rule")
def _fails(job: Job, progress: Any) -> JobResult:
    from openkam.core.errors import RuleViolation

    raise RuleViolation("The plan has no objectives to export.", code="empty")


@job_handler("tests.crashes")
def _crashes(job: Job, progress: Any) -> JobResult:
    raise ZeroDivisionError


def test_job_runs_with_progress_and_result(personas: dict[str, Any]) -> None:
    kam = personas["kam"]
    job = services.job_start(actor=kam, kind="tests.count_to_three", label="Counting", params={"x": 1})
    assert job.status == JobStatus.QUEUED and job.percent == 0
    job = services.job_execute(job_id=job.pk)
    assert job.status == JobStatus.DONE and job.done == 3 and job.total == 3 and job.percent == 100
    assert bytes(job.result) == b"hello kam" and job.result_size == 9 and job.summary == {"n": 3}
    assert services.job_execute(job_id=job.pk).status == JobStatus.DONE  # a second run does nothing


def test_unknown_kind_is_refused(personas: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        services.job_start(actor=personas["kam"], kind="no.such", label="x")
    assert not Job.objects.exists()


def test_failures_are_reported_plainly(personas: dict[str, Any]) -> None:
    kam = personas["kam"]
    rule = services.job_execute(job_id=services.job_start(actor=kam, kind="tests.fails_with_rule", label="x").pk)
    assert rule.status == JobStatus.FAILED and rule.error == "The plan has no objectives to export."
    bug = services.job_execute(job_id=services.job_start(actor=kam, kind="tests.crashes", label="x").pk)
    assert bug.status == JobStatus.FAILED and "Something went wrong" in bug.error and not bug.has_file


def test_jobs_are_private_to_whoever_asked(personas: dict[str, Any], web: Any, api: Any) -> None:
    job = services.job_start(actor=personas["kam"], kind="tests.count_to_three", label="Counting")
    with pytest.raises(NotFound):
        selectors.job_get(actor=personas["admin"], job_id=job.pk)
    assert web("kam2").get(f"/me/jobs/{job.pk}/").status_code == 404
    assert api("kam2").get(f"me/jobs/{job.pk}")[0] == 404
    # while queued: the card polls and there is nothing to download
    html = web("kam").get(f"/me/jobs/{job.pk}/").content.decode()
    assert 'data-status="queued"' in html and "hx-trigger" in html
    assert web("kam").get(f"/me/jobs/{job.pk}/download/").status_code == 404
    services.job_execute(job_id=job.pk)
    html = web("kam").get(f"/me/jobs/{job.pk}/").content.decode()
    assert 'data-status="done"' in html and "hx-trigger" not in html and "job-download" in html
    resp = web("kam").get(f"/me/jobs/{job.pk}/download/")
    assert resp.status_code == 200 and resp.content == b"hello kam"
    assert "attachment" in resp["Content-Disposition"] and "report" in resp["Content-Disposition"]
    assert web("kam2").get(f"/me/jobs/{job.pk}/download/").status_code == 404
    status, body = api("kam").get(f"me/jobs/{job.pk}")
    assert status == 200 and body["status"] == "done" and body["download_url"].endswith("/download")
    assert api("kam").client.get(body["download_url"], HTTP_AUTHORIZATION=f"Bearer {api('kam').key}").content == (
        b"hello kam"
    )
    assert [j["id"] for j in api("kam").get("me/jobs")[1]] == [job.pk]
    assert api("kam2").get("me/jobs")[1] == []
    assert "Counting" in web("kam").get("/me/jobs/").content.decode()


_seen: list[Any] = []


def _look_from_outside(job_id: int) -> Any:
    """What another connection (the page polling the job) sees of the job right now."""
    from django.db import DEFAULT_DB_ALIAS, connections

    outside = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with outside.cursor() as cur:
            cur.execute("SELECT status, done, total, message FROM core_job WHERE id = %s", [job_id])
            return cur.fetchone()
    finally:
        outside.close()


@job_handler("tests.all_or_nothing")
def _all_or_nothing(job: Job, progress: Any) -> JobResult:
    """Work in one transaction reporting progress inside it, failing at the end when asked to."""
    from django.db import transaction

    from openkam.core.errors import RuleViolation

    with transaction.atomic():
        for i in range(3):
            progress(i + 1, 4, f"step {i + 1} of 4")
            _seen.append(_look_from_outside(job.pk))
        if job.params.get("fail"):
            raise RuleViolation("Line 4 is wrong: nothing was imported.", code="bad_line")
    progress(4, 4, "done")
    return JobResult(summary={"ok": True})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fail", [False, True])
def test_progress_inside_the_handlers_transaction_is_seen_before_the_commit(personas: Any, fail: bool) -> None:
    """Imports and the handover report progress inside their all-or-nothing transaction: the polling page sees
    each step while it is still open, and a failed job keeps how far it got."""
    _seen.clear()
    job = services.job_start(actor=personas["kam"], kind="tests.all_or_nothing", label="All or nothing",
                             params={"fail": fail})  # fmt: skip
    job = services.job_execute(job_id=job.pk)
    assert _seen == [("running", i + 1, 4, f"step {i + 1} of 4") for i in range(3)]
    if fail:
        assert job.status == JobStatus.FAILED and job.error == "Line 4 is wrong: nothing was imported."
        assert (job.done, job.total, job.message) == (3, 4, "step 3 of 4")  # how far it got
    else:
        assert job.status == JobStatus.DONE and (job.done, job.total, job.message) == (4, 4, "done")


# --- cancelling work that has not started --------------------------------------------------------------------
def test_a_queued_job_is_cancelled_and_the_worker_leaves_it(personas: dict[str, Any]) -> None:
    from openkam.core.selectors import object_history

    kam = personas["kam"]
    job = services.job_start(actor=kam, kind="tests.count_to_three", label="Counting")
    job = services.job_cancel(actor=kam, job_id=job.pk)
    assert job.status == JobStatus.CANCELLED and job.finished and job.finished_at is not None
    assert not job.has_file and job.started_at is None
    ran = services.job_execute(job_id=job.pk)  # the worker picks it up later: nothing runs
    assert ran.status == JobStatus.CANCELLED and ran.done == 0 and ran.result is None
    change = object_history(obj=job).first()
    assert change.pgh_diff["status"] == ["queued", "cancelled"]
    assert change.pgh_context["action"] == "core.job.cancel" and change.pgh_context["username"] == "kam"


def test_work_that_has_started_or_ended_is_not_cancelled(personas: dict[str, Any]) -> None:
    from openkam.core.errors import Conflict

    kam = personas["kam"]
    done = services.job_execute(job_id=services.job_start(actor=kam, kind="tests.count_to_three", label="x").pk)
    with pytest.raises(Conflict) as exc:
        services.job_cancel(actor=kam, job_id=done.pk)
    assert exc.value.code == "job_not_queued" and exc.value.message.endswith("it has finished.")
    assert Job.objects.get(pk=done.pk).status == JobStatus.DONE and Job.objects.get(pk=done.pk).result is not None
    running = services.job_start(actor=kam, kind="tests.count_to_three", label="x")
    Job.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING)  # the worker has taken it
    with pytest.raises(Conflict) as exc:
        services.job_cancel(actor=kam, job_id=running.pk)
    assert "the task worker has started it" in exc.value.message
    assert Job.objects.get(pk=running.pk).status == JobStatus.RUNNING
    cancelled = services.job_start(actor=kam, kind="tests.count_to_three", label="x")
    services.job_cancel(actor=kam, job_id=cancelled.pk)
    with pytest.raises(Conflict) as exc:  # twice
        services.job_cancel(actor=kam, job_id=cancelled.pk)
    assert exc.value.message == "This work was already cancelled."


def test_only_whoever_asked_cancels_a_job(personas: dict[str, Any], web: Any, api: Any) -> None:
    job = services.job_start(actor=personas["kam"], kind="tests.count_to_three", label="Counting")
    for other in ("kam2", "admin"):
        with pytest.raises(NotFound):
            services.job_cancel(actor=personas[other], job_id=job.pk)
        assert api(other).post(f"me/jobs/{job.pk}/cancel")[0] == 404
        assert web(other).post(f"/me/jobs/{job.pk}/cancel/").status_code == 404
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    # the card shows the cancel control to its owner only (a sales import page shows someone else's job card)
    assert 'data-testid="job-cancel"' in web("kam").get(f"/me/jobs/{job.pk}/").content.decode()


def test_cancel_through_the_api_and_the_page(personas: dict[str, Any], web: Any, api: Any) -> None:
    kam = personas["kam"]
    first = services.job_start(actor=kam, kind="tests.count_to_three", label="First")
    status, body = api("kam").post(f"me/jobs/{first.pk}/cancel")
    assert status == 200 and body["status"] == "cancelled" and body["finished_at"] and body["download_url"] is None
    status, body = api("kam").post(f"me/jobs/{first.pk}/cancel")
    assert status == 409 and body["code"] == "job_not_queued"

    second = services.job_start(actor=kam, kind="tests.count_to_three", label="Second")
    client = web("kam")
    assert client.get(f"/me/jobs/{second.pk}/cancel/").status_code == 405  # a change is a POST
    html = client.post(f"/me/jobs/{second.pk}/cancel/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="cancelled"' in html and 'data-testid="job-cancelled"' in html
    assert "hx-trigger" not in html and 'data-testid="job-cancel"' not in html  # finished: no polling, no button
    html = client.post(f"/me/jobs/{second.pk}/cancel/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="job-cancel-error"' in html and "This work was already cancelled." in html

    third = services.job_start(actor=kam, kind="tests.count_to_three", label="Third")
    resp = client.post(f"/me/jobs/{third.pk}/cancel/", follow=True)  # without JavaScript: back to the list
    assert resp.redirect_chain[-1][0].endswith("/me/jobs/")
    assert "Cancelled: Third." in resp.content.decode()
    assert Job.objects.get(pk=third.pk).status == JobStatus.CANCELLED
