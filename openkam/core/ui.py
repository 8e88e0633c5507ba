"""View helpers shared by every app's pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paginate(request: HttpRequest, queryset: Any, per_page: int | None = None) -> Page:
    """The requested page of a queryset (bad or out-of-range page numbers give the nearest page)."""
    paginator = Paginator(queryset, per_page or settings.OPENKAM["PAGE_SIZE"])
    return paginator.get_page(request.GET.get("page"))
