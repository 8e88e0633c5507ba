"""Form helpers: turn a service's DomainError into errors on the rendered form (no stack traces)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openkam.core.errors import DomainError
from openkam.core.models import Role, Team, Territory, User


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


# --- administration forms (validation of substance happens in the services) --------------------------
def _reason_field() -> forms.CharField:
    return forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=500,
        help_text=_("Optional; kept in the audit trail."),
        widget=forms.TextInput(attrs={"col": "col-12"}),
    )


class _UserFieldsForm(BootstrapFormMixin, forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    title = forms.CharField(label=_("Job title"), max_length=200, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False, empty_label="—")
    manager = forms.ModelChoiceField(label=_("Manager"), queryset=User.objects.none(), required=False, empty_label="—")

    def __init__(self, *args: Any, teams: Any = None, managers: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams if teams is not None else Team.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["manager"].queryset = managers if managers is not None else User.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["manager"].label_from_instance = lambda u: f"{u} · {u.get_role_display()}"  # type: ignore[attr-defined]

    def service_fields(self) -> dict[str, Any]:
        """cleaned_data in the shape the user services take (ids for team and manager)."""
        data = self.cleaned_data
        return {
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "email": data["email"],
            "title": data["title"],
            "role": data["role"],
            "team_id": data["team"].pk if data.get("team") else None,
            "manager_id": data["manager"].pk if data.get("manager") else None,
        }


class UserCreateForm(_UserFieldsForm):
    field_order = ["username", "first_name", "last_name", "email", "title", "role", "team", "manager"]
    username = forms.CharField(
        label=_("Username"), max_length=150, help_text=_("Used to sign in. Letters, digits and @ . + - _ only.")
    )
    password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Give it to the user; they sign in with it."),
    )
    password2 = forms.CharField(
        label=_("Repeat the password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


class UserEditForm(_UserFieldsForm):
    reason = _reason_field()


class PasswordResetForm(BootstrapFormMixin, forms.Form):
    password = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "col": "col-12"})
    )
    password2 = forms.CharField(
        label=_("Repeat the password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "col": "col-12"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


class TeamForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, widget=forms.TextInput(attrs={"col": "col-12"}))
    territories = forms.ModelMultipleChoiceField(
        label=_("Territories"),
        queryset=Territory.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Members of the team see the accounts in these territories."),
    )
    reason = _reason_field()

    def __init__(self, *args: Any, territories: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["territories"].queryset = (  # type: ignore[attr-defined]
            territories if territories is not None else Territory.objects.order_by("name")
        )
        self.fields["territories"].widget.attrs["class"] = "form-check-input"


class TerritoryForm(BootstrapFormMixin, forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=40, help_text=_("Short and stable, e.g. us-northeast."), widget=forms.TextInput()
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    country = forms.CharField(
        label=_("Country"), max_length=2, initial="US", help_text=_("Two-letter ISO code, e.g. US or DE.")
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3, "col": "col-12"})
    )
    reason = _reason_field()


class DeactivateForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)
