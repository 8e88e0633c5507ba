"""Interaction forms. Choices come from the actor's selectors; the rules live in the services.

The account and the internal participants are picked from lists too long to render (every account on a book,
every colleague): the selects hold the current choice and a first page, and a search box fetches matching
rows over HTMX (``stakeholders:options`` for accounts, ``core:people_options`` for people). Any id passes
the form; the services check it (the account in the actor's scope, participants active users).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openkam.activities.models import DIGITAL_CHANNELS, Channel
from openkam.core.forms import BootstrapFormMixin
from openkam.core.models import Classification

CHANNEL_GROUPS = [
    (_("In person / live"), [(c.value, c.label) for c in Channel if c not in DIGITAL_CHANNELS]),
    (_("Digital"), [(c.value, c.label) for c in Channel if c in DIGITAL_CHANNELS]),
]


@dataclass
class StakeholderOption:
    pk: int
    name: str
    title: str
    account: str
    current: bool
    until: Any
    may_contact: bool = True  # False: do not contact, no consent to contact, or erased
    email_consent: bool = False


PICKER_PEOPLE = 60  # people listed in the picker before a search


def stakeholder_options(positions: Any) -> list[StakeholderOption]:
    """One option per person (their current, nearest position first) from ``account_positions`` rows."""
    seen: dict[int, StakeholderOption] = {}
    for p in positions:
        if p.stakeholder_id in seen:
            continue
        seen[p.stakeholder_id] = StakeholderOption(
            pk=p.stakeholder_id,
            name=p.stakeholder.display_name,
            title=p.title,
            account=p.account.qualified_name,
            current=bool(p.is_current),
            until=p.valid_to,
            may_contact=(
                p.stakeholder.consent_contact and not p.stakeholder.do_not_contact and p.stakeholder.erased_at is None
            ),
            email_consent=bool(p.stakeholder.consent_email),
        )
    return sorted(seen.values(), key=lambda o: (not o.current, o.name.split()[-1] if o.name else "", o.name))


def stakeholder_option_search(options: list[StakeholderOption], q: str, limit: int = 30) -> list[StakeholderOption]:
    """The options whose name, title or account contain every word of ``q`` (case-insensitive)."""
    words = [w for w in q.lower().split() if w][:5]
    if not words:
        return []
    found = []
    for o in options:
        text = f"{o.name} {o.title} {o.account}".lower()
        if all(w in text for w in words):
            found.append(o)
            if len(found) >= limit:
                break
    return found


def plan_link_choices(tactics: Any) -> list[tuple[str, Any]]:
    """Grouped choices: one group per plan, ``t<id>`` for a tactic and ``a<id>`` for one of its actions."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for t in tactics:
        plan = t.objective.plan
        label = f"{plan.name} · {plan.account.name}"
        options = groups.setdefault(label, [])
        options.append((f"t{t.pk}", str(_("Tactic: %(t)s") % {"t": t.title})))
        for a in getattr(t, "action_rows", []):
            options.append((f"a{a.pk}", f"\u00a0\u00a0\u00a0↳ {_('Action')}: {a.title}"))
    return [("", str(_("— not linked to a plan —"))), *groups.items()]


def account_label(account: Any) -> str:
    """As ``stakeholders:options`` names accounts: a department or clinic with its hospital (“Emergency
    Medicine · Mount Sinai West”); load ``parent`` with the rows."""
    return str(account.qualified_name)


def person_label(user: Any) -> str:
    """As ``core:people_options`` names people."""
    return f"{user} · {user.get_role_display()}"


def _is_id(value: Any) -> bool:
    text = str(value)
    return text.isdigit() and len(text) < 19


class IdChoiceField(forms.TypedChoiceField):
    """One id from a list too long to render: the select offers a first page (a search box fetches the rest),
    any id passes here and the service checks it."""

    def valid_value(self, value: Any) -> bool:
        return _is_id(value)


class IdsChoiceField(forms.TypedMultipleChoiceField):
    """Several ids from a list too long to render (see ``IdChoiceField``)."""

    def valid_value(self, value: Any) -> bool:
        return _is_id(value)


def _choice(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def local_now_minutes() -> datetime:
    now = timezone.localtime()
    return now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)


class InteractionForm(BootstrapFormMixin, forms.Form):
    occurred_at = forms.DateTimeField(
        label=_("When"), widget=forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"col": "col-md-4"})
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=CHANNEL_GROUPS, widget=forms.Select(attrs={"col": "col-md-4"})
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        required=False,
        min_value=1,
        max_value=24 * 60,
        widget=forms.NumberInput(attrs={"col": "col-md-4", "step": 5}),
    )
    account = IdChoiceField(label=_("Account"), coerce=int, widget=forms.Select(attrs={"col": "col-md-8"}))
    classification = forms.ChoiceField(label=_("Classification"), widget=forms.Select(attrs={"col": "col-md-4"}))
    subject = forms.CharField(
        label=_("Subject"),
        max_length=255,
        widget=forms.TextInput(attrs={"col": "col-12", "placeholder": _("e.g. Budget impact model walkthrough")}),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 5, "col": "col-12", "placeholder": _("What was discussed, agreed, and what happens next.")}
        ),
    )
    stakeholders = forms.TypedMultipleChoiceField(label=_("Stakeholders"), coerce=int, required=False)
    participants = IdsChoiceField(label=_("Internal participants"), coerce=int, required=False)
    plan_link = forms.ChoiceField(label=_("Supports plan work"), required=False)

    def __init__(
        self,
        *args: Any,
        accounts: Any = (),
        classifications: Any = (),
        positions: Any = (),
        tactics: Any = (),
        users: Any = (),
        **kwargs: Any,
    ) -> None:
        """``accounts``/``users``: what the account and participants selects offer before any search (the
        current choice and a first page)."""
        super().__init__(*args, **kwargs)
        _choice(self, "account").choices = [("", _("— choose the account —"))] + [
            (a.pk, account_label(a)) for a in accounts
        ]
        _choice(self, "classification").choices = [
            (c.value, c.label) for c in Classification if c.value in set(classifications)
        ]
        self.stakeholder_options = stakeholder_options(positions)
        _choice(self, "stakeholders").choices = [(o.pk, o.name) for o in self.stakeholder_options]
        _choice(self, "participants").choices = [(u.pk, person_label(u)) for u in users]
        self.fields["participants"].widget.attrs.update({"size": 8, "col": "col-12"})
        _choice(self, "plan_link").choices = plan_link_choices(tactics)
        self.fields["account"].widget.attrs.update({"data-testid": "account-select"})

    def selected_stakeholders(self) -> set[str]:
        value = self["stakeholders"].value() or []
        return {str(v) for v in value}

    def shown_stakeholder_options(self) -> list[StakeholderOption]:
        """What the picker lists before a search: everyone named now, then the first people up to
        ``PICKER_PEOPLE`` (an IDN can hold thousands; the rest are found by searching)."""
        selected = self.selected_stakeholders()
        named = [o for o in self.stakeholder_options if str(o.pk) in selected]
        rest = [o for o in self.stakeholder_options if str(o.pk) not in selected]
        return named + rest[: max(0, PICKER_PEOPLE - len(named))]

    def stakeholders_hidden(self) -> int:
        return max(0, len(self.stakeholder_options) - len(self.shown_stakeholder_options()))

    def service_kwargs(self, *, only_changed: bool = False) -> dict[str, Any]:
        """cleaned_data → keyword arguments of ``interaction_create`` / ``interaction_update``.

        With ``only_changed`` (editing), only what the user changed, so an untouched field is never
        rewritten (e.g. the seconds of the time, which the minute-precision input cannot show)."""
        data = dict(self.cleaned_data)
        link = data.pop("plan_link", "") or ""
        data["tactic"] = int(link[1:]) if link.startswith("t") else None
        data["action"] = int(link[1:]) if link.startswith("a") else None
        if only_changed:
            changed = set(self.changed_data)
            if "plan_link" in changed:
                changed |= {"tactic", "action"}
            data = {k: v for k, v in data.items() if k in changed}
        return data


class InteractionFilterForm(forms.Form):
    """The list page's filters (GET). Invalid values are ignored rather than shown as errors."""

    KIND_CHOICES = [("human", _("All in-person / live")), ("digital", _("All digital"))]

    q = forms.CharField(required=False, max_length=200)
    account = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    channel = forms.ChoiceField(required=False)
    classification = forms.ChoiceField(required=False)
    since = forms.DateField(required=False)
    until = forms.DateField(required=False)
    mine = forms.BooleanField(required=False)

    def __init__(self, *args: Any, accounts: Any = (), classifications: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "account").choices = [("", _("All my accounts"))] + [(a.pk, account_label(a)) for a in accounts]
        _choice(self, "channel").choices = [
            ("", _("Any channel")),
            (_("Kinds"), self.KIND_CHOICES),
            *CHANNEL_GROUPS,
        ]
        _choice(self, "classification").choices = [("", _("Any classification"))] + [
            (c.value, c.label) for c in Classification if c.value in set(classifications)
        ]
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.update({"class": "form-check-input", "role": "switch"})
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select form-select-sm"
            else:
                widget.attrs["class"] = "form-control form-control-sm"
            widget.attrs["id"] = f"f-{name}"
        self.fields["since"].widget.input_type = "date"
        self.fields["until"].widget.input_type = "date"
        self.fields["q"].widget.input_type = "search"
        self.fields["q"].widget.attrs["placeholder"] = _("Subject or notes")

    def filters(self) -> dict[str, Any]:
        """Selector keyword arguments from the valid fields only."""
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in (None, "", False)}
        out: dict[str, Any] = {}
        if "account" in data:
            out["account"] = data["account"]
            out["include_descendants"] = True
        channel = data.get("channel")
        if channel in ("human", "digital"):
            out["digital"] = channel == "digital"
        elif channel:
            out["channels"] = [channel]
        for key in ("q", "classification"):
            if key in data:
                out[key] = data[key]
        out["mine"] = bool(data.get("mine"))
        out["since_date"] = data.get("since")
        out["until_date"] = data.get("until")
        return out
