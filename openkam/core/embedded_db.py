"""The embedded PostgreSQL used when no DATABASE_URL is set.

`pgserver` ships PostgreSQL 16 inside a wheel. Its data directory lives under ``var/pgdata`` in the
project and is kept between runs. The server is started on first use (idempotent: a running server is
reused) and keeps running until :func:`stop` is called (``make db-stop`` / Ctrl-C in ``make demo``).
This module is infrastructure: it imports nothing from Django.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("OPENKAM_PGDATA", BASE_DIR / "var" / "pgdata"))
DB_NAME = os.environ.get("OPENKAM_DB_NAME", "openkam")


def _running_socket_dir() -> str | None:
    """The socket directory of a live postmaster for DATA_DIR, read from postmaster.pid, else None."""
    pidfile = DATA_DIR / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
        pid, socket_dir = int(lines[0]), lines[4]
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return socket_dir if any(Path(socket_dir).glob(".s.PGSQL.*")) else None


def ensure_running() -> str:
    """Start (or reuse) the embedded server, make sure the app database exists, return its URL."""
    socket_dir = _running_socket_dir()
    if socket_dir is None:
        import pgserver  # imported lazily: only the embedded mode needs it

        DATA_DIR.parent.mkdir(parents=True, exist_ok=True)
        pgserver.get_server(str(DATA_DIR), cleanup_mode=None)
        socket_dir = _running_socket_dir() or str(DATA_DIR)
    _ensure_database(socket_dir)
    return f"postgresql://postgres:@/{DB_NAME}?host={socket_dir}"


def _ensure_database(socket_dir: str) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres:@/postgres?host={socket_dir}", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def stop(timeout: float = 30.0) -> bool:
    """Stop the embedded server cleanly; True when it is no longer running.

    Sends SIGINT to the postmaster — PostgreSQL's documented *fast shutdown*: open sessions are ended,
    data is flushed and checkpointed. Signalling works whether pgserver runs postgres as our user or, when
    we are root, as its own ``pgserver`` system user (where ``pg_ctl`` refuses to run as root).
    """
    pidfile = DATA_DIR / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        os.kill(pid, signal.SIGINT)
    except (OSError, ValueError, IndexError):
        return not pidfile.exists()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
        time.sleep(0.2)
    return False
