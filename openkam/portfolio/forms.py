"""Portfolio forms (administrators). Validation lives in the services; these only parse input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openkam.core.forms import BootstrapFormMixin
from openkam.portfolio.models import ProductStatus

LINES_OF_THERAPY = ["1L", "2L", "3L+", "Adjuvant", "Neoadjuvant", "Maintenance", "Monotherapy", "Combination"]


class TherapeuticAreaForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.SlugField(
        label=_("Code"), max_length=40, help_text=_("Short, unique, lower case: letters, digits and hyphens.")
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3, "col": "col-12"})
    )


class ProductForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Brand name"), max_length=200)
    generic_name = forms.CharField(label=_("Generic name"), max_length=200)
    therapeutic_area = forms.TypedChoiceField(label=_("Therapeutic area"), coerce=int)
    status = forms.ChoiceField(label=_("Status"), choices=ProductStatus.choices, initial=ProductStatus.MARKETED)
    launch_date = forms.DateField(label=_("Launch date"), required=False, widget=forms.DateInput(format="%Y-%m-%d"))
    ndc = forms.CharField(
        label=_("NDC"), max_length=20, required=False, help_text=_("National Drug Code, e.g. 12345-678-90")
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3, "col": "col-12"})
    )

    def __init__(self, *args: Any, therapeutic_areas: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["therapeutic_area"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *[(ta.pk, ta.name) for ta in therapeutic_areas]]


class IndicationForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Indication"), max_length=255, widget=forms.TextInput(attrs={"col": "col-12"}))
    icd10 = forms.CharField(label=_("ICD-10 code"), max_length=20, required=False, help_text=_("e.g. C34.90"))
    line_of_therapy = forms.CharField(
        label=_("Line of therapy"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"list": "okam-lines-of-therapy"}),
    )
    approved = forms.BooleanField(label=_("Approved (in label)"), required=False, initial=True)
    approval_date = forms.DateField(label=_("Approval date"), required=False, widget=forms.DateInput(format="%Y-%m-%d"))
