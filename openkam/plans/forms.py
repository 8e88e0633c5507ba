"""Plan forms: thin — they parse input; the services decide (rules, access, locking)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openkam.core.access import writable_classifications
from openkam.core.forms import BootstrapFormMixin
from openkam.core.models import Classification, Function, Role, User
from openkam.core.selectors import user_list
from openkam.plans.models import ActionStatus, IndicatorType


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} ({obj.get_role_display()})"


def people_for_plans(*, actor: User) -> Any:
    """People who can own or carry out plan work (compliance only reads)."""
    return user_list(actor=actor).exclude(role=Role.COMPLIANCE)


def _people(actor: User) -> Any:
    return people_for_plans(actor=actor)


class VersionedForm(BootstrapFormMixin, forms.Form):
    """Carries the plan version the user loaded (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        for field in self.fields.values():
            if isinstance(field, UserChoiceField):
                field.queryset = _people(actor)

    def changes(self) -> dict[str, Any]:
        """The cleaned fields for the service (without the version)."""
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class PlanForm(VersionedForm):
    field_order = ["account", "owner", "name", "period_start", "period_end", "summary"]

    account: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None, label=_("Account"))  # type: ignore[arg-type]
    name = forms.CharField(label=_("Plan name"), max_length=255)
    period_start = forms.DateField(label=_("Period start"), widget=forms.DateInput)
    period_end = forms.DateField(label=_("Period end"), widget=forms.DateInput)
    owner = UserChoiceField(queryset=None, label=_("Owner"))  # type: ignore[arg-type]
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
            self.fields["account"].queryset = accounts  # type: ignore[attr-defined]
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
    owner = UserChoiceField(queryset=None, label=_("Owner"), required=False)  # type: ignore[arg-type]
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
    owner = UserChoiceField(queryset=None, label=_("Owner"), required=False)  # type: ignore[arg-type]
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
    assignee = UserChoiceField(queryset=None, label=_("Assignee"), required=False)  # type: ignore[arg-type]
    owner = UserChoiceField(queryset=None, label=_("Owner"), required=False)  # type: ignore[arg-type]
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
