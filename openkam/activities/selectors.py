"""Interaction reads: scoped to the actor's accounts AND to the classifications their role may see.

A medical user never sees a commercial-only interaction and a commercial user never sees a
medical-only one, whatever the entry point (list, detail, stakeholder page, API). A linked tactic or
action is shown only when the reader may see it too (``linked_work_visible``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import BooleanField, Case, Prefetch, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from pghistory.models import Events

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_scope, account_subtree
from openkam.activities.models import (
    DIGITAL_CHANNELS,
    Interaction,
    InteractionParticipant,
    InteractionStakeholder,
)
from openkam.core.access import classification_q, visible_classifications
from openkam.core.errors import NotFound
from openkam.core.models import User
from openkam.plans.models import Action, Tactic
from openkam.plans.selectors import plan_scope
from openkam.stakeholders.models import Position, Stakeholder
from openkam.stakeholders.selectors import account_positions


def _pk(value: Any) -> Any:
    return getattr(value, "pk", value)


def interaction_scope(*, actor: User) -> QuerySet[Interaction]:
    return Interaction.objects.filter(classification_q(actor), account__in=account_scope(actor=actor))


def visible_tactics(*, actor: User) -> QuerySet[Tactic]:
    """Tactics in plans the actor may see, of classifications the actor may see."""
    return Tactic.objects.filter(classification_q(actor), objective__plan__in=plan_scope(actor=actor))


def _with_details(qs: QuerySet[Interaction], actor: User) -> QuerySet[Interaction]:
    """Everything a list row or the detail page shows, in a constant number of queries."""
    return (
        qs.select_related("account__parent", "created_by", "tactic__objective", "action")
        .prefetch_related(
            Prefetch("stakeholders", queryset=Stakeholder.objects.order_by("last_name", "first_name")),
            Prefetch("participants", queryset=User.objects.order_by("last_name", "first_name", "username")),
        )
        .annotate(
            linked_work_visible=Case(
                When(tactic__in=visible_tactics(actor=actor), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )


def day_range(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Calendar days (inclusive, in the current time zone) → ``[start, end)`` datetimes.

    ``until`` = the last representable day (9999-12-31, "no end") is open-ended: the day after it does not
    exist, so it means no upper bound rather than an overflow."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(since, time.min, tzinfo=tz) if since else None
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz) if until and until < date.max else None
    return start, end


def interaction_list(
    *,
    actor: User,
    account: Account | int | None = None,
    include_descendants: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    channels: Iterable[str] | None = None,
    digital: bool | None = None,
    classification: str | None = None,
    stakeholder: Stakeholder | int | None = None,
    participant: User | int | None = None,
    tactic: Tactic | int | None = None,
    action: Action | int | None = None,
    mine: bool = False,
    q: str | None = None,
) -> QuerySet[Interaction]:
    """Visible interactions, newest first.

    Filters: one account (and, with ``include_descendants``, every account below it) — an ``Account``
    must come from an access-checked selector (``account_get``), a bare id is checked against the scope;
    ``since``
    (inclusive) / ``until`` (exclusive); ``channels``; ``digital`` (True: email/webinar/portal, False:
    visit/meeting/call/event); a classification; one stakeholder, participant, tactic or action;
    ``mine`` (the actor logged it or took part); ``q`` (subject or notes contain).
    """
    if isinstance(account, Account):
        # Fetched through an access-checked selector: the account and everything below it are visible
        # (the scope is closed downwards), so the account ids alone restrict the rows — and PostgreSQL
        # can walk the (account, occurred_at) index per account instead of scanning every interaction.
        qs = Interaction.objects.filter(classification_q(actor))
    else:
        qs = interaction_scope(actor=actor)
    if account is not None:
        if include_descendants:
            qs = qs.filter(account_id__in=account_subtree(account=_pk(account)))
        else:
            qs = qs.filter(account_id=_pk(account))
    qs = _with_details(qs, actor)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    if channels:
        qs = qs.filter(channel__in=list(channels))
    if digital is not None:
        qs = qs.filter(channel__in=sorted(DIGITAL_CHANNELS)) if digital else qs.exclude(channel__in=DIGITAL_CHANNELS)
    if classification:
        qs = qs.filter(classification=classification)
    if stakeholder is not None:
        qs = qs.filter(
            pk__in=InteractionStakeholder.objects.filter(stakeholder_id=_pk(stakeholder)).values("interaction_id")
        )
    if participant is not None:
        qs = qs.filter(pk__in=InteractionParticipant.objects.filter(user_id=_pk(participant)).values("interaction_id"))
    if tactic is not None:
        qs = qs.filter(tactic_id=_pk(tactic))
    if action is not None:
        qs = qs.filter(action_id=_pk(action))
    if mine:
        qs = qs.filter(
            Q(created_by_id=actor.pk)
            | Q(pk__in=InteractionParticipant.objects.filter(user_id=actor.pk).values("interaction_id"))
        )
    if q and q.strip():
        qs = qs.filter(Q(subject__icontains=q.strip()) | Q(notes__icontains=q.strip()))
    return qs.order_by("-occurred_at", "-pk")


# The newest rows of each account of a subtree (a top-N per account through the (account, occurred_at)
# index), then the newest of those: reads ~limit rows per account instead of every row of the subtree.
_LATEST_IN_SUBTREE_SQL = f"""
SELECT t.id FROM {Account._meta.db_table} s
CROSS JOIN LATERAL (
    SELECT i.id, i.occurred_at FROM {Interaction._meta.db_table} i
    WHERE i.account_id = s.id AND i.classification = ANY(%s)
    ORDER BY i.occurred_at DESC, i.id DESC LIMIT %s
) t
WHERE s.id = %s OR s.ancestors @> ARRAY[%s]::bigint[]
ORDER BY t.occurred_at DESC, t.id DESC LIMIT %s"""


# What a row of Account 360's panel shows: when, how, subject, classification, where, who.
_LATEST_ROW_FIELDS = (
    "occurred_at", "channel", "subject", "classification", "account_id", "created_by_id", "account__name",
    "created_by__username", "created_by__first_name", "created_by__last_name",
)  # fmt: skip


def account_interactions_latest(*, actor: User, account: Account, limit: int) -> QuerySet[Interaction]:
    """The ``limit`` newest visible interactions at ``account`` and every account below it, newest first,
    with their account and author (Account 360's panel), in one query. Only the columns a row shows are
    loaded (when, channel, subject, classification, the account's name, the author's name: reading
    another field costs a query per row); tactic and action are not (nor ``linked_work_visible``).

    ``account`` comes from an access-checked selector (its subtree is visible). The ids are chosen first,
    ``limit`` per account of the subtree from the (account, occurred_at) index (a LATERAL top-N), and only
    those rows are joined. Large benchmark world, 234 accounts / 7,713 visible rows: 4,000 buffers and
    ~10 ms, where sorting every row of the subtree read 10,000 buffers and joining them to tactics,
    objectives and plans before the sort took 0.5–2 s.
    """
    if limit <= 0:
        return Interaction.objects.none()
    classes = sorted(visible_classifications(actor))
    newest = RawSQL(_LATEST_IN_SUBTREE_SQL, (classes, limit, account.pk, account.pk, limit))
    return (
        Interaction.objects.filter(pk__in=newest)
        .select_related("account", "created_by")
        .only(*_LATEST_ROW_FIELDS)
        .order_by("-occurred_at", "-pk")
    )


def account_interactions(*, actor: User, account: Account, since: datetime | None = None) -> QuerySet[Interaction]:
    """The visible interactions at ``account`` (from an access-checked selector) and below it, since
    ``since`` (inclusive), as bare rows — for key figures: ``.count()`` is answered from the covering
    (account, occurred_at) index alone. Lists use :func:`interaction_list`."""
    qs = Interaction.objects.filter(classification_q(actor), account_id__in=account_subtree(account=account))
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    return qs


def interaction_get(*, actor: User, interaction_id: int) -> Interaction:
    """One visible interaction, or NotFound (out of scope or hidden classification looks like missing)."""
    interaction = _with_details(interaction_scope(actor=actor), actor).filter(pk=interaction_id).first()
    if interaction is None:
        raise NotFound(_("No such interaction."), code="interaction_not_found")
    return interaction


def stakeholder_interactions(
    *, actor: User, stakeholder: Stakeholder, limit: int | None = None
) -> QuerySet[Interaction]:
    """The visible interactions a stakeholder took part in, newest first (at most ``limit``).

    For the stakeholder page: ``stakeholder`` comes from ``stakeholders.selectors.stakeholder_get``.
    """
    qs = interaction_list(actor=actor, stakeholder=stakeholder)
    return qs[:limit] if limit is not None else qs


def interaction_history(*, actor: User, interaction: Interaction) -> QuerySet[Any]:
    """Every recorded change of an interaction and of its stakeholder and participant links (removed
    ones included), newest first. ``interaction`` comes from :func:`interaction_get`."""
    return (
        Events.objects.across(  # type: ignore[attr-defined]
            Interaction.pgh_event_model,  # type: ignore[attr-defined]
            InteractionStakeholder.pgh_event_model,  # type: ignore[attr-defined]
            InteractionParticipant.pgh_event_model,  # type: ignore[attr-defined]
        )
        .filter(
            Q(pgh_obj_model="activities.Interaction", pgh_obj_id=str(interaction.pk))
            | Q(
                pgh_obj_model__in=["activities.InteractionStakeholder", "activities.InteractionParticipant"],
                pgh_data__interaction_id=interaction.pk,
            )
        )
        .order_by("-pgh_created_at", "-pgh_id")
    )


# --- pickers for the interaction form ---------------------------------------------------------------
def _related_accounts_q(account: Account, prefix: str = "") -> Q:
    """The account, every account above it and every account below it."""
    return (
        Q(**{f"{prefix}account_id": account.pk})
        | Q(**{f"{prefix}account_id__in": list(account.ancestors)})
        | Q(**{f"{prefix}account__ancestors__contains": [account.pk]})
    )


def interaction_stakeholder_positions(*, actor: User, account: Account) -> QuerySet[Position]:
    """Positions (current first, then ended) at the account or below: the people an interaction with
    this account may name. ``account`` comes from an access-checked selector."""
    return account_positions(actor=actor, account=account, include_descendants=True, include_ended=True)


def interaction_eligible_stakeholders(*, actor: User, account: Account) -> QuerySet[Stakeholder]:
    """Stakeholders who hold or held a position at the account or an account below it."""
    at_account = Position.objects.filter(Q(account_id=account.pk) | Q(account__ancestors__contains=[account.pk]))
    return Stakeholder.objects.filter(pk__in=at_account.values("stakeholder_id"))


def interaction_linkable_tactics(*, actor: User, account: Account) -> QuerySet[Tactic]:
    """Tactics (with their actions as ``action_rows``) an interaction with this account may support: in
    a visible plan of the account, an account above it or an account below it; of a visible
    classification. Newest plans first."""
    return (
        visible_tactics(actor=actor)
        .filter(_related_accounts_q(account, prefix="objective__plan__"))
        .select_related("objective__plan__account")
        .prefetch_related(
            Prefetch("actions", queryset=Action.objects.order_by("position", "id"), to_attr="action_rows")
        )
        .order_by("-objective__plan__period_start", "objective__plan__name", "objective__position", "position", "id")
    )


def account_stakeholder_contacts(
    *,
    actor: User,
    account: Account,
    since: datetime | None = None,
    with_total: bool = True,
    stakeholder_ids: list[int] | None = None,
) -> tuple[dict[int, tuple[date, int]], int]:
    """Contact figures per stakeholder from the visible interactions at ``account`` (from an access-checked
    selector) and below it, in two grouped queries: ``({stakeholder_id: (day of last contact, local time,
    interactions since
    since)}, visible interactions since ``since`` that name at least one stakeholder)``. For the relationship
    map (last contact) and the coverage analysis (share of our interactions per stakeholder). Without
    ``with_total`` the second query is skipped and the total is 0. ``stakeholder_ids`` restricts the figures
    per stakeholder to those people (the total still counts every interaction)."""
    from django.db.models import Count, Max
    from django.db.models.functions import TruncDate

    links = InteractionStakeholder.objects.filter(
        interaction__account_id__in=account_subtree(account=account),
        interaction__classification__in=sorted(visible_classifications(actor)),
    )
    recent = Q(interaction__occurred_at__gte=since) if since is not None else Q()
    per_person = links.filter(stakeholder_id__in=stakeholder_ids) if stakeholder_ids is not None else links
    rows = per_person.values("stakeholder_id").annotate(
        last=Max(TruncDate("interaction__occurred_at")), n=Count("pk", filter=recent)
    )
    out = {r["stakeholder_id"]: (r["last"], r["n"]) for r in rows.order_by()}
    if not with_total:
        return out, 0
    total_qs = links.filter(recent) if since is not None else links
    total = total_qs.order_by().values("interaction_id").distinct().count()
    return out, total
