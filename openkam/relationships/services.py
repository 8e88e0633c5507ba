"""Relationship writes: assessments (versioned), owners, relationship strengths, influence links, decision
domains, country privacy rules, settings, role succession, reassignment and pseudonymisation.

Every function: keyword-only, access first (``require_write``; stances and strengths are commercial
judgements: ``require_judgements``), validation of everything (``ValidationFailed`` naming the field), then
one atomic, audited change. An assessment is never overwritten: a change closes the current version and
opens a new one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_get, account_scope, account_subtree
from openkam.core.access import require_admin, require_write, sees_all_accounts
from openkam.core.audit import audit_action
from openkam.core.errors import FieldError, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import User
from openkam.relationships.models import (
    AssessmentOwner,
    CountryPrivacyRule,
    DecisionDomain,
    Influence,
    InfluenceLink,
    LinkKind,
    LinkStrength,
    RelationshipSettings,
    RelationshipStrength,
    StakeholderAssessment,
    Stance,
    Strength,
)
from openkam.relationships.selectors import link_get, privacy_rule_for, settings_get
from openkam.stakeholders.models import DecisionRole, Position, Stakeholder
from openkam.stakeholders.selectors import can_see_judgements, position_get, stakeholder_get
from openkam.stakeholders.services import position_succeed

_UNSET: Any = object()


def require_judgements(actor: User) -> None:
    require_write(actor)
    if not can_see_judgements(actor):
        raise PermissionDenied(
            _("Assessments, stances and relationship strengths are commercial records your role does not work with."),
            code="classification_forbidden",
        )


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors[0].message, code=errors[0].code, errors=errors)


def _int_in(value: Any, field: str, lo: int, hi: int, what: str, errors: list[FieldError]) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
        if str(number) != str(value).strip() and not isinstance(value, int):
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError(field, "invalid", _("%(w)s must be a whole number.") % {"w": what}))
        return None
    if isinstance(value, bool) or not lo <= number <= hi:
        errors.append(
            FieldError(
                field,
                "out_of_scale",
                _("%(w)s must be on the scale %(lo)s to %(hi)s (got %(v)s).")
                % {"w": what, "lo": lo, "hi": hi, "v": value},
            )
        )
        return None
    return number


def _on_account(account: Account, stakeholder: Stakeholder) -> None:
    """The person must hold (or have held) a position at the account or below it."""
    if not Position.objects.filter(
        account_id__in=account_subtree(account=account), stakeholder_id=stakeholder.pk
    ).exists():
        raise ValidationFailed(
            _("%(p)s holds no position at %(a)s or below it: add the position first.")
            % {"p": stakeholder, "a": account.name},
            field="stakeholder",
            code="stakeholder_not_at_account",
        )


def _assessable(stakeholder: Stakeholder) -> None:
    if stakeholder.erased_at is not None:
        raise RuleViolation(_("This person's data was erased on request."), field="stakeholder", code="erased")
    if stakeholder.privacy_restricted:
        raise RuleViolation(
            _("%(p)s is marked privacy restricted: no profiling or assessment of this person.") % {"p": stakeholder},
            field="stakeholder",
            code="privacy_restricted",
        )


def _context(actor: User, account_id: int, stakeholder_id: int) -> tuple[Account, Stakeholder]:
    account = account_get(actor=actor, account_id=account_id)
    stakeholder = stakeholder_get(actor=actor, stakeholder_id=stakeholder_id)
    _on_account(account, stakeholder)
    return account, stakeholder


def _active_user(user_id: Any, field: str) -> User:
    user = User.objects.filter(pk=user_id).first() if str(user_id).isdigit() else None
    if user is None:
        raise ValidationFailed(_("No such user: %(u)s.") % {"u": user_id}, field=field, code="user_not_found")
    if not user.is_active:
        raise ValidationFailed(
            _("%(u)s is inactive: choose an active team member.") % {"u": user.get_full_name() or user.get_username()},
            field=field,
            code="user_inactive",
        )
    return user


# --- assessments ------------------------------------------------------------------------------------
def assessment_record(
    *,
    actor: User,
    account_id: int,
    stakeholder_id: int,
    decision_role: str = DecisionRole.UNKNOWN,
    domain_ids: Iterable[Any] = (),
    stance: int | None = None,
    influence: int | None = None,
    note: str = "",
    reason: str = "",
    effective_from: dt.datetime | None = None,
) -> StakeholderAssessment:
    """Record the assessment of a stakeholder at an account: a new version (the current one is closed at
    the same instant). Unchanged values record nothing and return the current version."""
    require_judgements(actor)
    account, stakeholder = _context(actor, account_id, stakeholder_id)
    _assessable(stakeholder)
    errors: list[FieldError] = []
    if decision_role not in DecisionRole.values:
        errors.append(
            FieldError("decision_role", "invalid_choice", _("“%(v)s” is not a decision role.") % {"v": decision_role})
        )
    stance_v = _int_in(stance, "stance", Stance.OPPONENT, Stance.ADVOCATE, _("Stance"), errors)
    influence_v = _int_in(influence, "influence", Influence.VERY_LOW, Influence.VERY_HIGH, _("Influence"), errors)
    wanted: list[int] = []
    for d in domain_ids or ():
        if not str(d).isdigit():
            errors.append(FieldError("domain_ids", "invalid", _("“%(v)s” is not a decision domain.") % {"v": d}))
            continue
        if int(d) not in wanted:
            wanted.append(int(d))
    if wanted:
        found = set(DecisionDomain.objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
        missing = [d for d in wanted if d not in found]
        if missing:
            errors.append(
                FieldError(
                    "domain_ids", "domain_unknown", _("No active decision domain with id %(d)s.") % {"d": missing[0]}
                )
            )
    rule = privacy_rule_for(stakeholder.country)
    if stance_v is not None and rule is not None and not rule.allow_stance:
        errors.append(
            FieldError(
                "stance",
                "stance_not_allowed",
                _("Local rules for %(c)s do not allow recording a stance toward us; leave it empty.")
                % {"c": stakeholder.country},
            )
        )
    if len(note or "") > 5000:
        errors.append(FieldError("note", "max_length", _("A note has at most 5,000 characters.")))
    _raise(errors)
    now = effective_from or timezone.now()
    domains = sorted(wanted)
    current = StakeholderAssessment.objects.filter(
        account_id=account.pk, stakeholder_id=stakeholder.pk, superseded_at__isnull=True
    ).first()
    if current is not None and (
        current.decision_role == decision_role
        and sorted(current.domain_ids) == domains
        and current.stance == stance_v
        and current.influence == influence_v
        and current.note == (note or "")
    ):
        return current
    if current is not None and now < current.effective_from:
        now = current.effective_from
    with audit_action(actor=actor, action="relationships.assessment.record", reason=reason):
        if current is not None:
            current.superseded_at = now
            current.save(update_fields=["superseded_at"])
        return StakeholderAssessment.objects.create(
            account=account,
            stakeholder=stakeholder,
            decision_role=decision_role,
            domain_ids=domains,
            stance=stance_v,
            influence=influence_v,
            note=note or "",
            effective_from=now,
            recorded_by=actor,
        )


def assessment_owners_set(
    *, actor: User, account_id: int, stakeholder_id: int, user_ids: Iterable[Any], reason: str = ""
) -> list[AssessmentOwner]:
    """Set the internal owner(s) of the relationship with a stakeholder at an account (active users)."""
    require_judgements(actor)
    account, stakeholder = _context(actor, account_id, stakeholder_id)
    users = []
    for uid in user_ids or ():
        user = _active_user(uid, "user_ids")
        if user not in users:
            users.append(user)
    with audit_action(actor=actor, action="relationships.owner.set", reason=reason):
        AssessmentOwner.objects.filter(account=account, stakeholder=stakeholder).exclude(
            user_id__in=[u.pk for u in users]
        ).delete()
        have = set(
            AssessmentOwner.objects.filter(account=account, stakeholder=stakeholder).values_list("user_id", flat=True)
        )
        for u in users:
            if u.pk not in have:
                AssessmentOwner.objects.create(
                    account=account, stakeholder=stakeholder, user=u, since=timezone.localdate()
                )
    return list(AssessmentOwner.objects.filter(account=account, stakeholder=stakeholder).select_related("user"))


def strength_set(
    *,
    actor: User,
    account_id: int,
    stakeholder_id: int,
    user_id: int,
    current: int,
    desired: int | None = None,
    note: str = "",
    reason: str = "",
) -> RelationshipStrength:
    """How well one of our (active) people knows a stakeholder at an account, now and as wanted."""
    require_judgements(actor)
    account, stakeholder = _context(actor, account_id, stakeholder_id)
    if stakeholder.erased_at is not None:
        raise RuleViolation(_("This person's data was erased on request."), field="stakeholder", code="erased")
    errors: list[FieldError] = []
    cur = _int_in(current, "current", Strength.NONE, Strength.STRONG, _("Current strength"), errors)
    if cur is None and not any(e.field == "current" for e in errors):
        errors.append(FieldError("current", "required", _("Choose the current strength.")))
    des = _int_in(desired, "desired", Strength.NONE, Strength.STRONG, _("Desired strength"), errors)
    try:
        user = _active_user(user_id, "user_id")
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    _raise(errors)
    assert cur is not None
    with audit_action(actor=actor, action="relationships.strength.set", reason=reason):
        row, _created = RelationshipStrength.objects.update_or_create(
            account=account,
            stakeholder=stakeholder,
            user=user,
            defaults={
                "current": cur,
                "desired": des if des is not None else max(cur, Strength.GOOD),
                "note": note or "",
            },
        )
    return row


def strength_remove(*, actor: User, account_id: int, stakeholder_id: int, user_id: int, reason: str = "") -> int:
    require_judgements(actor)
    account, stakeholder = _context(actor, account_id, stakeholder_id)
    with audit_action(actor=actor, action="relationships.strength.remove", reason=reason):
        n, _d = RelationshipStrength.objects.filter(account=account, stakeholder=stakeholder, user_id=user_id).delete()
    return n


# --- influence links --------------------------------------------------------------------------------
def _link_rules(kind: str, directional: bool | None, a: Stakeholder, b: Stakeholder, errors: list[FieldError]) -> bool:
    if kind not in LinkKind.values:
        errors.append(FieldError("kind", "invalid_choice", _("“%(v)s” is not a kind of link.") % {"v": kind}))
        return bool(directional)
    if kind == LinkKind.REPORTS_TO:
        if directional is False:
            errors.append(
                FieldError("directional", "reports_to_directional", _("“Reports to” always has a direction."))
            )
        return True
    if kind == LinkKind.PEER:
        return False
    if directional is None:
        directional = kind == LinkKind.INFLUENCES
    if directional and kind == LinkKind.INFLUENCES:
        for p in (a, b):
            rule = privacy_rule_for(p.country)
            if rule is not None and not rule.allow_directional_influence:
                errors.append(
                    FieldError(
                        "directional",
                        "direction_not_allowed",
                        _(
                            "Local rules for %(c)s (%(p)s) do not allow directional influence: "
                            "record it without direction."
                        )
                        % {"c": p.country, "p": p},
                    )
                )
                break
    return bool(directional)


def link_create(
    *,
    actor: User,
    from_stakeholder_id: int,
    to_stakeholder_id: int,
    kind: str,
    strength: int = LinkStrength.MODERATE,
    directional: bool | None = None,
    evidence: str = "",
    reason: str = "",
) -> InfluenceLink:
    """Link two visible people. A link to oneself, a duplicate of the same kind, a strength outside 1–3 or a
    direction forbidden by a country's rules is refused; nothing is written."""
    if kind in (LinkKind.INFLUENCES, LinkKind.CONFLICTS_WITH):
        require_judgements(actor)
    else:
        require_write(actor)
    errors: list[FieldError] = []
    if str(from_stakeholder_id) == str(to_stakeholder_id):
        raise ValidationFailed(
            _("A person cannot be linked to themselves: choose two different people."),
            field="to_stakeholder_id",
            code="self_link",
        )
    a = stakeholder_get(actor=actor, stakeholder_id=from_stakeholder_id)
    b = stakeholder_get(actor=actor, stakeholder_id=to_stakeholder_id)
    value = _int_in(strength, "strength", LinkStrength.WEAK, LinkStrength.STRONG, _("Link strength"), errors)
    direction = _link_rules(kind, directional, a, b, errors)
    if len(evidence or "") > 5000:
        errors.append(FieldError("evidence", "max_length", _("Evidence has at most 5,000 characters.")))
    if kind in LinkKind.values:
        dup = InfluenceLink.objects.filter(kind=kind).filter(
            Q(from_stakeholder=a, to_stakeholder=b)
            | (Q(from_stakeholder=b, to_stakeholder=a) if not direction else Q(pk__in=[]))
        )
        if dup.exists():
            errors.append(
                FieldError(
                    "kind",
                    "link_exists",
                    _("%(a)s and %(b)s are already linked as “%(k)s”.") % {"a": a, "b": b, "k": LinkKind(kind).label},
                )
            )
    _raise(errors)
    with audit_action(actor=actor, action="relationships.link.create", reason=reason):
        try:
            return InfluenceLink.objects.create(
                from_stakeholder=a,
                to_stakeholder=b,
                kind=kind,
                strength=value or LinkStrength.MODERATE,
                directional=direction,
                evidence=evidence or "",
                created_by=actor,
            )
        except IntegrityError:
            raise ValidationFailed(_("These two people are already linked this way."), field="kind", code="link_exists")


def link_update(
    *,
    actor: User,
    link_id: int,
    strength: Any = _UNSET,
    directional: Any = _UNSET,
    evidence: Any = _UNSET,
    reason: str = "",
) -> InfluenceLink:
    link = link_get(actor=actor, link_id=link_id)
    if link.kind in (LinkKind.INFLUENCES, LinkKind.CONFLICTS_WITH):
        require_judgements(actor)
    else:
        require_write(actor)
    errors: list[FieldError] = []
    if strength is not _UNSET:
        v = _int_in(strength, "strength", LinkStrength.WEAK, LinkStrength.STRONG, _("Link strength"), errors)
        if v is not None:
            link.strength = v
    if directional is not _UNSET:
        link.directional = _link_rules(link.kind, directional, link.from_stakeholder, link.to_stakeholder, errors)
    if evidence is not _UNSET:
        link.evidence = evidence or ""
    _raise(errors)
    with audit_action(actor=actor, action="relationships.link.update", reason=reason):
        link.save()
    return link


def link_delete(*, actor: User, link_id: int, reason: str = "") -> None:
    link = link_get(actor=actor, link_id=link_id)
    if link.kind in (LinkKind.INFLUENCES, LinkKind.CONFLICTS_WITH):
        require_judgements(actor)
    else:
        require_write(actor)
    with audit_action(actor=actor, action="relationships.link.delete", reason=reason):
        link.delete()


# --- reference data and settings (admin) ------------------------------------------------------------
def domain_create(*, actor: User, name: str, description: str = "", reason: str = "") -> DecisionDomain:
    require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Enter the domain's name."), field="name", code="required")
    if len(name) > 100:
        raise ValidationFailed(_("A name has at most 100 characters."), field="name", code="max_length")
    code = slugify(name)[:40] or "domain"
    if DecisionDomain.objects.filter(Q(name__iexact=name) | Q(code=code)).exists():
        raise ValidationFailed(
            _("A decision domain “%(n)s” exists already.") % {"n": name}, field="name", code="duplicate"
        )
    with audit_action(actor=actor, action="relationships.domain.create", reason=reason):
        return DecisionDomain.objects.create(code=code, name=name, description=description or "", position=200)


def domain_update(
    *,
    actor: User,
    domain_id: int,
    name: Any = _UNSET,
    description: Any = _UNSET,
    is_active: Any = _UNSET,
    reason: str = "",
) -> DecisionDomain:
    """Rename, describe, (de)activate a domain. Standard domains can be renamed but not deactivated."""
    require_admin(actor)
    d = DecisionDomain.objects.filter(pk=domain_id).first()
    if d is None:
        raise NotFound(_("No such decision domain."), code="domain_not_found")
    if name is not _UNSET:
        name = (name or "").strip()
        if not name:
            raise ValidationFailed(_("Enter the domain's name."), field="name", code="required")
        if DecisionDomain.objects.filter(name__iexact=name).exclude(pk=d.pk).exists():
            raise ValidationFailed(
                _("A decision domain “%(n)s” exists already.") % {"n": name}, field="name", code="duplicate"
            )
        d.name = name
    if description is not _UNSET:
        d.description = description or ""
    if is_active is not _UNSET:
        if d.is_standard and not is_active:
            raise RuleViolation(
                _("The standard decision domains stay active."), field="is_active", code="standard_domain"
            )
        d.is_active = bool(is_active)
    with audit_action(actor=actor, action="relationships.domain.update", reason=reason):
        d.save()
    return d


def privacy_rule_set(
    *,
    actor: User,
    country: str,
    allow_stance: bool = True,
    allow_directional_influence: bool = True,
    assessment_retention_days: int | None = None,
    note: str = "",
    reason: str = "",
) -> CountryPrivacyRule:
    """Set what local rules allow for people of a country (ISO 3166 alpha-2)."""
    require_admin(actor)
    code = (country or "").strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ValidationFailed(_("Enter a two-letter country code, e.g. DE."), field="country", code="invalid")
    errors: list[FieldError] = []
    days = _int_in(assessment_retention_days, "assessment_retention_days", 1, 36500, _("Retention"), errors)
    _raise(errors)
    with audit_action(actor=actor, action="relationships.privacy_rule.set", reason=reason):
        rule, _c = CountryPrivacyRule.objects.update_or_create(
            country=code,
            defaults={
                "allow_stance": bool(allow_stance),
                "allow_directional_influence": bool(allow_directional_influence),
                "assessment_retention_days": days,
                "note": note or "",
            },
        )
    return rule


def privacy_rule_delete(*, actor: User, country: str, reason: str = "") -> None:
    require_admin(actor)
    with audit_action(actor=actor, action="relationships.privacy_rule.delete", reason=reason):
        n, _d = CountryPrivacyRule.objects.filter(country=(country or "").upper()).delete()
    if not n:
        raise NotFound(_("No rule for this country."), code="privacy_rule_not_found")


def settings_update(*, actor: User, reason: str = "", **fields: Any) -> RelationshipSettings:
    require_admin(actor)
    allowed = {
        "internal_share_limit": (1, 100),
        "stakeholder_share_limit": (1, 100),
        "key_person_days": (1, 3650),
        "assessment_retention_days": (1, 36500),
    }
    errors: list[FieldError] = []
    s = settings_get()
    for key, value in fields.items():
        if key not in allowed:
            errors.append(FieldError(key, "unknown_field", _("Unknown field: %(f)s") % {"f": key}))
            continue
        lo, hi = allowed[key]
        v = _int_in(value, key, lo, hi, key, errors)
        if v is None and key != "assessment_retention_days" and not any(e.field == key for e in errors):
            errors.append(FieldError(key, "required", _("Enter a number.")))
        setattr(s, key, v)
    _raise(errors)
    with audit_action(actor=actor, action="relationships.settings.update", reason=reason):
        s.save()
    return s


# --- role changes -----------------------------------------------------------------------------------
def role_succeed(
    *,
    actor: User,
    position_id: int,
    stakeholder_id: int,
    valid_from: dt.date | None = None,
    carry_seat_ids: list[int] | None = None,
    reason: str = "",
) -> Position:
    """Name the new incumbent of a role (vacated or about to be): the position and the committee seats that
    go with it move over (``stakeholders.services.position_succeed``), and the decision role and domains of
    the former holder's assessments at the role's account and above it are carried to the successor (their
    stance and influence are not: those are about the person). The former holder's history stays."""
    require_write(actor)
    old = position_get(actor=actor, position_id=position_id)
    new_person = stakeholder_get(actor=actor, stakeholder_id=stakeholder_id)
    judge = can_see_judgements(actor)
    carry = judge and new_person.erased_at is None and not new_person.privacy_restricted
    with audit_action(actor=actor, action="relationships.role.succeed", reason=reason):
        new_position, _seats = position_succeed(
            actor=actor,
            position=old,
            stakeholder=new_person,
            valid_from=valid_from,
            carry_seat_ids=carry_seat_ids,
            reason=reason,
        )
        if carry:
            acct = old.account
            carried = StakeholderAssessment.objects.filter(
                Q(account_id=acct.pk) | Q(account_id__in=list(acct.ancestors or [])),
                stakeholder_id=old.stakeholder_id,
                superseded_at__isnull=True,
            )
            for a in carried:
                mine = StakeholderAssessment.objects.filter(
                    account_id=a.account_id, stakeholder_id=new_person.pk, superseded_at__isnull=True
                ).first()
                domains = sorted(set(a.domain_ids) | set(mine.domain_ids if mine else []))
                now = timezone.now()
                if mine is not None:
                    mine.superseded_at = max(now, mine.effective_from)
                    mine.save(update_fields=["superseded_at"])
                StakeholderAssessment.objects.create(
                    account_id=a.account_id,
                    stakeholder=new_person,
                    decision_role=a.decision_role,
                    domain_ids=domains,
                    stance=mine.stance if mine else None,
                    influence=mine.influence if mine else None,
                    note=_("Took over the role “%(t)s” from %(p)s.") % {"t": old.title, "p": old.stakeholder},
                    effective_from=max(now, mine.effective_from) if mine else now,
                    recorded_by=actor,
                )
    return new_position


# --- for other apps: knowledge transfer and personal data -------------------------------------------
def relationships_reassign(
    *,
    actor: User,
    from_user_id: int,
    to_user_id: int,
    account_ids: list[int] | None = None,
    reason: str,
) -> int:
    """Move the relationship ownership and strength rows of ``from_user`` to ``to_user`` — at the given
    accounts and every account below them, or everywhere the actor may see — and return the rows changed.
    Where ``to_user`` already has a row for the same person at the same account, their row is kept and the
    leaver's is removed (the audit trail records both, with ``reason``). Runs inside the caller's
    transaction (a savepoint of its own)."""
    require_write(actor)
    if str(from_user_id) == str(to_user_id):
        raise ValidationFailed(_("Choose another person to hand over to."), field="to_user_id", code="same_user")
    if not (str(from_user_id).isdigit() and User.objects.filter(pk=from_user_id).exists()):
        raise ValidationFailed(
            _("No such user: %(u)s.") % {"u": from_user_id}, field="from_user_id", code="user_not_found"
        )
    target = _active_user(to_user_id, "to_user_id")
    if account_ids is not None:
        roots = [account_get(actor=actor, account_id=a) for a in account_ids]
        where = Q(pk__in=[])
        for r in roots:
            where |= Q(account_id__in=account_subtree(account=r))
    elif sees_all_accounts(actor):
        where = Q()
    else:
        where = Q(account__in=account_scope(actor=actor))
    changed = 0
    with audit_action(actor=actor, action="relationships.relationships.reassign", reason=reason):
        for model in (AssessmentOwner, RelationshipStrength):
            rows = model.objects.filter(where, user_id=from_user_id)  # type: ignore[attr-defined]
            taken = set(
                model.objects.filter(  # type: ignore[attr-defined]
                    user_id=target.pk, stakeholder_id__in=rows.values("stakeholder_id")
                ).values_list("account_id", "stakeholder_id")
            )
            dupes = [
                r.pk
                for r in rows.only("pk", "account_id", "stakeholder_id")
                if (r.account_id, r.stakeholder_id) in taken
            ]
            if dupes:
                model.objects.filter(pk__in=dupes).delete()  # type: ignore[attr-defined]
                changed += len(dupes)
            changed += rows.exclude(pk__in=dupes).update(user_id=target.pk)
    return changed


def stakeholder_relationships_pseudonymise(*, actor: User, stakeholder_id: int) -> int:
    """On erasure: clear the free text about one stakeholder (assessment notes, every version; strength
    notes; link evidence), keeping the structure and the audit trail. Returns the rows changed. Runs inside
    the caller's transaction. Visible to the actor (compliance/admin see every stakeholder)."""
    stakeholder_get(actor=actor, stakeholder_id=stakeholder_id)
    changed = 0
    with audit_action(actor=actor, action="relationships.stakeholder.pseudonymise", reason="erasure on request"):
        changed += StakeholderAssessment.objects.filter(stakeholder_id=stakeholder_id).exclude(note="").update(note="")
        changed += RelationshipStrength.objects.filter(stakeholder_id=stakeholder_id).exclude(note="").update(note="")
        changed += (
            InfluenceLink.objects.filter(Q(from_stakeholder_id=stakeholder_id) | Q(to_stakeholder_id=stakeholder_id))
            .exclude(evidence="")
            .update(evidence="")
        )
    return changed


def assessment_retention_apply(*, actor: User | None, today: dt.date | None = None) -> int:
    """Delete superseded assessment versions older than the retention of the stakeholder's country (else the
    default in the settings); current versions always stay. Returns the versions deleted."""
    if actor is not None:
        require_admin(actor)
    now = timezone.now() if today is None else timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    default = settings_get().assessment_retention_days
    rules = {
        r.country: r.assessment_retention_days
        for r in CountryPrivacyRule.objects.exclude(assessment_retention_days__isnull=True)
    }
    deleted = 0
    with audit_action(actor=actor, action="relationships.assessment.retention", reason="retention"):
        for country, days in rules.items():
            if days:
                n, _d = StakeholderAssessment.objects.filter(
                    superseded_at__lt=now - dt.timedelta(days=days), stakeholder__country=country
                ).delete()
                deleted += n
        if default:
            n, _d = (
                StakeholderAssessment.objects.filter(superseded_at__lt=now - dt.timedelta(days=default))
                .exclude(stakeholder__country__in=list(rules))
                .delete()
            )
            deleted += n
    return deleted


# stored in English (the data); shown translated (``selectors.domain_label``), hence marked for translation here
STANDARD_DOMAINS = (
    ("contractual", gettext_noop("Contractual")),
    ("financial", gettext_noop("Financial")),
    ("regulatory_compliance", gettext_noop("Regulatory compliance")),
    ("registration_listing", gettext_noop("Registration and listing")),
    ("reimbursement_payment", gettext_noop("Reimbursement and payment")),
    ("science_efficacy", gettext_noop("Science and efficacy")),
    ("supply_chain", gettext_noop("Supply chain")),
)


def domain_install_standard() -> int:
    """(Re)create the seven standard decision domains (migration 0002 seeds them; call this after anything that
    emptied the table, e.g. a flush). Returns how many were created."""
    created = 0
    for i, (code, name) in enumerate(STANDARD_DOMAINS, start=1):
        _d, new = DecisionDomain.objects.get_or_create(
            code=code, defaults={"name": name, "is_standard": True, "position": i * 10}
        )
        created += int(new)
    return created


def settings_ensure() -> RelationshipSettings:
    return RelationshipSettings.objects.get_or_create(pk=1)[0]
