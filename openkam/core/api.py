"""API base: the NinjaAPI object, authentication, error format, and the auth endpoints.

Each app defines ``router`` in its ``api.py``; ``config/api.py`` mounts them under ``/api/v1/``.
Errors always come back as ``{"code", "message", "errors": [{"field", "code", "message"}]}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError
from ninja.errors import HttpError as NinjaHttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PageNumberPagination
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import Field

from openkam.core import selectors, services
from openkam.core.errors import DomainError


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>`` from ``POST /api/v1/auth/token``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = services.api_token_authenticate(key=token)
        if user is not None:
            request.user = user
        return user


class SessionCookie(APIKeyCookie):
    """The browser session (for HTMX and the interactive docs); CSRF is checked on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


api = NinjaAPI(
    title="OpenKAM API",
    version="1",
    description="Key Account Management for life sciences. Every list is paginated and restricted to what "
    "the caller may see; an out-of-scope id answers 404.",
    urls_namespace="api",
    auth=[BearerToken(), SessionCookie()],
)


class FieldErrorOut(Schema):
    field: str
    code: str
    message: str


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[FieldErrorOut] = []


def _error(
    request: HttpRequest, status: int, code: str, message: str, errors: list[dict[str, str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "errors": errors or []}, status=status)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "path", "filters")]
        errors.append(
            {
                "field": ".".join(loc) or "__all__",
                "code": str(err.get("type", "invalid")),
                "message": str(err.get("msg", "")),
            }
        )
    first = errors[0] if errors else {"field": "", "message": "Invalid input."}
    return _error(request, 422, "validation_failed", f"{first['field']}: {first['message']}", errors)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "Authentication required: send 'Authorization: Bearer <token>'.")


@api.exception_handler(NinjaHttpError)
def _http_error(request: HttpRequest, exc: NinjaHttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc))


# --- auth endpoints -------------------------------------------------------------------------------
auth_router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(default="api", max_length=100)


class TokenOut(Schema):
    token: str
    id: int
    name: str


class TokenInfoOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@auth_router.post("/token", auth=None, response={200: TokenOut, 403: ErrorOut, 422: ErrorOut})
def token_issue(request: HttpRequest, payload: TokenIn) -> Any:
    """Exchange username and password for a personal bearer token (shown once)."""
    token, key = services.api_token_issue(username=payload.username, password=payload.password, name=payload.name)
    return {"token": key, "id": token.pk, "name": token.name}


@auth_router.get("/tokens", response=list[TokenInfoOut])
def token_list(request: HttpRequest) -> Any:
    """The caller's own tokens (keys are never shown again)."""
    return selectors.api_token_list(actor=request.user)  # type: ignore[arg-type]


@auth_router.delete("/tokens/{token_id}", response={200: TokenInfoOut, 404: ErrorOut})
def token_revoke(request: HttpRequest, token_id: int) -> Any:
    """Revoke a token; it stops working at once."""
    return services.api_token_revoke(actor=request.user, token_id=token_id)  # type: ignore[arg-type]


api.add_router("/auth", auth_router)


# --- pagination shared by every list endpoint ----------------------------------------------------
class Page(PageNumberPagination):
    """``?page=N&page_size=M`` (default 50, max 200) → ``{"items": [...], "count": total}``.

    Use as ``@paginate(Page)`` on list endpoints.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(page_size=50, max_page_size=200, **kwargs)
