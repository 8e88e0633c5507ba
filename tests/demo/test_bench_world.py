"""The benchmark world builder (COPY, history off) and the harness's measurement of operations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_scope
from openkam.core.models import Territory
from openkam.demo import benchmark as bm
from openkam.demo.loader import (
    CopyLoader,
    LoadError,
    account_ancestor_mismatches,
    build_world,
    foreign_key_violations,
)
from openkam.demo.scales import FLAGSHIP, bench_scale
from openkam.plans.models import Action
from openkam.stakeholders.models import Position

TINY = bench_scale("tiny")


@pytest.fixture
def bench_world(db: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    copies: list[str] = []
    real_copy = psycopg.Cursor.copy

    def spy(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
        copies.append(str(statement))
        return real_copy(self, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", spy)
    with CaptureQueriesContext(connection) as queries:
        result = build_world(scale=TINY, seed=3, history=False, log=lambda msg: None)
    monkeypatch.undo()
    return result, copies, queries


def test_bench_world_loads_with_copy_and_consistent_ancestors(bench_world: Any) -> None:
    result, copies, queries = bench_world
    assert len(copies) == result.copies >= 20
    assert all(c.startswith("COPY ") and "FROM STDIN" in c for c in copies)
    # world rows come by COPY; the only INSERTs allowed are the default plan templates — reference data that
    # migrations seed and the plan section re-installs when a transactional test (or a re-seed) emptied them
    reference = ('INSERT INTO "PLANS_PLANTEMPLATE"', 'INSERT INTO "PLANS_TEMPLATE')
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert not [sql for sql in inserts if not sql.lstrip().upper().startswith(reference)], inserts[:3]
    assert result.rows["activities.Interaction"] == TINY.interactions
    assert account_ancestor_mismatches() == 0
    assert foreign_key_violations() == {}
    assert "replica" in result.triggers
    # history triggers were skipped for the load, and are back on afterwards
    assert apps.get_model("accounts", "AccountEvent").objects.count() == 0
    Territory.objects.create(code="after-load", name="After the load")
    assert apps.get_model("core", "TerritoryEvent").objects.filter(code="after-load").count() == 1


def test_bench_world_has_the_benchmark_subjects(bench_world: Any) -> None:
    subjects = bm.find_subjects("kam")
    assert subjects.idn is not None and subjects.idn.name == FLAGSHIP
    assert subjects.idn_hospitals == TINY.named_sizes[0]
    assert subjects.idn_stakeholders == TINY.flagship_stakeholders
    # the core world makes the scale's big plan; the plan sections grow it to the 50-objective/300-action plan
    assert subjects.plan is not None and subjects.plan_actions == 300 > TINY.big_plan_actions
    assert Action.objects.filter(tactic__objective__plan=subjects.plan).count() == 300
    assert account_scope(actor=subjects.user).filter(pk=subjects.idn.pk).exists()
    # the flagship's people are its own: no position of an outsider anywhere below it
    below = Account.objects.filter(ancestors__contains=[subjects.idn.pk]).values("pk")
    inside = Position.objects.filter(account__in=below) | Position.objects.filter(account=subjects.idn)
    people = set(inside.values_list("stakeholder_id", flat=True))
    assert not Position.objects.filter(stakeholder_id__in=people).exclude(pk__in=inside.values("pk")).exists()


def test_baseline_sql_runs_on_the_current_schema(bench_world: Any) -> None:
    subjects = bm.find_subjects("kam")
    params = bm.sql_params(subjects)
    for op in bm.OPERATIONS:
        ms, rows = bm.time_sql(bm.load_sql(op.sql_file), params, repeat=1, warmup=0)
        assert ms > 0 and rows > 0, op.key


def test_harness_reports_missing_pages_instead_of_crashing(
    bench_world: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    subjects = bm.find_subjects("kam")
    missing = bm.Operation("missing", "A page nobody built", "nope:missing", lambda s: [], "plan_detail.sql")
    m = bm.measure(missing, subjects, repeat=1, warmup=1, scale="tiny")
    assert m.status == "not available" and "nope:missing" in m.note
    assert m.sql_ms is not None  # the baseline is still measured

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("template exploded")

    monkeypatch.setattr("django.test.Client.get", broken)
    home = bm.Operation("home", "Home", "home", lambda s: [], "account_list.sql")
    e = bm.measure(home, subjects, repeat=1, warmup=1, scale="tiny")
    assert e.status == "error" and "template exploded" in e.note

    report = bm.Report("tiny", 3, "test", 1, 1, {"rows": {"accounts.Account": 1}}, [m, e], notes=["n"])
    paths = bm.write_results(report, directory=tmp_path)
    text = paths[0].read_text()
    assert "not available" in text and "error" in text and "## Machine" in text
    assert paths == [tmp_path / "latest.md", tmp_path / "tiny.md"]


def test_home_page_is_measured_with_queries(bench_world: Any) -> None:
    subjects = bm.find_subjects("kam")
    home = bm.Operation("home", "Home", "home", lambda s: [], "account_list.sql", target_ms=10_000)
    m = bm.measure(home, subjects, repeat=2, warmup=1, scale="tiny")
    assert m.status == "ok", m.note
    assert m.page_ms is not None and m.queries is not None and m.queries > 0
    assert m.ratio is not None and m.target_met is True


def test_loader_fills_fields_the_generator_does_not_know(db: Any) -> None:
    loader = CopyLoader(log=lambda msg: None)
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    # no description, no country: filled as Territory() would hold them ("" and the default "US")
    loader.write(Territory, ("id", "created_at", "updated_at", "code", "name"), [(9001, now, now, "x", "X")])
    t = Territory.objects.get(pk=9001)
    assert (t.description, t.country) == ("", "US")
    with pytest.raises(LoadError, match=r"Position\.valid_from is required"):  # no default for a date
        loader.write(Position, ("id", "stakeholder_id", "account_id", "title"), [(9002, 1, 1, "Chief")])


def test_baseline_include_line_stands_for_the_other_files_statements() -> None:
    """``\\i relationship_map.sql`` in the coverage baseline: the map's statements first, in order, then its own."""
    cover, graph = bm.load_sql("relationship_coverage.sql"), bm.load_sql("relationship_map.sql")
    assert cover[: len(graph)] == graph
    assert len(cover) == len(graph) + 2 and all("\\i" not in st for st in cover)
