"""`manage.py seed_demo --seed N`: load the demo world (see ``openkam.demo.scales``) into an empty database."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from openkam.demo.loader import build_world, wipe_domain_data, world_tables_with_rows
from openkam.demo.scales import SCALES


class Command(BaseCommand):
    help = (
        "Load the deterministic demo world: real CMS hospitals of the Northeast in six fictional systems, "
        "~1,000 fictional stakeholders, a portfolio, plans in every state and a year of interactions; one user "
        "per role (kam, kam2, lead, msl, access, compliance, admin — password 'demo')."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=42, help="same seed, same world (default 42)")
        parser.add_argument("--scale", choices=sorted(SCALES), default="demo", help="world size (default demo)")
        parser.add_argument(
            "--anchor",
            type=dt.date.fromisoformat,
            default=None,
            help="the world's 'today' (YYYY-MM-DD); dates are relative to it (default: today)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="on a non-empty database: first ERASE all domain data (users, accounts, history...) and reseed",
        )
        parser.add_argument("--no-history", action="store_true", help="do not record pghistory events for the load")

    def handle(self, *args: Any, **opts: Any) -> None:
        scale = SCALES[opts["scale"]]
        started = time.perf_counter()
        with transaction.atomic():
            occupied = world_tables_with_rows()
            if occupied:
                if not opts["force"]:
                    raise CommandError(
                        f"The database already holds data ({', '.join(occupied[:4])}...). seed_demo only loads into "
                        "an empty database; use --force to erase all domain data and reseed."
                    )
                self.stdout.write(self.style.WARNING("--force: erasing all domain data first."))
                wipe_domain_data()
            self.stdout.write(f"Loading the {scale.name} world (seed {opts['seed']}) with COPY...")
            result = build_world(
                scale=scale,
                seed=opts["seed"],
                anchor=opts["anchor"],
                history=False if opts["no_history"] else None,
                log=self.stdout.write,
            )
        from openkam.evaluation.services import effort_snapshot_refresh

        effort_snapshot_refresh()  # derived effort figures for the portfolio matrix and the KAM analysis
        s = result.summary
        total = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo world loaded in {total:.1f} s: {sum(result.rows.values()):,} rows in {result.copies} COPY "
                f"statements; history triggers {result.triggers}."
            )
        )
        self.stdout.write(
            f"Flagship IDN “{s.flagship_name}” (id {s.flagship_id}): {s.hospitals_in_flagship} hospitals, "
            f"{s.stakeholders_in_flagship:,} stakeholders."
        )
        self.stdout.write("Logins (password 'demo'): kam, kam2, lead, msl, access, compliance, admin.")
