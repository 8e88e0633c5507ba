"""Request id and audit context for every request."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pghistory
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Give every request an id (or keep a sane incoming one) and echo it in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if incoming and len(incoming) <= 64 and incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = rid
        return response


class AuditContextMiddleware:
    """Attach the request id, URL and (session) user to every audit event written during a request.

    API requests authenticated by token set the user in the service layer (``audit_action``), which
    nests inside this context.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
        meta: dict[str, object] = {
            "request_id": getattr(request, "request_id", ""),
            "url": request.path,
            "method": request.method,
        }
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            meta["user"] = user.pk
            meta["username"] = user.get_username()
        with pghistory.context(**meta):
            return self.get_response(request)
