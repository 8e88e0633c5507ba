"""Account forms: input parsing and widgets only. Every rule lives in ``openkam.accounts.services``;
a refused change comes back onto the form with ``apply_domain_error``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import (
    AccountStatus,
    AccountType,
    AffiliationType,
    KamLevel,
    TeamRole,
)
from openkam.core.forms import BootstrapFormMixin
from openkam.core.models import Function, Territory, User

_BLANK: list[tuple[str, str]] = [("", "—")]


class AccountPicker(forms.Select):
    """A select of a few accounts with a search box above it that refreshes the options (HTMX).

    The options come from ``accounts:options`` (only accounts the user may see); the service checks the
    chosen id again, so the short list is a convenience, never the rule.
    """

    def __init__(self, *, exclude: int | None = None, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs)
        self.exclude = exclude

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        select = super().render(name, value, attrs, renderer)
        target = (attrs or {}).get("id") or f"id_{name}"
        url = reverse("accounts:options") + (f"?exclude={self.exclude}" if self.exclude else "")
        search = format_html(
            '<input type="search" name="q" form="okam-picker-none" class="form-control form-control-sm mb-1" '
            'placeholder="{}" aria-label="{}" autocomplete="off" hx-get="{}" '
            'hx-trigger="input changed delay:250ms, search" hx-target="#{}" data-testid="picker-{}">',
            _("Search accounts by name, city, CCN or NPI…"),
            _("Search accounts"),
            url,
            target,
            name,
        )
        return format_html("{}{}", search, select)


class PeoplePicker(forms.Select):
    """A select of a few people (the chosen one and a first page) with a search box above it that refreshes
    the options (HTMX, ``core:people_options``): a page never carries every user of the company.

    The search sends the current choice along (``hx-include``), so it stays selected; the service checks
    the chosen id again.
    """

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        select = super().render(name, value, attrs, renderer)
        target = (attrs or {}).get("id") or f"id_{name}"
        url = reverse("core:people_options") + "?" + urlencode({"field": name, "blank": "—"})
        search = format_html(
            '<input type="search" name="q" form="okam-picker-none" class="form-control form-control-sm mb-1" '
            'placeholder="{}" aria-label="{}" autocomplete="off" hx-get="{}" hx-include="#{}" '
            'hx-trigger="input changed delay:250ms, search" hx-target="#{}" data-testid="picker-{}">',
            _("Search people by name…"),
            _("Search people"),
            url,
            target,
            target,
            name,
        )
        return format_html("{}{}", search, select)


def person_label(user: User) -> str:
    """As ``core:people_options`` names people: "Kim Kam · Key account manager"."""
    return f"{user} · {user.get_role_display()}"


def _set_choices(form: forms.BaseForm, name: str, choices: list[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def account_choices(accounts: list[Any]) -> list[tuple[Any, str]]:
    return [*_BLANK, *((a.pk, f"{a.qualified_name} · {a.get_type_display()}") for a in accounts)]


class AccountFilterForm(forms.Form):
    """The list page's search and filters (GET)."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Name, city, CCN or NPI"), "type": "search"}),
    )
    type = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("All types")), *AccountType.choices])
    kam_level = forms.ChoiceField(
        label=_("KAM level"), required=False, choices=[("", _("All levels")), *KamLevel.choices]
    )
    owner_id = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    country = forms.ChoiceField(label=_("Country"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *AccountStatus.choices]
    )

    def __init__(self, *args: Any, owners: list[User], countries: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "owner_id", [("", _("Any owner")), *((u.pk, str(u)) for u in owners)])
        _set_choices(self, "country", [("", _("All countries")), *((c, c) for c in countries)])
        for field in self.fields.values():
            css = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            field.widget.attrs["class"] = css


class AccountForm(BootstrapFormMixin, forms.Form):
    """Create / edit an account. ``parent_id`` only on create (moving is its own form)."""

    name = forms.CharField(label=_("Name"), max_length=255, widget=forms.TextInput(attrs={"col": "col-md-8"}))
    type = forms.ChoiceField(
        label=_("Type"), choices=AccountType.choices, widget=forms.Select(attrs={"col": "col-md-4"})
    )
    parent_id = forms.IntegerField(
        label=_("Parent account"), required=False, help_text=_("Leave empty for a top-level account.")
    )
    kam_level = forms.ChoiceField(
        label=_("KAM level"),
        choices=KamLevel.choices,
        initial=KamLevel.UNASSESSED,
        widget=forms.Select(attrs={"col": "col-md-4"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=AccountStatus.choices,
        initial=AccountStatus.ACTIVE,
        help_text=_("Accounts are never deleted: set Inactive to retire one."),
        widget=forms.Select(attrs={"col": "col-md-4"}),
    )
    owner_id = forms.TypedChoiceField(
        label=_("Owner"), required=False, coerce=int, empty_value=None, widget=forms.Select(attrs={"col": "col-md-4"})
    )
    ccn = forms.CharField(
        label=_("CMS CCN"),
        required=False,
        max_length=10,
        help_text=_("6 characters, e.g. 220071"),
        widget=forms.TextInput(attrs={"col": "col-md-4"}),
    )
    npi = forms.CharField(
        label=_("Organisation NPI"),
        required=False,
        max_length=10,
        help_text=_("10 digits, starting with 2"),
        widget=forms.TextInput(attrs={"col": "col-md-4"}),
    )
    national_id = forms.CharField(
        label=_("National id"), required=False, max_length=50, widget=forms.TextInput(attrs={"col": "col-md-4"})
    )
    address_line = forms.CharField(
        label=_("Address"), required=False, max_length=255, widget=forms.TextInput(attrs={"col": "col-md-12"})
    )
    city = forms.CharField(
        label=_("City"), required=False, max_length=100, widget=forms.TextInput(attrs={"col": "col-md-4"})
    )
    state = forms.CharField(
        label=_("State / region"), required=False, max_length=100, widget=forms.TextInput(attrs={"col": "col-md-3"})
    )
    postal_code = forms.CharField(
        label=_("Postal code"), required=False, max_length=20, widget=forms.TextInput(attrs={"col": "col-md-3"})
    )
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        initial="US",
        help_text=_("ISO code, e.g. US"),
        widget=forms.TextInput(attrs={"col": "col-md-2"}),
    )
    phone = forms.CharField(
        label=_("Phone"), required=False, max_length=40, widget=forms.TextInput(attrs={"col": "col-md-4"})
    )
    website = forms.CharField(
        label=_("Website"), required=False, max_length=200, widget=forms.TextInput(attrs={"col": "col-md-4"})
    )
    territory_id = forms.TypedChoiceField(
        label=_("Territory"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"col": "col-md-4"}),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3, "col": "col-md-12"})
    )
    reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=255,
        help_text=_("Optional; kept in the audit trail."),
        widget=forms.TextInput(attrs={"col": "col-md-12"}),
    )

    def __init__(
        self,
        *args: Any,
        owners: list[User],
        territories: list[Territory],
        parents: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "owner_id", [*_BLANK, *((u.pk, str(u)) for u in owners)])
        _set_choices(self, "territory_id", [*_BLANK, *((t.pk, t.name) for t in territories)])
        if parents is None:
            del self.fields["parent_id"]
        else:
            self.fields["parent_id"].widget = AccountPicker(attrs={"class": "form-select", "col": "col-md-12"})
            self.fields["parent_id"].widget.choices = account_choices(parents)

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("reason", None)
        data.pop("parent_id", None)
        return data


class AccountMoveForm(BootstrapFormMixin, forms.Form):
    parent_id = forms.IntegerField(
        label=_("New parent account"), required=False, help_text=_("Leave empty to make it a top-level account.")
    )
    reason = forms.CharField(
        label=_("Reason for the move"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"col": "col-md-12"}),
    )

    def __init__(self, *args: Any, account_id: int, parents: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget = AccountPicker(exclude=account_id, attrs={"class": "form-select", "col": "col-md-12"})
        widget.choices = account_choices(parents)
        self.fields["parent_id"].widget = widget


class TeamMemberForm(BootstrapFormMixin, forms.Form):
    """``users``: the people the picker starts with (a first page, and the chosen person); any id is
    accepted here and checked by the service (an active user)."""

    user_id = forms.IntegerField(label=_("Person"), widget=PeoplePicker)
    role = forms.ChoiceField(label=_("Role on the account"), choices=TeamRole.choices, initial=TeamRole.KAM)
    function = forms.ChoiceField(
        label=_("Function"),
        required=False,
        choices=[("", _("From the person's role")), *Function.choices],
    )
    start_date = forms.DateField(
        label=_("Since"), required=False, widget=forms.DateInput(), help_text=_("Empty: today")
    )
    end_date = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput())

    def __init__(self, *args: Any, users: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user_id"].widget.choices = [*_BLANK, *((u.pk, person_label(u)) for u in users)]  # type: ignore[attr-defined]
        for name in ("user_id", "role"):
            self.fields[name].widget.attrs["col"] = "col-12"


class AffiliationForm(BootstrapFormMixin, forms.Form):
    to_account_id = forms.IntegerField(label=_("Affiliated account"), required=True)
    type = forms.ChoiceField(label=_("Type of affiliation"), choices=AffiliationType.choices)
    start_date = forms.DateField(label=_("From"), required=False, widget=forms.DateInput())
    end_date = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput())
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"}))

    def __init__(self, *args: Any, account_id: int, candidates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget = AccountPicker(attrs={"class": "form-select", "col": "col-12"})
        candidates = [a for a in candidates if a.pk != account_id]
        # Without candidates (the form as first shown) the select waits for a search: no list of the book.
        widget.choices = account_choices(candidates) if candidates else [("", str(_("— search above —")))]
        self.fields["to_account_id"].widget = widget
        self.fields["type"].widget.attrs["col"] = "col-12"
