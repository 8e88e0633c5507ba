"""Core pages: home, personal API tokens, audit trail (compliance), object history partial."""

from __future__ import annotations

import csv
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openkam.core import selectors, services
from openkam.core.access import sees_all_accounts
from openkam.core.errors import DomainError


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("accounts:list")


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
    return render(request, "core/audit.html", {"events": events[:200], "since": s, "until": u, "total": events.count()})


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
            ["when", "event", "model", "object_id", "user", "action", "reason", "request_id", "changes", "data"]
        )
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
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="openkam-audit-{s}-to-{u}.csv"'
    return response
