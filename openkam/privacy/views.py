"""Personal-data pages (compliance, admin): find a person, see and export what is held, erase; retention."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from openkam.core.access import is_admin
from openkam.core.errors import DomainError, NotFound
from openkam.core.forms import BootstrapFormMixin, apply_domain_error
from openkam.core.models import User
from openkam.core.ui import file_response, paginate
from openkam.privacy import selectors, services
from openkam.stakeholders.selectors import stakeholder_list


class EraseForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("The request and its reference, e.g. “Erasure request of 2 March, ticket DP-114”."),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I confirm: erase this person's personal data. This cannot be undone."), required=False
    )


class RetentionForm(BootstrapFormMixin, forms.Form):
    days = forms.IntegerField(
        label=gettext_lazy("Keep superseded assessments for (days)"),
        required=False,
        min_value=1,
        max_value=36500,
        help_text=gettext_lazy("Empty: kept until deleted. Country rules (relationships settings) take precedence."),
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=255, required=False)


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not selectors.privacy_can_manage(user):
        raise DjangoPermissionDenied(_("Only compliance and administrators work with personal-data requests."))
    return user


def _retention_context(actor: User) -> dict[str, object]:
    from openkam.relationships.selectors import settings_get

    days = settings_get().assessment_retention_days
    return {
        "retention_days": days,
        "retention_form": RetentionForm(initial={"days": days}),
        "can_admin": is_admin(actor),
    }


def _person_context(data: dict[str, object], form: EraseForm, pk: int) -> dict[str, object]:
    """The page shows the export with labels (the JSON keeps the field names)."""
    return {"v": selectors.personal_data_for_people(data), "form": form, "pk": pk}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    q = request.GET.get("q", "").strip()[:100]
    page = paginate(request, stakeholder_list(actor=actor, q=q), per_page=25) if q else None
    return render(request, "privacy/home.html", {"q": q, "page_obj": page, **_retention_context(actor)})


@login_required
def person(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        data = selectors.stakeholder_personal_data(actor=actor, stakeholder_id=pk)
    except NotFound:
        raise Http404 from None
    return render(request, "privacy/person.html", _person_context(data, EraseForm(), pk))


@login_required
def export_json(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        data = selectors.stakeholder_personal_data(actor=actor, stakeholder_id=pk)
    except NotFound:
        raise Http404 from None
    body = json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode()
    name = f"personal-data-{pk}-{timezone.localdate():%Y-%m-%d}.json"
    return file_response(body, filename=name, content_type="application/json")


@login_required
@require_POST
def export_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        job = services.privacy_export_pdf_start(actor=actor, stakeholder_id=pk)
    except NotFound:
        raise Http404 from None
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "core/_job.html", {"job": job})
    messages.info(request, _("The PDF is being prepared: see My jobs."))
    return redirect("privacy:person", pk)


@login_required
@require_POST
def erase(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    form = EraseForm(request.POST)
    if form.is_valid():
        try:
            s = services.stakeholder_erase(
                actor=actor, stakeholder_id=pk, reason=form.cleaned_data["reason"], confirm=form.cleaned_data["confirm"]
            )
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The person's data was erased; the record now reads “%(n)s”.") % {"n": s})
            return redirect("privacy:person", pk)
    data = selectors.stakeholder_personal_data(actor=actor, stakeholder_id=pk)
    return render(request, "privacy/person.html", _person_context(data, form, pk), status=422)


@login_required
@require_POST
def retention(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = RetentionForm(request.POST)
    if form.is_valid():
        try:
            days = services.retention_set(
                actor=actor, days=form.cleaned_data["days"], reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                ngettext(
                    "Superseded assessments are now kept for %(d)s day.",
                    "Superseded assessments are now kept for %(d)s days.",
                    days,
                )
                % {"d": days}
                if days
                else _("Superseded assessments are now kept until deleted."),
            )
    else:
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("privacy:home")


@login_required
@require_POST
def retention_purge(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    try:
        job = services.retention_purge_start(actor=actor)
    except DomainError as exc:
        raise DjangoPermissionDenied(exc.message) from None
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "core/_job.html", {"job": job})
    return redirect("privacy:home")
