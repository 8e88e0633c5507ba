"""API base: the NinjaAPI object, authentication, error format, and the auth endpoints.

Each app defines ``router`` in its ``api.py``; ``config/api.py`` mounts them under ``/api/v1/``.
Errors always come back as ``{"code", "message", "errors": [{"field", "code", "message"}]}`` — also for an unknown
path (404), a method an endpoint does not take (405), a body that is not a JSON object (400) and NUL characters
(422) — and are documented in the schema. ``tests/api/test_fuzz.py`` (Schemathesis) holds the API to that.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponsePermanentRedirect
from django.urls import Resolver404, URLPattern, URLResolver, re_path, resolve
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError
from ninja.errors import HttpError as NinjaHttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PageNumberPagination
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import BaseModel, Field

from openkam.core import selectors, services
from openkam.core.errors import DomainError, FieldError, ValidationFailed


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


# Answers the framework gives on its own, before a handler runs; the schema documents them on every operation
# they can come from (handlers declare the domain ones: 400 rule, 403, 404, 409, 422 from a service).
_FRAMEWORK_ERRORS = {
    "400": "Bad Request (the body is not a JSON object, or the request is malformed or has too many parameters)",
    "401": "Unauthorized (no valid token or session)",
    "422": "Unprocessable Entity (a parameter or field is invalid)",
}


class OpenKamAPI(NinjaAPI):
    """NinjaAPI whose every answer under ``/api/v1/`` is JSON in the error format and documented.

    - A path no endpoint matches answers 404 ``not_found`` (instead of the site's HTML page); a method the
      endpoint does not take answers 405 ``method_not_allowed`` with ``Allow`` (instead of ninja's plain text).
    - The schema documents the framework's own answers on each operation: 401 when it needs authentication,
      422 when it takes parameters or a body (input validation), 400 when it takes a JSON body (not an object) or
      query parameters (Django refuses more than DATA_UPLOAD_MAX_NUMBER_FIELDS of them: ``handler400`` answers JSON).
    """

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                codes = []
                if operation.get("security"):
                    codes.append("401")
                if operation.get("parameters") or operation.get("requestBody"):
                    codes.append("422")
                if operation.get("requestBody") or any(p.get("in") == "query" for p in operation.get("parameters", [])):
                    codes.append("400")
                responses = operation.setdefault("responses", {})  # keyed by int status codes
                for code in codes:
                    if code not in {str(k) for k in responses}:
                        responses[int(code)] = {**error, "description": _FRAMEWORK_ERRORS[code]}
                operation["responses"] = dict(sorted(responses.items(), key=lambda item: int(item[0])))
        return schema

    def _get_urls(self) -> list[URLPattern | URLResolver]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _json_not_allowed(pattern.callback)
        urls.append(re_path(r"", _no_such_endpoint, name="no-such-endpoint"))
        return urls


def _json_not_allowed(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)  # keeps csrf_exempt
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = _error(request, 405, "method_not_allowed", f"Method not allowed; use {allowed}.")
            response["Allow"] = allowed
        return response

    return wrapper


@csrf_exempt
def _no_such_endpoint(request: HttpRequest) -> HttpResponse:
    # Like CommonMiddleware's APPEND_SLASH (which a matching catch-all disables): GET /api/v1/accounts redirects.
    if settings.APPEND_SLASH and request.method in ("GET", "HEAD") and not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != "no-such-endpoint":
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return _error(request, 404, "not_found", "No such endpoint.")


# --- NUL characters: PostgreSQL can neither store nor compare them ------------------------------
NUL = "\x00"


class NulSafeParser(Parser):
    """Drops NUL characters where they cannot matter: in query strings (filters and searches) and in a body's
    ``reason`` (the audit note). Anywhere else in a body :func:`refuse_nul` answers 422 naming the field."""

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str], request: HttpRequest) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        return {key: _without_nul(value) for key, value in parsed.items()}

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if not isinstance(data, dict):  # every body is an object: ``false`` or ``[]`` is a 400, not "all defaults"
            raise ValueError("The body must be a JSON object.")
        if isinstance(data.get("reason"), str):
            data["reason"] = data["reason"].replace(NUL, "")
        return data


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(NUL, "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _nul_fields(value: Any, path: str) -> list[str]:
    """The dotted paths of the strings holding a NUL character."""
    if isinstance(value, str):
        return [path] if NUL in value else []
    if isinstance(value, BaseModel):
        items: Any = ((name, getattr(value, name, None)) for name in type(value).model_fields)
        prefix = ""  # a schema's fields are named as the client sent them (no "payload.")
    elif isinstance(value, dict):
        items, prefix = value.items(), f"{path}."
    elif isinstance(value, (list, tuple)):
        items, prefix = enumerate(value), f"{path}."
    else:
        return []
    return [found for key, item in items for found in _nul_fields(item, f"{prefix}{key}")]


def refuse_nul(func: Callable[..., Any]) -> Callable[..., Any]:
    """Operation decorator (after authentication and validation): a NUL character in any input is a 422 naming
    the field (as ``openkam.accounts.services`` does)."""

    @functools.wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        bad = [field for name, value in kwargs.items() for field in _nul_fields(value, name)]
        if bad:
            message = _("Text may not contain NUL characters.")
            raise ValidationFailed(message, errors=[FieldError(field, "null_characters", message) for field in bad])
        return func(request, *args, **kwargs)

    return wrapper


api = OpenKamAPI(
    title="OpenKAM API",
    version="1",
    description="Key Account Management for life sciences. Every list is paginated and restricted to what "
    "the caller may see; an out-of-scope id answers 404.",
    urls_namespace="api",
    auth=[BearerToken(), SessionCookie()],
    parser=NulSafeParser(),
)
api.add_decorator(refuse_nul)


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
# Far past any real page, and far below the row offset (page × size) that overflows the database's bigint (a 500).
MAX_PAGE = 2**31 - 1


class Page(PageNumberPagination):
    """``?page=N&page_size=M`` (default 50, max 200) → ``{"items": [...], "count": total}``.

    Use as ``@paginate(Page)`` on list endpoints.
    """

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, description="Capped at 200")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(page_size=50, max_page_size=200, **kwargs)
