"""Knowledge transfer: hand everything a leaving or moving team member holds over to a colleague, in one go.

:func:`handover_preview` says what would move (per account at the top of the person's book: ownership, team
memberships, plans, objectives, tactics, open actions; relationship rows in total) and refuses a handover that
cannot happen, with the reason. :func:`handover_start` checks everything that can be checked at once (reason,
people, a colleague who cannot take the work, nothing to hand over, judgements the colleague may not see, a
handover of the same person already under way) and queues the job ``handover.perform`` (see ``jobs.py``),
which runs :func:`handover_perform`: ONE audited transaction — relationships (``relationships_reassign``), plan
work (``plan_work_reassign``), account ownership (``account_update``) and team memberships (the old one ended,
dated; a new one added for the colleague) — reporting each stage, and recording a
:class:`~openkam.handover.models.Handover`. Any refusal on the way rolls everything back.

Rules: a KAM lead hands over the work of the people they manage, to themselves or one of them; an
administrator anyone's, to anyone. The colleague must be active, a different person, have a role that may
change records, and be allowed to see the work that moves (classification of plan work; relationship
judgements). See docs/handover.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from openkam.accounts import services as account_services
from openkam.accounts.models import AccountTeamMember
from openkam.core.access import can_write, is_admin
from openkam.core.audit import audit_action
from openkam.core.errors import FieldError, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import Job, JobStatus, User
from openkam.handover import selectors
from openkam.handover.models import Handover, HandoverAccount
from openkam.plans.services import plan_work_reassign
from openkam.relationships.services import relationships_reassign
from openkam.stakeholders.selectors import can_see_judgements

COUNT_KEYS = ("owned", "memberships", "relationships", "plans", "objectives", "tactics", "actions")
PERFORM_KIND = "handover.perform"
#: the stages :func:`handover_perform` reports, in order
STAGES = ("relationships", "plan_work", "accounts", "teams", "record")
#: ``progress(stage, done, total)``: the stage starting or under way, and the steps done of all steps (one per
#: relationship and plan-work pass, one per account whose owner changes, one per team place, one for the record)
StageProgress = Callable[[str, int, int], None]
# pg advisory lock namespace ("KAMH") + the leaver's id: one handover of a person at a time
_LOCK_NAMESPACE = 0x4B414D48


class HandoverUnderWay(RuleViolation):
    """A handover of the same person is queued or running (HTTP 409)."""

    status = 409
    default_code = "handover_under_way"


@dataclass
class HandoverPreview:
    from_user: User
    to_user: User | None
    book: list[selectors.BookAccount]  # the accounts that move (all of the book unless chosen)
    whole_book: bool
    relationships: int | None  # relationship rows that move (None: no colleague chosen yet)

    @property
    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(COUNT_KEYS, 0)
        for b in self.book:
            for key, n in b.counts().items():
                totals[key] += n
        totals["relationships"] = self.relationships or 0
        totals["accounts"] = len(self.book) + sum(len(b.below) for b in self.book)
        return totals

    @property
    def is_empty(self) -> bool:
        t = self.totals
        return not any(t[k] for k in COUNT_KEYS)


def _require_manager(actor: User) -> None:
    if not selectors.handover_can_manage(actor):
        raise PermissionDenied(
            _("Only a KAM lead (for the people they manage) or an administrator can hand work over."),
            code="handover_forbidden",
        )


def _from_user(actor: User, from_user_id: Any) -> User:
    try:
        return selectors.handover_person_get(actor=actor, user_id=from_user_id)
    except NotFound:
        raise ValidationFailed(
            _("Choose a member of your team whose work to hand over."), field="from_user_id", code="user_not_found"
        ) from None


def _to_user(actor: User, from_user: User, to_user_id: Any) -> User:
    target = User.objects.filter(pk=to_user_id).first() if str(to_user_id).isdigit() else None
    if target is None:
        raise ValidationFailed(_("No such user."), field="to_user_id", code="user_not_found")
    if target.pk == from_user.pk:
        raise ValidationFailed(
            _("Choose someone else: %(u)s cannot hand work over to themselves.") % {"u": from_user},
            field="to_user_id",
            code="same_user",
        )
    if not target.is_active:
        raise ValidationFailed(
            _("%(u)s is inactive and cannot take over work; choose an active colleague.") % {"u": target},
            field="to_user_id",
            code="user_inactive",
        )
    if not can_write(target):
        raise ValidationFailed(
            _("%(u)s has a read-only role (%(r)s) and cannot own accounts, plans or actions.")
            % {"u": target, "r": target.get_role_display()},
            field="to_user_id",
            code="read_only_user",
        )
    if not is_admin(actor) and not selectors.handover_targets(actor=actor).filter(pk=target.pk).exists():
        raise ValidationFailed(
            _("%(u)s is not in your team; hand over to yourself or someone you manage (an administrator can hand "
              "over to anyone).") % {"u": target},
            field="to_user_id",
            code="not_in_team",
        )  # fmt: skip
    return target


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").replace("\x00", "").strip()
    errors: list[FieldError] = []
    if not reason:
        errors.append(FieldError("reason", "required", _("Say why (e.g. “Kim moves to the West territory”).")))
    if len(reason) > 255:
        errors.append(FieldError("reason", "max_length", _("At most 255 characters.")))
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    return reason


def _nothing_to_hand_over(from_user: User) -> RuleViolation:
    return RuleViolation(
        _("%(u)s holds no account you can see: there is nothing to hand over.") % {"u": from_user},
        code="nothing_to_hand_over",
    )


def _try_lock_leaver(from_user: User) -> bool:
    """Take the transaction-level lock on handing over ``from_user``'s work (False: someone holds it)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, int(from_user.pk)])
        return bool(cur.fetchone()[0])


def _under_way(from_user: User, job: Job | None = None) -> HandoverUnderWay:
    if job is None:
        return HandoverUnderWay(
            _("A handover of %(u)s's work is being done right now; wait until it has finished.") % {"u": from_user}
        )
    return HandoverUnderWay(
        _("A handover of %(u)s's work (started by %(by)s at %(at)s) is %(status)s; wait until it has finished, "
          "then check what is left.")
        % {"u": from_user, "by": job.requested_by, "at": timezone.localtime(job.created_at).strftime("%Y-%m-%d %H:%M"),
           "status": job.get_status_display().lower()}
        + (" " + _("While it waits for the task worker, %(by)s can cancel it on its page.") % {"by": job.requested_by}
           if job.status == JobStatus.QUEUED else "")
    )  # fmt: skip


def _chosen(book: list[selectors.BookAccount], account_ids: list[int] | None, person: User) -> list[Any]:
    if account_ids is None:
        return book
    wanted = {int(a) for a in account_ids if str(a).isdigit()}
    if not wanted or len(wanted) != len(set(account_ids)):
        raise ValidationFailed(_("Choose at least one account."), field="account_ids", code="required")
    by_id = {b.account.pk: b for b in book}
    missing = sorted(wanted - set(by_id))
    if missing:
        raise ValidationFailed(
            _("Not at the top of %(u)s's book: account %(ids)s. Choose from the accounts listed.")
            % {"u": person, "ids": ", ".join(str(i) for i in missing)},
            field="account_ids",
            code="not_on_book",
        )
    return [b for b in book if b.account.pk in wanted]


class _Rollback(Exception):
    pass


def _relationships_dry_run(actor: User, from_user: User, to_user: User, roots: list[int]) -> int:
    """How many relationship rows would move: the relationships service run in a savepoint rolled back."""
    if not roots:
        return 0
    moved = 0
    try:
        with transaction.atomic():
            moved = relationships_reassign(
                actor=actor, from_user_id=from_user.pk, to_user_id=to_user.pk, account_ids=roots, reason="preview"
            )
            raise _Rollback
    except _Rollback:
        pass
    return moved


def handover_preview(
    *, actor: User, from_user_id: Any, to_user_id: Any = None, account_ids: list[int] | None = None
) -> HandoverPreview:
    """What handing ``from_user``'s work (all of it, or the chosen top accounts of their book) to ``to_user``
    would move, per account. Without ``to_user_id``: the person's book and what they hold (no relationship
    count). Refuses, as :func:`handover_perform` would, a colleague who cannot take the work over."""
    _require_manager(actor)
    from_user = _from_user(actor, from_user_id)
    to_user = _to_user(actor, from_user, to_user_id) if to_user_id not in (None, "") else None
    book = _chosen(selectors.handover_book(actor=actor, person=from_user), account_ids, from_user)
    _plan_counts_safe(actor, book, from_user, to_user)
    relationships = None
    if to_user is not None:
        relationships = _relationships_dry_run(actor, from_user, to_user, [b.account.pk for b in book])
        _check_judgements(to_user, relationships)
    return HandoverPreview(
        from_user=from_user,
        to_user=to_user,
        book=book,
        whole_book=account_ids is None,
        relationships=relationships,
    )


def _plan_counts_safe(actor: User, book: list[Any], from_user: User, to_user: User | None) -> None:
    """Plan work counts for the preview (a dry run; with no colleague chosen, no classification check)."""
    ids = selectors.book_subtree_ids(book)
    if not ids:
        return
    counts = plan_work_reassign(
        actor=actor,
        from_user_id=from_user.pk,
        to_user_id=(to_user.pk if to_user is not None else actor.pk),
        account_ids=ids,
        dry_run=True,
    )
    _spread(book, counts)


def _spread(book: list[Any], counts: dict[int, dict[str, int]]) -> None:
    roots = selectors.root_for(book, selectors.account_ancestors_map(list(counts)))
    by_root = {b.account.pk: b for b in book}
    for aid, c in counts.items():
        b = by_root.get(roots.get(aid, aid))
        if b is not None:
            b.plans += c["plans"]
            b.objectives += c["objectives"]
            b.tactics += c["tactics"]
            b.actions += c["actions"]


def _check_judgements(to_user: User, relationships: int) -> None:
    if relationships and not can_see_judgements(to_user):
        raise ValidationFailed(
            _("%(u)s's role may not see relationship assessments, and %(n)d relationship rows would move; choose a "
              "colleague who may.") % {"u": to_user, "n": relationships},
            field="to_user_id",
            code="user_cannot_see",
        )  # fmt: skip


def handover_perform(
    *,
    actor: User,
    from_user_id: Any,
    to_user_id: Any,
    account_ids: list[int] | None = None,
    reason: str,
    progress: StageProgress | None = None,
) -> Handover:
    """Hand over, all or nothing, in one audited transaction; returns the recorded :class:`Handover`. What the
    job ``handover.perform`` runs (interfaces start it with :func:`handover_start`); every rule is checked again
    here, as things may have changed since the job was queued.

    Order: relationship rows and plan work first (while the leaver's accounts are still in everyone's view),
    then account ownership, then team memberships (the leaver's current memberships end yesterday — access ends
    at once — and the colleague joins with the same team role from today, unless they already hold it).
    ``progress`` is told each stage (:data:`STAGES`) as it starts and how far it got: it is called INSIDE the
    transaction, so whoever shows it must write it where others can read it (see ``jobs.py``)."""
    _require_manager(actor)
    reason = _clean_reason(reason)
    from_user = _from_user(actor, from_user_id)
    to_user = _to_user(actor, from_user, to_user_id)
    today = timezone.localdate()
    report: StageProgress = progress or (lambda stage, done, total: None)
    with audit_action(actor=actor, action="handover.handover.perform", reason=reason):
        if not _try_lock_leaver(from_user):
            raise _under_way(from_user)
        book = _chosen(selectors.handover_book(actor=actor, person=from_user), account_ids, from_user)
        if not book:
            raise _nothing_to_hand_over(from_user)
        roots = [b.account.pk for b in book]
        owned = [a for b in book for a in (b.account, *b.below) if a.owner_id == from_user.pk]
        memberships = [m for b in book for m in b.memberships]
        total = 2 + len(owned) + len(memberships) + 1
        every = max(1, (len(owned) + len(memberships)) // 40)  # about 40 reports over the long stages
        report("relationships", 0, total)
        relationships = relationships_reassign(
            actor=actor, from_user_id=from_user.pk, to_user_id=to_user.pk, account_ids=roots, reason=reason
        )
        _check_judgements(to_user, relationships)
        report("plan_work", 1, total)
        subtree = selectors.book_subtree_ids(book)
        _spread(
            book,
            plan_work_reassign(
                actor=actor, from_user_id=from_user.pk, to_user_id=to_user.pk, account_ids=subtree, reason=reason
            ),
        )
        done = 2
        report("accounts", done, total)
        for account in owned:
            account_services.account_update(actor=actor, account=account.pk, owner_id=to_user.pk, reason=reason)
            done += 1
            if done % every == 0:
                report("accounts", done, total)
        report("teams", done, total)
        held_roles = set(
            AccountTeamMember.objects.filter(user_id=to_user.pk, account_id__in=subtree)
            .filter(start_date__lte=today)
            .exclude(end_date__lt=today)
            .values_list("account_id", "role")
        )
        for m in memberships:
            # the colleague joins first: a lead may see the account only through the leaver's place on its team
            if (m.account_id, m.role) not in held_roles:
                account_services.account_team_member_add(
                    actor=actor, account=m.account_id, user_id=to_user.pk, role=m.role, reason=reason
                )
                held_roles.add((m.account_id, m.role))
            account_services.account_team_member_end(actor=actor, member=m.pk, reason=reason)
            done += 1
            if done % every == 0:
                report("teams", done, total)
        report("record", done, total)
        preview = HandoverPreview(
            from_user=from_user, to_user=to_user, book=book, whole_book=account_ids is None, relationships=relationships
        )
        totals = preview.totals
        handover = Handover.objects.create(
            performed_by=actor,
            from_user=from_user,
            to_user=to_user,
            reason=reason,
            whole_book=account_ids is None,
            counts=totals,
        )
        HandoverAccount.objects.bulk_create(
            [
                HandoverAccount(
                    handover=handover,
                    account=b.account,
                    counts={**b.counts(), "accounts_below": len(b.below), "subtree_accounts": b.subtree},
                )
                for b in book
            ]
        )
    return handover


def handover_start(
    *,
    actor: User,
    from_user_id: Any,
    to_user_id: Any,
    account_ids: list[int] | None = None,
    reason: str,
) -> Job:
    """Check the handover now and queue it as the job ``handover.perform`` (which runs :func:`handover_perform`).

    Refused at once, with nothing queued: an actor who may not hand over, an empty reason, a person not in the
    actor's team, a colleague who cannot take the work (inactive, the same person, read-only, outside the team,
    may not see the plan work's classification or — when relationship rows move — relationship judgements),
    accounts not at the top of the book, a book with nothing the actor can see, and a handover of the same
    person that is already queued or running (:class:`HandoverUnderWay`, HTTP 409)."""
    from openkam.core.services import job_start

    _require_manager(actor)
    reason = _clean_reason(reason)
    from_user = _from_user(actor, from_user_id)
    to_user = _to_user(actor, from_user, to_user_id)
    book = _chosen(selectors.handover_book(actor=actor, person=from_user), account_ids, from_user)
    if not book:
        raise _nothing_to_hand_over(from_user)
    _plan_counts_safe(actor, book, from_user, to_user)  # refuses plan work the colleague may not see
    if not can_see_judgements(to_user):  # only then count the relationship rows (a dry run)
        _check_judgements(to_user, _relationships_dry_run(actor, from_user, to_user, [b.account.pk for b in book]))
    accounts = len(book) + sum(len(b.below) for b in book)
    label = ngettext(
        "Handover: %(f)s → %(t)s (%(n)d account)", "Handover: %(f)s → %(t)s (%(n)d accounts)", accounts
    ) % {"f": from_user, "t": to_user, "n": accounts}
    with transaction.atomic():
        if not _try_lock_leaver(from_user):  # another start, or the job itself, holds it right now
            raise _under_way(from_user)
        pending = (
            Job.objects.filter(
                kind=PERFORM_KIND,
                status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
                params__from_user_id=from_user.pk,
            )
            .select_related("requested_by")
            .defer("result")
            .first()
        )
        if pending is not None:
            raise _under_way(from_user, pending)
        return job_start(
            actor=actor,
            kind=PERFORM_KIND,
            label=label,
            params={
                "from_user_id": from_user.pk,
                "to_user_id": to_user.pk,
                "account_ids": None if account_ids is None else sorted({int(a) for a in account_ids}),
                "reason": reason,
            },
        )


def handover_report_start(*, actor: User, handover_id: Any, account_id: Any = None) -> Job:
    """Start the handover report (PDF) of one account of a handover — or of all its accounts — as a job."""
    from openkam.core.services import job_start

    handover = selectors.handover_get(actor=actor, handover_id=handover_id)
    accounts = selectors.handover_accounts(actor=actor, handover=handover)
    if account_id not in (None, ""):
        accounts = [a for a in accounts if str(a.account_id) == str(account_id)]
        if not accounts:
            raise NotFound(_("This handover did not cover that account."), code="account_not_found")
    if not accounts:
        raise RuleViolation(_("None of this handover's accounts is visible to you."), code="nothing_to_report")
    if len(accounts) == 1:
        label = _("Handover report: %(a)s") % {"a": accounts[0].account.name}
    else:
        label = _("Handover report: %(n)d accounts of %(u)s") % {"n": len(accounts), "u": handover.from_user}
    return job_start(
        actor=actor,
        kind="handover.report",
        label=label,
        params={"handover_id": handover.pk, "account_ids": [a.account_id for a in accounts]},
    )
