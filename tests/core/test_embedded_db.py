"""The embedded PostgreSQL: started on first use, reused while alive, stopped cleanly (also as root)."""

import os
from pathlib import Path

import psycopg
import pytest

from openkam.core import embedded_db


@pytest.fixture
def private_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "pgdata"
    monkeypatch.setattr(embedded_db, "DATA_DIR", data)
    monkeypatch.setattr(embedded_db, "DB_NAME", "openkam_lifecycle")
    yield data
    embedded_db.stop()


def test_start_reuse_and_stop(private_server: Path) -> None:
    url = embedded_db.ensure_running()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("openkam_lifecycle",)
    pid = int((private_server / "postmaster.pid").read_text().splitlines()[0])
    assert embedded_db.ensure_running() == url  # reused: same server, no second postmaster
    assert int((private_server / "postmaster.pid").read_text().splitlines()[0]) == pid
    assert embedded_db.stop() is True
    assert not (private_server / "postmaster.pid").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert embedded_db.stop() is True  # stopping a stopped server is fine
