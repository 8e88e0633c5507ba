"""The German catalogue is complete, compiled, and used: it cannot silently rot.

(a) every entry of ``openkam/locale/de/LC_MESSAGES/django.po`` is translated, none is fuzzy, and each translation
    keeps the placeholders (``%(name)s``, ``%s``, ``{name}``) and HTML tags of its msgid;
(b) the committed ``django.mo`` holds exactly the entries of the ``.po`` (compilemessages was run);
(c) major pages rendered for a user who chose German show none of their distinctive English labels;
(d) ``makemessages`` run over a temporary copy of the source finds no msgid missing from the committed ``.po``
    (a string added without translating it fails here, with the list of new strings).

How to add and translate strings: docs/i18n.md.
"""

from __future__ import annotations

import collections
import gettext
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from tests import factories as f

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "openkam" / "locale"
PO = LOCALE / "de" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# The arguments the catalogue is regenerated with (docs/i18n.md); (d) uses the same ones.
MAKEMESSAGES_IGNORE = [".venv/*", "var/*"]


# --- a small PO reader (no third-party dependency) ----------------------------------------------------------------
@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0
    obsolete: bool = False

    @property
    def key(self) -> str:
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    body = text.strip()
    assert body.startswith('"') and body.endswith('"'), body
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body[1:-1])


def read_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    cur = Entry()
    started = False
    target: tuple[str, int] | None = None

    def flush() -> None:
        nonlocal cur, started, target
        if started:
            entries.append(cur)
        cur, started, target = Entry(), False, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#~"):
            cur.obsolete, started = True, True
            continue
        if line.startswith("#"):
            if target is not None and target[0] == "msgstr":
                flush()
            if line.startswith("#,"):
                cur.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            started = True
            continue
        m = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")$", line)
        if m:
            keyword, index, value = m.group(1), int(m.group(2) or 0), _unquote(m.group(3))
            if keyword in ("msgctxt", "msgid") and target is not None and target[0] == "msgstr":
                flush()
            if not started:
                cur.line = number
            started = True
            if keyword == "msgctxt":
                cur.msgctxt = value
            elif keyword == "msgid":
                cur.msgid = value
                cur.line = cur.line or number
            elif keyword == "msgid_plural":
                cur.msgid_plural = value
            else:
                cur.msgstr[index] = value
            target = (keyword, index)
            continue
        assert line.startswith('"') and target is not None, f"{path}:{number}: cannot read {raw!r}"
        value = _unquote(line)
        keyword, index = target
        if keyword == "msgctxt":
            cur.msgctxt = (cur.msgctxt or "") + value
        elif keyword == "msgid":
            cur.msgid += value
        elif keyword == "msgid_plural":
            cur.msgid_plural = (cur.msgid_plural or "") + value
        else:
            cur.msgstr[index] += value
    flush()
    return [e for e in entries if not e.obsolete]


def catalogue() -> list[Entry]:
    """The committed entries, without the header."""
    return [e for e in read_po(PO) if e.msgid]


# --- placeholders ---------------------------------------------------------------------------------------------------
# Python %-directives as msgfmt --check reads them in python-format entries (named, positional, with flags).
_PY_FORMAT = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
_BRACES = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")


def _placeholders(entry: Entry, text: str) -> collections.Counter[str]:
    found: collections.Counter[str] = collections.Counter()
    if "python-format" in entry.flags:
        found.update(d for d in _PY_FORMAT.findall(text) if d != "%%")
    found.update(_BRACES.findall(text))
    found.update(f"<{m.group(0).split()[0].strip('<>')}>" for m in _TAG.finditer(text))
    return found


def _problems(entry: Entry) -> list[str]:
    where = f"django.po:{entry.line} {entry.msgid[:70]!r}"
    if "fuzzy" in entry.flags:
        return [f"{where}: fuzzy (check the translation, then remove the flag)"]
    forms = [entry.msgstr.get(i, "") for i in range(2)] if entry.msgid_plural is not None else [entry.msgstr.get(0, "")]
    if not all(forms):
        return [f"{where}: not translated"]
    out = []
    if entry.msgid_plural is None:
        if _placeholders(entry, forms[0]) != _placeholders(entry, entry.msgid):
            out.append(f"{where}: placeholders differ: {forms[0]!r}")
    else:
        allowed = set(_placeholders(entry, entry.msgid)) | set(_placeholders(entry, entry.msgid_plural))
        if set(_placeholders(entry, forms[0])) - allowed:
            out.append(f"{where}: msgstr[0] has placeholders the msgid lacks: {forms[0]!r}")
        if _placeholders(entry, forms[1]) != _placeholders(entry, entry.msgid_plural):
            out.append(f"{where}: msgstr[1] placeholders differ from msgid_plural: {forms[1]!r}")
    return out


def test_reader_reads_the_whole_catalogue():
    """The reader understands every entry the file has (a parse slip would make the other checks vacuous)."""
    text = PO.read_text(encoding="utf-8")
    entries = catalogue()
    assert len(entries) == len(re.findall(r"^msgid ", text, re.M)) - 1 > 2000
    assert {"Account plan", "Stakeholders", "Relationship map"} <= {e.msgid for e in entries}
    assert sum(e.msgid_plural is not None for e in entries) == len(re.findall(r"^msgid_plural ", text, re.M))


def test_checks_catch_bad_translations():
    """The placeholder check is not a no-op: it notices lost, renamed and extra placeholders and tags."""
    fmt = {"python-format"}
    assert _problems(Entry(msgid="Hi %(n)s", msgstr={0: "Hallo"}, flags=fmt))
    assert _problems(Entry(msgid="Hi %(n)s", msgstr={0: "Hallo %(name)s"}, flags=fmt))
    assert _problems(Entry(msgid="<b>Hi</b>", msgstr={0: "Hallo"}))
    assert _problems(Entry(msgid="%s done", msgstr={0: "erledigt"}, flags=fmt))
    assert _problems(Entry(msgid="a", msgstr={0: "b"}, flags={"fuzzy"}))
    assert _problems(Entry(msgid="a", msgid_plural="as", msgstr={0: "b", 1: ""}))
    assert not _problems(Entry(msgid="Hi %(n)s", msgstr={0: "Hallo %(n)s"}, flags=fmt))
    assert not _problems(Entry(msgid="%(c)s day", msgid_plural="%(c)s days", msgstr={0: "%(c)s Tag", 1: "%(c)s Tage"}))


def test_every_entry_is_translated_and_keeps_its_placeholders():
    problems = [p for e in catalogue() for p in _problems(e)]
    assert not problems, f"{len(problems)} catalogue problem(s) (see docs/i18n.md):\n" + "\n".join(problems[:60])


def test_header_declares_german_plural_forms():
    header = next(e for e in read_po(PO) if not e.msgid).msgstr[0]
    assert "Language: de" in header and "nplurals=2; plural=(n != 1);" in header and "charset=UTF-8" in header


def test_compiled_catalogue_matches_the_po():
    """django.mo must be recompiled whenever django.po changes (compilemessages, docs/i18n.md)."""
    with MO.open("rb") as fp:
        compiled = dict(gettext.GNUTranslations(fp)._catalog)  # type: ignore[attr-defined]
    compiled.pop("", None)
    expected: dict[Any, str] = {}
    for e in catalogue():
        if e.msgid_plural is None:
            expected[e.key] = e.msgstr[0]
        else:
            for i, text in e.msgstr.items():
                expected[(e.key, i)] = text
    stale = sorted(str(k)[:80] for k in expected.keys() - compiled.keys())
    extra = sorted(str(k)[:80] for k in compiled.keys() - expected.keys())
    changed = sorted(str(k)[:80] for k in expected.keys() & compiled.keys() if expected[k] != compiled[k])
    assert not (stale or extra or changed), (
        "django.mo is out of date: run `.venv/bin/python manage.py compilemessages -l de -i .venv`.\n"
        f"missing: {stale[:20]}\nnot in the .po: {extra[:20]}\ndifferent: {changed[:20]}"
    )


# --- (c) pages in German ----------------------------------------------------------------------------------------------
def _german(client: Any) -> Any:
    client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    return client


@pytest.fixture
def pages(world: Any) -> dict[str, tuple[str, str, list[str]]]:
    """page → (persona, url, distinctive English labels that must not show in German)."""
    kam = world.users["kam"]
    plan = f.PlanFactory(account=world.idn, owner=kam, status="active", name="Beacon 2026")
    tactic = f.TacticFactory(objective=f.ObjectiveFactory(plan=plan, title="Listed on the IDN formulary"))
    f.ActionFactory(tactic=tactic, assignee=kam, title="Present the budget-impact model")
    person = f.StakeholderFactory()
    f.PositionFactory(stakeholder=person, account=world.hospital)
    return {
        "home": ("kam", "/", ["My open actions", "Accounts in my book", "My account plans"]),
        "account list": ("kam", reverse("accounts:list"), ["Sub-accounts", "Identifiers", "All types"]),
        "account 360": (
            "kam",
            reverse("accounts:detail", args=[world.idn.pk]),
            ["Key facts", "Current stakeholders", "Add sub-account", "Account team"],
        ),
        "relationship map": (
            "kam",
            reverse("relationships:map", args=[world.idn.pk]),
            ["Org chart", "Coverage matrix", "Blue ring"],
        ),
        "plan": (
            "kam",
            reverse("plans:detail", args=[plan.pk]),
            ["Objectives, tactics and actions", "Add tactic", "Completeness", "Close plan"],
        ),
        "formulary dashboard": (
            "access",
            reverse("market_access:dashboard"),
            ["Formulary dashboard", "Changes in the last 90 days", "Reviews due"],
        ),
        "evaluation matrix": (
            "lead",
            reverse("evaluation:matrix"),
            ["Portfolio matrix", "Scoring models", "KAM analysis"],
        ),
    }


def test_major_pages_speak_german(web, pages):
    english_left = {}
    for name, (persona, url, labels) in pages.items():
        client = web(persona)
        resp = client.get(url)
        assert resp.status_code == 200, (name, resp.status_code)
        english = resp.content.decode()
        missing = [label for label in labels if label not in english]
        assert not missing, f"{name}: the English page no longer shows {missing}; pick other labels for this test"
        resp = _german(client).get(url)
        german = resp.content.decode()
        assert resp.status_code == 200 and 'lang="de"' in german, name
        found = [label for label in labels if label in german]
        if found:
            english_left[name] = found
        client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert not english_left, f"English labels on German pages: {english_left}"


# --- (d) nothing new left untranslated ------------------------------------------------------------------------------
@pytest.mark.skipif(not (shutil.which("xgettext") and shutil.which("msgmerge")), reason="GNU gettext not installed")
def test_makemessages_finds_no_untranslated_string(tmp_path):
    """Run makemessages over a copy of the source (the real tree is never written) and compare with the .po."""
    copy = tmp_path / "src"
    skip = shutil.ignore_patterns("vendor", "__pycache__", "*.mo", "*.png", "*.jpg", "*.woff*", "*.ttf", "*.svg")
    for top in ("openkam", "config"):
        shutil.copytree(ROOT / top, copy / top, ignore=skip)
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    po_copy = copy / PO.relative_to(ROOT)
    script = (
        "import django, os, sys; from django.conf import settings; from pathlib import Path\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        f"sys.path.insert(0, {str(ROOT)!r}); django.setup()\n"
        f"settings.LOCALE_PATHS = [Path({str(copy / 'openkam' / 'locale')!r})]\n"
        "from django.core.management import call_command\n"
        "call_command('makemessages', locale=['de'], no_obsolete=True, verbosity=0, "
        f"ignore_patterns={MAKEMESSAGES_IGNORE!r})\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=copy, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    committed = {e.key for e in catalogue()}
    fresh = [e for e in read_po(po_copy) if e.msgid]
    new = sorted({e.msgid for e in fresh if e.key not in committed})
    gone = sorted(committed - {e.key for e in fresh})
    assert not new, (
        f"{len(new)} string(s) in the code are not in the German catalogue; regenerate and translate them "
        "(docs/i18n.md):\n" + "\n".join(repr(m) for m in new[:80])
    )
    assert not gone, (
        f"{len(gone)} catalogue entries no longer exist in the code; regenerate (docs/i18n.md): {gone[:40]}"
    )
