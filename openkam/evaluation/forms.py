"""Evaluation forms: thin; the services validate substance (scale, rationale, reasons)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import AccountType
from openkam.core.forms import BootstrapFormMixin
from openkam.evaluation.defaults import TYPOLOGY
from openkam.evaluation.models import ScoringModel

LEVEL_CHOICES = [
    ("strategic", _("Strategic — must-win, senior management involved")),
    ("key", _("Key")),
    ("basic", _("Basic — managed, not key")),
    ("declined", _("Declined — we will not invest now")),
]


class AssessmentForm(BootstrapFormMixin, forms.Form):
    """One score, evidence and evidence date per criterion of the model (fields built from the model)."""

    assessed_on = forms.DateField(label=_("Assessment date"), widget=forms.DateInput())
    rationale = forms.CharField(
        label=_("Rationale"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"}),
        help_text=_("Required when the score means “declined”: why we will not invest in this account now."),
    )

    def __init__(self, *args: Any, model: ScoringModel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model = model
        self.criteria = list(model.criteria.all())
        for c in self.criteria:
            choices = [("", "—")] + [
                (str(v), f"{v} · {c.label_for(v)}" if c.label_for(v) else str(v))
                for v in range(model.scale_min, model.scale_max + 1)
            ]
            self.fields[f"score_{c.pk}"] = forms.TypedChoiceField(
                label=c.name, choices=choices, coerce=int, required=False, empty_value=None
            )
            self.fields[f"evidence_{c.pk}"] = forms.CharField(
                label=_("Evidence"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
            )
            self.fields[f"evidence_date_{c.pk}"] = forms.DateField(
                label=_("Evidence date"), required=False, widget=forms.DateInput()
            )
        for name, field in self.fields.items():
            if name.startswith(("score_", "evidence_")):
                css = "form-select" if name.startswith("score_") else "form-control"
                field.widget.attrs["class"] = css + (" form-control-sm" if css == "form-control" else " form-select-sm")
                if isinstance(field.widget, forms.DateInput):
                    field.widget.input_type = "date"

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "criterion": c,
                "score": self[f"score_{c.pk}"],
                "evidence": self[f"evidence_{c.pk}"],
                "evidence_date": self[f"evidence_date_{c.pk}"],
            }
            for c in self.criteria
        ]

    def scores(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return [
            {
                "criterion_id": c.pk,
                "score": data.get(f"score_{c.pk}"),
                "evidence": data.get(f"evidence_{c.pk}", ""),
                "evidence_date": data.get(f"evidence_date_{c.pk}"),
            }
            for c in self.criteria
        ]

    def field_for_error(self, field: str) -> str | None:
        """Map a service error field (``scores.2.score``) to this form's field (``score_<criterion id>``)."""
        if field.startswith("scores.") and field.count(".") == 2:
            _s, index, attr = field.split(".")
            if index.isdigit() and int(index) < len(self.criteria):
                return f"{'score' if attr == 'score' else attr}_{self.criteria[int(index)].pk}"
        return field if field in self.fields else None


class OverrideForm(BootstrapFormMixin, forms.Form):
    level = forms.ChoiceField(
        label=_("Tier"), choices=[("", _("No override — follow the score")), *LEVEL_CHOICES], required=False
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"}),
        help_text=_("Required. Kept in the audit trail; for a decline, the rationale."),
    )


class ReviewForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(label=_("Review note"), required=False, max_length=4000, widget=forms.TextInput())


class MatrixFilterForm(BootstrapFormMixin, forms.Form):
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    type = forms.ChoiceField(label=_("Type"), required=False)
    country = forms.ChoiceField(label=_("Country"), required=False)
    position = forms.ChoiceField(label=_("Position measure"), required=False)

    def __init__(self, *args: Any, options: dict[str, Any], measures: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", _("All teams")), *[(t.pk, t.name) for t in options["teams"]]]  # type: ignore[attr-defined]
        evaluated = [(t, label) for t, label in AccountType.choices if t in TYPOLOGY]
        self.fields["type"].choices = [("", _("All types")), *evaluated]  # type: ignore[attr-defined]
        self.fields["country"].choices = [("", _("All countries")), *[(c, c) for c in options["countries"]]]  # type: ignore[attr-defined]
        self.fields["position"].choices = [(k, m.label) for k, m in measures.items()]  # type: ignore[attr-defined]


class ScoringModelForm(BootstrapFormMixin, forms.Form):
    """The model editor's header; the criteria come as rows ``crit-<i>-<field>`` (see :func:`criteria_rows`).
    Types and numbers are parsed here; the substance (weights add up to 100 %, one label per level, thresholds
    in order…) is the service's."""

    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.SlugField(
        label=_("Code"), max_length=60, required=False,
        help_text=_("A short, stable name for the family of versions, e.g. formulary-influence."),
    )  # fmt: skip
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"})
    )
    account_types = forms.MultipleChoiceField(
        label=_("Applies to account types"), choices=AccountType.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    scale_min = forms.IntegerField(label=_("Lowest score"), min_value=0, max_value=99, initial=1)
    scale_max = forms.IntegerField(label=_("Highest score"), min_value=1, max_value=100, initial=5)
    strategic_min = forms.DecimalField(label=_("Strategic from"), max_digits=5, decimal_places=2, initial=75)
    key_min = forms.DecimalField(label=_("Key from"), max_digits=5, decimal_places=2, initial=55)
    basic_min = forms.DecimalField(label=_("Basic from"), max_digits=5, decimal_places=2, initial=30)
    activate = forms.BooleanField(label=_("Use this version for new assessments (activate)"), required=False)
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=255,
                             help_text=_("Optional; kept in the audit trail."))  # fmt: skip

    def __init__(self, *args: Any, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if creating:
            self.fields["code"].required = True
        else:
            del self.fields["code"]
        self.fields["account_types"].widget.attrs["class"] = "form-check-input"


CRITERION_FIELDS = ("key", "name", "weight", "guidance", "levels")


def criteria_rows(data: Any) -> list[dict[str, str]]:
    """The criteria rows of a posted model editor, in order, blank rows left out: ``crit-<i>-<field>`` with
    ``levels`` one label per line (lowest score first)."""
    parts = [k.split("-") for k in data if k.startswith("crit-")]
    indexes = sorted({int(p[1]) for p in parts if len(p) == 3 and p[1].isdigit() and len(p[1]) < 4})
    rows = []
    for i in indexes:
        row = {f: str(data.get(f"crit-{i}-{f}", "")).strip() for f in CRITERION_FIELDS}
        if any(row[f] for f in ("name", "weight", "guidance", "levels")):
            rows.append(row)
    return rows


def criteria_for_service(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Rows as the service takes them: weight as given (the service says when it is not a number), labels as a
    list (one per non-empty line)."""
    return [
        {"key": r["key"], "name": r["name"], "weight": r["weight"].replace(",", ".") or None,
         "guidance": r["guidance"], "levels": [line.strip() for line in r["levels"].splitlines() if line.strip()]}
        for r in rows
    ]  # fmt: skip
