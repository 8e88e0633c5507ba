"""Portfolio pages: the grouped catalogue, a product page, and the administrator's forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openkam.core.access import is_admin
from openkam.core.errors import DomainError, NotFound
from openkam.core.forms import apply_domain_error
from openkam.portfolio import selectors, services
from openkam.portfolio.forms import LINES_OF_THERAPY, IndicationForm, ProductForm, TherapeuticAreaForm
from openkam.portfolio.models import ProductStatus


def _found(fetch: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return fetch(**kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "core/forbidden.html", status=403)


@login_required
def portfolio_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in ProductStatus.values else ""
    q = request.GET.get("q", "").strip()[:200]
    areas = selectors.portfolio_overview(actor=request.user, status=status or None, q=q or None)  # type: ignore[arg-type]
    return render(
        request,
        "portfolio/list.html",
        {
            "areas": areas,
            "status": status,
            "q": q,
            "statuses": ProductStatus.choices,
            "filtered": bool(status or q),
            "product_total": sum(len(ta.product_rows) for ta in areas),
            "can_admin": is_admin(request.user),  # type: ignore[arg-type]
        },
    )


@login_required
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = _found(selectors.product_get, actor=request.user, product_id=pk)
    return render(
        request,
        "portfolio/product_detail.html",
        {
            "product": product,
            "indications": selectors.indication_list(actor=request.user, product=product),  # type: ignore[arg-type]
            "events": selectors.product_history(actor=request.user, product=product)[:50],  # type: ignore[arg-type]
            "can_admin": is_admin(request.user),  # type: ignore[arg-type]
        },
    )


def product_url(pk: int) -> str:
    return reverse("portfolio:product_detail", args=[pk])


def _render_form(request: HttpRequest, form: Any, *, title: str, cancel_url: str, **extra: Any) -> HttpResponse:
    ctx = {"form": form, "title": title, "cancel_url": cancel_url, "lines_of_therapy": LINES_OF_THERAPY, **extra}
    return render(request, "portfolio/form.html", ctx, status=400 if form.is_bound and form.errors else 200)


# --- therapeutic areas ---------------------------------------------------------------------------
@login_required
def ta_create(request: HttpRequest) -> HttpResponse:
    if not is_admin(request.user):  # type: ignore[arg-type]
        return _forbidden(request)
    form = TherapeuticAreaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ta = services.ta_create(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Therapeutic area “%(n)s” added.") % {"n": ta.name})
            return redirect("portfolio:list")
    return _render_form(request, form, title=_("New therapeutic area"), cancel_url=reverse("portfolio:list"))


@login_required
def ta_edit(request: HttpRequest, pk: int) -> HttpResponse:
    ta = _found(selectors.therapeutic_area_get, actor=request.user, ta_id=pk)
    if not is_admin(request.user):  # type: ignore[arg-type]
        return _forbidden(request)
    form = TherapeuticAreaForm(
        request.POST or None, initial={"name": ta.name, "code": ta.code, "description": ta.description}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.ta_update(actor=request.user, ta=ta, **form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Therapeutic area saved."))
            return redirect("portfolio:list")
    return _render_form(
        request, form, title=_("Edit therapeutic area “%(n)s”") % {"n": ta.name}, cancel_url=reverse("portfolio:list")
    )


# --- products ------------------------------------------------------------------------------------
@login_required
def product_create(request: HttpRequest) -> HttpResponse:
    if not is_admin(request.user):  # type: ignore[arg-type]
        return _forbidden(request)
    areas = selectors.therapeutic_area_list(actor=request.user)  # type: ignore[arg-type]
    form = ProductForm(
        request.POST or None, therapeutic_areas=areas, initial={"therapeutic_area": request.GET.get("ta")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Product “%(n)s” added. Now record its indications.") % {"n": product.name})
            return redirect("portfolio:product_detail", pk=product.pk)
    return _render_form(request, form, title=_("New product"), cancel_url=reverse("portfolio:list"))


@login_required
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = _found(selectors.product_get, actor=request.user, product_id=pk)
    if not is_admin(request.user):  # type: ignore[arg-type]
        return _forbidden(request)
    areas = selectors.therapeutic_area_list(actor=request.user)  # type: ignore[arg-type]
    initial = {
        "name": product.name,
        "generic_name": product.generic_name,
        "therapeutic_area": product.therapeutic_area_id,
        "status": product.status,
        "launch_date": product.launch_date,
        "ndc": product.ndc,
        "description": product.description,
    }
    form = ProductForm(request.POST or None, therapeutic_areas=areas, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_update(actor=request.user, product=product, **form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Product saved."))
            return redirect("portfolio:product_detail", pk=product.pk)
    return _render_form(
        request,
        form,
        title=_("Edit product “%(n)s”") % {"n": product.name},
        cancel_url=product_url(product.pk),
    )


# --- indications ---------------------------------------------------------------------------------
@login_required
def indication_create(request: HttpRequest, product_pk: int) -> HttpResponse:
    product = _found(selectors.product_get, actor=request.user, product_id=product_pk)
    if not is_admin(request.user):  # type: ignore[arg-type]
        return _forbidden(request)
    form = IndicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.indication_create(actor=request.user, product=product, **form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Indication added."))
            return redirect("portfolio:product_detail", pk=product.pk)
    return _render_form(
        request,
        form,
        title=_("New indication for %(p)s") % {"p": product.name},
        cancel_url=product_url(product.pk),
        product=product,
    )


@login_required
def indication_edit(request: HttpRequest, pk: int) -> HttpResponse:
    indication = _found(selectors.indication_get, actor=request.user, indication_id=pk)
    if not is_admin(request.user):  # type: ignore[arg-type]
        return _forbidden(request)
    initial = {
        "name": indication.name,
        "icd10": indication.icd10,
        "line_of_therapy": indication.line_of_therapy,
        "approved": indication.approved,
        "approval_date": indication.approval_date,
    }
    form = IndicationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.indication_update(actor=request.user, indication=indication, **form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Indication saved."))
            return redirect("portfolio:product_detail", pk=indication.product_id)
    return _render_form(
        request,
        form,
        title=_("Edit indication"),
        cancel_url=product_url(indication.product_id),
        product=indication.product,
        indication=indication,
    )


@login_required
@require_POST
def indication_delete(request: HttpRequest, pk: int) -> HttpResponse:
    indication = _found(selectors.indication_get, actor=request.user, indication_id=pk)
    try:
        services.indication_delete(actor=request.user, indication=indication)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, exc.message)
        if exc.status == 403:
            return _forbidden(request)
    else:
        messages.success(request, _("Indication “%(n)s” removed.") % {"n": indication.name})
    return redirect("portfolio:product_detail", pk=indication.product_id)
