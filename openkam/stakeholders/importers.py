"""NPPES import: create or update stakeholders (NPI-1) and organisation accounts (NPI-2) from NPI Registry
API v2.1 answers (parsed by :mod:`openkam.interop.nppes`).

Two steps, as a user expects from an import:

1. :func:`nppes_import_preview` — a dry run: what would be created, updated (field by field, old → new) or
   skipped and why. Writes nothing; a constant number of queries whatever the file's size.
2. :func:`nppes_import_apply` — the same plan, recomputed inside one audited transaction and carried out through
   the ordinary services (``stakeholder_create/_update``, ``account_create/_update``), so every field rule and
   access rule applies. All or nothing: one refused row rolls the whole import back. Started as a job
   (``stakeholders.nppes_import``, see ``jobs.py``) with :func:`nppes_import_start`.

Matching is by NPI. People: names, prefix, credential and specialty (the primary taxonomy first, mapped through
the NUCC table; the next taxonomy when a code is unknown) are kept in line with the registry; phone is filled
when empty; email, consent, notes and positions are never touched. A new person gets a primary position at the
account chosen for the import (title: the primary taxonomy). Organisations: address and phone are kept in
line; the name, once created, is the user's (registry names are legal names in capitals). Deactivated NPIs,
people erased on request and records outside the importer's accounts are skipped with the reason.

Who may import: key account managers, KAM leads, market access and administrators (roles that create
accounts); see docs/nppes-import.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from openkam.accounts import services as account_services
from openkam.accounts.models import Account, AccountType
from openkam.accounts.selectors import account_get, account_scope
from openkam.core.access import can_write, is_admin, sees_all_accounts
from openkam.core.audit import audit_action
from openkam.core.errors import DomainError, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import Role, User
from openkam.interop import nppes
from openkam.stakeholders import services as stakeholder_services
from openkam.stakeholders.models import DecisionRole, Specialty, Stakeholder, StakeholderKind
from openkam.stakeholders.selectors import stakeholder_scope

IMPORT_ROLES = frozenset({Role.KAM, Role.LEAD, Role.MARKET_ACCESS, Role.ADMIN})
CREATE, UPDATE, SKIP = "create", "update", "skip"
PERSON, ORGANISATION = "person", "organisation"

# NUCC grouping of a person's specialty → the kind of stakeholder
_KIND_BY_GROUPING = {
    "Allopathic & Osteopathic Physicians": StakeholderKind.PHYSICIAN,
    "Pharmacy Service Providers": StakeholderKind.PHARMACIST,
    "Nursing Service Providers": StakeholderKind.NURSE,
    "Physician Assistants & Advanced Practice Nursing Providers": StakeholderKind.NURSE,
}
# NUCC grouping of an organisation's taxonomy → the type of account
_TYPE_BY_GROUPING = {
    "Hospitals": AccountType.HOSPITAL,
    "Hospital Units": AccountType.DEPARTMENT,
    "Ambulatory Health Care Facilities": AccountType.CLINIC,
    "Group": AccountType.CLINIC,
    "Managed Care Organizations": AccountType.PAYER,
}
_PHARMACY_CLASSIFICATIONS = frozenset({"Pharmacy"})


def nppes_can_import(actor: User) -> bool:
    """May ``actor`` import from NPPES (commercial roles that create accounts, market access, administrators)?"""
    return can_write(actor) and (actor.role in IMPORT_ROLES or is_admin(actor))


def _require_import(actor: User) -> None:
    if not nppes_can_import(actor):
        raise PermissionDenied(
            _("Only key account managers, KAM leads, market access and administrators can import from NPPES."),
            code="nppes_import_forbidden",
        )


# --- the plan -----------------------------------------------------------------------------------------
@dataclass
class Change:
    field: str
    label: str
    old: str
    new: str


@dataclass
class Row:
    """What the import does with one provider of the file."""

    number: int  # 1-based position in the file
    npi: str
    entity: str  # person | organisation
    name: str
    action: str  # create | update | skip
    reason: str = ""
    changes: list[Change] = field(default_factory=list)
    existing_id: int | None = None
    specialty: str = ""  # person: NUCC display name; organisation: account type label
    skip: str = ""  # why it is skipped: deactivated | erased | not_visible | up_to_date | needs_account
    values: dict[str, Any] = field(default_factory=dict, repr=False)  # the fields to write


@dataclass
class ImportPlan:
    rows: list[Row]
    account: Account | None  # where new people get their position
    parent: Account | None  # under which new organisations are created
    responses: int = 0

    def count(self, action: str, entity: str | None = None) -> int:
        return sum(1 for r in self.rows if r.action == action and (entity is None or r.entity == entity))

    @property
    def created(self) -> int:
        return self.count(CREATE)

    @property
    def updated(self) -> int:
        return self.count(UPDATE)

    @property
    def skipped(self) -> int:
        return self.count(SKIP)

    @property
    def people(self) -> int:
        return sum(1 for r in self.rows if r.entity == PERSON)

    @property
    def organisations(self) -> int:
        return sum(1 for r in self.rows if r.entity == ORGANISATION)

    @property
    def people_need_account(self) -> int:
        """New people skipped only because no account for new people was chosen."""
        return sum(1 for r in self.rows if r.skip == "needs_account")

    @property
    def has_work(self) -> bool:
        return any(r.action != SKIP for r in self.rows)

    def summary(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "people": self.people,
            "organisations": self.organisations,
            "people_need_account": self.people_need_account,
            "account_id": self.account.pk if self.account else None,
            "parent_id": self.parent.pk if self.parent else None,
        }

    def as_dict(self) -> dict[str, Any]:
        rows = []
        for r in self.rows:
            row = asdict(r)
            row.pop("values")
            rows.append(row)
        return {**self.summary(), "rows": rows}


def _parse(payload: bytes | str | dict[str, Any] | list[Any]) -> nppes.NppesBatch:
    try:
        return nppes.parse_response(payload)
    except nppes.NppesError as exc:
        raise ValidationFailed(exc.message, field="file", code=exc.code) from None


_NAME_PART = re.compile(r"([A-Za-zÀ-ÿ]+)")


def name_case(value: str) -> str:
    """Registry names are in capitals: ``O'NEIL-SMITH`` → ``O'Neil-Smith``, ``MCCRANIE`` → ``McCranie``."""
    if not value or not value.isupper():
        return value

    def word(m: re.Match[str]) -> str:
        w = m.group(1).capitalize()
        if len(w) > 3 and w.startswith("Mc"):
            w = "Mc" + w[2:].capitalize()
        return w

    return _NAME_PART.sub(word, value)


def _specialty_for(taxonomies: tuple[nppes.Taxonomy, ...], table: dict[str, Specialty]) -> Specialty | None:
    """The NUCC specialty of the primary taxonomy — or of the next one the NUCC table knows."""
    for tax in taxonomies:
        if tax.code in table:
            return table[tax.code]
    return None


def _account_type(taxonomies: tuple[nppes.Taxonomy, ...], table: dict[str, Specialty]) -> str:
    spec = _specialty_for(taxonomies, table)
    if spec is None:
        return AccountType.OTHER
    if spec.classification in _PHARMACY_CLASSIFICATIONS:
        return AccountType.PHARMACY
    if spec.section == "Individual":  # a group practice enumerated with its practitioners' taxonomy
        return AccountType.CLINIC
    return _TYPE_BY_GROUPING.get(spec.grouping, AccountType.OTHER)


def _diff(current: dict[str, Any], wanted: dict[str, Any], labels: dict[str, str]) -> list[Change]:
    changes = []
    for key, new in wanted.items():
        old = current.get(key)
        if (old or "") == (new or ""):
            continue
        changes.append(Change(key, _(labels.get(key, key)), _show(old), _show(new)))
    return changes


def _show(value: Any) -> str:
    if isinstance(value, Specialty):
        return value.display_name
    return "" if value is None else str(value)


def _person_values(p: nppes.Individual, specialty: Specialty | None) -> dict[str, Any]:
    return {
        "prefix": name_case(p.prefix)[:20],
        "first_name": name_case(p.first_name)[:100],
        "last_name": name_case(p.last_name)[:100],
        "credentials": p.credential[:60],
        "specialty": specialty,
    }


_PERSON_LABELS = {
    "prefix": _("prefix"),
    "first_name": _("first name"),
    "last_name": _("last name"),
    "credentials": _("credentials"),
    "specialty": _("specialty"),
    "phone": _("phone"),
}
_ORG_LABELS = {
    "address_line": _("address"),
    "city": _("city"),
    "state": _("state / region"),
    "postal_code": _("postal code"),
    "country": _("country"),
    "phone": _("phone"),
}


def _org_values(o: nppes.Organisation) -> dict[str, Any]:
    loc = o.location or o.mailing
    if loc is None:
        return {"phone": o.phone[:40]}
    return {
        "address_line": loc.street[:255],
        "city": name_case(loc.city)[:100],
        "state": loc.state[:100],
        "postal_code": loc.postal_code_display[:20],
        "country": (loc.country_code or "US")[:2],
        "phone": (loc.phone or o.phone)[:40],
    }


def _visible_ids(actor: User, qs: QuerySet[Any], ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(qs.filter(pk__in=ids).values_list("pk", flat=True))


def _plan(*, actor: User, batch: nppes.NppesBatch, account_id: int | None, parent_id: int | None) -> ImportPlan:
    """The dry run: compare every provider of the file with what OpenKAM holds (5 queries in all)."""
    account = _target(actor, account_id, "account_id")
    parent = _target(actor, parent_id, "parent_id")
    codes = {t.code for p in batch.providers for t in p.taxonomies}
    table = {s.code: s for s in Specialty.objects.filter(code__in=codes)}
    people = {
        s.npi: s
        for s in Stakeholder.objects.select_related("specialty").filter(npi__in=[p.npi for p in batch.individuals])
    }
    orgs = {a.npi: a for a in Account.objects.filter(npi__in=[o.npi for o in batch.organisations])}
    if sees_all_accounts(actor):
        seen_people, seen_orgs = {s.pk for s in people.values()}, {a.pk for a in orgs.values()}
    else:
        seen_people = _visible_ids(actor, stakeholder_scope(actor=actor), [s.pk for s in people.values()])
        seen_orgs = _visible_ids(actor, account_scope(actor=actor), [a.pk for a in orgs.values()])
    rows: list[Row] = []
    for provider in batch.providers:
        if isinstance(provider, nppes.Individual):
            rows.append(_plan_person(provider, table, people.get(provider.npi), seen_people, account))
        else:
            rows.append(_plan_org(provider, table, orgs.get(provider.npi), seen_orgs, parent))
    return ImportPlan(rows=rows, account=account, parent=parent, responses=batch.responses)


def _target(actor: User, account_id: int | None, field_name: str) -> Account | None:
    if account_id in (None, ""):
        return None
    try:
        return account_get(actor=actor, account_id=int(account_id))  # type: ignore[arg-type]
    except (NotFound, TypeError, ValueError):
        raise ValidationFailed(_("No such account."), field=field_name, code="account_not_found") from None


def _plan_person(
    p: nppes.Individual,
    table: dict[str, Specialty],
    existing: Stakeholder | None,
    visible: set[int],
    account: Account | None,
) -> Row:
    specialty = _specialty_for(p.taxonomies, table)
    name = " ".join(x for x in (name_case(p.first_name), name_case(p.last_name)) if x)
    if p.credential:
        name = f"{name}, {p.credential}"
    row = Row(
        number=p.index + 1,
        npi=p.npi,
        entity=PERSON,
        name=name,
        action=SKIP,
        specialty=specialty.display_name if specialty else "",
    )
    unknown = [t.code for t in p.taxonomies if t.code not in table]
    note = (
        _("Taxonomy %(codes)s is not in the NUCC table.") % {"codes": ", ".join(unknown)}
        if unknown and not specialty
        else ""
    )
    if not p.is_active:
        row.reason = _("Deactivated in the NPI Registry.")
        row.skip = "deactivated"
        return row
    values = _person_values(p, specialty)
    if existing is not None:
        row.existing_id = existing.pk
        if existing.erased_at is not None:
            row.reason = _("This person's data was erased on request; they are not imported again.")
            row.skip = "erased"
            return row
        if existing.pk not in visible:
            row.existing_id = None
            row.reason = _("Already in OpenKAM at accounts you cannot see; ask an administrator.")
            row.skip = "not_visible"
            return row
        current = {k: getattr(existing, k) for k in values}
        if specialty is None:  # an unknown taxonomy never clears a specialty someone chose
            values.pop("specialty")
        if p.phone and not existing.phone:
            values["phone"] = p.phone[:40]
            current["phone"] = ""
        row.changes = _diff(current, values, _PERSON_LABELS)
        if not row.changes:
            row.reason = _("Already up to date.")
            row.skip = "up_to_date"
            return row
        row.action = UPDATE
        row.values = {c.field: values[c.field] for c in row.changes}
        row.reason = note
        return row
    if account is None:
        row.reason = _("New person: choose the account where new people get their position.")
        row.skip = "needs_account"
        return row
    kind = (
        _KIND_BY_GROUPING.get(specialty.grouping, StakeholderKind.OTHER_HCP) if specialty else StakeholderKind.OTHER_HCP
    )
    title = (p.primary_taxonomy.description if p.primary_taxonomy else "") or StakeholderKind(kind).label
    row.action = CREATE
    row.reason = note
    row.values = {
        **values,
        "kind": kind,
        "phone": p.phone[:40],
        "npi": p.npi,
        "title": str(title)[:200],
        "country": (p.location.country_code if p.location else "US") or "US",
    }
    row.changes = _diff({}, {k: v for k, v in values.items() if v}, _PERSON_LABELS)
    return row


def _plan_org(
    o: nppes.Organisation,
    table: dict[str, Specialty],
    existing: Account | None,
    visible: set[int],
    parent: Account | None,
) -> Row:
    account_type = _account_type(o.taxonomies, table)
    row = Row(
        number=o.index + 1,
        npi=o.npi,
        entity=ORGANISATION,
        name=o.name,
        action=SKIP,
        specialty=str(AccountType(account_type).label),
    )
    if not o.is_active:
        row.reason = _("Deactivated in the NPI Registry.")
        row.skip = "deactivated"
        return row
    values = _org_values(o)
    if existing is not None:
        row.existing_id = existing.pk
        row.name = existing.name
        row.specialty = existing.get_type_display()
        if existing.pk not in visible:
            row.existing_id = None
            row.reason = _("Already in OpenKAM outside your accounts; ask an administrator.")
            row.skip = "not_visible"
            return row
        row.changes = _diff({k: getattr(existing, k) for k in values}, values, _ORG_LABELS)
        if not row.changes:
            row.reason = _("Already up to date.")
            row.skip = "up_to_date"
            return row
        row.action = UPDATE
        row.values = {c.field: values[c.field] for c in row.changes}
        return row
    row.action = CREATE
    row.values = {**values, "name": o.name[:255], "type": account_type, "npi": o.npi}
    row.changes = _diff({}, {k: v for k, v in values.items() if v}, _ORG_LABELS)
    if parent is not None:
        row.reason = _("Created under “%(p)s”.") % {"p": parent.name}
    return row


# --- the services -------------------------------------------------------------------------------------
def nppes_import_preview(
    *,
    actor: User,
    payload: bytes | str | dict[str, Any] | list[Any],
    account_id: int | None = None,
    parent_id: int | None = None,
) -> ImportPlan:
    """Dry run: what importing this NPI Registry answer would create, update and skip, and why. Writes nothing.

    ``account_id``: the (visible) account where new people get their primary position — without it new people
    are skipped. ``parent_id``: the (visible) account under which new organisations are created (top level
    when not given). A file that is not a usable registry answer raises ``ValidationFailed`` on ``file``.
    """
    _require_import(actor)
    batch = _parse(payload)
    return _plan(actor=actor, batch=batch, account_id=account_id, parent_id=parent_id)


def nppes_import_apply(
    *,
    actor: User,
    payload: bytes | str | dict[str, Any] | list[Any],
    account_id: int | None = None,
    parent_id: int | None = None,
    reason: str = "",
    progress: Callable[[int, int, str], None] | None = None,
) -> ImportPlan:
    """Carry out the import in ONE audited transaction: every create and update of the preview, or nothing.

    The plan is recomputed here (the data may have changed since the preview). A row the services refuse
    raises its error, naming the provider, and nothing of the import is written.
    """
    _require_import(actor)
    batch = _parse(payload)
    reason = (reason or "").replace("\x00", "").strip()[:255] or _("NPPES import")
    with audit_action(actor=actor, action="stakeholders.nppes.import", reason=reason):
        plan = _plan(actor=actor, batch=batch, account_id=account_id, parent_id=parent_id)
        work = [r for r in plan.rows if r.action != SKIP]
        if not work:
            raise RuleViolation(
                _("Nothing to import: every provider in the file is skipped (see the preview for why)."),
                code="nppes_nothing_to_do",
            )
        for done, row in enumerate(work, start=1):
            try:
                _write(actor, row, plan, reason)
            except DomainError as exc:
                raise type(exc)(
                    _("Provider #%(n)d (NPI %(npi)s, %(name)s): %(msg)s")
                    % {"n": row.number, "npi": row.npi, "name": row.name, "msg": exc.message},
                    code=exc.code,
                    errors=exc.errors,
                ) from None
            if progress is not None:
                progress(done, len(work), row.name)
    return plan


def _write(actor: User, row: Row, plan: ImportPlan, reason: str) -> None:
    values = dict(row.values)
    if row.entity == PERSON:
        if row.action == UPDATE:
            assert row.existing_id is not None
            row.existing_id = stakeholder_services.stakeholder_update(
                actor=actor, stakeholder=row.existing_id, reason=reason, **values
            ).pk
            return
        title = values.pop("title")
        created = stakeholder_services.stakeholder_create(
            actor=actor,
            account=plan.account,
            title=title,
            role_in_decision=DecisionRole.UNKNOWN,
            reason=reason,
            consent_contact=False,  # no consent is implied by a registry entry
            **values,
        )
        row.existing_id = created.pk
        return
    if row.action == UPDATE:
        assert row.existing_id is not None
        account_services.account_update(actor=actor, account=row.existing_id, reason=reason, **values)
        return
    name, account_type = values.pop("name"), values.pop("type")
    account = account_services.account_create(
        actor=actor,
        name=name,
        type=account_type,
        parent_id=plan.parent.pk if plan.parent else None,
        reason=reason,
        **values,
    )
    row.existing_id = account.pk


def nppes_import_start(
    *,
    actor: User,
    payload: bytes | str | dict[str, Any] | list[Any],
    account_id: int | None = None,
    parent_id: int | None = None,
    filename: str = "",
    reason: str = "",
) -> Any:
    """Check the import (the dry run must find work to do) and start it as a job; returns the job."""
    from openkam.core.services import job_start

    plan = nppes_import_preview(actor=actor, payload=payload, account_id=account_id, parent_id=parent_id)
    if not plan.has_work:
        raise RuleViolation(
            _("Nothing to import: every provider in the file is skipped (see the preview for why)."),
            code="nppes_nothing_to_do",
        )
    document = nppes_document(payload)
    label = ngettext("NPPES import: %(n)d provider", "NPPES import: %(n)d providers", len(plan.rows)) % {
        "n": len(plan.rows)
    }
    if filename:
        label = f"{label} ({filename[:80]})"
    return job_start(
        actor=actor,
        kind="stakeholders.nppes_import",
        label=label,
        params={"document": document, "account_id": account_id, "parent_id": parent_id, "reason": reason},
    )


def nppes_document(payload: bytes | str | dict[str, Any] | list[Any]) -> Any:
    """The decoded JSON of an uploaded file (what a job keeps in its parameters)."""
    if isinstance(payload, dict | list):
        return payload
    try:
        return nppes.load_document(payload)
    except nppes.NppesError as exc:
        raise ValidationFailed(exc.message, field="file", code=exc.code) from None
