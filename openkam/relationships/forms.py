"""Forms of the relationship pages (the rules live in the services; these only parse input)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openkam.core.forms import BootstrapFormMixin
from openkam.relationships.models import Influence, LinkKind, LinkStrength, Stance, Strength
from openkam.stakeholders.models import DecisionRole

BLANK = [("", "—")]


class MapFilterForm(BootstrapFormMixin, forms.Form):
    department = forms.TypedChoiceField(label=_("Department"), required=False, coerce=int, empty_value=None)
    committee = forms.TypedChoiceField(label=_("Committee"), required=False, coerce=int, empty_value=None)
    domain = forms.TypedChoiceField(label=_("Decision domain"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, options: dict[str, list[tuple[int, str]]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        all_label = [("", _("All"))]
        self.fields["department"].choices = all_label + options["departments"]  # type: ignore[attr-defined]
        self.fields["committee"].choices = all_label + options["committees"]  # type: ignore[attr-defined]
        self.fields["domain"].choices = all_label + options["domains"]  # type: ignore[attr-defined]
        if not options["domains"]:
            del self.fields["domain"]


class AssessmentForm(BootstrapFormMixin, forms.Form):
    decision_role = forms.ChoiceField(label=_("Decision role"), choices=DecisionRole.choices)
    domain_ids = forms.TypedMultipleChoiceField(
        label=_("Decision domains"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    stance = forms.TypedChoiceField(
        label=_("Stance toward us"), required=False, coerce=int, empty_value=None,
        choices=BLANK + [(s.value, s.label) for s in Stance],
    )  # fmt: skip
    influence = forms.TypedChoiceField(
        label=_("Influence"), required=False, coerce=int, empty_value=None,
        choices=BLANK + [(i.value, i.label) for i in Influence],
    )  # fmt: skip
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, domains: list[tuple[int, str]], stance_allowed: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain_ids"].choices = domains  # type: ignore[attr-defined]
        self.fields["domain_ids"].widget.attrs["class"] = "form-check-input"
        if not stance_allowed:
            self.fields["stance"].disabled = True
            self.fields["stance"].help_text = _("Local rules do not allow recording a stance for this person.")


class StrengthForm(BootstrapFormMixin, forms.Form):
    user = forms.TypedChoiceField(label=_("Team member"), coerce=int)
    current = forms.TypedChoiceField(label=_("Now"), coerce=int, choices=[(s.value, s.label) for s in Strength])
    desired = forms.TypedChoiceField(label=_("Wanted"), coerce=int, choices=[(s.value, s.label) for s in Strength])

    def __init__(self, *args: Any, users: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = users  # type: ignore[attr-defined]


class LinkForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Link"), choices=LinkKind.choices)
    other = forms.TypedChoiceField(label=_("Other person"), coerce=int)
    outgoing = forms.TypedChoiceField(
        label=_("Direction"), coerce=lambda v: v == "1", initial="1",
        choices=[("1", _("this person → other")), ("0", _("other → this person"))],
    )  # fmt: skip
    directional = forms.BooleanField(label=_("Directional"), required=False, initial=True)
    strength = forms.TypedChoiceField(
        label=_("Strength"),
        coerce=int,
        initial=LinkStrength.MODERATE,
        choices=[(s.value, s.label) for s in LinkStrength],
    )
    evidence = forms.CharField(label=_("Evidence"), required=False, max_length=5000)

    def __init__(
        self,
        *args: Any,
        people: list[tuple[int, str]],
        judgements: bool = True,
        shown: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        """``people``: whom the link may go to (validation); ``shown``: the options listed (a large map lists the
        likely colleagues and finds the others by search; the submitted choice is always listed)."""
        super().__init__(*args, **kwargs)
        self.fields["other"].choices = people  # type: ignore[attr-defined]
        if shown is not None:
            submitted = str(self.data.get(self.add_prefix("other"), "")) if self.is_bound else ""
            extra = [c for c in people if str(c[0]) == submitted and c not in shown]
            self.fields["other"].widget.choices = [*extra, *shown]
        if not judgements:
            self.fields["kind"].choices = [  # type: ignore[attr-defined]
                (LinkKind.REPORTS_TO, LinkKind.REPORTS_TO.label),
                (LinkKind.PEER, LinkKind.PEER.label),
            ]


class SucceedForm(BootstrapFormMixin, forms.Form):
    stakeholder = forms.TypedChoiceField(label=_("New incumbent"), coerce=int)
    valid_from = forms.DateField(label=_("Starts on"), widget=forms.DateInput())
    carry_seat_ids = forms.TypedMultipleChoiceField(
        label=_("Committee seats that go with the role"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def __init__(self, *args: Any, people: list[tuple[int, str]], seats: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stakeholder"].choices = BLANK + people  # type: ignore[attr-defined]
        self.fields["carry_seat_ids"].choices = seats  # type: ignore[attr-defined]
        self.fields["carry_seat_ids"].widget.attrs["class"] = "form-check-input"


class SettingsForm(BootstrapFormMixin, forms.Form):
    internal_share_limit = forms.IntegerField(label=_("One team member's share of relationships above (%)"))
    stakeholder_share_limit = forms.IntegerField(label=_("One stakeholder's share of our interactions above (%)"))
    key_person_days = forms.IntegerField(label=_("Key person not reached for (days)"))
    assessment_retention_days = forms.IntegerField(
        label=_("Keep superseded assessments (days, empty = keep)"), required=False
    )


class DomainForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("New decision domain"), max_length=100)
    description = forms.CharField(label=_("Description"), required=False)


class PrivacyRuleForm(BootstrapFormMixin, forms.Form):
    country = forms.CharField(label=_("Country (ISO code)"), max_length=2)
    allow_stance = forms.BooleanField(label=_("Stance labels allowed"), required=False)
    allow_directional_influence = forms.BooleanField(label=_("Directional influence allowed"), required=False)
    assessment_retention_days = forms.IntegerField(label=_("Retention (days)"), required=False)
    note = forms.CharField(label=_("Legal basis / note"), required=False)
