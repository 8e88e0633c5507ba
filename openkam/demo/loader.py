"""Loading a generated world into PostgreSQL with COPY, and the checks a loaded world must pass.

``build_world`` is the one entry point used by ``seed_demo`` and ``bench``: it runs the generator of
``openkam.demo.world`` into a :class:`CopyLoader` inside ONE transaction (all or nothing), then moves the
primary-key sequences past the loaded ids and refreshes planner statistics.

History: with ``history=True`` (demo) the pghistory triggers fire for every COPY'd row, inside
``pghistory.context(action="demo.seed")``. With ``history=False`` (large benchmark worlds) the load runs with
``session_replication_role = replica`` for its transaction only: user triggers (pghistory, pgtrigger) and
foreign-key triggers are skipped — nothing has to be re-enabled afterwards and nothing stays disabled if the
load fails. Foreign keys are then checked in bulk (:func:`foreign_key_violations`) instead of row by row, and
the secondary indexes of the biggest tables are dropped before the COPY and rebuilt after it (same transaction).
Without superuser rights it falls back to ``ALTER TABLE ... DISABLE TRIGGER USER`` (transactional).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pghistory
from django.apps import apps
from django.core.management.color import no_style
from django.db import connections, models, transaction

from openkam.accounts.models import Account, AccountAffiliation, AccountTeamMember
from openkam.activities.models import Interaction, InteractionParticipant, InteractionStakeholder
from openkam.core.models import Team, TeamTerritory, Territory, User
from openkam.demo.scales import Scale
from openkam.demo.sections import sections
from openkam.demo.world import WorldGenerator, WorldSummary
from openkam.evaluation.models import AccountTier, Assessment, ModelStatus, Score, ScoringModel
from openkam.plans.models import AccountPlan, Action, Objective, Tactic
from openkam.portfolio.models import Indication, Product, TherapeuticArea
from openkam.stakeholders.models import Committee, Position, Specialty, Stakeholder

# Every table the generator writes, parents first (then the tables of the registered world sections).
_CORE_WORLD_MODELS: tuple[type[models.Model], ...] = (
    Territory, Team, TeamTerritory, User, Account, AccountTeamMember, AccountAffiliation, Committee, Stakeholder,
    Position, TherapeuticArea, Product, Indication, AccountPlan, Objective, Tactic, Action, Interaction,
    InteractionStakeholder, InteractionParticipant, Assessment, Score, AccountTier,
)  # fmt: skip
WORLD_MODELS: tuple[type[models.Model], ...] = _CORE_WORLD_MODELS + tuple(m for s in sections() for m in s.models)
# Big tables whose secondary indexes are built after a no-history load (faster than maintaining them per row).
DEFERRED_INDEX_MODELS: tuple[type[models.Model], ...] = (
    Stakeholder, Position, Interaction, InteractionStakeholder, InteractionParticipant,
    *(m for s in sections() for m in s.deferred_index_models),
)  # fmt: skip
DOMAIN_APPS = ("core", "accounts", "stakeholders", "portfolio", "plans", "activities")
HISTORY_ACTION = "demo.seed"


class LoadError(RuntimeError):
    pass


def _qn(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class CopyLoader:
    """A sink for :class:`openkam.demo.world.WorldGenerator`: every ``write`` is one ``COPY ... FROM STDIN``.

    Columns the generator does not know (fields added to a model later) are filled with the field's default,
    or NULL when nullable; a new required field without a default is an error naming it.
    """

    def __init__(self, *, using: str = "default", log: Callable[[str], None] = print) -> None:
        self.connection = connections[using]
        self.log = log
        self.copies = 0
        self.rows: Counter[str] = Counter()
        self.seconds: dict[str, float] = defaultdict(float)
        self.order: list[str] = []
        self._now = dt.datetime.now(dt.UTC)

    def _filled_columns(self, model: type[models.Model], columns: Sequence[str]) -> tuple[list[str], tuple[Any, ...]]:
        given = set(columns)
        names, values = [], []
        for f in model._meta.concrete_fields:
            if f.attname in given:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value: Any = self._now
            elif f.has_default() or (f.empty_strings_allowed and not f.null):
                value = f.get_default()  # what Model() would hold: the default, or "" for text fields
            elif f.null:
                value = None
            else:
                raise LoadError(f"{model._meta.label}.{f.name} is required and the world generator does not fill it")
            names.append(f.column)
            values.append(f.get_db_prep_save(value, self.connection))
        return names, tuple(values)

    def write(self, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        meta = model._meta
        by_attname = {f.attname: f for f in meta.concrete_fields}
        unknown = [c for c in columns if c not in by_attname]
        if unknown:
            raise LoadError(f"{meta.label} has no field(s) {', '.join(unknown)}")
        extra_names, extra_values = self._filled_columns(model, columns)
        column_sql = ", ".join(_qn(c) for c in [*(by_attname[c].column for c in columns), *extra_names])
        sql = f"COPY {_qn(meta.db_table)} ({column_sql}) FROM STDIN"
        self.connection.ensure_connection()
        raw = self.connection.connection
        started = time.perf_counter()
        n = 0
        with raw.cursor() as cur, cur.copy(sql) as copy:
            write_row = copy.write_row
            if extra_values:
                for row in rows:
                    write_row((*row, *extra_values))
                    n += 1
            else:
                for row in rows:
                    write_row(row)
                    n += 1
        elapsed = time.perf_counter() - started
        self.copies += 1
        label = meta.label
        first = label not in self.rows
        self.rows[label] += n
        self.seconds[label] += elapsed
        if first:
            self.order.append(label)
            self.log(f"  {label:<38} {n:>12,} rows  {elapsed:7.2f} s")
        return n


@dataclass
class BuildResult:
    summary: WorldSummary
    rows: Counter[str]
    seconds: dict[str, float] = field(default_factory=dict)
    copies: int = 0
    history: bool = True
    triggers: str = ""
    fk_violations: dict[str, int] = field(default_factory=dict)
    ancestor_mismatches: int = 0


def world_tables_with_rows(using: str = "default") -> list[str]:
    """The generator's tables that already hold rows (a world is only loaded into empty tables)."""
    found = []
    with connections[using].cursor() as cur:
        for model in WORLD_MODELS:
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {_qn(model._meta.db_table)})")
            if cur.fetchone()[0]:
                found.append(model._meta.label)
    return found


def wipe_domain_data(using: str = "default") -> list[str]:
    """TRUNCATE every domain table (users, history and sessions included; NUCC specialties kept)."""
    tables: list[str] = []
    for label in DOMAIN_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if model is Specialty or model._meta.proxy or not model._meta.managed:
                continue
            tables.append(model._meta.db_table)
    # and every table a world section writes (some, like sales lines, have no FK constraint to cascade from)
    tables += [model._meta.db_table for model in WORLD_MODELS]
    tables += ["pghistory_context", "django_session"]
    tables = sorted(set(tables))
    with connections[using].cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses tables with deferred checks pending
        cur.execute(f"TRUNCATE {', '.join(_qn(t) for t in tables)} RESTART IDENTITY CASCADE")
    return tables


def _drop_secondary_indexes(cur: Any, tables: list[str]) -> list[str]:
    """Drop the plain indexes of ``tables`` (not primary keys, not unique constraints); return their definitions."""
    cur.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY 1
        """,
        [tables],
    )
    found = cur.fetchall()
    for name, _definition in found:
        cur.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in found]


def _is_superuser(using: str) -> bool:
    with connections[using].cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cur.fetchone()
    return bool(row and row[0])


def build_world(
    *,
    scale: Scale,
    seed: int,
    anchor: dt.date | None = None,
    history: bool | None = None,
    verify_foreign_keys: bool = True,
    using: str = "default",
    log: Callable[[str], None] = print,
) -> BuildResult:
    """Generate ``scale`` with ``seed`` and COPY it into the (empty) domain tables of ``using``."""
    history = scale.history if history is None else history
    conn = connections[using]
    specialty_codes = set(Specialty.objects.using(using).values_list("code", flat=True))
    loader = CopyLoader(using=using, log=log)
    generator = WorldGenerator(
        scale=scale, seed=seed, anchor=anchor, sink=loader, specialty_codes=specialty_codes, log=log,
        scoring_models=scoring_model_specs(using=using),
    )  # fmt: skip
    triggers = "on (pghistory records every row)"
    with transaction.atomic(using=using):
        if history:
            with pghistory.context(action=HISTORY_ACTION, seed=seed, scale=scale.name), conn.cursor() as cur:
                # a non-SELECT statement through Django carries the pghistory context into this transaction;
                # the COPY statements that follow (raw psycopg) fire triggers that read it
                cur.execute("SET LOCAL synchronous_commit TO OFF")
                summary = generator.build()
        else:
            disabled: list[str] = []
            with conn.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit TO OFF")
                if _is_superuser(using):
                    cur.execute("SET LOCAL session_replication_role = replica")
                    triggers = "skipped for the load (session_replication_role = replica): no history rows"
                else:
                    for model in WORLD_MODELS:
                        cur.execute(f"ALTER TABLE {_qn(model._meta.db_table)} DISABLE TRIGGER USER")
                        disabled.append(model._meta.db_table)
                    triggers = "disabled for the load (ALTER TABLE ... DISABLE TRIGGER USER), re-enabled after"
                deferred = _drop_secondary_indexes(cur, [m._meta.db_table for m in DEFERRED_INDEX_MODELS])
            summary = generator.build()
            started = time.perf_counter()
            with conn.cursor() as cur:
                cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
                for definition in deferred:
                    cur.execute(definition)
            if deferred:
                log(f"  {len(deferred)} secondary indexes rebuilt in {time.perf_counter() - started:.1f} s")
            with conn.cursor() as cur:
                if not disabled:
                    cur.execute("SET LOCAL session_replication_role = DEFAULT")
                for table in disabled:
                    cur.execute(f"ALTER TABLE {_qn(table)} ENABLE TRIGGER USER")
        with conn.cursor() as cur:
            for sql in conn.ops.sequence_reset_sql(no_style(), list(WORLD_MODELS)):
                cur.execute(sql)
    result = BuildResult(
        summary=summary,
        rows=loader.rows,
        seconds=dict(loader.seconds),
        copies=loader.copies,
        history=history,
        triggers=triggers,
    )
    with conn.cursor() as cur:  # fresh statistics for the planner (ANALYZE may run inside a transaction)
        cur.execute("ANALYZE " + ", ".join(_qn(m._meta.db_table) for m in WORLD_MODELS))
    if not history and verify_foreign_keys:
        result.fk_violations = foreign_key_violations(using=using)
        if result.fk_violations:
            raise LoadError(f"foreign keys violated after the load: {result.fk_violations}")
    result.ancestor_mismatches = account_ancestor_mismatches(using=using)
    if result.ancestor_mismatches:
        raise LoadError(f"{result.ancestor_mismatches} accounts have ancestors that do not match their parents")
    return result


def scoring_model_specs(using: str = "default") -> list[dict[str, Any]]:
    """The active scoring models as the generator needs them (the shipped ones are installed when missing)."""
    if not ScoringModel.objects.using(using).filter(status=ModelStatus.ACTIVE).exists() and using == "default":
        from openkam.evaluation.services import scoring_model_install_defaults

        scoring_model_install_defaults()
    specs = []
    for m in (
        ScoringModel.objects.using(using).filter(status=ModelStatus.ACTIVE).prefetch_related("criteria").order_by("pk")
    ):
        specs.append(
            {"id": m.pk, "code": m.code, "types": list(m.account_types), "min": m.scale_min, "max": m.scale_max,
             "strategic": m.strategic_min, "key": m.key_min, "basic": m.basic_min,
             "criteria": [(c.pk, c.key, c.weight) for c in m.criteria.all()]}
        )  # fmt: skip
    return specs


def foreign_key_violations(using: str = "default") -> dict[str, int]:
    """``{"table.column": n}`` for every FK of the world's tables with dangling references (empty: all good)."""
    out: dict[str, int] = {}
    with connections[using].cursor() as cur:
        for model in WORLD_MODELS:
            for f in model._meta.concrete_fields:
                if not isinstance(f, models.ForeignKey):
                    continue
                target = f.target_field
                table, ref_table = model._meta.db_table, f.related_model._meta.db_table  # type: ignore[union-attr]
                cur.execute(
                    f"SELECT count(*) FROM {_qn(table)} c WHERE c.{_qn(f.column)} IS NOT NULL AND NOT EXISTS "
                    f"(SELECT 1 FROM {_qn(ref_table)} p WHERE p.{_qn(target.column)} = c.{_qn(f.column)})"
                )
                n = cur.fetchone()[0]
                if n:
                    out[f"{table}.{f.column}"] = n
    return out


def account_ancestor_mismatches(using: str = "default") -> int:
    """How many accounts have ``ancestors``/``depth`` different from their parent chain (0: consistent)."""
    with connections[using].cursor() as cur:
        cur.execute(
            """
            WITH RECURSIVE chain AS (
                SELECT id, ARRAY[]::bigint[] AS path FROM accounts_account WHERE parent_id IS NULL
                UNION ALL
                SELECT a.id, c.path || a.parent_id FROM accounts_account a JOIN chain c ON a.parent_id = c.id
            )
            SELECT count(*) FROM accounts_account a LEFT JOIN chain c ON c.id = a.id
            WHERE c.id IS NULL OR a.ancestors <> c.path OR a.depth <> cardinality(c.path)
            """
        )
        return int(cur.fetchone()[0])


def world_counts(using: str = "default") -> dict[str, int]:
    """Exact row counts of the world's tables (label -> rows)."""
    out = {}
    with connections[using].cursor() as cur:
        for model in WORLD_MODELS:
            cur.execute(f"SELECT count(*) FROM {_qn(model._meta.db_table)}")
            out[model._meta.label] = int(cur.fetchone()[0])
    return out
