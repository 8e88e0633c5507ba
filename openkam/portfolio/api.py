"""Portfolio API: therapeutic areas, products and indications. Everyone reads; administrators write."""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from openkam.core.api import ErrorOut, Page
from openkam.portfolio import selectors, services
from openkam.portfolio.models import ProductStatus

router = Router(tags=["portfolio"])


# --- schemas -------------------------------------------------------------------------------------
class TherapeuticAreaOut(Schema):
    id: int
    code: str
    name: str
    description: str
    product_count: int = 0
    updated_at: datetime


class TherapeuticAreaIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    description: str = ""


class TherapeuticAreaPatch(Schema):
    code: str | None = Field(None, max_length=40)
    name: str | None = Field(None, max_length=200)
    description: str | None = None


class TherapeuticAreaRef(Schema):
    id: int
    code: str
    name: str


class ProductOut(Schema):
    id: int
    name: str = Field(description="Brand name")
    generic_name: str
    therapeutic_area: TherapeuticAreaRef
    status: ProductStatus
    launch_date: date | None
    ndc: str
    description: str
    indication_count: int = 0
    approved_indication_count: int = 0
    updated_at: datetime


class ProductIn(Schema):
    name: str = Field(min_length=1, max_length=200, description="Brand name (unique)")
    generic_name: str = Field(min_length=1, max_length=200)
    therapeutic_area: int = Field(description="Therapeutic area id")
    status: ProductStatus = ProductStatus.MARKETED
    launch_date: date | None = None
    ndc: str = Field("", max_length=20)
    description: str = ""


class ProductPatch(Schema):
    name: str | None = Field(None, max_length=200)
    generic_name: str | None = Field(None, max_length=200)
    therapeutic_area: int | None = None
    status: ProductStatus | None = None
    launch_date: date | None = None
    ndc: str | None = Field(None, max_length=20)
    description: str | None = None


class ProductFilters(Schema):
    ta: int | None = Field(None, description="Therapeutic area id")
    status: ProductStatus | None = None
    q: str | None = Field(None, max_length=200, description="Brand, generic name or NDC contains")


class ProductRef(Schema):
    id: int
    name: str


class IndicationOut(Schema):
    id: int
    product: ProductRef
    name: str
    icd10: str
    line_of_therapy: str
    approved: bool
    approval_date: date | None
    updated_at: datetime


class IndicationIn(Schema):
    product: int = Field(description="Product id")
    name: str = Field(min_length=1, max_length=255)
    icd10: str = Field("", max_length=20)
    line_of_therapy: str = Field("", max_length=50)
    approved: bool = True
    approval_date: date | None = None


class IndicationPatch(Schema):
    name: str | None = Field(None, max_length=255)
    icd10: str | None = Field(None, max_length=20)
    line_of_therapy: str | None = Field(None, max_length=50)
    approved: bool | None = None
    approval_date: date | None = None


class IndicationFilters(Schema):
    product: int | None = None
    approved: bool | None = None


_WRITE = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- therapeutic areas ---------------------------------------------------------------------------
@router.get("/therapeutic-areas", response=list[TherapeuticAreaOut])
@paginate(Page)
def therapeutic_area_list(request: HttpRequest) -> Any:
    """Every therapeutic area, by name."""
    return selectors.therapeutic_area_list(actor=request.user)  # type: ignore[arg-type]


@router.get("/therapeutic-areas/{ta_id}", response={200: TherapeuticAreaOut, 404: ErrorOut})
def therapeutic_area_get(request: HttpRequest, ta_id: int) -> Any:
    return selectors.therapeutic_area_get(actor=request.user, ta_id=ta_id)  # type: ignore[arg-type]


@router.post("/therapeutic-areas", response={201: TherapeuticAreaOut, **_WRITE})
def therapeutic_area_create(request: HttpRequest, payload: TherapeuticAreaIn) -> Any:
    """Add a therapeutic area (administrators). Code and name are unique."""
    ta = services.ta_create(actor=request.user, **payload.model_dump())  # type: ignore[arg-type]
    return Status(201, selectors.therapeutic_area_get(actor=request.user, ta_id=ta.pk))  # type: ignore[arg-type]


@router.patch("/therapeutic-areas/{ta_id}", response={200: TherapeuticAreaOut, **_WRITE})
def therapeutic_area_update(request: HttpRequest, ta_id: int, payload: TherapeuticAreaPatch) -> Any:
    ta = selectors.therapeutic_area_get(actor=request.user, ta_id=ta_id)  # type: ignore[arg-type]
    services.ta_update(actor=request.user, ta=ta, **payload.model_dump(exclude_unset=True))  # type: ignore[arg-type]
    return selectors.therapeutic_area_get(actor=request.user, ta_id=ta_id)  # type: ignore[arg-type]


# --- products ------------------------------------------------------------------------------------
@router.get("/products", response=list[ProductOut])
@paginate(Page)
def product_list(request: HttpRequest, filters: Query[ProductFilters]) -> Any:
    """Products by brand name; filter by therapeutic area (``ta``), ``status`` or text (``q``)."""
    return selectors.product_list(
        actor=request.user,  # type: ignore[arg-type]
        therapeutic_area=filters.ta,
        status=filters.status,
        q=filters.q,
    )


@router.get("/products/{product_id}", response={200: ProductOut, 404: ErrorOut})
def product_get(request: HttpRequest, product_id: int) -> Any:
    return selectors.product_get(actor=request.user, product_id=product_id)  # type: ignore[arg-type]


@router.post("/products", response={201: ProductOut, **_WRITE})
def product_create(request: HttpRequest, payload: ProductIn) -> Any:
    """Add a product (administrators). The brand name is unique; the NDC is checked for format."""
    product = services.product_create(actor=request.user, **payload.model_dump())  # type: ignore[arg-type]
    return Status(201, selectors.product_get(actor=request.user, product_id=product.pk))  # type: ignore[arg-type]


@router.patch("/products/{product_id}", response={200: ProductOut, **_WRITE})
def product_update(request: HttpRequest, product_id: int, payload: ProductPatch) -> Any:
    product = selectors.product_get(actor=request.user, product_id=product_id)  # type: ignore[arg-type]
    services.product_update(actor=request.user, product=product, **payload.model_dump(exclude_unset=True))  # type: ignore[arg-type]
    return selectors.product_get(actor=request.user, product_id=product_id)  # type: ignore[arg-type]


# --- indications ---------------------------------------------------------------------------------
@router.get("/indications", response=list[IndicationOut])
@paginate(Page)
def indication_list(request: HttpRequest, filters: Query[IndicationFilters]) -> Any:
    """Indications by product; filter by ``product`` id or ``approved``."""
    return selectors.indication_list(
        actor=request.user,  # type: ignore[arg-type]
        product=filters.product,
        approved=filters.approved,
    )


@router.get("/indications/{indication_id}", response={200: IndicationOut, 404: ErrorOut})
def indication_get(request: HttpRequest, indication_id: int) -> Any:
    return selectors.indication_get(actor=request.user, indication_id=indication_id)  # type: ignore[arg-type]


@router.post("/indications", response={201: IndicationOut, **_WRITE})
def indication_create(request: HttpRequest, payload: IndicationIn) -> Any:
    """Add an indication to a product (administrators). Names are unique per product."""
    return Status(201, services.indication_create(actor=request.user, **payload.model_dump()))  # type: ignore[arg-type]


@router.patch("/indications/{indication_id}", response={200: IndicationOut, **_WRITE})
def indication_update(request: HttpRequest, indication_id: int, payload: IndicationPatch) -> Any:
    indication = selectors.indication_get(actor=request.user, indication_id=indication_id)  # type: ignore[arg-type]
    return services.indication_update(
        actor=request.user,  # type: ignore[arg-type]
        indication=indication,
        **payload.model_dump(exclude_unset=True),
    )


@router.delete("/indications/{indication_id}", response={204: None, **_WRITE})
def indication_delete(request: HttpRequest, indication_id: int) -> Any:
    """Remove an indication recorded by mistake (administrators; its history stays)."""
    indication = selectors.indication_get(actor=request.user, indication_id=indication_id)  # type: ignore[arg-type]
    services.indication_delete(actor=request.user, indication=indication)  # type: ignore[arg-type]
    return Status(204, None)
