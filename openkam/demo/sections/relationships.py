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

        # reports-to: an org chart per account (first person heads it), heads report up the tree
        head: dict[int, int] = {}
        for acct in sorted(at, key=lambda x: len(self.gen.acc_ancestors.get(x, []))):
            sids = at[acct]
            head[acct] = sids[0]
            for s in sids[1:]:
                link(s, sids[0], "reports_to", True, 2)
            parent = self.gen.acc_parent.get(acct)
            while parent is not None and parent not in head:
                parent = self.gen.acc_parent.get(parent)
            if parent is not None:
                link(sids[0], head[parent], "reports_to", True, 3)
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
