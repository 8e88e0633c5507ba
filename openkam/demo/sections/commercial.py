"""Commercial world: whitespace with gaps, opportunities in every stage, a tender calendar (past outcomes with loss
reasons, upcoming deadlines, bid/risk analyses, some confirmed by the lead), and an account P&L (sales lines and cost
to serve) over two years (demo) or three (large) for the named systems — the flagship IDN has 40 hospitals in the
benchmark world. COPY-loaded, deterministic (``gen.rng("commercial:…")``)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from openkam.commercial.models import (
    BidAssessment,
    CostToServe,
    Opportunity,
    OpportunityProduct,
    SalesLine,
    Tender,
    TenderLot,
    TenderLotProduct,
    TenderResponsible,
    WhitespaceCell,
)
from openkam.demo import reference as ref
from openkam.demo.sections import WorldSection

if TYPE_CHECKING:
    from openkam.demo.world import Unit, WorldGenerator

COMPETITORS = {
    "cardiometabolic": ("Cardiorex", "Statinova", "Glycara"),
    "oncology": ("Oncorival", "Tumorex", "Immunax"),
    "immunology": ("Rheumab", "Dermavix", "Colitrex"),
    "neuroscience": ("Neurolin", "Scleravo"),
}
FACTORS = ("price_position", "clinical_differentiation", "supply_security", "evaluator_relationship", "contract_terms")
LOSS_REASONS = ("price", "price", "clinical", "supply", "relationship", "terms")
TENDER_TITLES = (
    "{ta} medicines framework {year}",
    "{ta} biologics supply {year}",
    "{ta} specialty drugs {year}",
    "Hospital pharmacy {ta} lots {year}",
)
DOCUMENTS = (
    "Signed tender declaration",
    "Product dossier and SmPC",
    "Price schedule",
    "Supply continuity plan",
    "Quality certificates (GMP)",
    "Environmental statement",
)
OPP_NAMES = (
    "{product} in {dept} at {account}",
    "{product} protocol inclusion — {account}",
    "{product} formulary expansion — {account}",
    "{product} value-based agreement — {account}",
)


def _month(anchor: dt.date, back: int) -> dt.date:
    d = anchor.replace(day=1)
    for _ in range(back):
        d = (d - dt.timedelta(days=1)).replace(day=1)
    return d


def _portfolio_ids() -> dict[int, tuple[str, str, str, list[tuple[int, str, bool]]]]:
    """product id → (brand, ta code, status, [(indication id, name, approved)]), numbered exactly as the core world
    numbers them (``WorldGenerator._portfolio``: sequential ids in ``ref.PORTFOLIO`` order)."""
    out: dict[int, tuple[str, str, str, list[tuple[int, str, bool]]]] = {}
    pid = iid = 0
    for ta_code, _ta_name, products in ref.PORTFOLIO:
        for brand, _generic, status, _years, _ndc, indications in products:
            pid += 1
            rows = []
            for name, _icd, _line, approved in indications:
                iid += 1
                rows.append((iid, name, approved))
            out[pid] = (brand, ta_code, status, rows)
    return out


class _Builder:
    def __init__(self, gen: WorldGenerator) -> None:
        self.gen = gen
        self.now = gen.now
        self.anchor = gen.anchor
        self.large = gen.scale.name == "large"
        self.products = {
            pid: spec for pid, spec in _portfolio_ids().items() if spec[2] in ("marketed", "launch")
        }  # what the grid shows
        self.units = [u for u in gen.units if u.kind == "system" and u.spec is not None]
        self.objectives = self._objectives()

    def _objectives(self) -> dict[int, list[int]]:
        """Objectives of the approved / active plans of the named systems (read back from the load's transaction;
        empty when the sink is not a database)."""
        try:
            from openkam.plans.models import Objective

            roots = [u.root_id for u in self.units]
            rows = Objective.objects.filter(
                plan__account_id__in=roots, plan__status__in=["approved", "active"]
            ).values_list("plan__account_id", "pk")
            out: dict[int, list[int]] = {}
            for account, pk in rows.order_by("pk"):
                out.setdefault(account, []).append(pk)
            return out
        except Exception:
            return {}

    def owner(self, unit: Unit) -> int:
        return unit.kam or unit.sponsor or self.gen.personas["kam"]

    # --- whitespace -----------------------------------------------------------------------------------------
    def whitespace(self) -> None:
        rng = self.gen.rng("commercial:whitespace")
        rows: list[tuple[Any, ...]] = []
        self.gaps: list[tuple[Unit, int, int, int, str, Decimal]] = []  # (unit, account, product, indication, dept)
        for unit in self.units:
            owner = self.owner(unit)
            for dept_id, dept_name, _code, _hospital in unit.departments:
                if dept_name == ref.PHARMACY:
                    continue
                for pid, (_brand, ta, _status, indications) in self.products.items():
                    relevant = dept_name in ref.TA_DEPARTMENTS[ta]
                    for iid, _name, approved in indications:
                        if not approved:
                            continue
                        potential = Decimal(rng.randint(20, 400) * 1000)
                        if not relevant:
                            if rng.random() < 0.15:
                                rows.append(
                                    (
                                        self.gen.new_id("ws"),
                                        self.now,
                                        self.now,
                                        dept_id,
                                        pid,
                                        iid,
                                        "not_applicable",
                                        None,
                                        "USD",
                                        None,
                                        "",
                                        None,
                                        "",
                                        owner,
                                    )
                                )
                            continue
                        status = rng.choices(("used", "competitor", "gap", "formulary_only"), (38, 27, 30, 5))[0]
                        if status == "gap":
                            if rng.random() < 0.5:  # a known potential, nothing used yet
                                rows.append(
                                    (
                                        self.gen.new_id("ws"),
                                        self.now,
                                        self.now,
                                        dept_id,
                                        pid,
                                        iid,
                                        "not_used",
                                        potential,
                                        "USD",
                                        None,
                                        "",
                                        None,
                                        "",
                                        owner,
                                    )
                                )
                            self.gaps.append((unit, dept_id, pid, iid, dept_name, potential))
                            continue
                        share = Decimal(rng.randint(15, 95)) if status == "used" else None
                        competitor = ""
                        if status == "competitor" or (status == "used" and share is not None and share < 60):
                            competitor = rng.choice(COMPETITORS[ta])
                        end = self.anchor + dt.timedelta(days=rng.randint(20, 720)) if competitor else None
                        rows.append(
                            (
                                self.gen.new_id("ws"),
                                self.now,
                                self.now,
                                dept_id,
                                pid,
                                iid,
                                status,
                                potential,
                                "USD",
                                share,
                                competitor,
                                end,
                                "",
                                owner,
                            )
                        )
        self.gen.write(
            WhitespaceCell,
            (
                "id",
                "created_at",
                "updated_at",
                "account_id",
                "product_id",
                "indication_id",
                "status",
                "potential_value",
                "currency",
                "our_share",
                "competitor",
                "contract_end",
                "notes",
                "updated_by_id",
            ),
            rows,
        )

    # --- opportunities -----------------------------------------------------------------------------------------
    def opportunities(self) -> None:
        rng = self.gen.rng("commercial:opportunities")
        rows, links = [], []
        stages = ("identified", "qualified", "proposal", "negotiation", "won", "lost")
        prob = {"identified": 10, "qualified": 25, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}
        gaps_by_unit: dict[int, list[Any]] = {}
        for g in self.gaps:
            gaps_by_unit.setdefault(g[0].root_id, []).append(g)
        for unit in self.units:
            owner = self.owner(unit)
            objectives = self.objectives.get(unit.root_id, [])
            n = rng.randint(10, 16) if unit is self.units[0] else rng.randint(5, 10)
            gaps = gaps_by_unit.get(unit.root_id, [])
            picks = rng.sample(gaps, min(len(gaps), n))
            for k, (_u, dept_id, pid, iid, dept_name, potential) in enumerate(picks):
                stage = stages[k % len(stages)] if k < len(stages) else rng.choice(stages)
                account = dept_id if rng.random() < 0.5 else self.gen.acc_parent[dept_id] or dept_id
                brand = self.products[pid][0]
                name = rng.choice(OPP_NAMES).format(product=brand, dept=dept_name, account=self.gen.acc_name[account])
                if stage in ("won", "lost"):
                    close = self.anchor - dt.timedelta(days=rng.randint(10, 300))
                    closed: dt.date | None = close
                else:
                    close = self.anchor + dt.timedelta(days=rng.randint(-20, 330))
                    closed = None
                value = (potential * Decimal(rng.choice((0.5, 0.75, 1)))).quantize(Decimal("1"))
                objective = rng.choice(objectives) if objectives and rng.random() < 0.5 else None
                oid = self.gen.new_id("opportunity")
                # an open opportunity on a department's indication closes that gap (indication set); others are
                # broader deals without one
                indication = iid if stage not in ("won", "lost") and account == dept_id else None
                rows.append(
                    (
                        oid,
                        self.now,
                        self.now,
                        account,
                        name[:255],
                        "",
                        value,
                        "USD",
                        stage,
                        prob[stage],
                        close,
                        indication,
                        objective,
                        owner,
                        closed,
                        rng.choice(("Competitor price", "No budget this year", "Protocol kept the incumbent"))
                        if stage == "lost"
                        else "",
                    )
                )
                links.append((self.gen.new_id("opportunityproduct"), oid, pid))
        self.gen.write(
            Opportunity,
            (
                "id",
                "created_at",
                "updated_at",
                "account_id",
                "name",
                "description",
                "value",
                "currency",
                "stage",
                "probability",
                "expected_close",
                "indication_id",
                "objective_id",
                "owner_id",
                "closed_on",
                "loss_reason",
            ),
            rows,
        )
        self.gen.write(OpportunityProduct, ("id", "opportunity_id", "product_id"), links)

    # --- tenders -----------------------------------------------------------------------------------------------
    def tenders(self) -> None:
        rng = self.gen.rng("commercial:tenders")
        t_rows, r_rows, l_rows, lp_rows, a_rows = [], [], [], [], []
        by_ta: dict[str, list[int]] = {}
        for pid, (_b, ta, _s, _i) in self.products.items():
            by_ta.setdefault(ta, []).append(pid)
        lead = self.gen.personas.get("lead")
        for unit in self.units:
            people = [p for p in (unit.kam, unit.access, unit.sponsor) if p]
            n_past, n_next = (5, 5) if unit is self.units[0] else (rng.randint(1, 3), rng.randint(1, 3))
            for k in range(n_past + n_next):
                upcoming = k >= n_past
                ta = rng.choice(sorted(by_ta))
                account = unit.root_id if rng.random() < 0.6 else rng.choice(unit.hospital_ids)
                if upcoming:
                    deadline = self.anchor + dt.timedelta(days=rng.randint(5, 120))
                else:
                    deadline = self.anchor - dt.timedelta(days=rng.randint(20, 700))
                published = deadline - dt.timedelta(days=rng.randint(25, 60))
                tid = self.gen.new_id("tender")
                ta_name = ta.replace("cardiometabolic", "Cardiometabolic").capitalize()
                title = rng.choice(TENDER_TITLES).format(ta=ta_name, year=deadline.year)
                value = Decimal(rng.randint(3, 60) * 50_000)
                criteria = rng.choice(
                    (
                        [("Price", 60), ("Quality", 40)],
                        [("Price", 50), ("Clinical value", 30), ("Supply security", 20)],
                        [("Price", 40), ("Clinical value", 40), ("Service", 20)],
                    )
                )
                docs = [
                    {"name": d, "done": (not upcoming) or rng.random() < 0.5}
                    for d in rng.sample(DOCUMENTS, rng.randint(3, 5))
                ]
                outcome, loss, notes = "pending", "", ""
                award = None
                if not upcoming:
                    outcome = rng.choices(("won", "lost", "partial", "no_bid"), (45, 30, 15, 10))[0]
                    if outcome in ("lost", "partial"):
                        loss = rng.choice(LOSS_REASONS)
                        notes = {
                            "price": "Undercut by 8–12% on the main lot.",
                            "clinical": "Evaluators did not value the outcomes data.",
                            "supply": "Single-site supply judged a risk.",
                            "relationship": "New evaluation panel we had not met.",
                            "terms": "Penalty clauses we could not accept.",
                        }[loss]
                    award = deadline + dt.timedelta(days=rng.randint(14, 45))
                    if award > self.anchor:
                        award = None
                t_rows.append(
                    (
                        tid,
                        self.now,
                        self.now,
                        account,
                        title,
                        f"T-{deadline.year}-{tid:04d}",
                        rng.choice(("open", "open", "restricted", "negotiated")),
                        published,
                        deadline,
                        award,
                        None,
                        None,
                        value,
                        "USD",
                        json.dumps([{"name": n, "weight": w} for n, w in criteria]),
                        json.dumps(docs),
                        outcome,
                        loss,
                        notes,
                        "",
                    )
                )
                for p in people:
                    r_rows.append((self.gen.new_id("tenderresponsible"), tid, p))
                products = by_ta[ta]
                for number in range(1, rng.randint(1, min(3, len(products))) + 1):
                    lot = self.gen.new_id("tenderlot")
                    pid = products[(number - 1) % len(products)]
                    lot_outcome = outcome if outcome != "partial" else ("won" if number == 1 else "lost")
                    l_rows.append(
                        (
                            lot,
                            self.now,
                            self.now,
                            tid,
                            number,
                            f"Lot {number}: {self.products[pid][0]}",
                            f"{rng.randint(2, 40) * 100} packs/yr",
                            (value / 2).quantize(Decimal("1")),
                            lot_outcome if lot_outcome != "no_bid" else "no_bid",
                        )
                    )
                    lp_rows.append((self.gen.new_id("tenderlotproduct"), lot, pid))
                if upcoming and rng.random() < 0.2:
                    continue  # not analysed yet
                scores = {f: rng.choices((1, 2, 3, 4, 5), (4, 12, 30, 36, 18))[0] for f in FACTORS}
                likelihood = (Decimal(sum(s - 1 for s in scores.values())) * 25 / len(FACTORS)).quantize(
                    Decimal("0.01")
                )
                rec = "go" if likelihood >= 50 and min(scores.values()) > 1 else "no_go"
                assessed = dt.datetime.combine(
                    published + dt.timedelta(days=rng.randint(2, 15)), dt.time(11), tzinfo=self.gen.tz
                )
                decided = (not upcoming) or rng.random() < 0.5
                decision = rec if rng.random() < 0.85 else ("no_go" if rec == "go" else "go")
                note = "" if decision == rec else "Strategic account: we bid to keep the relationship."
                a_rows.append(
                    (
                        self.gen.new_id("bidassessment"),
                        self.now,
                        self.now,
                        tid,
                        json.dumps(scores),
                        "",
                        likelihood,
                        rec,
                        unit.kam or self.gen.personas["kam"],
                        assessed,
                        decision if decided else "",
                        (unit.lead or lead) if decided else None,
                        assessed + dt.timedelta(days=2) if decided else None,
                        note if decided else "",
                    )
                )
        self.gen.write(
            Tender,
            (
                "id",
                "created_at",
                "updated_at",
                "account_id",
                "title",
                "reference",
                "tender_type",
                "publication_date",
                "submission_deadline",
                "award_date",
                "contract_start",
                "contract_end",
                "estimated_value",
                "currency",
                "award_criteria",
                "documents",
                "outcome",
                "loss_reason",
                "outcome_notes",
                "notes",
            ),
            t_rows,
        )
        self.gen.write(TenderResponsible, ("id", "tender_id", "user_id"), r_rows)
        self.gen.write(
            TenderLot,
            ("id", "created_at", "updated_at", "tender_id", "number", "name", "volume", "estimated_value", "outcome"),
            l_rows,
        )
        self.gen.write(TenderLotProduct, ("id", "lot_id", "product_id"), lp_rows)
        self.gen.write(
            BidAssessment,
            (
                "id",
                "created_at",
                "updated_at",
                "tender_id",
                "scores",
                "notes",
                "win_likelihood",
                "recommendation",
                "assessed_by_id",
                "assessed_at",
                "decision",
                "decided_by_id",
                "decided_at",
                "decision_note",
            ),
            a_rows,
        )

    # --- P&L ------------------------------------------------------------------------------------------------------
    def pnl(self) -> None:
        rng = self.gen.rng("commercial:pnl")
        months = 36 if self.large else 24
        periods = [_month(self.anchor, back) for back in range(months, -1, -1)]  # oldest first, this month last

        def sales() -> Any:
            n = 0
            for unit in self.units:
                depts_of: dict[int, set[str]] = {}
                for _d, name, _c, hospital in unit.departments:
                    depts_of.setdefault(hospital, set()).add(name)
                for hospital in unit.hospital_ids:
                    names = depts_of.get(hospital, set())
                    sold = [pid for pid, spec in self.products.items() if names & set(ref.TA_DEPARTMENTS[spec[1]])]
                    if not sold:
                        sold = rng.sample(sorted(self.products), 2)
                    for pid in sold:
                        base = rng.randint(4, 60) * 1000
                        growth = rng.uniform(-0.01, 0.03)
                        disc, reb, cogs = rng.uniform(0.04, 0.12), rng.uniform(0.02, 0.08), rng.uniform(0.16, 0.26)
                        for i, period in enumerate(periods):
                            season = 1 + 0.08 * (
                                1 if period.month in (3, 10, 11) else -1 if period.month in (7, 8) else 0
                            )
                            gross = Decimal(round(base * (1 + growth) ** i * season * rng.uniform(0.85, 1.15), 2))
                            gross = gross.quantize(Decimal("0.01"))
                            n += 1
                            yield (
                                n,
                                hospital,
                                pid,
                                period,
                                Decimal(round(float(gross) / 310, 0)),
                                gross,
                                (gross * Decimal(str(round(disc, 3)))).quantize(Decimal("0.01")),
                                (gross * Decimal(str(round(reb, 3)))).quantize(Decimal("0.01")),
                                (gross * Decimal(str(round(cogs, 3)))).quantize(Decimal("0.01")),
                                "USD",
                                None,
                            )

        self.gen.write(
            SalesLine,
            (
                "id",
                "account_id",
                "product_id",
                "period",
                "quantity",
                "gross_sales",
                "discounts",
                "rebates",
                "cogs",
                "currency",
                "batch_id",
            ),
            sales(),
        )
        rows: list[tuple[Any, ...]] = []
        for unit in self.units:
            team_cost = rng.randint(6, 18) * 1000
            for period in periods:
                rows.append(
                    (
                        self.gen.new_id("cts"),
                        self.now,
                        self.now,
                        unit.root_id,
                        period,
                        "team_time",
                        Decimal(team_cost + rng.randint(-1500, 1500)),
                        "USD",
                        "Account team time",
                    )
                )
                if period.month % 3 == 0:
                    rows.append(
                        (
                            self.gen.new_id("cts"),
                            self.now,
                            self.now,
                            unit.root_id,
                            period,
                            "events",
                            Decimal(rng.randint(3, 25) * 500),
                            "USD",
                            "Advisory board / symposium",
                        )
                    )
                for hospital in rng.sample(unit.hospital_ids, min(3, len(unit.hospital_ids))):
                    category = rng.choice(("samples", "services", "team_time"))
                    rows.append(
                        (
                            self.gen.new_id("cts"),
                            self.now,
                            self.now,
                            hospital,
                            period,
                            category,
                            Decimal(rng.randint(2, 40) * 100),
                            "USD",
                            {
                                "samples": "Starter packs",
                                "services": "Nurse educator programme",
                                "team_time": "Specialist rep time",
                            }[category],
                        )
                    )
        self.gen.write(
            CostToServe,
            ("id", "created_at", "updated_at", "account_id", "period", "category", "amount", "currency", "description"),
            rows,
        )


def build(gen: WorldGenerator) -> None:
    b = _Builder(gen)
    if not b.units or not b.products:
        return
    b.whitespace()
    b.opportunities()
    b.tenders()
    b.pnl()


SECTION = WorldSection(
    name="commercial",
    models=(
        WhitespaceCell,
        Opportunity,
        OpportunityProduct,
        Tender,
        TenderResponsible,
        TenderLot,
        TenderLotProduct,
        BidAssessment,
        SalesLine,
        CostToServe,
    ),
    build=build,
)
