"""Formulary world: a dated formulary history (wins and losses, restrictions, reviews due) for systems (decided by
the system P&T for all members), hospitals (own decisions overriding it), payers (partly imported), protocols, and
formulary targets of open plans. Large scale: ~6,000 formulary holders (systems and hospitals) × the marketed
products; COPY-loaded, deterministic."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from openkam.demo.sections import WorldSection
from openkam.market_access.models import FormularyStatus, FormularyTarget, Protocol, ProtocolProduct

if TYPE_CHECKING:
    from openkam.demo.world import WorldGenerator

_STATUS_COLS = (
    "id", "created_at", "updated_at", "account_id", "product_id", "indication_id", "committee_id", "scope", "status",
    "restriction_kinds", "restrictions", "tier", "effective_from", "effective_to", "next_review", "source",
    "source_ref", "net_price", "currency", "notes", "recorded_by_id",
)  # fmt: skip
_FIRST = (("on_formulary", 35), ("restricted", 30), ("under_review", 10), ("non_formulary", 25))
_NEXT = {
    "on_formulary": (("restricted", 40), ("removed", 20), ("under_review", 40)),
    "restricted": (("on_formulary", 55), ("removed", 15), ("under_review", 30)),
    "under_review": (("on_formulary", 45), ("restricted", 35), ("non_formulary", 20)),
    "non_formulary": (("under_review", 40), ("restricted", 40), ("on_formulary", 20)),
    "removed": (("under_review", 60), ("restricted", 40)),
}
_RESTRICTION_TEXT = {
    "prior_authorisation": "Prior authorisation by the attending specialist",
    "step_therapy": "After failure of a generic first-line agent",
    "specialist_only": "Prescribed by cardiology/oncology/immunology specialists only",
    "quantity_limit": "30-day supply per fill",
}
_PAYER_TIERS = ("Preferred Brand", "Non-preferred Brand", "Specialty", "Brand")
_PROTOCOLS = ("{ta} treatment pathway", "{ta} formulary protocol", "{ta} prescribing guideline")
_LINES = ("first", "second", "third_plus", "maintenance", "any")


def _pick(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o[0] for o in options], [o[1] for o in options])[0]


class _Builder:
    def __init__(self, gen: WorldGenerator) -> None:
        self.gen = gen
        self.rng = gen.rng("market_access:statuses")
        self.rows: list[tuple[Any, ...]] = []
        self.anchor = gen.anchor
        self.big = gen.scale.name == "large"

    def history(
        self, account: int, product: int, *, scope: str, committee: int | None, recorder: int | None,
        source: str = "entered", payer: bool = False, priced: bool = False,
    ) -> None:  # fmt: skip
        rng, anchor = self.rng, self.anchor
        n = rng.choices((1, 2, 3), (45, 35, 20))[0]
        # change dates, oldest first; a good share of last changes falls in the last 90 days (wins and losses)
        starts = sorted({anchor - dt.timedelta(days=rng.randint(120, 1100)) for _ in range(n)})
        if len(starts) > 1 and rng.random() < 0.45:
            starts[-1] = anchor - dt.timedelta(days=rng.randint(1, 90))
        status = _pick(rng, _FIRST)
        for i, start in enumerate(starts):
            if i:
                status = _pick(rng, _NEXT[status])
            end = starts[i + 1] - dt.timedelta(days=1) if i + 1 < len(starts) else None
            kinds: list[str] = []
            text = ""
            if status == "restricted":
                kinds = rng.sample(list(_RESTRICTION_TEXT), rng.choice((1, 1, 2)))
                text = _RESTRICTION_TEXT[kinds[0]]
            last = end is None
            review = None
            if last and (status in ("under_review", "restricted") or rng.random() < 0.25):
                review = anchor + dt.timedelta(days=rng.randint(5, 150))
            tier = rng.choice(_PAYER_TIERS) if payer and status in ("on_formulary", "restricted") else ""
            price = None
            if priced and status in ("on_formulary", "restricted") and rng.random() < 0.5:
                price = Decimal(rng.randint(4000, 250000)) / 100
            ref = (
                f"FHIR InsurancePlan/F{account} Basic/FormularyItem-{account}-{product}" if source == "imported" else ""
            )
            self.rows.append((
                self.gen.new_id("formularystatus"), self.gen.now, self.gen.now, account, product, None, committee,
                scope, status, kinds, text, tier, start, end, review, source, ref, price, "USD" if price else "",
                "", recorder,
            ))  # fmt: skip


def build(gen: WorldGenerator) -> None:
    products = [p[0] for p in gen.products][:10]
    if not products:
        return
    b = _Builder(gen)
    rng = b.rng
    access = gen.personas.get("access")
    for unit in gen.units:
        recorder = unit.access or access
        committees = {acc: cid for cid, kind, acc, _label in unit.committees if kind in ("p_and_t", "formulary")}
        if unit.kind == "system":
            root_committee = committees.get(unit.root_id)
            for product in products:  # the system P&T decides for every member
                if rng.random() < 0.9:
                    b.history(unit.root_id, product, scope="members", committee=root_committee, recorder=recorder)
            share = 0.35 if b.big else 0.45
            for hid in unit.hospital_ids:  # some hospitals decide on their own (local P&T)
                for product in products:
                    if rng.random() < share:
                        b.history(hid, product, scope="account", committee=committees.get(hid), recorder=recorder,
                                  priced=True)  # fmt: skip
        elif unit.kind == "independent":
            for hid in unit.hospital_ids or [unit.root_id]:
                for product in products:
                    if rng.random() < 0.75:
                        b.history(hid, product, scope="account", committee=committees.get(hid), recorder=recorder,
                                  priced=True)  # fmt: skip
        elif unit.account_type in ("payer", "pbm"):
            for product in products:
                imported = rng.random() < 0.6
                b.history(unit.root_id, product, scope="account", committee=committees.get(unit.root_id),
                          recorder=recorder, source="imported" if imported else "entered", payer=True)  # fmt: skip
                if imported and rng.random() < 0.25:  # our own entry beside the imported value
                    b.history(unit.root_id, product, scope="account", committee=None, recorder=recorder, payer=True)
    gen.write(FormularyStatus, _STATUS_COLS, b.rows)
    _protocols(gen, products)
    _targets(gen, products)


def _protocols(gen: WorldGenerator, products: list[int]) -> None:
    rng = gen.rng("market_access:protocols")
    by_ta: dict[str, list[int]] = {}
    for pid, _brand, ta, _ind, _depts in gen.products:
        if pid in products:
            by_ta.setdefault(ta, []).append(pid)
    rows, items = [], []
    for unit in gen.units:
        if unit.kind not in ("system", "independent"):
            continue
        holders = [unit.root_id] + [
            h for h in unit.hospital_ids if rng.random() < (0.05 if gen.scale.name == "large" else 0.2)
        ]
        for account in holders:
            for ta in rng.sample(sorted(by_ta), min(len(by_ta), rng.randint(1, 2))):
                pid = gen.new_id("protocol")
                review = gen.anchor + dt.timedelta(days=rng.randint(-30, 300))
                status = "active" if rng.random() < 0.8 else rng.choice(("draft", "retired"))
                since = gen.anchor - dt.timedelta(days=rng.randint(60, 900))
                rows.append((pid, gen.now, gen.now, account, "members" if account == unit.root_id else "account",
                             rng.choice(_PROTOCOLS).format(ta=ta), rng.choice(("pathway", "protocol", "guideline")),
                             status, None, f"Local {ta.lower()} pathway agreed by the P&T committee.",
                             since, review, None, unit.access))  # fmt: skip
                for line, product in zip(rng.sample(_LINES, min(len(_LINES), len(by_ta[ta]))), by_ta[ta], strict=False):
                    items.append((gen.new_id("protocolproduct"), gen.now, gen.now, pid, product, None, line,
                                  rng.random() < 0.4, ""))  # fmt: skip
    gen.write(
        Protocol,
        ("id", "created_at", "updated_at", "account_id", "scope", "name", "kind", "status", "therapeutic_area_id",
         "description", "effective_from", "review_date", "owner_id", "our_owner_id"),
        rows,
    )  # fmt: skip
    gen.write(
        ProtocolProduct,
        ("id", "created_at", "updated_at", "protocol_id", "product_id", "indication_id", "line_of_therapy",
         "preferred", "note"),
        items,
    )  # fmt: skip


def _targets(gen: WorldGenerator, products: list[int]) -> None:
    """Open plans state which products they want listed without restrictions (read back from the plans the core
    world just loaded in the same transaction; a sink that is not a database gives none)."""
    from openkam.plans.models import AccountPlan

    connection = getattr(gen.sink, "connection", None)
    if connection is None:
        return
    rng = gen.rng("market_access:targets")
    plans = list(
        AccountPlan.objects.using(connection.alias)
        .filter(status__in=("draft", "in_review", "approved", "active"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    rows = []
    for plan in plans:
        for product in rng.sample(products, min(len(products), rng.randint(1, 3))):
            status = "on_formulary" if rng.random() < 0.8 else "restricted"
            rows.append((gen.new_id("formularytarget"), gen.now, gen.now, plan, product, None, status,
                         "Listed without restrictions by the end of the plan year."))  # fmt: skip
    gen.write(
        FormularyTarget,
        ("id", "created_at", "updated_at", "plan_id", "product_id", "objective_id", "target_status", "note"),
        rows,
    )  # fmt: skip


SECTION = WorldSection(
    name="market_access",
    models=(FormularyStatus, FormularyTarget, Protocol, ProtocolProduct),
    build=build,
)
