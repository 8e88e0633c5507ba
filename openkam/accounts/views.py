"""Account pages: the list, Account 360, create/edit/move, and the team and affiliation forms.

Thin: parse input → call selectors/services → render. Account 360 composes other apps' selectors
(positions, plans, interactions) and rolls them up per child in a constant number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import IntegerField, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openkam.accounts import selectors, services
from openkam.accounts.forms import (
    AccountFilterForm,
    AccountForm,
    AccountMoveForm,
    AffiliationForm,
    TeamMemberForm,
)
from openkam.accounts.models import Account
from openkam.activities.selectors import account_interactions, account_interactions_latest
from openkam.core.access import can_write
from openkam.core.errors import DomainError, NotFound
from openkam.core.forms import apply_domain_error
from openkam.core.models import Territory, User
from openkam.core.selectors import object_history, object_history_many, user_list, user_search
from openkam.core.ui import paginate
from openkam.plans.selectors import plan_list
from openkam.stakeholders import selectors as stakeholder_selectors
from openkam.stakeholders.selectors import account_positions, account_positions_first, can_see_judgements

# Plans still being worked (everything but closed), in lifecycle order.
OPEN_PLAN_STATUSES = ("draft", "in_review", "approved", "active")
POSITIONS_SHOWN = 20  # on the page; the rest a page at a time (HTMX "Show more")
POSITIONS_PAGE = 100
PLANS_SHOWN = 10
INTERACTIONS_SHOWN = 10
HISTORY_SHOWN = 50
PEOPLE_SHOWN = 20  # first page of the team form's people picker; the search box finds the others
# What a row of the open plans panel shows (reading another field would cost a query per row).
_PLAN_ROW_FIELDS = (
    "name", "status", "period_start", "period_end", "account_id", "owner_id", "account__name",
    "owner__username", "owner__first_name", "owner__last_name", "last_meaningful_update_at",
)  # fmt: skip


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "core/forbidden.html", status=403)


def _get_account(request: HttpRequest, pk: int) -> Account:
    try:
        return selectors.account_get(actor=_actor(request), account_id=pk)
    except NotFound:
        raise Http404(_("No such account.")) from None


# --- list -----------------------------------------------------------------------------------------
@login_required
@require_GET
def account_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = AccountFilterForm(
        request.GET or None,
        owners=selectors.account_owners(actor=actor),
        countries=selectors.account_countries(actor=actor),
    )
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    accounts = selectors.account_list(actor=actor, **filters)
    page = paginate(request, accounts)
    return render(
        request,
        "accounts/list.html",
        {
            "form": form,
            "page_obj": page,
            "filtered": bool(filters),
            "can_create": services.can_create_account(actor),
        },
    )


# --- Account 360 ----------------------------------------------------------------------------------
def _people_first_page(actor: User, chosen: int | None = None) -> list[User]:
    """The people the team form's picker starts with: the chosen person (when the form comes back with an
    error) and a first page by name; the search box asks ``core:people_options`` for the others."""
    people = user_search(actor=actor, limit=PEOPLE_SHOWN)
    if chosen and selectors.valid_id(chosen) and all(u.pk != chosen for u in people):
        people = [*user_list(actor=actor).filter(pk=chosen), *people]
    return people


def _team_context(request: HttpRequest, account: Account, form: TeamMemberForm | None = None) -> dict[str, Any]:
    actor = _actor(request)
    writable = can_write(actor)
    team: list[Any] = list(selectors.account_team(actor=actor, account=account))  # annotated is_current
    return {
        "account": account,
        "team_current": [m for m in team if m.is_current],
        "team_former": [m for m in team if not m.is_current],
        "team_inherited": list(selectors.account_team_inherited(actor=actor, account=account)),
        "team_form": form,  # None: fetched when "Add" is first clicked (GET team_add)
        "can_write": writable,
    }


def _affiliation_context(request: HttpRequest, account: Account, form: AffiliationForm | None = None) -> dict[str, Any]:
    actor = _actor(request)
    writable = can_write(actor)
    affiliations: list[Any] = list(selectors.account_affiliations(actor=actor, account=account))
    return {
        "account": account,
        "affiliations_current": [a for a in affiliations if a.is_current],
        "affiliations_former": [a for a in affiliations if not a.is_current],
        "affiliation_form": form,  # None: fetched when "Add" is first clicked (GET affiliation_add)
        "can_write": writable,
    }


def _committees(actor: User, account: Account) -> list[Any] | None:
    """The account's committees through the stakeholders app's selector, when it offers one."""
    committee_list = getattr(stakeholder_selectors, "committee_list", None)
    if committee_list is None:
        return None
    return list(committee_list(actor=actor, account=account))


def _history(account: Account, team: list[Any], affiliations: list[Any]) -> list[Any]:
    """The account's own changes plus those of its team memberships and affiliations, newest first
    (one query per kind of row, whatever their number)."""
    events = list(object_history(obj=account)[:HISTORY_SHOWN])
    for rows in (team, affiliations):
        if rows:
            events += list(object_history_many(objs=rows)[:HISTORY_SHOWN])
    events.sort(key=lambda e: (e.pgh_created_at, e.pgh_id), reverse=True)
    return events[:HISTORY_SHOWN]


@login_required
@require_GET
def account_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Account 360's History tab, fetched when it is first opened (HTMX), or a page of its own."""
    actor = _actor(request)
    account = _get_account(request, pk)
    team = list(selectors.account_team(actor=actor, account=account))
    affiliations = list(selectors.account_affiliations(actor=actor, account=account))
    context = {"account": account, "history": _history(account, team, affiliations)}
    template = "accounts/_history.html" if getattr(request, "htmx", False) else "accounts/history.html"
    return render(request, template, context)


class _CountOf(Subquery):
    """``(SELECT count(*) FROM (<queryset>) n)``: how many rows a queryset has, as an expression."""

    template = "(SELECT count(*) FROM (%(subquery)s) n)"
    output_field = IntegerField()


def _count_each(account: Account, **querysets: QuerySet[Any]) -> dict[str, int]:
    """How many rows each (already access-restricted) queryset has, in ONE statement: a scalar subquery
    each, selected next to the account's row (key figures; saves a round trip per figure). Pass
    ``.values(...)`` querysets: only the columns that make a row count (no annotation computed)."""
    counts = {name: _CountOf(qs.order_by()) for name, qs in querysets.items()}
    row = Account.objects.filter(pk=account.pk).annotate(**counts).values_list(*counts).get()
    return dict(zip(counts, row, strict=True))


def _url_maker(name: str) -> Callable[[int], str | None]:
    """``pk → URL`` of a one-id URL name, reversed once (not once per row: a list of 40–100 rows would spend
    milliseconds in ``{% url %}``); ``None`` for each row when that area offers no such page."""
    marker = 2_147_483_647
    try:
        pattern = reverse(name, args=[marker])
    except NoReverseMatch:
        return lambda pk: None
    head, tail = pattern.split(str(marker), 1)
    return lambda pk: f"{head}{int(pk)}{tail}"


def _position_page(actor: User, account: Account, *, offset: int, limit: int) -> list[Any]:
    """A page of the stakeholders card (positions here and below), each row with ``stakeholder_url``."""
    rows: list[Any] = list(account_positions_first(actor=actor, account=account, limit=limit, offset=offset))
    stakeholder_url = _url_maker("stakeholders:detail")
    for p in rows:
        p.stakeholder_url = stakeholder_url(p.stakeholder_id)
    return rows


def _more_positions(account: Account, *, shown: int, total: int) -> dict[str, Any] | None:
    """The "Show more" control under the stakeholders card: where the next page starts and how many rows it
    and all the rest hold; None when every position is shown."""
    if shown >= total:
        return None
    return {
        "url": reverse("accounts:positions", args=[account.pk]),
        "offset": shown,
        "next": min(POSITIONS_PAGE, total - shown),
        "remaining": total - shown,
        "total": total,
    }


@login_required
@require_GET
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    account = _get_account(request, pk)
    today = timezone.localdate()

    children = list(selectors.account_children(actor=actor, account=account))
    current_positions = account_positions(actor=actor, account=account, include_descendants=True, include_ended=False)
    open_plans = plan_list(
        actor=actor, account=account, include_descendants=True, statuses=OPEN_PLAN_STATUSES, with_completion=False
    )
    rollups = (  # accounts, current stakeholders and open plans below each child, in one statement
        selectors.account_child_rollups(
            account=account, stakeholders=(current_positions, "stakeholder_id"), plans=(open_plans, "pk")
        )
        if children
        else {}
    )
    account_url = _url_maker("accounts:detail")
    for child in children:
        child.url = account_url(child.pk)  # type: ignore[attr-defined]
        child.descendant_count = rollups["descendants"].get(child.pk, 0)  # type: ignore[attr-defined]
        child.stakeholder_count = rollups["stakeholders"].get(child.pk, 0)  # type: ignore[attr-defined]
        child.open_plan_count = rollups["plans"].get(child.pk, 0)  # type: ignore[attr-defined]
    descendants = rollups.get("descendants", {})

    positions = _position_page(actor, account, offset=0, limit=POSITIONS_SHOWN)
    recent_since = timezone.now() - dt.timedelta(days=90)
    figures = _count_each(
        account,
        stakeholders=current_positions.values("stakeholder_id").distinct(),
        open_plans=open_plans.values("pk"),
        interactions_90d=account_interactions(actor=actor, account=account, since=recent_since).values("pk"),
        positions_total=account_positions(actor=actor, account=account, include_descendants=True).values("pk"),
    )

    positions_total = figures.pop("positions_total")
    positions_more = _more_positions(account, shown=len(positions), total=positions_total)

    plans = list(open_plans.only(*_PLAN_ROW_FIELDS)[:PLANS_SHOWN])  # each with is_stale (plan rot)
    team_ctx = _team_context(request, account)
    aff_ctx = _affiliation_context(request, account)

    context = {
        "account": account,
        "ancestors": selectors.account_ancestors(actor=actor, account=account),
        "children": children,
        "kpi": {
            # every account below is a direct child or below one: no query of its own
            "descendants": len(children) + sum(descendants.values()),
            **figures,
        },
        "positions": positions,
        "positions_total": positions_total,
        "positions_more": positions_more,
        "judgements": can_see_judgements(actor),  # the "Role in decision" column: a commercial judgement
        "plans": plans,
        "stale_plans": sum(1 for p in plans if getattr(p, "is_stale", False)),  # plan rot, flagged on the card
        "interactions": list(account_interactions_latest(actor=actor, account=account, limit=INTERACTIONS_SHOWN)),
        "committees": _committees(actor, account),
        "today": today,
        "can_create_child": services.can_create_account(actor),
        "position_add_url": _optional_url("stakeholders:position_add", query=f"account={account.pk}"),
        **team_ctx,
        **aff_ctx,
    }
    return render(request, "accounts/detail.html", context)


@login_required
@require_GET
def account_positions_more(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of Account 360's stakeholders card (``?offset=``), same order and columns: table rows
    and the next "Show more" control, for HTMX to put in place of the control that asked for them. Without
    JavaScript, the rows on a page of their own."""
    actor = _actor(request)
    account = _get_account(request, pk)
    offset = max(0, _int(request.GET.get("offset")) or 0)
    positions = _position_page(actor, account, offset=offset, limit=POSITIONS_PAGE)
    total = account_positions(actor=actor, account=account, include_descendants=True).count()
    context = {
        "account": account,
        "positions": positions,
        "positions_more": _more_positions(account, shown=offset + len(positions), total=total),
        "positions_total": total,
        "judgements": can_see_judgements(actor),
        "offset": offset,
    }
    template = "accounts/_position_rows.html" if getattr(request, "htmx", False) else "accounts/positions.html"
    return render(request, template, context)


# --- create / edit / move -------------------------------------------------------------------------
def _form_choices(actor: User) -> dict[str, Any]:
    return {"owners": list(user_list(actor=actor)), "territories": list(Territory.objects.order_by("name"))}


def _optional_url(name: str, *args: Any, query: str = "") -> str | None:
    """A URL of another area when that area offers it (areas are wired independently)."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{query}" if query else url


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
def account_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not services.can_create_account(actor):
        return _forbidden(request)
    chosen = _int(request.POST.get("parent_id") if request.method == "POST" else request.GET.get("parent"))
    parents = selectors.account_picker(actor=actor, include_id=chosen)
    initial: dict[str, Any] = {"parent_id": chosen, "owner_id": actor.pk, "country": "US"}
    parent = next((p for p in parents if p.pk == chosen), None) if chosen else None
    if parent is not None:  # a child usually sits where its parent is
        initial.update(city=parent.city, state=parent.state, country=parent.country)
    form = AccountForm(request.POST or None, initial=initial, parents=parents, **_form_choices(actor))
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_create(
                actor=actor,
                parent_id=form.cleaned_data.get("parent_id"),
                reason=form.cleaned_data.get("reason", ""),
                **form.service_fields(),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Account “%(name)s” created.") % {"name": account.name})
            return redirect("accounts:detail", pk=account.pk)
    return render(request, "accounts/form.html", {"form": form, "account": None})


@login_required
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    account = _get_account(request, pk)
    if not can_write(actor):
        return _forbidden(request)
    fields = [f for f in AccountForm.base_fields if f not in ("parent_id", "reason", "owner_id", "territory_id")]
    initial = {f: getattr(account, f) for f in fields}
    initial.update(owner_id=account.owner_id, territory_id=account.territory_id)
    form = AccountForm(request.POST or None, initial=initial, **_form_choices(actor))
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(
                actor=actor, account=account, reason=form.cleaned_data.get("reason", ""), **form.service_fields()
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Account saved."))
            return redirect("accounts:detail", pk=account.pk)
    return render(request, "accounts/form.html", {"form": form, "account": account})


@login_required
def account_move(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    account = _get_account(request, pk)
    if not can_write(actor):
        return _forbidden(request)
    chosen = _int(request.POST.get("parent_id")) if request.method == "POST" else account.parent_id
    parents = selectors.account_picker(actor=actor, exclude_subtree_of=account.pk, include_id=chosen)
    form = AccountMoveForm(
        request.POST or None, initial={"parent_id": account.parent_id}, account_id=account.pk, parents=parents
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.account_move(
                actor=actor,
                account=account,
                new_parent_id=form.cleaned_data.get("parent_id"),
                reason=form.cleaned_data.get("reason", ""),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("“%(name)s” moved.") % {"name": account.name})
            return redirect("accounts:detail", pk=account.pk)
    return render(
        request,
        "accounts/move.html",
        {"form": form, "account": account, "ancestors": selectors.account_ancestors(actor=actor, account=account)},
    )


@login_required
@require_GET
def account_options(request: HttpRequest) -> HttpResponse:
    """``<option>`` elements for the account pickers (HTMX): visible accounts matching ``q``."""
    accounts = selectors.account_picker(
        actor=_actor(request), q=request.GET.get("q", ""), exclude_subtree_of=_int(request.GET.get("exclude"))
    )
    return render(request, "accounts/_options.html", {"accounts": accounts})


# --- team -----------------------------------------------------------------------------------------
def _form_or_page(
    request: HttpRequest, account: Account, fragment: str, name: str, form: Any, title: str
) -> HttpResponse:
    """An add form on its own: the fragment for HTMX (into Account 360's card), else a page."""
    if getattr(request, "htmx", False):
        return render(request, fragment, {"account": account, name: form})
    return render(
        request, "accounts/subform.html", {"form": form, "account": account, "title": title, "action": request.path}
    )


def _partial_or_redirect(
    request: HttpRequest, account: Account, template: str, context: dict[str, Any], anchor: str
) -> HttpResponse:
    if getattr(request, "htmx", False):
        return render(request, template, context)
    return redirect(reverse("accounts:detail", kwargs={"pk": account.pk}) + anchor)


@login_required
@require_http_methods(["GET", "POST"])
def team_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the empty form (Account 360 fetches it when "Add" is first clicked); POST: add the member."""
    actor = _actor(request)
    account = _get_account(request, pk)
    if not can_write(actor):
        return _forbidden(request)
    if request.method == "GET":
        form = TeamMemberForm(users=_people_first_page(actor), auto_id="team_%s")
        return _form_or_page(request, account, "accounts/_team_form.html", "team_form", form, _("Add a team member"))
    form = TeamMemberForm(
        request.POST, users=_people_first_page(actor, _int(request.POST.get("user_id"))), auto_id="team_%s"
    )
    if form.is_valid():
        try:
            member = services.account_team_member_add(
                actor=actor,
                account=account,
                user_id=form.cleaned_data["user_id"],
                role=form.cleaned_data["role"],
                function=form.cleaned_data.get("function") or "",
                start_date=form.cleaned_data.get("start_date"),
                end_date=form.cleaned_data.get("end_date"),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            note = _("%(user)s added to the team.") % {"user": member.user}
            if not getattr(request, "htmx", False):
                messages.success(request, note)
            return _partial_or_redirect(
                request, account, "accounts/_team.html", {**_team_context(request, account), "note": note}, "#team"
            )
    if getattr(request, "htmx", False):
        return render(request, "accounts/_team.html", {**_team_context(request, account, form), "form_open": True})
    return render(
        request,
        "accounts/subform.html",
        {"form": form, "account": account, "title": _("Add a team member"), "action": request.path},
    )


@login_required
@require_POST
def team_member_end(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    actor = _actor(request)
    account = _get_account(request, pk)
    if not can_write(actor):
        return _forbidden(request)
    note = error = None
    try:
        member = services.account_team_member_end(actor=actor, member=member_id, account_id=account.pk)
        if member.end_date is not None and member.end_date >= timezone.localdate():  # joined today: ends tonight
            note = _("%(user)s's membership ends on %(d)s.") % {"user": member.user, "d": member.end_date.isoformat()}
        else:
            note = _("%(user)s is no longer on the team.") % {"user": member.user}
    except NotFound:
        raise Http404(_("No such team member.")) from None
    except DomainError as exc:
        error = exc.message
    if not getattr(request, "htmx", False):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, str(note))
    return _partial_or_redirect(
        request,
        account,
        "accounts/_team.html",
        {**_team_context(request, account), "note": note, "error": error},
        "#team",
    )


# --- affiliations ---------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def affiliation_add(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the empty form (no account listed until the user searches); POST: add the affiliation."""
    actor = _actor(request)
    account = _get_account(request, pk)
    if not can_write(actor):
        return _forbidden(request)
    if request.method == "GET":
        form = AffiliationForm(account_id=account.pk, candidates=[], auto_id="aff_%s")
        title = _("Add an affiliation")
        return _form_or_page(request, account, "accounts/_affiliation_form.html", "affiliation_form", form, title)
    chosen = _int(request.POST.get("to_account_id"))
    candidates = selectors.account_picker(actor=actor, include_id=chosen, limit=30)
    form = AffiliationForm(request.POST, account_id=account.pk, candidates=candidates, auto_id="aff_%s")
    if form.is_valid():
        try:
            aff = services.affiliation_create(actor=actor, from_account=account, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            note = _("Affiliation with “%(name)s” added.") % {"name": aff.to_account.name}
            if not getattr(request, "htmx", False):
                messages.success(request, note)
            return _partial_or_redirect(
                request,
                account,
                "accounts/_affiliations.html",
                {**_affiliation_context(request, account), "note": note},
                "#affiliations",
            )
    if getattr(request, "htmx", False):
        return render(
            request, "accounts/_affiliations.html", {**_affiliation_context(request, account, form), "form_open": True}
        )
    return render(
        request,
        "accounts/subform.html",
        {"form": form, "account": account, "title": _("Add an affiliation"), "action": request.path},
    )


@login_required
@require_POST
def affiliation_end(request: HttpRequest, pk: int, affiliation_id: int) -> HttpResponse:
    actor = _actor(request)
    account = _get_account(request, pk)
    if not can_write(actor):
        return _forbidden(request)
    note = error = None
    try:
        services.affiliation_end(actor=actor, affiliation=affiliation_id, account_id=account.pk)
        note = _("Affiliation ended.")
    except NotFound:
        raise Http404(_("No such affiliation.")) from None
    except DomainError as exc:
        error = exc.message
    if not getattr(request, "htmx", False):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, str(note))
    return _partial_or_redirect(
        request,
        account,
        "accounts/_affiliations.html",
        {**_affiliation_context(request, account), "note": note, "error": error},
        "#affiliations",
    )
