"""Handover pages: choose whose work and to whom, preview what moves, hand over; past handovers and reports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openkam.core import selectors as core_selectors
from openkam.core.errors import DomainError, FieldError, NotFound
from openkam.core.forms import apply_domain_error
from openkam.core.models import JobStatus, User
from openkam.core.ui import paginate
from openkam.handover import selectors, services
from openkam.handover.forms import HandoverForm, ReportForm


def _manager(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not selectors.handover_can_manage(user):
        raise DjangoPermissionDenied(_("Only KAM leads and administrators hand work over."))
    return user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The handover page. GET ``?from_user=`` shows the person's book; POST ``step=preview`` shows what moves;
    POST ``step=perform`` (with the confirmation ticked) checks again, starts the handover as a job and opens its
    progress page."""
    actor = _manager(request)
    data = request.POST if request.method == "POST" else (request.GET if "from_user" in request.GET else None)
    book: list[selectors.BookAccount] = []
    raw_from = data.get("from_user") if data is not None else None
    if raw_from:
        try:
            person = selectors.handover_person_get(actor=actor, user_id=raw_from)
            book = selectors.handover_book(actor=actor, person=person)
        except NotFound:
            book = []
    choices = [(b.account.pk, b.account.name) for b in book]
    form = HandoverForm(data, actor=actor, book_ids=choices)
    preview = None
    if data is not None and form.is_valid():
        cd = dict(form.cleaned_data)  # a copy: add_error() drops a field from cleaned_data
        account_ids = cd["accounts"] or None
        perform = request.method == "POST" and request.POST.get("step") == "perform"
        refused = False
        if perform and cd["confirm"]:  # checked again by the start; the preview is only needed if it refuses
            try:
                job = services.handover_start(
                    actor=actor,
                    from_user_id=cd["from_user"],
                    to_user_id=cd["to_user"],
                    account_ids=account_ids,
                    reason=cd["reason"],
                )
                return redirect("handover:job", job.pk)
            except DomainError as exc:
                apply_domain_error(form, _on_form_fields(exc))
                refused = True
        try:
            preview = services.handover_preview(
                actor=actor, from_user_id=cd["from_user"], to_user_id=cd["to_user"], account_ids=account_ids
            )
            if perform and not cd["confirm"]:
                form.add_error("confirm", _("Tick the box to confirm you checked the preview."))
        except DomainError as exc:
            if not refused:  # the start already said why (the same reason)
                apply_domain_error(form, _on_form_fields(exc))
    page = paginate(request, selectors.handover_list(actor=actor), per_page=15)
    return render(
        request,
        "handover/home.html",
        {
            "form": form,
            "book": book,
            "preview": preview,
            "handovers": page,
            "page_obj": page,
            "under_way": selectors.handover_jobs_under_way(actor=actor),
        },
    )


def _on_form_fields(exc: DomainError) -> DomainError:
    """The services name API fields (``to_user_id``); show their errors next to the form's fields."""
    names = {"from_user_id": "from_user", "to_user_id": "to_user", "account_ids": "accounts"}
    for i, err in enumerate(exc.errors):
        if err.field in names:
            exc.errors[i] = FieldError(names[err.field], err.code, err.message)
    return exc


@login_required
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    """A handover under way: the job's progress card (polls itself) and, once it has finished, the result — the
    recorded handover with a link to its page and reports, or what went wrong (nothing was changed).
    ``?part=result`` answers only the result fragment (polled while the job runs)."""
    user = request.user
    assert isinstance(user, User)
    try:
        job = core_selectors.job_get(actor=user, job_id=job_id)
    except NotFound:
        raise Http404 from None
    if job.kind != services.PERFORM_KIND:
        raise Http404
    handover = None
    if job.status == JobStatus.DONE and job.summary.get("handover_id"):
        try:
            handover = selectors.handover_get(actor=user, handover_id=job.summary["handover_id"])
        except NotFound:
            handover = None
    context = {"job": job, "handover": handover, "params": job.params}
    if request.GET.get("part") == "result":
        return render(request, "handover/_job_result.html", context)
    return render(request, "handover/job.html", context)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    try:
        handover = selectors.handover_get(actor=user, handover_id=pk)
    except NotFound:
        raise Http404 from None
    accounts = selectors.handover_accounts(actor=user, handover=handover)
    return render(request, "handover/detail.html", {"handover": handover, "accounts": accounts})


@login_required
@require_POST
def report(request: HttpRequest, pk: int) -> HttpResponse:
    """Start the report (PDF) of one account (``account``) or of all accounts of a handover; answers the job's
    progress card (HTMX) or goes back to the handover's page."""
    user = request.user
    assert isinstance(user, User)
    form = ReportForm(request.POST)
    account = form.cleaned_data.get("account") if form.is_valid() else None
    try:
        job = services.handover_report_start(actor=user, handover_id=pk, account_id=account)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponse(format_html('<div class="alert alert-danger small">{}</div>', exc.message))
        messages.error(request, exc.message)
        return redirect("handover:detail", pk)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "core/_job.html", {"job": job})
    messages.info(request, _("The report is being prepared: see My jobs."))
    return redirect("handover:detail", pk)
