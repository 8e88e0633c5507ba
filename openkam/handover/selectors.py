"""Handover reads: whose work the actor may hand over and to whom, a person's book, past handovers, report data.

A person's *book* is the accounts they hold — as owner or through a current team membership — among those the
actor may see. The accounts are listed at the top of the book (an account below another book account is covered
by it: its work moves with the parent's handover). Membership rows are read from the accounts app's model (there
is no "memberships of a user" selector); every write goes through the owning app's services.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account, AccountTeamMember, TeamRole
from openkam.accounts.selectors import account_get, account_scope, account_subtree
from openkam.core.access import can_write, is_admin
from openkam.core.errors import NotFound
from openkam.core.models import Job, JobStatus, Role, User
from openkam.handover.models import Handover, HandoverAccount

OPEN_ACTION_STATUSES = ("not_started", "in_progress", "blocked")


def handover_can_manage(actor: User) -> bool:
    """KAM leads (for the people they manage) and administrators hand work over."""
    return can_write(actor) and (actor.role == Role.LEAD or is_admin(actor))


def handover_people(*, actor: User) -> QuerySet[User]:
    """Whose work the actor may hand over: an admin anyone's (also of deactivated users — the usual case, someone
    who left), a lead the people they manage."""
    if not handover_can_manage(actor):
        return User.objects.none()
    qs = User.objects.exclude(role=Role.COMPLIANCE).select_related("team")
    if not is_admin(actor):
        qs = qs.filter(manager_id=actor.pk)
    return qs.order_by("-is_active", "last_name", "first_name", "username")


def handover_targets(*, actor: User) -> QuerySet[User]:
    """Who may receive work: active users with a role that may change records; for a lead, themselves and the
    people they manage."""
    if not handover_can_manage(actor):
        return User.objects.none()
    qs = User.objects.filter(is_active=True).exclude(role=Role.COMPLIANCE)
    if not is_admin(actor):
        qs = qs.filter(Q(pk=actor.pk) | Q(manager_id=actor.pk))
    return qs.order_by("last_name", "first_name", "username")


def handover_person_get(*, actor: User, user_id: Any) -> User:
    person = handover_people(actor=actor).filter(pk=user_id).first() if str(user_id).isdigit() else None
    if person is None:
        raise NotFound(_("No such person in your team."), code="user_not_found")
    return person


@dataclass
class BookAccount:
    """One account at the top of a person's book, with what the person holds there (and below it)."""

    account: Account
    owner: bool = False
    memberships: list[AccountTeamMember] = field(default_factory=list)
    below: list[Account] = field(default_factory=list)  # book accounts under this one (also held by the person)
    #: every account below this one, whoever holds it: relationships and plan work move there too
    subtree: int = 0
    plans: int = 0
    objectives: int = 0
    tactics: int = 0
    actions: int = 0

    @property
    def roles(self) -> list[str]:
        return sorted({str(TeamRole(m.role).label) for m in self.memberships})

    @property
    def owned_count(self) -> int:
        return int(self.owner) + sum(1 for a in self.below if getattr(a, "_held_owner", False))

    def counts(self) -> dict[str, int]:
        return {
            "owned": self.owned_count,
            "memberships": len(self.memberships),
            "plans": self.plans,
            "objectives": self.objectives,
            "tactics": self.tactics,
            "actions": self.actions,
        }


def _current(today: dt.date) -> Q:
    return Q(start_date__lte=today) & (Q(end_date__isnull=True) | Q(end_date__gte=today))


def handover_book(*, actor: User, person: User) -> list[BookAccount]:
    """The accounts ``person`` holds that the actor may see, top of the book first (4 queries).

    Each top account knows the book accounts below it (``below``: their ownership and team places move with it)
    and how many accounts there are below it in all (``subtree``: relationships and plan work move at every one
    of them, as :func:`book_subtree_ids` gives them to the move)."""
    today = timezone.localdate()
    scope = account_scope(actor=actor)
    memberships = list(
        AccountTeamMember.objects.filter(_current(today), user_id=person.pk, account__in=scope).order_by(
            "account_id", "role"
        )
    )
    held = scope.filter(Q(owner_id=person.pk) | Q(pk__in=[m.account_id for m in memberships]))
    accounts = list(held.only("pk", "name", "type", "ancestors", "depth", "owner_id", "city", "state"))
    ids = {a.pk for a in accounts}
    by_id: dict[int, BookAccount] = {}
    for a in sorted(accounts, key=lambda a: (a.depth, a.name.lower(), a.pk)):
        a._held_owner = a.owner_id == person.pk  # type: ignore[attr-defined]
        top = next((anc for anc in a.ancestors if anc in ids), None)
        if top is None:
            by_id[a.pk] = BookAccount(account=a, owner=a.owner_id == person.pk)
        else:
            root = top
            while root not in by_id:  # the topmost book account above
                parent = next(x for x in accounts if x.pk == root)
                root = next(anc for anc in parent.ancestors if anc in ids)
            by_id[root].below.append(a)
    root_of: dict[int, int] = {}
    for root_id, book in by_id.items():
        root_of[root_id] = root_id
        for a in book.below:
            root_of[a.pk] = root_id
    for m in memberships:
        by_id[root_of[m.account_id]].memberships.append(m)
    if by_id:  # one query, whatever the number of top accounts (the tops are disjoint subtrees)
        for ancestors in Account.objects.filter(ancestors__overlap=list(by_id)).values_list("ancestors", flat=True):
            top_id = next((anc for anc in ancestors if anc in by_id), None)
            if top_id is not None:
                by_id[top_id].subtree += 1
    return sorted(by_id.values(), key=lambda b: b.account.name.lower())


def book_subtree_ids(book: list[BookAccount]) -> list[int]:
    """Every account id in the subtrees of the book's top accounts (where plan work and relationships move)."""
    if not book:
        return []
    q = Q(pk__in=[b.account.pk for b in book])
    for b in book:
        q |= Q(ancestors__contains=[b.account.pk])
    return list(Account.objects.filter(q).values_list("pk", flat=True))


def root_for(book: list[BookAccount], accounts: dict[int, list[int]]) -> dict[int, int]:
    """Map each account id (with its ancestors in ``accounts``) to the book's top account that covers it."""
    roots = {b.account.pk for b in book}
    out = {}
    for aid, ancestors in accounts.items():
        if aid in roots:
            out[aid] = aid
        else:
            out[aid] = next((a for a in ancestors if a in roots), aid)
    return out


def account_ancestors_map(ids: list[int]) -> dict[int, list[int]]:
    return {pk: list(anc) for pk, anc in Account.objects.filter(pk__in=ids).values_list("pk", "ancestors")}


# --- past handovers -------------------------------------------------------------------------------------
def handover_list(*, actor: User) -> QuerySet[Handover]:
    """Handovers the actor may read: compliance and admin all; a lead those they made or that concern the people
    they manage (or themselves); anyone else those that concern them."""
    qs = Handover.objects.select_related("performed_by", "from_user", "to_user")
    if actor.role in (Role.COMPLIANCE,) or is_admin(actor):
        return qs
    mine = Q(performed_by_id=actor.pk) | Q(from_user_id=actor.pk) | Q(to_user_id=actor.pk)
    if actor.role == Role.LEAD:
        mine |= Q(from_user__manager_id=actor.pk) | Q(to_user__manager_id=actor.pk)
    return qs.filter(mine)


def handover_get(*, actor: User, handover_id: Any) -> Handover:
    h = handover_list(actor=actor).filter(pk=handover_id).first() if str(handover_id).isdigit() else None
    if h is None:
        raise NotFound(_("No such handover."), code="handover_not_found")
    return h


def handover_accounts(*, actor: User, handover: Handover) -> list[HandoverAccount]:
    """The accounts of a handover the actor may see now (one query)."""
    scope = account_scope(actor=actor)
    return list(
        HandoverAccount.objects.filter(handover=handover, account__in=scope)
        .select_related("account")
        .order_by("account__name")
    )


def handover_jobs_under_way(*, actor: User) -> list[Job]:
    """The actor's handovers (jobs ``handover.perform``) that are queued or running, newest first (one query)."""
    return list(
        Job.objects.filter(
            requested_by=actor, kind="handover.perform", status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
        )
        .defer("result")
        .order_by("-created_at", "-id")[:10]
    )


# --- the report ---------------------------------------------------------------------------------------
def handover_report_data(*, actor: User, handover: Handover, account_id: int) -> dict[str, Any]:
    """What the handover report says about one account: key relationships and the relationship map summary,
    open plans and actions, recent interactions and plan changes — all as the actor may see them."""
    from openkam.activities.selectors import interaction_list
    from openkam.plans.selectors import action_scope, plan_history, plan_list
    from openkam.relationships.selectors import account_relationship_summary

    account = account_get(actor=actor, account_id=account_id)
    subtree = account_subtree(account=account)
    relationships: dict[str, Any] | None
    try:
        relationships = account_relationship_summary(actor=actor, account_id=account.pk, limit=20)
    except NotFound:
        relationships = None
    plans = list(plan_list(actor=actor, account=account, include_descendants=True).exclude(status="closed")[:10])
    actions = list(
        action_scope(actor=actor)
        .filter(tactic__objective__plan__account_id__in=subtree, status__in=OPEN_ACTION_STATUSES)
        .select_related("tactic__objective__plan__account", "owner", "assignee")
        .order_by("due_date", "pk")[:60]
    )
    since = timezone.now() - dt.timedelta(days=180)
    interactions = list(interaction_list(actor=actor, account=account, include_descendants=True, since=since)[:25])
    plan_changes: list[Any] = []
    for plan in plans[:5]:
        for event in plan_history(actor=actor, plan=plan, limit=8):
            plan_changes.append((plan, event))
    plan_changes.sort(key=lambda pe: pe[1].pgh_created_at, reverse=True)
    return {
        "account": account,
        "relationships": relationships,
        "plans": plans,
        "actions": actions,
        "today": timezone.localdate(),
        "interactions": interactions,
        "plan_changes": plan_changes[:20],
    }
