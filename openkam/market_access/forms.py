"""Forms of the market_access pages (validation of substance happens in the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openkam.accounts.models import AccountType, KamLevel
from openkam.core.forms import BootstrapFormMixin
from openkam.market_access.models import (
    FormularyScope,
    FormularyStatusCode,
    LineOfTherapy,
    ProtocolKind,
    ProtocolStatus,
    RestrictionKind,
    TargetStatus,
)


def _choices(items: Any, empty: str = "—") -> list[tuple[str, str]]:
    return [("", empty), *[(str(k), str(v)) for k, v in items]]


class DashboardFilterForm(BootstrapFormMixin, forms.Form):
    account_type = forms.ChoiceField(label=_("Account type"), required=False)
    kam_level = forms.ChoiceField(label=_("KAM level"), required=False)
    therapeutic_area = forms.TypedChoiceField(label=_("Therapeutic area"), required=False, coerce=int, empty_value=None)
    product = forms.TypedChoiceField(label=_("Product"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status of that product"), required=False)
    portfolio_of = forms.TypedChoiceField(label=_("Portfolio of"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, areas: Any, products: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account_type"].choices = _choices(  # type: ignore[attr-defined]
            [(t, lbl) for t, lbl in AccountType.choices if t != AccountType.DEPARTMENT], str(_("All but departments"))
        )
        self.fields["kam_level"].choices = _choices(KamLevel.choices, str(_("All levels")))  # type: ignore[attr-defined]
        self.fields["therapeutic_area"].choices = _choices([(a.pk, a.name) for a in areas], str(_("All areas")))  # type: ignore[attr-defined]
        self.fields["product"].choices = _choices([(p.pk, p.name) for p in products], str(_("Any product")))  # type: ignore[attr-defined]
        self.fields["status"].choices = _choices(  # type: ignore[attr-defined]
            [*FormularyStatusCode.choices, ("none", _("No status"))], str(_("Any status"))
        )
        self.fields["portfolio_of"].choices = _choices([(u.pk, str(u)) for u in people], str(_("My whole scope")))  # type: ignore[attr-defined]
        if not people:
            del self.fields["portfolio_of"]


class StatusForm(BootstrapFormMixin, forms.Form):
    product = forms.TypedChoiceField(label=_("Product"), coerce=int)
    indication = forms.TypedChoiceField(
        label=_("Indication"), coerce=int, required=False, empty_value=None,
        help_text=_("Leave empty for the product as a whole."),
    )  # fmt: skip
    status = forms.ChoiceField(label=_("Status"), choices=FormularyStatusCode.choices)
    restriction_kinds = forms.MultipleChoiceField(
        label=_("Restrictions"), choices=RestrictionKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    restrictions = forms.CharField(
        label=_("Restrictions (details)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    tier = forms.CharField(label=_("Tier"), required=False, max_length=40)
    effective_from = forms.DateField(label=_("Effective from"), widget=forms.DateInput())
    effective_to = forms.DateField(label=_("Effective until"), required=False, widget=forms.DateInput())
    next_review = forms.DateField(label=_("Next review"), required=False, widget=forms.DateInput())
    committee = forms.TypedChoiceField(label=_("Deciding committee"), coerce=int, required=False, empty_value=None)
    scope = forms.ChoiceField(label=_("Applies to"), choices=FormularyScope.choices)
    net_price = forms.DecimalField(label=_("Net price per unit"), required=False, max_digits=14, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=255)

    def __init__(self, *args: Any, products: Any, indications: Any, committees: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [(p.pk, p.name) for p in products]  # type: ignore[attr-defined]
        self.fields["indication"].choices = _choices([(i.pk, f"{i.product.name} — {i.name}") for i in indications])  # type: ignore[attr-defined]
        self.fields["committee"].choices = _choices([(c.pk, f"{c.name} ({c.account.name})") for c in committees])  # type: ignore[attr-defined]


class ProtocolForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    kind = forms.ChoiceField(label=_("Kind"), choices=ProtocolKind.choices, initial=ProtocolKind.PATHWAY)
    status = forms.ChoiceField(label=_("Status"), choices=ProtocolStatus.choices, initial=ProtocolStatus.ACTIVE)
    scope = forms.ChoiceField(label=_("Applies to"), choices=FormularyScope.choices)
    therapeutic_area = forms.TypedChoiceField(label=_("Therapeutic area"), coerce=int, required=False, empty_value=None)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    effective_from = forms.DateField(label=_("In force since"), required=False, widget=forms.DateInput())
    review_date = forms.DateField(label=_("Review date"), required=False, widget=forms.DateInput())
    owner = forms.TypedChoiceField(label=_("Clinical owner"), coerce=int, required=False, empty_value=None)
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=255)

    def __init__(self, *args: Any, areas: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["therapeutic_area"].choices = _choices([(a.pk, a.name) for a in areas])  # type: ignore[attr-defined]
        self.fields["owner"].choices = _choices([(s.pk, s.display_name) for s in people])  # type: ignore[attr-defined]


class ProtocolProductForm(BootstrapFormMixin, forms.Form):
    product = forms.TypedChoiceField(label=_("Product"), coerce=int)
    line_of_therapy = forms.ChoiceField(label=_("Line of therapy"), choices=LineOfTherapy.choices)
    preferred = forms.BooleanField(label=_("Preferred option"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=255)

    def __init__(self, *args: Any, products: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [(p.pk, p.name) for p in products]  # type: ignore[attr-defined]


class TargetForm(BootstrapFormMixin, forms.Form):
    product = forms.TypedChoiceField(label=_("Product"), coerce=int)
    target_status = forms.ChoiceField(label=_("The plan wants"), choices=TargetStatus.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args: Any, products: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [(p.pk, p.name) for p in products]  # type: ignore[attr-defined]


class FhirImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=_("FHIR file"), help_text=_("A Bundle, a resource, a JSON array or NDJSON."))
    mapping = forms.CharField(
        label=_("RxNorm → product"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: RxNorm code = product brand name. Unmapped drugs are matched by name."),
    )  # fmt: skip
    reason = forms.CharField(label=_("Reason"), required=False, max_length=255)
