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
from django.utils.translation import gettext_lazy
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
    SECTION_FORMS,
    ActionForm,
    ActionQuickForm,
    AgreementForm,
    CloneForm,
    NarrativeForm,
    ObjectiveForm,
    ObjectiveQuickForm,
    PlanForm,
    TacticForm,
    TacticQuickForm,
    TemplateForm,
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


SWOT_QUADRANTS = [
    ("strength", gettext_lazy("Strengths"), "plus-circle"),
    ("weakness", gettext_lazy("Weaknesses"), "dash-circle"),
    ("opportunity", gettext_lazy("Opportunities"), "lightning-charge"),
    ("threat", gettext_lazy("Threats"), "exclamation-triangle"),
]


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
    stale_only = request.GET.get("stale") == "1"
    if stale_only:
        qs = qs.filter(is_stale=True)  # type: ignore[misc]
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
            "stale_only": stale_only,
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
        transitions.append({"to": to, "verb": verb, "label": _(label), "style": style, "icon": icon})
    contribute = services.plan_can_contribute(actor=actor, plan=plan)
    hidden = sorted(set(Classification.values) - visible_classifications(actor))
    writable = writable_classifications(actor) if contribute else frozenset()
    sections = selectors.plan_sections(actor=actor, plan=plan)
    rot_days, rot_limit, stale = selectors.plan_rot(plan, sections.template)
    health, per_objective = selectors.plan_health(tree, stale=stale)
    for node in tree.objectives:
        node.health = per_objective[node.objective.pk]  # type: ignore[attr-defined]
        node.progress = selectors.objective_progress(node.objective)  # type: ignore[attr-defined]
    completeness = selectors.plan_completeness(
        actor=actor,
        plan=plan,
        tree=tree,
        sections=sections,
        has_decision_maker=selectors.account_has_decision_maker(actor=actor, account=plan.account),
    )
    ctx: dict[str, Any] = {
        "plan": plan,
        "tree": tree,
        "sections": sections,
        "health": health,
        "completeness": completeness,
        "rot": {"days": rot_days, "limit": rot_limit, "stale": stale},
        "objective_titles": {n.objective.pk: n.objective.title for n in tree.objectives},
        "can_clone": services.plan_can_create(actor=actor),
        "can_record_agreement": services.is_plan_manager(actor, plan) and plan.status != PlanStatus.CLOSED,
        "owner_is_actor": plan.owner_id == actor.pk,
        "swot_quadrants": SWOT_QUADRANTS,
        # what the section cards expect when nothing is being added or edited
        "editing": "",
        "narrative_form": None,
        "add_kind": "",
        "add_parent": None,
        "add_form": None,
        "edit_kind": "",
        "edit_id": None,
        "edit_form": None,
        "item": None,
        "parent": None,
        "parent_key": "plan",
        "add_label": _("Add"),
        "title_hint": "",
        "form": None,
        "f": None,
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
    ctx["history"] = _history_rows(selectors.plan_history(actor=actor, plan=plan, limit=30)) if with_history else None
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
    # the history card loads after the page (plans:history): four audit-table queries the first view need not wait for
    return render(request, "plans/detail.html", _page_context(actor, plan, with_history=False))


@login_required
def plan_history(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan's history card body (loaded after the page)."""
    actor = _actor(request)
    plan = _plan_or_404(actor, pk)
    history = _history_rows(selectors.plan_history(actor=actor, plan=plan, limit=30))
    return render(request, "plans/_history.html", {"plan": plan, "history": history, "oob": False})


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
            comment=request.POST.get("comment", "").strip(),
            reason=request.POST.get("reason", "").strip(),
        )
        messages.success(request, _(TRANSITION_DONE.get(verb, _("Plan status changed."))))
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
        "shared_with_customer": o.shared_with_customer,
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
        if exc.errors and any(e.field in form.fields for e in exc.errors):
            apply_domain_error(form, exc)
            return _quick_form_invalid(
                request, form, "plans/_objective_quick.html", "#objective-quick", {"plan_id": pk}, pk
            )
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
        "is_milestone": a.is_milestone,
        "shared_with_customer": a.shared_with_customer,
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


@login_required
def quick_form(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The inline add-tactic (``kind=tactic``, ``pk`` = objective) or add-action (``action``, tactic) form, fetched
    when first opened: a large plan page does not carry one form per objective and per tactic."""
    actor = _actor(request)
    writable = writable_classifications(actor)
    ctx: dict[str, Any] = {
        "form": None,
        "open": True,
        "writable_choices": [c for c in Classification.choices if c[0] in writable],
        "default_classification": Classification.MEDICAL if actor.function == "medical" else Classification.COMMERCIAL,
    }
    try:
        if kind == "tactic":
            objective = selectors.objective_get(actor=actor, objective_id=pk)
            _contributor_check(actor, objective.plan)
            return render(request, "plans/_tactic_quick.html", {**ctx, "objective": objective})
        if kind == "action":
            tactic = selectors.tactic_get(actor=actor, tactic_id=pk)
            _contributor_check(actor, tactic.objective.plan, tactic.classification)
            return render(request, "plans/_action_quick.html", {**ctx, "tactic": tactic})
    except NotFound as exc:
        raise Http404(exc.message)
    except DomainError as exc:
        return _htmx_error(request, exc)
    raise Http404("No such form.")


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


# --- plan sections, edited in place (HTMX) ------------------------------------------------------------
SECTION_CARDS: dict[str, str] = {
    "priorities": "plans/_sec_priorities.html",
    "positioning": "plans/_sec_positioning.html",
    "strategy": "plans/_sec_strategy.html",
    "swot": "plans/_sec_swot.html",
    "csfs": "plans/_sec_csfs.html",
    "stages": "plans/_sec_stages.html",
}
KIND_CARD: dict[str, str] = {
    "customer_priority": "priorities",
    "swot_item": "swot",
    "goal": "csfs",
    "csf": "csfs",
    "key_action": "csfs",
    "stage": "stages",
    "step": "stages",
}
NARRATIVE_CARD: dict[str, str] = {"priorities_text": "priorities", "positioning": "positioning", "strategy": "strategy"}


def _card(
    request: HttpRequest,
    plan_id: int,
    card: str,
    *,
    new_version: int | None = None,
    extra: dict[str, Any] | None = None,
    refresh: bool = True,
) -> HttpResponse:
    """The section card (what the HTMX request swaps in) plus, after a change, the out-of-band refreshes of the
    header, figures, health, history and the page version (only a page that was current becomes current)."""
    actor = _actor(request)
    plan = selectors.plan_get(actor=actor, plan_id=plan_id)
    known = _int(request.POST.get("version") if request.method == "POST" else request.GET.get("version"))
    if new_version is None:
        page_version = known if known is not None else plan.version
    else:
        page_version = new_version if known is None or known == new_version - 1 else known
    ctx = _page_context(actor, plan, page_version=page_version, with_history=refresh)
    ctx.update(extra or {})
    ctx["card_template"] = SECTION_CARDS[card]
    ctx["refresh"] = refresh and new_version is not None
    ctx["oob"] = True
    return render(request, "plans/_section_changed.html", ctx)


def _plan_or_404(actor: User, pk: int) -> AccountPlan:
    try:
        return selectors.plan_get(actor=actor, plan_id=pk)
    except NotFound as exc:
        raise Http404(exc.message)


@login_required
def section_card(request: HttpRequest, pk: int, card: str) -> HttpResponse:
    """GET: a section card (``?edit=<narrative>`` in edit mode). POST: save a narrative section."""
    actor = _actor(request)
    if card not in SECTION_CARDS and card not in NARRATIVE_CARD:
        raise Http404("No such section.")
    plan = _plan_or_404(actor, pk)
    if request.method == "GET":
        editing = request.GET.get("edit") or ""
        extra: dict[str, Any] = {}
        if editing in NARRATIVE_CARD and services.plan_can_edit(actor=actor, plan=plan):
            extra = {"editing": editing, "narrative_form": NarrativeForm(section=editing, initial=_narrative(plan))}
        return _card(request, pk, NARRATIVE_CARD.get(card, card), extra=extra, refresh=False)
    if card not in NARRATIVE_CARD:
        raise Http404("Not a narrative section.")
    form = NarrativeForm(request.POST, section=card)
    if not form.is_valid():
        return _card(request, pk, NARRATIVE_CARD[card], extra={"editing": card, "narrative_form": form}, refresh=False)
    try:
        updated = services.plan_update(
            actor=actor, plan_id=pk, expected_version=_int(request.POST.get("version")), **form.cleaned_data
        )
    except NotFound as exc:
        raise Http404(exc.message)
    except DomainError as exc:
        return _htmx_error(request, exc)
    return _card(request, pk, NARRATIVE_CARD[card], new_version=updated.version)


def _narrative(plan: AccountPlan) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in services.PLAN_NARRATIVE_FIELDS}


def _section_form(kind: str, actor: User, plan: AccountPlan, *args: Any, **kwargs: Any) -> Any:
    form_class = SECTION_FORMS[kind]
    if kind == "swot_item":
        from openkam.plans.models import Objective

        objectives = list(Objective.objects.filter(plan_id=plan.pk).order_by("position", "pk").only("pk", "title"))
        return form_class(*args, actor=actor, objectives=objectives, **kwargs)
    if kind == "csf":
        from openkam.plans.models import Goal

        return form_class(*args, goals=list(Goal.objects.filter(plan_id=plan.pk).order_by("position", "pk")), **kwargs)
    if kind == "key_action":
        return form_class(*args, actor=actor, **kwargs)
    return form_class(*args, **kwargs)


def _section_error(
    request: HttpRequest, exc: DomainError, form: Any, plan_id: int, card: str, extra: dict[str, Any]
) -> HttpResponse:
    if isinstance(exc, NotFound):
        raise Http404(exc.message)
    if exc.errors and any(e.field in form.fields for e in exc.errors):
        apply_domain_error(form, exc)
        return _card(request, plan_id, card, extra=extra, refresh=False)
    return _htmx_error(request, exc)


@login_required
def section_add_form(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """An inline add form of a section (fetched when first opened), for ``?parent=`` (a CSF, a stage, a SWOT
    quadrant) with its button label and placeholder."""
    actor = _actor(request)
    if kind not in SECTION_FORMS:
        raise Http404("No such section.")
    plan = _plan_or_404(actor, pk)
    if not services.plan_can_contribute(actor=actor, plan=plan):
        return _htmx_error(request, DomainPermissionDenied(_("You cannot change this plan.")))
    raw = request.GET.get("parent") or ""
    parent: Any = _int(raw) if kind in ("key_action", "step") else (raw or None)
    ctx = _page_context(actor, plan, with_history=False)
    ctx.update(
        {
            "kind": kind,
            "item": None,
            "f": None,
            "open": True,
            "parent": parent,
            "parent_key": (request.GET.get("parent_key") or "plan")[:40],
            "add_label": (request.GET.get("label") or _("Add"))[:80],
            "title_hint": (request.GET.get("hint") or "")[:120],
        }
    )
    return render(request, "plans/_item_fields.html", ctx)


@login_required
@require_POST
def section_add(request: HttpRequest, pk: int, kind: str, parent_id: int | None = None) -> HttpResponse:
    """Add a section row (customer priority, SWOT item, goal, CSF, key action under a CSF, stage, step)."""
    actor = _actor(request)
    if kind not in SECTION_FORMS:
        raise Http404("No such section.")
    plan = _plan_or_404(actor, pk)
    card = KIND_CARD[kind]
    form = _section_form(kind, actor, plan, request.POST)
    extra = {
        "add_kind": kind,
        "add_parent": request.POST.get("kind") if kind == "swot_item" else parent_id,
        "add_form": form,
    }
    if not form.is_valid():
        return _card(request, pk, card, extra=extra, refresh=False)
    data = dict(form.cleaned_data)
    try:
        row = services.section_item_create(
            actor=actor,
            section=kind,
            plan_id=None if parent_id else pk,
            parent_id=parent_id,
            expected_version=_int(request.POST.get("version")),
            **data,
        )
    except DomainError as exc:
        return _section_error(request, exc, form, pk, card, extra)
    return _card(request, pk, card, new_version=row.plan_version)


def _item_initial(kind: str, row: Any) -> dict[str, Any]:
    fields = {
        "customer_priority": ("title", "description", "shared_with_customer"),
        "swot_item": ("kind", "title", "evidence", "classification"),
        "goal": ("title", "description"),
        "csf": ("title", "description", "goal"),
        "key_action": ("title", "owner", "due_date"),
        "stage": ("name",),
        "step": ("title",),
    }[kind]
    initial = {f: getattr(row, f"{f}_id" if f in ("goal", "owner") else f) for f in fields}
    if kind == "swot_item":
        initial["objective_ids"] = list(row.objective_links.values_list("objective_id", flat=True))
    return initial


@login_required
def section_item(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    """GET: the card with this row in edit mode. POST: save the row."""
    actor = _actor(request)
    if kind not in SECTION_FORMS:
        raise Http404("No such section.")
    try:
        row = services.section_item_get(actor=actor, section=kind, item_id=item_id)
    except NotFound as exc:
        raise Http404(exc.message)
    plan_id = row.plan_id_of
    plan = _plan_or_404(actor, plan_id)
    card = KIND_CARD[kind]
    if request.method == "GET":
        form = _section_form(kind, actor, plan, initial=_item_initial(kind, row))
        return _card(
            request, plan_id, card, extra={"edit_kind": kind, "edit_id": item_id, "edit_form": form}, refresh=False
        )
    form = _section_form(kind, actor, plan, request.POST)
    extra = {"edit_kind": kind, "edit_id": item_id, "edit_form": form}
    if not form.is_valid():
        return _card(request, plan_id, card, extra=extra, refresh=False)
    try:
        saved = services.section_item_update(
            actor=actor,
            section=kind,
            item_id=item_id,
            expected_version=_int(request.POST.get("version")),
            **form.cleaned_data,
        )
    except DomainError as exc:
        return _section_error(request, exc, form, plan_id, card, extra)
    return _card(request, plan_id, card, new_version=saved.plan_version)


@login_required
@require_POST
def section_item_delete(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    actor = _actor(request)
    if kind not in SECTION_FORMS:
        raise Http404("No such section.")
    try:
        plan_id = services.section_item_get(actor=actor, section=kind, item_id=item_id).plan_id_of
        plan = services.section_item_delete(
            actor=actor, section=kind, item_id=item_id, expected_version=_int(request.POST.get("version"))
        )
    except NotFound as exc:
        raise Http404(exc.message)
    except DomainError as exc:
        return _htmx_error(request, exc)
    return _card(request, plan_id, KIND_CARD[kind], new_version=plan.version)


@login_required
@require_POST
def section_item_toggle(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    """Tick or untick a process step or a key action."""
    actor = _actor(request)
    if kind not in ("step", "key_action"):
        raise Http404("Only steps and key actions are ticked.")
    try:
        row = services.section_item_get(actor=actor, section=kind, item_id=item_id)
        saved = services.section_item_update(
            actor=actor,
            section=kind,
            item_id=item_id,
            expected_version=_int(request.POST.get("version")),
            done=not row.done,
        )
    except NotFound as exc:
        raise Http404(exc.message)
    except DomainError as exc:
        return _htmx_error(request, exc)
    return _card(request, row.plan_id_of, KIND_CARD[kind], new_version=saved.plan_version)


# --- compare versions, clone, customer agreement ------------------------------------------------------------
_FIELD_LABELS: dict[str, Any] = {
    "name": gettext_lazy("Name"),
    "period_start": gettext_lazy("Period start"),
    "period_end": gettext_lazy("Period end"),
    "owner": gettext_lazy("Owner"),
    "summary": gettext_lazy("Summary"),
    "customer_priorities": gettext_lazy("Customer priorities"),
    "positioning": gettext_lazy("Positioning"),
    "value_proposition": gettext_lazy("Value proposition"),
    "value_proposition_reviewed": gettext_lazy("Compliance-reviewed"),
    "strategy": gettext_lazy("Strategy"),
    "title": gettext_lazy("Title"),
    "description": gettext_lazy("Description"),
    "metric": gettext_lazy("Metric"),
    "baseline": gettext_lazy("Baseline"),
    "target": gettext_lazy("Target"),
    "current": gettext_lazy("Current"),
    "due_date": gettext_lazy("Due"),
    "start_date": gettext_lazy("Start"),
    "indicator": gettext_lazy("Indicator"),
    "status": gettext_lazy("Status"),
    "assignee": gettext_lazy("Assignee"),
    "classification": gettext_lazy("Classification"),
    "function": gettext_lazy("Function"),
    "shared_with_customer": gettext_lazy("Shared with customer"),
    "is_milestone": gettext_lazy("Milestone"),
    "evidence": gettext_lazy("Evidence"),
    "kind": gettext_lazy("Kind"),
    "objective_ids": gettext_lazy("Drives objectives"),
    "done": gettext_lazy("Done"),
    "goal_id": gettext_lazy("Goal"),
}
_SECTION_LABELS: dict[str, Any] = {
    "plan": gettext_lazy("Plan"),
    "customer_priorities": gettext_lazy("Customer priorities"),
    "swot": gettext_lazy("SWOT"),
    "goals": gettext_lazy("Goals"),
    "csfs": gettext_lazy("Critical success factors"),
    "objectives": gettext_lazy("Objectives, tactics and actions"),
    "stages": gettext_lazy("Stages and steps"),
}


_ITEM_LABELS: dict[str, Any] = {
    "plan": gettext_lazy("Plan"),
    "priority": gettext_lazy("Priority"),
    "swot": gettext_lazy("SWOT item"),
    "goal": gettext_lazy("Goal"),
    "csf": gettext_lazy("CSF"),
    "key_action": gettext_lazy("Key action"),
    "objective": gettext_lazy("Objective"),
    "tactic": gettext_lazy("Tactic"),
    "action": gettext_lazy("Action"),
    "stage": gettext_lazy("Stage"),
    "step": gettext_lazy("Step"),
}


def _shown(name: str, value: Any, objective_titles: dict[int, str]) -> Any:
    """A compared value as a reader wants it: Yes/No, choice labels, dates localised, objective titles."""
    import datetime as dt

    from django.utils import formats

    from openkam.core.models import Function
    from openkam.plans.models import ActionStatus, IndicatorType, PlanStatus, SwotKind

    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    choices = {
        "status": {**dict(ActionStatus.choices), **dict(PlanStatus.choices)},
        "indicator": dict(IndicatorType.choices),
        "classification": dict(Classification.choices),
        "function": dict(Function.choices),
        "kind": dict(SwotKind.choices),
    }.get(name)
    if choices is not None:
        return choices.get(value, value)
    if name == "objective_ids":
        return ", ".join(objective_titles.get(i, f"#{i}") for i in value) or None
    if name.endswith("date") or name in ("period_start", "period_end"):
        try:
            return formats.date_format(dt.date.fromisoformat(str(value)), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    return value


@login_required
def plan_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two versions side by side: what changed, section by section (over what the reader may see)."""
    actor = _actor(request)
    plan = _plan_or_404(actor, pk)
    snapshots = list(selectors.plan_snapshots(actor=actor, plan=plan))
    left = request.GET.get("left") or (str(snapshots[0].number) if snapshots else "current")
    right = request.GET.get("right") or "current"
    try:
        diff = selectors.plan_compare(actor=actor, plan=plan, left=left, right=right)
    except NotFound as exc:
        raise Http404(exc.message)
    groups: dict[str, list[Any]] = {}
    titles = {
        o["id"]: o["title"]
        for content in (diff["left_content"], diff["right_content"])
        for o in content.get("objectives", [])
    }
    for change in diff["changes"]:
        change.item_label = _ITEM_LABELS.get(change.item, change.item)
        change.rows = [
            (_FIELD_LABELS.get(f, f), _shown(f, a, titles), _shown(f, b, titles)) for f, a, b in change.fields
        ]
        groups.setdefault(_SECTION_LABELS.get(change.section, change.section), []).append(change)
    return render(
        request,
        "plans/compare.html",
        {
            "plan": plan,
            "snapshots": snapshots,
            "left": left,
            "right": right,
            "diff": diff,
            "groups": groups,
            "counts": {k: sum(1 for c in diff["changes"] if c.kind == k) for k in ("added", "removed", "changed")},
        },
    )


def _next_period(plan: AccountPlan) -> tuple[Any, Any]:
    import datetime as dt

    length = plan.period_end - plan.period_start
    start = plan.period_end + dt.timedelta(days=1)
    return start, start + length


@login_required
def plan_clone(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    plan = _plan_or_404(actor, pk)
    if not services.plan_can_create(actor=actor):
        return _domain_page(request, DomainPermissionDenied(_("Your role cannot create account plans.")))
    if request.method == "POST":
        form = CloneForm(request.POST)
        if form.is_valid():
            try:
                clone = services.plan_clone(actor=actor, plan_id=pk, **form.cleaned_data)
            except NotFound as exc:
                raise Http404(exc.message)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(
                    request, _("Plan cloned into the next period: progress is reset, baselines are where you ended.")
                )
                return redirect("plans:detail", pk=clone.pk)
    else:
        start, end = _next_period(plan)
        form = CloneForm(initial={"period_start": start, "period_end": end, "name": ""})
    return render(
        request,
        "plans/clone.html",
        {
            "form": form,
            "plan": plan,
            "title": _("Clone into the next period"),
            "cancel_url": reverse("plans:detail", args=[pk]),
        },
    )


@login_required
@require_POST
def agreement_record(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    _plan_or_404(actor, pk)
    form = AgreementForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect(reverse("plans:detail", args=[pk]) + "#agreement")
    data = dict(form.cleaned_data)
    version = data.pop("version", None)
    try:
        services.customer_agreement_record(actor=actor, plan_id=pk, expected_version=version, **data)
    except NotFound as exc:
        raise Http404(exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The customer's agreement is recorded."))
    return redirect(reverse("plans:detail", args=[pk]) + "#agreement")


# --- plan templates (administrators) ----------------------------------------------------------------------
def _admin_only(request: HttpRequest) -> HttpResponse | None:
    from openkam.core.access import is_admin

    if not is_admin(_actor(request)):
        return render(
            request,
            "plans/refused.html",
            {"message": _("Only an administrator can change plan templates.")},
            status=403,
        )
    return None


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    from openkam.core.access import is_admin

    actor = _actor(request)
    return render(
        request,
        "plans/templates.html",
        {"templates": selectors.plan_templates(actor=actor), "is_admin": is_admin(actor)},
    )


@login_required
def template_edit(request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    refused = _admin_only(request)
    if refused:
        return refused
    actor = _actor(request)
    template = None
    if template_id is not None:
        try:
            template = selectors.plan_template_get(actor=actor, template_id=template_id)
        except NotFound as exc:
            raise Http404(exc.message)
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            stages = data.pop("stages")
            try:
                saved = services.plan_template_save(actor=actor, template_id=template_id, stages=stages, **data)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("Template “%(n)s” saved.") % {"n": saved.name})
                return redirect("plans:templates")
    elif template is not None:
        form = TemplateForm(
            initial={
                "name": template.name,
                "description": template.description,
                "account_types": template.account_types,
                "is_default": template.is_default,
                "is_active": template.is_active,
                "sections": template.sections,
                "required_fields": template.required_fields,
                "stale_after_days": template.stale_after_days,
                "stages": TemplateForm.stages_text(template),
            }
        )
    else:
        from openkam.plans.models import PlanSection

        form = TemplateForm(initial={"sections": PlanSection.values, "is_active": True, "stale_after_days": 30})
    return render(
        request,
        "plans/template_form.html",
        {"form": form, "template": template, "title": template.name if template else _("New plan template")},
    )
