"""Core pages: personal API tokens, audit trail (compliance), administration (users, teams, territories)."""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from openkam.core import selectors, services
from openkam.core.access import is_admin, sees_all_accounts
from openkam.core.errors import DomainError, FieldError
from openkam.core.forms import (
    DeactivateForm,
    PasswordResetForm,
    TeamForm,
    TerritoryForm,
    UserCreateForm,
    UserEditForm,
    apply_domain_error,
)
from openkam.core.models import Job, Role, User
from openkam.core.ui import file_response, paginate


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    new_key = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip() or "api"
        _token, new_key = services.api_token_create(actor=request.user, name=name)  # type: ignore[arg-type]
        messages.success(request, _("Token created. Copy it now: it will not be shown again."))
    return render(
        request,
        "core/tokens.html",
        {"tokens": selectors.api_token_list(actor=request.user), "new_key": new_key},  # type: ignore[arg-type]
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        services.api_token_revoke(actor=request.user, token_id=token_id)  # type: ignore[arg-type]
        messages.success(request, _("Token revoked."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("core:tokens")


PEOPLE_PICKER_LIMIT = 50


def person_label(user: User) -> str:
    """How a person is named in people pickers: "Kim Kam · Key account manager"."""
    return f"{user} · {user.get_role_display()}"


@login_required
@require_GET
def people_options(request: HttpRequest) -> HttpResponse:
    """``<option>`` rows for a people picker (HTMX): the people chosen now first (kept selected), then up to
    50 active users whose name matches ``q``.

    ``field`` names the parameter that carries the current choice (the select's own name, sent with
    ``hx-include``; several values for a multiple select). ``writers=1`` leaves out read-only roles.
    ``blank`` is the label of an empty first option (none without it). Names of colleagues are visible to
    every signed-in user; the services check the chosen id again.
    """
    actor: User = request.user  # type: ignore[assignment]
    q = request.GET.get("q", "").strip()
    writers = request.GET.get("writers") == "1"
    field = request.GET.get("field") or "selected"
    ids = [int(v) for v in request.GET.getlist(field) if v.isdigit() and len(v) < 19]
    chosen = list(selectors.user_list(actor=actor).filter(pk__in=ids)) if ids else []
    if writers:
        chosen = [u for u in chosen if u.role != Role.COMPLIANCE]
    chosen_ids = {u.pk for u in chosen}
    found = selectors.user_search(actor=actor, q=q, limit=PEOPLE_PICKER_LIMIT + 1, writers_only=writers)
    more = len(found) > PEOPLE_PICKER_LIMIT
    matches = [u for u in found[:PEOPLE_PICKER_LIMIT] if u.pk not in chosen_ids]
    parts = []
    if "blank" in request.GET:
        parts.append(format_html('<option value="">{}</option>', request.GET["blank"] or "—"))
    parts.append(
        format_html_join("", '<option value="{}" selected>{}</option>', ((u.pk, person_label(u)) for u in chosen))
    )
    parts.append(format_html_join("", '<option value="{}">{}</option>', ((u.pk, person_label(u)) for u in matches)))
    if more:
        note = _("— first %(n)s shown: type more of the name —") % {"n": PEOPLE_PICKER_LIMIT}
    elif q and not found:
        note = _("— nobody matches “%(q)s” —") % {"q": q}
    else:
        note = ""
    if note:
        parts.append(format_html('<option value="" disabled data-testid="people-note">{}</option>', note))
    return HttpResponse("".join(parts))


def _period(request: HttpRequest) -> tuple[datetime, datetime, str, str]:
    today = timezone.localdate()
    start = parse_date(request.GET.get("since", "") or "") or today - timedelta(days=30)
    end = parse_date(request.GET.get("until", "") or "") or today
    if end < start:
        start, end = end, start
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
        start.isoformat(),
        end.isoformat(),
    )


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    if not sees_all_accounts(request.user):  # type: ignore[arg-type]
        return render(request, "core/forbidden.html", status=403)
    since, until, s, u = _period(request)
    events = selectors.audit_trail(actor=request.user, since=since, until=until)  # type: ignore[arg-type]
    newest = events.reverse()[:200]  # the page shows the latest changes; the CSV export keeps time order
    return render(request, "core/audit.html", {"events": newest, "since": s, "until": u, "total": events.count()})


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def audit_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The audit trail of a period as CSV (streamed: any size)."""
    if not sees_all_accounts(request.user):  # type: ignore[arg-type]
        return render(request, "core/forbidden.html", status=403)
    since, until, s, u = _period(request)
    events = selectors.audit_trail(actor=request.user, since=since, until=until)  # type: ignore[arg-type]
    writer = csv.writer(_Echo())

    def rows():  # type: ignore[no-untyped-def]
        yield writer.writerow(
            ["when", "event", "model", "object_id", "user", "action", "reason", "request_id", "changes", "data",
             "steps"]
        )  # fmt: skip
        for e in events.iterator(chunk_size=2000):
            ctx = e.pgh_context or {}
            yield writer.writerow(
                [
                    e.pgh_created_at.isoformat(),
                    e.pgh_label,
                    e.pgh_obj_model,
                    e.pgh_obj_id,
                    ctx.get("username", ""),
                    ctx.get("action", ""),
                    ctx.get("reason", ""),
                    ctx.get("request_id", ""),
                    e.pgh_diff or "",
                    e.pgh_data,
                    " ".join(ctx.get("steps", [])),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="openkam-audit-{s}-to-{u}.csv"'
    return response


# --- administration (admin role only) ----------------------------------------------------------------
def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in administrators only; everyone else gets the 403 page (the area is not in their menu)."""

    @functools.wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_admin(request.user):  # type: ignore[arg-type]
            return render(request, "core/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


_FORM_FIELDS = {"team_id": "team", "manager_id": "manager", "territory_ids": "territories"}


def _apply_error(form: Any, exc: DomainError) -> None:
    """Service field names (``team_id``, ``manager_id``, ``territory_ids``) → the form's fields, shown there."""
    exc.errors = [FieldError(_FORM_FIELDS.get(e.field, e.field), e.code, e.message) for e in exc.errors]
    apply_domain_error(form, exc)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@admin_required
def admin_home(request: HttpRequest) -> HttpResponse:
    actor = request.user
    users = selectors.user_admin_list(actor=actor)  # type: ignore[arg-type]
    role_counts = selectors.user_role_counts(actor=actor)  # type: ignore[arg-type]
    context = {
        "active_users": users.filter(is_active=True).count(),
        "inactive_users": users.filter(is_active=False).count(),
        "team_count": selectors.team_list(actor=actor).count(),  # type: ignore[arg-type]
        "territory_count": selectors.territory_list(actor=actor).count(),  # type: ignore[arg-type]
        "roles": [(Role(value).label, value, n) for value, n in role_counts.items()],
        "without_team": users.filter(is_active=True, team__isnull=True).count(),
        "events": selectors.admin_recent_changes(actor=actor, limit=12),  # type: ignore[arg-type]
        "admin_tab": "home",
    }
    return render(request, "core/admin/home.html", context)


@admin_required
def user_list(request: HttpRequest) -> HttpResponse:
    actor = request.user
    status = request.GET.get("status", "active")
    active = {"active": True, "inactive": False}.get(status)
    role = request.GET.get("role", "")
    users = selectors.user_admin_list(
        actor=actor,  # type: ignore[arg-type]
        q=request.GET.get("q", ""),
        role=role if role in Role.values else "",
        team_id=_int_or_none(request.GET.get("team")),
        manager_id=_int_or_none(request.GET.get("manager")),
        active=active,
    )
    context = {
        "page_obj": paginate(request, users),
        "roles": Role.choices,
        "teams": selectors.team_list(actor=actor),  # type: ignore[arg-type]
        "managers": selectors.user_list(actor=actor).filter(reports__isnull=False).distinct(),  # type: ignore[arg-type]
        "filters": request.GET,
        "status": status,
        "admin_tab": "users",
    }
    return render(request, "core/admin/user_list.html", context)


def _user_form_choices(actor: Any, exclude: int | None = None) -> dict[str, Any]:
    managers = selectors.user_list(actor=actor)
    if exclude is not None:
        managers = managers.exclude(pk=exclude)
    return {"teams": selectors.team_list(actor=actor), "managers": managers}


@admin_required
def user_create(request: HttpRequest) -> HttpResponse:
    actor = request.user
    form = UserCreateForm(request.POST or None, **_user_form_choices(actor))
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                actor=actor,  # type: ignore[arg-type]
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                **form.service_fields(),
            )
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("%(u)s can now sign in as “%(n)s”.") % {"u": user, "n": user.username})
            return redirect("core:user_edit", user_id=user.pk)
    return render(request, "core/admin/user_form.html", {"form": form, "admin_tab": "users"})


@admin_required
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = request.user
    try:
        subject = selectors.user_get(actor=actor, user_id=user_id)  # type: ignore[arg-type]
    except DomainError:
        raise Http404 from None
    initial = {
        "first_name": subject.first_name,
        "last_name": subject.last_name,
        "email": subject.email,
        "title": subject.title,
        "role": subject.role,
        "team": subject.team_id,
        "manager": subject.manager_id,
    }
    form = UserEditForm(request.POST or None, initial=initial, **_user_form_choices(actor, exclude=subject.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(
                actor=actor,  # type: ignore[arg-type]
                user_id=subject.pk,
                reason=form.cleaned_data["reason"],
                **form.service_fields(),
            )
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("Changes to %(u)s saved.") % {"u": subject})
            return redirect("core:user_edit", user_id=subject.pk)
    context = {
        "form": form,
        "subject": subject,
        "password_form": PasswordResetForm(),
        "deactivate_form": DeactivateForm(),
        "reports": subject.reports.order_by("last_name", "first_name"),
        "events": selectors.object_history(obj=subject)[:20],
        "admin_tab": "users",
    }
    return render(request, "core/admin/user_edit.html", context)


@admin_required
@require_POST
def user_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    form = DeactivateForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        user = services.user_deactivate(actor=request.user, user_id=user_id, reason=reason)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(u)s is deactivated and can no longer sign in.") % {"u": user})
    return redirect("core:user_edit", user_id=user_id)


@admin_required
@require_POST
def user_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    form = DeactivateForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        user = services.user_reactivate(actor=request.user, user_id=user_id, reason=reason)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(u)s is active again and can sign in.") % {"u": user})
    return redirect("core:user_edit", user_id=user_id)


@admin_required
@require_POST
def user_password(request: HttpRequest, user_id: int) -> HttpResponse:
    form = PasswordResetForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("core:user_edit", user_id=user_id)
    try:
        user = services.user_set_password(
            actor=request.user,  # type: ignore[arg-type]
            user_id=user_id,
            password=form.cleaned_data["password"],
        )
    except DomainError as exc:
        for err in exc.errors or []:
            messages.error(request, err.message)
        if not exc.errors:
            messages.error(request, exc.message)
    else:
        if user.pk == request.user.pk:
            update_session_auth_hash(request, user)  # keep the administrator signed in
        messages.success(request, _("New password set for %(u)s. Tell them in person or by phone.") % {"u": user})
    return redirect("core:user_edit", user_id=user_id)


@admin_required
def team_list(request: HttpRequest) -> HttpResponse:
    teams = selectors.team_list(actor=request.user, q=request.GET.get("q", ""))  # type: ignore[arg-type]
    return render(request, "core/admin/team_list.html", {"page_obj": paginate(request, teams), "admin_tab": "teams"})


def _team_form(request: HttpRequest, team: Any = None) -> HttpResponse:
    actor = request.user
    initial = {"name": team.name, "territories": [t.pk for t in team.territories.all()]} if team else None
    form = TeamForm(request.POST or None, initial=initial, territories=selectors.territory_list(actor=actor))  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        territory_ids = [t.pk for t in form.cleaned_data["territories"]]
        try:
            if team is None:
                team = services.team_create(
                    actor=actor,  # type: ignore[arg-type]
                    name=form.cleaned_data["name"],
                    territory_ids=territory_ids,
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, _("Team “%(t)s” created.") % {"t": team})
            else:
                team = services.team_update(
                    actor=actor,  # type: ignore[arg-type]
                    team_id=team.pk,
                    name=form.cleaned_data["name"],
                    territory_ids=territory_ids,
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, _("Team “%(t)s” saved.") % {"t": team})
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            return redirect("core:team_list")
    context = {
        "form": form,
        "team": team,
        "members": team.members.order_by("-is_active", "last_name", "first_name") if team else [],
        "events": selectors.object_history(obj=team)[:10] if team else [],
        "admin_tab": "teams",
    }
    return render(request, "core/admin/team_form.html", context)


@admin_required
def team_create(request: HttpRequest) -> HttpResponse:
    return _team_form(request)


@admin_required
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    try:
        team = selectors.team_get(actor=request.user, team_id=team_id)  # type: ignore[arg-type]
    except DomainError:
        raise Http404 from None
    return _team_form(request, team)


@admin_required
def territory_list(request: HttpRequest) -> HttpResponse:
    territories = selectors.territory_list(actor=request.user, q=request.GET.get("q", ""))  # type: ignore[arg-type]
    return render(
        request,
        "core/admin/territory_list.html",
        {"page_obj": paginate(request, territories), "admin_tab": "territories"},
    )


def _territory_form(request: HttpRequest, territory: Any = None) -> HttpResponse:
    actor = request.user
    initial = {k: getattr(territory, k) for k in ("code", "name", "country", "description")} if territory else None
    form = TerritoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        try:
            if territory is None:
                territory = services.territory_create(actor=actor, reason=reason, **data)  # type: ignore[arg-type]
                messages.success(request, _("Territory “%(t)s” created.") % {"t": territory})
            else:
                territory = services.territory_update(
                    actor=actor,  # type: ignore[arg-type]
                    territory_id=territory.pk,
                    reason=reason,
                    **data,
                )
                messages.success(request, _("Territory “%(t)s” saved.") % {"t": territory})
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return redirect("core:territory_list")
    context = {
        "form": form,
        "territory": territory,
        "events": selectors.object_history(obj=territory)[:10] if territory else [],
        "admin_tab": "territories",
    }
    return render(request, "core/admin/territory_form.html", context)


@admin_required
def territory_create(request: HttpRequest) -> HttpResponse:
    return _territory_form(request)


@admin_required
def territory_edit(request: HttpRequest, territory_id: int) -> HttpResponse:
    try:
        territory = selectors.territory_get(actor=request.user, territory_id=territory_id)  # type: ignore[arg-type]
    except DomainError:
        raise Http404 from None
    return _territory_form(request, territory)


# --- jobs: progress and downloads of long work ---------------------------------------------------------
@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.job_list(actor=request.user)  # type: ignore[arg-type]
    return render(request, "core/jobs.html", {"jobs": jobs})


def _own_job(request: HttpRequest, job_id: int, *, with_result: bool = False) -> Job:
    """One of the reader's own jobs; anything else is a 404 (jobs are private to whoever asked for them)."""
    try:
        return selectors.job_get(actor=request.user, job_id=job_id, with_result=with_result)  # type: ignore[arg-type]
    except DomainError:
        raise Http404 from None


@login_required
@require_GET
def job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress card of one job (HTMX polls it until the job is finished)."""
    return render(request, "core/_job.html", {"job": _own_job(request, job_id)})


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    """Cancel one of your jobs while it waits for the worker; answers the job's card (HTMX) or goes back."""
    job = _own_job(request, job_id)
    try:
        job = services.job_cancel(actor=request.user, job_id=job.pk)  # type: ignore[arg-type]
    except DomainError as exc:
        if request.htmx:  # type: ignore[attr-defined]
            return render(request, "core/_job.html", {"job": _own_job(request, job_id), "job_error": exc.message})
        messages.error(request, exc.message)
        return redirect("core:jobs")
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "core/_job.html", {"job": job})
    messages.success(request, _("Cancelled: %(label)s.") % {"label": job.label})
    return redirect("core:jobs")


@login_required
@require_GET
def job_download(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _own_job(request, job_id, with_result=True)
    if not job.has_file:
        raise Http404
    return file_response(bytes(job.result or b""), filename=job.result_name, content_type=job.result_type)
