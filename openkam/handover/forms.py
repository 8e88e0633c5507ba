"""Handover form: whose work, to whom, which accounts, why. Input parsing only (rules in services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openkam.core.forms import BootstrapFormMixin
from openkam.core.models import User
from openkam.handover import selectors


def _person(u: User) -> str:
    name = u.get_full_name() or u.username
    extra = [str(u.get_role_display())]
    if not u.is_active:
        extra.append(str(_("inactive")))
    return f"{name} ({', '.join(extra)})"


class HandoverForm(BootstrapFormMixin, forms.Form):
    from_user = forms.TypedChoiceField(label=_("Whose work"), coerce=int, empty_value=None)
    to_user = forms.TypedChoiceField(label=_("Hand over to"), coerce=int, empty_value=None, required=False)
    accounts = forms.TypedMultipleChoiceField(
        label=_("Accounts"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to hand over the whole book."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        required=False,  # the service refuses an empty reason (naming the field); the page marks it required
        help_text=_("e.g. “Kim moves to the West territory”."),
        widget=forms.TextInput(attrs={"required": True, "aria-required": "true"}),
    )
    confirm = forms.BooleanField(
        label=_("I have checked the preview: move this work now (it cannot be undone in one step)."), required=False
    )

    def __init__(self, *args: Any, actor: User, book_ids: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = selectors.handover_people(actor=actor)
        targets = selectors.handover_targets(actor=actor)
        self.fields["from_user"].choices = [("", _("— choose a person —")), *[(u.pk, _person(u)) for u in people]]  # type: ignore[attr-defined]
        leaver = str((self.data or {}).get("from_user") or "")
        colleagues = [u for u in targets if str(u.pk) != leaver]  # no one hands work over to themselves
        self.fields["to_user"].choices = [("", _("— choose a colleague —")), *[(u.pk, _person(u)) for u in colleagues]]  # type: ignore[attr-defined]
        self.fields["accounts"].choices = book_ids or []  # type: ignore[attr-defined]


class ReportForm(forms.Form):
    account = forms.IntegerField(required=False, min_value=1)
