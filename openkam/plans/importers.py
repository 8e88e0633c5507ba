"""Import a plan's objectives, tactics and actions from Excel — the layout the Excel export writes.

Two steps, the same checks in both:

1. :func:`plan_import_preview` reads the workbook and validates every row without writing anything: what would be
   created, what would change, and every error with its sheet, row (as Excel numbers it) and column.
2. :func:`plan_import_apply` validates again (the plan may have changed since the preview) and, only when there is
   no error at all, writes every row through the plan services (``objective_create``/``_update``,
   ``tactic_create``/``_update``, ``action_create``/``_update``: same access checks, validation and audit as the
   plan page) inside ONE transaction — a failure on any row undoes all of them.

Rows are linked by their ``Ref`` (``O1``, ``O1.T2``, ``O1.T2.A3`` in an export; any unique text in a file of your
own): a tactic names its objective in ``Objective ref``, an action its tactic in ``Tactic ref``. A row with an
``ID`` of a row of this plan updates that row (only the cells that differ); a row without an ID is created. Rows
missing from the file are left alone (an import never deletes). See ``docs/plan-exports.md``.

Refused with a clear message, nothing written: a file over :data:`MAX_BYTES`, one that is not an .xlsx workbook
(or unpacks to more than :data:`MAX_UNPACKED_BYTES`), a sheet over :data:`MAX_ROWS` rows, a workbook without an
``Objectives`` sheet or without a required column.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from openkam.core.access import can_see_classification, writable_classifications
from openkam.core.documents import xlsx_read_rows
from openkam.core.errors import DomainError, PermissionDenied, ValidationFailed
from openkam.core.models import Classification, Function, User
from openkam.plans import selectors, services
from openkam.plans.exports import (
    ACTION_COLUMNS,
    ACTIONS_SHEET,
    OBJECTIVE_COLUMNS,
    OBJECTIVES_SHEET,
    TACTIC_COLUMNS,
    TACTICS_SHEET,
)
from openkam.plans.models import ActionStatus, IndicatorType

MAX_BYTES = 2 * 1024 * 1024  # 2 MB: a plan of 1,000 actions with descriptions is ~150 kB
MAX_UNPACKED_BYTES = 40 * 1024 * 1024  # refuse zip bombs before openpyxl unpacks them
MAX_ROWS = 3000  # per sheet
MAX_ERRORS = 200  # listed; the count covers all of them

REQUIRED = {
    OBJECTIVES_SHEET: ("Ref", "Title"),
    TACTICS_SHEET: ("Ref", "Objective ref", "Title", "Classification"),
    ACTIONS_SHEET: ("Ref", "Tactic ref", "Title"),
}
LAYOUT = {OBJECTIVES_SHEET: OBJECTIVE_COLUMNS, TACTICS_SHEET: TACTIC_COLUMNS, ACTIONS_SHEET: ACTION_COLUMNS}
_TRUE = {"yes", "y", "true", "1", "x", "ja", "oui", "sí", "si"}
_FALSE = {"no", "n", "false", "0", "", "nein", "non"}

Progress = Callable[..., None]


@dataclass
class RowError:
    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.sheet}, row {self.row}" if self.row else self.sheet
        return f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


@dataclass
class ImportRow:
    sheet: str
    row: int
    ref: str
    parent_ref: str
    fields: dict[str, Any]
    id: int | None = None  # an existing row of the plan: update
    changes: dict[str, Any] = field(default_factory=dict)  # for an update: only the cells that differ

    @property
    def operation(self) -> str:
        if self.id is None:
            return "create"
        return "update" if self.changes else "unchanged"


@dataclass
class ImportPreview:
    plan_id: int
    plan_version: int
    objectives: list[ImportRow] = field(default_factory=list)
    tactics: list[ImportRow] = field(default_factory=list)
    actions: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def rows(self) -> list[ImportRow]:
        return [*self.objectives, *self.tactics, *self.actions]

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for name, rows in (("objectives", self.objectives), ("tactics", self.tactics), ("actions", self.actions)):
            out[name] = {op: sum(1 for r in rows if r.operation == op) for op in ("create", "update", "unchanged")}
        return out

    def summary(self) -> dict[str, Any]:
        counts = self.counts()
        return {
            "created": sum(c["create"] for c in counts.values()),
            "updated": sum(c["update"] for c in counts.values()),
            "unchanged": sum(c["unchanged"] for c in counts.values()),
            **{f"{k}_{op}": n for k, c in counts.items() for op, n in c.items()},
        }

    def add(self, sheet: str, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(sheet, row, column, message))


# --- the uploaded file between the request and the job --------------------------------------------------
UPLOAD_DIR = "plan-imports"


def upload_keep(data: bytes) -> str:
    """Keep an uploaded workbook in the file storage until the import job reads it (not in the job's params: the
    job row is audited, and a copy of the file in every history row would only weigh it down)."""
    import uuid

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    _check_file(data)
    return default_storage.save(f"{UPLOAD_DIR}/{uuid.uuid4().hex}.xlsx", ContentFile(data))


def upload_take(name: str) -> bytes:
    """Read a kept upload and remove it (a job reads its file once)."""
    from django.core.files.storage import default_storage

    if not name.startswith(f"{UPLOAD_DIR}/") or ".." in name:
        raise ValidationFailed(_("No such upload."), field="file", code="upload_missing")
    try:
        with default_storage.open(name, "rb") as fh:
            data: bytes = fh.read()
    except OSError as exc:
        raise ValidationFailed(
            _("The uploaded file is no longer available; upload it again."), field="file", code="upload_missing"
        ) from exc
    default_storage.delete(name)
    return data


# --- reading the workbook --------------------------------------------------------------------------------
def _check_file(data: bytes) -> None:
    if not data:
        raise ValidationFailed(_("The file is empty."), field="file", code="empty")
    if len(data) > MAX_BYTES:
        raise ValidationFailed(
            _("The file is %(size)s; the limit is %(limit)s. Import the plan's own sheets, not a whole workbook.")
            % {"size": _megabytes(len(data)), "limit": _megabytes(MAX_BYTES)},
            field="file",
            code="too_large",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ValidationFailed(
            _("The file is not an Excel workbook (.xlsx). Save it as “Excel Workbook (.xlsx)” and try again."),
            field="file",
            code="not_xlsx",
        ) from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValidationFailed(
            _("The workbook unpacks to %(size)s, more than the %(limit)s an import reads.")
            % {"size": _megabytes(unpacked), "limit": _megabytes(MAX_UNPACKED_BYTES)},
            field="file",
            code="too_large",
        )


def _megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _sheet_names(data: bytes) -> list[str]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors on a broken file
        raise ValidationFailed(
            _("The workbook cannot be read (%(why)s). Save it again as .xlsx and retry.")
            % {"why": str(exc)[:120] or type(exc).__name__},
            field="file",
            code="not_xlsx",
        ) from exc
    names = list(wb.sheetnames)
    wb.close()
    return names


def _read_sheet(data: bytes, sheet: str) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """(header names, data rows with their Excel row numbers); blank rows are skipped."""
    try:
        rows = xlsx_read_rows(data, sheet=sheet)
        header: list[str] = []
        body: list[tuple[int, list[Any]]] = []
        for number, values in rows:
            if number == 1:
                header = [str(v).strip() if v is not None else "" for v in values]
                continue
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if len(body) >= MAX_ROWS:
                raise ValidationFailed(
                    _("The sheet “%(sheet)s” has more than %(n)d rows; split the import.")
                    % {"sheet": sheet, "n": MAX_ROWS},
                    field="file",
                    code="too_many_rows",
                )
            body.append((number, values))
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="file", code="not_xlsx") from exc
    except DomainError:
        raise
    except Exception as exc:
        raise ValidationFailed(
            _("The sheet “%(sheet)s” cannot be read (%(why)s).") % {"sheet": sheet, "why": str(exc)[:120]},
            field="file",
            code="not_xlsx",
        ) from exc
    return header, body


# --- cell parsers: each returns a value or raises _CellError with the message -----------------------------
class _CellError(Exception):
    pass


def _text(value: Any, *, required: bool = False, max_length: int | None = None) -> str:
    text = "" if value is None else (value.strftime("%Y-%m-%d") if isinstance(value, dt.date) else str(value)).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if required and not text:
        raise _CellError(_("Required."))
    if max_length is not None and len(text) > max_length:
        raise _CellError(_("At most %(n)d characters (this has %(m)d).") % {"n": max_length, "m": len(text)})
    return text


def _decimal(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _CellError(_("Not a number."))
    try:
        number = Decimal(str(value).strip().replace(",", "")) if isinstance(value, str) else Decimal(str(value))
    except InvalidOperation as exc:
        raise _CellError(_("Not a number: “%(v)s”.") % {"v": value}) from exc
    if not number.is_finite() or abs(number) >= Decimal(10) ** 16:
        raise _CellError(_("The number is out of range."))
    return number.quantize(Decimal("0.01"))


def _date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError as exc:
        raise _CellError(_("Not a date: “%(v)s” (use an Excel date or YYYY-MM-DD).") % {"v": str(value)[:40]}) from exc


def _label_in_every_language(label: Any) -> set[str]:
    """A choice's label as each UI language writes it (a sheet exported in German imports on an English page)."""
    from django.conf import settings
    from django.utils import translation

    found = {str(label).lower()}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.add(str(label).lower())
    return found


def _choice(value: Any, choices: Iterable[tuple[str, Any]], *, default: str | None = None) -> str:
    text = _text(value).lower()
    if not text:
        if default is not None:
            return default
        raise _CellError(_("Required."))
    for code, label in choices:
        if text in (code.lower(), code.replace("_", " ").lower()) or text in _label_in_every_language(label):
            return code
    raise _CellError(
        _("“%(v)s” is not one of: %(c)s.") % {"v": _text(value)[:40], "c": ", ".join(str(lbl) for _c, lbl in choices)}
    )


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _CellError(_("Write yes or no."))


class _People:
    """Resolves a person cell: username, e-mail or full name of an active user (one query for all of them)."""

    def __init__(self) -> None:
        self._by: dict[str, list[User]] = {}
        for user in User.objects.filter(is_active=True).only("id", "username", "email", "first_name", "last_name"):
            keys = {user.username.lower(), (user.email or "").lower(), user.get_full_name().lower()}
            for key in keys - {""}:
                self._by.setdefault(key, []).append(user)

    def get(self, value: Any) -> User | None:
        text = _text(value)
        if not text:
            return None
        found = {u.pk: u for u in self._by.get(text.lower(), [])}
        if not found:
            raise _CellError(_("No active user “%(v)s” (use a username, e-mail or full name).") % {"v": text[:60]})
        if len(found) > 1:
            raise _CellError(_("“%(v)s” names several people; use the username or e-mail.") % {"v": text[:60]})
        return next(iter(found.values()))


# --- validation -------------------------------------------------------------------------------------------
class _Reader:
    def __init__(self, preview: ImportPreview, sheet: str, header: list[str]) -> None:
        self.preview, self.sheet = preview, sheet
        known = {c.lower(): c for c in LAYOUT[sheet]}
        self.index: dict[str, int] = {}
        for i, name in enumerate(header):
            canonical = known.get(name.lower())
            if canonical and canonical not in self.index:
                self.index[canonical] = i
            elif name and canonical is None:
                preview.ignored_columns.append(f"{sheet}: {name}")
        self.missing = [c for c in REQUIRED[sheet] if c not in self.index]
        for column in self.missing:
            preview.add(sheet, 1, column, _("This column is missing (see the layout of the Excel export)."))

    def has(self, column: str) -> bool:
        return column in self.index

    def cell(self, values: list[Any], column: str) -> Any:
        i = self.index.get(column)
        return values[i] if i is not None and i < len(values) else None

    def parse(self, row: int, values: list[Any], column: str, parser: Callable[[Any], Any], fields: dict[str, Any],
              name: str) -> None:  # fmt: skip
        """Parse one cell into ``fields[name]`` (only when the column exists), or record the error."""
        if column not in self.index:
            return
        try:
            fields[name] = parser(self.cell(values, column))
        except _CellError as exc:
            self.preview.add(self.sheet, row, column, str(exc))


def _id(reader: _Reader, row: int, values: list[Any], known: dict[int, Any], what: str) -> int | None:
    raw = reader.cell(values, "ID")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        pk = int(Decimal(str(raw).strip()))
    except (InvalidOperation, ValueError):
        reader.preview.add(reader.sheet, row, "ID", _("Not a number: “%(v)s”.") % {"v": str(raw)[:40]})
        return None
    if pk not in known:
        reader.preview.add(
            reader.sheet, row, "ID", _("No %(what)s with id %(id)d in this plan (clear the cell to add it as new).")
            % {"what": what, "id": pk}
        )  # fmt: skip
        return None
    return pk


def _ref(reader: _Reader, row: int, values: list[Any], seen: set[str]) -> str:
    try:
        ref = _text(reader.cell(values, "Ref"), required=True, max_length=40)
    except _CellError as exc:
        reader.preview.add(reader.sheet, row, "Ref", str(exc))
        return ""
    if ref.lower() in seen:
        reader.preview.add(reader.sheet, row, "Ref", _("“%(r)s” is used by an earlier row.") % {"r": ref})
        return ""
    seen.add(ref.lower())
    return ref


def _changes(fields: dict[str, Any], current: Any) -> dict[str, Any]:
    out = {}
    for name, value in fields.items():
        have = getattr(current, f"{name}_id" if name in ("owner", "assignee") else name)
        want = value.pk if isinstance(value, User) else value
        if isinstance(have, Decimal) and isinstance(want, Decimal):
            same = have == want
        else:
            same = (have or None) == (want or None) if not isinstance(want, bool) else have == want
        if not same:
            out[name] = value
    return out


def plan_import_preview(*, actor: User, plan_id: int, data: bytes) -> ImportPreview:
    """Validate a workbook against the plan (no writes): the rows it would create or change and every error."""
    plan = selectors.plan_get(actor=actor, plan_id=plan_id)
    if not services.plan_can_contribute(actor=actor, plan=plan):
        raise PermissionDenied(
            _("This plan is closed or your role cannot change it, so nothing can be imported into it."),
            code="import_forbidden",
        )
    _check_file(data)
    names = _sheet_names(data)
    lookup = {n.lower(): n for n in names}
    if OBJECTIVES_SHEET.lower() not in lookup:
        raise ValidationFailed(
            _("The workbook has no sheet named “%(s)s” (its sheets: %(names)s). Use the layout of the Excel export.")
            % {"s": OBJECTIVES_SHEET, "names": ", ".join(names)[:200]},
            field="file",
            code="missing_sheet",
        )
    tree = selectors.plan_tree(actor=actor, plan=plan)
    objectives = {o.objective.pk: o.objective for o in tree.objectives}
    tactics = {t.tactic.pk: t.tactic for t in tree.tactics()}
    actions = {a.pk: a for a in tree.actions()}
    preview = ImportPreview(plan_id=plan.pk, plan_version=plan.version)
    people = _People()
    writable = writable_classifications(actor)

    def person(value: Any) -> User | None:
        return people.get(value)

    # objectives
    header, body = _read_sheet(data, lookup[OBJECTIVES_SHEET.lower()])
    reader = _Reader(preview, OBJECTIVES_SHEET, header)
    objective_refs: dict[str, ImportRow] = {}
    seen: set[str] = set()
    if not reader.missing:
        for row, values in body:
            ref = _ref(reader, row, values, seen)
            fields: dict[str, Any] = {}
            reader.parse(row, values, "Title", lambda v: _text(v, required=True, max_length=255), fields, "title")
            reader.parse(row, values, "Metric", lambda v: _text(v, max_length=200), fields, "metric")
            for column in ("Baseline", "Target", "Current"):
                reader.parse(row, values, column, _decimal, fields, column.lower())
            reader.parse(row, values, "Due date", _date, fields, "due_date")
            reader.parse(row, values, "Indicator", lambda v: _choice(v, IndicatorType.choices, default="lagging"),
                         fields, "indicator")  # fmt: skip
            reader.parse(row, values, "Owner", person, fields, "owner")
            reader.parse(row, values, "Shared with customer", _flag, fields, "shared_with_customer")
            reader.parse(row, values, "Description", _text, fields, "description")
            item = ImportRow(
                OBJECTIVES_SHEET, row, ref, "", fields, _id(reader, row, values, objectives, _("objective"))
            )
            if item.id is not None:
                item.changes = _changes(fields, objectives[item.id])
            preview.objectives.append(item)
            if ref:
                objective_refs[ref.lower()] = item

    # tactics
    tactic_refs: dict[str, ImportRow] = {}
    if TACTICS_SHEET.lower() in lookup:
        header, body = _read_sheet(data, lookup[TACTICS_SHEET.lower()])
        reader = _Reader(preview, TACTICS_SHEET, header)
        seen = set()
        if not reader.missing:
            for row, values in body:
                ref = _ref(reader, row, values, seen)
                parent = _text(reader.cell(values, "Objective ref"))
                if not parent:
                    preview.add(TACTICS_SHEET, row, "Objective ref", _("Required."))
                elif parent.lower() not in objective_refs:
                    msg = _("No objective with Ref “%(r)s” on the Objectives sheet.") % {"r": parent}
                    preview.add(TACTICS_SHEET, row, "Objective ref", msg)
                fields = {}
                reader.parse(row, values, "Title", lambda v: _text(v, required=True, max_length=255), fields, "title")
                reader.parse(row, values, "Classification", lambda v: _choice(v, Classification.choices), fields,
                             "classification")  # fmt: skip
                cls = fields.get("classification")
                if cls and cls not in writable:
                    preview.add(TACTICS_SHEET, row, "Classification",
                                _("Your role cannot add or change work classified “%(c)s”.")
                                % {"c": Classification(cls).label})  # fmt: skip
                reader.parse(row, values, "Function", lambda v: _choice(v, Function.choices, default=actor.function),
                             fields, "function")  # fmt: skip
                reader.parse(row, values, "Owner", person, fields, "owner")
                owner = fields.get("owner")
                if owner is not None and cls and not can_see_classification(owner, cls):
                    preview.add(TACTICS_SHEET, row, "Owner", _("%(u)s may not see work classified “%(c)s”.")
                                % {"u": owner, "c": Classification(cls).label})  # fmt: skip
                reader.parse(row, values, "Shared with customer", _flag, fields, "shared_with_customer")
                reader.parse(row, values, "Description", _text, fields, "description")
                item = ImportRow(
                    TACTICS_SHEET, row, ref, parent, fields, _id(reader, row, values, tactics, _("tactic"))
                )
                if item.id is not None:
                    current = tactics[item.id]
                    parent_row = objective_refs.get(parent.lower())
                    if parent_row is not None and parent_row.id != current.objective_id:
                        preview.add(TACTICS_SHEET, row, "Objective ref", _(
                            "An existing tactic cannot move to another objective; clear its ID to add it as new."
                        ))  # fmt: skip
                    if current.classification not in writable:
                        preview.add(TACTICS_SHEET, row, "ID", _("Your role cannot change this tactic."))
                    item.changes = _changes(fields, current)
                preview.tactics.append(item)
                if ref:
                    tactic_refs[ref.lower()] = item

    # actions
    if ACTIONS_SHEET.lower() in lookup:
        header, body = _read_sheet(data, lookup[ACTIONS_SHEET.lower()])
        reader = _Reader(preview, ACTIONS_SHEET, header)
        seen = set()
        if not reader.missing:
            for row, values in body:
                ref = _ref(reader, row, values, seen)
                parent = _text(reader.cell(values, "Tactic ref"))
                parent_row = tactic_refs.get(parent.lower()) if parent else None
                if not parent:
                    preview.add(ACTIONS_SHEET, row, "Tactic ref", _("Required."))
                elif parent_row is None:
                    preview.add(ACTIONS_SHEET, row, "Tactic ref",
                                _("No tactic with Ref “%(r)s” on the Tactics sheet.") % {"r": parent})  # fmt: skip
                fields = {}
                reader.parse(row, values, "Title", lambda v: _text(v, required=True, max_length=255), fields, "title")
                reader.parse(row, values, "Owner", person, fields, "owner")
                reader.parse(row, values, "Assignee", person, fields, "assignee")
                reader.parse(row, values, "Start date", _date, fields, "start_date")
                reader.parse(row, values, "Due date", _date, fields, "due_date")
                reader.parse(row, values, "Status", lambda v: _choice(v, ActionStatus.choices, default="not_started"),
                             fields, "status")  # fmt: skip
                reader.parse(row, values, "Milestone", _flag, fields, "is_milestone")
                reader.parse(row, values, "Shared with customer", _flag, fields, "shared_with_customer")
                reader.parse(row, values, "Description", _text, fields, "description")
                start, due = fields.get("start_date"), fields.get("due_date")
                if start and due and due < start:
                    preview.add(ACTIONS_SHEET, row, "Due date", _("The due date must be on or after the start date."))
                cls = (parent_row.fields.get("classification") if parent_row else None) or (
                    tactics[parent_row.id].classification if parent_row and parent_row.id else None
                )
                for key, column in (("owner", "Owner"), ("assignee", "Assignee")):
                    who = fields.get(key)
                    if who is not None and cls and not can_see_classification(who, cls):
                        preview.add(ACTIONS_SHEET, row, column, _("%(u)s may not see work classified “%(c)s”.")
                                    % {"u": who, "c": Classification(cls).label})  # fmt: skip
                item = ImportRow(
                    ACTIONS_SHEET, row, ref, parent, fields, _id(reader, row, values, actions, _("action"))
                )
                if item.id is not None:
                    current_action = actions[item.id]
                    if parent_row is not None and parent_row.id != current_action.tactic_id:
                        preview.add(ACTIONS_SHEET, row, "Tactic ref", _(
                            "An existing action cannot move to another tactic; clear its ID to add it as new."
                        ))  # fmt: skip
                    item.changes = _changes(fields, current_action)
                preview.actions.append(item)
    if not preview.rows() and preview.ok:
        preview.add(OBJECTIVES_SHEET, 0, "", _("The workbook has no rows to import."))
    return preview


# --- applying ---------------------------------------------------------------------------------------------
def _as_error(item: ImportRow, exc: DomainError) -> DomainError:
    """The service's refusal, of the same kind (a stale plan stays a conflict), naming the sheet and row."""
    where = _("%(sheet)s, row %(row)d") % {"sheet": item.sheet, "row": item.row}
    return type(exc)(f"{where}: {exc.message}", code=exc.code, errors=exc.errors)


def plan_import_apply(
    *,
    actor: User,
    plan_id: int,
    data: bytes,
    expected_version: int | None = None,
    progress: Progress | None = None,
    reason: str = "",
) -> ImportPreview:
    """Validate again, then write every row through the plan services in one transaction (all or nothing).

    ``expected_version`` (the plan version the preview was made from) refuses the import if the plan changed
    since. Raises :class:`ValidationFailed` listing the first errors when any row is invalid.
    """
    preview = plan_import_preview(actor=actor, plan_id=plan_id, data=data)
    if not preview.ok:
        first = "; ".join(str(e) for e in preview.errors[:5])
        raise ValidationFailed(
            ngettext(
                "The workbook has %(n)d error, nothing was imported: %(first)s",
                "The workbook has %(n)d errors, nothing was imported: %(first)s",
                preview.error_count,
            )
            % {"n": preview.error_count, "first": first},
            field="file",
            code="import_invalid",
        )
    version = expected_version if expected_version is not None else preview.plan_version
    todo = [r for r in preview.rows() if r.operation != "unchanged"]
    report = progress or (lambda *a, **k: None)
    report(0, len(todo), _("Importing"))
    why = reason or _("Imported from Excel")
    objective_ids: dict[str, int] = {r.ref.lower(): r.id for r in preview.objectives if r.id is not None}
    tactic_ids: dict[str, int] = {r.ref.lower(): r.id for r in preview.tactics if r.id is not None}
    done = 0
    with transaction.atomic():
        for item in preview.objectives:
            if item.operation == "unchanged":
                continue
            try:
                if item.id is None:
                    fields = dict(item.fields)
                    obj = services.objective_create(actor=actor, plan_id=plan_id, expected_version=version, reason=why,
                                                    title=fields.pop("title"), **fields)  # fmt: skip
                    objective_ids[item.ref.lower()] = obj.pk
                else:
                    obj = services.objective_update(actor=actor, objective_id=item.id, expected_version=version,
                                                    reason=why, **item.changes)  # fmt: skip
            except DomainError as exc:
                raise _as_error(item, exc) from exc
            version = obj.plan.version
            done += 1
            report(done, len(todo), _("Objectives"))
        for item in preview.tactics:
            if item.operation == "unchanged":
                continue
            try:
                if item.id is None:
                    fields = dict(item.fields)
                    tactic = services.tactic_create(
                        actor=actor, objective_id=objective_ids[item.parent_ref.lower()], expected_version=version,
                        reason=why, title=fields.pop("title"), classification=fields.pop("classification"), **fields,
                    )  # fmt: skip
                    tactic_ids[item.ref.lower()] = tactic.pk
                else:
                    tactic = services.tactic_update(actor=actor, tactic_id=item.id, expected_version=version,
                                                    reason=why, **item.changes)  # fmt: skip
            except DomainError as exc:
                raise _as_error(item, exc) from exc
            version = tactic.objective.plan.version
            done += 1
            report(done, len(todo), _("Tactics"))
        for item in preview.actions:
            if item.operation == "unchanged":
                continue
            try:
                if item.id is None:
                    fields = dict(item.fields)
                    action = services.action_create(
                        actor=actor, tactic_id=tactic_ids[item.parent_ref.lower()], expected_version=version,
                        reason=why, title=fields.pop("title"), **fields,
                    )  # fmt: skip
                else:
                    action = services.action_update(actor=actor, action_id=item.id, expected_version=version,
                                                    reason=why, **item.changes)  # fmt: skip
            except DomainError as exc:
                raise _as_error(item, exc) from exc
            version = action.tactic.objective.plan.version
            done += 1
            if done % 10 == 0 or done == len(todo):
                report(done, len(todo), _("Actions"))
    return preview
