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


def _number(column: str, *, signed: bool = False, required: bool = False) -> str:
    """SQL: the staged text ``column`` as numeric(16, 2), or NULL when it is not an amount — at most 14 digits
    before the point and 2 after, no minus unless ``signed``; empty is 0 (NULL when ``required``). The check is
    PostgreSQL's own numeric parser (``pg_input_is_valid``) plus two string positions: a few C calls per value,
    where string surgery or a regular expression costs ten times more on a million lines. NaN passes the parser
    and is refused by :data:`_BAD` (``'NaN'`` compares equal only to itself)."""
    v = f"t.{column}"  # trimmed, NULL when empty (see :data:`_READY_SQL`)
    sign = "" if signed else f" AND strpos({v}, '-') = 0"
    return (
        f"CASE WHEN {v} IS NULL THEN {'NULL' if required else '0'} "
        f"WHEN pg_input_is_valid({v}, 'numeric(16,2)'){sign} "
        f"AND (strpos({v}, '.') = 0 OR length({v}) - strpos({v}, '.') <= 2) "
        f"THEN {v}::numeric(16,2) END"
    )


# The first bad field of a resolved row (NULL: the row is fine), in the order of the columns.
_BAD = (
    "CASE WHEN r.account_id IS NULL THEN 'account' WHEN r.product_id IS NULL THEN 'product' "
    "WHEN r.period IS NULL THEN 'period' WHEN r.quantity IS NULL OR r.quantity = 'NaN' THEN 'quantity' "
    + " ".join(
        f"WHEN r.{c} IS NULL OR r.{c} = 'NaN' THEN '{c}'" for c in ("gross_sales", "discounts", "rebates", "cogs")
    )
    + " WHEN r.currency IS NULL THEN 'currency' END"
)

# One pass over the staged lines: resolve accounts, products, periods and currencies (hash joins to the small maps),
# parse the amounts and find each line's first bad field. The ``OFFSET 0`` fences keep PostgreSQL from inlining
# the inner levels into the outer ones, which would evaluate every trim and parse once per reference.
_AMOUNTS = ("quantity", "gross_sales", "discounts", "rebates", "cogs")
_READY_SQL = (
    f"CREATE TEMP TABLE _sales_ready AS SELECT r.*, {_BAD} AS bad FROM ("
    "SELECT t.row_no, t.account_id, t.product_id, t.period, "
    f"{_number('quantity', signed=True)} AS quantity, {_number('gross_sales', required=True)} AS gross_sales, "
    f"{_number('discounts')} AS discounts, {_number('rebates')} AS rebates, {_number('cogs')} AS cogs, t.currency "
    "FROM (SELECT s.row_no, a.id AS account_id, p.id AS product_id, d.period, d.currency, "
    + ", ".join(f"nullif(btrim(s.{c}), '') AS {c}" for c in _AMOUNTS)
    + " FROM _sales_stage s "
    "LEFT JOIN _sales_amap a ON a.key = btrim(s.account) "
    "LEFT JOIN _sales_pmap p ON p.key = lower(btrim(s.product)) "
    "LEFT JOIN _sales_dmap d ON d.period_key = coalesce(s.period, '') AND d.currency_key = coalesce(s.currency, '') "
    "OFFSET 0) t OFFSET 0) r"
)

# Periods and currencies repeat on every line: each distinct (period, currency) pair is checked once, and the
# lines join to the result (a month's first day, the currency code; NULL when not valid).
_PERIODS_SQL = """
CREATE TEMP TABLE _sales_dmap AS
SELECT d.period_key, d.currency_key,
       CASE WHEN length(d.p) IN (7, 10) AND left(d.p, 4) BETWEEN '2000' AND '2100' AND substr(d.p, 5, 1) = '-'
                 AND pg_input_is_valid(left(d.p, 7) || '-01', 'date')
                 AND (length(d.p) = 7 OR pg_input_is_valid(d.p, 'date'))
            THEN (left(d.p, 7) || '-01')::date END AS period,
       CASE WHEN d.c = ANY(%(currencies)s) THEN d.c::varchar(3) END AS currency
FROM (SELECT period_key, currency_key, btrim(period_key) AS p,
             upper(coalesce(nullif(btrim(currency_key), ''), 'USD')) AS c
      FROM (SELECT DISTINCT coalesce(period, '') AS period_key, coalesce(currency, '') AS currency_key
            FROM _sales_stage) k) d
"""


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
        cur.execute("DROP TABLE IF EXISTS _sales_stage, _sales_amap, _sales_pmap, _sales_dmap, _sales_ready")
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
            cur.execute(_PERIODS_SQL, {"currencies": list(CURRENCIES)})
            cur.execute("ANALYZE _sales_amap")
            cur.execute("ANALYZE _sales_pmap")
            cur.execute("ANALYZE _sales_dmap")
            cur.execute(_READY_SQL)
            cur.execute(
                "SELECT r.row_no, r.bad, CASE r.bad WHEN 'account' THEN s.account WHEN 'product' THEN s.product "
                "WHEN 'period' THEN s.period WHEN 'quantity' THEN s.quantity WHEN 'gross_sales' THEN s.gross_sales "
                "WHEN 'discounts' THEN s.discounts WHEN 'rebates' THEN s.rebates WHEN 'cogs' THEN s.cogs "
                "ELSE s.currency END, r.n FROM (SELECT row_no, bad, count(*) OVER () AS n FROM _sales_ready "
                f"WHERE bad IS NOT NULL ORDER BY row_no LIMIT {MAX_ERRORS}) r "
                "JOIN _sales_stage s ON s.row_no = r.row_no ORDER BY r.row_no"
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
                # per account first (a hash aggregate), then per currency: count(DISTINCT ...) would sort a million
                "SELECT currency, sum(n)::bigint, sum(g), sum(ns), count(*), to_char(min(lo), 'YYYY-MM'), "
                "to_char(max(hi), 'YYYY-MM') FROM (SELECT currency, account_id, count(*) AS n, sum(gross_sales) AS g, "
                "sum(gross_sales - discounts - rebates) AS ns, min(period) AS lo, max(period) AS hi "
                "FROM _sales_ready GROUP BY 1, 2) x GROUP BY 1 ORDER BY 2 DESC"
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
            cur.execute("DROP TABLE IF EXISTS _sales_stage, _sales_amap, _sales_pmap, _sales_dmap, _sales_ready")
