"""Interaction writes: log, correct and remove what happened with an account and its people.

Rules: the actor may write (compliance never does) and may work with the interaction's
classification (medical: medical/joint; commercial roles: commercial/market access/joint). Only the
person who logged an interaction, or an administrator, changes or removes it. Named stakeholders hold
or held a position at the account or an account below it. A linked tactic or action sits in a plan the
actor sees, of the account, an account above it or an account below it; an action implies its tactic.
Everything is validated before the first write; every change is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_get
from openkam.activities.models import (
    Channel,
    Interaction,
    InteractionParticipant,
    InteractionStakeholder,
)
from openkam.activities.selectors import interaction_eligible_stakeholders, interaction_get, visible_tactics
from openkam.core.access import can_write, is_admin, require_classification, require_write
from openkam.core.audit import audit_action
from openkam.core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from openkam.core.models import Classification, Role, User
from openkam.plans.models import Action, Tactic
from openkam.stakeholders.models import Stakeholder
from openkam.stakeholders.selectors import stakeholder_scope

EDITABLE_FIELDS = frozenset(
    {
        "occurred_at", "channel", "account", "subject", "notes", "classification", "duration_minutes",
        "tactic", "action", "stakeholders", "participants",
    }
)  # fmt: skip
MAX_DURATION_MINUTES = 24 * 60
FUTURE_TOLERANCE = timedelta(minutes=15)
_DEFAULT_CLASSIFICATION: dict[str, str] = {
    Role.MEDICAL: Classification.MEDICAL,
    Role.MARKET_ACCESS: Classification.MARKET_ACCESS,
}


def default_classification(actor: User) -> str:
    """What an interaction logged by this user is classified as unless they say otherwise."""
    return str(_DEFAULT_CLASSIFICATION.get(str(actor.role), Classification.COMMERCIAL))


def interaction_can_change(*, actor: User, interaction: Interaction) -> bool:
    """May the actor edit or delete this (visible) interaction? Its author or an administrator."""
    if not can_write(actor):
        return False
    if not (is_admin(actor) or interaction.created_by_id == actor.pk):
        return False
    try:
        require_classification(actor, interaction.classification)
    except PermissionDenied:
        return False
    return True


def _pk(value: Any) -> Any:
    return getattr(value, "pk", value)


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, code: str, message: str) -> None:
        self.items.append(FieldError(field, code, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(self.items[0].message, errors=self.items)


def _resolve_account(actor: User, value: Account | int | None, errors: _Errors) -> Account | None:
    if value in (None, ""):
        errors.add("account", "required", _("Choose the account."))
        return None
    try:
        return account_get(actor=actor, account_id=int(_pk(value)))
    except (NotFound, TypeError, ValueError):
        errors.add("account", "account_not_found", _("No such account."))
        return None


def _check_fields(data: dict[str, Any], errors: _Errors) -> None:
    if data["channel"] not in Channel.values:
        errors.add("channel", "invalid_choice", _("Choose a channel: %(c)s.") % {"c": ", ".join(Channel.values)})
    subject = (data.get("subject") or "").strip()
    data["subject"] = subject
    if not subject:
        errors.add("subject", "required", _("Say in a few words what the interaction was about."))
    elif len(subject) > 255:
        errors.add("subject", "max_length", _("Keep the subject under 255 characters."))
    data["notes"] = (data.get("notes") or "").strip()
    occurred_at = data.get("occurred_at")
    if not isinstance(occurred_at, datetime):
        errors.add("occurred_at", "required", _("Say when the interaction took place."))
    else:
        if timezone.is_naive(occurred_at):
            occurred_at = timezone.make_aware(occurred_at)
        try:  # PostgreSQL takes UTC offsets up to ±15:59 only (Python up to ±23:59): store it in UTC
            occurred_at = data["occurred_at"] = occurred_at.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is before year 1 in UTC
            occurred_at = None
            errors.add("occurred_at", "out_of_range", _("Give a date and time between the years 1 and 9999."))
        if occurred_at is not None and occurred_at > timezone.now() + FUTURE_TOLERANCE:
            errors.add(
                "occurred_at",
                "in_future",
                _("An interaction is logged once it has happened: the time is in the future."),
            )
    duration = data.get("duration_minutes")
    if duration is not None and not (isinstance(duration, int) and 1 <= duration <= MAX_DURATION_MINUTES):
        errors.add(
            "duration_minutes",
            "out_of_range",
            _("The duration is a whole number of minutes from 1 to %(m)d.") % {"m": MAX_DURATION_MINUTES},
        )


def _resolve_stakeholders(
    actor: User, account: Account | None, values: Iterable[Any], errors: _Errors
) -> list[Stakeholder]:
    ids: list[int] = []
    for value in values:
        try:
            pk = int(_pk(value))
        except (TypeError, ValueError):
            errors.add("stakeholders", "invalid", _("A stakeholder is given by its id."))
            return []
        if pk not in ids:
            ids.append(pk)
    if not ids:
        return []
    found = {s.pk: s for s in stakeholder_scope(actor=actor).filter(pk__in=ids)}
    unknown = [pk for pk in ids if pk not in found]
    if unknown:
        errors.add(
            "stakeholders",
            "stakeholder_not_found",
            _("No such stakeholder: %(ids)s.") % {"ids": ", ".join(str(pk) for pk in unknown)},
        )
        return []
    if account is None:
        return list(found.values())
    eligible = set(
        interaction_eligible_stakeholders(actor=actor, account=account).filter(pk__in=ids).values_list("pk", flat=True)
    )
    outsiders = [found[pk] for pk in ids if pk not in eligible]
    if outsiders:
        errors.add(
            "stakeholders",
            "stakeholder_not_at_account",
            _("%(names)s never held a position at %(account)s or an account below it.")
            % {"names": ", ".join(s.display_name for s in outsiders), "account": account.name},
        )
    return [found[pk] for pk in ids]


def _check_consent(people: Iterable[Stakeholder], channel: Any, errors: _Errors) -> None:
    """Privacy rules of the people named: no interaction with someone who asked not to be contacted, who
    withdrew consent to contact, or whose data was erased; no email to someone without consent to email."""
    refused: list[str] = []
    no_email: list[str] = []
    for s in people:
        if s.erased_at is not None or s.do_not_contact or not s.consent_contact:
            refused.append(s.display_name)
        elif channel == Channel.EMAIL and not s.consent_email:
            no_email.append(s.display_name)
    if refused:
        errors.add(
            "stakeholders",
            "do_not_contact",
            _("%(names)s may not be contacted (do not contact, or no consent to contact).")
            % {"names": ", ".join(refused)},
        )
    if no_email:
        errors.add(
            "channel",
            "no_email_consent",
            _("%(names)s has not consented to email; choose another channel or record the consent first.")
            % {"names": ", ".join(no_email)},
        )


def _resolve_participants(values: Iterable[Any], errors: _Errors) -> list[User]:
    ids: list[int] = []
    for value in values:
        try:
            pk = int(_pk(value))
        except (TypeError, ValueError):
            errors.add("participants", "invalid", _("A participant is given by their user id."))
            return []
        if pk not in ids:
            ids.append(pk)
    found = {u.pk: u for u in User.objects.filter(pk__in=ids, is_active=True)}
    unknown = [pk for pk in ids if pk not in found]
    if unknown:
        errors.add(
            "participants",
            "participant_not_found",
            _("No such active user: %(ids)s.") % {"ids": ", ".join(str(pk) for pk in unknown)},
        )
    return [found[pk] for pk in ids if pk in found]


def _resolve_plan_work(
    actor: User, account: Account | None, tactic: Any, action: Any, errors: _Errors
) -> tuple[Tactic | None, Action | None]:
    """(tactic, action) to link; an action brings its tactic."""
    if tactic in (None, "") and action in (None, ""):
        return None, None
    if account is None:
        return None, None
    allowed = visible_tactics(actor=actor).filter(
        Q(objective__plan__account_id=account.pk)
        | Q(objective__plan__account_id__in=list(account.ancestors))
        | Q(objective__plan__account__ancestors__contains=[account.pk])
    )
    not_linkable = _(
        "Link a %(what)s from a plan of %(account)s, of an account above it or of one below it, that you can see."
    )
    found_action: Action | None = None
    if action not in (None, ""):
        try:
            found_action = (
                Action.objects.select_related("tactic").filter(pk=int(_pk(action)), tactic__in=allowed).first()
            )
        except (TypeError, ValueError):
            found_action = None
        if found_action is None:
            errors.add("action", "action_not_linkable", not_linkable % {"what": _("action"), "account": account.name})
            return None, None
    found_tactic: Tactic | None = None
    if tactic not in (None, ""):
        try:
            found_tactic = allowed.filter(pk=int(_pk(tactic))).first()
        except (TypeError, ValueError):
            found_tactic = None
        if found_tactic is None:
            errors.add("tactic", "tactic_not_linkable", not_linkable % {"what": _("tactic"), "account": account.name})
            return None, None
    if found_action is not None:
        if found_tactic is not None and found_action.tactic_id != found_tactic.pk:
            errors.add("action", "action_not_of_tactic", _("This action belongs to another tactic."))
            return None, None
        found_tactic = found_action.tactic
    return found_tactic, found_action


def _check_classification(classification: Any, errors: _Errors) -> bool:
    if classification not in Classification.values:
        errors.add(
            "classification",
            "invalid_choice",
            _("Choose a classification: %(c)s.") % {"c": ", ".join(Classification.values)},
        )
        return False
    return True


def interaction_create(
    *,
    actor: User,
    account: Account | int | None,
    occurred_at: datetime | None,
    channel: str,
    subject: str,
    classification: str | None = None,
    stakeholders: Iterable[Stakeholder | int] = (),
    participants: Iterable[User | int] | None = None,
    tactic: Tactic | int | None = None,
    action: Action | int | None = None,
    notes: str = "",
    duration_minutes: int | None = None,
    reason: str = "",
) -> Interaction:
    """Log an interaction. ``participants`` defaults to the actor; ``classification`` to the actor's
    function (medical → medical, market access → market access, else commercial)."""
    require_write(actor)
    classification = classification or default_classification(actor)
    errors = _Errors()
    if _check_classification(classification, errors):
        require_classification(actor, classification)
    the_account = _resolve_account(actor, account, errors)
    data: dict[str, Any] = {
        "occurred_at": occurred_at,
        "channel": channel,
        "subject": subject,
        "notes": notes,
        "duration_minutes": duration_minutes,
    }
    _check_fields(data, errors)
    people = _resolve_stakeholders(actor, the_account, stakeholders, errors)
    _check_consent(people, channel, errors)
    team = _resolve_participants([actor] if participants is None else participants, errors)
    the_tactic, the_action = _resolve_plan_work(actor, the_account, tactic, action, errors)
    errors.raise_if_any()
    assert the_account is not None  # a missing account was reported above
    with audit_action(actor=actor, action="activities.interaction.create", reason=reason):
        interaction = Interaction.objects.create(
            **data,
            account=the_account,
            classification=classification,
            tactic=the_tactic,
            action=the_action,
            created_by=actor,
        )
        InteractionStakeholder.objects.bulk_create(
            [InteractionStakeholder(interaction=interaction, stakeholder=s) for s in people]
        )
        InteractionParticipant.objects.bulk_create(
            [InteractionParticipant(interaction=interaction, user=u) for u in team]
        )
    return interaction


def _require_change(actor: User, interaction: Interaction) -> Interaction:
    require_write(actor)
    interaction = interaction_get(actor=actor, interaction_id=interaction.pk)
    if not (is_admin(actor) or interaction.created_by_id == actor.pk):
        raise PermissionDenied(
            _("Only the person who logged this interaction, or an administrator, can change it."),
            code="interaction_not_author",
        )
    require_classification(actor, interaction.classification)
    return interaction


def interaction_update(*, actor: User, interaction: Interaction, reason: str = "", **fields: Any) -> Interaction:
    """Correct an interaction. Any of ``EDITABLE_FIELDS``; a new account re-checks the stakeholders
    and the linked plan work; ``stakeholders``/``participants`` replace the lists."""
    unknown = sorted(set(fields) - EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown field: %(f)s") % {"f": ", ".join(unknown)}, field=unknown[0])
    interaction = _require_change(actor, interaction)
    errors = _Errors()
    classification = fields.get("classification", interaction.classification) or interaction.classification
    if "classification" in fields and _check_classification(classification, errors):
        require_classification(actor, classification)

    account: Account | None = interaction.account
    if "account" in fields and _pk(fields["account"]) != interaction.account_id:
        account = _resolve_account(actor, fields["account"], errors)
    data: dict[str, Any] = {
        key: fields.get(key, getattr(interaction, key))
        for key in ("occurred_at", "channel", "subject", "notes", "duration_minutes")
    }
    _check_fields(data, errors)

    current_people = list(interaction.stakeholders.all())
    people = _resolve_stakeholders(
        actor, account, fields["stakeholders"] or [] if "stakeholders" in fields else current_people, errors
    )
    already = {p.pk for p in current_people}
    if data["channel"] != interaction.channel:
        _check_consent(people, data["channel"], errors)  # a new channel applies to everyone named
    else:
        _check_consent([p for p in people if p.pk not in already], data["channel"], errors)  # newly named people
    team = (
        _resolve_participants(fields["participants"] or [], errors)
        if "participants" in fields
        else list(interaction.participants.all())
    )

    tactic_in = fields.get("tactic", interaction.tactic_id)
    action_in = fields.get("action", interaction.action_id)
    if "tactic" in fields and "action" not in fields and interaction.action is not None:
        # a new tactic drops an action of the old one
        action_in = interaction.action_id if interaction.action.tactic_id == _pk(fields["tactic"]) else None
    if "action" in fields and "tactic" not in fields and fields["action"] not in (None, ""):
        tactic_in = None  # the action brings its own tactic
    the_tactic, the_action = _resolve_plan_work(actor, account, tactic_in, action_in, errors)
    errors.raise_if_any()

    with audit_action(actor=actor, action="activities.interaction.update", reason=reason):
        for key, value in data.items():
            setattr(interaction, key, value)
        assert account is not None  # errors.raise_if_any() refused a missing account
        interaction.account = account
        interaction.classification = classification
        interaction.tactic = the_tactic
        interaction.action = the_action
        interaction.save()
        _replace_links(interaction, InteractionStakeholder, "stakeholder_id", {s.pk for s in people})
        _replace_links(interaction, InteractionParticipant, "user_id", {u.pk for u in team})
    return interaction_get(actor=actor, interaction_id=interaction.pk)


def _replace_links(interaction: Interaction, model: Any, column: str, wanted: set[int]) -> None:
    """Make the link rows exactly ``wanted``, touching only what changed (a clean audit trail)."""
    existing = set(model.objects.filter(interaction=interaction).values_list(column, flat=True))
    if existing - wanted:
        model.objects.filter(interaction=interaction, **{f"{column}__in": existing - wanted}).delete()
    model.objects.bulk_create([model(interaction=interaction, **{column: pk}) for pk in sorted(wanted - existing)])


def interaction_delete(*, actor: User, interaction: Interaction, reason: str = "") -> None:
    """Remove an interaction logged by mistake (its author or an administrator; history stays)."""
    interaction = _require_change(actor, interaction)
    with audit_action(actor=actor, action="activities.interaction.delete", reason=reason):
        interaction.delete()
