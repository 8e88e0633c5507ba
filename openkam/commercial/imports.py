"""Sales-line import: a CSV or XLSX file → COPY into a session staging table → set-based checks → one INSERT.

The file is streamed into a temporary table (all text, with the row number as the user sees it: header = row 1) in
chunks of :data:`CHUNK_ROWS` rows, with progress after each. Then one statement resolves accounts (OpenKAM id or
CMS CCN, within what the importer may see) and products (brand name or NDC) and finds the first bad field of every
bad row; a file with any bad row is refused with the first :data:`MAX_ERRORS` errors (row and field named) and
nothing is written. A dry run stops there with a preview (totals per currency, periods, accounts, first lines); the
import inserts every line in one statement inside one audited transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.selectors import account_scope
from openkam.commercial.models import CURRENCIES, ImportStatus, SalesImport
from openkam.core.audit import audit_action
from openkam.core.errors import ValidationFailed
from openkam.core.models import User
from openkam.portfolio.models import Product

CHUNK_ROWS = 100_000
MAX_ERRORS = 100
COLUMNS = ("account", "product", "period", "quantity", "gross_sales", "discounts", "rebates", "cogs", "currency")
REQUIRED = ("account", "product", "period", "gross_sales")
ALIASES = {
    "account_id": "account", "account_ccn": "account", "ccn": "account", "customer": "account",
    "product_name": "product", "brand": "product", "ndc": "product",
    "month": "period", "date": "period",
    "qty": "quantity", "units": "quantity",
    "gross": "gross_sales", "gross_sales_amount": "gross_sales",
    "discount": "discounts", "rebate": "rebates",
    "cost_of_goods": "cogs", "cost_of_goods_sold": "cogs",
}  # fmt: skip
LABELS = {
    "account": "account", "product": "product", "period": "period (YYYY-MM)", "quantity": "quantity",
    "gross_sales": "gross sales", "discounts": "discounts", "rebates": "rebates", "cogs": "cost of goods",
    "currency": "currency",
}  # fmt: skip
Progress = Callable[[int, "int | None", str], None]


def _normalise(name: Any) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", str(name or "").strip().lower()).strip("_")
    return ALIASES.get(key, key)


def _header(names: list[Any]) -> list[str]:
    columns = [_normalise(n) for n in names]
    errors = []
    for i, col in enumerate(columns, start=1):
        if col not in COLUMNS:
            errors.append(_("column %(n)d “%(c)s” is not a sales-line field") % {"n": i, "c": names[i - 1]})
        elif columns.index(col) != i - 1:
            errors.append(_("column “%(c)s” appears twice") % {"c": names[i - 1]})
    missing = [LABELS[c] for c in REQUIRED if c not in columns]
    if missing:
        errors.append(_("missing column(s): %(m)s") % {"m": ", ".join(missing)})
    if errors:
        raise ValidationFailed(
            _("Row 1 (header): %(e)s. Expected columns: %(cols)s.")
            % {"e": "; ".join(errors), "cols": ", ".join(COLUMNS)},
            field="row 1",
            code="bad_header",
        )
    return columns


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def _xlsx_to_csv(data: bytes) -> bytes:
    from openkam.core.documents import xlsx_read_rows

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    try:
        for _number, row in xlsx_read_rows(data):
            cells = [_cell(v) for v in row]
            while cells and cells[-1] == "":
                cells.pop()
            if cells or _number == 1:
                writer.writerow(cells)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="file", code="not_xlsx") from exc
    return out.getvalue().encode()


def _chunks(body: bytes, rows: int) -> list[tuple[bytes, int]]:
    """Split CSV bytes into pieces of about ``rows`` lines, never inside a quoted field. Returns (piece, lines)."""
    pieces, start, n = [], 0, len(body)
    while start < n:
        pos, lines = start, 0
        while pos < n and lines < rows:
            nl = body.find(b"\n", pos)
            if nl < 0:
                pos = n
                lines += 1
                break
            pos = nl + 1
            lines += 1
        while body.count(b'"', start, pos) % 2 and pos < n:  # a quoted field spans the cut: extend to close it
            nl = body.find(b"\n", pos)
            pos = n if nl < 0 else nl + 1
            lines += 1
        pieces.append((body[start:pos], lines))
        start = pos
    return pieces


def sales_file_rows(imp: SalesImport) -> tuple[list[str], bytes, str]:
    """(columns, CSV body without the header, delimiter) of an uploaded file."""
    data = bytes(imp.data)
    if imp.filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        data = _xlsx_to_csv(data)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    nl = data.find(b"\n")
    head, body = (data, b"") if nl < 0 else (data[:nl], data[nl + 1 :])
    try:
        head_text = head.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(_("The file is not UTF-8 text (CSV) or an Excel workbook."), field="file",
                               code="encoding") from exc  # fmt: skip
    delimiter = ";" if head_text.count(";") > head_text.count(",") else ","
    names = next(csv.reader([head_text], delimiter=delimiter), [])
    return _header(names), body, delimiter


def _amount_ok(column: str, *, signed: bool = False) -> str:
    """SQL: ``column`` is empty-free digits with at most one dot, 1–14 digits before it and at most 2 after (a
    leading minus allowed when ``signed``). String functions, not regular expressions: ten times cheaper per row."""
    v = f"btrim(r.{column})"
    if signed:
        v = f"(CASE WHEN left({v}, 1) = '-' THEN substr({v}, 2) ELSE {v} END)"
    return (
        f"(translate({v}, '0123456789', '') IN ('', '.') AND {v} <> '.' "
        f"AND length(split_part({v}, '.', 1)) BETWEEN 1 AND 14 AND length(split_part({v}, '.', 2)) <= 2)"
    )


def _checks() -> str:
    """SQL: the first bad field of a staged row (NULL when the row is fine), from the resolved row ``r``."""
    p = "btrim(r.period)"
    period_ok = (
        f"(length({p}) IN (7, 10) AND left({p}, 4) BETWEEN '2000' AND '2100' AND substr({p}, 5, 1) = '-' "
        f"AND pg_input_is_valid(left({p}, 7) || '-01', 'date') AND (length({p}) = 7 OR pg_input_is_valid({p}, 'date')))"
    )
    optional = " ".join(
        f"WHEN coalesce(btrim(r.{c}), '') <> '' AND NOT {_amount_ok(c)} THEN '{c}'"
        for c in ("discounts", "rebates", "cogs")
    )
    return (
        "CASE WHEN r.account_id IS NULL THEN 'account' "
        "WHEN r.product_id IS NULL THEN 'product' "
        f"WHEN r.period IS NULL OR NOT {period_ok} THEN 'period' "
        f"WHEN coalesce(btrim(r.quantity), '') <> '' AND NOT {_amount_ok('quantity', signed=True)} THEN 'quantity' "
        f"WHEN r.gross_sales IS NULL OR NOT {_amount_ok('gross_sales')} THEN 'gross_sales' "
        f"{optional} "
        "WHEN NOT (upper(coalesce(nullif(btrim(r.currency), ''), 'USD')) = ANY(%(currencies)s)) THEN 'currency' "
        "END"
    )


def _message(field: str, value: str) -> str:
    shown = value if len(value) <= 60 else value[:57] + "…"
    if field == "account":
        return _("no account “%(v)s” that you may see (use the OpenKAM id or the CMS CCN)") % {"v": shown}
    if field == "product":
        return _("no product “%(v)s” (use the brand name or the NDC)") % {"v": shown}
    if field == "period":
        return _("“%(v)s” is not a month (YYYY-MM or YYYY-MM-DD)") % {"v": shown}
    if field == "currency":
        return _("unknown currency “%(v)s” (allowed: %(list)s)") % {"v": shown, "list": ", ".join(CURRENCIES)}
    if field == "quantity":
        return _("“%(v)s” is not a quantity") % {"v": shown}
    return _("“%(v)s” is not an amount (0 or more, at most two decimals, no thousands separators)") % {"v": shown}


def _copy(cursor: Any, columns: list[str], body: bytes, delimiter: str, progress: Progress, total: int) -> int:
    import psycopg

    cols = ", ".join(columns)
    done = 0
    for piece, lines in _chunks(body, CHUNK_ROWS):
        try:
            with (
                transaction.atomic(),
                cursor.copy(
                    f"COPY _sales_stage ({cols}) FROM STDIN WITH (FORMAT csv, DELIMITER '{delimiter}', ENCODING 'UTF8')"
                ) as copy,
            ):
                copy.write(piece)
        except psycopg.Error as exc:
            context = getattr(getattr(exc, "diag", None), "context", "") or ""
            match = re.search(r"line (\d+)", context)
            row = done + int(match.group(1)) + 1 if match else None
            detail = (getattr(getattr(exc, "diag", None), "message_primary", "") or str(exc)).splitlines()[0]
            where = _("Row %(r)d") % {"r": row} if row else _("The file")
            raise ValidationFailed(
                _("%(where)s: the line cannot be read as CSV (%(detail)s).") % {"where": where, "detail": detail},
                field=f"row {row}" if row else "file",
                code="unreadable",
            ) from None
        done += lines
        progress(min(done, total), total, _("Reading lines"))
    return done


def sales_import_execute(*, actor: User, imp: SalesImport, dry_run: bool, progress: Progress) -> dict[str, Any]:
    """Check (dry run) or import a sales file; returns the summary. Raises ValidationFailed (nothing written) with
    row-level errors for a bad file; the errors are kept on the import too."""
    progress(0, None, _("Reading the file"))
    columns, body, delimiter = sales_file_rows(imp)
    total = body.count(b"\n") + (0 if body.endswith(b"\n") or not body else 1)
    started = timezone.now()
    scope_sql, scope_params = account_scope(actor=actor).order_by().values("pk").query.sql_with_params()
    products = list(Product.objects.values_list("pk", "name", "ndc"))
    keys = [(name.lower(), pk) for pk, name, _ndc in products] + [(ndc.lower(), pk) for pk, _n, ndc in products if ndc]
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS _sales_stage, _sales_amap, _sales_pmap, _sales_ready")
        cur.execute(
            "CREATE TEMP TABLE _sales_stage (row_no bigint GENERATED ALWAYS AS IDENTITY (START WITH 2), "
            + ", ".join(f"{c} text" for c in COLUMNS)
            + ")"
        )
        try:
            rows = _copy(cur.cursor, columns, body, delimiter, progress, total)
            cur.execute("SELECT count(*) FROM _sales_stage")
            rows = cur.fetchone()[0]
            if rows == 0:
                raise ValidationFailed(_("The file has no sales lines below its header."), field="file", code="empty")
            progress(rows, rows, _("Checking %(n)s lines") % {"n": f"{rows:,}"})
            cur.execute(
                f"CREATE TEMP TABLE _sales_amap AS SELECT a.id::text AS key, a.id FROM accounts_account a "
                f"WHERE a.id IN ({scope_sql}) UNION ALL SELECT a.ccn, a.id FROM accounts_account a "
                f"WHERE a.ccn <> '' AND a.id IN ({scope_sql})",
                [*scope_params, *scope_params],
            )
            cur.execute("CREATE UNIQUE INDEX ON _sales_amap (key)")
            cur.execute(
                "CREATE TEMP TABLE _sales_pmap AS SELECT DISTINCT ON (k) k AS key, i AS id "
                "FROM unnest(%s::text[], %s::bigint[]) AS m(k, i) ORDER BY k, i",
                [[k for k, _i in keys], [i for _k, i in keys]],
            )
            cur.execute("CREATE INDEX ON _sales_pmap (key)")
            cur.execute("ANALYZE _sales_stage")
            cur.execute("ANALYZE _sales_amap")
            cur.execute("ANALYZE _sales_pmap")
            resolved = (
                "SELECT s.*, a.id AS account_id, p.id AS product_id FROM _sales_stage s "
                "LEFT JOIN _sales_amap a ON a.key = btrim(s.account) "
                "LEFT JOIN _sales_pmap p ON p.key = lower(btrim(s.product))"
            )
            money = "coalesce(nullif(btrim(x.{0}), ''), '0')::numeric(16, 2)"
            # One pass: resolve, find each row's first bad field, and cast the good rows (casts only where valid).
            cur.execute(
                "CREATE TEMP TABLE _sales_ready AS SELECT x.row_no, x.bad, "
                "CASE x.bad WHEN 'account' THEN x.account WHEN 'product' THEN x.product WHEN 'period' THEN x.period "
                "WHEN 'quantity' THEN x.quantity WHEN 'gross_sales' THEN x.gross_sales WHEN 'discounts' THEN "
                "x.discounts WHEN 'rebates' THEN x.rebates WHEN 'cogs' THEN x.cogs ELSE x.currency END AS bad_value, "
                "x.account_id, x.product_id, "
                "CASE WHEN x.bad IS NULL THEN (left(btrim(x.period), 7) || '-01')::date END AS period, "
                f"CASE WHEN x.bad IS NULL THEN {money.format('quantity')} END AS quantity, "
                f"CASE WHEN x.bad IS NULL THEN {money.format('gross_sales')} END AS gross_sales, "
                f"CASE WHEN x.bad IS NULL THEN {money.format('discounts')} END AS discounts, "
                f"CASE WHEN x.bad IS NULL THEN {money.format('rebates')} END AS rebates, "
                f"CASE WHEN x.bad IS NULL THEN {money.format('cogs')} END AS cogs, "
                "upper(coalesce(nullif(btrim(x.currency), ''), 'USD'))::varchar(3) AS currency "
                f"FROM (SELECT r.*, {_checks()} AS bad FROM ({resolved}) r OFFSET 0) x",  # OFFSET 0: checks run once
                {"currencies": list(CURRENCIES)},
            )
            cur.execute(
                "SELECT row_no, bad, bad_value, count(*) OVER () FROM _sales_ready WHERE bad IS NOT NULL "
                f"ORDER BY row_no LIMIT {MAX_ERRORS}"
            )
            bad = cur.fetchall()
            if bad:
                errors = [
                    {"row": row, "field": field, "message": _message(field, value or "")}
                    for row, field, value, _n in bad
                ]
                n_bad = bad[0][3]
                SalesImport.objects.filter(pk=imp.pk).update(
                    status=ImportStatus.INVALID, rows=rows, errors=errors, preview={}
                )
                first = errors[0]
                raise ValidationFailed(
                    _("%(n)s of %(total)s lines are wrong; nothing was imported. Row %(row)d, %(field)s: %(msg)s.")
                    % {
                        "n": f"{n_bad:,}",
                        "total": f"{rows:,}",
                        "row": first["row"],
                        "field": LABELS[first["field"]],
                        "msg": first["message"],
                    },
                    field=f"row {first['row']}.{first['field']}",
                    code="bad_rows",
                )
            progress(rows, rows, _("Summarising"))
            cur.execute(
                "SELECT currency, count(*), sum(gross_sales), sum(gross_sales - discounts - rebates), "
                "count(DISTINCT account_id), to_char(min(period), 'YYYY-MM'), to_char(max(period), 'YYYY-MM') "
                "FROM _sales_ready GROUP BY 1 ORDER BY 2 DESC"
            )
            totals = [
                {
                    "currency": c,
                    "lines": n,
                    "gross_sales": str(g),
                    "net_sales": str(ns),
                    "accounts": na,
                    "first_month": lo,
                    "last_month": hi,
                }
                for c, n, g, ns, na, lo, hi in cur.fetchall()
            ]
            cur.execute(
                "SELECT r.row_no, acc.name, pr.name, to_char(r.period, 'YYYY-MM'), r.gross_sales::text, r.currency "
                "FROM (SELECT * FROM _sales_ready ORDER BY row_no LIMIT 10) r "
                "JOIN accounts_account acc ON acc.id = r.account_id JOIN portfolio_product pr ON pr.id = r.product_id "
                "ORDER BY r.row_no"
            )
            first_lines = [
                {"row": n, "account": a, "product": p, "period": m, "gross_sales": g, "currency": c}
                for n, a, p, m, g, c in cur.fetchall()
            ]
            preview = {"lines": rows, "totals": totals, "first_lines": first_lines}
            if dry_run:
                SalesImport.objects.filter(pk=imp.pk).update(
                    status=ImportStatus.CHECKED, rows=rows, errors=[], preview=preview
                )
                return {"dry_run": True, "rows": rows, **preview}
            progress(rows, rows, _("Writing %(n)s lines") % {"n": f"{rows:,}"})
            with audit_action(actor=actor, action="commercial.salesimport.import", reason=imp.filename):
                cur.execute(
                    "INSERT INTO commercial_salesline (account_id, product_id, period, quantity, gross_sales, "
                    "discounts, rebates, cogs, currency, batch_id) SELECT account_id, product_id, period, quantity, "
                    "gross_sales, discounts, rebates, cogs, currency, %s FROM _sales_ready",
                    [imp.pk],
                )
                written = cur.rowcount
                imp.status, imp.rows, imp.errors, imp.preview = ImportStatus.IMPORTED, written, [], preview
                imp.imported_at = timezone.now()
                imp.save(update_fields=["status", "rows", "errors", "preview", "imported_at", "updated_at"])
            seconds = (timezone.now() - started).total_seconds()
            return {"dry_run": False, "rows": written, "seconds": round(seconds, 2),
                    "rows_per_second": int(written / seconds) if seconds else None, **preview}  # fmt: skip
        finally:
            cur.execute("DROP TABLE IF EXISTS _sales_stage, _sales_amap, _sales_pmap, _sales_ready")
