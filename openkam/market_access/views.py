"""Formulary pages: dashboard, an account's formulary (history, protocols), recording a status, protocols, FHIR
import, and the lazy panels of Account 360 and the plan page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openkam.accounts.selectors import account_get
from openkam.core.errors import DomainError, NotFound
from openkam.core.forms import apply_domain_error
from openkam.core.models import Role, User
from openkam.market_access import selectors, services
from openkam.market_access.forms import (
    DashboardFilterForm,
    FhirImportForm,
    ProtocolForm,
    ProtocolProductForm,
    StatusForm,
    TargetForm,
)
from openkam.market_access.models import FormularyStatusCode, TargetStatus
from openkam.plans.selectors import plan_get
from openkam.portfolio.selectors import indication_list, therapeutic_area_list
from openkam.stakeholders.selectors import account_positions


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _legend() -> list[tuple[str, str, str]]:
    return [(c, str(lbl), selectors.STATUS_COLOURS[c]) for c, lbl in FormularyStatusCode.choices] + [
        ("none", _("No status"), selectors.STATUS_COLOURS["none"])
    ]


DASHBOARD_LIST = 20  # items per list on the page (changes, reviews, targets); counts cover them all


def _int(value: str | None, default: int = 1) -> int:
    try:
        return max(1, int(value or default))
    except ValueError:
        return default


# --- dashboard ------------------------------------------------------------------------------------------
@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    people: list[User] = []
    if actor.role == Role.LEAD:
        people = list(User.objects.filter(manager_id=actor.pk, is_active=True).order_by("last_name", "first_name"))
    products_all = selectors.formulary_products(actor=actor)
    form = DashboardFilterForm(
        request.GET or None, areas=therapeutic_area_list(actor=actor), products=products_all, people=people
    )
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        portfolio_of = next((u for u in people if u.pk == data.get("portfolio_of")), None)
        filters = {"account_type": data.get("account_type") or None, "kam_level": data.get("kam_level") or None,
                   "therapeutic_area_id": data.get("therapeutic_area"), "product_id": data.get("product"),
                   "status": data.get("status") or None, "portfolio_of": portfolio_of}  # fmt: skip
    d = selectors.formulary_dashboard(
        actor=actor, page=_int(request.GET.get("page")), products=products_all, list_limit=DASHBOARD_LIST, **filters
    )
    chart = {
        "products": [p.name for p in d.products],
        "series": [
            {"key": code, "name": label, "colour": colour,
             "data": [d.distribution.get(p.pk, {}).get(code, 0) for p in d.products]}
            for code, label, colour in _legend()
        ],
    }  # fmt: skip
    kpis = {f"{kind}_{days}": d.change_counts[(kind, days)] for kind in ("win", "loss") for days in (30, 90)}
    return render(
        request,
        "market_access/dashboard.html",
        {
            "d": d,
            "acc_url": reverse("market_access:account", args=[0])[:-2],
            "kpis": kpis,
            "change_total": sum(d.change_counts[(k, 90)] for k in ("win", "loss", "change")),
            "form": form,
            "chart": chart,
            "legend": _legend(),
            "filtered": bool(request.GET),
            "can_edit": services.can_edit_formulary(actor),
        },
    )


# --- an account's formulary --------------------------------------------------------------------------------
@login_required
@require_GET
def account(request: HttpRequest, account_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        af = selectors.account_formulary(actor=actor, account_id=account_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    history = selectors.hide_pricing(actor, list(selectors.formulary_status_list(actor=actor, account=af.account)))
    return render(
        request,
        "market_access/account.html",
        {
            "af": af,
            "history": history,
            "legend": _legend(),
            "can_edit": services.can_edit_formulary(actor),
            "sees_pricing": selectors.sees_pricing(actor),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def record(request: HttpRequest, account_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        acc = account_get(actor=actor, account_id=account_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    if not services.can_edit_formulary(actor):
        messages.error(request, _("Only market access records formulary positions."))
        return redirect("market_access:account", account_id=acc.pk)
    initial = {"product": request.GET.get("product"), "scope": "members" if acc.depth == 0 else "account"}
    form = StatusForm(
        request.POST or None, initial=initial, products=selectors.formulary_products(actor=actor),
        indications=indication_list(actor=actor, approved=True),
        committees=selectors.committees_for(actor=actor, account=acc),
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.formulary_status_record(
                actor=actor, account_id=acc.pk, reason=data["reason"],
                data=services.StatusInput(
                    product_id=data["product"], indication_id=data["indication"], status=data["status"],
                    effective_from=data["effective_from"], effective_to=data["effective_to"],
                    restriction_kinds=list(data["restriction_kinds"]), restrictions=data["restrictions"],
                    tier=data["tier"], next_review=data["next_review"], committee_id=data["committee"],
                    scope=data["scope"], net_price=data["net_price"], currency=(data["currency"] or "").upper(),
                    notes=data["notes"],
                ),
            )  # fmt: skip
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Formulary position recorded."))
            return redirect("market_access:account", account_id=acc.pk)
    return render(request, "market_access/record.html", {"account": acc, "form": form})


# --- protocols ----------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def protocol_create(request: HttpRequest, account_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        acc = account_get(actor=actor, account_id=account_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    people = [
        p.stakeholder
        for p in account_positions(actor=actor, account=acc, include_descendants=False, include_ended=False)[:200]
    ]
    form = ProtocolForm(request.POST or None, areas=therapeutic_area_list(actor=actor), people=people)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            p = services.protocol_create(
                actor=actor, account_id=acc.pk, data=_protocol_input(data, actor.pk), reason=data["reason"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Protocol created: now add its products."))
            return redirect("market_access:protocol", protocol_id=p.pk)
    return render(request, "market_access/protocol_form.html", {"account": acc, "form": form})


def _protocol_input(data: dict[str, Any], our_owner_id: int | None) -> services.ProtocolInput:
    return services.ProtocolInput(
        name=data["name"], kind=data["kind"], status=data["status"], scope=data["scope"],
        therapeutic_area_id=data["therapeutic_area"], description=data["description"],
        effective_from=data["effective_from"], review_date=data["review_date"], owner_id=data["owner"],
        our_owner_id=our_owner_id,
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def protocol_edit(request: HttpRequest, protocol_id: int) -> HttpResponse:
    """Edit a protocol's details (products are edited on its page), or retire it."""
    actor = _actor(request)
    try:
        p = selectors.protocol_get(actor=actor, protocol_id=protocol_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    if not services.can_edit_formulary(actor):
        messages.error(request, _("Only market access edits protocols."))
        return redirect("market_access:protocol", protocol_id=p.pk)
    people = [
        x.stakeholder
        for x in account_positions(actor=actor, account=p.account, include_descendants=False, include_ended=False)[
            :200]
    ]  # fmt: skip
    if p.owner is not None and p.owner.pk not in {s.pk for s in people}:
        people.append(p.owner)  # the current owner stays selectable
    initial = {"name": p.name, "kind": p.kind, "status": p.status, "scope": p.scope,
               "therapeutic_area": p.therapeutic_area_id, "description": p.description,
               "effective_from": p.effective_from, "review_date": p.review_date, "owner": p.owner_id}  # fmt: skip
    form = ProtocolForm(request.POST or None, initial=initial, areas=therapeutic_area_list(actor=actor), people=people)
    if request.method == "POST" and "retire" in request.POST:
        try:
            services.protocol_retire(actor=actor, protocol_id=p.pk, reason=request.POST.get("reason", "")[:255])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Protocol retired."))
        return redirect("market_access:protocol", protocol_id=p.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.protocol_update(
                actor=actor, protocol_id=p.pk, data=_protocol_input(data, p.our_owner_id), reason=data["reason"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Protocol saved."))
            return redirect("market_access:protocol", protocol_id=p.pk)
    return render(request, "market_access/protocol_form.html", {"account": p.account, "form": form, "p": p})


@login_required
@require_http_methods(["GET", "POST"])
def protocol(request: HttpRequest, protocol_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        p = selectors.protocol_get(actor=actor, protocol_id=protocol_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    form = ProtocolProductForm(request.POST or None, products=selectors.formulary_products(actor=actor))
    if request.method == "POST":
        try:
            if "remove" in request.POST:
                services.protocol_product_remove(actor=actor, protocol_id=p.pk, item_id=_int(request.POST["remove"]))
                messages.success(request, _("Product removed from the protocol."))
                return redirect("market_access:protocol", protocol_id=p.pk)
            if form.is_valid():
                data = form.cleaned_data
                services.protocol_product_add(
                    actor=actor, protocol_id=p.pk, product_id=data["product"],
                    line_of_therapy=data["line_of_therapy"], preferred=data["preferred"], note=data["note"],
                )  # fmt: skip
                messages.success(request, _("Product added to the protocol."))
                return redirect("market_access:protocol", protocol_id=p.pk)
        except DomainError as exc:
            apply_domain_error(form, exc)
    return render(
        request, "market_access/protocol.html", {"p": p, "form": form, "can_edit": services.can_edit_formulary(actor)}
    )


# --- FHIR import ---------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def fhir_import(request: HttpRequest, account_id: int) -> HttpResponse:
    """Upload a FHIR formulary: it is kept and checked by a job (the preview), then written on confirmation."""
    actor = _actor(request)
    try:
        acc = account_get(actor=actor, account_id=account_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    if not services.can_edit_formulary(actor):
        messages.error(request, _("Only market access imports formulary data."))
        return redirect("market_access:account", account_id=acc.pk)
    form = FhirImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        by_name = {p.name.lower(): p.pk for p in selectors.formulary_products(actor=actor)}
        mapping: dict[str, int] = {}
        bad = []
        for line in (data["mapping"] or "").splitlines():
            if not line.strip():
                continue
            code, _sep, name = line.partition("=")
            pk = by_name.get(name.strip().lower())
            if pk is None or not code.strip():
                bad.append(line.strip())
            else:
                mapping[code.strip()] = pk
        if bad:
            form.add_error("mapping", _("Not “code = product”: %(l)s") % {"l": "; ".join(bad)})
        else:
            upload = data["file"]
            try:
                imp = services.formulary_import_start(
                    actor=actor, account_id=acc.pk, filename=upload.name, content=upload.read(), mapping=mapping,
                    reason=data["reason"],
                )  # fmt: skip
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                return redirect("market_access:import_detail", import_id=imp.pk)
    imports = list(selectors.formulary_import_list(actor=actor, account=acc)[:10])
    return render(request, "market_access/import.html", {"account": acc, "form": form, "imports": imports})


@login_required
@require_GET
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    """An import: the job's progress, then the preview (every item and what would happen to it), then the outcome.
    ``?part=result`` is the part HTMX polls while the job runs."""
    actor = _actor(request)
    try:
        imp = selectors.formulary_import_get(actor=actor, import_id=import_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    context = {"imp": imp, "account": imp.account, "can_edit": services.can_edit_formulary(actor),
               "running": imp.job is not None and not imp.job.finished}  # fmt: skip
    if request.GET.get("part") == "result":
        return render(request, "market_access/_import_result.html", context)
    return render(request, "market_access/import_detail.html", context)


@login_required
@require_POST
def import_apply(request: HttpRequest, import_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        services.formulary_import_apply(actor=actor, import_id=import_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Writing the imported records: follow the progress below."))
    return redirect("market_access:import_detail", import_id=import_id)


# --- lazy panels ---------------------------------------------------------------------------------------------
@login_required
@require_GET
def account_panel(request: HttpRequest, account_id: int) -> HttpResponse:
    """Account 360's card: the formulary position of the account and its members."""
    actor = _actor(request)
    try:
        af = selectors.account_formulary(actor=actor, account_id=account_id)
    except NotFound:
        return HttpResponse("")
    return render(request, "market_access/_account_panel.html", {"af": af, "legend": _legend()})


@login_required
@require_GET
def plan_panel(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan page's card: the plan account's formulary position and the plan's formulary targets."""
    actor = _actor(request)
    try:
        plan = plan_get(actor=actor, plan_id=plan_id)
    except NotFound:
        return HttpResponse("")
    return _plan_panel(request, plan)


def _plan_panel(request: HttpRequest, plan: Any, form: TargetForm | None = None) -> HttpResponse:
    actor = _actor(request)
    products = selectors.formulary_products(actor=actor)
    current = selectors.formulary_current(actor=actor, account_ids=[plan.account_id])
    position = [(p, current.get((plan.account_id, p.pk))) for p in products]
    return render(
        request,
        "market_access/_plan_panel.html",
        {
            "plan": plan,
            "position": position,
            "targets": [(g, selectors.target_met(g)) for g in selectors.plan_targets(actor=actor, plan=plan)],
            "form": form or TargetForm(products=products, initial={"target_status": TargetStatus.ON_FORMULARY}),
            "can_target": services.can_set_targets(actor) and plan.status != "closed",
        },
    )


@login_required
@require_POST
def target_set(request: HttpRequest, plan_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        plan = plan_get(actor=actor, plan_id=plan_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    if "delete" in request.POST:
        try:
            services.formulary_target_delete(actor=actor, target_id=_int(request.POST["delete"]))
        except DomainError as exc:
            messages.error(request, exc.message)
        return _plan_panel(request, plan)
    form = TargetForm(request.POST, products=selectors.formulary_products(actor=actor))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.formulary_target_set(actor=actor, plan_id=plan.pk, product_id=data["product"],
                                          target_status=data["target_status"], note=data["note"])  # fmt: skip
        except DomainError as exc:
            apply_domain_error(form, exc)
            return _plan_panel(request, plan, form)
        return _plan_panel(request, plan)
    return _plan_panel(request, plan, form)
