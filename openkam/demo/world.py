"""The world generator shared by ``seed_demo`` and ``bench``: one piece of code, parameterised by a Scale.

It produces rows table by table, with explicit primary keys (1, 2, 3, ... per table: the target tables are
empty) and correct ``Account.ancestors``/``depth``, and hands them to a *sink* — in practice
``openkam.demo.loader.CopyLoader``, which streams them into PostgreSQL with COPY. Everything random comes
from ``random.Random`` streams seeded by ``(seed, section)``: the same seed and scale give the same world
(names, counts, structure); dates are relative to an ``anchor`` day (default: today).

No application service is called: services check an actor's rights row by row and would take minutes;
the invariants they maintain (ancestors/depth, classification per role, dates in order) are kept here.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import models
from django.utils import timezone
from faker.providers.person.en_US import Provider as PersonNames

from openkam.accounts.models import Account, AccountAffiliation, AccountTeamMember
from openkam.activities.models import Interaction, InteractionParticipant, InteractionStakeholder
from openkam.core.models import Team, TeamTerritory, Territory, User
from openkam.core.validators import npi_check_digit
from openkam.demo import reference as ref
from openkam.demo.scales import NAMED_SYSTEMS, Scale, SystemSpec
from openkam.evaluation.models import AccountTier, Assessment, Score
from openkam.plans.models import AccountPlan, Action, Objective, Tactic
from openkam.portfolio.models import Indication, Product, TherapeuticArea
from openkam.stakeholders.models import Committee, Position, Stakeholder

FUNCTION_OF_ROLE = {"kam": "commercial", "lead": "commercial", "medical": "medical", "market_access": "market_access"}
# The classifications a role writes (DESIGN.md §5): an interaction's classification matches its creator.
OWN_CLASSIFICATION = {"kam": "commercial", "lead": "commercial", "medical": "medical", "market_access": "market_access"}
SEES = {
    "commercial": frozenset({"kam", "lead", "market_access"}),
    "market_access": frozenset({"kam", "lead", "market_access"}),
    "medical": frozenset({"medical"}),
    "joint": frozenset({"kam", "lead", "market_access", "medical"}),
}
CHANNELS = ("visit", "meeting", "call", "event", "email", "webinar", "portal")
CHANNEL_WEIGHTS = {
    "kam": (30, 20, 20, 3, 20, 2, 5),
    "lead": (20, 45, 20, 10, 5, 0, 0),
    "medical": (15, 35, 15, 8, 15, 12, 0),
    "market_access": (10, 30, 25, 0, 30, 0, 5),
}
DURATIONS = {"visit": (30, 60), "meeting": (45, 90), "call": (10, 30), "event": (120, 240), "webinar": (45, 60)}
CREATOR_WEIGHT = {"kam": 1.0, "medical": 0.8, "market_access": 0.6, "lead": 0.25}
INTERACTION_CHUNK = 50_000
ACTION_STATUSES = ("done", "in_progress", "not_started", "blocked", "cancelled")


class Sink(Protocol):
    def write(self, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int: ...


@dataclass
class Unit:
    """A health system (with its hospitals and departments), an independent hospital, or a trade account."""

    name: str
    kind: str  # system | independent | trade
    territory: str | None
    hospitals: list[ref.Hospital] = field(default_factory=list)
    spec: SystemSpec | None = None
    account_type: str = "idn"
    root_id: int = 0
    hospital_ids: list[int] = field(default_factory=list)
    departments: list[tuple[int, str, str, int]] = field(default_factory=list)  # (id, name, nucc, hospital id)
    pharmacies: list[int] = field(default_factory=list)
    committees: list[tuple[int, str, int, str]] = field(default_factory=list)  # (id, kind, account, label)
    kam: int | None = None
    msl: int | None = None
    access: int | None = None
    sponsor: int | None = None
    lead: int | None = None  # who approves its plans
    team: list[int] = field(default_factory=list)  # current members (user ids)
    stakeholders: int = 0
    domain: str = ""


@dataclass
class WorldSummary:
    counts: Counter[str] = field(default_factory=Counter)
    flagship_id: int = 0
    flagship_name: str = ""
    big_plan_id: int | None = None
    persona_ids: dict[str, int] = field(default_factory=dict)
    hospitals_in_flagship: int = 0
    stakeholders_in_flagship: int = 0
    notes: list[str] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _has_field(model: type[models.Model], name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)


class _Names:
    """Faker's en_US name lists (with their frequency weights), drawn with our own seeded RNG: fast and
    deterministic for a given Faker version."""

    def __init__(self) -> None:
        def weighted(d: Any) -> tuple[list[str], list[float]]:
            names = list(d)
            cum = list(itertools.accumulate(float(d[n]) for n in names))
            return names, cum

        self.female = weighted(PersonNames.first_names_female)
        self.male = weighted(PersonNames.first_names_male)
        self.last = weighted(PersonNames.last_names)

    def draw(self, rng: random.Random) -> tuple[str, str]:
        names, cum = self.female if rng.random() < 0.5 else self.male
        first = names[bisect.bisect(cum, rng.random() * cum[-1])]
        lnames, lcum = self.last
        return first, lnames[bisect.bisect(lcum, rng.random() * lcum[-1])]


# Seats on a demo committee, by the member's place in the drawn list: the first chairs it (their title says
# "Chair, ..."), a larger committee has a vice chair and a secretary, the largest a non-voting advisor.
SEAT_TITLES = {"chair": "Chair", "vice_chair": "Vice Chair", "secretary": "Secretary", "advisor": "Advisor",
               "member": "Member"}  # fmt: skip


def seat_role(k: int, size: int) -> str:
    """The seat of the ``k``-th of ``size`` members (no randomness: the world's other draws stay the same)."""
    if k == 0:
        return "chair"
    if k == 1 and size >= 5:
        return "vice_chair"
    if k == size - 1 and size >= 4:
        return "secretary"
    if k == 2 and size >= 7:
        return "advisor"
    return "member"


class WorldGenerator:
    def __init__(
        self,
        *,
        scale: Scale,
        seed: int,
        sink: Sink,
        anchor: dt.date | None = None,
        specialty_codes: Iterable[str] | None = None,
        log: Callable[[str], None] = lambda msg: None,
        password: str = "demo",
        scoring_models: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        self.scale = scale
        self.seed = seed
        self.sink = sink
        self.anchor = anchor or timezone.localdate()
        self.specialties = set(specialty_codes) if specialty_codes is not None else None
        self.log = log
        self.password = password
        self.now = timezone.now()
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.names = _Names()
        self.summary = WorldSummary()
        self.units: list[Unit] = []
        self.trade: dict[str, list[Unit]] = defaultdict(list)
        # accounts, indexed by id
        self.acc_parent: dict[int, int | None] = {}
        self.acc_ancestors: dict[int, list[int]] = {}
        self.acc_unit: dict[int, int] = {}
        self.acc_name: dict[int, str] = {}
        self.children: dict[int, list[int]] = defaultdict(list)
        self.next_id: Counter[str] = Counter()
        self.users: dict[int, dict[str, Any]] = {}
        self.personas: dict[str, int] = {}
        # active scoring models as loaded in the database (ids!): without them no assessments are generated
        self.scoring_models = list(scoring_models or [])
        self.assessments: list[tuple[int, dict[str, Any], str, list[tuple[dt.date, list[int]]]]] = []

    # --- helpers ----------------------------------------------------------------------------------
    def rng(self, section: str) -> random.Random:
        return random.Random(f"{self.seed}:{section}")

    def new_id(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table]

    def write(self, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        n = self.sink.write(model, columns, rows)
        self.summary.counts[model._meta.label] += n
        return n

    def spec_ok(self, code: str | None) -> str | None:
        if code is None or self.specialties is None:
            return code
        return code if code in self.specialties else None

    def days_ago(self, rng: random.Random, lo: int, hi: int) -> dt.date:
        return self.anchor - dt.timedelta(days=rng.randint(lo, hi))

    def subtree(self, account_id: int) -> list[int]:
        out, stack = [], [account_id]
        while stack:
            a = stack.pop()
            out.append(a)
            stack.extend(self.children.get(a, ()))
        return out

    # --- build ------------------------------------------------------------------------------------
    def build(self) -> WorldSummary:
        self._select_hospitals()
        self._territories_and_users()
        self._accounts()
        self._account_teams()
        self._affiliations()
        self._committees()
        self._stakeholders()
        self._portfolio()
        self._plans()
        self._interactions()
        self._evaluation()
        from openkam.demo.sections import sections

        for section in sections():  # the higher apps' data (openkam/demo/sections/)
            self.log(f"  section {section.name}…")
            section.build(self)
        self.summary.persona_ids = dict(self.personas)
        return self.summary

    # --- hospitals into systems ------------------------------------------------------------------
    def _select_hospitals(self) -> None:
        s, rng = self.scale, self.rng("hospitals")
        pool = [
            h
            for h in ref.cms_hospitals()
            if (s.states is None or h.state in s.states)
            and (s.hospital_types is None or h.hospital_type in s.hospital_types)
        ]
        taken: set[str] = set()
        for spec, size in zip(NAMED_SYSTEMS, s.named_sizes, strict=True):
            order = {c: i for i, c in enumerate(spec.counties)}
            candidates = sorted(
                (
                    h
                    for h in pool
                    if h.ccn not in taken
                    and h.state == spec.state
                    and h.county in order
                    and h.hospital_type in ref.GENERAL_HOSPITAL_TYPES
                    and ref.territory_of(h)[0] == spec.territory
                ),
                key=lambda h: (order[h.county], h.city, h.ccn),
            )
            if len(candidates) < size:
                raise ValueError(f"{spec.name}: only {len(candidates)} hospitals available, {size} wanted")
            chosen = candidates[:size]
            taken.update(h.ccn for h in chosen)
            self.units.append(Unit(spec.name, "system", spec.territory, chosen, spec=spec))

        rest = sorted(
            (h for h in pool if h.ccn not in taken),
            key=lambda h: (ref.territory_of(h)[0], h.state, h.county, h.city, h.ccn),
        )
        used_names = {u.name for u in self.units}
        if s.generic_systems:
            for (territory, _state), group_iter in itertools.groupby(
                rest, key=lambda h: (ref.territory_of(h)[0], h.state)
            ):
                group = list(group_iter)
                chunks: list[list[ref.Hospital]] = []
                i = 0
                while i < len(group):
                    size = rng.randint(*s.system_size)
                    chunk = group[i : i + size]
                    if chunks and len(chunk) < s.system_size[0]:
                        chunks[-1].extend(chunk)
                    else:
                        chunks.append(chunk)
                    i += size
                for chunk in chunks:
                    name = self._system_name(rng, chunk, used_names)
                    kind = "idn" if len(chunk) >= 5 else "health_system"
                    self.units.append(Unit(name, "system", territory, chunk, account_type=kind))
            rest = []
        if s.max_independent is not None and len(rest) > s.max_independent:
            keep = set(rng.sample(range(len(rest)), s.max_independent))
            rest = [h for i, h in enumerate(rest) if i in keep]
        for h in rest:
            self.units.append(Unit(h.name, "independent", ref.territory_of(h)[0], [h], account_type="hospital"))

    @staticmethod
    def _system_name(rng: random.Random, hospitals: list[ref.Hospital], used: set[str]) -> str:
        h = hospitals[0]
        counties = Counter(x.county for x in hospitals)
        county = counties.most_common(1)[0][0]
        bases = [h.city, f"{ref.smart_title(county)} County", f"{h.city} Valley", f"Greater {h.city}"]
        if rng.random() < 0.4:
            bases.insert(0, bases.pop(1))
        for base in bases:
            for suffix in rng.sample(ref.SYSTEM_SUFFIXES, len(ref.SYSTEM_SUFFIXES)):
                name = f"{base} {suffix}"
                if name not in used:
                    used.add(name)
                    return name
        name = f"{h.city} Health ({h.ccn})"
        used.add(name)
        return name

    # --- territories, teams, users ---------------------------------------------------------------
    def _territories_and_users(self) -> None:
        s, rng = self.scale, self.rng("users")
        codes = sorted({u.territory for u in self.units if u.territory})
        names = {}
        for u in self.units:
            for h in u.hospitals:
                code, name = ref.territory_of(h)
                names[code] = name
        self.territory_ids = {code: i for i, code in enumerate(codes, start=1)}
        self.write(
            Territory,
            ("id", "created_at", "updated_at", "code", "name", "country", "description"),
            [
                (i, self.now, self.now, code, names[code], "US", f"Accounts in {names[code]}")
                for code, i in self.territory_ids.items()
            ],
        )

        # users to create: personas first, then generated colleagues (large worlds)
        people: list[dict[str, Any]] = []
        for username, first, last, role, title, team, manager, staff in ref.PERSONAS:
            people.append(
                {"username": username, "first": first, "last": last, "role": role, "title": title,
                 "team": team, "manager": manager, "staff": staff}
            )  # fmt: skip
        generated = max(0, s.users - len(people))
        kam_units: dict[str, list[Unit]] = defaultdict(list)
        for u in self.units:
            if u.kind == "system" and u.spec is None and u.territory:
                kam_units[u.territory].append(u)
        team_keys = {"metro-ny-nj", "new-england"}
        if generated:
            n_comp, n_admin = max(1, generated // 100), max(1, generated // 200)
            territories = sorted(kam_units)
            n_leads = len(territories)
            remaining = generated - n_comp - n_admin - n_leads
            total_generic = sum(len(v) for v in kam_units.values()) or 1
            n_kams = min(total_generic, int(remaining * 0.65))
            kams_per_territory = {t: max(1, round(n_kams * len(kam_units[t]) / total_generic)) for t in territories}
            n_kams = sum(kams_per_territory.values())
            rest = generated - n_comp - n_admin - n_leads - n_kams
            n_msl = rest * 6 // 10
            n_access = rest - n_msl
            used = {p["username"] for p in people}

            def person(role: str, team: str, manager: str | None = None) -> dict[str, Any]:
                first, last = self.names.draw(rng)
                base = f"{_slug(first)}.{_slug(last)}"
                username, n = base, 1
                while username in used:
                    n += 1
                    username = f"{base}{n}"
                used.add(username)
                title = ref.ROLE_TITLES[role]
                return {"username": username, "first": first, "last": last, "role": role, "title": title,
                        "team": team, "manager": manager, "staff": role == "admin"}  # fmt: skip

            for t in territories:
                lead = person("lead", t)
                lead["title"] = f"Key Account Director, {names[t]}"
                people.append(lead)
                team_keys.add(t)
                for _ in range(kams_per_territory[t]):
                    kam = person("kam", t, lead["username"])
                    kam["title"] = f"Key Account Manager, {names[t]}"
                    people.append(kam)
            people += [person("medical", "medical") for _ in range(n_msl)]
            people += [person("market_access", "access") for _ in range(n_access)]
            people += [person("compliance", "compliance") for _ in range(n_comp)]
            people += [person("admin", "operations") for _ in range(n_admin)]

        team_names = dict(ref.FIXED_TEAMS)
        for t in sorted(team_keys):
            team_names[t] = f"{names.get(t, ref.NORTHEAST_TERRITORIES.get(t, t))} Key Accounts"
        self.team_ids = {key: i for i, key in enumerate(team_names, start=1)}
        self.write(
            Team,
            ("id", "created_at", "updated_at", "name"),
            [(i, self.now, self.now, team_names[key]) for key, i in self.team_ids.items()],
        )
        self.write(
            TeamTerritory,
            ("id", "team_id", "territory_id"),
            [
                (n, self.team_ids[key], self.territory_ids[key])
                for n, key in enumerate((k for k in sorted(team_keys) if k in self.territory_ids), start=1)
            ],
        )

        password = make_password(self.password)  # hashed once: every generated user shares it
        ids = {p["username"]: i for i, p in enumerate(people, start=1)}
        rows = []
        for i, p in enumerate(people, start=1):
            joined = dt.datetime.combine(self.days_ago(rng, 200, 2500), dt.time(9, 0), tzinfo=self.tz)
            email = f"{p['username']}@openkam-demo.example.com"
            rows.append(
                (i, password, None, False, p["username"], p["first"], p["last"], email, p["staff"], True, joined,
                 p["role"], self.team_ids[p["team"]], ids.get(p["manager"]) if p["manager"] else None, p["title"])
            )  # fmt: skip
            self.users[i] = {"role": p["role"], "team": p["team"], "username": p["username"]}
        self.write(
            User,
            ("id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email",
             "is_staff", "is_active", "date_joined", "role", "team_id", "manager_id", "title"),
            rows,
        )  # fmt: skip
        self.personas = {p[0]: ids[p[0]] for p in ref.PERSONAS}
        self.user_ids_by_role: dict[str, list[int]] = defaultdict(list)
        self.territory_kams: dict[str, list[int]] = defaultdict(list)
        self.territory_lead: dict[str, int] = {}
        persona_ids = set(self.personas.values())
        for i, user in self.users.items():
            if i in persona_ids:
                continue
            self.user_ids_by_role[user["role"]].append(i)
            if user["role"] == "kam":
                self.territory_kams[user["team"]].append(i)
            elif user["role"] == "lead":
                self.territory_lead[user["team"]] = i

    # --- accounts ---------------------------------------------------------------------------------
    def _accounts(self) -> None:
        s, rng = self.scale, self.rng("accounts")
        rows: list[tuple[Any, ...]] = []

        def add(
            name: str,
            type_: str,
            parent: int | None,
            unit_index: int,
            *,
            h: ref.Hospital | None = None,
            territory: str | None = None,
            kam_level: str = "unassessed",
            status: str = "active",
            owner: int | None = None,
            city: str = "",
            state: str = "",
            description: str = "",
        ) -> int:
            aid = self.new_id("account")
            ancestors = [*self.acc_ancestors[parent], parent] if parent is not None else []
            self.acc_parent[aid] = parent
            self.acc_ancestors[aid] = ancestors
            self.acc_unit[aid] = unit_index
            self.acc_name[aid] = name
            if parent is not None:
                self.children[parent].append(aid)
            terr = self.territory_ids.get(territory) if territory else None
            rows.append(
                (aid, self.now, self.now, name, type_, parent, ancestors, len(ancestors),
                 h.ccn if h else "", "", "", h.address if h else "", h.city if h else city,
                 h.state if h else state, h.zip if h else "", "US", h.phone if h else "", "", status, kam_level,
                 owner, terr, description)
            )  # fmt: skip
            return aid

        def hospital_description(h: ref.Hospital) -> str:
            rating = h.rating if h.rating and h.rating != "Not Available" else "n/a"
            return (
                f"{h.hospital_type} · {h.ownership} · Emergency services: {h.emergency} · "
                f"CMS overall rating: {rating} (CMS Hospital General Information)"
            )

        def departments(unit: Unit, hospital_id: int, index: int, lo_hi: tuple[int, int]) -> None:
            n = rng.randint(*lo_hi)
            if n <= 0:
                return
            pid = add(ref.PHARMACY, "department", hospital_id, index)  # territory: on systems and hospitals
            unit.pharmacies.append(pid)
            unit.departments.append((pid, ref.PHARMACY, "", hospital_id))
            for name, code, _cond in rng.sample(ref.DEPARTMENTS, min(n - 1, len(ref.DEPARTMENTS))):
                did = add(name, "department", hospital_id, index)
                unit.departments.append((did, name, code, hospital_id))

        levels = ("strategic", "key", "basic", "unassessed")
        for index, unit in enumerate(self.units):
            self._staff_unit(unit, rng)
            unit.domain = f"{_slug(unit.name)[:40]}.example.org"
            if unit.kind == "system":
                first = unit.hospitals[0]
                level = unit.spec.kam_level if unit.spec else rng.choices(levels, (10, 30, 40, 20))[0]
                unit.root_id = add(
                    unit.name, unit.account_type, None, index, territory=unit.territory, kam_level=level,
                    owner=unit.kam or unit.sponsor, city=first.city, state=first.state,
                    description=f"Integrated delivery network of {len(unit.hospitals)} hospitals (fictional system "
                    f"over real CMS hospitals).",
                )  # fmt: skip
                for h in unit.hospitals:
                    hid = add(
                        h.name, "hospital", unit.root_id, index, h=h, territory=unit.territory,
                        kam_level=rng.choices(levels, (5, 25, 45, 25))[0], description=hospital_description(h),
                    )  # fmt: skip
                    unit.hospital_ids.append(hid)
                    departments(unit, hid, index, s.departments)
            else:
                h = unit.hospitals[0]
                unit.root_id = add(
                    h.name, "hospital", None, index, h=h, territory=unit.territory,
                    kam_level=rng.choices(levels, (2, 15, 50, 33))[0],
                    status="prospect" if rng.random() < 0.15 else "active", description=hospital_description(h),
                )  # fmt: skip
                unit.hospital_ids.append(unit.root_id)
                departments(unit, unit.root_id, index, s.independent_departments)

        # trade accounts: GPOs, payers, PBMs, wholesalers, pharmacy chains (national: no territory)
        n_gpo, n_payer, n_pbm, n_wholesaler, n_chain, per_chain = s.trade
        cities = sorted({(h.city, h.state) for u in self.units for h in u.hospitals})
        plan: list[tuple[str, tuple[str, ...], int]] = [
            ("gpo", ref.GPO_NAMES, n_gpo),
            ("payer", ref.PAYER_NAMES, n_payer),
            ("pbm", ref.PBM_NAMES, n_pbm),
            ("wholesaler", ref.WHOLESALER_NAMES, n_wholesaler),
            ("pharmacy_chain", ref.CHAIN_NAMES, n_chain),
        ]
        for type_, base_names, count in plan:
            for k in range(count):
                name = base_names[k % len(base_names)]
                if k >= len(base_names):
                    name = f"{name} {ref.STATE_NAMES.get(cities[k % len(cities)][1], '')} {k // len(base_names) + 1}"
                unit = Unit(name, "trade", None, account_type=type_)
                unit.domain = f"{_slug(name)[:40]}.example.com"
                index = len(self.units)
                self.units.append(unit)
                self.trade[type_].append(unit)
                unit.root_id = add(name, type_, None, index, kam_level="key", description=f"Fictional {type_}.")
                unit.hospital_ids.append(unit.root_id)
                if type_ == "pharmacy_chain":
                    for city, state in rng.sample(cities, min(per_chain, len(cities))):
                        store = 1000 + rng.randint(0, 8999)
                        add(f"{name} #{store} — {city}", "pharmacy", unit.root_id, index, city=city, state=state)
        self._staff_trade()
        rows = self._tier_accounts(rows)

        self.write(
            Account,
            ("id", "created_at", "updated_at", "name", "type", "parent_id", "ancestors", "depth", "ccn", "npi",
             "national_id", "address_line", "city", "state", "postal_code", "country", "phone", "website", "status",
             "kam_level", "owner_id", "territory_id", "description"),
            rows,
        )  # fmt: skip
        flagship = self.units[0]
        self.summary.flagship_id = flagship.root_id
        self.summary.flagship_name = flagship.name
        self.summary.hospitals_in_flagship = len(flagship.hospital_ids)

    # --- evaluation: assessments that explain each account's KAM level ------------------------------
    _LEVEL_BANDS = {"strategic": (0.78, 0.95), "key": (0.58, 0.72), "basic": (0.34, 0.52), "declined": (0.08, 0.26)}
    _EVIDENCE = (
        "Quarterly business review",
        "Meeting with the pharmacy director",
        "P&T committee minutes",
        "Annual report and strategy paper",
        "Tender outcome",
        "Sales data (last 12 months)",
        "CEO round-table",
        "Formulary review",
        "Value-analysis committee feedback",
        "Site visit",
    )

    def _tier_accounts(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Plan assessments for evaluated accounts (1-3 over the last 18 months, the latest explaining the level);
        about one basic account in six is scored low enough to be *declined*. Beyond the demo scale every
        evaluable account is assessed (those drawn "unassessed" get a first level: mostly basic). Returns the
        account rows with the levels that follow. The rows are written by :meth:`_evaluation` (after the
        accounts)."""
        if not self.scoring_models:
            return rows
        rng = self.rng("evaluation")
        by_type = {t: m for m in self.scoring_models for t in m["types"]}
        # The benchmark worlds assess every evaluable account (the "re-score all 6,000 accounts"); the
        # demo keeps about one account in five not yet assessed, as a team that has just started would have.
        assess_all = self.scale.name not in ("demo", "tiny")
        first_levels = self.rng("evaluation-first")  # its own stream: the demo's draws stay as they were
        out = []
        for row in rows:
            aid, type_, level = row[0], row[4], row[19]
            model = by_type.get(type_)
            if model is not None and level == "unassessed" and assess_all:
                level = first_levels.choices(("strategic", "key", "basic"), (3, 22, 75))[0]
                row = (*row[:19], level, *row[20:])
            if model is None or level == "unassessed":
                out.append(row)
                continue
            if level == "basic" and rng.random() < 0.17:
                level = "declined"
                row = (*row[:19], level, *row[20:])
            lo, hi = self._LEVEL_BANDS[level]
            target = rng.uniform(lo, hi)
            n = rng.choices((1, 2, 3), (25, 40, 35))[0]
            history = []
            for k in range(n - 1, -1, -1):  # oldest first
                t = min(0.98, max(0.02, target + (rng.uniform(-0.18, 0.18) if k else 0.0)))
                day = self.anchor - dt.timedelta(days=k * 180 + rng.randint(3, 80))
                span = model["max"] - model["min"]
                scores = [max(model["min"], min(model["max"], round(model["min"] + span * t + rng.gauss(0, 0.6))))
                          for _c in model["criteria"]]  # fmt: skip
                history.append((day, scores))
            self.assessments.append((aid, model, level, history))
            out.append(row)
        return out

    @staticmethod
    def _total(model: dict[str, Any], scores: list[int]) -> Decimal:
        span = Decimal(model["max"] - model["min"])
        weights = sum((Decimal(str(w)) for _i, _k, w in model["criteria"]), Decimal(0))
        raw = sum((Decimal(str(w)) * Decimal(s - model["min"]) / span
                   for (_i, _k, w), s in zip(model["criteria"], scores, strict=True)), Decimal(0))  # fmt: skip
        return (100 * raw / weights).quantize(Decimal("0.01"))

    @staticmethod
    def _tier(model: dict[str, Any], total: Decimal) -> str:
        for level in ("strategic", "key", "basic"):
            if total >= Decimal(str(model[level])):
                return level
        return "declined"

    def _evaluation(self) -> None:
        if not self.assessments:
            return
        rng = self.rng("evaluation-rows")
        fallback = self.personas.get("kam")
        a_rows: list[tuple[Any, ...]] = []
        s_rows: list[tuple[Any, ...]] = []
        t_rows: list[tuple[Any, ...]] = []
        for aid, model, level, history in self.assessments:
            unit = self.units[self.acc_unit[aid]]
            assessor = unit.kam or unit.access or unit.sponsor or fallback
            reviewer = unit.lead if unit.lead and unit.lead != assessor else None
            last_id, last_total, last_tier = 0, Decimal(0), ""
            for k, (day, scores) in enumerate(history):
                total = self._total(model, scores)
                tier = self._tier(model, total)
                latest = k == len(history) - 1
                reviewed = reviewer is not None and (not latest or rng.random() < 0.6)
                when = dt.datetime.combine(day, dt.time(10), tzinfo=self.tz)
                rid = self.new_id("assessment")
                rationale = "No overlap with our portfolio in the next two years; serve through wholesale." if (
                    tier == "declined") else ""  # fmt: skip
                a_rows.append(
                    (rid, when, when, aid, model["id"], day, assessor, total, tier, rationale,
                     "reviewed" if reviewed else "submitted", reviewer if reviewed else None,
                     when + dt.timedelta(days=3) if reviewed else None, "Agreed." if reviewed else "")
                )  # fmt: skip
                for (cid, _key, _w), score in zip(model["criteria"], scores, strict=True):
                    evidence = rng.choice(self._EVIDENCE)
                    s_rows.append(
                        (self.new_id("score"), rid, cid, score, evidence, day - dt.timedelta(days=rng.randint(0, 40)))
                    )
                last_id, last_total, last_tier = rid, total, tier
            override = level if level != last_tier else ""
            reason = "Portfolio review with the KAM lead: strategic fit outweighs the score." if override else ""
            t_rows.append(
                (self.new_id("tier"), self.now, self.now, aid, last_id, last_total, last_tier, override, reason,
                 (unit.lead or assessor) if override else None)
            )  # fmt: skip
        self.write(Assessment, ("id", "created_at", "updated_at", "account_id", "model_id", "assessed_on",
                                "assessed_by_id", "total", "tier", "rationale", "status", "reviewed_by_id",
                                "reviewed_at", "review_note"), a_rows)  # fmt: skip
        self.write(Score, ("id", "assessment_id", "criterion_id", "score", "evidence", "evidence_date"), s_rows)
        tier_columns = ("id", "created_at", "updated_at", "account_id", "assessment_id", "total", "computed_level",
                        "override_level", "override_reason", "override_by_id")  # fmt: skip
        self.write(AccountTier, tier_columns, t_rows)

    def _staff_unit(self, unit: Unit, rng: random.Random) -> None:
        """Who works on a unit: named systems from their spec, generated ones from the territory's team."""
        p = self.personas
        if unit.spec is not None:
            for username, role in unit.spec.team:
                uid = p[username]
                attr = {"account_lead": "kam", "msl": "msl", "market_access": "access"}.get(role, "sponsor")
                setattr(unit, attr, uid)
                unit.team.append(uid)
            unit.lead = p["lead"]
            return
        if unit.kind != "system" or not unit.territory:
            return
        kams = self.territory_kams.get(unit.territory)
        if kams:
            unit.kam = kams[rng.randrange(len(kams))]
            unit.team.append(unit.kam)
            unit.lead = self.territory_lead.get(unit.territory)
        msls, access = self.user_ids_by_role.get("medical"), self.user_ids_by_role.get("market_access")
        if msls and rng.random() < 0.7:
            unit.msl = msls[rng.randrange(len(msls))]
            unit.team.append(unit.msl)
        if access and rng.random() < 0.6:
            unit.access = access[rng.randrange(len(access))]
            unit.team.append(unit.access)

    def _staff_trade(self) -> None:
        p = self.personas
        first = {t: units[0] for t, units in self.trade.items() if units}
        for t in ("gpo", "payer", "pbm"):
            if t in first:
                first[t].access = p["access"]
                first[t].team.append(p["access"])
        if "wholesaler" in first:
            first["wholesaler"].kam = p["kam2"]
            first["wholesaler"].team.append(p["kam2"])
        if "pharmacy_chain" in first:
            first["pharmacy_chain"].kam = p["kam"]
            first["pharmacy_chain"].team.append(p["kam"])
        access = self.user_ids_by_role.get("market_access", [])
        for units in self.trade.values():
            for k, unit in enumerate(units[1:]):
                if access:
                    unit.access = access[k % len(access)]
                    unit.team.append(unit.access)

    # --- account teams, affiliations, committees -------------------------------------------------
    def _account_teams(self) -> None:
        rng = self.rng("teams")
        rows: list[tuple[Any, ...]] = []
        role_of = {"kam": "account_lead", "msl": "msl", "access": "market_access", "sponsor": "executive_sponsor"}
        for unit in self.units:
            for attr, team_role in role_of.items():
                uid = getattr(unit, attr)
                if uid is None:
                    continue
                role = self.users[uid]["role"]
                if attr == "kam" and unit.kind == "trade":
                    team_role = "kam"
                rows.append(
                    (self.new_id("atm"), self.now, self.now, unit.root_id, uid, team_role, FUNCTION_OF_ROLE[role],
                     self.days_ago(rng, 120, 1400), None)
                )  # fmt: skip
            if unit.spec is not None:
                for username in unit.spec.former:
                    start = self.days_ago(rng, 900, 1500)
                    end = self.days_ago(rng, 150, 400)
                    rows.append(
                        (self.new_id("atm"), self.now, self.now, unit.root_id, self.personas[username], "kam",
                         "commercial", start, end)
                    )  # fmt: skip
        self.write(
            AccountTeamMember,
            ("id", "created_at", "updated_at", "account_id", "user_id", "role", "function", "start_date", "end_date"),
            rows,
        )

    def _affiliations(self) -> None:
        rng = self.rng("affiliations")
        rows = []

        def add(a: int, b: int, type_: str, notes: str = "", *, ended: bool = False) -> None:
            start = self.days_ago(rng, 400, 3000)
            end = self.days_ago(rng, 10, 300) if ended else None
            if end is not None and end < start:
                end = start + dt.timedelta(days=200)
            rows.append((self.new_id("aff"), self.now, self.now, a, b, type_, start, end, notes))

        gpos, payers, pbms = self.trade.get("gpo", []), self.trade.get("payer", []), self.trade.get("pbm", [])
        wholesalers, chains = self.trade.get("wholesaler", []), self.trade.get("pharmacy_chain", [])
        for k, unit in enumerate(self.units):
            if unit.kind == "trade":
                continue
            gpo = gpos[k % len(gpos)] if gpos else None
            if gpo is not None and (unit.kind == "system" or rng.random() < 0.6):
                for hid in unit.hospital_ids:
                    add(hid, gpo.root_id, "gpo_member", "Pharmacy and med-surg contracts", ended=rng.random() < 0.03)
            if unit.kind == "system":
                for payer in rng.sample(payers, min(len(payers), rng.randint(1, 3))):
                    add(unit.root_id, payer.root_id, "payer_contract", "Commercial and Medicare Advantage lines")
                if wholesalers:
                    add(unit.root_id, wholesalers[k % len(wholesalers)].root_id, "supply", "Primary wholesaler")
        for k, payer in enumerate(payers):
            if pbms:
                add(payer.root_id, pbms[k % len(pbms)].root_id, "other", "Pharmacy benefit managed by this PBM")
        for k, chain in enumerate(chains):
            if wholesalers:
                add(chain.root_id, wholesalers[k % len(wholesalers)].root_id, "supply", "Primary wholesaler")
        self.write(
            AccountAffiliation,
            ("id", "created_at", "updated_at", "from_account_id", "to_account_id", "type", "start_date", "end_date",
             "notes"),
            rows,
        )  # fmt: skip

    def _committees(self) -> None:
        rng, s = self.rng("committees"), self.scale
        rows = []

        def add(unit: Unit, account: int, label: str, kind: str, cadence: str, description: str = "") -> None:
            cid = self.new_id("committee")
            nxt = self.anchor + dt.timedelta(days=rng.randint(3, 75))
            name = f"{self.acc_name[account]} {label}"
            rows.append((cid, self.now, self.now, account, name, kind, description, cadence, nxt))
            unit.committees.append((cid, kind, account, label))

        for unit in self.units:
            if unit.kind == "system":
                for label, kind, cadence in ref.COMMITTEES_PER_SYSTEM:
                    add(unit, unit.root_id, label, kind, cadence, "System-wide decisions.")
            if unit.kind in ("system", "independent"):
                for hid in unit.hospital_ids:
                    if rng.random() < s.hospital_committee_share:
                        add(unit, hid, "P&T Committee", "p_and_t", "Bi-monthly")
            elif unit.account_type in ("payer", "pbm"):
                add(unit, unit.root_id, "P&T Committee", "formulary", "Quarterly")
            elif unit.account_type == "gpo":
                add(unit, unit.root_id, "Clinical Sourcing Council", "procurement", "Quarterly")
        self.write(
            Committee,
            ("id", "created_at", "updated_at", "account_id", "name", "kind", "description", "meeting_cadence",
             "next_meeting"),
            rows,
        )  # fmt: skip

    # --- stakeholders and positions --------------------------------------------------------------
    def _stakeholders(self) -> None:
        s, rng = self.scale, self.rng("stakeholders")
        trade_units = [u for u in self.units if u.kind == "trade"]
        n_trade = min(len(trade_units) * 4, max(len(trade_units), s.stakeholders // 50))
        flagship = self.units[0]
        flagship.stakeholders = s.flagship_stakeholders
        others = [u for u in self.units[1:] if u.kind != "trade"]
        rest = s.stakeholders - s.flagship_stakeholders - n_trade
        if rest < 0:
            raise ValueError("stakeholders must exceed the flagship's and the trade accounts' share")
        weights = [len(u.hospital_ids) * (1.0 if u.kind == "system" else 0.5) for u in others]
        for u in rng.choices(others, weights, k=rest) if others else []:
            u.stakeholders += 1
        for k in range(n_trade):
            trade_units[k % len(trade_units)].stakeholders += 1

        self.pool: dict[int, list[int]] = defaultdict(list)  # account -> current stakeholders there
        self.titles: dict[int, str] = {}  # stakeholder -> title of their current position in the pool
        self.no_contact: set[int] = set()  # do not contact / no consent: never named in interactions
        self.email_ok: set[int] = set()  # consented to email: the only people emails are logged with
        st_rows: list[tuple[Any, ...]] = []
        pos_rows: list[tuple[Any, ...]] = []
        seat_roles: dict[int, str] = {}  # position id -> its seat on the committee (chair, secretary...)
        npi_counter = itertools.count()
        pos_id = itertools.count(1)
        kinds = ("physician", "pharmacist", "nurse", "other_hcp", "administrator", "procurement")
        kind_weights = (55, 14, 12, 6, 8, 5)
        flagship_ids: set[int] = set()

        def npi() -> str:
            n = next(npi_counter)
            block, within = divmod(n, 100_000)
            first_nine = str(199_900_000 - block * 100_000 + (within * 7919) % 100_000)
            return first_nine + str(npi_check_digit(first_nine))

        def position(
            sid: int, account: int, title: str, role: str, *, primary: bool, committee: int | None = None,
            start: dt.date, end: dt.date | None = None,
        ) -> None:  # fmt: skip
            pos_rows.append(
                (next(pos_id), self.now, self.now, sid, account, committee, title, role, primary, start, end)
            )
            if end is None and committee is None:
                self.pool[account].append(sid)
                self.titles[sid] = title

        for unit in self.units:
            if not unit.stakeholders:
                continue
            chiefs: set[int] = set()
            by_kind: dict[str, list[int]] = defaultdict(list)
            hospital_of: dict[int, list[int]] = defaultdict(list)
            area_code = next((h.phone[:5] for h in unit.hospitals if h.phone), "(555)")
            clinical = [d for d in unit.departments if d[1] != ref.PHARMACY]
            system_pharmacist_done = unit.kind != "system"
            for _ in range(unit.stakeholders):
                sid = self.new_id("stakeholder")
                if unit is flagship:
                    flagship_ids.add(sid)
                first, last = self.names.draw(rng)
                prefix, credentials, spec, number = "", "", None, ""
                if unit.kind == "trade":
                    title, kind, role = rng.choice(
                        ref.TRADE_TITLES.get(unit.account_type, (("Manager", "other", "unknown"),))
                    )
                    account = unit.root_id
                    if kind == "pharmacist":
                        credentials, spec = "PharmD", "183500000X"
                    elif kind == "payer":
                        prefix, credentials, spec = "Dr.", "MD", "207R00000X"
                    hospital = unit.root_id
                else:
                    kind = rng.choices(kinds, kind_weights)[0]
                    hospital = unit.hospital_ids[rng.randrange(len(unit.hospital_ids))]
                    dept = None
                    if kind in ("physician", "nurse", "other_hcp") and clinical:
                        dept = clinical[rng.randrange(len(clinical))]
                        hospital = dept[3]
                    account = dept[0] if dept else hospital
                    dept_name = dept[1] if dept else "Internal Medicine"
                    if kind == "physician":
                        prefix, credentials = "Dr.", "MD" if rng.random() < 0.85 else "DO"
                        spec = dept[2] if dept else ref.INTERNAL_MEDICINE
                        if account not in chiefs:
                            chiefs.add(account)
                            title, role = f"Chief of {dept_name}", "decision_maker"
                        else:
                            title, role = rng.choice(
                                (
                                    (f"Attending Physician, {dept_name}", "influencer"),
                                    (f"Attending Physician, {dept_name}", "user"),
                                    (f"Director, {dept_name} Fellowship Program", "influencer"),
                                    (f"{dept_name} Quality Lead", "champion"),
                                    (f"Attending Physician, {dept_name}", "unknown"),
                                )
                            )
                    elif kind == "pharmacist":
                        credentials = rng.choice(("PharmD", "PharmD, BCPS", "PharmD, BCOP", "RPh"))
                        spec = rng.choice(ref.PHARMACIST_CODES)
                        pharmacies = [d for d in unit.departments if d[1] == ref.PHARMACY and d[3] == hospital]
                        if not system_pharmacist_done:
                            system_pharmacist_done = True
                            account, title, role = unit.root_id, "System Director of Pharmacy", "decision_maker"
                        else:
                            account = pharmacies[0][0] if pharmacies else hospital
                            if account not in chiefs:
                                chiefs.add(account)
                                title, role = "Director of Pharmacy", "decision_maker"
                            else:
                                title, role = rng.choice(
                                    (("Clinical Pharmacist", "influencer"),
                                     ("Clinical Pharmacist, Oncology", "influencer"),
                                     ("Formulary Manager", "gatekeeper"), ("Medication Safety Officer", "influencer"),
                                     ("Clinical Pharmacist", "champion"))
                                )  # fmt: skip
                    elif kind == "nurse":
                        credentials = rng.choice(("RN", "MSN, RN", "DNP, NP", "NP"))
                        spec = rng.choice(ref.NURSE_CODES)
                        title, role = rng.choice(
                            ((f"Nurse Manager, {dept_name}", "influencer"),
                             (f"Nurse Practitioner, {dept_name}", "user"),
                             (f"Clinical Nurse Specialist, {dept_name}", "champion"))
                        )  # fmt: skip
                    elif kind == "other_hcp":
                        credentials, spec = "PA-C", ref.PA_CODE
                        title, role = f"Physician Assistant, {dept_name}", "user"
                    elif kind == "administrator":
                        credentials = rng.choice(("MBA", "MHA", "MD, MBA", ""))
                        if unit.kind == "system" and rng.random() < 0.4:
                            account, title = unit.root_id, rng.choice(ref.ADMIN_TITLES_SYSTEM)
                        else:
                            title = rng.choice(ref.ADMIN_TITLES_HOSPITAL)
                        role = rng.choice(("decision_maker", "approver", "influencer", "blocker"))
                    else:  # procurement
                        credentials = rng.choice(("", "MBA", "CMRP"))
                        if unit.kind == "system" and rng.random() < 0.5:
                            account = unit.root_id
                        title, role = rng.choice(ref.PROCUREMENT_TITLES), "gatekeeper"
                if kind in ("physician", "pharmacist", "nurse", "other_hcp"):
                    number = npi()
                consent = rng.random() < 0.92
                dnc = rng.random() < 0.03
                email_ok = consent and not dnc and rng.random() < 0.65
                if not consent or dnc:
                    self.no_contact.add(sid)
                elif email_ok:
                    self.email_ok.add(sid)
                st_rows.append(
                    (sid, self.now, self.now, prefix, first, last, credentials, kind, number, self.spec_ok(spec),
                     f"{_slug(first)}.{_slug(last)}@{unit.domain}", f"{area_code} 555-01{rng.randint(0, 99):02d}",
                     "US", consent and not dnc, email_ok,
                     self.days_ago(rng, 30, 1500) if consent else None, dnc, rng.random() < 0.02, "")
                )  # fmt: skip
                by_kind[kind].append(sid)
                hospital_of[hospital].append(sid)
                start = self.days_ago(rng, 60, 4000)
                # people move, roles stay: some held another role in the same unit before (now vacated)
                is_chief = title.startswith(("Chief", "Director of Pharmacy", "System"))
                if unit.kind != "trade" and rng.random() < (0.2 if is_chief else 0.06):
                    old_end = self.days_ago(rng, 15, 700)
                    old_start = old_end - dt.timedelta(days=rng.randint(300, 2500))
                    position(sid, account, title, role, primary=False, start=old_start, end=old_end)
                    other = unit.hospital_ids[rng.randrange(len(unit.hospital_ids))]
                    depts = [d for d in unit.departments if d[3] == other and d[1] != ref.PHARMACY]
                    new_account = depts[0][0] if depts and kind in ("physician", "nurse") else other
                    new_title = title.replace("Chief of", "Attending Physician,") if is_chief else title
                    start = min(self.anchor, old_end + dt.timedelta(days=rng.randint(1, 40)))
                    position(sid, new_account, new_title, "influencer" if is_chief else role, primary=True, start=start)
                else:
                    position(sid, account, title, role, primary=True, start=start)

            # committee memberships (within the unit, so a unit's people stay its people)
            for cid, ckind, caccount, label in unit.committees:
                if ckind in ("p_and_t", "formulary"):
                    if caccount in hospital_of and caccount != unit.root_id:
                        candidates = hospital_of[caccount]
                        size = rng.randint(3, 6)
                    else:
                        candidates = by_kind["physician"] + by_kind["pharmacist"] + by_kind["payer"]
                        size = rng.randint(6, 11)
                elif ckind == "value_analysis":
                    candidates = (
                        by_kind["procurement"] + by_kind["administrator"] + by_kind["nurse"] + by_kind["pharmacist"]
                    )
                    size = rng.randint(4, 8)
                else:
                    candidates = by_kind["procurement"] + by_kind["administrator"] + by_kind["other"]
                    size = rng.randint(3, 5)
                if not candidates:
                    candidates = [sid for sids in hospital_of.values() for sid in sids]
                members = rng.sample(candidates, min(size, len(candidates)))
                for k, sid in enumerate(members):
                    seat = seat_role(k, len(members))
                    title, role = (f"Chair, {label}", "approver") if k == 0 else (
                        f"{SEAT_TITLES[seat]}, {label}",
                        rng.choice(("decision_maker", "influencer", "influencer", "blocker", "champion")),
                    )  # fmt: skip
                    start = self.days_ago(rng, 60, 2000)
                    end = self.days_ago(rng, 5, 50) if k > 0 and rng.random() < 0.1 else None
                    if end is not None and end < start:
                        end = None
                    position(sid, caccount, title, role, primary=False, committee=cid, start=start, end=end)
                    seat_roles[pos_rows[-1][0]] = seat
        self.write(
            Stakeholder,
            ("id", "created_at", "updated_at", "prefix", "first_name", "last_name", "credentials", "kind", "npi",
             "specialty_id", "email", "phone", "country", "consent_contact", "consent_email", "consent_date",
             "do_not_contact", "privacy_restricted", "notes"),
            st_rows,
        )  # fmt: skip
        del st_rows
        self.write(
            Position,
            ("id", "created_at", "updated_at", "stakeholder_id", "account_id", "committee_id", "title",
             "role_in_decision", "is_primary", "valid_from", "valid_to", "committee_role"),
            ((*row, seat_roles.get(row[0], "")) for row in pos_rows),
        )  # fmt: skip
        self.summary.stakeholders_in_flagship = len(flagship_ids)

    # --- portfolio --------------------------------------------------------------------------------
    def _portfolio(self) -> None:
        ta_rows, product_rows, ind_rows = [], [], []
        # (id, brand, area, approved indications, departments of the area)
        self.products: list[tuple[int, str, str, list[str], tuple[str, ...]]] = []
        for ta_code, ta_name, products in ref.PORTFOLIO:
            ta_id = self.new_id("ta")
            ta_rows.append((ta_id, self.now, self.now, ta_code, ta_name, f"{ta_name} portfolio"))
            for brand, generic, status, years, ndc, indications in products:
                pid = self.new_id("product")
                launch = dt.date(self.anchor.year - years, 3, 1) if status != "pipeline" else None
                product_rows.append(
                    (pid, self.now, self.now, brand, generic, ta_id, status, launch, ndc,
                     f"{brand} ({generic}) — fictional product of the OpenKAM demo portfolio.")
                )  # fmt: skip
                approved = []
                for name, icd10, line, is_approved in indications:
                    approval = launch if is_approved else None
                    ind_rows.append(
                        (self.new_id("indication"), self.now, self.now, pid, name, icd10, line, is_approved, approval)
                    )
                    if is_approved:
                        approved.append(name)
                if approved:
                    self.products.append((pid, brand, ta_name, approved, ref.TA_DEPARTMENTS[ta_code]))
        self.write(TherapeuticArea, ("id", "created_at", "updated_at", "code", "name", "description"), ta_rows)
        self.write(
            Product,
            ("id", "created_at", "updated_at", "name", "generic_name", "therapeutic_area_id", "status", "launch_date",
             "ndc", "description"),
            product_rows,
        )  # fmt: skip
        self.write(
            Indication,
            ("id", "created_at", "updated_at", "product_id", "name", "icd10", "line_of_therapy", "approved",
             "approval_date"),
            ind_rows,
        )  # fmt: skip

    # --- plans ------------------------------------------------------------------------------------
    def _plans(self) -> None:
        s, rng = self.scale, self.rng("plans")
        planned: list[tuple[Unit, int, str, int, bool]] = []  # (unit, account, status, year offset, big)
        for unit in self.units:
            if unit.spec is None:
                continue
            for status, offset in unit.spec.plans:
                big = unit is self.units[0] and status == "active" and s.big_plan_actions > 0
                planned.append((unit, unit.root_id, status, offset, big))
        statuses, weights = ("active", "approved", "in_review", "draft", "closed"), (35, 10, 10, 20, 25)
        candidates: list[tuple[Unit, int]] = []
        cand_weights: list[float] = []
        for unit in self.units:
            if unit.kind != "system" or not (unit.kam or unit.sponsor):
                continue
            if unit.spec is None:
                candidates.append((unit, unit.root_id))
                cand_weights.append(4.0)
            for hid in unit.hospital_ids:
                candidates.append((unit, hid))
                cand_weights.append(1.0)
        while len(planned) < s.plans and candidates:
            unit, account = rng.choices(candidates, cand_weights)[0]
            status = rng.choices(statuses, weights)[0]
            offset = -1 if status == "closed" else (1 if status == "draft" and rng.random() < 0.3 else 0)
            planned.append((unit, account, status, offset, False))

        has_approval = _has_field(AccountPlan, "approved_by") and _has_field(AccountPlan, "approved_at")
        plan_cols = ["id", "created_at", "updated_at", "account_id", "name", "period_start", "period_end", "owner_id",
                     "status", "summary", "version"]  # fmt: skip
        if has_approval:
            plan_cols += ["approved_by_id", "approved_at"]
        plan_rows, obj_rows, tac_rows, act_rows = [], [], [], []
        shown: set[str] = set()
        self.tactics_at: dict[int, dict[str, list[tuple[int, list[int]]]]] = defaultdict(lambda: defaultdict(list))
        for unit, account, status, offset, big in planned:
            pid = self.new_id("plan")
            year = self.anchor.year + offset
            start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
            owner = unit.kam or unit.sponsor
            products = rng.sample(self.products, min(len(self.products), rng.randint(1, 3)))
            depts = [
                d for d in unit.departments if d[1] != ref.PHARMACY and (account == unit.root_id or d[3] == account)
            ]
            name = f"{self.acc_name[account]} — {year} account plan"
            row: list[Any] = [
                pid, self.now, self.now, account, name, start, end, owner, status,
                f"{year} plan for {self.acc_name[account]}, focused on {', '.join(p[1] for p in products)}.", 1,
            ]  # fmt: skip
            if has_approval:
                approved = status in ("approved", "active", "closed")
                when = dt.datetime.combine(start - dt.timedelta(days=rng.randint(5, 40)), dt.time(15), tzinfo=self.tz)
                row += [unit.lead or self.personas["lead"], when] if approved else [None, None]
            plan_rows.append(tuple(row))
            if big:
                self.summary.big_plan_id = pid
            classes = ["commercial", "joint"]
            if unit.msl:
                classes.append("medical")
            if unit.access:
                classes.append("market_access")
            if big:  # everything on the benchmark plan is visible to its owner
                classes = ["commercial", "market_access", "joint", "commercial"]
            shape: list[list[int]]
            if big:
                n_tactics = -(-s.big_plan_actions // 10)
                shape = [[] for _ in range(-(-n_tactics // 4))]
                for t in range(n_tactics):
                    shape[t // 4].append(10 if t < n_tactics - 1 else s.big_plan_actions - 10 * (n_tactics - 1))
            else:
                shape = [
                    [rng.randint(*s.plan_actions) for _ in range(rng.randint(*s.plan_tactics))]
                    for _ in range(rng.randint(*s.plan_objectives))
                ]
            class_cycle = itertools.cycle(rng.sample(classes, len(classes)) if not big else classes)
            for o_pos, tactic_shape in enumerate(shape):
                oid = self.new_id("objective")
                product = products[o_pos % len(products)]
                area_depts = [d[1] for d in depts if d[1] in product[4]] or list(product[4])
                dept_name = area_depts[rng.randrange(len(area_depts))]
                condition = product[3][rng.randrange(len(product[3]))]
                title_t, metric, indicator, base, target = ref.OBJECTIVES[rng.randrange(len(ref.OBJECTIVES))]
                progress = {"closed": 0.9, "active": rng.random() * 0.7, "approved": 0.1}.get(status)
                current = None if progress is None else Decimal(str(round(base + (target - base) * progress, 2)))
                fill = {"product": product[1], "account": self.acc_name[unit.root_id], "condition": condition,
                        "dept": dept_name, "area": product[2]}  # fmt: skip
                obj_rows.append(
                    (oid, self.now, self.now, pid, title_t.format(**fill), "", metric, Decimal(base), Decimal(target),
                     current, end - dt.timedelta(days=rng.choice((0, 90, 180))), indicator, owner, o_pos)
                )  # fmt: skip
                for t_pos, n_actions in enumerate(tactic_shape):
                    tid = self.new_id("tactic")
                    classification = next(class_cycle)
                    t_owner = {"medical": unit.msl, "market_access": unit.access}.get(classification) or owner
                    function = {"medical": "medical", "market_access": "market_access"}.get(
                        classification, "commercial"
                    )
                    templates = ref.TACTICS[classification]
                    shared = rng.random() < (0.6 if classification == "joint" else 0.1)
                    tac_rows.append(
                        (tid, self.now, self.now, oid, templates[rng.randrange(len(templates))].format(**fill), "",
                         t_owner, function, classification, shared, t_pos)
                    )  # fmt: skip
                    action_ids = []
                    for a_pos in range(n_actions):
                        aid = self.new_id("action")
                        action_ids.append(aid)
                        a_status = self._action_status(rng, status)
                        if status == "active" and len(shown) < len(ACTION_STATUSES):  # every status on show
                            a_status = next(x for x in ACTION_STATUSES if x not in shown)
                        shown.add(a_status)
                        a_start = start + dt.timedelta(days=rng.randint(0, 300))
                        due = min(end, a_start + dt.timedelta(days=rng.randint(14, 120)))
                        completed = None
                        if a_status == "done":
                            day = min(due - dt.timedelta(days=rng.randint(0, 10)), self.anchor)
                            completed = dt.datetime.combine(max(day, a_start), dt.time(16), tzinfo=self.tz)
                        assignee = t_owner
                        if classification == "joint" and unit.msl and rng.random() < 0.4:
                            assignee = unit.msl
                        elif classification in ("commercial", "market_access") and rng.random() < 0.3:
                            assignee = owner
                        act_rows.append(
                            (aid, self.now, self.now, tid, ref.ACTIONS[rng.randrange(len(ref.ACTIONS))].format(**fill),
                             "", t_owner, assignee, a_start, due, a_status, completed, a_pos)
                        )  # fmt: skip
                    if status != "draft":
                        self.tactics_at[account][classification].append((tid, action_ids))
        self.write(AccountPlan, plan_cols, plan_rows)
        self.write(
            Objective,
            ("id", "created_at", "updated_at", "plan_id", "title", "description", "metric", "baseline", "target",
             "current", "due_date", "indicator", "owner_id", "position"),
            obj_rows,
        )  # fmt: skip
        self.write(
            Tactic,
            ("id", "created_at", "updated_at", "objective_id", "title", "description", "owner_id", "function",
             "classification", "shared_with_customer", "position"),
            tac_rows,
        )  # fmt: skip
        self.write(
            Action,
            ("id", "created_at", "updated_at", "tactic_id", "title", "description", "owner_id", "assignee_id",
             "start_date", "due_date", "status", "completed_at", "position"),
            act_rows,
        )  # fmt: skip

    @staticmethod
    def _action_status(rng: random.Random, plan_status: str) -> str:
        if plan_status in ("draft", "in_review"):
            return rng.choices(("not_started", "in_progress"), (9, 1))[0]
        if plan_status == "approved":
            return rng.choices(("not_started", "in_progress", "blocked"), (6, 3, 1))[0]
        if plan_status == "closed":
            return rng.choices(("done", "cancelled"), (8, 2))[0]
        return rng.choices(("done", "in_progress", "not_started", "blocked", "cancelled"), (35, 30, 20, 8, 7))[0]

    # --- interactions -----------------------------------------------------------------------------
    def _interactions(self) -> None:
        s, rng = self.scale, self.rng("interactions")
        if s.interactions <= 0:
            return
        # only people who may be contacted are named; emails only with people who consented to email
        contact_pool = {a: [sid for sid in p if sid not in self.no_contact] for a, p in self.pool.items()}
        email_pool = {a: [sid for sid in p if sid in self.email_ok] for a, p in contact_pool.items()}
        # each user's book: the accounts below their current memberships that have people to meet
        books: dict[int, list[int]] = defaultdict(list)
        colleagues: dict[int, list[int]] = {}
        for index, unit in enumerate(self.units):
            accounts = [a for a in self.subtree(unit.root_id) if contact_pool.get(a)]
            for uid in set(unit.team):
                books[uid].extend(accounts)
            colleagues[index] = sorted(set(unit.team))
        # KAMs also call on the independent hospitals of their territory
        for index, unit in enumerate(self.units):
            if unit.kind == "independent" and unit.territory:
                accounts = [a for a in self.subtree(unit.root_id) if contact_pool.get(a)]
                for uid in self._territory_kams_with_personas(unit.territory):
                    books[uid].extend(accounts)
                    colleagues.setdefault(index, [])
        creators = sorted(u for u in books if books[u])
        if not creators:
            return
        cum = list(itertools.accumulate(CREATOR_WEIGHT.get(self.users[u]["role"], 0.1) for u in creators))
        day_start = [
            dt.datetime.combine(self.anchor - dt.timedelta(days=d), dt.time(0), tzinfo=self.tz) for d in range(0, 367)
        ]
        workdays = [d for d in range(1, 366) if day_start[d].weekday() < 5]
        fills = [
            {"product": p[1], "condition": cond, "area": p[2], "dept": dept}
            for p in self.products
            for cond in p[3]
            for dept in (*p[4], "Pharmacy")
        ]
        subjects = {c: [t.format(**f) for t in ts for f in fills] for c, ts in ref.SUBJECTS.items()}
        subjects = {c: sorted(set(v)) for c, v in subjects.items()}
        roles = {u: self.users[u]["role"] for u in self.users}
        channel_cum = {r: list(itertools.accumulate(w)) for r, w in CHANNEL_WEIGHTS.items()}

        total, done = s.interactions, 0
        inter_cols = ("id", "created_at", "updated_at", "occurred_at", "channel", "account_id", "subject", "notes",
                      "classification", "duration_minutes", "tactic_id", "action_id", "created_by_id")  # fmt: skip
        ist_id, ipa_id = itertools.count(1), itertools.count(1)
        next_interaction = 1
        while done < total:
            n = min(INTERACTION_CHUNK, total - done)
            rows, st_rows, pa_rows = [], [], []
            for _ in range(n):
                iid = next_interaction
                next_interaction += 1
                uid = creators[bisect.bisect(cum, rng.random() * cum[-1])]
                role = roles[uid]
                book = books[uid]
                account = book[rng.randrange(len(book))]
                classification = OWN_CLASSIFICATION[role] if rng.random() < 0.8 else "joint"
                ccum = channel_cum[role]
                channel = CHANNELS[bisect.bisect(ccum, rng.random() * ccum[-1])]
                if channel == "email" and not email_pool.get(account):
                    channel = "call"  # nobody there consented to email
                when = day_start[workdays[rng.randrange(len(workdays))]] + dt.timedelta(
                    minutes=rng.randrange(8 * 60, 17 * 60 + 30)
                )
                lo_hi = DURATIONS.get(channel)
                duration = rng.randint(*lo_hi) if lo_hi else None
                tactic = action = None
                if rng.random() < 0.15:
                    options = self._tactics_for(account, classification)
                    if options:
                        tactic, actions = options[rng.randrange(len(options))]
                        if actions and rng.random() < 0.5:
                            action = actions[rng.randrange(len(actions))]
                subject_list = subjects[classification]
                rows.append(
                    (iid, when, when, when, channel, account, subject_list[rng.randrange(len(subject_list))],
                     ref.NOTES[rng.randrange(len(ref.NOTES))], classification, duration, tactic, action, uid)
                )  # fmt: skip
                pool = (email_pool if channel == "email" else contact_pool)[account]
                k = min(len(pool), (1, 1, 1, 2, 2, 3)[rng.randrange(6)])
                for sid in rng.sample(pool, k) if k > 1 else (pool[rng.randrange(len(pool))],):
                    st_rows.append((next(ist_id), iid, sid))
                pa_rows.append((next(ipa_id), iid, uid))
                if rng.random() < 0.25:
                    team = colleagues.get(self.acc_unit[account]) or ()
                    seeing = [c for c in team if c != uid and roles[c] in SEES[classification]]
                    if seeing:
                        pa_rows.append((next(ipa_id), iid, seeing[rng.randrange(len(seeing))]))
            self.write(Interaction, inter_cols, rows)
            self.write(InteractionStakeholder, ("id", "interaction_id", "stakeholder_id"), st_rows)
            self.write(InteractionParticipant, ("id", "interaction_id", "user_id"), pa_rows)
            done += n
            if total > INTERACTION_CHUNK:
                self.log(f"  interactions {done:>12,} / {total:,}")

    def _territory_kams_with_personas(self, territory: str) -> list[int]:
        out = list(self.territory_kams.get(territory, []))
        for username, *_rest in ref.PERSONAS:
            if (
                self.users[self.personas[username]]["role"] == "kam"
                and self.users[self.personas[username]]["team"] == territory
            ):
                out.append(self.personas[username])
        return out

    def _tactics_for(self, account: int, classification: str) -> list[tuple[int, list[int]]]:
        found: list[tuple[int, list[int]]] = []
        for a in (account, *self.acc_ancestors[account]):
            by_class = self.tactics_at.get(a)
            if by_class:
                found.extend(by_class.get(classification, ()))
        return found
