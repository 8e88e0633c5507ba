"""World sizes. One generator (``openkam.demo.world``) builds every world; a :class:`Scale` says how big.

- ``tiny``: for tests (a few seconds).
- ``demo``: ``seed_demo`` — one Northeast region (MA/CT/RI/NY/NJ) of real CMS hospitals, six fictional
  systems, ~1,000 stakeholders, a year of interactions, one user per role.
- ``large``: the benchmark world of DESIGN.md §7 — all 5,421 CMS hospitals in ~600 systems, 250,000
  stakeholders, 1,000 users, 5,000 plans with ~150,000 objectives/tactics/actions, 5,000,000 interactions.
  (Transfers of value are not generated: no model exists for them yet.)

The benchmark variant of a scale (:func:`bench_scale`) adds the fixed-size benchmark subjects: the flagship
IDN with exactly 40 hospitals and 2,000 stakeholders (Account 360) and a plan with 200 actions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from openkam.demo.reference import GENERAL_HOSPITAL_TYPES


@dataclass(frozen=True)
class SystemSpec:
    """A named (demo) health system: where its hospitals come from and who works on it."""

    name: str
    territory: str
    state: str
    counties: tuple[str, ...]  # hospitals are taken in this county order
    kam_level: str
    team: tuple[tuple[str, str], ...]  # (persona username, AccountTeamMember.role)
    plans: tuple[tuple[str, int], ...]  # (status, year offset from the anchor year)
    former: tuple[str, ...] = ()  # personas whose membership has ended


NAMED_SYSTEMS: tuple[SystemSpec, ...] = (
    SystemSpec(
        "Hudson Harbor Health", "metro-ny-nj", "NY",
        ("NEW YORK", "BRONX", "WESTCHESTER", "KINGS", "QUEENS", "RICHMOND", "NASSAU", "SUFFOLK", "ROCKLAND"),
        "strategic", (("kam", "account_lead"), ("msl", "msl"), ("access", "market_access")),
        (("closed", -1), ("active", 0), ("draft", 1)),
    ),
    SystemSpec(
        "Garden State Health Partners", "metro-ny-nj", "NJ",
        ("ESSEX", "BERGEN", "HUDSON", "PASSAIC", "MORRIS", "UNION", "MIDDLESEX", "SOMERSET", "MONMOUTH"),
        "key", (("kam", "account_lead"), ("access", "market_access")),
        (("closed", -1), ("in_review", 0)), former=("kam2",),
    ),
    SystemSpec(
        "Commonwealth Bay Health", "new-england", "MA",
        ("SUFFOLK", "MIDDLESEX", "NORFOLK", "ESSEX", "PLYMOUTH", "WORCESTER", "BRISTOL"),
        "strategic", (("kam2", "account_lead"), ("msl", "msl"), ("access", "market_access")),
        (("closed", -1), ("approved", 0)),
    ),
    SystemSpec(
        "Charter Oak Health Network", "new-england", "CT",
        ("HARTFORD", "NEW HAVEN", "FAIRFIELD", "MIDDLESEX", "TOLLAND", "NEW LONDON", "WINDHAM", "LITCHFIELD"),
        "key", (("kam2", "account_lead"), ("msl", "msl")),
        (("active", 0),),
    ),
    SystemSpec(
        "Empire Lakes Health", "upstate-ny", "NY",
        ("ERIE", "NIAGARA", "MONROE", "ONTARIO", "CHAUTAUQUA", "STEUBEN", "ALLEGANY", "CATTARAUGUS", "GENESEE",
         "ORLEANS", "WYOMING", "LIVINGSTON", "WAYNE", "YATES", "SCHUYLER", "CHEMUNG"),
        "basic", (("lead", "executive_sponsor"), ("msl", "msl")),
        (("draft", 0),),
    ),
    SystemSpec(
        "Adirondack Valley Health", "upstate-ny", "NY",
        ("ALBANY", "SCHENECTADY", "RENSSELAER", "SARATOGA", "WARREN", "ESSEX", "CLINTON", "FRANKLIN",
         "ST. LAWRENCE", "JEFFERSON", "LEWIS", "ONEIDA", "HERKIMER", "FULTON", "MONTGOMERY"),
        "basic", (("lead", "executive_sponsor"), ("access", "market_access")),
        (("in_review", 0),),
    ),
)  # fmt: skip
FLAGSHIP = NAMED_SYSTEMS[0].name


@dataclass(frozen=True)
class Scale:
    name: str
    states: tuple[str, ...] | None  # None: every state
    hospital_types: frozenset[str] | None  # None: every type
    named_sizes: tuple[int, ...]  # hospitals in each NAMED_SYSTEMS entry (the first is the flagship)
    generic_systems: bool  # group every other hospital into generated systems
    system_size: tuple[int, int]
    max_independent: int | None  # hospitals outside any system (None: all the others)
    departments: tuple[int, int]  # per hospital in a system
    independent_departments: tuple[int, int]
    hospital_committee_share: float
    trade: tuple[int, int, int, int, int, int]  # GPOs, payers, PBMs, wholesalers, chains, pharmacies per chain
    stakeholders: int
    flagship_stakeholders: int
    users: int  # including the seven personas
    plans: int
    plan_objectives: tuple[int, int]
    plan_tactics: tuple[int, int]
    plan_actions: tuple[int, int]
    big_plan_actions: int  # 0: the flagship's active plan has a normal size
    interactions: int
    history: bool  # record pghistory events while loading (off for large benchmark loads)

    def with_(self, **changes: object) -> Scale:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


NORTHEAST = ("CT", "MA", "NJ", "NY", "RI")

SCALES: dict[str, Scale] = {
    "tiny": Scale(
        name="tiny",
        states=NORTHEAST,
        hospital_types=GENERAL_HOSPITAL_TYPES,
        named_sizes=(4, 3, 3, 2, 2, 2),
        generic_systems=False,
        system_size=(2, 4),
        max_independent=6,
        departments=(1, 3),
        independent_departments=(0, 1),
        hospital_committee_share=0.3,
        trade=(1, 1, 1, 1, 1, 2),
        stakeholders=150,
        flagship_stakeholders=40,
        users=7,
        plans=10,
        plan_objectives=(1, 2),
        plan_tactics=(1, 2),
        plan_actions=(1, 3),
        big_plan_actions=0,
        interactions=400,
        history=True,
    ),
    "demo": Scale(
        name="demo",
        states=NORTHEAST,
        hospital_types=GENERAL_HOSPITAL_TYPES,
        named_sizes=(40, 22, 24, 18, 18, 14),
        generic_systems=False,
        system_size=(8, 16),
        max_independent=None,
        departments=(3, 6),
        independent_departments=(0, 2),
        hospital_committee_share=0.3,
        trade=(1, 1, 1, 1, 1, 6),
        stakeholders=1000,
        flagship_stakeholders=300,
        users=7,
        plans=20,
        plan_objectives=(2, 4),
        plan_tactics=(2, 3),
        plan_actions=(2, 4),
        big_plan_actions=0,
        interactions=6000,
        history=True,
    ),
    "large": Scale(
        name="large",
        states=None,
        hospital_types=None,
        named_sizes=(40, 22, 24, 18, 18, 14),
        generic_systems=True,
        system_size=(2, 16),
        max_independent=0,
        departments=(3, 7),
        independent_departments=(0, 0),
        hospital_committee_share=0.3,
        trade=(6, 60, 4, 3, 5, 40),
        stakeholders=250_000,
        flagship_stakeholders=2000,
        users=1000,
        plans=5000,
        plan_objectives=(2, 4),
        plan_tactics=(2, 4),
        plan_actions=(1, 3),
        big_plan_actions=200,
        interactions=5_000_000,
        history=False,
    ),
}

# The fixed-size benchmark subjects, whatever the rest of the world's size.
BENCH_FLAGSHIP_HOSPITALS = 40
BENCH_FLAGSHIP_STAKEHOLDERS = 2000
BENCH_PLAN_ACTIONS = 200


def bench_scale(name: str) -> Scale:
    """The benchmark world of a scale: same world, plus the Account 360 IDN and the 200-action plan."""
    scale = SCALES[name]
    if name == "tiny":  # tests: the same shape, small
        return scale.with_(flagship_stakeholders=60, stakeholders=200, big_plan_actions=20)
    extra = BENCH_FLAGSHIP_STAKEHOLDERS - scale.flagship_stakeholders
    sizes = (BENCH_FLAGSHIP_HOSPITALS, *scale.named_sizes[1:])
    return scale.with_(
        named_sizes=sizes,
        flagship_stakeholders=BENCH_FLAGSHIP_STAKEHOLDERS,
        stakeholders=scale.stakeholders + max(0, extra),
        big_plan_actions=BENCH_PLAN_ACTIONS,
    )
