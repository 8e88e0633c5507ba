"""Forms of the commercial pages. They only parse input: every rule lives in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openkam.commercial.models import (
    CURRENCIES,
    CellStatus,
    CostCategory,
    LossReason,
    Recommendation,
    Stage,
    TenderOutcome,
    TenderType,
)
from openkam.core.forms import BootstrapFormMixin

CURRENCY_CHOICES = [(c, c) for c in CURRENCIES]


def _date() -> forms.DateField:
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class CellForm(BootstrapFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=CellStatus.choices)
    potential_value = forms.DecimalField(label=_("Potential value (yearly)"), required=False, min_value=0)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    our_share = forms.DecimalField(label=_("Our share (%)"), required=False)
    competitor = forms.CharField(label=_("Competitor"), required=False, max_length=200)
    contract_end = forms.DateField(label=_("Contract end"), required=False, widget=forms.DateInput())
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"}))


class OpportunityForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255, widget=forms.TextInput(attrs={"col": "col-12"}))
    value = forms.DecimalField(label=_("Value"), min_value=0, max_digits=16, decimal_places=2)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    probability = forms.IntegerField(
        label=_("Probability (%)"), required=False, help_text=_("0–100; empty: the stage's usual probability")
    )
    expected_close = forms.DateField(label=_("Expected close"), widget=forms.DateInput())
    products = forms.MultipleChoiceField(label=_("Products"), required=False, choices=())
    objective = forms.ChoiceField(label=_("Plan objective"), required=False, choices=())
    loss_reason = forms.CharField(label=_("Loss reason"), required=False, max_length=255)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"})
    )

    def __init__(self, *args: Any, products: Any = (), objectives: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["products"].choices = [(p.pk, p.name) for p in products]  # type: ignore[attr-defined]
        self.fields["objective"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (o.pk, f"{o.plan.name}: {o.title}") for o in objectives
        ]

    def service_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "value": d["value"],
            "currency": d["currency"],
            "stage": d["stage"],
            "probability": d["probability"],
            "expected_close": d["expected_close"],
            "product_ids": [int(p) for p in d["products"]],
            "objective_id": int(d["objective"]) if d["objective"] else None,
            "loss_reason": d["loss_reason"],
            "description": d["description"],
        }


class TenderForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255, widget=forms.TextInput(attrs={"col": "col-md-8"}))
    reference = forms.CharField(
        label=_("Reference"), required=False, max_length=100, widget=forms.TextInput(attrs={"col": "col-md-4"})
    )
    tender_type = forms.ChoiceField(
        label=_("Type"), choices=TenderType.choices, widget=forms.Select(attrs={"col": "col-md-4"})
    )
    publication_date = forms.DateField(label=_("Publication date"), widget=forms.DateInput(attrs={"col": "col-md-4"}))
    submission_deadline = forms.DateField(
        label=_("Submission deadline"), widget=forms.DateInput(attrs={"col": "col-md-4"})
    )
    estimated_value = forms.DecimalField(
        label=_("Estimated value"), required=False, min_value=0, widget=forms.NumberInput(attrs={"col": "col-md-4"})
    )
    currency = forms.ChoiceField(
        label=_("Currency"), choices=CURRENCY_CHOICES, widget=forms.Select(attrs={"col": "col-md-2"})
    )
    award_date = forms.DateField(
        label=_("Award date"), required=False, widget=forms.DateInput(attrs={"col": "col-md-3"})
    )
    criteria = forms.CharField(
        label=_("Award criteria"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "col": "col-md-6", "placeholder": "Price: 60\nQuality: 40"}),
        help_text=_("One per line: name: weight (the weights add up to 100)."),
    )
    documents = forms.CharField(
        label=_("Documents checklist"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "col": "col-md-6", "placeholder": "Signed declaration\nProduct dossier"}
        ),
        help_text=_("One document per line."),
    )
    lots = forms.CharField(
        label=_("Lots"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "col": "col-md-6", "placeholder": "Heart failure: Cardivance"}),
        help_text=_("One per line: lot name: product, product …"),
    )
    responsible = forms.MultipleChoiceField(
        label=_("Responsible people"),
        required=False,
        choices=(),
        widget=forms.SelectMultiple(attrs={"col": "col-md-6", "size": 4}),
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"}))

    def __init__(self, *args: Any, people: Any = (), products: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = [(u.pk, str(u)) for u in people]  # type: ignore[attr-defined]
        self.products = {p.name.lower(): p.pk for p in products}

    def clean_criteria(self) -> list[dict[str, Any]]:
        out = []
        for line in (self.cleaned_data.get("criteria") or "").splitlines():
            if not line.strip():
                continue
            name, _sep, weight = line.rpartition(":")
            if not name.strip():
                raise forms.ValidationError(_("Write each criterion as name: weight (“%(l)s”).") % {"l": line})
            out.append({"name": name.strip(), "weight": weight.strip()})
        return out

    def clean_documents(self) -> list[dict[str, Any]]:
        return [
            {"name": line.strip(), "done": False}
            for line in (self.cleaned_data.get("documents") or "").splitlines()
            if line.strip()
        ]

    def clean_lots(self) -> list[dict[str, Any]]:
        out = []
        for i, line in enumerate([x for x in (self.cleaned_data.get("lots") or "").splitlines() if x.strip()], start=1):
            name, _sep, names = line.partition(":")
            ids = []
            for product in [n.strip() for n in names.split(",") if n.strip()]:
                if product.lower() not in self.products:
                    raise forms.ValidationError(_("Lot %(n)d: no product “%(p)s”.") % {"n": i, "p": product})
                ids.append(self.products[product.lower()])
            out.append({"number": i, "name": name.strip(), "product_ids": ids})
        return out

    def service_fields(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        d["award_criteria"] = d.pop("criteria")
        d["responsible_ids"] = [int(u) for u in d.pop("responsible")]
        return d


class OutcomeForm(BootstrapFormMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=TenderOutcome.choices)
    loss_reason = forms.ChoiceField(label=_("Loss reason"), required=False, choices=[("", "—"), *LossReason.choices])
    award_date = forms.DateField(label=_("Award date"), required=False, widget=forms.DateInput())
    outcome_notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"})
    )


class DecisionForm(BootstrapFormMixin, forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Recommendation.choices)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"}),
        help_text=_("Required when you decide against the recommendation."),
    )


class CostForm(BootstrapFormMixin, forms.Form):
    period = forms.DateField(label=_("Month"), widget=forms.DateInput(attrs={"col": "col-md-3"}))
    category = forms.ChoiceField(
        label=_("Category"), choices=CostCategory.choices, widget=forms.Select(attrs={"col": "col-md-3"})
    )
    amount = forms.DecimalField(label=_("Amount"), min_value=0, widget=forms.NumberInput(attrs={"col": "col-md-2"}))
    currency = forms.ChoiceField(
        label=_("Currency"), choices=CURRENCY_CHOICES, widget=forms.Select(attrs={"col": "col-md-2"})
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=255, widget=forms.TextInput(attrs={"col": "col-md-3"})
    )


class SalesFileForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Sales file (CSV or XLSX)"), widget=forms.ClearableFileInput(attrs={"col": "col-12"})
    )
