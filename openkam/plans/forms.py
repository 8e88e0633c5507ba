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
    shared_with_customer = forms.BooleanField(
        label=_("Shared with the customer"),
        required=False,
        help_text=_("An agreed measure of success: shown in the customer version of the plan."),
    )
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
    field_order = [
        "title",
        "status",
        "assignee",
        "start_date",
        "due_date",
        "owner",
        "is_milestone",
        "shared_with_customer",
        "description",
    ]

    title = forms.CharField(label=_("Action"), max_length=255, widget=forms.TextInput(attrs={"col": "col-12"}))
    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices, initial=ActionStatus.NOT_STARTED)
    assignee = UserChoiceField(queryset=None, label=_("Assignee"), required=False, empty_label=_("Unassigned"))  # type: ignore[arg-type]
    owner = UserChoiceField(queryset=None, label=_("Owner"), required=False, empty_label=_("No owner"))  # type: ignore[arg-type]
    start_date = forms.DateField(label=_("Start"), required=False, widget=forms.DateInput)
    due_date = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput)
    is_milestone = forms.BooleanField(label=_("Milestone"), required=False)
    shared_with_customer = forms.BooleanField(
        label=_("Shared with the customer"),
        required=False,
        help_text=_("Shown in the customer version (never for a medical-only tactic)."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3, "col": "col-12"})
    )


# --- quick add (inline on the plan page) -------------------------------------------------------------
class ObjectiveQuickForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("New objective"), max_length=255)
    metric = forms.CharField(label=_("Metric"), max_length=200, required=False)
    target = forms.DecimalField(label=_("Target"), required=False, max_digits=18, decimal_places=2)
    indicator = forms.ChoiceField(label=_("Indicator"), choices=IndicatorType.choices, required=False)
    due_date = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput)

    def clean_indicator(self) -> str:
        return self.cleaned_data.get("indicator") or IndicatorType.LAGGING


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


# --- plan sections (in place on the plan page) ------------------------------------------------------------
class NarrativeForm(BootstrapFormMixin, forms.Form):
    """One of the plan's narrative sections: which fields depends on the section."""

    SECTIONS: dict[str, tuple[str, ...]] = {
        "priorities_text": ("customer_priorities",),
        "positioning": ("positioning", "value_proposition", "value_proposition_reviewed"),
        "strategy": ("strategy",),
    }
    customer_priorities = forms.CharField(
        label=_("The customer's strategy in their words"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    positioning = forms.CharField(
        label=_("Our differentiated positioning"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    value_proposition = forms.CharField(
        label=_("Value proposition"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Stay within label: approved indications and claims only."),
    )
    value_proposition_reviewed = forms.BooleanField(label=_("Reviewed for compliance (MLR)"), required=False)
    strategy = forms.CharField(
        label=_("Over-arching strategy"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, section: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keep = self.SECTIONS[section]
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]


class PriorityForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("Priority"), max_length=255)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    shared_with_customer = forms.BooleanField(label=_("Shared with the customer"), required=False)


class SwotForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[])
    title = forms.CharField(label=_("Item"), max_length=255)
    evidence = forms.CharField(label=_("Evidence"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    classification = forms.ChoiceField(label=_("Classification"), choices=[])
    objective_ids = forms.TypedMultipleChoiceField(
        label=_("Drives objectives"), required=False, coerce=int, choices=[], widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, actor: User, objectives: list[Any], **kwargs: Any) -> None:
        from openkam.plans.models import SwotKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = SwotKind.choices  # type: ignore[attr-defined]
        allowed = writable_classifications(actor)
        self.fields["classification"].choices = [  # type: ignore[attr-defined]
            c for c in Classification.choices if c[0] in allowed
        ]
        self.fields["classification"].initial = Classification.JOINT
        self.fields["objective_ids"].choices = [(o.pk, o.title) for o in objectives]  # type: ignore[attr-defined]


class GoalForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("Goal"), max_length=255)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CsfForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("Critical success factor"), max_length=255)
    goal = forms.TypedChoiceField(label=_("Serves goal"), required=False, coerce=int, empty_value=None, choices=[])
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, goals: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["goal"].choices = [("", _("— none —")), *((g.pk, g.title) for g in goals)]  # type: ignore[attr-defined]


class KeyActionForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("Key action"), max_length=255)
    owner = UserChoiceField(queryset=None, label=_("Owner"), required=False, empty_label=_("No owner"))  # type: ignore[arg-type]
    due_date = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput)

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = _people(actor)
        self.fields["owner"].queryset = people  # type: ignore[attr-defined]
        limit_people(self, people)


class StageForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Stage"), max_length=200)


class StepForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("Step"), max_length=255)


SECTION_FORMS: dict[str, Any] = {
    "customer_priority": PriorityForm,
    "swot_item": SwotForm,
    "goal": GoalForm,
    "csf": CsfForm,
    "key_action": KeyActionForm,
    "stage": StageForm,
    "step": StepForm,
}


class TransitionForm(forms.Form):
    to = forms.CharField()
    version = forms.IntegerField(required=False)
    comment = forms.CharField(required=False, max_length=4000)


class CloneForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Name of the new plan"), max_length=255, required=False)
    period_start = forms.DateField(label=_("Period start"), widget=forms.DateInput)
    period_end = forms.DateField(label=_("Period end"), widget=forms.DateInput)


class AgreementForm(BootstrapFormMixin, forms.Form):
    agreed_on = forms.DateField(label=_("Agreed on"), widget=forms.DateInput)
    signatory_name = forms.CharField(label=_("Signed by"), max_length=200)
    signatory_title = forms.CharField(label=_("Their title"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class TemplateForm(BootstrapFormMixin, forms.Form):
    """A plan template (administrators): sections, required fields, stages and steps, rot threshold."""

    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    account_types = forms.MultipleChoiceField(
        label=_("Account types"), required=False, choices=[], widget=forms.CheckboxSelectMultiple
    )
    is_default = forms.BooleanField(label=_("Default template"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    sections = forms.MultipleChoiceField(label=_("Sections"), choices=[], widget=forms.CheckboxSelectMultiple)
    required_fields = forms.MultipleChoiceField(
        label=_("Required"), required=False, choices=[], widget=forms.CheckboxSelectMultiple
    )
    stale_after_days = forms.IntegerField(label=_("Stale after (days)"), min_value=1, max_value=3650, initial=30)
    stages = forms.CharField(
        label=_("Stages and steps"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "class": "font-monospace"}),
        help_text=_("One stage per line; its steps below it, each starting with “- ”."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from openkam.accounts.models import AccountType
        from openkam.plans.models import PlanSection, RequiredField

        super().__init__(*args, **kwargs)
        self.fields["account_types"].choices = AccountType.choices  # type: ignore[attr-defined]
        self.fields["sections"].choices = PlanSection.choices  # type: ignore[attr-defined]
        self.fields["required_fields"].choices = RequiredField.choices  # type: ignore[attr-defined]

    def clean_stages(self) -> list[tuple[str, list[str]]]:
        stages: list[tuple[str, list[str]]] = []
        for raw in (self.cleaned_data.get("stages") or "").splitlines():
            line = raw.strip()
            if not line:
                continue
            if line.startswith(("-", "*")):
                if not stages:
                    raise forms.ValidationError(_("A step must come after its stage: “%(s)s”.") % {"s": line})
                stages[-1][1].append(line.lstrip("-* ").strip())
            else:
                stages.append((line, []))
        return stages

    @staticmethod
    def stages_text(template: Any) -> str:
        lines: list[str] = []
        for stage in template.stages.all():
            lines.append(stage.name)
            lines += [f"- {step.title}" for step in stage.steps.all()]
        return "\n".join(lines)
