"""Stakeholder pages: list, person page, create/edit, positions (add, edit, end), committees, pickers.

Thin: parse the form, call one service, show its errors next to the fields (``apply_domain_error``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_get, account_scope
from openkam.activities.selectors import stakeholder_interactions
from openkam.core.access import can_write, require_write
from openkam.core.errors import DomainError, NotFound
from openkam.core.errors import PermissionDenied as DomainPermissionDenied
from openkam.core.forms import apply_domain_error
from openkam.core.models import User
from openkam.core.selectors import object_history, object_history_many
from openkam.core.ui import paginate
from openkam.stakeholders import selectors, services
from openkam.stakeholders.forms import (
    PICKER_LIMIT,
    CommitteeForm,
    CommitteeMemberForm,
    NewStakeholderForm,
    PositionEditForm,
    PositionEndForm,
    PositionForm,
    StakeholderForm,
    account_label,
)
from openkam.stakeholders.models import DecisionRole, Stakeholder, StakeholderKind

HISTORY_LIMIT = 40


def _domain_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Out of scope → the 404 page; a read-only role trying to write → the 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)
        except DomainPermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message)

    return wrapper


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def account_url(account_id: int) -> str:
    """The account's page when the accounts area has one, else the people at that account."""
    try:
        return reverse("accounts:detail", args=[account_id])
    except NoReverseMatch:
        return reverse("stakeholders:list") + f"?account={account_id}"


def _next_url(request: HttpRequest, default: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return default


def _optional_account(request: HttpRequest) -> Account | None:
    pk = _int(request.GET.get("account"))
    return account_get(actor=_actor(request), account_id=pk) if pk else None


# --- list and person page ---------------------------------------------------------------------------
@login_required
@_domain_errors
def stakeholder_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    q = request.GET.get("q", "").strip()
    specialty = request.GET.get("specialty", "").strip() or None
    kind = request.GET.get("kind", "") if request.GET.get("kind", "") in StakeholderKind.values else None
    try:
        account = _optional_account(request)
    except NotFound:
        account = None
        messages.warning(request, _("That account is not on your book; showing everyone you can see."))
    people = selectors.stakeholder_list(actor=actor, q=q, specialty=specialty, kind=kind, account=account)
    page = paginate(request, people)
    for p in page.object_list:
        p.primary_account_label = selectors.primary_account_label(p)
    accounts = list(account_scope(actor=actor).select_related("parent").order_by("ancestors", "name")[:500])
    if account is not None and account.pk not in {a.pk for a in accounts}:
        accounts.insert(0, account)
    return render(
        request,
        "stakeholders/list.html",
        {
            "page_obj": page,
            "people": page.object_list,
            "q": q,
            "specialty": specialty,
            "kind": kind,
            "account": account,
            "kinds": StakeholderKind.choices,
            "specialties": selectors.specialties_in_use(actor=actor),
            "accounts": [(a.pk, account_label(a)) for a in accounts],
            "filtered": bool(q or specialty or kind or account),
            "can_write": can_write(actor),
        },
    )


INTERACTIONS_LIMIT = 10


@login_required
@_domain_errors
def stakeholder_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    person = selectors.stakeholder_get(actor=actor, stakeholder_id=pk)
    positions = list(selectors.stakeholder_positions(actor=actor, stakeholder=person))
    for p in positions:
        p.account_url = account_url(p.account_id)  # type: ignore[attr-defined]
    judgements = selectors.can_see_judgements(actor)
    history = _history(person, positions, judgements=judgements)
    return render(
        request,
        "stakeholders/detail.html",
        {
            "person": person,
            "current": [p for p in positions if p.is_current],  # type: ignore[attr-defined]
            "past": [p for p in positions if not p.is_current],  # type: ignore[attr-defined]
            "history": history,
            "history_limit": HISTORY_LIMIT,
            "interactions": list(stakeholder_interactions(actor=actor, stakeholder=person, limit=INTERACTIONS_LIMIT)),
            "primary_account_label": selectors.primary_account_label(person),
            "primary_account_url": account_url(person.primary_account_id) if person.primary_account_id else "",  # type: ignore[attr-defined]
            "can_write": can_write(actor),
            "judgements": judgements,
            "end_form": PositionEndForm(),
        },
    )


# Fields of a position that are commercial judgements: left out of the history for readers who may not see them.
JUDGEMENT_FIELDS = frozenset({"role_in_decision"})


def _history(person: Stakeholder, positions: list[Any], *, judgements: bool = True) -> list[Any]:
    """The latest changes to the person and to their (visible) positions, newest first. Without
    ``judgements`` (medical) the decision role is left out of every change, and a change of nothing else is
    not listed."""
    events = list(object_history(obj=person)[:HISTORY_LIMIT])
    if positions:
        position_events = list(object_history_many(objs=positions)[:HISTORY_LIMIT])
        if not judgements:
            kept = []
            for e in position_events:
                diff = e.pgh_diff
                if diff:
                    e.pgh_diff = {k: v for k, v in diff.items() if k not in JUDGEMENT_FIELDS}
                    if not set(e.pgh_diff) - {"updated_at"}:
                        continue
                kept.append(e)
            position_events = kept
        events += position_events
    events.sort(key=lambda e: (e.pgh_created_at, e.pgh_id), reverse=True)
    return events[:HISTORY_LIMIT]


# --- create and edit --------------------------------------------------------------------------------
def _render_new(request: HttpRequest, form: Any, account: Account | None, **extra: Any) -> HttpResponse:
    return render(
        request,
        "stakeholders/position_add.html",
        {
            "form": form,
            "account": account,
            "mode": "new",
            "account_url": account_url(account.pk) if account else "",
            **extra,
        },
    )


def _create_person(request: HttpRequest, account: Account | None) -> HttpResponse:
    actor = _actor(request)
    require_write(actor)
    form = NewStakeholderForm(request.POST or None, actor=actor, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.stakeholder_create(actor=actor, **form.stakeholder_data(), **form.position_data())
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": person.display_name})
            # from an account's page, back to the account (mapping several people in a row); else the person
            default = account_url(account.pk) if account else reverse("stakeholders:detail", args=[person.pk])
            return redirect(_next_url(request, default))
    return _render_new(request, form, account)


@login_required
@_domain_errors
def stakeholder_create(request: HttpRequest) -> HttpResponse:
    """A new person with their first position (at ``?account=`` when given)."""
    return _create_person(request, _optional_account(request))


@login_required
@_domain_errors
def stakeholder_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    require_write(actor)
    person = selectors.stakeholder_get(actor=actor, stakeholder_id=pk)
    form = StakeholderForm(request.POST or None, actor=actor, initial=StakeholderForm.initial_for(person))
    if request.method == "POST" and form.is_valid():
        try:
            person = services.stakeholder_update(actor=actor, stakeholder=person, **form.stakeholder_data())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Changes to %(name)s saved.") % {"name": person.display_name})
            return redirect("stakeholders:detail", pk=person.pk)
    return render(request, "stakeholders/stakeholder_form.html", {"form": form, "person": person})


# --- positions --------------------------------------------------------------------------------------
@login_required
@_domain_errors
def position_add(request: HttpRequest) -> HttpResponse:
    """``?account=<pk>`` and/or ``?stakeholder=<pk>``: a new role for a visible person, or (``mode=new``, with
    an account) a new person with their first role — how a KAM maps people from an account's page."""
    actor = _actor(request)
    require_write(actor)
    account = _optional_account(request)
    spk = _int(request.GET.get("stakeholder"))
    person = selectors.stakeholder_get(actor=actor, stakeholder_id=spk) if spk else None
    mode = "new" if request.GET.get("mode") == "new" and person is None else "existing"
    if mode == "new":
        return _create_person(request, account)
    form = PositionForm(request.POST or None, actor=actor, account=account, stakeholder=person)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            position = services.position_add(
                actor=actor,
                stakeholder=data["stakeholder"],
                account=data["account"],
                title=data["title"],
                role_in_decision=data.get("role_in_decision") or DecisionRole.UNKNOWN,
                committee=data.get("committee"),
                valid_from=data["valid_from"],
                is_primary=data["is_primary"],
            )
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            apply_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is now %(title)s at %(account)s.")
                % {
                    "name": position.stakeholder.display_name,
                    "title": position.title,
                    "account": position.account.qualified_name,
                },
            )
            default = (
                account_url(account.pk)
                if account is not None and person is None
                else reverse("stakeholders:detail", args=[position.stakeholder_id])
            )
            return redirect(_next_url(request, default))
    return render(
        request,
        "stakeholders/position_add.html",
        {
            "form": form,
            "account": account,
            "person": person,
            "mode": mode,
            "account_url": account_url(account.pk) if account else "",
        },
    )


@login_required
@_domain_errors
def position_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    require_write(actor)
    position = selectors.position_get(actor=actor, position_id=pk)
    initial = {
        "title": position.title,
        "role_in_decision": position.role_in_decision,
        "committee": position.committee_id,
        "valid_from": position.valid_from,
        "is_primary": position.is_primary,
    }
    form = PositionEditForm(request.POST or None, actor=actor, account=position.account, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.position_update(actor=actor, position=position, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Position updated."))
            return redirect(_next_url(request, reverse("stakeholders:detail", args=[position.stakeholder_id])))
    return render(request, "stakeholders/position_edit.html", {"form": form, "position": position})


@login_required
@_domain_errors
def position_end(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: ask for the last day in the role. POST: end it (the role then shows as vacated)."""
    actor = _actor(request)
    require_write(actor)
    position = selectors.position_get(actor=actor, position_id=pk)
    form = PositionEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.position_end(
                actor=actor,
                position=position,
                valid_to=form.cleaned_data["valid_to"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("%(title)s at %(account)s ended: the role shows as vacated from %(date)s.")
                % {
                    "title": position.title,
                    "account": position.account.qualified_name,
                    "date": date_format(form.cleaned_data["valid_to"], "SHORT_DATE_FORMAT"),
                },
            )
            return redirect(_next_url(request, reverse("stakeholders:detail", args=[position.stakeholder_id])))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "stakeholders/position_end.html",
        {"form": form, "position": position, "next": _next_url(request, "")},
        status=status,
    )


# --- committees -------------------------------------------------------------------------------------
def _below_choices(account: Account) -> list[tuple[int, str]]:
    """Accounts below ``account`` (a selected scope picks among them), by depth and name."""
    rows = Account.objects.filter(ancestors__contains=[account.pk]).order_by("depth", "name")[:500]
    return [(a.pk, f"{'· ' * max(0, a.depth - account.depth - 1)}{a.name}") for a in rows]


@login_required
@_domain_errors
def committee_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    require_write(actor)
    account = _optional_account(request)
    if account is None:
        raise Http404(_("Open this page from an account."))
    form = CommitteeForm(request.POST or None, below=_below_choices(account))
    if request.method == "POST" and form.is_valid():
        try:
            committee = services.committee_create(actor=actor, account=account, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Committee “%(name)s” created.") % {"name": committee.name})
            return redirect(_next_url(request, reverse("stakeholders:committee_detail", args=[committee.pk])))
    return render(
        request,
        "stakeholders/committee_form.html",
        {"form": form, "account": account, "committee": None, "account_url": account_url(account.pk)},
    )


@login_required
@_domain_errors
def committee_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    require_write(actor)
    committee = selectors.committee_get(actor=actor, committee_id=pk)
    fields = ("name", "kind", "meeting_cadence", "next_meeting", "description", "scope")
    initial: dict[str, Any] = {f: getattr(committee, f) for f in fields}
    initial["scope_accounts"] = list(committee._scope_ids)  # type: ignore[attr-defined]
    form = CommitteeForm(request.POST or None, initial=initial, below=_below_choices(committee.account))
    if request.method == "POST" and form.is_valid():
        try:
            services.committee_update(actor=actor, committee=committee, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Committee saved."))
            return redirect(_next_url(request, reverse("stakeholders:committee_detail", args=[committee.pk])))
    return render(
        request,
        "stakeholders/committee_form.html",
        {
            "form": form,
            "account": committee.account,
            "committee": committee,
            "account_url": account_url(committee.account_id),
        },
    )


@login_required
@_domain_errors
def committee_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A committee: what it decides for, its seats (current and past), seat a person (POST)."""
    actor = _actor(request)
    committee = selectors.committee_get(actor=actor, committee_id=pk)
    candidates = selectors.committee_member_candidates(actor=actor, committee=committee, q=request.GET.get("q", ""),
                                                       limit=200)  # fmt: skip
    choices = [(p.pk, f"{p.stakeholder} — {p.title} ({p.account.qualified_name})") for p in candidates]
    judgements = selectors.can_see_judgements(actor)
    form = CommitteeMemberForm(request.POST or None, candidates=choices, judgements=judgements)
    status = 200
    if request.method == "POST":
        require_write(actor)
        if form.is_valid():
            d = form.cleaned_data
            try:
                chosen = selectors.position_get(actor=actor, position_id=d["position"])
                services.committee_member_add(
                    actor=actor, committee=committee, stakeholder=chosen.stakeholder_id, account=chosen.account_id,
                    committee_role=d["committee_role"],
                    role_in_decision=d.get("role_in_decision") or DecisionRole.UNKNOWN,
                    valid_from=d.get("valid_from"),
                )  # fmt: skip
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("Seat added."))
                return redirect("stakeholders:committee_detail", pk=committee.pk)
        status = 422
    members = list(selectors.committee_members(actor=actor, committee=committee))
    return render(
        request,
        "stakeholders/committee_detail.html",
        {
            "committee": committee,
            "scope_text": selectors.committee_scope_text(committee=committee),
            "current": [m for m in members if m.is_current],  # type: ignore[attr-defined]
            "past": [m for m in members if not m.is_current],  # type: ignore[attr-defined]
            "form": form,
            "can_edit": can_write(actor),
            "judgements": judgements,
            "account_url": account_url(committee.account_id),
        },
        status=status,
    )


# --- pickers (HTMX) ---------------------------------------------------------------------------------
@login_required
@require_GET
@_domain_errors
def options(request: HttpRequest, kind: str) -> HttpResponse:
    """``<option>`` rows for a picker select: the selected row first, then up to 50 matches of ``q``."""
    actor = _actor(request)
    q = request.GET.get("q", "").strip()
    selected = request.GET.get(kind, "")
    rows: list[tuple[Any, str]] = []
    total: int | None = None
    chosen_row: tuple[Any, str] | None
    if kind == "specialty":
        qs = selectors.specialty_list(actor=actor, q=q)
        rows = [(s.code, f"{s.display_name} ({s.code})") for s in qs[:PICKER_LIMIT]] if q else []
        total = qs.count() if q else None
        chosen = selectors.specialty_list(actor=actor).filter(pk=selected).first() if selected else None
        chosen_row = (chosen.code, f"{chosen.display_name} ({chosen.code})") if chosen else None
        empty = _("— no specialty —")
    elif kind == "stakeholder":
        people = selectors.stakeholder_list(actor=actor, q=q)
        rows = [(s.pk, _person(s)) for s in people[:PICKER_LIMIT]]
        total = people.count() if q else None
        pk = _int(selected)
        chosen_s: Stakeholder | None = selectors.stakeholder_list(actor=actor).filter(pk=pk).first() if pk else None
        chosen_row = (chosen_s.pk, _person(chosen_s)) if chosen_s else None
        empty = _("— choose a person —")
    elif kind == "account":
        accounts = account_scope(actor=actor)
        for word in q.split():
            accounts = accounts.filter(Q(name__icontains=word) | Q(city__icontains=word))
        accounts = accounts.select_related("parent").order_by("ancestors", "name")
        rows = [(a.pk, account_label(a)) for a in accounts[:PICKER_LIMIT]]
        total = accounts.count() if q else None
        pk = _int(selected)
        chosen_a = account_scope(actor=actor).select_related("parent").filter(pk=pk).first() if pk else None
        chosen_row = (chosen_a.pk, account_label(chosen_a)) if chosen_a else None
        empty = _("— choose an account —")
    elif kind == "committee":
        pk = _int(request.GET.get("account"))
        acct = account_scope(actor=actor).filter(pk=pk).first() if pk else None
        committees = selectors.committee_choices(actor=actor, account=acct) if acct else []
        rows = [(c.pk, f"{c.name} · {c.account.qualified_name}") for c in committees]
        chosen_row = None
        empty = _("— none —")
    else:
        raise Http404
    if chosen_row is not None:
        rows = [chosen_row] + [r for r in rows if str(r[0]) != str(chosen_row[0])]
    if total is not None and q:
        if total == 0:
            empty = _("— no match for “%(q)s” —") % {"q": q}
        elif total > PICKER_LIMIT:
            empty = _("— %(n)s matches, first %(limit)s shown —") % {"n": total, "limit": PICKER_LIMIT}
        else:
            empty = ngettext("— %(n)s match —", "— %(n)s matches —", total) % {"n": total}
    return render(
        request,
        "stakeholders/components/options.html",
        {"rows": rows, "empty": empty, "selected": str(chosen_row[0]) if chosen_row else ""},
    )


def _person(s: Stakeholder) -> str:
    title = getattr(s, "primary_title", None)
    return f"{s.display_name} · {title}" if title else s.display_name
