"""Plan pages: list, create, the plan page (tree, lifecycle, history), edit/delete forms, HTMX quick edits.

Optimistic locking in the UI: the plan page holds the version it was rendered with (``#plan-version`` and
every form's hidden ``version``). HTMX changes send it; their answer swaps in the new rows and refreshes
the header, the figures and the page version — but only when the page was current before the change, so
a page that missed someone else's change keeps its old version and its next edit is refused with the
conflict message instead of silently overwriting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from openkam.accounts.selectors import account_get, account_scope
from openkam.core.access import visible_classifications, writable_classifications
from openkam.core.errors import Conflict, DomainError, NotFound
from openkam.core.errors import PermissionDenied as DomainPermissionDenied
from openkam.core.forms import apply_domain_error
from openkam.core.models import Classification, User
from openkam.core.ui import paginate
from openkam.plans import selectors, services
from openkam.plans.forms import (
    ActionForm,
    ActionQuickForm,
    ObjectiveForm,
    ObjectiveQuickForm,
    PlanForm,
    TacticForm,
    TacticQuickForm,
)
from openkam.plans.models import AccountPlan, PlanStatus

TRANSITION_BUTTONS: dict[str, tuple[str, str, str]] = {
    # verb: (label, button style, icon)
    "submit": (_("Submit for review"), "btn-primary", "send"),
    "approve": (_("Approve"), "btn-success", "patch-check"),
    "return": (_("Return to draft"), "btn-outline-secondary", "arrow-counterclockwise"),
    "activate": (_("Activate"), "btn-success", "play-circle"),
    "reopen": (_("Reopen as draft"), "btn-outline-secondary", "arrow-counterclockwise"),
    "close": (_("Close plan"), "btn-outline-dark", "archive"),
}
TRANSITION_DONE: dict[str, str] = {
    "submit": _("Plan submitted for review."),
    "approve": _("Plan approved."),
    "return": _("Plan returned to draft."),
    "activate": _("Plan activated."),
    "reopen": _("Plan reopened as a draft."),
    "close": _("Plan closed. It is now read-only."),
}


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _domain_page(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """A full-page answer to a refused GET: 404 for out of scope, 403 for a refusal."""
    if isinstance(exc, NotFound):
        raise Http404(exc.message)
    return render(request, "plans/refused.html", {"message": exc.message}, status=exc.status)


def _contributor_check(actor: User, plan: AccountPlan, classification: str | None = None) -> None:
    """Edit and delete pages are only for people who may change this part of the plan."""
    if not services.plan_can_contribute(actor=actor, plan=plan):
        raise DomainPermissionDenied(
            _("This plan is closed.")
            if plan.status == PlanStatus.CLOSED
            else _("Your role can read but not change records.")
        )
    if classification is not None and classification not in writable_classifications(actor):
        raise DomainPermissionDenied(_("Your role may not change work with this classification."))


def _htmx_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """An HTMX change was refused: show why, above the tree, and keep what the user typed/chose."""
    response = render(request, "plans/_alert.html", {"message": exc.message, "conflict": isinstance(exc, Conflict)})
    return reswap(retarget(response, "#plan-alerts"), "innerHTML")


# --- list / create ---------------------------------------------------------------------------------
@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    status = request.GET.get("status") or None
    owner_param = request.GET.get("owner") or ""
    owner: User | None = actor if owner_param == "me" else None
    if owner_param.isdigit():
        owner = User.objects.filter(pk=int(owner_param)).first()
    account = None
    account_id = _int(request.GET.get("account"))
    if account_id is not None:
        try:
            account = account_get(actor=actor, account_id=account_id)
        except NotFound:
            account = None
    qs = selectors.plan_list(
        actor=actor,
        account=account,
        include_descendants=True,
        statuses=[status] if status in PlanStatus.values else None,
        owner=owner,
    )
    query = (request.GET.get("q") or "").strip()
    if query:
        qs = qs.filter(name__icontains=query)
    page = paginate(request, qs)
    counts = selectors.plan_status_counts(actor=actor, account=account, owner=owner)
    return render(
        request,
        "plans/list.html",
        {
            "page_obj": page,
            "plans": page.object_list,
            "status": status,
            "statuses": [(s, label, counts.get(s, 0)) for s, label in PlanStatus.choices],
            "total": sum(counts.values()),
            "owner_param": owner_param,
            "account": account,
            "query": query,
            "accounts": selectors.plan_accounts(actor=actor),
            "owners": selectors.plan_owners(actor=actor),
            "can_create": services.plan_can_create(actor=actor),
        },
    )


@login_required
def plan_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not services.plan_can_create(actor=actor):
        return render(
            request,
            "plans/refused.html",
            {"message": _("Your role cannot create account plans."), "back": reverse("plans:list")},
            status=403,
        )
    accounts = account_scope(actor=actor).order_by("name")
    if request.method == "POST":
        form = PlanForm(request.POST, actor=actor, accounts=accounts)
        if form.is_valid():
            data = form.changes()
            try:
                plan = services.plan_create(
                    actor=actor,
                    account_id=data.pop("account").pk,
                    owner=data.pop("owner"),
                    **data,
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("Plan created. Add its objectives, tactics and actions below."))
                return redirect("plans:detail", pk=plan.pk)
    else:
        initial: dict[str, Any] = {"owner": actor}
        account_id = _int(request.GET.get("account"))
        if account_id is not None and accounts.filter(pk=account_id).exists():
            initial["account"] = account_id
        form = PlanForm(initial=initial, actor=actor, accounts=accounts)
    return render(
        request,
        "plans/form.html",
        {"form": form, "title": _("New account plan"), "cancel_url": reverse("plans:list"), "submit": _("Create plan")},
    )


# --- the plan page ---------------------------------------------------------------------------------
def _page_context(
    actor: User, plan: AccountPlan, *, page_version: int | None = None, with_history: bool = True
) -> dict[str, Any]:
    tree = selectors.plan_tree(actor=actor, plan=plan)
    transitions = []
    for to in services.plan_available_transitions(actor=actor, plan=plan):
        verb = services.TRANSITION_VERBS[(plan.status, to)]
        label, style, icon = TRANSITION_BUTTONS[verb]
        transitions.append({"to": to, "verb": verb, "label": label, "style": style, "icon": icon})
    contribute = services.plan_can_contribute(actor=actor, plan=plan)
    hidden = sorted(set(Classification.values) - visible_classifications(actor))
    writable = writable_classifications(actor) if contribute else frozenset()
    ctx: dict[str, Any] = {
        "plan": plan,
        "tree": tree,
        "counts": tree.counts,
        "completion": tree.completion,
        "page_version": plan.version if page_version is None else page_version,
        "transitions": transitions,
        "can_edit": services.plan_can_edit(actor=actor, plan=plan),
        "can_delete": plan.status == PlanStatus.DRAFT and services.is_plan_manager(actor, plan),
        "can_contribute": contribute,
        "writable": sorted(writable),
        "writable_choices": [c for c in Classification.choices if c[0] in writable],
        "default_classification": Classification.MEDICAL if actor.function == "medical" else Classification.COMMERCIAL,
        "classification_legend": [c for c in Classification.choices if c[0] in visible_classifications(actor)],
        "hidden_classifications": [str(Classification(c).label) for c in hidden],
        "lifecycle": PlanStatus.choices,
        "status_index": PlanStatus.values.index(plan.status),
    }
    if with_history:
        ctx["history"] = _history_rows(selectors.plan_history(actor=actor, plan=plan, limit=30))
    return ctx


_HISTORY_QUIET_FIELDS = frozenset({"updated_at", "created_at", "completed_at", "approved_at", "version"})


def _history_rows(events: list[Any]) -> list[Any]:
    """Give each audit event readable changes: field labels, choice labels, people's names (one query)."""
    user_fields = {"owner_id", "assignee_id", "approved_by_id", "changed_by_id"}
    user_ids = {
        v
        for e in events
        for name, change in (e.pgh_diff or {}).items()
        if name in user_fields
        for v in change
        if v is not None
    }
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=user_ids)} if user_ids else {}
    for e in events:
        model = apps.get_model(e.pgh_obj_model)
        changes = []
        for name, (old, new) in (e.pgh_diff or {}).items():
            if name in _HISTORY_QUIET_FIELDS:
                continue
            try:
                field = model._meta.get_field(name.removesuffix("_id") if name in user_fields else name)
            except FieldDoesNotExist:
                continue
            if name in user_fields:
                old, new = names.get(old, old), names.get(new, new)
            elif getattr(field, "choices", None):
                labels = dict(field.choices)  # type: ignore[arg-type]
                old, new = labels.get(old, old), labels.get(new, new)
            changes.append((str(getattr(field, "verbose_name", name)), old, new))
        e.changes = changes
    return events


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        plan = selectors.plan_get(actor=actor, plan_id=pk)
    except DomainError as exc:
        return _domain_page(request, exc)
    return render(request, "plans/detail.html", _page_context(actor, plan))


def _after_htmx_change(
    request: HttpRequest,
    template: str,
    plan_id: int,
    new_version: int,
    *,
    objective_id: int | None = None,
    tactic_id: int | None = None,
    action_id: int | None = None,
) -> HttpResponse:
    """Render the changed rows plus out-of-band refreshes of the header, figures, history and version."""
    actor = _actor(request)
    known = _int(request.POST.get("version"))
    plan = selectors.plan_get(actor=actor, plan_id=plan_id)
    # Only a page that was current before this change becomes current after it.
    page_version = new_version if known is None or known == new_version - 1 else known
    ctx = _page_context(actor, plan, page_version=page_version)
    tree = ctx["tree"]
    if tactic_id is not None:
        ctx["tactic_node"] = tree.tactic(tactic_id)
        objective_id = ctx["tactic_node"].tactic.objective_id
    if objective_id is not None:
        ctx["objective_node"] = tree.objective(objective_id)
    if action_id is not None:
        ctx["a"] = next(a for a in ctx["tactic_node"].actions if a.pk == action_id)
    ctx["oob"] = True
    return render(request, template, ctx)


@login_required
@require_POST
def plan_transition(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    to = request.POST.get("to", "")
    try:
        before = selectors.plan_get(actor=actor, plan_id=pk)
        verb = services.TRANSITION_VERBS.get((before.status, to), "")
        services.plan_transition(
            actor=actor,
            plan_id=pk,
            to=to,
            expected_version=_int(request.POST.get("version")),
            reason=request.POST.get("reason", "").strip(),
        )
        messages.success(request, TRANSITION_DONE.get(verb, _("Plan status changed.")))
    except NotFound as exc:
        raise Http404(exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("plans:detail", pk=pk)


def _saved_differences(form: Any, current: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, saved value) for each field where the stored value differs from what the user typed."""
    out = []
    for name, saved in current.items():
        if name not in form.fields or name == "version":
            continue
        typed = form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else None
        if (typed or None) != (saved or None) and str(typed or "") != str(saved or ""):
            out.append((form.fields[name].label, saved if saved not in (None, "") else "—"))
    return out


def _edit(
    request: HttpRequest,
    *,
    form_class: Callable[..., Any],
    initial: dict[str, Any],
    version: int,
    save: Callable[[dict[str, Any], int | None], Any],
    reload_current: Callable[[], tuple[dict[str, Any], int]],
    title: str,
    back: str,
    form_kwargs: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """A versioned edit form: on a stale save, keep the user's input, say who changed what, refresh the version."""
    actor = _actor(request)
    form_kwargs = {"actor": actor, **(form_kwargs or {})}
    ctx: dict[str, Any] = {"title": title, "cancel_url": back, "submit": _("Save changes"), **(extra or {})}
    if request.method == "POST":
        form = form_class(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                save(form.changes(), form.cleaned_data.get("version"))
            except Conflict as exc:
                current, current_version = reload_current()
                data = request.POST.copy()
                data["version"] = str(current_version)
                form = form_class(data, **form_kwargs)
                form.is_valid()
                form.add_error(None, exc.message)
                ctx["conflict"] = True
                ctx["saved"] = _saved_differences(form, current)
            except NotFound as exc:
                raise Http404(exc.message)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect(back)
    else:
        form = form_class(initial={**initial, "version": version}, **form_kwargs)
    ctx["form"] = form
    return render(request, "plans/form.html", ctx)


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        plan = selectors.plan_get(actor=actor, plan_id=pk)
        if not services.plan_can_edit(actor=actor, plan=plan):
            raise DomainPermissionDenied(_("Only the plan owner or a KAM lead can edit an open plan."))
    except DomainError as exc:
        return _domain_page(request, exc)

    def header(p: AccountPlan) -> dict[str, Any]:
        return {
            "name": p.name,
            "period_start": p.period_start,
            "period_end": p.period_end,
            "owner": p.owner,
            "summary": p.summary,
        }

    def save(data: dict[str, Any], version: int | None) -> Any:
        return services.plan_update(actor=actor, plan_id=pk, expected_version=version, **data)

    def reload_current() -> tuple[dict[str, Any], int]:
        fresh = selectors.plan_get(actor=actor, plan_id=pk)
        return header(fresh), fresh.version

    return _edit(
        request,
        form_class=PlanForm,
        initial=header(plan),
        version=plan.version,
        save=save,
        reload_current=reload_current,
        title=_("Edit plan"),
        back=reverse("plans:detail", args=[pk]),
        form_kwargs={"editing": True},
        extra={"plan": plan},
    )


def _confirm_delete(
    request: HttpRequest,
    *,
    plan: AccountPlan,
    what: str,
    name: str,
    consequences: list[str],
    delete: Callable[[int | None], Any],
    back: str,
    done: str,
    after: str,
) -> HttpResponse:
    if request.method == "POST":
        try:
            delete(_int(request.POST.get("version")))
        except NotFound as exc:
            raise Http404(exc.message)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        messages.success(request, done)
        return redirect(after)
    return render(
        request,
        "plans/confirm_delete.html",
        {"plan": plan, "what": what, "name": name, "consequences": consequences, "cancel_url": back},
    )


@login_required
def plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        plan = selectors.plan_get(actor=actor, plan_id=pk)
        if not (plan.status == PlanStatus.DRAFT and services.is_plan_manager(actor, plan)):
            raise DomainPermissionDenied(
                _("Only the owner or a KAM lead can delete a plan, and only while it is a draft.")
            )
    except DomainError as exc:
        return _domain_page(request, exc)
    counts = selectors.plan_tree(actor=actor, plan=plan).counts
    return _confirm_delete(
        request,
        plan=plan,
        what=_("plan"),
        name=plan.name,
        consequences=[
            _("%(n)s objectives, %(t)s tactics and %(a)s actions are deleted with it.")
            % {"n": counts["objectives"], "t": counts["tactics"], "a": counts["actions"]}
        ],
        delete=lambda v: services.plan_delete(actor=actor, plan_id=pk, expected_version=v),
        back=reverse("plans:detail", args=[pk]),
        done=_("Plan “%(name)s” deleted.") % {"name": plan.name},
        after=reverse("plans:list"),
    )


# --- objectives ------------------------------------------------------------------------------------
def _objective_fields(o: Any) -> dict[str, Any]:
    return {
        "title": o.title,
        "metric": o.metric,
        "indicator": o.indicator,
        "baseline": o.baseline,
        "current": o.current,
        "target": o.target,
        "due_date": o.due_date,
        "owner": o.owner,
        "description": o.description,
    }


@login_required
@require_POST
def objective_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    form = ObjectiveQuickForm(request.POST, auto_id="id_new_objective_%s")
    if not form.is_valid():
        return _quick_form_invalid(
            request, form, "plans/_objective_quick.html", "#objective-quick", {"plan_id": pk}, pk
        )
    try:
        objective = services.objective_create(actor=actor, plan_id=pk, owner=actor, **form.cleaned_data)
    except DomainError as exc:
        return _quick_error(request, exc, pk)
    if not _is_htmx(request):
        return redirect(reverse("plans:detail", args=[pk]) + f"#objective-{objective.pk}")
    return _after_htmx_change(
        request, "plans/_objective_added.html", pk, objective.plan.version, objective_id=objective.pk
    )


@login_required
def objective_edit(request: HttpRequest, objective_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        objective = selectors.objective_get(actor=actor, objective_id=objective_id)
        _contributor_check(actor, objective.plan)
    except DomainError as exc:
        return _domain_page(request, exc)
    plan_id = objective.plan_id

    def reload_current() -> tuple[dict[str, Any], int]:
        fresh = selectors.objective_get(actor=actor, objective_id=objective_id)
        return _objective_fields(fresh), selectors.plan_get(actor=actor, plan_id=plan_id).version

    return _edit(
        request,
        form_class=ObjectiveForm,
        initial=_objective_fields(objective),
        version=objective.plan.version,
        save=lambda data, v: services.objective_update(
            actor=actor, objective_id=objective_id, expected_version=v, **data
        ),
        reload_current=reload_current,
        title=_("Edit objective"),
        back=reverse("plans:detail", args=[plan_id]) + f"#objective-{objective_id}",
        extra={"plan": objective.plan},
    )


@login_required
def objective_delete(request: HttpRequest, objective_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        objective = selectors.objective_get(actor=actor, objective_id=objective_id)
        _contributor_check(actor, objective.plan)
    except DomainError as exc:
        return _domain_page(request, exc)
    plan = objective.plan
    node = selectors.plan_tree(actor=actor, plan=plan).objective(objective.pk)
    tactics = len(node.tactics) if node else 0
    actions = sum(len(t.actions) for t in node.tactics) if node else 0
    back = reverse("plans:detail", args=[plan.pk])
    return _confirm_delete(
        request,
        plan=plan,
        what=_("objective"),
        name=objective.title,
        consequences=[
            _("%(t)s tactics and %(a)s actions are deleted with it.") % {"t": tactics, "a": actions},
        ],
        delete=lambda v: services.objective_delete(actor=actor, objective_id=objective_id, expected_version=v),
        back=back,
        done=_("Objective deleted."),
        after=back,
    )


# --- tactics ---------------------------------------------------------------------------------------
def _tactic_fields(t: Any) -> dict[str, Any]:
    return {
        "title": t.title,
        "classification": t.classification,
        "function": t.function,
        "owner": t.owner,
        "shared_with_customer": t.shared_with_customer,
        "description": t.description,
    }


@login_required
@require_POST
def tactic_add(request: HttpRequest, objective_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        objective = selectors.objective_get(actor=actor, objective_id=objective_id)
    except NotFound as exc:
        raise Http404(exc.message)
    form = TacticQuickForm(request.POST, actor=actor, auto_id=f"id_tq{objective_id}_%s")
    if not form.is_valid():
        return _quick_form_invalid(
            request,
            form,
            "plans/_tactic_quick.html",
            f"#tactic-quick-{objective_id}",
            {"objective": objective},
            objective.plan_id,
        )
    try:
        tactic = services.tactic_create(actor=actor, objective_id=objective_id, owner=actor, **form.cleaned_data)
    except DomainError as exc:
        return _quick_error(request, exc, objective.plan_id)
    if not _is_htmx(request):
        return redirect(reverse("plans:detail", args=[objective.plan_id]) + f"#tactic-{tactic.pk}")
    return _after_htmx_change(
        request,
        "plans/_tactic_added.html",
        objective.plan_id,
        tactic.objective.plan.version,
        tactic_id=tactic.pk,
    )


@login_required
def tactic_edit(request: HttpRequest, tactic_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        tactic = selectors.tactic_get(actor=actor, tactic_id=tactic_id)
        _contributor_check(actor, tactic.objective.plan, tactic.classification)
    except DomainError as exc:
        return _domain_page(request, exc)
    plan = tactic.objective.plan

    def reload_current() -> tuple[dict[str, Any], int]:
        fresh = selectors.tactic_get(actor=actor, tactic_id=tactic_id)
        return _tactic_fields(fresh), selectors.plan_get(actor=actor, plan_id=plan.pk).version

    return _edit(
        request,
        form_class=TacticForm,
        initial=_tactic_fields(tactic),
        version=plan.version,
        save=lambda data, v: services.tactic_update(actor=actor, tactic_id=tactic_id, expected_version=v, **data),
        reload_current=reload_current,
        title=_("Edit tactic"),
        back=reverse("plans:detail", args=[plan.pk]) + f"#tactic-{tactic_id}",
        extra={"plan": plan},
    )


@login_required
def tactic_delete(request: HttpRequest, tactic_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        tactic = selectors.tactic_get(actor=actor, tactic_id=tactic_id)
        _contributor_check(actor, tactic.objective.plan, tactic.classification)
    except DomainError as exc:
        return _domain_page(request, exc)
    plan = tactic.objective.plan
    back = reverse("plans:detail", args=[plan.pk])
    return _confirm_delete(
        request,
        plan=plan,
        what=_("tactic"),
        name=tactic.title,
        consequences=[_("Its %(a)s actions are deleted with it.") % {"a": tactic.actions.count()}],
        delete=lambda v: services.tactic_delete(actor=actor, tactic_id=tactic_id, expected_version=v),
        back=back,
        done=_("Tactic deleted."),
        after=back,
    )


# --- actions ---------------------------------------------------------------------------------------
def _action_fields(a: Any) -> dict[str, Any]:
    return {
        "title": a.title,
        "status": a.status,
        "assignee": a.assignee,
        "owner": a.owner,
        "start_date": a.start_date,
        "due_date": a.due_date,
        "description": a.description,
    }


@login_required
@require_POST
def action_add(request: HttpRequest, tactic_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        tactic = selectors.tactic_get(actor=actor, tactic_id=tactic_id)
    except NotFound as exc:
        raise Http404(exc.message)
    plan_id = tactic.objective.plan_id
    form = ActionQuickForm(request.POST, actor=actor, auto_id=f"id_aq{tactic_id}_%s")
    if not form.is_valid():
        return _quick_form_invalid(
            request, form, "plans/_action_quick.html", f"#action-quick-{tactic_id}", {"tactic": tactic}, plan_id
        )
    try:
        action = services.action_create(actor=actor, tactic_id=tactic_id, **form.cleaned_data)
    except DomainError as exc:
        if exc.errors and any(e.field in form.fields for e in exc.errors):
            apply_domain_error(form, exc)
            return _quick_form_invalid(
                request, form, "plans/_action_quick.html", f"#action-quick-{tactic_id}", {"tactic": tactic}, plan_id
            )
        return _quick_error(request, exc, plan_id)
    if not _is_htmx(request):
        return redirect(reverse("plans:detail", args=[plan_id]) + f"#action-{action.pk}")
    return _after_htmx_change(
        request,
        "plans/_action_added.html",
        plan_id,
        action.tactic.objective.plan.version,
        tactic_id=tactic_id,
        action_id=action.pk,
    )


@login_required
@require_POST
def action_status(request: HttpRequest, action_id: int) -> HttpResponse:
    """HTMX: change an action's status in place (versioned: a stale page is told to reload)."""
    actor = _actor(request)
    try:
        action = services.action_update(
            actor=actor,
            action_id=action_id,
            expected_version=_int(request.POST.get("version")),
            status=request.POST.get("status", ""),
        )
    except NotFound as exc:
        raise Http404(exc.message)
    except DomainError as exc:
        if not _is_htmx(request):
            messages.error(request, exc.message)
            return redirect("plans:list")
        return _htmx_error(request, exc)
    plan_id = action.tactic.objective.plan_id
    if not _is_htmx(request):
        return redirect(reverse("plans:detail", args=[plan_id]) + f"#action-{action_id}")
    return _after_htmx_change(
        request,
        "plans/_action_changed.html",
        plan_id,
        action.tactic.objective.plan.version,
        tactic_id=action.tactic_id,
        action_id=action_id,
    )


@login_required
def action_edit(request: HttpRequest, action_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        action = selectors.action_get(actor=actor, action_id=action_id)
        _contributor_check(actor, action.tactic.objective.plan, action.tactic.classification)
    except DomainError as exc:
        return _domain_page(request, exc)
    plan = action.tactic.objective.plan

    def reload_current() -> tuple[dict[str, Any], int]:
        fresh = selectors.action_get(actor=actor, action_id=action_id)
        return _action_fields(fresh), selectors.plan_get(actor=actor, plan_id=plan.pk).version

    return _edit(
        request,
        form_class=ActionForm,
        initial=_action_fields(action),
        version=plan.version,
        save=lambda data, v: services.action_update(actor=actor, action_id=action_id, expected_version=v, **data),
        reload_current=reload_current,
        title=_("Edit action"),
        back=reverse("plans:detail", args=[plan.pk]) + f"#action-{action_id}",
        extra={"plan": plan},
    )


@login_required
def action_delete(request: HttpRequest, action_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        action = selectors.action_get(actor=actor, action_id=action_id)
        _contributor_check(actor, action.tactic.objective.plan, action.tactic.classification)
    except DomainError as exc:
        return _domain_page(request, exc)
    plan = action.tactic.objective.plan
    back = reverse("plans:detail", args=[plan.pk])
    return _confirm_delete(
        request,
        plan=plan,
        what=_("action"),
        name=action.title,
        consequences=[],
        delete=lambda v: services.action_delete(actor=actor, action_id=action_id, expected_version=v),
        back=back,
        done=_("Action deleted."),
        after=back,
    )


# --- HTMX helpers ----------------------------------------------------------------------------------
def _quick_form_invalid(
    request: HttpRequest, form: Any, template: str, target: str, extra: dict[str, Any], plan_id: int
) -> HttpResponse:
    """Re-render the inline form in place with its errors (what the user typed stays)."""
    if not _is_htmx(request):
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("plans:detail", pk=plan_id)
    response = render(request, template, {"form": form, "open": True, **extra})
    return reswap(retarget(response, target), "outerHTML")


def _quick_error(request: HttpRequest, exc: DomainError, plan_id: int) -> HttpResponse:
    if isinstance(exc, NotFound):
        raise Http404(exc.message)
    if not _is_htmx(request):
        messages.error(request, exc.message)
        return redirect("plans:detail", pk=plan_id)
    return _htmx_error(request, exc)
