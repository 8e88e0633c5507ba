"""Stakeholder forms: input parsing only — every rule lives in ``openkam.stakeholders.services``.

Large choice lists (883 NUCC specialties, every visible person or account) render only the selected option
and a first page of options; a search box above the select fetches matching options over HTMX
(``stakeholders:options``). Validation still accepts any visible row.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_scope
from openkam.core.forms import BootstrapFormMixin
from openkam.core.models import User
from openkam.stakeholders import selectors
from openkam.stakeholders.models import (
    Committee,
    CommitteeKind,
    CommitteeRole,
    CommitteeScope,
    DecisionRole,
    Specialty,
    Stakeholder,
    StakeholderKind,
)

PICKER_LIMIT = 50


def account_label(account: Account) -> str:
    """An account as a picker names it: a department or clinic with its hospital (“Emergency Medicine · Mount
    Sinai West”). Load ``parent`` with the rows (``select_related("parent")``)."""
    return account.qualified_name


def limit_choices(field: forms.ModelChoiceField, rows: QuerySet[Any], selected: Any, label: Any = str) -> None:
    """Render only ``rows[:PICKER_LIMIT]`` (plus the selected row) while validating against the full queryset."""
    choices: list[tuple[Any, str]] = [("", str(field.empty_label or "—"))]
    seen: set[str] = set()
    if selected not in (None, ""):
        row = field.queryset.filter(pk=getattr(selected, "pk", selected)).first()  # type: ignore[union-attr]
        if row is not None:
            choices.append((row.pk, label(row)))
            seen.add(str(row.pk))
    for row in rows[:PICKER_LIMIT]:
        if str(row.pk) not in seen:
            choices.append((row.pk, label(row)))
    field.widget.choices = choices


def _drop_judgements(form: forms.Form, actor: User) -> None:
    """Readers who may not see commercial judgements (medical) record positions without a decision role."""
    if not selectors.can_see_judgements(actor):
        form.fields.pop("role_in_decision", None)


class PickerSelect(forms.Select):
    """A select with a search box above it (see ``stakeholders/components/field.html``)."""

    def __init__(self, kind: str, placeholder: Any = "", attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.picker = kind
        self.placeholder = placeholder


class StakeholderForm(BootstrapFormMixin, forms.Form):
    prefix = forms.CharField(label=_("Prefix"), max_length=20, required=False, help_text=_("e.g. Dr."))  # type: ignore[assignment]
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    credentials = forms.CharField(label=_("Credentials"), max_length=60, required=False, help_text=_("e.g. MD, PharmD"))
    kind = forms.ChoiceField(label=_("Kind"), choices=StakeholderKind.choices, initial=StakeholderKind.PHYSICIAN)
    npi = forms.CharField(
        label=_("NPI"),
        max_length=20,
        required=False,
        help_text=_("10 digits, individual NPIs start with 1. The check digit is verified."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "1234567893"}),
    )
    specialty = forms.ModelChoiceField(
        label=_("Specialty (NUCC taxonomy)"),
        queryset=Specialty.objects.all(),
        required=False,
        empty_label=_("— no specialty —"),
        widget=PickerSelect("specialty", _("Search 883 specialties, e.g. cardio, oncology, 207RC…")),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    country = forms.CharField(label=_("Country"), max_length=2, min_length=2, initial="US", help_text=_("ISO code"))
    consent_contact = forms.BooleanField(label=_("Consents to be contacted"), required=False, initial=True)
    consent_email = forms.BooleanField(label=_("Consents to email"), required=False)
    consent_date = forms.DateField(label=_("Consent recorded on"), required=False, widget=forms.DateInput())
    do_not_contact = forms.BooleanField(label=_("Do not contact"), required=False)
    privacy_restricted = forms.BooleanField(
        label=_("Privacy restricted"), required=False, help_text=_("No profiling or assessment of this person.")
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    PERSON_FIELDS = ("prefix", "first_name", "last_name", "credentials", "kind", "npi", "specialty")
    CONTACT_FIELDS = ("email", "phone", "country", "notes")
    CONSENT_FIELDS = ("consent_contact", "consent_email", "consent_date", "do_not_contact", "privacy_restricted")

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        selected = self.data.get(self.add_prefix("specialty")) if self.is_bound else self.initial.get("specialty")
        field = self.fields["specialty"]
        assert isinstance(field, forms.ModelChoiceField)
        limit_choices(field, Specialty.objects.none(), selected)
        self.fields["country"].widget.attrs["style"] = "text-transform: uppercase"

    @classmethod
    def initial_for(cls, s: Stakeholder) -> dict[str, Any]:
        names = cls.PERSON_FIELDS + cls.CONTACT_FIELDS + cls.CONSENT_FIELDS
        data = {name: getattr(s, name) for name in names if name != "specialty"}
        data["specialty"] = s.specialty_id
        return data

    def stakeholder_data(self) -> dict[str, Any]:
        names = self.PERSON_FIELDS + self.CONTACT_FIELDS + self.CONSENT_FIELDS
        data = {name: self.cleaned_data.get(name) for name in names}
        for name in names:
            if data[name] is None and name not in ("specialty", "consent_date"):
                data[name] = ""
        data["country"] = (data["country"] or "US").upper()
        return data


def _account_field(actor: User, fixed: Account | None) -> forms.ModelChoiceField:
    field = forms.ModelChoiceField(
        label=_("Account"),
        queryset=account_scope(actor=actor).select_related("parent"),
        empty_label=_("— choose an account —"),
        widget=forms.HiddenInput() if fixed else PickerSelect("account", _("Search your accounts…")),
    )
    if fixed:
        field.initial = fixed.pk
    return field


def _committee_field(actor: User, account: Account | None) -> forms.ModelChoiceField:
    field = forms.ModelChoiceField(
        label=_("Committee"),
        queryset=selectors.committee_list(actor=actor),
        required=False,
        empty_label=_("— none —"),
        help_text=_("Optional: the decision-making unit this role sits on."),
    )
    rows = selectors.committee_choices(actor=actor, account=account) if account else Committee.objects.none()
    labels = [(c.pk, f"{c.name} · {c.account.qualified_name}") for c in rows]
    field.widget.choices = [("", str(field.empty_label)), *labels]
    return field


class _PositionFields(forms.Form):
    """The fields of a position (title, role in decision, committee, start) shared by the add forms."""

    title = forms.CharField(
        label=_("Title"), max_length=200, widget=forms.TextInput(attrs={"placeholder": _("e.g. Chief of Cardiology")})
    )
    role_in_decision = forms.ChoiceField(
        label=_("Role in decision"), choices=DecisionRole.choices, initial=DecisionRole.UNKNOWN
    )
    valid_from = forms.DateField(label=_("In this role since"), widget=forms.DateInput())

    POSITION_FIELDS: tuple[str, ...] = ("account", "title", "role_in_decision", "committee", "valid_from")

    def _setup_position(self, actor: User, account: Account | None) -> None:
        self.fields["account"] = _account_field(actor, account)
        chosen = account
        if chosen is None:
            raw = self.data.get(self.add_prefix("account")) if self.is_bound else None
            chosen = account_scope(actor=actor).filter(pk=raw).first() if raw and str(raw).isdigit() else None
        acct_field = self.fields["account"]
        assert isinstance(acct_field, forms.ModelChoiceField)
        if not account:
            rows = account_scope(actor=actor).select_related("parent").order_by("ancestors", "name")
            limit_choices(acct_field, rows, chosen, account_label)
            acct_field.widget.attrs.update(
                {
                    "hx-get": reverse("stakeholders:options", args=["committee"]),
                    "hx-trigger": "change",
                    "hx-target": "#id_" + self.add_prefix("committee"),
                    "hx-include": "this",
                }
            )
        self.fields["committee"] = _committee_field(actor, chosen)
        self.fields["valid_from"].initial = timezone.localdate()
        order = [n for n in self.fields if n not in self.POSITION_FIELDS] + [
            n for n in self.POSITION_FIELDS if n in self.fields
        ]
        self.order_fields(order)


class NewStakeholderForm(StakeholderForm, _PositionFields):
    """A new person with their first position (the position makes them visible to the account's team)."""

    def __init__(self, *args: Any, actor: User, account: Account | None = None, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self._setup_position(actor, account)
        _drop_judgements(self, actor)
        for name in ("account", "committee"):
            widget = self.fields[name].widget
            if isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"

    def position_data(self) -> dict[str, Any]:
        return {
            "account": self.cleaned_data["account"],
            "title": self.cleaned_data["title"],
            "role_in_decision": self.cleaned_data.get("role_in_decision") or DecisionRole.UNKNOWN,
            "valid_from": self.cleaned_data["valid_from"],
            "committee": self.cleaned_data.get("committee"),
        }


class PositionForm(BootstrapFormMixin, _PositionFields):
    """A new position for an existing visible person."""

    stakeholder = forms.ModelChoiceField(
        label=_("Stakeholder"),
        queryset=Stakeholder.objects.none(),
        empty_label=_("— choose a person —"),
        widget=PickerSelect("stakeholder", _("Search people by name or NPI…")),
    )
    is_primary = forms.BooleanField(
        label=_("Primary position"), required=False, help_text=_("Shown with the person's name in lists.")
    )

    POSITION_FIELDS = ("stakeholder", "account", "title", "role_in_decision", "committee", "valid_from", "is_primary")

    def __init__(
        self,
        *args: Any,
        actor: User,
        account: Account | None = None,
        stakeholder: Stakeholder | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._setup_position(actor, account)
        _drop_judgements(self, actor)
        field = self.fields["stakeholder"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = selectors.stakeholder_scope(actor=actor)
        if stakeholder is not None:
            field.widget = forms.HiddenInput()
            field.initial = stakeholder.pk
        else:
            selected = self.data.get(self.add_prefix("stakeholder")) if self.is_bound else None
            rows = selectors.stakeholder_list(actor=actor)
            limit_choices(field, rows, selected if selected and str(selected).isdigit() else None, _person_label)
        for name in ("account", "committee"):
            widget = self.fields[name].widget
            if isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"


def _person_label(s: Stakeholder) -> str:
    extra = getattr(s, "primary_title", None)
    return f"{s.display_name} · {extra}" if extra else s.display_name


class PositionEditForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    role_in_decision = forms.ChoiceField(label=_("Role in decision"), choices=DecisionRole.choices)
    committee = forms.ModelChoiceField(label=_("Committee"), queryset=Committee.objects.none(), required=False)
    valid_from = forms.DateField(label=_("In this role since"), widget=forms.DateInput())
    is_primary = forms.BooleanField(label=_("Primary position"), required=False)

    def __init__(self, *args: Any, actor: User, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["committee"] = _committee_field(actor, account)
        self.fields["committee"].widget.attrs["class"] = "form-select"
        self.order_fields(["title", "role_in_decision", "committee", "valid_from", "is_primary"])
        _drop_judgements(self, actor)


class PositionEndForm(BootstrapFormMixin, forms.Form):
    valid_to = forms.DateField(
        label=_("End date"), widget=forms.DateInput(), help_text=_("From this date the role shows as vacated.")
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. retired, moved to another hospital")}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["valid_to"].initial = timezone.localdate()


class CommitteeForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=200, widget=forms.TextInput(attrs={"placeholder": _("e.g. P&T Committee")})
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=CommitteeKind.choices)
    meeting_cadence = forms.CharField(
        label=_("Meeting cadence"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. monthly, 2nd Tuesday")}),
    )
    next_meeting = forms.DateField(label=_("Next meeting"), required=False, widget=forms.DateInput())
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    scope = forms.ChoiceField(
        label=_("Decides for"), choices=CommitteeScope.choices, initial=CommitteeScope.SUBTREE, required=False
    )
    scope_accounts = forms.TypedMultipleChoiceField(
        label=_("Selected accounts (when it decides for selected accounts)"),
        required=False,
        coerce=int,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args: Any, below: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope_accounts"].choices = below or []  # type: ignore[attr-defined]

    def clean_scope(self) -> str:
        return self.cleaned_data.get("scope") or CommitteeScope.SUBTREE  # type: ignore[attr-defined]


class CommitteeMemberForm(BootstrapFormMixin, forms.Form):
    position = forms.TypedChoiceField(label=_("Person (current position in the committee's scope)"), coerce=int)
    committee_role = forms.ChoiceField(label=_("Role on the committee"), choices=CommitteeRole.choices,
                                       initial=CommitteeRole.MEMBER)  # fmt: skip
    role_in_decision = forms.ChoiceField(label=_("Role in decision"), choices=DecisionRole.choices,
                                         initial=DecisionRole.UNKNOWN)  # fmt: skip
    valid_from = forms.DateField(label=_("Seat from"), required=False, widget=forms.DateInput())

    def __init__(self, *args: Any, candidates: list[tuple[int, str]], judgements: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["position"].choices = [("", "—"), *candidates]  # type: ignore[attr-defined]
        if not judgements:  # a decision role is a commercial judgement: medical seats people without one
            del self.fields["role_in_decision"]
