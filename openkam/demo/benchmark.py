"""The benchmark harness behind ``manage.py bench`` (method: ``bench/README.md``).

A reference world is built once per scale in its own database ``openkam_bench_<scale>`` on the same server,
with the shared generator (``openkam.demo.world``) and COPY; it is kept between runs and rebuilt when it is
missing, incomplete, built by a different generator/seed/size, or when ``--rebuild`` is given. Then each
named operation is timed twice in the same run: our page (Django test client, logged in) and the raw SQL that
answers the same question (``bench/sql/<operation>.sql``). Medians after a warm-up, the ratio between them,
and query counts are printed and written as Markdown.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from openkam.accounts.models import Account
from openkam.core.access import visible_classifications
from openkam.core.models import Role, User
from openkam.demo.bench_commercial import sales_import_task
from openkam.demo.bench_plan_exports import plan_export_pdf_task, plan_export_pptx_task, plan_export_xlsx_task
from openkam.demo.scales import FLAGSHIP
from openkam.plans.models import AccountPlan

BENCH_DIR = Path(settings.BASE_DIR) / "bench"
SQL_DIR = BENCH_DIR / "sql"
RESULTS_DIR = BENCH_DIR / "results"
_SOURCES = ("world.py", "scales.py", "reference.py", "loader.py")
OPEN_PLAN_STATUSES = ["draft", "in_review", "approved", "active"]


def generator_version() -> str:
    """A fingerprint of the generator's code: a world built by other code is rebuilt."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in [here / name for name in _SOURCES] + sorted((here / "sections").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# --- the bench database ---------------------------------------------------------------------------
def _admin_connect() -> Any:
    import psycopg

    params = connections["default"].get_connection_params()
    not_libpq = {"dbname", "cursor_factory", "context", "prepare_threshold", "server_side_binding",
                 "isolation_level", "assume_role", "pool"}  # fmt: skip
    kwargs = {k: v for k, v in params.items() if k not in not_libpq and v not in (None, "")}
    return psycopg.connect(dbname="postgres", autocommit=True, **kwargs)


def _ident(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"unexpected database name {name!r}")
    return f'"{name}"'


def database_marker(name: str) -> dict[str, Any] | None:
    """The JSON we store as the database comment once a world is completely loaded (None: no such db/world)."""
    with _admin_connect() as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    if row is None:
        return None
    try:
        return json.loads(row[0]) if row[0] else {}
    except json.JSONDecodeError:
        return {}


def database_exists(name: str) -> bool:
    return database_marker(name) is not None


def recreate_database(name: str) -> None:
    connections["default"].close()
    with _admin_connect() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {_ident(name)}")


def write_marker(name: str, marker: dict[str, Any]) -> None:
    from psycopg import sql

    with _admin_connect() as conn:
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), json.dumps(marker)))


def use_database(name: str) -> None:
    """Point the 'default' connection of this process at another database on the same server."""
    conn = connections["default"]
    conn.close()
    conn.settings_dict["NAME"] = name
    settings.DATABASES["default"]["NAME"] = name
    ContentType.objects.clear_cache()


# --- operations -----------------------------------------------------------------------------------
@dataclass
class Subjects:
    """What the operations look at, found in the loaded world."""

    user: User
    idn: Account | None
    plan: AccountPlan | None
    plan_actions: int = 0
    idn_hospitals: int = 0
    idn_stakeholders: int = 0
    lead: User | None = None


def find_subjects(username: str = "kam") -> Subjects:
    user = User.objects.get(username=username)
    idn = Account.objects.filter(name=FLAGSHIP, depth=0).first()
    plan = None
    plan_actions = 0
    if idn is not None:
        best = (
            AccountPlan.objects.filter(account=idn)
            .annotate(n=Count("objectives__tactics__actions"))
            .order_by("-n", "pk")
            .first()
        )
        if best is not None:
            plan, plan_actions = best, best.n  # type: ignore[attr-defined]
    subjects = Subjects(user=user, idn=idn, plan=plan, plan_actions=plan_actions)
    subjects.lead = User.objects.filter(username="lead").first()
    from openkam.evaluation.services import effort_snapshot_refresh

    effort_snapshot_refresh()  # derived data the evaluation pages read (a periodic task keeps it fresh in the app)
    if idn is not None:
        subjects.idn_hospitals = Account.objects.filter(parent=idn, type="hospital").count()
        with connections["default"].cursor() as cur:
            cur.execute(
                "SELECT count(DISTINCT p.stakeholder_id) FROM stakeholders_position p "
                "JOIN accounts_account a ON a.id = p.account_id "
                "WHERE p.account_id = %s OR a.ancestors @> ARRAY[%s]::bigint[]",
                [idn.pk, idn.pk],
            )
            subjects.idn_stakeholders = cur.fetchone()[0]
    return subjects


@dataclass
class Operation:
    key: str
    title: str
    url_name: str
    args: Callable[[Subjects], list[Any] | None]  # None: the subject is missing from the world
    sql_file: str
    target_ms: float | None = None
    target_scale: str | None = None
    username: str | None = None  # log in as this user instead of the subject user (e.g. "lead")
    task: Callable[[Subjects], float] | None = None  # not a page: a background task run in-process (returns seconds)
    max_repeat: int | None = None  # cap on timed repetitions (slow tasks)


def rescore_all_accounts(subjects: Subjects) -> float:
    """Re-score and re-tier every assessed account after a model change; returns the seconds the task took.

    The change (untimed): the active Partnership model's strategic threshold moves between 75 and 72, so each run
    moves the accounts scored in between from key to strategic or back (levels changed through account_update).
    """
    from openkam.evaluation import services as evaluation_services
    from openkam.evaluation.models import ScoringModel

    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
    if admin is None:
        raise RuntimeError("no active admin user in the world")
    model = ScoringModel.objects.get(code="partnership-potential", status="active")
    model.strategic_min = 72 if model.strategic_min >= 75 else 75  # type: ignore[assignment]
    model.save(update_fields=["strategic_min"])
    started = time.perf_counter()
    run = evaluation_services.rescore_run_start(actor=admin)
    evaluation_services.rescore_run_execute(run_id=run.pk)
    return time.perf_counter() - started


def restore_rescore_world() -> None:
    """Put the threshold back to 75 and re-tier (untimed), so the kept world is as built."""
    from openkam.evaluation.models import ScoringModel

    model = ScoringModel.objects.filter(code="partnership-potential", status="active").first()
    if model is not None and model.strategic_min != 75:
        model.strategic_min = 76  # the next call flips it to 75
        model.save(update_fields=["strategic_min"])
        rescore_all_accounts(find_subjects())


OPERATIONS = (
    Operation(
        "account_list", "Account list (kam's book, first page)", "accounts:list", lambda s: [], "account_list.sql"
    ),
    Operation(
        "account_360", "Account 360 — IDN with 40 hospitals, 2,000 stakeholders", "accounts:detail",
        lambda s: [s.idn.pk] if s.idn else None, "account_360.sql", target_ms=100, target_scale="large",
    ),
    Operation(
        "evaluation_matrix", "Portfolio matrix (kam's book)", "evaluation:matrix", lambda s: [],
        "evaluation_matrix.sql", target_ms=300, target_scale="large",
    ),
    Operation(
        "evaluation_analysis", "KAM analysis (lead's team)", "evaluation:analysis",
        lambda s: [] if s.lead else None, "evaluation_analysis.sql", target_ms=300, target_scale="large",
        username="lead",
    ),
    Operation(
        "evaluation_rescore", "Re-score + re-tier all assessed accounts (task)", "evaluation:models", lambda s: [],
        "evaluation_rescore.sql", target_ms=5000, target_scale="large", task=rescore_all_accounts, max_repeat=3,
    ),
    Operation(
        "formulary_dashboard", "Formulary dashboard (lead's portfolio, all products)", "market_access:dashboard",
        lambda s: [] if s.lead else None, "formulary_dashboard.sql", target_ms=300, target_scale="large",
        username="lead",
    ),
    Operation(
        "whitespace_grid", "Whitespace grid — IDN with 40 hospitals", "commercial:whitespace",
        lambda s: [s.idn.pk] if s.idn else None, "whitespace_grid.sql", target_ms=150, target_scale="large",
    ),
    Operation(
        "pnl_rollup", "Account P&L — IDN roll-up over 3 years", "commercial:account_pnl",
        lambda s: [s.idn.pk] if s.idn else None, "pnl_rollup.sql", target_ms=200, target_scale="large",
    ),
    Operation(
        "relationship_map", "Relationship map data — IDN with 2,000 stakeholders, 10,000 links",
        "relationships:map_data",
        lambda s: [s.idn.pk] if s.idn else None, "relationship_map.sql", target_ms=300, target_scale="large",
    ),
    Operation(
        "relationship_coverage", "Coverage analysis with centrality — same IDN", "relationships:coverage",
        lambda s: [s.idn.pk] if s.idn else None, "relationship_coverage.sql", target_ms=1000, target_scale="large",
    ),
    Operation(
        "sales_import", "Import 1,000,000 sales lines (task; baseline: raw COPY of the same file)",
        "commercial:sales_import", lambda s: [] if s.idn else None, "sales_import.sql", task=sales_import_task,
        target_ms=20000, target_scale="large", max_repeat=2,
    ),
    Operation(
        "plan_export_pdf", "Plan as PDF — 50 objectives, 300 actions (job)", "plans:export",
        lambda s: [] if s.idn else None, "plan_export.sql", task=plan_export_pdf_task, target_ms=3000, max_repeat=5,
    ),
    Operation(
        "plan_export_pptx", "Plan as PowerPoint — same plan (job)", "plans:export",
        lambda s: [] if s.idn else None, "plan_export.sql", task=plan_export_pptx_task, target_ms=2000, max_repeat=5,
    ),
    Operation(
        "plan_export_xlsx", "Plan as Excel — same plan (job)", "plans:export",
        lambda s: [] if s.idn else None, "plan_export.sql", task=plan_export_xlsx_task, target_ms=1000, max_repeat=5,
    ),
    Operation(
        "plan_detail_large", "Plan page — 50 objectives, 300 actions, every section", "plans:detail",
        lambda s: [s.plan.pk] if s.plan and s.plan_actions >= 300 else None, "plan_detail_large.sql", target_ms=150,
        target_scale="large",
    ),
)  # fmt: skip


@dataclass
class Measurement:
    key: str
    title: str
    status: str = "ok"  # ok | not available | error
    note: str = ""
    url: str = ""
    page_ms: float | None = None
    page_min_ms: float | None = None
    queries: int | None = None
    sql_ms: float | None = None
    sql_statements: int = 0
    sql_rows: int = 0
    target_ms: float | None = None
    target_scale: str | None = None
    target_met: bool | None = None  # None: not judged at this scale

    @property
    def ratio(self) -> float | None:
        if self.page_ms is None or not self.sql_ms:
            return None
        return self.page_ms / self.sql_ms


def load_sql(name: str) -> list[str]:
    """The statements of a baseline file (``;`` at the end of a line separates them; ``--`` comments kept out).
    A line ``\\i other.sql`` (as in psql) stands for the statements of that file, in its place."""
    text = (SQL_DIR / name).read_text()
    statements: list[str] = []
    chunk: list[str] = []
    for line in [*text.splitlines(), "\\i"]:
        if line.startswith("\\i"):
            body = "\n".join(chunk)
            statements += [st.strip() for st in re.split(r";\s*$", body, flags=re.M) if st.strip()]
            chunk = []
            if line[2:].strip():
                statements += load_sql(line[2:].strip())
        elif not line.lstrip().startswith("--"):
            chunk.append(line)
    return statements


def sql_params(subjects: Subjects) -> dict[str, Any]:
    user = subjects.user
    today = timezone.localdate()
    idn = subjects.idn
    return {
        "user_id": user.pk,
        "is_lead": user.role == Role.LEAD,
        "today": today,
        "since": timezone.now() - dt.timedelta(days=90),
        "classes": sorted(visible_classifications(user)),
        "open_statuses": OPEN_PLAN_STATUSES,
        "page_size": settings.OPENKAM.get("PAGE_SIZE", 25),
        "account_id": idn.pk if idn else 0,
        "child_index": (idn.depth + 2) if idn else 2,
        "plan_id": subjects.plan.pk if subjects.plan else 0,
        "lead_id": subjects.lead.pk if subjects.lead else 0,
        "audience": ",".join(sorted(visible_classifications(user))),
    }


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_sql(statements: list[str], params: dict[str, Any], *, repeat: int, warmup: int) -> tuple[float, int]:
    """Median wall time of running every statement (and fetching every row); returns (ms, rows fetched)."""
    samples, rows = [], 0
    with connections["default"].cursor() as cur:
        for i in range(warmup + repeat):
            started = time.perf_counter()
            rows = 0
            for stmt in statements:
                cur.execute(stmt, params)
                rows += len(cur.fetchall()) if cur.description else 0  # DDL/COPY: no rows
            if i >= warmup:
                samples.append(time.perf_counter() - started)
    return _median_ms(samples), rows


def measure(op: Operation, subjects: Subjects, *, repeat: int, warmup: int, scale: str) -> Measurement:
    m = Measurement(op.key, op.title, target_ms=op.target_ms, target_scale=op.target_scale)
    judged = op.target_ms is not None and op.target_scale in (None, scale)
    args = op.args(subjects)
    statements = load_sql(op.sql_file)
    m.sql_statements = len(statements)
    if args is None:
        m.status, m.note = "not available", "its subject is missing from the world"
        return m
    if op.task is not None:
        repeat = min(repeat, op.max_repeat or repeat)
        warmup = min(warmup, 1)
    m.sql_ms, m.sql_rows = time_sql(statements, sql_params(subjects), repeat=repeat, warmup=warmup)
    if op.task is not None:
        return _measure_task(m, op, subjects, repeat=repeat, warmup=warmup, judged=judged)
    try:
        m.url = reverse(op.url_name, args=args)
    except NoReverseMatch:
        m.status, m.note = "not available", f"URL name '{op.url_name}' does not resolve yet"
        return m
    client = Client()
    client.force_login(User.objects.get(username=op.username) if op.username else subjects.user)
    # as the served app does after loading (config/wsgi.py): what exists now is long-lived, out of full GC passes
    gc.collect()
    gc.freeze()
    try:
        response = None
        for _ in range(warmup):
            response = client.get(m.url)
        if response is not None and response.status_code != 200:
            m.status, m.note = "not available", f"GET {m.url} answered HTTP {response.status_code}"
            return m
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(m.url)
            samples.append(time.perf_counter() - started)
        if response is not None and response.status_code != 200:
            m.status, m.note = "not available", f"GET {m.url} answered HTTP {response.status_code}"
            return m
        with CaptureQueriesContext(connections["default"]) as ctx:
            client.get(m.url)
        m.queries = len(ctx.captured_queries)
    except Exception as exc:  # a page under construction must not stop the other measurements
        m.status, m.note = "error", f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
        return m
    m.page_ms, m.page_min_ms = _median_ms(samples), min(samples) * 1000
    if judged and m.target_ms is not None:
        m.target_met = m.page_ms <= m.target_ms
    return m


def _measure_task(
    m: Measurement, op: Operation, subjects: Subjects, *, repeat: int, warmup: int, judged: bool
) -> Measurement:
    assert op.task is not None
    m.url = f"task {op.key}"
    try:
        for _ in range(warmup):
            op.task(subjects)
        samples = []
        with CaptureQueriesContext(connections["default"]) as ctx:
            samples.append(op.task(subjects))
        m.queries = len(ctx.captured_queries)
        for _ in range(repeat - 1):
            samples.append(op.task(subjects))
    except Exception as exc:
        m.status, m.note = "error", f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
        return m
    finally:
        if op.key == "evaluation_rescore":
            restore_rescore_world()
    m.page_ms, m.page_min_ms = _median_ms(samples), min(samples) * 1000
    if judged and m.target_ms is not None:
        m.target_met = m.page_ms <= m.target_ms
    return m


# --- report ---------------------------------------------------------------------------------------
@dataclass
class Report:
    scale: str
    seed: int
    database: str
    repeat: int
    warmup: int
    world: dict[str, Any]
    measurements: list[Measurement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def machine_facts() -> dict[str, str]:
    facts = {"python": platform.python_version(), "django": django.get_version(), "os": platform.platform()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
        facts["cpu"] = model.group(1).strip() if model else platform.processor()
    except OSError:
        facts["cpu"] = platform.processor()
    facts["cores"] = str(os.cpu_count())
    try:
        facts["load average (1/5/15 min) at the end"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        pass
    try:
        mem = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        facts["memory"] = f"{int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "?"
    except OSError:
        facts["memory"] = "?"
    with connections["default"].cursor() as cur:
        cur.execute("SHOW server_version")
        facts["postgresql"] = cur.fetchone()[0]
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        facts["database size"] = cur.fetchone()[0]
    facts["database"] = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded pgserver (var/pgdata)"
    return facts


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def render_table(measurements: list[Measurement]) -> list[str]:
    lines = [
        "| operation | page median (ms) | page min (ms) | queries | raw SQL median (ms) | SQL statements | ratio "
        "| target |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in measurements:
        if m.target_ms is None:
            target = ""
        elif m.target_met is None:
            target = f"≤ {m.target_ms:.0f} ms at {m.target_scale or 'every'} scale"
        else:
            target = f"≤ {m.target_ms:.0f} ms: {'met' if m.target_met else 'NOT met'}"
        if m.status != "ok":
            lines.append(
                f"| {m.title} | {m.status}: {m.note} | | | {_fmt(m.sql_ms)} | {m.sql_statements} | | {target} |"
            )
            continue
        ratio = f"{m.ratio:.1f}×" if m.ratio is not None else "—"
        lines.append(
            f"| {m.title} | {_fmt(m.page_ms)} | {_fmt(m.page_min_ms)} | {m.queries} | {_fmt(m.sql_ms)} | "
            f"{m.sql_statements} | {ratio} | {target} |"
        )
    return lines


def render_markdown(report: Report) -> str:
    w = report.world
    out = [
        f"# OpenKAM benchmark — scale `{report.scale}`",
        "",
        f"Run: {timezone.localtime():%Y-%m-%d %H:%M %Z} · seed {report.seed} · database `{report.database}` · "
        f"{report.repeat} timed repetitions after {report.warmup} warm-up · medians.",
        "",
        *render_table(report.measurements),
        "",
        "ratio = page median / raw-SQL median (the raw SQL answers the same question, see `bench/sql/`).",
        "",
        "## World",
        "",
    ]
    for key in ("built_at", "load_seconds", "interactions", "triggers"):
        if key in w:
            out.append(f"- {key.replace('_', ' ')}: {w[key]}")
    subjects = w.get("subjects", {})
    if subjects:
        out.append(
            f"- subjects: user `{subjects.get('user')}` ({subjects.get('book')} accounts in the book); IDN "
            f"“{subjects.get('idn')}” with {subjects.get('idn_hospitals')} hospitals and "
            f"{subjects.get('idn_stakeholders')} stakeholders; plan #{subjects.get('plan')} with "
            f"{subjects.get('plan_actions')} actions"
        )
    if w.get("rows"):
        out += ["", "| table | rows |", "|---|---:|"]
        out += [f"| {label} | {n:,} |" for label, n in w["rows"].items()]
    out += ["", "## Machine", ""]
    out += [f"- {k}: {v}" for k, v in machine_facts().items()]
    if report.notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in report.notes]
    return "\n".join(out) + "\n"


def write_results(report: Report, output: Path | None = None, directory: Path = RESULTS_DIR) -> list[Path]:
    """Write the report to ``output`` only, or else to ``<directory>/latest.md`` and ``<directory>/<scale>.md``."""
    text = render_markdown(report)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [output] if output else [directory / "latest.md", directory / f"{report.scale}.md"]
    for path in paths:
        path.write_text(text)
    return paths
