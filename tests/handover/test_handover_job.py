"""The handover as a job: checks before anything is queued, the all-or-nothing job with its progress stages,
one handover of a person at a time, the API (202 + job) per role and the progress/result page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openkam.accounts.models import Account, AccountTeamMember
from openkam.core.errors import PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import Job, JobStatus
from openkam.core.services import job_execute
from openkam.handover import jobs as handover_jobs
from openkam.handover import services
from openkam.handover.models import Handover
from openkam.plans.models import AccountPlan, Action
from openkam.relationships.models import AssessmentOwner, RelationshipStrength
from tests import factories as f

pytestmark = pytest.mark.django_db


def _start(book: Any, actor: str = "lead", to: str = "kam2", **kw: Any) -> Job:
    users = book.world.users
    return services.handover_start(
        actor=users[actor],
        from_user_id=users["kam"].pk,
        to_user_id=users[to].pk,
        reason=kw.pop("reason", "Kim moves West"),
        **kw,
    )


def _unchanged(book: Any) -> None:
    """Nothing of kam's book moved and no handover was recorded."""
    w = book.world
    kam = w.users["kam"]
    assert Account.objects.get(pk=w.idn.pk).owner_id == kam.pk
    assert RelationshipStrength.objects.get().user_id == kam.pk and AssessmentOwner.objects.get().user_id == kam.pk
    assert AccountPlan.objects.get(pk=book.plan.pk).owner_id == kam.pk
    assert Action.objects.get(pk=book.owned_action.pk).owner_id == kam.pk
    assert Action.objects.get(pk=book.assigned_action.pk).assignee_id == kam.pk
    assert AccountTeamMember.objects.get(account=w.idn, user=kam).end_date is None
    assert not AccountTeamMember.objects.filter(account=w.idn, user=w.users["kam2"]).exists()
    assert not Handover.objects.exists()


def _stages(calls: list[tuple[int, int, str]]) -> list[str]:
    """The messages reported, each stage once (in order)."""
    out: list[str] = []
    for _, _, message in calls:
        if not out or out[-1] != message:
            out.append(message)
    return out


@pytest.fixture
def recorded(monkeypatch: Any) -> list[tuple[int, int, str]]:
    """Every progress report the handover job writes (done, total, message)."""
    calls: list[tuple[int, int, str]] = []
    original = handover_jobs.LiveProgress.write

    def write(self: Any, done: int, total: int, message: str) -> None:
        calls.append((done, total, message))
        original(self, done, total, message)

    monkeypatch.setattr(handover_jobs.LiveProgress, "write", write)
    return calls


# --- service: start, then the job ------------------------------------------------------------------------
def test_start_queues_the_job_and_the_job_hands_over(book: Any, recorded: Any) -> None:
    w = book.world
    job = _start(book)
    assert (job.kind, job.status, job.requested_by) == ("handover.perform", JobStatus.QUEUED, w.users["lead"])
    assert job.params == {
        "from_user_id": w.users["kam"].pk,
        "to_user_id": w.users["kam2"].pk,
        "account_ids": None,
        "reason": "Kim moves West",
    }
    assert "Kim Kam" in job.label and "(1 account)" in job.label
    _unchanged(book)  # starting writes nothing but the job
    job = job_execute(job_id=job.pk)
    assert job.status == JobStatus.DONE, job.error
    h = Handover.objects.get()
    assert job.summary["handover_id"] == h.pk and job.summary["api_url"] == f"/api/v1/handover/{h.pk}"
    assert job.summary["counts"] == h.counts and h.counts["relationships"] == 2 and h.counts["actions"] == 2
    assert [s["stage"] for s in job.summary["stages"]] == ["relationships", "plan_work", "accounts", "teams", "record"]
    assert all(s["seconds"] >= 0 for s in job.summary["stages"])
    assert (h.performed_by, h.from_user, h.to_user, h.reason) == (w.users["lead"], w.users["kam"], w.users["kam2"],
                                                                  "Kim moves West")  # fmt: skip
    assert Account.objects.get(pk=w.idn.pk).owner_id == w.users["kam2"].pk
    assert RelationshipStrength.objects.get().user_id == w.users["kam2"].pk
    assert Action.objects.get(pk=book.owned_action.pk).owner_id == w.users["kam2"].pk
    # progress: every stage reported in order, steps only go forward, and the job ends at its total
    messages = _stages(recorded)
    assert messages == ["Moving relationships", "Moving plan work", "Handing over account ownership",
                            "Changing team places", "Recording the handover"]  # fmt: skip
    done = [d for d, _, _ in recorded]
    assert done == sorted(done) and {t for _, t, _ in recorded} == {5}  # 2 passes + 1 owner + 1 team place + record
    assert (job.done, job.total, job.message) == (5, 5, "Done") and job.percent == 100
    # audited as before: one operation, the handover's action code and reason
    from openkam.core.selectors import object_history

    event = object_history(obj=Account.objects.get(pk=w.idn.pk)).first()
    assert event.pgh_context["action"] == "handover.handover.perform"
    assert event.pgh_context["reason"] == "Kim moves West"


@pytest.mark.parametrize("failure", ["refused", "bug"])
def test_a_job_failing_half_way_changes_nothing(book: Any, monkeypatch: Any, recorded: Any, failure: str) -> None:
    """The job gets as far as the team places (relationships, plan work and ownership already moved inside the
    transaction), then fails: everything is rolled back and the job says why."""
    from openkam.accounts import services as account_services

    def fail(**kwargs: Any) -> Any:
        if failure == "refused":
            raise ValidationFailed("Kam2 may not join this team right now.", field="user_id", code="x")
        raise RuntimeError("a bug")

    monkeypatch.setattr(account_services, "account_team_member_add", fail)
    job = job_execute(job_id=_start(book).pk)
    assert job.status == JobStatus.FAILED and not job.summary
    if failure == "refused":
        assert job.error == "Kam2 may not join this team right now."
    else:
        assert "Something went wrong" in job.error
    assert _stages(recorded) == ["Moving relationships", "Moving plan work",
                                               "Handing over account ownership", "Changing team places"]  # fmt: skip
    _unchanged(book)
    # the failed job does not block the next try
    monkeypatch.undo()
    assert job_execute(job_id=_start(book).pk).status == JobStatus.DONE


def test_the_job_checks_again_when_it_runs(book: Any) -> None:
    """The colleague was deactivated between the start and the run: the job fails with the reason."""
    job = _start(book)
    kam2 = book.world.users["kam2"]
    kam2.is_active = False
    kam2.save()
    job = job_execute(job_id=job.pk)
    assert job.status == JobStatus.FAILED and "inactive" in job.error
    kam2.is_active = True
    kam2.save()
    _unchanged(book)


# --- refused at once: no job ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "field", "code"),
    [
        ("no_reason", "reason", "required"),
        ("inactive", "to_user_id", "user_inactive"),
        ("same", "to_user_id", "same_user"),
        ("read_only", "to_user_id", "read_only_user"),
        ("not_in_team", "to_user_id", "not_in_team"),
        ("not_my_person", "from_user_id", "user_not_found"),
        ("not_on_book", "account_ids", "not_on_book"),
        ("classification", "to_user_id", "user_cannot_see"),
    ],
)
def test_bad_input_is_refused_before_any_job(book: Any, case: str, field: str, code: str) -> None:
    w = book.world
    users = dict(w.users)
    users["inactive"] = f.UserFactory(username="gone", role="kam", manager=users["lead"], is_active=False)
    args: dict[str, Any] = {"actor": users["lead"], "from_user_id": users["kam"].pk, "to_user_id": users["kam2"].pk,
                            "reason": "x"}  # fmt: skip
    if case == "no_reason":
        args["reason"] = "  "
    elif case in ("inactive", "same", "read_only", "not_in_team"):
        who = {"same": "kam", "read_only": "compliance", "not_in_team": "access"}.get(case, case)
        args["to_user_id"] = users[who].pk
    elif case == "not_my_person":
        args["from_user_id"] = users["msl"].pk
    elif case == "not_on_book":
        args["account_ids"] = [w.hospital.pk]
    elif case == "classification":  # commercial plan work to the MSL
        args.update(actor=users["admin"], to_user_id=users["msl"].pk)
    with pytest.raises(ValidationFailed) as exc:
        services.handover_start(**args)
    assert exc.value.errors[0].field == field and code in (exc.value.code, exc.value.errors[0].code)
    assert not Job.objects.filter(kind="handover.perform").exists()


def test_relationship_judgements_the_colleague_may_not_see_are_refused_at_once(book: Any) -> None:
    """Only relationship rows move (no plan work), and the colleague's role may not see them."""
    w = book.world
    kam, admin = w.users["kam"], w.users["admin"]
    clinic = f.AccountFactory(name="Zeta Clinic", type="clinic")
    f.AccountTeamMemberFactory(account=clinic, user=kam, start_date=timezone.localdate())
    person = f.StakeholderFactory(first_name="Bo", last_name="Lind")
    f.PositionFactory(stakeholder=person, account=clinic, title="Head nurse", is_primary=True)
    from openkam.relationships import services as rel

    rel.strength_set(actor=admin, account_id=clinic.pk, stakeholder_id=person.pk, user_id=kam.pk, current=2, desired=3)
    with pytest.raises(ValidationFailed) as exc:
        services.handover_start(
            actor=admin, from_user_id=kam.pk, to_user_id=w.users["msl"].pk, account_ids=[clinic.pk], reason="x"
        )
    assert exc.value.code == "user_cannot_see" and "relationship" in exc.value.message
    assert not Job.objects.exists() and RelationshipStrength.objects.filter(account=clinic, user=kam).exists()


def test_nothing_to_hand_over_and_who_may(book: Any) -> None:
    w = book.world
    empty = f.UserFactory(username="newbie", role="kam", manager=w.users["lead"])
    with pytest.raises(RuleViolation) as exc:
        services.handover_start(actor=w.users["lead"], from_user_id=empty.pk, to_user_id=w.users["kam2"].pk,
                                reason="x")  # fmt: skip
    assert exc.value.code == "nothing_to_hand_over" and exc.value.status == 400
    for role in ("kam", "msl", "compliance", "access"):
        with pytest.raises(PermissionDenied):
            _start(book, actor=role)
    assert not Job.objects.exists()
    assert _start(book, actor="admin").requested_by == w.users["admin"]


# --- one handover of a person at a time ------------------------------------------------------------------
def test_a_second_handover_of_the_same_person_waits_for_the_first(book: Any) -> None:
    w = book.world
    job = _start(book)
    for status in (JobStatus.QUEUED, JobStatus.RUNNING):
        Job.objects.filter(pk=job.pk).update(status=status)
        with pytest.raises(services.HandoverUnderWay) as exc:
            _start(book, actor="admin")
        assert exc.value.status == 409 and exc.value.code == "handover_under_way"
        assert "Lena Lead" in exc.value.message and str(JobStatus(status).label).lower() in exc.value.message
    assert Job.objects.filter(kind="handover.perform").count() == 1
    # someone else's handover is not held up
    f.AccountTeamMemberFactory(account=w.other_account, user=w.users["kam2"], start_date=timezone.localdate())
    other = services.handover_start(actor=w.users["lead"], from_user_id=w.users["kam2"].pk,
                                    to_user_id=w.users["lead"].pk, reason="y")  # fmt: skip
    assert other.status == JobStatus.QUEUED
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    assert _start(book).status == JobStatus.QUEUED  # finished (here: failed): a new one may start


def test_a_queued_handover_cancelled_by_its_starter_frees_the_person(book: Any, web: Any) -> None:
    """The worker is down and the lead's handover waits: the 409 says who can cancel it; once cancelled nothing
    has moved, the job page says so, and a new handover may start (and runs)."""
    from openkam.core.services import job_cancel

    w = book.world
    job = _start(book)
    with pytest.raises(services.HandoverUnderWay) as exc:
        _start(book, actor="admin")
    assert "Lena Lead can cancel it" in exc.value.message
    job_cancel(actor=w.users["lead"], job_id=job.pk)
    assert job_execute(job_id=job.pk).status == JobStatus.CANCELLED  # the worker, back, leaves it
    _unchanged(book)
    html = web("lead").get(f"/handover/jobs/{job.pk}/").content.decode()
    assert 'data-testid="handover-cancelled"' in html and "nothing was changed" in html
    again = _start(book, actor="admin")
    assert job_execute(job_id=again.pk).status == JobStatus.DONE
    assert Account.objects.get(pk=w.idn.pk).owner_id == w.users["kam2"].pk


def test_a_handover_being_done_elsewhere_blocks_start_and_perform(book: Any) -> None:
    """Another session holds the person's handover lock (a start committing, or the job's transaction)."""
    w = book.world
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s, %s)", [services._LOCK_NAMESPACE, w.users["kam"].pk])
        with pytest.raises(services.HandoverUnderWay):
            _start(book)
        with pytest.raises(services.HandoverUnderWay):
            services.handover_perform(actor=w.users["lead"], from_user_id=w.users["kam"].pk,
                                      to_user_id=w.users["kam2"].pk, reason="x")  # fmt: skip
    finally:
        other.close()
    _unchanged(book)


# --- query counts ---------------------------------------------------------------------------------------
def _grow(book: Any, n: int) -> None:
    kam = book.world.users["kam"]
    for i in range(n):
        a = f.AccountFactory(name=f"Clinic {i:02d}", type="clinic", owner=kam)
        f.AccountTeamMemberFactory(account=a, user=kam, start_date=timezone.localdate())


def test_start_queries_do_not_grow_with_the_book(book: Any) -> None:
    with CaptureQueriesContext(connection) as one:
        job = _start(book)
    Job.objects.filter(pk=job.pk).delete()
    _grow(book, 10)
    with CaptureQueriesContext(connection) as eleven:
        _start(book)
    assert len(eleven) == len(one) <= 30, [q["sql"] for q in eleven]


def test_perform_queries_grow_only_per_account_and_team_place(book: Any) -> None:
    """Ownership and team places go through the accounts services (each audited): a bounded number of queries
    per account changed, nothing per relationship row or action."""
    w = book.world
    with CaptureQueriesContext(connection) as one:
        services.handover_perform(actor=w.users["lead"], from_user_id=w.users["kam"].pk,
                                  to_user_id=w.users["kam2"].pk, reason="one")  # fmt: skip
    _grow(book, 10)
    with CaptureQueriesContext(connection) as eleven:
        services.handover_perform(actor=w.users["lead"], from_user_id=w.users["kam"].pk,
                                  to_user_id=w.users["lead"].pk, reason="ten more")  # fmt: skip
    per_account = (len(eleven) - len(one)) / 10
    assert per_account <= 25, (len(one), len(eleven))


# --- API per role ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("role", "status"), [("lead", 202), ("admin", 202), ("kam", 403), ("msl", 403),
                                              ("compliance", 403), ("access", 403)])  # fmt: skip
def test_api_perform_per_role(book: Any, api: Any, role: str, status: int) -> None:
    w = book.world
    got, body = api(role).post(
        "handover/", {"from_user_id": w.users["kam"].pk, "to_user_id": w.users["kam2"].pk, "reason": "move"}
    )
    assert got == status, body
    if status == 202:
        assert set(body) >= {"id", "kind", "status", "status_url", "done", "total", "summary", "download_url"}
        assert body["kind"] == "handover.perform" and body["download_url"] is None
        job_execute(job_id=body["id"])
        got, body = api(role).get(f"me/jobs/{body['id']}")
        assert got == 200 and body["status"] == "done" and body["summary"]["handover_id"]
        assert api(role).get(f"handover/{body['summary']['handover_id']}")[0] == 200
    else:
        assert body["code"] == "handover_forbidden" and not Job.objects.exists()


def test_api_refusals_and_conflict(book: Any, api: Any) -> None:
    w = book.world
    kam, kam2 = w.users["kam"], w.users["kam2"]
    gone = f.UserFactory(username="gone", role="kam", manager=w.users["lead"], is_active=False)
    status, body = api("lead").post("handover/", {"from_user_id": kam.pk, "to_user_id": gone.pk, "reason": "x"})
    assert status == 422 and body["code"] == "user_inactive" and body["errors"][0]["field"] == "to_user_id"
    status, body = api("lead").post("handover/", {"from_user_id": kam.pk, "to_user_id": kam2.pk, "reason": ""})
    assert status == 422 and body["errors"][0]["field"] == "reason"
    assert not Job.objects.exists()
    assert api("lead").post("handover/", {"from_user_id": kam.pk, "to_user_id": kam2.pk, "reason": "x"})[0] == 202
    status, body = api("admin").post("handover/", {"from_user_id": kam.pk, "to_user_id": kam2.pk, "reason": "x"})
    assert status == 409 and body["code"] == "handover_under_way", body
    newbie = f.UserFactory(username="newbie", role="kam", manager=w.users["lead"])
    status, body = api("lead").post("handover/", {"from_user_id": newbie.pk, "to_user_id": kam2.pk, "reason": "x"})
    assert status == 400 and body["code"] == "nothing_to_hand_over"


# --- pages --------------------------------------------------------------------------------------------------
def _perform_post(client: Any, book: Any) -> Any:
    w = book.world
    return client.post("/handover/", {"from_user": w.users["kam"].pk, "to_user": w.users["kam2"].pk,
                                      "reason": "Kim moves West", "step": "perform", "confirm": "on"})  # fmt: skip


def test_page_starts_the_job_and_shows_progress_then_the_result(book: Any, web: Any) -> None:
    client = web("lead")
    resp = _perform_post(client, book)
    job = Job.objects.get(kind="handover.perform")
    assert resp.status_code == 302 and resp["Location"] == f"/handover/jobs/{job.pk}/"
    html = client.get(resp["Location"]).content.decode()
    assert f'data-job-id="{job.pk}"' in html and 'data-status="queued"' in html  # core/_job.html, polling
    assert f'hx-get="/handover/jobs/{job.pk}/?part=result"' in html and "Kim moves West" in html
    home = client.get("/handover/").content.decode()
    assert 'data-testid="under-way-item"' in home and f"/handover/jobs/{job.pk}/" in home
    # a second click while it is queued: refused on the form, no second job
    html = _perform_post(client, book).content.decode()
    assert "is queued" in html and Job.objects.filter(kind="handover.perform").count() == 1
    job_execute(job_id=job.pk)
    h = Handover.objects.get()
    part = client.get(f"/handover/jobs/{job.pk}/?part=result").content.decode()
    assert 'data-testid="handover-done"' in part and f'href="/handover/{h.pk}/"' in part and "hx-get" not in part
    html = client.get(f"/handover/jobs/{job.pk}/").content.decode()
    assert 'data-status="done"' in html and 'data-testid="handover-result-link"' in html
    assert 'data-testid="under-way-item"' not in client.get("/handover/").content.decode()
    # a job is private to whoever started it
    assert web("admin").get(f"/handover/jobs/{job.pk}/").status_code == 404
    report = services.handover_report_start(actor=book.world.users["lead"], handover_id=h.pk)
    assert client.get(f"/handover/jobs/{report.pk}/").status_code == 404  # not a handover job


def test_page_shows_a_failed_job_and_that_nothing_changed(book: Any, web: Any, monkeypatch: Any) -> None:
    from openkam.accounts import services as account_services

    def refuse(**kwargs: Any) -> Any:
        raise ValidationFailed("Kam2 may not join this team right now.", field="user_id", code="x")

    client = web("lead")
    _perform_post(client, book)
    job = Job.objects.get(kind="handover.perform")
    monkeypatch.setattr(account_services, "account_team_member_add", refuse)
    job_execute(job_id=job.pk)
    html = client.get(f"/handover/jobs/{job.pk}/").content.decode()
    assert 'data-status="failed"' in html and "Kam2 may not join this team right now." in html
    assert 'data-testid="handover-failed"' in html and f"?from_user={book.world.users['kam'].pk}" in html
    _unchanged(book)


def test_refusals_on_the_page_sit_next_to_their_fields(book: Any, web: Any) -> None:
    """The admin hands kam's commercial plan work to the MSL: refused by the start, said once next to the
    colleague, no job."""
    w = book.world
    resp = web("admin").post("/handover/", {"from_user": w.users["kam"].pk, "to_user": w.users["msl"].pk,
                                            "reason": "x", "step": "perform", "confirm": "on"})  # fmt: skip
    html = resp.content.decode()
    assert resp.status_code == 200 and 'data-testid="error-to_user"' in html
    assert html.count("may not see work classified") == 1
    gone = f.UserFactory(username="gone", role="kam", manager=w.users["lead"], is_active=False)
    resp = web("admin").post("/handover/", {"from_user": w.users["kam"].pk, "to_user": gone.pk, "reason": "x",
                                            "step": "perform", "confirm": "on"})  # fmt: skip
    assert resp.status_code == 200 and 'data-testid="error-to_user"' in resp.content.decode()  # not offered
    assert not Job.objects.exists()


def test_job_page_queries_are_constant(book: Any, web: Any) -> None:
    client = web("lead")
    _perform_post(client, book)
    job = Job.objects.get(kind="handover.perform")
    job_execute(job_id=job.pk)
    with CaptureQueriesContext(connection) as small:
        client.get(f"/handover/jobs/{job.pk}/")
    # a bigger handover: the page reads the record, not what moved
    _grow(book, 10)
    _perform_post(client, book)
    big = Job.objects.filter(kind="handover.perform").order_by("-pk").first()
    assert big is not None
    big = job_execute(job_id=big.pk)
    assert big.status == JobStatus.DONE, big.error
    assert Handover.objects.get(pk=big.summary["handover_id"]).counts["accounts"] == 10
    with CaptureQueriesContext(connection) as large:
        client.get(f"/handover/jobs/{big.pk}/")
    assert len(large) == len(small) <= 12, [q["sql"] for q in large]


# --- progress visible while the transaction is open ------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_the_polling_page_during_the_transaction(book: Any, monkeypatch: Any) -> None:
    """The handover's transaction is still open when the plan work moves; another connection (the page polling
    the job) already sees the job at that stage."""
    seen: list[tuple[str, int, int, str]] = []
    real = services.plan_work_reassign

    def watching(**kwargs: Any) -> Any:
        if not kwargs.get("dry_run"):
            outside = connections.create_connection(DEFAULT_DB_ALIAS)
            try:
                with outside.cursor() as cur:
                    cur.execute("SELECT status, done, total, message FROM core_job WHERE id = %s", [job.pk])
                    seen.append(cur.fetchone())
                    cur.execute("SELECT count(*) FROM handover_handover")
                    assert cur.fetchone()[0] == 0  # nothing committed yet
            finally:
                outside.close()
        return real(**kwargs)

    monkeypatch.setattr(services, "plan_work_reassign", watching)
    job = _start(book)
    job = job_execute(job_id=job.pk)
    assert job.status == JobStatus.DONE, job.error
    assert seen == [("running", 1, 5, "Moving plan work")]
    assert Handover.objects.count() == 1
