"""Plan exports (PDF, PowerPoint, Excel, customer PDF) as jobs, the customer version in the browser, and the
Excel import (upload → dry-run preview with row-level errors → import as a job, all rows or none)."""

from __future__ import annotations

import base64
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from openkam.core import services as core_services
from openkam.core.errors import DomainError, NotFound
from openkam.core.models import User
from openkam.plans import importers, selectors, services
from openkam.plans.document import plan_document
from openkam.plans.jobs import EXPORT_KINDS, IMPORT_KIND

EXPORT_LABELS = {
    "pdf": _("Plan as PDF"),
    "pptx": _("Plan as PowerPoint"),
    "xlsx": _("Objectives, tactics and actions as Excel"),
    "customer_pdf": _("Customer version as PDF"),
}


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _plan(request: HttpRequest, pk: int) -> Any:
    try:
        return selectors.plan_get(actor=_actor(request), plan_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
@require_POST
def plan_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """Start an export job; answer with its progress card (HTMX) or a page holding it."""
    if fmt not in EXPORT_KINDS:
        raise Http404(_("No such export."))
    plan = _plan(request, pk)
    label = f"{_(EXPORT_LABELS[fmt])}: {plan.name}"
    job = core_services.job_start(actor=_actor(request), kind=EXPORT_KINDS[fmt], label=label, params={"plan_id": pk})
    if request.headers.get("HX-Request"):
        return render(request, "core/_job.html", {"job": job})
    return render(request, "plans/export_started.html", {"plan": plan, "job": job, "title": _(EXPORT_LABELS[fmt])})


@login_required
def plan_customer_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer version in the browser: only what is shared with the customer, and the agreed measures."""
    try:
        doc = plan_document(actor=_actor(request), plan_id=pk, audience="customer")
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "plans/customer.html", {"doc": doc, "plan_id": pk})


@login_required
@require_http_methods(["GET", "POST"])
def plan_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload (GET form, POST file → preview) and confirm (POST with the previewed file → import job)."""
    actor = _actor(request)
    plan = _plan(request, pk)
    ctx: dict[str, Any] = {"plan": plan, "max_mb": importers.MAX_BYTES // (1024 * 1024)}
    if not services.plan_can_contribute(actor=actor, plan=plan):
        ctx["refused"] = _("This plan is closed or your role cannot change it, so nothing can be imported into it.")
        return render(request, "plans/import.html", ctx, status=403)
    if request.method == "GET":
        return render(request, "plans/import.html", ctx)
    if request.POST.get("confirm") and request.POST.get("file_b64"):
        try:
            data = base64.b64decode(request.POST["file_b64"], validate=True)
        except ValueError:
            ctx["error"] = _("The upload was damaged on the way; choose the file again.")
            return render(request, "plans/import.html", ctx, status=422)
        version = request.POST.get("version")
        try:
            kept = importers.upload_keep(data)
        except DomainError as exc:
            ctx["error"] = exc.message
            return render(request, "plans/import.html", ctx, status=422)
        job = core_services.job_start(
            actor=actor,
            kind=IMPORT_KIND,
            label=_("Import from Excel: %(plan)s") % {"plan": plan.name},
            params={
                "plan_id": pk,
                "upload": kept,
                "version": int(version) if version and version.isdigit() else None,
                "filename": request.POST.get("filename", "")[:200],
            },
        )
        return render(request, "plans/import_started.html", {"plan": plan, "job": job})
    upload = request.FILES.get("file")
    if upload is None:
        ctx["error"] = _("Choose an Excel file (.xlsx) to import.")
        return render(request, "plans/import.html", ctx, status=422)
    if upload.size and upload.size > importers.MAX_BYTES:
        ctx["error"] = _("The file is %(size).1f MB; the limit is %(limit)d MB.") % {
            "size": upload.size / 1024 / 1024,
            "limit": importers.MAX_BYTES // (1024 * 1024),
        }
        return render(request, "plans/import.html", ctx, status=422)
    data = upload.read(importers.MAX_BYTES + 1)
    try:
        preview = importers.plan_import_preview(actor=actor, plan_id=pk, data=data)
    except DomainError as exc:
        ctx["error"] = exc.message
        return render(request, "plans/import.html", ctx, status=422)
    ctx.update(
        {
            "preview": preview,
            "counts": preview.counts(),
            "filename": upload.name,
            "file_b64": base64.b64encode(data).decode("ascii") if preview.ok else "",
        }
    )
    return render(request, "plans/import_preview.html", ctx, status=200 if preview.ok else 422)
