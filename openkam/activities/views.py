"""Interaction pages: the list with filters, the detail with history, and the log / edit / delete forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_get, account_scope
from openkam.activities import selectors, services
from openkam.activities.forms import (
    InteractionFilterForm,
    InteractionForm,
    local_now_minutes,
    stakeholder_option_search,
    stakeholder_options,
)
from openkam.activities.models import Interaction
from openkam.core.access import can_write, visible_classifications, writable_classifications
from openkam.core.errors import DomainError, FieldError, NotFound
from openkam.core.forms import apply_domain_error
from openkam.core.models import User
from openkam.core.selectors import user_list
from openkam.core.ui import paginate
from openkam.stakeholders.selectors import stakeholder_get

ACCOUNT_CHOICES_LIMIT = 1000  # the list page's account filter
PICKER_PAGE = 50  # what the form's account and participant selects offer before a search


def _found(fetch: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return fetch(**kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "core/forbidden.html", status=403)


def _accounts(actor: User) -> list[Account]:
    return list(account_scope(actor=actor).select_related("parent").order_by("name", "pk")[:ACCOUNT_CHOICES_LIMIT])


def _account_or_none(actor: User, raw: Any) -> Account | None:
    try:
        return account_get(actor=actor, account_id=int(raw))
    except (NotFound, TypeError, ValueError):
        return None


# --- list and detail ------------------------------------------------------------------------------
@login_required
def interaction_list(request: HttpRequest) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    accounts = _accounts(actor)
    form = InteractionFilterForm(request.GET or None, accounts=accounts, classifications=visible_classifications(actor))
    filters = form.filters() if request.GET else {"mine": False, "since_date": None, "until_date": None}
    since, until = selectors.day_range(filters.pop("since_date"), filters.pop("until_date"))
    person = None
    if request.GET.get("stakeholder", "").isdigit():  # from a stakeholder page: "all interactions with this person"
        person = _found(stakeholder_get, actor=actor, stakeholder_id=int(request.GET["stakeholder"]))
        filters["stakeholder"] = person
    interactions = selectors.interaction_list(actor=actor, since=since, until=until, **filters)
    page = paginate(request, interactions)
    active = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "activities/list.html",
        {
            "page_obj": page,
            "form": form,
            "filtered": bool(active),
            "can_log": can_write(actor),
            "log_account": filters.get("account"),
            "person": person,
        },
    )


@login_required
def interaction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    interaction = _found(selectors.interaction_get, actor=actor, interaction_id=pk)
    return render(
        request,
        "activities/detail.html",
        {
            "i": interaction,
            "can_change": services.interaction_can_change(actor=actor, interaction=interaction),
            "events": selectors.interaction_history(actor=actor, interaction=interaction)[:100],
        },
    )


# --- forms ----------------------------------------------------------------------------------------
def _account_options(actor: User, account: Account | None) -> list[Account]:
    """The account select before any search: the chosen account, then the first accounts of the book in tree
    order (as ``stakeholders:options`` lists them)."""
    rows = list(account_scope(actor=actor).select_related("parent").order_by("ancestors", "name")[:PICKER_PAGE])
    if account is not None and all(a.pk != account.pk for a in rows):
        rows.insert(0, account)
    return rows


def _people_options(actor: User, chosen: Any) -> list[User]:
    """The participants select before any search: the people chosen now, then the first colleagues by name."""
    ids = [int(v) for v in chosen or () if str(v).isdigit() and len(str(v)) < 19]
    people = user_list(actor=actor)
    first = list(people.filter(pk__in=ids)) if ids else []
    taken = {u.pk for u in first}
    return first + [u for u in people[:PICKER_PAGE] if u.pk not in taken]


def _form(
    request: HttpRequest,
    actor: User,
    account: Account | None,
    *,
    data: Any = None,
    initial: Any = None,
    pickers_only: bool = False,
) -> InteractionForm:
    """The interaction form; ``pickers_only`` skips the account and people choices (for the pickers partial)."""
    chosen = data.getlist("participants") if data is not None else (initial or {}).get("participants")
    return InteractionForm(
        data,
        initial=initial,
        accounts=() if pickers_only else _account_options(actor, account),
        classifications=writable_classifications(actor),
        positions=selectors.interaction_stakeholder_positions(actor=actor, account=account) if account else (),
        tactics=selectors.interaction_linkable_tactics(actor=actor, account=account) if account else (),
        users=() if pickers_only else _people_options(actor, chosen),
    )


def _preselect_stakeholder(form: InteractionForm, value: str | None) -> None:
    """``?stakeholder=<id>`` (e.g. a coverage finding's "Log or plan a contact"): tick that person when they
    are one the form offers — a person with a position at the chosen account or below it, so visible to the
    actor — and who may be contacted. Anyone else (another account, out of scope, do not contact, not a number)
    is ignored."""
    if not value or not value.isdigit() or len(value) > 18:
        return
    if any(o.pk == int(value) and o.may_contact for o in form.stakeholder_options):
        form.initial["stakeholders"] = [int(value)]


def _apply_error(form: InteractionForm, exc: DomainError) -> None:
    """Service errors on ``tactic``/``action`` belong to the form's single plan-work picker."""
    exc.errors = [
        FieldError("plan_link", e.code, e.message) if e.field in ("tactic", "action") else e for e in exc.errors
    ]
    apply_domain_error(form, exc)


def _render_form(request: HttpRequest, form: InteractionForm, **ctx: Any) -> HttpResponse:
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "activities/form.html", {"form": form, **ctx}, status=status)


@login_required
def interaction_create(request: HttpRequest) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    if not can_write(actor):
        return _forbidden(request)
    account = _account_or_none(actor, request.POST.get("account") or request.GET.get("account"))
    initial = {
        "occurred_at": local_now_minutes(),
        "channel": "visit",
        "classification": services.default_classification(actor),
        "participants": [actor.pk],
        "account": account.pk if account else None,
    }
    form = _form(request, actor, account, data=request.POST or None, initial=initial)
    if request.method == "GET":
        _preselect_stakeholder(form, request.GET.get("stakeholder"))
    if request.method == "POST" and form.is_valid():
        try:
            interaction = services.interaction_create(actor=actor, **form.service_kwargs())
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("Interaction logged: “%(s)s”.") % {"s": interaction.subject})
            return redirect("activities:detail", pk=interaction.pk)
    return _render_form(request, form, title=_("Log an interaction"), account=account)


@login_required
def interaction_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    interaction: Interaction = _found(selectors.interaction_get, actor=actor, interaction_id=pk)
    if not services.interaction_can_change(actor=actor, interaction=interaction):
        return _forbidden(request)
    account = _account_or_none(actor, request.POST.get("account")) if request.method == "POST" else None
    account = account or interaction.account
    link = (
        f"a{interaction.action_id}"
        if interaction.action_id
        else f"t{interaction.tactic_id}"
        if interaction.tactic_id
        else ""
    )
    initial = {
        "occurred_at": timezone.localtime(interaction.occurred_at).replace(second=0, microsecond=0),
        "channel": interaction.channel,
        "duration_minutes": interaction.duration_minutes,
        "account": interaction.account_id,
        "classification": interaction.classification,
        "subject": interaction.subject,
        "notes": interaction.notes,
        "stakeholders": [s.pk for s in interaction.stakeholders.all()],
        "participants": [u.pk for u in interaction.participants.all()],
        "plan_link": link,
    }
    form = _form(request, actor, account, data=request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.interaction_update(
                actor=actor,
                interaction=interaction,
                reason=request.POST.get("reason", "")[:500],
                **form.service_kwargs(only_changed=True),
            )
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("Interaction saved."))
            return redirect("activities:detail", pk=interaction.pk)
    return _render_form(request, form, title=_("Edit interaction"), account=account, interaction=interaction)


@login_required
@require_GET
def interaction_form_pickers(request: HttpRequest) -> HttpResponse:
    """HTMX: the stakeholder and plan-work pickers for the account chosen in the form."""
    actor: User = request.user  # type: ignore[assignment]
    account = _account_or_none(actor, request.GET.get("account"))
    form = _form(request, actor, account, pickers_only=True)
    return render(request, "activities/_pickers.html", {"form": form, "account": account, "oob": True})


@login_required
@require_GET
def interaction_stakeholder_search(request: HttpRequest) -> HttpResponse:
    """HTMX: people at the chosen account (or below) matching the search, as picker rows."""
    actor: User = request.user  # type: ignore[assignment]
    account = _account_or_none(actor, request.GET.get("account"))
    q = request.GET.get("q", "")[:100]
    options = (
        stakeholder_option_search(
            stakeholder_options(selectors.interaction_stakeholder_positions(actor=actor, account=account)), q
        )
        if account
        else []
    )
    return render(request, "activities/_stakeholder_results.html", {"options": options, "q": q})


@login_required
@require_POST
def interaction_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    interaction = _found(selectors.interaction_get, actor=actor, interaction_id=pk)
    try:
        services.interaction_delete(actor=actor, interaction=interaction, reason=request.POST.get("reason", "")[:500])
    except DomainError as exc:
        if exc.status == 403:
            return _forbidden(request)
        messages.error(request, exc.message)
        return redirect("activities:detail", pk=pk)
    messages.success(request, _("Interaction “%(s)s” deleted.") % {"s": interaction.subject})
    return redirect("activities:list")
