"""Form helpers: turn a service's DomainError into errors on the rendered form (no stack traces)."""

from __future__ import annotations

from django import forms

from openkam.core.errors import DomainError


def apply_domain_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Attach each field error to its field (or to the form when the field is not on it)."""
    if not exc.errors:
        form.add_error(None, exc.message)
        return
    for err in exc.errors:
        field = err.field if err.field in form.fields else None
        message = (
            err.message
            if field
            else (f"{err.field}: {err.message}" if err.field not in ("", "__all__") else err.message)
        )
        form.add_error(field, message)


class BootstrapFormMixin:
    """Adds Bootstrap classes to every widget (form-control / form-select / form-check-input)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()
            if isinstance(widget, forms.DateInput):
                widget.input_type = "date"
            if isinstance(widget, forms.DateTimeInput):
                widget.input_type = "datetime-local"
