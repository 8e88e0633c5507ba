"""Domain errors with stable codes.

Services raise these; one handler turns them into JSON for the API (see ``openkam.core.api``) and
form errors / messages for the UI (see ``openkam.core.forms``). A user never sees a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": str(self.message)}


class DomainError(Exception):
    """Base class. ``code`` is stable and machine-readable; ``message`` is for humans."""

    status = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        errors: list[FieldError] | None = None,
    ) -> None:
        self.code = code or self.default_code
        self.errors: list[FieldError] = list(errors or [])
        if field and message:
            self.errors.append(FieldError(field, self.code, message))
        self.message = str(message or (self.errors[0].message if self.errors else _("Invalid request.")))
        super().__init__(self.message)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "errors": [e.as_dict() for e in self.errors]}


class ValidationFailed(DomainError):
    """Input broke a field rule. Nothing was written."""

    status = 422
    default_code = "validation_failed"

    @classmethod
    def from_django(cls, exc: DjangoValidationError) -> ValidationFailed:
        errors: list[FieldError] = []
        if hasattr(exc, "error_dict"):
            for field, errs in exc.error_dict.items():
                for err in errs:
                    msg = err.message % err.params if err.params else err.message
                    errors.append(FieldError(field, err.code or "invalid", str(msg)))
        else:
            for err in exc.error_list:
                msg = err.message % err.params if err.params else err.message
                errors.append(FieldError("__all__", err.code or "invalid", str(msg)))
        first = errors[0].message if errors else str(exc)
        return cls(str(first), errors=errors)


class RuleViolation(DomainError):
    """A business rule refused the change (invalid transition, cycle in a hierarchy...)."""

    status = 400
    default_code = "rule_violation"


class NotFound(DomainError):
    """The record does not exist, or the actor may not see it (the two are indistinguishable)."""

    status = 404
    default_code = "not_found"


class PermissionDenied(DomainError):
    """The actor may see the record but not do this to it."""

    status = 403
    default_code = "permission_denied"


class Conflict(DomainError):
    """Someone else changed the record since the actor loaded it (optimistic locking), or it has moved on to a
    state that no longer allows the change (e.g. a job the worker has taken can no longer be cancelled)."""

    status = 409
    default_code = "conflict"
