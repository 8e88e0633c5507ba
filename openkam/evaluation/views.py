"""Evaluation pages: portfolio matrix, KAM analysis (+ XLSX), an account's evaluation, scoring, models, re-score."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openkam.accounts.models import AccountType
from openkam.core.access import can_write, is_admin
from openkam.core.documents import XLSX_TYPE, About, Sheet, xlsx_workbook
from openkam.core.errors import DomainError, NotFound, PermissionDenied
from openkam.core.forms import apply_domain_error
from openkam.core.models import Role, User
from openkam.core.ui import file_response
from openkam.evaluation import selectors, services, tasks
from openkam.evaluation.forms import (
    CRITERION_FIELDS,
    AssessmentForm,
    MatrixFilterForm,
    OverrideForm,
    ReviewForm,
    ScoringModelForm,
    criteria_for_service,
    criteria_rows,
)
from openkam.evaluation.models import AssessmentStatus, RunStatus

LEVEL_COLOURS = {"strategic": "#6f42c1", "key": "#0d6efd", "basic": "#6c757d", "declined": "#adb5bd"}


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _can_tier(user: User) -> bool:
    return can_write(user) and (user.role == Role.LEAD or is_admin(user))


def _can_score(user: User) -> bool:
    return can_write(user) and (user.role in (Role.KAM, Role.LEAD, Role.MARKET_ACCESS) or is_admin(user))


# --- portfolio matrix -------------------------------------------------------------------------------
@login_required
@require_GET
def matrix(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    options = selectors.matrix_filter_options(actor=actor)
    form = MatrixFilterForm(request.GET or None, options=options, measures=selectors.POSITION_MEASURES)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {"team_id": data.get("team"), "type": data.get("type") or None,
                   "country": data.get("country") or None, "position": data.get("position") or "coverage"}  # fmt: skip
    m = selectors.portfolio_matrix(actor=actor, **filters)
    detail = reverse("accounts:detail", args=[0])[:-2]
    points = [
        {"value": [p.position, p.attractiveness], "name": p.name, "id": p.id, "level": p.level,
         "levelLabel": p.level_label, "type": p.type_label, "url": f"{detail}{p.id}/"}
        for p in m.points
    ]  # fmt: skip
    quadrants = [
        {"key": k, "title": str(t), "text": str(x), "count": m.quadrant_counts.get(k, 0)}
        for k, (t, x) in selectors.QUADRANTS.items()
    ]
    chart = {
        "points": points,
        "colours": LEVEL_COLOURS,
        "levels": {
            k: str(v)
            for k, v in [
                ("strategic", _("Strategic")),
                ("key", _("Key")),
                ("basic", _("Basic")),
                ("declined", _("Declined")),
            ]
        },
        "quadrants": {q["key"]: q["title"] for q in quadrants},
        "xName": str(m.measure.label),
        "yName": _("Attractiveness (latest score)"),
    }
    return render(
        request,
        "evaluation/matrix.html",
        {
            "form": form,
            "matrix": m,
            "chart": chart,
            "quadrants": quadrants,
            "filtered": bool(request.GET),
            "as_of": selectors.effort_as_of(),
            "can_analyse": selectors.can_see_analysis(actor),
        },
    )


# --- KAM analysis -------------------------------------------------------------------------------------
def _analysis(request: HttpRequest) -> tuple[selectors.Analysis, int | None]:
    raw = request.GET.get("team", "")
    team_id = int(raw) if raw.isdigit() else None
    try:
        return selectors.kam_analysis(actor=_actor(request), team_id=team_id), team_id
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from None


@login_required
@require_GET
def analysis(request: HttpRequest) -> HttpResponse:
    a, team_id = _analysis(request)
    teams = selectors.team_choices(actor=_actor(request))
    chart = {
        "levels": [r.label for r in a.rows],
        "intended": [r.intended_share for r in a.rows],
        "actual": [r.effort_share for r in a.rows],
        "accounts": [r.account_share for r in a.rows],
        "labels": {
            "intended": _("Intended effort share"),
            "actual": _("Actual effort share"),
            "accounts": _("Share of accounts"),
        },
    }
    return render(
        request, "evaluation/analysis.html",
        {"a": a, "teams": teams, "team_id": team_id, "chart": chart},
    )  # fmt: skip


@login_required
@require_GET
def analysis_xlsx(request: HttpRequest) -> HttpResponse:
    a, _team = _analysis(request)
    data = xlsx_workbook(
        [
            Sheet(
                _("Levels"),
                [_("Level"), _("Accounts"), _("Share of accounts (%)"), _("Interactions (90 days)"),
                 _("People active"), _("Open actions"), _("Actual effort share (%)"), _("Intended effort share (%)"),
                 _("Gap (points)")],
                [[r.label, r.accounts, r.account_share, r.interactions, r.people, r.open_actions, r.effort_share,
                  r.intended_share, r.gap] for r in a.rows],
                [14, 10, 12, 14, 12, 12, 14, 14, 10],
            ),
            Sheet(
                _("Mismatches"),
                [_("Account"), _("Level"), _("Interactions (90 days)"), _("Interactions (30 days)"), _("Finding")],
                [[e.name, e.level, e.interactions, e.last_30, e.flag] for e in a.flagged],
                [44, 12, 14, 14, 70],
            ),
            Sheet(
                _("Accounts"),
                [_("Account"), _("Type"), _("Level"), _("Latest score"), _("Interactions (90 days)"),
                 _("People active"), _("Open actions"), _("Finding")],
                [[e.name, e.type, e.level, float(e.total) if e.total is not None else None, e.interactions,
                  e.people, e.open_actions, e.flag] for e in selectors.analysis_accounts(a.accounts)],
                [44, 14, 12, 12, 14, 12, 12, 60],
            ),
        ],
        About(_("KAM analysis"), by=str(_actor(request)), lines=[(_("Effort window (days)"), a.days)]),
    )  # fmt: skip
    return file_response(data, filename=f"kam-analysis-{timezone.localdate():%Y-%m-%d}.xlsx", content_type=XLSX_TYPE)


# --- an account's evaluation --------------------------------------------------------------------------
def _evaluation(request: HttpRequest, account_id: int) -> selectors.AccountEvaluation:
    try:
        return selectors.account_evaluation(actor=_actor(request), account_id=account_id)
    except NotFound:
        raise Http404 from None


@login_required
def account(request: HttpRequest, account_id: int) -> HttpResponse:
    actor = _actor(request)
    ev = _evaluation(request, account_id)
    override_form = OverrideForm(
        initial={
            "level": ev.tier.override_level if ev.tier else "",
            "reason": ev.tier.override_reason if ev.tier else "",
        }
    )
    if request.method == "POST":
        override_form = OverrideForm(request.POST)
        if override_form.is_valid():
            try:
                result = services.tier_override(
                    actor=actor, account_id=account_id, level=override_form.cleaned_data["level"],
                    reason=override_form.cleaned_data["reason"],
                )  # fmt: skip
            except DomainError as exc:
                apply_domain_error(override_form, exc)
            else:
                messages.success(request, _("Tier set to %(l)s.") % {"l": result.level})
                for w in result.warnings:
                    messages.warning(request, w)
                return redirect("evaluation:account", account_id=account_id)
    trend = {
        "dates": [a.assessed_on.isoformat() for a in reversed(ev.assessments)],
        "totals": [float(a.total) for a in reversed(ev.assessments)],
        "thresholds": (
            {"strategic": float(ev.model.strategic_min), "key": float(ev.model.key_min),
             "basic": float(ev.model.basic_min)} if ev.model else None
        ),
        "labels": {"strategic": _("Strategic"), "key": _("Key"), "basic": _("Basic"), "score": _("Score")},
    }  # fmt: skip
    latest = [(s, s.criterion.label_for(s.score)) for s in ev.latest.scores.all()] if ev.latest else []
    return render(
        request, "evaluation/account.html",
        {"ev": ev, "override_form": override_form, "can_tier": _can_tier(actor), "can_score": _can_score(actor),
         "trend": trend, "latest_scores": latest},
    )  # fmt: skip


@login_required
def assess(request: HttpRequest, account_id: int) -> HttpResponse:
    actor = _actor(request)
    ev = _evaluation(request, account_id)
    if not _can_score(actor):
        raise DjangoPermissionDenied(_("Your role cannot score accounts."))
    if ev.model is None:
        messages.error(request, _("No active scoring model applies to this type of account."))
        return redirect("evaluation:account", account_id=account_id)
    form = AssessmentForm(request.POST or None, model=ev.model, initial={"assessed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            assessment, result = services.assessment_create(
                actor=actor, account_id=account_id, model_id=ev.model.pk, scores=form.scores(),
                assessed_on=form.cleaned_data["assessed_on"], rationale=form.cleaned_data["rationale"],
            )  # fmt: skip
        except DomainError as exc:
            if exc.errors:
                for err in exc.errors:
                    form.add_error(form.field_for_error(err.field), err.message)  # type: ignore[arg-type]
            else:
                form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Assessment saved: score %(s)s → %(t)s.")
                % {"s": assessment.total, "t": assessment.get_tier_display()},
            )
            for w in result.warnings:
                messages.warning(request, w)
            return redirect("evaluation:account", account_id=account_id)
    return render(request, "evaluation/assess.html", {"ev": ev, "form": form, "rows": form.rows()})


@login_required
def assessment(request: HttpRequest, assessment_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        a = selectors.assessment_get(actor=actor, assessment_id=assessment_id)
    except NotFound:
        raise Http404 from None
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_review(actor=actor, assessment_id=assessment_id, note=form.cleaned_data["note"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Assessment reviewed."))
            return redirect("evaluation:assessment", assessment_id=assessment_id)
    can_review = _can_tier(actor) and a.status == AssessmentStatus.SUBMITTED and a.assessed_by_id != actor.pk
    return render(request, "evaluation/assessment.html", {"a": a, "form": form, "can_review": can_review})


# --- scoring models and re-score ------------------------------------------------------------------
@login_required
@require_GET
def models(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    labels = dict(AccountType.choices)
    found = list(selectors.scoring_model_list(actor=actor))
    for m in found:
        m.type_labels = ", ".join(str(labels.get(t, t)) for t in m.account_types)  # type: ignore[attr-defined]
    return render(
        request, "evaluation/models.html",
        {"models": found, "is_admin": is_admin(actor),
         "run": selectors.rescore_run_latest(actor=actor), "can_analyse": selectors.can_see_analysis(actor)},
    )  # fmt: skip


def _editor_rows(form_rows: list[dict[str, str]], errors: dict[int, dict[str, list[str]]]) -> list[dict[str, Any]]:
    """Rows for the model editor's criteria table (with their errors) and three blank rows to add criteria."""
    rows = [{**r, "errors": errors.get(i, {})} for i, r in enumerate(form_rows)]
    blank = dict.fromkeys(CRITERION_FIELDS, "")
    return rows + [{**blank, "errors": {}} for _i in range(max(1, 3 - max(0, len(rows) - 4)))]


def _split_criteria_errors(exc: DomainError) -> tuple[dict[int, dict[str, list[str]]], list[str], list[Any]]:
    """Service errors → (per row and field, about the criteria as a whole, the rest for the header form)."""
    per_row: dict[int, dict[str, list[str]]] = {}
    overall: list[str] = []
    rest = []
    for err in exc.errors or []:
        parts = err.field.split(".")
        if parts[0] == "criteria" and len(parts) == 3 and parts[1].isdigit():
            per_row.setdefault(int(parts[1]), {}).setdefault(parts[2], []).append(err.message)
        elif err.field == "criteria":
            overall.append(err.message)
        else:
            rest.append(err)
    return per_row, overall, rest


def _model_editor(request: HttpRequest, model: Any | None) -> HttpResponse:
    actor = _actor(request)
    if not is_admin(actor):
        raise DjangoPermissionDenied(_("Only an administrator manages scoring models."))
    creating = model is None
    uses = 0 if model is None else selectors.scoring_model_use_count(actor=actor, model_id=model.pk)
    row_errors: dict[int, dict[str, list[str]]] = {}
    criteria_errors: list[str] = []
    if request.method == "POST":
        form = ScoringModelForm(request.POST, creating=creating)
        rows = criteria_rows(request.POST)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k not in ("activate", "reason", "code")}
            data["criteria"] = criteria_for_service(rows)
            try:
                if model is None:
                    target = services.scoring_model_create(
                        actor=actor, code=form.cleaned_data["code"], activate=form.cleaned_data["activate"],
                        reason=form.cleaned_data["reason"], **data,
                    )  # fmt: skip
                    messages.success(request, _("%(m)s created.") % {"m": target})
                else:
                    saved = services.scoring_model_edit(
                        actor=actor, model_id=model.pk, activate=form.cleaned_data["activate"],
                        reason=form.cleaned_data["reason"], **data,
                    )  # fmt: skip
                    if saved.new_version:
                        messages.success(
                            request,
                            _("Saved as %(m)s (%(s)s): %(old)s keeps the criteria its assessments were scored "
                              "with. Re-score the accounts to apply the new version.")
                            % {"m": saved.model, "s": saved.model.get_status_display(), "old": saved.replaced},
                        )  # fmt: skip
                    else:
                        messages.success(request, _("%(m)s saved.") % {"m": saved.model})
                    target = saved.model
                return redirect(f"{reverse('evaluation:models')}#model-{target.pk}")
            except DomainError as exc:
                row_errors, criteria_errors, rest = _split_criteria_errors(exc)
                if not exc.errors:
                    apply_domain_error(form, exc)
                for err in rest:
                    on_form = err.field in form.fields
                    form.add_error(err.field if on_form else None, err.message)
    else:
        initial: dict[str, Any] = {"scale_min": 1, "scale_max": 5, "strategic_min": 75, "key_min": 55,
                                   "basic_min": 30, "activate": False}  # fmt: skip
        rows = []
        if model is not None:
            initial.update(
                name=model.name, description=model.description, account_types=list(model.account_types),
                scale_min=model.scale_min, scale_max=model.scale_max, strategic_min=model.strategic_min,
                key_min=model.key_min, basic_min=model.basic_min,
            )  # fmt: skip
            rows = [
                {"key": c.key, "name": c.name, "weight": f"{c.weight.normalize():f}", "guidance": c.guidance,
                 "levels": "\n".join(str(x) for x in c.levels)}
                for c in model.criteria.all()
            ]  # fmt: skip
        form = ScoringModelForm(initial=initial, creating=creating)
    return render(
        request, "evaluation/model_form.html",
        {"form": form, "model": model, "rows": _editor_rows(rows, row_errors), "criteria_errors": criteria_errors,
         "uses": uses, "can_analyse": selectors.can_see_analysis(actor)},
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def model_create(request: HttpRequest) -> HttpResponse:
    return _model_editor(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def model_edit(request: HttpRequest, model_id: int) -> HttpResponse:
    try:
        model = selectors.scoring_model_get(actor=_actor(request), model_id=model_id)
    except NotFound:
        raise Http404 from None
    return _model_editor(request, model)


@login_required
@require_POST
def model_action(request: HttpRequest, model_id: int, action: str) -> HttpResponse:
    actor = _actor(request)
    try:
        if action == "version":
            model = services.scoring_model_new_version(actor=actor, model_id=model_id)
            messages.success(request, _("Draft version %(v)d created.") % {"v": model.version})
        elif action == "activate":
            model = services.scoring_model_activate(actor=actor, model_id=model_id)
            messages.success(request, _("%(m)s is now active. Re-score the accounts to apply it.") % {"m": model})
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("evaluation:models")


@login_required
@require_POST
def effort_refresh(request: HttpRequest) -> HttpResponse:
    if not selectors.can_see_analysis(_actor(request)):
        raise DjangoPermissionDenied(_("The KAM analysis is for leads, compliance and administrators."))
    tasks.effort_refresh_now.defer()
    messages.info(request, _("Effort figures are being recomputed; reload the page in a minute."))
    return redirect("evaluation:analysis")


@login_required
@require_POST
def rescore(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    try:
        run = services.rescore_run_start(actor=actor)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("evaluation:models")
    tasks.rescore_all.defer(run_id=run.pk)
    if getattr(request, "htmx", False):
        return render(request, "evaluation/_run.html", {"run": run})
    return redirect("evaluation:models")


@login_required
@require_GET
def rescore_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    try:
        run = selectors.rescore_run_get(actor=_actor(request), run_id=run_id)
    except NotFound:
        raise Http404 from None
    return render(request, "evaluation/_run.html", {"run": run, "RunStatus": RunStatus})


def chart_json(value: Any) -> str:
    return json.dumps(value)
