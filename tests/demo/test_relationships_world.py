"""The demo world's org chart (``openkam/demo/sections/relationships.py``), generated in memory: a believable
reports-to structure from the titles — one head per system, hospital heads under it, department heads under a
CMO/CNO or the hospital's head, staff under their department head; nobody reports to someone below them (but
the hospital's pharmacists to its Director of Pharmacy); no cycles; the flagship keeps five links per person."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

import pytest

from openkam.demo.scales import SCALES
from openkam.demo.world import WorldGenerator


class _Keeping:
    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)

    def write(self, model: Any, columns: Any, rows: Any) -> int:
        rows = [tuple(r) for r in rows] if model._meta.label == "relationships.InfluenceLink" else list(rows)
        if model._meta.label == "relationships.InfluenceLink":
            self.rows[model._meta.label].extend(rows)
        return len(rows)


@pytest.fixture(scope="module")
def demo() -> tuple[WorldGenerator, dict[int, int]]:
    sink = _Keeping()
    gen = WorldGenerator(scale=SCALES["demo"], seed=42, sink=sink, anchor=dt.date(2026, 6, 1))
    gen.build()
    boss = {r[3]: r[4] for r in sink.rows["relationships.InfluenceLink"] if r[5] == "reports_to"}
    gen.all_links = sink.rows["relationships.InfluenceLink"]  # type: ignore[attr-defined]
    return gen, boss


def test_flagship_org_chart_is_one_believable_tree(demo: tuple[WorldGenerator, dict[int, int]]) -> None:
    gen, boss = demo
    flagship = gen.units[0]
    where = {s: a for a in gen.subtree(flagship.root_id) for s in gen.pool.get(a, [])}
    assert len(where) == 300
    # one head: a system executive, not the System Director of Pharmacy
    roots = [s for s in where if s not in boss]
    assert len(roots) == 1
    head = roots[0]
    assert where[head] == flagship.root_id
    assert gen.titles[head] in ("SVP Clinical Integration", "System Chief Medical Officer")
    # a boss sits at the same account or above (never in a department below); no cycles
    for s, b in boss.items():
        if s in where:
            above = where[b] == where[s] or where[b] in gen.acc_ancestors[where[s]]
            # the one exception: a pharmacist at the hospital reports to the head of its pharmacy department
            pharmacy = gen.titles[b] == "Director of Pharmacy" and gen.acc_parent[where[b]] == where[s]
            assert above or pharmacy, (gen.titles[s], gen.titles[b])
            seen, x = set(), s
            while x in boss:
                assert x not in seen, "reports-to cycle"
                seen.add(x)
                x = boss[x]
    titles = {s: gen.titles[s] for s in where}
    # hospital CEOs report to the system's head; CMOs/CNOs/CFOs to their hospital's CEO where it has one
    for s, t in titles.items():
        if t == "Chief Executive Officer" and where[s] in flagship.hospital_ids:
            ceos = [x for x in gen.pool[where[s]] if titles.get(x) == "Chief Executive Officer"]
            if s == ceos[0]:
                assert boss[s] == head
            else:
                assert boss[s] == ceos[0]
        if t in ("Chief Medical Officer", "Chief Nursing Officer", "Chief Financial Officer"):
            ceo = next((x for x in gen.pool[where[s]] if titles.get(x) == "Chief Executive Officer"), None)
            if ceo is not None:
                assert boss[s] == ceo
    # department heads report to a CMO/COO/CEO (of the hospital or the system), staff to their department head
    hospitals = set(flagship.hospital_ids)
    chiefs = [s for s, t in titles.items() if t.startswith("Chief of ") and gen.acc_parent[where[s]] in hospitals]
    assert chiefs
    for s in chiefs:
        assert titles[boss[s]] in (
            "Chief Medical Officer", "System Chief Medical Officer", "VP Clinical Operations",
            "SVP Clinical Integration", "Chief Executive Officer",
        ), titles[boss[s]]  # fmt: skip
        for x in gen.pool[where[s]]:
            if x != s and titles[x].startswith(("Attending Physician", "Physician Assistant")):
                assert boss[x] == s
    # nobody has most of the map as direct reports (the head of the old seeding had 91 of 300)
    fan_out = Counter(b for s, b in boss.items() if s in where)
    assert max(fan_out.values()) < 120
    # sizes: five links per person on the flagship
    links = [r for r in gen.all_links if r[3] in where]  # type: ignore[attr-defined]
    assert len(links) == 5 * 300


def test_hospital_without_executives_has_no_fake_head(demo: tuple[WorldGenerator, dict[int, int]]) -> None:
    """A hospital whose only executive is its Director of Quality: its department heads report to the system's
    CMO, not to the Director of Quality (what the review found at Mount Sinai West)."""
    gen, boss = demo
    flagship = gen.units[0]
    found = 0
    for h in flagship.hospital_ids:
        execs = {gen.titles[s] for s in gen.pool.get(h, [])}
        if execs & {"Chief Executive Officer", "VP Clinical Operations", "Chief Medical Officer"}:
            continue
        for dept in gen.children.get(h, []):
            for s in gen.pool.get(dept, []):
                if gen.titles[s].startswith("Chief of "):
                    found += 1
                    assert gen.acc_parent[dept] == h
                    assert gen.titles[boss[s]] not in ("Director of Quality", "Chief Financial Officer")
    assert found
