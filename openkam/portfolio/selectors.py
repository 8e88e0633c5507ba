"""Portfolio reads. Reference data: every signed-in, active user reads all of it."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from pghistory.models import Events

from openkam.core.errors import NotFound
from openkam.core.models import User
from openkam.portfolio.models import Indication, Product, TherapeuticArea


def _readable(actor: User) -> bool:
    return bool(actor.is_active)


def therapeutic_area_list(*, actor: User) -> QuerySet[TherapeuticArea]:
    """Every therapeutic area, by name, annotated with ``product_count``."""
    if not _readable(actor):
        return TherapeuticArea.objects.none()
    return TherapeuticArea.objects.annotate(product_count=Count("products")).order_by("name")


def therapeutic_area_get(*, actor: User, ta_id: int) -> TherapeuticArea:
    ta = therapeutic_area_list(actor=actor).filter(pk=ta_id).first()
    if ta is None:
        raise NotFound(_("No such therapeutic area."), code="therapeutic_area_not_found")
    return ta


def product_list(
    *,
    actor: User,
    therapeutic_area: TherapeuticArea | int | None = None,
    status: str | None = None,
    q: str | None = None,
) -> QuerySet[Product]:
    """Products by brand name, optionally of one therapeutic area, one status, or matching ``q``
    (brand, generic name or NDC). Annotated with ``indication_count`` and ``approved_indication_count``."""
    if not _readable(actor):
        return Product.objects.none()
    qs = Product.objects.select_related("therapeutic_area").annotate(
        indication_count=Count("indications"),
        approved_indication_count=Count("indications", filter=Q(indications__approved=True)),
        unapproved_indication_count=Count("indications", filter=Q(indications__approved=False)),
    )
    if therapeutic_area is not None:
        qs = qs.filter(therapeutic_area_id=getattr(therapeutic_area, "pk", therapeutic_area))
    if status:
        qs = qs.filter(status=status)
    if q and q.strip():
        term = q.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(generic_name__icontains=term) | Q(ndc__icontains=term))
    return qs.order_by("name")


def product_get(*, actor: User, product_id: int) -> Product:
    product = product_list(actor=actor).filter(pk=product_id).first()
    if product is None:
        raise NotFound(_("No such product."), code="product_not_found")
    return product


def indication_list(
    *, actor: User, product: Product | int | None = None, approved: bool | None = None
) -> QuerySet[Indication]:
    """Indications, by product then name; optionally of one product, or only (un)approved ones."""
    if not _readable(actor):
        return Indication.objects.none()
    qs = Indication.objects.select_related("product", "product__therapeutic_area")
    if product is not None:
        qs = qs.filter(product_id=getattr(product, "pk", product))
    if approved is not None:
        qs = qs.filter(approved=approved)
    return qs.order_by("product__name", "-approved", "name")


def indication_get(*, actor: User, indication_id: int) -> Indication:
    indication = indication_list(actor=actor).filter(pk=indication_id).first()
    if indication is None:
        raise NotFound(_("No such indication."), code="indication_not_found")
    return indication


def portfolio_overview(*, actor: User, status: str | None = None, q: str | None = None) -> list[Any]:
    """Therapeutic areas with their products (``ta.product_rows``) and each product's indications
    (``product.indication_rows``), in three queries whatever the size. With a filter, areas without a
    matching product are left out."""
    products = product_list(actor=actor, status=status, q=q).prefetch_related(
        Prefetch(
            "indications",
            queryset=Indication.objects.order_by("-approved", "name"),
            to_attr="indication_rows",
        )
    )
    areas: list[Any] = list(
        therapeutic_area_list(actor=actor).prefetch_related(
            Prefetch("products", queryset=products, to_attr="product_rows")
        )
    )
    if status or (q and q.strip()):
        areas = [ta for ta in areas if ta.product_rows]
    return areas


def product_history(*, actor: User, product: Product) -> QuerySet[Any]:
    """Every recorded change of a product and of its indications (deleted ones included), newest first.

    ``product`` comes from :func:`product_get`.
    """
    if not _readable(actor):
        return Events.objects.none()
    return (
        Events.objects.across(Product.pgh_event_model, Indication.pgh_event_model)  # type: ignore[attr-defined]
        .filter(
            Q(pgh_obj_model="portfolio.Product", pgh_obj_id=str(product.pk))
            | Q(pgh_obj_model="portfolio.Indication", pgh_data__product_id=product.pk)
        )
        .order_by("-pgh_created_at", "-pgh_id")
    )
