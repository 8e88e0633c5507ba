"""Opening generated files the way a user would: LibreOffice (headless) and poppler.

In CI (``CI`` set) the tools are installed by ``.ci/run`` and a missing one FAILS the test; elsewhere the test is
skipped with the install command. Each LibreOffice call gets its own profile directory, so parallel test workers
do not fight over a lock.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest


def _need(*names: str) -> str:
    for name in names:
        exe = shutil.which(name)
        if exe:
            return exe
    message = (
        f"{names[0]} is not installed (apt-get install libreoffice-calc-nogui libreoffice-impress-nogui poppler-utils)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def libreoffice_convert(source: Path, to: str, outdir: Path | None = None, timeout: int = 180) -> Path:
    """Convert ``source`` with LibreOffice (``to``: csv, pdf, png, ...); returns the converted file (fails if none)."""
    exe = _need("soffice", "libreoffice")
    outdir = outdir or source.parent
    profile = Path("/tmp") / f"okam-lo-{uuid.uuid4().hex}"
    try:
        subprocess.run(
            [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--convert-to", to,
             "--outdir", str(outdir), str(source)],
            check=True, timeout=timeout, capture_output=True,
        )  # fmt: skip
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    result = outdir / (source.stem + "." + to.split(":", 1)[0])
    assert result.exists() and result.stat().st_size > 0, f"LibreOffice did not convert {source.name} to {to}"
    return result


def pdf_to_pngs(pdf: Path, outdir: Path, dpi: int = 60, first: int = 1, last: int = 3) -> list[Path]:
    """Render PDF pages to PNG with poppler's pdftoppm (to look at them, or to check they render)."""
    exe = _need("pdftoppm")
    prefix = outdir / pdf.stem
    subprocess.run([exe, "-png", "-r", str(dpi), "-f", str(first), "-l", str(last), str(pdf), str(prefix)], check=True)
    return sorted(outdir.glob(pdf.stem + "*.png"))


def pdf_text(pdf: Path) -> str:
    exe = _need("pdftotext")
    return subprocess.run([exe, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
