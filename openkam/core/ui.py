"""View helpers shared by every app's pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header


def paginate(request: HttpRequest, queryset: Any, per_page: int | None = None) -> Page:
    """The requested page of a queryset (bad or out-of-range page numbers give the nearest page)."""
    paginator = Paginator(queryset, per_page or settings.OPENKAM["PAGE_SIZE"])
    return paginator.get_page(request.GET.get("page"))


def file_response(data: bytes, *, filename: str, content_type: str = "") -> HttpResponse:
    """A download: ``data`` as an attachment named ``filename`` (non-ASCII names are encoded per RFC 6266)."""
    response = HttpResponse(data, content_type=content_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename) or ""
    response["Content-Length"] = str(len(data))
    return response
