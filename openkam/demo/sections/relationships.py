"""Relationship world: influence links (an org chart of reports-to links per account, influences, peers, a few
conflicts), stakeholder assessments at each system's root account (decision role, domains, stance, influence —
some with an older, superseded version so the movement shows), relationship strengths of the account team
(the KAM holds most of them: single-threading to find) and owners. (Settings and country privacy rules are
administration, not world data: they survive a re-seed.)

Gaps are left on purpose so the coverage analysis has something to find: unassessed people, people central in
the network whom nobody of ours knows (hidden influencers), champions known by one person only, blockers.

Sizes: the flagship IDN gets five links per person (2,000 people → 10,000 links in the benchmark world); the
other systems three (demo scale) — at large scale only the six named systems are mapped besides the flagship.
COPY-loaded, deterministic (``gen.rng("relationships:…")``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from openkam.demo.sections import WorldSection
from openkam.relationships.models import (
    AssessmentOwner,
    DecisionDomain,
    InfluenceLink,
    RelationshipStrength,
    StakeholderAssessment,
)

if TYPE_CHECKING:
    from openkam.demo.world import Unit, WorldGenerator

ROLES = ("decision_maker", "approver", "influencer", "champion", "gatekeeper", "user", "blocker")
ROLE_WEIGHTS = (8, 5, 30, 8, 8, 30, 5)
EVIDENCE = (
    "Seen together at the P&T meeting",
    "Co-authors on the formulary review",
    "Mentioned by the department chair",
    "Same budget line",
    "Told us in a visit",
    "",
    "",
)


def _domain_ids() -> list[int]:
    try:
        ids = list(DecisionDomain.objects.filter(is_active=True).order_by("position").values_list("pk", flat=True))
    except Exception:  # no database (dry runs): the seeded ids
        ids = []
    return ids or list(range(1, 8))


class _Builder:
    def __init__(self, gen: WorldGenerator) -> None:
        self.gen = gen
        self.domains = _domain_ids()
        self.links: list[tuple[Any, ...]] = []
        self.assessments: list[tuple[Any, ...]] = []
        self.strengths: list[tuple[Any, ...]] = []
        self.owners: list[tuple[Any, ...]] = []
        self.now = gen.now

    def people(self, unit: Unit) -> dict[int, list[int]]:
        """Current (non-committee) people per account of the unit's subtree."""
        return {a: list(self.gen.pool.get(a, [])) for a in self.gen.subtree(unit.root_id) if self.gen.pool.get(a)}

    def unit(self, unit: Unit, per_person: int) -> None:
        rng = self.gen.rng(f"relationships:{unit.root_id}")
        at = self.people(unit)
        everyone = sorted({s for sids in at.values() for s in sids})
        if len(everyone) < 3:
            return
        target = per_person * len(everyone)
        seen: set[tuple[int, int, str]] = set()

        def link(a: int, b: int, kind: str, directional: bool, strength: int) -> bool:
            if a == b or (a, b, kind) in seen or (not directional and (b, a, kind) in seen):
                return False
            seen.add((a, b, kind))
            self.links.append(
                (self.gen.new_id("influence_link"), self.now, self.now, a, b, kind, strength, directional,
                 rng.choice(EVIDENCE), None)
            )  # fmt: skip
            return True

        # reports-to: a believable org chart from the titles (see ``_OrgChart``)
        for sub, boss, strength in _OrgChart(self.gen, unit, at).links():
            link(sub, boss, "reports_to", True, strength)
        # a few hubs: people many others listen to (hidden influencers among them)
        hubs = rng.sample(everyone, max(2, len(everyone) // 40))
        kinds = ("influences", "influences", "influences", "peer", "peer", "conflicts_with")
        tries = 0
        while len(seen) < target and tries < target * 6:
            tries += 1
            kind = rng.choice(kinds)
            a = rng.choice(everyone)
            b = rng.choice(hubs) if rng.random() < 0.35 else rng.choice(everyone)
            if kind == "influences":
                a, b = b, a  # the hub influences others
                link(a, b, kind, True, rng.choice((1, 2, 2, 3)))
            else:
                link(a, b, kind, False, rng.choice((1, 2, 3)))

        # assessments at the root account: most people, some with an older version
        root = unit.root_id
        team = [u for u in dict.fromkeys([unit.kam, unit.access, unit.sponsor, *unit.team]) if u]
        kam = unit.kam or (team[0] if team else None)
        others = [u for u in team if u != kam]
        assessed_share = 0.75
        for s in everyone:
            is_hub = s in hubs
            if rng.random() > assessed_share and not is_hub:
                continue
            role = rng.choices(ROLES, ROLE_WEIGHTS)[0]
            influence = 5 if is_hub else rng.choices((1, 2, 3, 4, 5), (10, 25, 35, 20, 10))[0]
            stance = rng.choices((-2, -1, 0, 1, 2, None), (6, 12, 30, 28, 14, 10))[0]
            if role == "blocker":
                stance = rng.choice((-2, -1))
            elif role == "champion":
                stance = rng.choice((1, 2))
            domains = sorted(rng.sample(self.domains, rng.randint(1, min(3, len(self.domains)))))
            start = self.now - dt.timedelta(days=rng.randint(20, 400))
            if rng.random() < 0.3:  # an older view of the person: their stance moved since
                old_start = start - dt.timedelta(days=rng.randint(60, 500))
                old_stance = None if stance is None else max(-2, min(2, stance + rng.choice((-1, 1))))
                self.assessments.append(
                    (self.gen.new_id("stakeholder_assessment"), root, s, role, domains, old_stance,
                     max(1, influence - rng.choice((0, 1))), "", old_start, start, kam)
                )  # fmt: skip
            self.assessments.append(
                (self.gen.new_id("stakeholder_assessment"), root, s, role, domains, stance, influence,
                 "", start, None, kam)
            )  # fmt: skip
            # strengths: the KAM knows many (single-threading), colleagues a few; hubs mostly unknown
            if kam is not None and not (is_hub and rng.random() < 0.7) and rng.random() < 0.45:
                cur = rng.choices((1, 2, 3, 4), (15, 35, 35, 15))[0]
                self._strength(root, s, kam, cur, min(4, cur + rng.choice((0, 1, 1))), start)
                if influence >= 4 and rng.random() < 0.6:
                    self.owners.append((self.gen.new_id("assessment_owner"), root, s, kam, start.date()))
            for u in others:
                if rng.random() < 0.08 and not is_hub:
                    cur = rng.choices((1, 2, 3), (30, 45, 25))[0]
                    self._strength(root, s, u, cur, min(4, cur + 1), start)

    def _strength(self, account: int, s: int, user: int, cur: int, desired: int, when: dt.datetime) -> None:
        row_id = self.gen.new_id("relationship_strength")
        self.strengths.append((row_id, when, when, account, s, user, cur, desired, ""))

    def write(self) -> None:
        g = self.gen
        g.write(
            InfluenceLink,
            ("id", "created_at", "updated_at", "from_stakeholder_id", "to_stakeholder_id", "kind", "strength",
             "directional", "evidence", "created_by_id"),
            self.links,
        )  # fmt: skip
        g.write(
            StakeholderAssessment,
            ("id", "account_id", "stakeholder_id", "decision_role", "domain_ids", "stance", "influence", "note",
             "effective_from", "superseded_at", "recorded_by_id"),
            self.assessments,
        )  # fmt: skip
        g.write(
            RelationshipStrength,
            ("id", "created_at", "updated_at", "account_id", "stakeholder_id", "user_id", "current", "desired", "note"),
            self.strengths,
        )
        g.write(AssessmentOwner, ("id", "account_id", "stakeholder_id", "user_id", "since"), self.owners)


# --- the org chart ----------------------------------------------------------------------------------
# What a title means in the org chart (titles as ``openkam.demo.world`` gives them; anything else is "staff":
# attending physicians, fellowship directors, quality leads, physician assistants).
_CATEGORY = {
    "Chief Executive Officer": "ceo",
    "SVP Clinical Integration": "coo",
    "VP Clinical Operations": "coo",
    "Chief Medical Officer": "cmo",
    "System Chief Medical Officer": "cmo",
    "Chief Nursing Officer": "cno",
    "Chief Financial Officer": "cfo",
    "Chief Pharmacy Officer": "cpo",
    "Chief Quality Officer": "quality",
    "Director of Quality": "quality",
    "VP Population Health": "exec",
    "Director of Pharmacy": "pharmacy_head",
    "System Director of Pharmacy": "pharmacy_head",
    "Director of Supply Chain": "supply_head",
    "Contracting Manager": "procurement",
    "Value Analysis Coordinator": "procurement",
    "Pharmacy Buyer": "procurement",
    "Strategic Sourcing Manager": "procurement",
    "Clinical Pharmacist": "pharmacist",
    "Clinical Pharmacist, Oncology": "pharmacist",
    "Formulary Manager": "pharmacist",
    "Medication Safety Officer": "pharmacist",
}
_EXECUTIVES = ("ceo", "coo", "cmo", "cno", "cfo", "cpo", "quality", "exec")
# who heads a hospital: the first of these present (a Director of Quality alone does not run a hospital: its
# people then report to their function's leader at the system); a system: the first executive present
_HOSPITAL_TOP = ("ceo", "coo", "cmo")
_SYSTEM_TOP = ("ceo", "coo", "cmo", "cpo", "cno", "cfo", "quality", "exec")
# whom a person reports to above their own department, most wanted first ("top": the head of the level)
_UP = {
    "chief": ("cmo", "coo", "top"),
    "staff": ("cmo", "coo", "top"),
    "nurse_head": ("cno", "cmo", "top"),
    "nurse": ("cno", "cmo", "top"),
    "pharmacy_head": ("cpo", "pharmacy_head", "top"),
    "pharmacist": ("pharmacy_head", "cpo", "top"),
    "supply_head": ("cfo", "coo", "top"),
    "procurement": ("supply_head", "cfo", "top"),
    "cmo": ("cmo", "coo", "top"),
    "cno": ("cno", "cmo", "coo", "top"),
    "cfo": ("cfo", "coo", "top"),
    "cpo": ("cpo", "coo", "top"),
    "quality": ("quality", "cmo", "coo", "top"),
    "exec": ("coo", "top"),
}


def _category(title: str) -> str:
    cat = _CATEGORY.get(title)
    if cat:
        return cat
    if title.startswith("Chief of "):
        return "chief"
    if title.startswith("Nurse Manager"):
        return "nurse_head"
    if title.startswith(("Nurse Practitioner", "Clinical Nurse Specialist")):
        return "nurse"
    return "staff"


class _OrgChart:
    """Reports-to links of one mapped unit (a system or an independent hospital) from the people's titles:
    the system's executives under its head (the first of CEO, COO/SVP, CMO, … present — the demo world has no
    system CEO); each hospital's head (its CEO, else the first executive there) reports to the system's head,
    the hospital's other executives to its head; department heads (Chief of …, Director of Pharmacy) to the
    hospital's CMO/CNO/… (a Director of Pharmacy to the system's pharmacy leader or the hospital's head); staff
    to their department head (nurses to their nurse manager); people whose superior is not in the world (a
    hospital without executives) report to the same function one level up (a Chief of Cardiology to the
    system's CMO). Every boss sits at a higher level or is a different, more senior role at the same account:
    no cycles."""

    def __init__(self, gen: WorldGenerator, unit: Unit, at: dict[int, list[int]]) -> None:
        self.gen, self.unit, self.at = gen, unit, at
        self.cat = {s: _category(gen.titles.get(s, "")) for sids in at.values() for s in sids}
        self.hospitals = set(unit.hospital_ids)

    def level(self, account: int) -> str:
        if account in self.hospitals:
            return "hospital"
        return "system" if account == self.unit.root_id else "department"

    def first(self, account: int, cat: str, exclude: int) -> int | None:
        for s in self.at.get(account, ()):
            if s != exclude and self.cat[s] == cat:
                return s
        return None

    def top(self, account: int) -> int | None:
        """The head of a system or hospital account (see ``_HOSPITAL_TOP``, ``_SYSTEM_TOP``)."""
        for cat in _SYSTEM_TOP if account == self.unit.root_id and self.unit.kind == "system" else _HOSPITAL_TOP:
            s = self.first(account, cat, exclude=0)
            if s is not None:
                return s
        return None

    def above(self, account: int | None, cat: str, sid: int, *, own: int | None = None) -> int | None:
        """The superior of a ``cat`` person from ``account`` upwards (hospital, then system); at their own
        account (``own``) never someone of the same role (two Directors of Pharmacy don't report to each other)."""
        while account is not None and self.level(account) != "department":
            for want in _UP.get(cat, ("top",)):
                if want == cat and account == own:
                    continue
                boss = self.top(account) if want == "top" else self.first(account, want, exclude=sid)
                if boss is not None and boss != sid:
                    return boss
            account = self.gen.acc_parent.get(account) if account != self.unit.root_id else None
        return None

    def boss(self, sid: int, account: int) -> tuple[int | None, int]:
        cat, level = self.cat[sid], self.level(account)
        parent = self.gen.acc_parent.get(account) if account != self.unit.root_id else None
        if level == "department":
            heads = [s for s in self.at[account] if self.cat[s] in ("chief", "pharmacy_head")]
            head = heads[0] if heads else None
            if cat == "nurse":
                nurse_head = self.first(account, "nurse_head", exclude=sid)
                if nurse_head is not None:
                    return nurse_head, 2
            if head is not None and sid != head and cat not in ("nurse_head", "chief", "pharmacy_head"):
                return head, 2
            return self.above(parent, cat, sid), 2
        top = self.top(account)
        if sid == top:  # the head of a hospital: the system's head (or its COO)
            return (self.above(parent, "coo", sid) if parent is not None else None), 3
        if cat in _EXECUTIVES and top is not None:
            return top, 3
        if cat in ("staff", "nurse"):  # clinicians at a hospital without departments: its Chief of …
            chief = self.first(account, "chief", exclude=sid)
            if chief is not None:
                return chief, 2
        if cat == "pharmacist":  # the hospital's director of pharmacy (here or in its pharmacy department)
            for where in (account, *self.gen.children.get(account, ())):
                head = self.first(where, "pharmacy_head", exclude=sid)
                if head is not None:
                    return head, 2
        return self.above(account, cat, sid, own=account), 2

    def links(self) -> list[tuple[int, int, int]]:
        out = []
        for account in sorted(self.at, key=lambda a: (len(self.gen.acc_ancestors.get(a, [])), a)):
            for sid in self.at[account]:
                boss, strength = self.boss(sid, account)
                if boss is not None and boss != sid:
                    out.append((sid, boss, strength))
        return out


def build(gen: WorldGenerator) -> None:
    b = _Builder(gen)
    large = gen.scale.name == "large"
    mapped = [u for u in gen.units if u.kind in ("system", "independent")]
    for i, unit in enumerate(mapped):
        if i == 0:
            b.unit(unit, per_person=5)
        elif not large or i < 6:
            b.unit(unit, per_person=3)
    b.write()


SECTION = WorldSection(
    name="relationships",
    models=(
        InfluenceLink,
        StakeholderAssessment,
        RelationshipStrength,
        AssessmentOwner,
    ),
    build=build,
    deferred_index_models=(InfluenceLink, StakeholderAssessment),
)
