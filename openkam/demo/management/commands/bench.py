"""`manage.py bench --scale demo|large`: build (once) a reference world in its own database, time the named
operations next to the raw SQL answering the same question, print the table and write bench/results/."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone

from openkam.demo import benchmark as bm
from openkam.demo.loader import build_world, world_counts
from openkam.demo.scales import SCALES, bench_scale


class Command(BaseCommand):
    help = (
        "Benchmark: build the reference world of a scale in database openkam_bench_<scale> (kept between runs), "
        "then time the account list, Account 360 and plan pages against raw SQL."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="demo")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the benchmark world")
        parser.add_argument(
            "--interactions", type=int, default=None, help="number of interactions (default: the scale's own)"
        )
        parser.add_argument("--repeat", type=int, default=20, help="timed repetitions per operation (default 20)")
        parser.add_argument("--warmup", type=int, default=3, help="untimed warm-up runs (default 3)")
        parser.add_argument("--output", type=Path, default=None, help="Markdown file (default bench/results/latest.md)")
        parser.add_argument("--build-only", action="store_true", help="build or check the world; time nothing")
        parser.add_argument("--database", default=None, help="benchmark database name (default openkam_bench_<scale>)")
        parser.add_argument(
            "--keep-world",
            action="store_true",
            help="reuse a complete world even if the generator changed since (noted in the report)",
        )
        parser.add_argument("--only", default="", help="comma-separated operation keys to time (default: all)")

    def handle(self, *args: Any, **opts: Any) -> None:
        scale = bench_scale(opts["scale"])
        if opts["interactions"] is not None:
            if opts["interactions"] < 0:
                raise CommandError("--interactions must be >= 0")
            scale = scale.with_(interactions=opts["interactions"])
        seed = opts["seed"]
        db = opts["database"] or f"openkam_bench_{scale.name}"
        wanted = {"scale": scale.name, "seed": seed, "interactions": scale.interactions,
                  "generator": bm.generator_version()}  # fmt: skip
        marker = bm.database_marker(db)
        reason = None
        notes_keep: list[str] = []
        if opts["rebuild"]:
            reason = "--rebuild"
        elif marker is None:
            reason = "no benchmark database yet"
        elif not marker.get("complete"):
            reason = "the database holds no complete world"
        elif opts["keep_world"] and marker.get("scale") == scale.name:
            notes_keep = [k for k, v in wanted.items() if marker.get(k) != v]
        elif any(marker.get(k) != v for k, v in wanted.items()):
            changed = [k for k, v in wanted.items() if marker.get(k) != v]
            reason = f"the world was built with other parameters ({', '.join(changed)})"

        notes: list[str] = [
            "Transfers of value (DESIGN.md §7: 2,000,000 at large scale) are not generated: no model exists yet.",
        ]
        if notes_keep:
            notes.append(f"--keep-world: the world was built with other {', '.join(notes_keep)} than the current code.")
        if reason:
            self.stdout.write(f"Building the {scale.name} benchmark world in database {db}: {reason}.")
            bm.recreate_database(db)
            bm.use_database(db)
            call_command("migrate", interactive=False, verbosity=0)
            started = time.perf_counter()
            result = build_world(scale=scale, seed=seed, history=scale.history, log=self.stdout.write)
            with connections["default"].cursor() as cur:  # visibility map + statistics, outside any transaction
                cur.execute("VACUUM (ANALYZE)")
            load_seconds = time.perf_counter() - started
            marker = {
                **wanted,
                "complete": True,
                "built_at": timezone.localtime().strftime("%Y-%m-%d %H:%M %Z"),
                "load_seconds": round(load_seconds, 1),
                "triggers": result.triggers,
                "copies": result.copies,
            }
            bm.write_marker(db, marker)
            self.stdout.write(
                self.style.SUCCESS(
                    f"World loaded in {load_seconds:.1f} s ({sum(result.rows.values()):,} rows, {result.copies} COPY "
                    f"statements); triggers {result.triggers}."
                )
            )
        else:
            assert marker is not None
            self.stdout.write(
                f"Reusing the {scale.name} benchmark world in database {db} (built {marker['built_at']})."
            )
            bm.use_database(db)
            out = _capture_migrate()
            if out:
                notes.append("The schema was migrated since the world was built: " + out)

        assert marker is not None
        subjects = bm.find_subjects("kam")
        from openkam.accounts.selectors import account_scope

        world = {
            "built_at": marker["built_at"],
            "load_seconds": f"{marker['load_seconds']} s (generate + COPY + indexes, one transaction; VACUUM ANALYZE)",
            "interactions": f"{scale.interactions:,}",
            "triggers": marker.get("triggers", ""),
            "rows": world_counts(),
            "subjects": {
                "user": subjects.user.username,
                "book": account_scope(actor=subjects.user).count(),
                "idn": subjects.idn.name if subjects.idn else None,
                "idn_hospitals": subjects.idn_hospitals,
                "idn_stakeholders": f"{subjects.idn_stakeholders:,}",
                "plan": subjects.plan.pk if subjects.plan else None,
                "plan_actions": subjects.plan_actions,
            },
        }
        if scale.name == "large" and scale.interactions != SCALES["large"].interactions:
            notes.append(f"Interactions scaled down to {scale.interactions:,} (DESIGN.md §7 says 5,000,000).")
        if opts["build_only"]:
            self.stdout.write("--build-only: nothing timed.")
            return

        load = os.getloadavg()
        notes.append(f"Load average (1/5/15 min) when timing started: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.")
        report = bm.Report(scale.name, seed, db, opts["repeat"], opts["warmup"], world, notes=notes)
        only = {k.strip() for k in opts["only"].split(",") if k.strip()}
        unknown = only - {op.key for op in bm.OPERATIONS}
        if unknown:
            raise CommandError(f"unknown operation(s): {', '.join(sorted(unknown))}")
        for op in bm.OPERATIONS:
            if only and op.key not in only:
                continue
            self.stdout.write(f"Timing {op.title}...")
            report.measurements.append(
                bm.measure(op, subjects, repeat=opts["repeat"], warmup=opts["warmup"], scale=scale.name)
            )
        self.stdout.write("")
        for line in bm.render_table(report.measurements):
            self.stdout.write(line)
        paths = bm.write_results(report, opts["output"])
        self.stdout.write("")
        self.stdout.write(f"Written: {', '.join(str(p) for p in paths)}")


def _capture_migrate() -> str:
    """Apply migrations added since the world was built; return what was applied ('' when nothing)."""
    from io import StringIO

    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections["default"])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return ""
    call_command("migrate", interactive=False, verbosity=0, stdout=StringIO())
    return ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan)
