"""`make demo`: migrate, load the demo world if empty, start a task worker and the web server.

Ctrl-C stops the server, the worker and (in embedded mode) the embedded PostgreSQL cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

DEMO_LOGINS = [
    ("kam", "Key account manager"),
    ("kam2", "Key account manager (second book)"),
    ("lead", "KAM lead"),
    ("msl", "Medical science liaison"),
    ("access", "Market access"),
    ("compliance", "Compliance (reads everything, changes nothing)"),
    ("admin", "Administrator"),
]


class Command(BaseCommand):
    help = "Run the OpenKAM demo: migrate, seed when empty, worker + web server; Ctrl-C stops everything."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args: Any, **opts: Any) -> None:
        embedded = not os.environ.get("DATABASE_URL")
        self.stdout.write(f"Database: {'embedded PostgreSQL under var/pgdata' if embedded else 'DATABASE_URL'}")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Migrations applied.")
        if not get_user_model().objects.exists():
            if "seed_demo" in get_commands():
                self.stdout.write("Empty database: loading the demo world (takes a minute the first time)...")
                call_command("seed_demo", seed=opts["seed"])
            else:
                self.stderr.write("seed_demo is not available: the database stays empty.")
        else:
            self.stdout.write("Existing data found: reusing it (delete var/pgdata for a fresh demo world).")

        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        worker = subprocess.Popen([*manage, "procrastinate", "worker"], start_new_session=True)
        server = subprocess.Popen(
            [*manage, "runserver", f"{opts['host']}:{opts['port']}", "--noreload"], start_new_session=True
        )
        url = f"http://{opts['host']}:{opts['port']}"
        self.stdout.write(self.style.SUCCESS(f"\nOpenKAM is running at {url}  (API docs: {url}/api/v1/docs)"))
        self.stdout.write("Demo logins (password: demo):")
        for username, role in DEMO_LOGINS:
            self.stdout.write(f"  {username:<11} {role}")
        self.stdout.write("Press Ctrl-C to stop.\n")

        stopping = False

        def _stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        try:
            while not stopping and server.poll() is None:
                time.sleep(0.3)
        finally:
            self.stdout.write("\nStopping...")
            for proc in (server, worker):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in (server, worker):
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            if embedded:
                from django.db import connections

                connections.close_all()
                from openkam.core import embedded_db

                if embedded_db.stop():
                    self.stdout.write("Embedded PostgreSQL stopped.")
                else:
                    self.stderr.write("The embedded PostgreSQL did not stop in time; run `make db-stop`.")
            self.stdout.write("Bye.")
