"""Commercial pages: pipeline and forecast, opportunities, whitespace grid, tender calendar and bid analysis, account
P&L, sales-file import, and the lazy panels of Account 360 and the plan page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openkam.accounts.selectors import account_get
from openkam.commercial import selectors, services
from openkam.commercial.forms import (
    CellForm,
    CostForm,
    DecisionForm,
    OpportunityForm,
    OutcomeForm,
    SalesFileForm,
    TenderForm,
)
from openkam.commercial.models import CellStatus, Stage, TenderOutcome
from openkam.core.errors import DomainError, NotFound, PermissionDenied
from openkam.core.forms import apply_domain_error
from openkam.core.models import User
from openkam.core.selectors import team_list, user_list
from openkam.core.ui import paginate
from openkam.plans.selectors import objective_scope, plan_get
from openkam.portfolio.selectors import product_list

STAGE_COLOURS = {
    "identified": "#adb5bd",
    "qualified": "#6ea8fe",
    "proposal": "#0d6efd",
    "negotiation": "#6f42c1",
    "won": "#198754",
    "lost": "#dc3545",
}


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


def _guard(fn: Any) -> Any:
    """Domain NotFound → 404, PermissionDenied (e.g. medical and P&L) → 403 page."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return fn(request, *args, **kwargs)  # type: ignore[no-any-return]
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except PermissionDenied as exc:
            return render(request, "commercial/denied.html", {"message": exc.message}, status=403)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _money_series(rows: list[dict[str, Any]], key: str) -> list[float]:
    return [float(r[key]) for r in rows]


# --- pipeline ---------------------------------------------------------------------------------------------
@login_required
@require_GET
@_guard
def pipeline(request: HttpRequest) -> HttpResponse:
    """The pipeline of what the user sees (or of one account and its members, or one team): totals per stage,
    forecast by month, per team / member, and the opportunities."""
    actor = _actor(request)
    account_id, team_id = _int(request.GET.get("account")), _int(request.GET.get("team"))
    stage = request.GET.get("stage") if request.GET.get("stage") in Stage.values else None
    q = (request.GET.get("q") or "")[:200]
    account = account_get(actor=actor, account_id=account_id) if account_id else None
    figures = selectors.sees_figures(actor)
    pipelines = selectors.pipeline_rollup(actor=actor, account_id=account_id, team_id=team_id) if figures else []
    opps = selectors.opportunity_list(actor=actor, account_id=account_id, team_id=team_id, stage=stage, q=q)
    page = paginate(request, opps)
    main = pipelines[0] if pipelines else None
    chart = None
    if main is not None:
        chart = {
            "months": [m["month"].strftime("%b %Y") for m in main.months],
            "open": _money_series(main.months, "open"),
            "weighted": _money_series(main.months, "weighted"),
            "won": _money_series(main.months, "won"),
            "currency": main.currency,
            "labels": {"open": _("Open value"), "weighted": _("Weighted forecast"), "won": _("Won")},
        }
    return render(
        request,
        "commercial/pipeline.html",
        {
            "account": account,
            "team_id": team_id,
            "teams": team_list(actor=actor),
            "stage": stage,
            "q": q,
            "stages": Stage.choices,
            "pipelines": pipelines,
            "main": main,
            "chart": chart,
            "page": page,
            "figures": figures,
            "can_edit": selectors.can_edit_commercial(actor),
            "colours": STAGE_COLOURS,
        },
    )


def _opportunity_form(request: HttpRequest, actor: User, account: Any, data: Any = None, initial: Any = None) -> Any:
    objectives = (
        objective_scope(actor=actor)
        .filter(plan__account_id__in=[account.pk, *account.ancestors], plan__status__in=["approved", "active"])
        .select_related("plan")
        .order_by("plan__name", "position")[:200]
    )
    return OpportunityForm(data, initial=initial, products=product_list(actor=actor), objectives=objectives)


@login_required
@require_http_methods(["GET", "POST"])
@_guard
def opportunity_new(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    account = account_get(actor=actor, account_id=_int(request.GET.get("account")) or 0)
    if not selectors.can_edit_commercial(actor):
        raise PermissionDenied(_("Your role cannot change commercial records."))
    initial = {"currency": "USD", "stage": "identified", "expected_close": dt.date.today() + dt.timedelta(days=90)}
    form = _opportunity_form(request, actor, account, request.POST or None, initial)
    if request.method == "POST" and form.is_valid():
        try:
            opp = services.opportunity_create(actor=actor, account_id=account.pk, **form.service_fields())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Opportunity “%(n)s” created.") % {"n": opp.name})
            return redirect(f"{reverse('commercial:pipeline')}?account={account.pk}")
    return render(request, "commercial/opportunity_form.html", {"form": form, "account": account, "opp": None})


@login_required
@require_http_methods(["GET", "POST"])
@_guard
def opportunity_edit(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    actor = _actor(request)
    opp = selectors.opportunity_get(actor=actor, opportunity_id=opportunity_id)
    figures = selectors.sees_figures(actor)
    if request.method == "POST" and request.POST.get("delete"):
        services.opportunity_delete(actor=actor, opportunity_id=opp.pk)
        messages.success(request, _("Opportunity deleted."))
        return redirect(f"{reverse('commercial:pipeline')}?account={opp.account_id}")
    initial = {
        "name": opp.name,
        "value": opp.value,
        "currency": opp.currency,
        "stage": opp.stage,
        "probability": opp.probability,
        "expected_close": opp.expected_close,
        "products": [p.pk for p in opp.products.all()],
        "objective": opp.objective_id or "",
        "loss_reason": opp.loss_reason,
        "description": opp.description,
    }
    form = _opportunity_form(request, actor, opp.account, request.POST or None, initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.opportunity_update(actor=actor, opportunity_id=opp.pk, **form.service_fields())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Opportunity saved."))
            return redirect(f"{reverse('commercial:pipeline')}?account={opp.account_id}")
    from openkam.core.selectors import object_history

    return render(
        request,
        "commercial/opportunity_form.html",
        {
            "form": form,
            "account": opp.account,
            "opp": opp,
            "figures": figures,
            "can_edit": selectors.can_edit_commercial(actor) and figures,
            "history": object_history(obj=opp)[:20] if figures else [],
        },
    )


# --- whitespace --------------------------------------------------------------------------------------------
@login_required
@require_GET
@_guard
def whitespace(request: HttpRequest, account_id: int) -> HttpResponse:
    actor = _actor(request)
    grid = selectors.whitespace_grid(actor=actor, account_id=account_id)
    from openkam.accounts.selectors import account_ancestors

    return render(
        request,
        "commercial/whitespace.html",
        {
            "grid": grid,
            "account": grid.account,
            "figures": selectors.sees_figures(actor),
            "can_edit": selectors.can_edit_commercial(actor),
            "statuses": CellStatus.choices,
            "ancestors": account_ancestors(actor=actor, account=grid.account),
        },
    )


@login_required
@require_POST
@_guard
def whitespace_convert(request: HttpRequest, account_id: int, indication_id: int) -> HttpResponse:
    """One step: the gap becomes an opportunity; HTMX swaps the cell, otherwise back to the grid."""
    actor = _actor(request)
    grid_account = _int(request.POST.get("grid")) or account_id
    try:
        opp = services.whitespace_cell_to_opportunity(actor=actor, account_id=account_id, indication_id=indication_id)
    except DomainError as exc:
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponse(f'<div class="small text-danger" data-testid="cell-error">{exc.message}</div>')
        messages.error(request, exc.message)
        return redirect("commercial:whitespace", grid_account)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "commercial/_opportunity_badge.html", {"opp": opp, "new": True})
    messages.success(request, _("Opportunity “%(n)s” created.") % {"n": opp.name})
    return redirect("commercial:whitespace", grid_account)


@login_required
@require_http_methods(["GET", "POST"])
@_guard
def cell_edit(request: HttpRequest, account_id: int, indication_id: int) -> HttpResponse:
    actor = _actor(request)
    account = account_get(actor=actor, account_id=account_id)
    from openkam.portfolio.selectors import indication_get

    indication = indication_get(actor=actor, indication_id=indication_id)
    cell = selectors.whitespace_cell_find(actor=actor, account_id=account.pk, indication_id=indication.pk)
    initial: dict[str, Any] = {"status": "not_used", "currency": "USD"}
    if cell is not None:
        initial = {
            k: getattr(cell, k)
            for k in ("status", "potential_value", "currency", "our_share", "competitor", "contract_end", "notes")
        }
    form = CellForm(request.POST or None, initial=initial)
    back = _int(request.GET.get("grid")) or (account.parent_id or account.pk)
    if request.method == "POST" and form.is_valid():
        try:
            services.whitespace_cell_set(
                actor=actor, account_id=account.pk, indication_id=indication.pk, **form.cleaned_data
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Saved: %(i)s at %(a)s.") % {"i": indication.name, "a": account.name})
            return redirect("commercial:whitespace", back)
    return render(
        request,
        "commercial/cell_form.html",
        {"form": form, "account": account, "indication": indication, "back": back, "cell": cell},
    )


# --- tenders ------------------------------------------------------------------------------------------------
@login_required
@require_GET
@_guard
def tenders(request: HttpRequest) -> HttpResponse:
    """The tender calendar: upcoming deadlines (soonest first) and past tenders with their outcome."""
    actor = _actor(request)
    account_id = _int(request.GET.get("account"))
    account = account_get(actor=actor, account_id=account_id) if account_id else None
    upcoming = list(selectors.tender_list(actor=actor, account_id=account_id, when="upcoming")[:100])
    past = paginate(request, selectors.tender_list(actor=actor, account_id=account_id, when="past"))
    today = dt.date.today()
    months: dict[str, list[Any]] = {}
    for t in upcoming:
        t.days_left = (t.submission_deadline - today).days  # type: ignore[attr-defined]
        months.setdefault(t.submission_deadline.strftime("%B %Y"), []).append(t)
    return render(
        request,
        "commercial/tenders.html",
        {
            "account": account,
            "months": months,
            "upcoming": upcoming,
            "past": past,
            "figures": selectors.sees_figures(actor),
            "can_edit": selectors.can_edit_commercial(actor),
        },
    )


def _tender_form(actor: User, data: Any = None, initial: Any = None) -> TenderForm:
    people = user_list(actor=actor).exclude(role="medical")
    return TenderForm(data, initial=initial, people=people, products=product_list(actor=actor))


@login_required
@require_http_methods(["GET", "POST"])
@_guard
def tender_new(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    account = account_get(actor=actor, account_id=_int(request.GET.get("account")) or 0)
    if not selectors.can_edit_commercial(actor):
        raise PermissionDenied(_("Your role cannot change commercial records."))
    form = _tender_form(
        actor, request.POST or None, {"currency": "USD", "publication_date": dt.date.today(), "responsible": [actor.pk]}
    )
    if request.method == "POST" and form.is_valid():
        try:
            tender = services.tender_create(actor=actor, account_id=account.pk, **form.service_fields())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Tender “%(t)s” added to the calendar.") % {"t": tender.title})
            return redirect("commercial:tender", tender.pk)
    return render(request, "commercial/tender_form.html", {"form": form, "account": account, "tender": None})


@login_required
@require_http_methods(["GET", "POST"])
@_guard
def tender_edit(request: HttpRequest, tender_id: int) -> HttpResponse:
    actor = _actor(request)
    tender = selectors.tender_get(actor=actor, tender_id=tender_id)
    names = {p.pk: p.name for p in product_list(actor=actor)}
    initial = {
        "title": tender.title,
        "reference": tender.reference,
        "tender_type": tender.tender_type,
        "publication_date": tender.publication_date,
        "submission_deadline": tender.submission_deadline,
        "estimated_value": tender.estimated_value,
        "currency": tender.currency,
        "award_date": tender.award_date,
        "criteria": "\n".join(f"{c['name']}: {c['weight']:g}" for c in tender.award_criteria),
        "documents": "\n".join(d["name"] for d in tender.documents),
        "lots": "\n".join(
            f"{lot.name}: {', '.join(names.get(p.pk, '') for p in lot.products.all())}" for lot in tender.lots.all()
        ),
        "responsible": [u.pk for u in tender.responsible.all()],
        "notes": tender.notes,
    }
    form = _tender_form(actor, request.POST or None, initial)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        done = {d["name"]: d["done"] for d in tender.documents}
        fields["documents"] = [{"name": d["name"], "done": done.get(d["name"], False)} for d in fields["documents"]]
        try:
            services.tender_update(actor=actor, tender_id=tender.pk, **fields)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Tender saved."))
            return redirect("commercial:tender", tender.pk)
    return render(request, "commercial/tender_form.html", {"form": form, "account": tender.account, "tender": tender})


@login_required
@require_GET
@_guard
def tender(request: HttpRequest, tender_id: int) -> HttpResponse:
    actor = _actor(request)
    t = selectors.tender_get(actor=actor, tender_id=tender_id)
    figures = selectors.sees_figures(actor)
    assessment = selectors.tender_assessment(t) if figures else None
    factors = list(selectors.risk_factor_list(actor=actor)) if figures else []
    scores = assessment.scores if assessment else {}
    rows = [{"factor": f, "score": scores.get(f.code)} for f in factors]
    from openkam.core.selectors import object_history

    return render(
        request,
        "commercial/tender.html",
        {
            "tender": t,
            "assessment": assessment,
            "factor_rows": rows,
            "figures": figures,
            "can_edit": selectors.can_edit_commercial(actor),
            "can_decide": selectors.can_confirm_bid(actor),
            "decision_form": DecisionForm(initial={"decision": assessment.recommendation} if assessment else None),
            "outcome_form": OutcomeForm(
                initial={
                    "outcome": t.outcome,
                    "loss_reason": t.loss_reason,
                    "award_date": t.award_date,
                    "outcome_notes": t.outcome_notes,
                }
            ),
            "history": object_history(obj=t)[:20] if figures else [],
            "days_left": (t.submission_deadline - dt.date.today()).days,
            "past": t.submission_deadline < dt.date.today(),
            "done_docs": sum(1 for d in t.documents if d["done"]),
        },
    )


@login_required
@require_POST
@_guard
def tender_assess(request: HttpRequest, tender_id: int) -> HttpResponse:
    actor = _actor(request)
    factors = selectors.risk_factor_list(actor=actor)
    scores = {f.code: request.POST.get(f"score_{f.code}", "") for f in factors}
    try:
        a = services.bid_assessment_save(
            actor=actor, tender_id=tender_id, scores=scores, notes=request.POST.get("notes", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Win likelihood %(p)s%% → recommendation: %(r)s.")
            % {"p": a.win_likelihood, "r": a.get_recommendation_display()},
        )
    return redirect("commercial:tender", tender_id)


@login_required
@require_POST
@_guard
def tender_decide(request: HttpRequest, tender_id: int) -> HttpResponse:
    actor = _actor(request)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.bid_decision_confirm(actor=actor, tender_id=tender_id, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Decision recorded."))
    return redirect("commercial:tender", tender_id)


@login_required
@require_POST
@_guard
def tender_outcome(request: HttpRequest, tender_id: int) -> HttpResponse:
    actor = _actor(request)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            services.tender_update(actor=actor, tender_id=tender_id, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Outcome saved."))
    return redirect("commercial:tender", tender_id)


@login_required
@require_POST
@_guard
def tender_document(request: HttpRequest, tender_id: int, index: int) -> HttpResponse:
    actor = _actor(request)
    try:
        services.tender_document_toggle(
            actor=actor, tender_id=tender_id, index=index, done=request.POST.get("done") == "1"
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("commercial:tender", tender_id)


# --- P&L ---------------------------------------------------------------------------------------------------------
def _month(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "") + "-01") if value and len(value) == 7 else None
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
@_guard
def account_pnl(request: HttpRequest, account_id: int) -> HttpResponse:
    actor = _actor(request)
    selectors.require_figures(actor)
    account = account_get(actor=actor, account_id=account_id)
    cost_form = CostForm(request.POST or None, initial={"period": dt.date.today().replace(day=1), "currency": "USD"})
    if request.method == "POST" and cost_form.is_valid():
        try:
            services.cost_to_serve_add(actor=actor, account_id=account.pk, **cost_form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(cost_form, exc)
        else:
            messages.success(request, _("Cost to serve added."))
            return redirect("commercial:account_pnl", account.pk)
    start, end = _month(request.GET.get("from")), _month(request.GET.get("to"))
    if end is not None:
        end = (end + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    pnls = selectors.account_pnl(actor=actor, account_id=account.pk, start=start, end=end, by_child=True)
    charts = [
        {
            "currency": p.currency,
            "months": [m.month.strftime("%b %Y") for m in p.months],
            "net": [float(m.net_sales) for m in p.months],
            "contribution": [float(m.contribution) for m in p.months],
            "cts": [float(m.cost_to_serve) for m in p.months],
            "labels": {"net": _("Net sales"), "contribution": _("Contribution"), "cts": _("Cost to serve")},
        }
        for p in pnls
    ]
    return render(
        request,
        "commercial/pnl.html",
        {
            "account": account,
            "pnls": pnls,
            "charts": charts,
            "cost_form": cost_form,
            "costs": selectors.cost_to_serve_list(actor=actor, account_id=account.pk, limit=12),
            "can_edit": selectors.can_edit_commercial(actor),
            "start": pnls[0].start if pnls else start,
            "end": pnls[0].end if pnls else end,
        },
    )


# --- sales import ------------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
@_guard
def sales_import(request: HttpRequest) -> HttpResponse:
    """Upload a sales file: it is checked first (dry run, as a job) and imported only when asked."""
    actor = _actor(request)
    selectors.require_figures(actor)
    form = SalesFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            imp = services.sales_import_upload(actor=actor, filename=upload.name, data=upload.read())
            services.sales_import_start(actor=actor, import_id=imp.pk, dry_run=True)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return redirect("commercial:sales_import_detail", imp.pk)
    return render(
        request,
        "commercial/sales_import.html",
        {
            "form": form,
            "imports": selectors.sales_import_list(actor=actor),
            "can_edit": selectors.can_edit_commercial(actor),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@_guard
def sales_import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    actor = _actor(request)
    imp = selectors.sales_import_get(actor=actor, import_id=import_id)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "undo":
                services.sales_import_undo(actor=actor, import_id=imp.pk, reason=request.POST.get("reason", ""))
                messages.success(request, _("The import was undone: its lines are removed."))
            else:
                services.sales_import_start(actor=actor, import_id=imp.pk, dry_run=False)
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("commercial:sales_import_detail", imp.pk)
    if request.htmx and request.GET.get("part") == "result":  # type: ignore[attr-defined]
        ctx = {"imp": imp, "can_edit": selectors.can_edit_commercial(actor)}
        finished = imp.job is None or imp.job.finished
        return render(request, "commercial/_import_result.html", ctx, status=286 if finished else 200)
    return render(
        request,
        "commercial/sales_import_detail.html",
        {
            "imp": imp,
            "can_edit": selectors.can_edit_commercial(actor),
        },
    )


# --- lazy panels ---------------------------------------------------------------------------------------------------
@login_required
@require_GET
def account_panel(request: HttpRequest, account_id: int) -> HttpResponse:
    """Account 360: whitespace summary, pipeline headline, next tender, P&L headline (not for medical)."""
    actor = _actor(request)
    try:
        summary = selectors.account_commercial_summary(actor=actor, account_id=account_id)
    except NotFound:
        return HttpResponse("")
    return render(
        request,
        "commercial/_account_panel.html",
        {
            "s": summary,
            "account": summary.grid.account,
            "figures": selectors.sees_figures(actor),
            "pipe": summary.pipelines[0] if summary.pipelines else None,
            "pnl": summary.pnl[0] if summary.pnl else None,
        },
    )


@login_required
@require_GET
def plan_panel(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan page: the plan account's pipeline (and what is linked to the plan's objectives) and whitespace."""
    actor = _actor(request)
    try:
        plan = plan_get(actor=actor, plan_id=plan_id)
        grid = selectors.whitespace_grid(actor=actor, account_id=plan.account_id)
    except NotFound:
        return HttpResponse("")
    figures = selectors.sees_figures(actor)
    pipes = selectors.pipeline_rollup(actor=actor, account_id=plan.account_id, months=0) if figures else []
    linked = list(
        selectors.opportunity_list(actor=actor, account_id=plan.account_id).filter(objective__plan_id=plan.pk)[:10]
    )
    top_gaps = []
    for row in grid.rows:
        for cell, column in zip(row.cells, grid.columns, strict=True):
            if cell.is_gap:
                top_gaps.append((cell.potential_value or Decimal(0), row.indication, column, cell))
    top_gaps.sort(key=lambda g: -g[0])
    return render(
        request,
        "commercial/_plan_panel.html",
        {
            "plan": plan,
            "grid": grid,
            "pipe": pipes[0] if pipes else None,
            "linked": linked,
            "gaps": top_gaps[:5],
            "figures": figures,
            "outcome_pending": TenderOutcome.PENDING,
        },
    )
