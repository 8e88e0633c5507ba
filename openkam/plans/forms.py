"""Plan forms: thin — they parse input; the services decide (rules, access, locking).

People fields never list every user: they render the chosen person and a first page of colleagues, with a
search box that fetches matching people over HTMX (``core:people_options``). Validation still accepts
anyone the field allows, and the services check the chosen person again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from openkam.accounts.forms import AccountPicker
from openkam.core.access import writable_classifications
from openkam.core.forms import BootstrapFormMixin
from openkam.core.models import Classification, Function, Role, User
from openkam.core.selectors import user_list
from openkam.plans.models import ActionStatus, IndicatorType

FIRST_PAGE = 50


def person_label(user: User) -> str:
    """As ``core:people_options`` names people: "Kim Kam · Key account manager"."""
    return f"{user} · {user.get_role_display()}"


class PeoplePicker(forms.Select):
    """A select of a few people with a search box above it that refreshes the options (HTMX).

    ``core:people_options`` answers with the person chosen now (kept selected, sent with ``hx-include``)
    followed by the active colleagues matching the search, read-only roles left out.
    """

    def __init__(self, *, blank: Any = "—", attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs)
        self.blank = blank

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        select = super().render(name, value, attrs, renderer)
        target = (attrs or {}).get("id") or f"id_{name}"
        url = reverse("core:people_options") + "?" + urlencode({"field": name, "writers": "1", "blank": self.blank})
        search = format_html(
            '<input type="search" name="q" form="okam-picker-none" class="form-control form-control-sm mb-1" '
            'placeholder="{}" aria-label="{}" autocomplete="off" hx-get="{}" hx-include="#{}" '
            'hx-trigger="input changed delay:250ms, search" hx-target="#{}" hx-swap="innerHTML" '
            'data-testid="picker-{}">',
            _("Search people by name…"),
            _("Search people"),
            url,
            target,
            target,
            name,
        )
        return format_html("{}{}", search, select)


class UserChoiceField(forms.ModelChoiceField):
    widget = PeoplePicker

    def label_from_instance(self, obj: Any) -> str:
        return person_label(obj)


def people_for_plans(*, actor: User) -> Any:
    """People who can own or carry out plan work (compliance only reads)."""
    return user_list(actor=actor).exclude(role=Role.COMPLIANCE)


def _people(actor: User) -> Any:
    return people_for_plans(actor=actor)


def limit_people(form: forms.BaseForm, people: Any) -> None:
    """Render each people field with its chosen person and the first page of colleagues only (one query for
    the page, one for the chosen people); the field still validates against everyone in ``people``."""
    names = [n for n, f in form.fields.items() if isinstance(f, UserChoiceField)]
    if not names:
        return
    chosen_ids: dict[str, str] = {}
    for name in names:
        value = form.data.get(form.add_prefix(name)) if form.is_bound else form.initial.get(name)
        value = getattr(value, "pk", value)
        if value not in (None, "") and str(value).isdigit():
            chosen_ids[name] = str(value)
    first = list(people[:FIRST_PAGE])
    known = {str(u.pk): u for u in first}
    missing = {v for v in chosen_ids.values() if v not in known}
    if missing:
        known.update({str(u.pk): u for u in people.filter(pk__in=[int(v) for v in missing])})
    for name in names:
        field = form.fields[name]
        assert isinstance(field, UserChoiceField)
        blank = field.empty_label if field.empty_label is not None else "—"
        choices: list[tuple[Any, str]] = [("", str(blank))]
        chosen = known.get(chosen_ids.get(name, ""))
        if chosen is not None:
            choices.append((chosen.pk, person_label(chosen)))
        choices += [(u.pk, person_label(u)) for u in first if u is not chosen]
        field.widget.choices = choices  # type: ignore[attr-defined]
        field.widget.blank = str(blank)  # type: ignore[attr-defined]


class VersionedForm(BootstrapFormMixin, forms.Form):
    """Carries the plan version the user loaded (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        people = _people(actor)
        for field in self.fields.values():
            if isinstance(field, UserChoiceField):
                field.queryset = people
        limit_people(self, people)

    def changes(self) -> dict[str, Any]:
        """The cleaned fields for the service (without the version)."""
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


def _account_choices(form: forms.BaseForm, accounts: Any) -> list[tuple[Any, str]]:
    """The chosen account and the first page of the others (the search box fetches the rest)."""
    value = form.data.get("account") if form.is_bound else form.initial.get("account")
    value = str(getattr(value, "pk", value) or "")
    rows = list(accounts[:FIRST_PAGE])
    if value.isdigit() and all(str(a.pk) != value for a in rows):
        rows = list(accounts.filter(pk=int(value))) + rows
    return [("", "—"), *((a.pk, f"{a.name} · {a.get_type_display()}") for a in rows)]


class PlanForm(VersionedForm):
    field_order = ["account", "owner", "name", "period_start", "period_end", "summary"]

    account: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,  # type: ignore[arg-type]
        label=_("Account"),
        empty_label="—",
        widget=AccountPicker(),
    )
    name = forms.CharField(label=_("Plan name"), max_length=255)
    period_start = forms.DateField(label=_("Period start"), widget=forms.DateInput)
    period_end = forms.DateField(label=_("Period end"), widget=forms.DateInput)
    owner = UserChoiceField(queryset=None, label=_("Owner"), empty_label="—")  # type: ignore[arg-type]
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "col": "col-12"}),
        help_text=_("The account's situation and what this plan sets out to change."),
    )

    def __init__(self, *args: Any, accounts: Any = None, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["account"]
            self.order_fields(["name", "period_start", "period_end", "owner", "summary"])
        else:
            field = self.fields["account"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = accounts
            field.widget.choices = _account_choices(self, accounts)  # type: ignore[attr-defined]
            del self.fields["version"]
        self.fields["name"].widget.attrs["col"] = "col-md-12"


class ObjectiveForm(VersionedForm):
    title = forms.CharField(label=_("Objective"), max_length=255, widget=forms.TextInput(attrs={"col": "col-12"}))
    metric = forms.CharField(
        label=_("Metric"), max_length=200, required=False, help_text=_("What you measure, e.g. formulary listings")
    )
    indicator = forms.ChoiceField(label=_("Indicator"), choices=IndicatorType.choices, initial=IndicatorType.LAGGING)
    baseline = forms.DecimalField(label=_("Baseline"), required=False, max_digits=18, decimal_places=2)
    current = forms.DecimalField(label=_("Current"), required=False, max_digits=18, decimal_places=2)
    target = forms.DecimalField(label=_("Target"), required=False, max_digits=18, decimal_places=2)
    due_date = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput)
    owner = UserChoiceField(queryset=None, label=_("Owner"), required=False, empty_label=_("No owner"))  # type: ignore[arg-type]
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3, "col": "col-12"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("baseline", "current", "target", "indicator"):
            self.fields[name].widget.attrs["col"] = "col-md-4"
        self.fields["metric"].widget.attrs["col"] = "col-md-8"


class TacticForm(VersionedForm):
    title = forms.CharField(label=_("Tactic"), max_length=255, widget=forms.TextInput(attrs={"col": "col-12"}))
    classification = forms.ChoiceField(
        label=_("Classification"),
        choices=Classification.choices,
        help_text=_("Who may see it: medical never sees commercial-only work, commercial never sees medical-only."),
    )
    function = forms.ChoiceField(label=_("Function"), choices=Function.choices)
    owner = UserChoiceField(queryset=None, label=_("Owner"), required=False, empty_label=_("No owner"))  # type: ignore[arg-type]
    shared_with_customer = forms.BooleanField(label=_("Shared with the customer"), required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3, "col": "col-12"})
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        allowed = writable_classifications(actor)
        self.fields["classification"].choices = [  # type: ignore[attr-defined]
            c for c in Classification.choices if c[0] in allowed
        ]
        if not self.is_bound and "function" not in self.initial:
            self.initial["function"] = actor.function
            self.initial.setdefault(
                "classification",
                Classification.MEDICAL if actor.function == Function.MEDICAL else Classification.COMMERCIAL,
            )


class ActionForm(VersionedForm):
    field_order = ["title", "status", "assignee", "start_date", "due_date", "owner", "description"]

    title = forms.CharField(label=_("Action"), max_length=255, widget=forms.TextInput(attrs={"col": "col-12"}))
    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices, initial=ActionStatus.NOT_STARTED)
    assignee = UserChoiceField(queryset=None, label=_("Assignee"), required=False, empty_label=_("Unassigned"))  # type: ignore[arg-type]
    owner = UserChoiceField(queryset=None, label=_("Owner"), required=False, empty_label=_("No owner"))  # type: ignore[arg-type]
    start_date = forms.DateField(label=_("Start"), required=False, widget=forms.DateInput)
    due_date = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3, "col": "col-12"})
    )


# --- quick add (inline on the plan page) -------------------------------------------------------------
class ObjectiveQuickForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("New objective"), max_length=255)
    metric = forms.CharField(label=_("Metric"), max_length=200, required=False)
    due_date = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput)


class TacticQuickForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("New tactic"), max_length=255)
    classification = forms.ChoiceField(label=_("Classification"), choices=Classification.choices)

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = writable_classifications(actor)
        self.fields["classification"].choices = [  # type: ignore[attr-defined]
            c for c in Classification.choices if c[0] in allowed
        ]
        self.fields["classification"].initial = (
            Classification.MEDICAL if actor.function == Function.MEDICAL else Classification.COMMERCIAL
        )


class ActionQuickForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("New action"), max_length=255)
    assignee = UserChoiceField(queryset=None, label=_("Assignee"), required=False, empty_label=_("Unassigned"))  # type: ignore[arg-type]
    due_date = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput)

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _people(actor)  # type: ignore[attr-defined]

    def chosen_assignee(self) -> User | None:
        """The person picked in a submitted form, to keep them chosen when the form is shown again."""
        value = str(self.data.get(self.add_prefix("assignee")) or "") if self.is_bound else ""
        if not value.isdigit():
            return None
        return self.fields["assignee"].queryset.filter(pk=int(value)).first()  # type: ignore[attr-defined, no-any-return]
