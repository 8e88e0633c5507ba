"""Plan sections world: every plan the core world built gets what a real account plan has — its template, the
customer's priorities in their words, positioning and a value proposition, the over-arching strategy, a SWOT with
evidence linked to the objectives it drives, goals → critical success factors → key actions, the template's stages
and steps ticked as far as the plan got, reviews (submitted, returned with comments, approved), an immutable
snapshot for approved plans (frozen a little earlier than today, so comparing versions shows the movement), items
shared with the customer and, for some active plans, the customer's recorded agreement. Some active plans are left
without a meaningful update for two months: plan rot to find.

Benchmark worlds: the flagship's big plan grows to 50 objectives and 300 actions (the plan page target).

The core world's plan rows exist already (COPY-loaded before the sections run): this section reads them back on
the load connection and completes them with a few set-based UPDATEs; its own rows are COPY-loaded. Deterministic
(``gen.rng("plan_sections:…")``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from openkam.core.audit import audit_action
from openkam.demo.sections import WorldSection
from openkam.plans.defaults import install_default_templates
from openkam.plans.models import (
    Action,
    CriticalSuccessFactor,
    CustomerAgreement,
    CustomerPriority,
    Goal,
    KeyAction,
    Objective,
    PlanReview,
    PlanSnapshot,
    PlanStage,
    PlanStep,
    SwotItem,
    SwotObjective,
    Tactic,
)

if TYPE_CHECKING:
    from openkam.demo.world import WorldGenerator

BIG_PLAN_OBJECTIVES, BIG_PLAN_ACTIONS = 50, 300
FALLBACK_PRODUCT = (0, "Cardiozen", "Cardiology", ["heart failure"], ("Cardiology",))

PRIORITIES = (
    ("Cut 30-day readmissions in {area}", "A board-level quality goal tied to payer penalties."),
    ("Move {area} care to value-based contracts", "Two risk-sharing contracts signed by year end."),
    ("Standardise {condition} pathways across the network", "One protocol for every hospital of the system."),
    ("Control the specialty drug budget", "Pharmacy spend per case flat despite new launches."),
    ("Shorten time from diagnosis to therapy", "Patients treated within 30 days of diagnosis."),
    ("Grow outpatient infusion capacity", "Two new infusion centres in the suburbs."),
)
POSITIONING = (
    "The partner that helps {account} deliver {area} outcomes it can report to its board — not just a supplier of "
    "{product}. We bring outcomes data, pathway support and a single cross-functional team."
)
VALUE_PROPOSITION = (
    "{product} within its approved indications: fewer hospital days for eligible {condition} patients, backed by "
    "real-world evidence from comparable systems, with pharmacy budget impact modelled on {account}'s own case mix."
)
STRATEGY = (
    "Win the system-level P&T decision first, then scale through a co-created {condition} pathway in the largest "
    "hospitals. Lead with outcomes and budget impact, keep medical and commercial conversations separate, and "
    "measure progress every quarter with the customer."
)
SWOT = {
    "strength": (
        ("Strong outcomes data in {condition}", "Phase III and two real-world studies; cited in the 2025 guideline"),
        ("Trusted by the {dept} chief", "Six meetings this year; asked us for pathway support"),
        ("Cross-functional account team in place", "KAM, MSL and market access named on the account"),
    ),
    "weakness": (
        ("Price premium over the standard of care", "List price 18% above the comparator"),
        ("Little access to the finance committee", "No meeting with the CFO's office in 12 months"),
        ("Single-threaded relationships", "Two people hold most contacts at the account"),
    ),
    "opportunity": (
        ("Formulary review of {area} this year", "P&T agenda published for Q2"),
        ("Value-based contracting pilot", "The system is looking for two pilot partners"),
        ("New {dept} leadership", "Chief appointed in January, reviewing all pathways"),
    ),
    "threat": (
        ("Biosimilar entry expected", "Competitor filing seen in the FDA database, launch expected within a year"),
        ("Budget freeze on specialty drugs", "Announced at the last town hall; applies to new listings"),
        ("Competitor contract up for renewal", "Incumbent offered a bundled rebate"),
    ),
}
GOALS = (
    (
        "Become the preferred {area} partner of {account}",
        (
            ("Formulary listing secured", ("Submit the P&T dossier", "Brief the P&T chair", "Answer P&T questions")),
            ("Pathway champion in every hospital", ("Name a champion per site", "Run the pathway workshop")),
        ),
    ),
    (
        "Prove the value of {product} with the customer's own data",
        (
            ("Outcomes baseline agreed", ("Agree the metrics with quality", "Collect six months of baseline")),
            ("Budget impact accepted by pharmacy", ("Build the budget impact model", "Review it with the director")),
        ),
    ),
)
RETURN_COMMENTS = (
    "The SWOT has no threats and the objectives lack targets — please complete them before I approve.",
    "Objectives need owners and due dates. Also add the finance committee to the stakeholder map.",
    "Good start. Make the value proposition compliant with the label and add leading indicators.",
)
APPROVE_COMMENTS = ("Approved — well-argued plan.", "Approved. Let's review progress at the QBR.", "")


def _text(template: str, fill: dict[str, str]) -> str:
    return template.format(**fill)


class _Builder:
    def __init__(self, gen: WorldGenerator) -> None:
        self.gen = gen
        self.conn = gen.sink.connection  # type: ignore[attr-defined]
        self.now = gen.now
        self.rows: dict[type, list[tuple[Any, ...]]] = defaultdict(list)
        self.plan_updates: list[tuple[Any, ...]] = []
        self.objective_shared: list[int] = []
        self.objective_current: dict[int, Decimal] = {}
        self.action_flags: list[tuple[int, bool, bool]] = []
        self.next_ids: dict[str, int] = {}
        self.by_plan: dict[int, dict[type, list[tuple[Any, ...]]]] = defaultdict(lambda: defaultdict(list))

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(query, params or [])
            return list(cur.fetchall()) if cur.description else []

    def new_id(self, table: Any) -> int:
        key = table._meta.db_table
        if key not in self.next_ids:
            self.next_ids[key] = int(self.sql(f'SELECT COALESCE(MAX(id), 0) FROM "{key}"')[0][0])
        self.next_ids[key] += 1
        return self.next_ids[key]

    # --- reading the core world's plans back -----------------------------------------------------------
    def load(self) -> None:
        self.plans = self.sql(
            "SELECT p.id, p.account_id, a.name, a.type, p.status, p.owner_id, p.period_start, p.period_end, "
            "p.approved_by_id, p.approved_at, p.version, p.name, p.summary FROM plans_accountplan p "
            "JOIN accounts_account a ON a.id = p.account_id ORDER BY p.id"
        )
        self.objectives: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in self.sql(
            "SELECT id, plan_id, title, metric, baseline, target, current, due_date, indicator, owner_id, position "
            "FROM plans_objective ORDER BY plan_id, position, id"
        ):
            self.objectives[row[1]].append(row)
        self.tactics: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in self.sql(
            "SELECT t.id, o.plan_id, t.objective_id, t.title, t.classification, t.function, t.shared_with_customer, "
            "t.owner_id FROM plans_tactic t JOIN plans_objective o ON o.id = t.objective_id ORDER BY t.id"
        ):
            self.tactics[row[1]].append(row)
        self.actions: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in self.sql(
            "SELECT x.id, o.plan_id, x.tactic_id, x.title, x.status, x.start_date, x.due_date, x.owner_id, "
            "x.assignee_id, t.classification FROM plans_action x JOIN plans_tactic t ON t.id = x.tactic_id "
            "JOIN plans_objective o ON o.id = t.objective_id ORDER BY x.id"
        ):
            self.actions[row[1]].append(row)
        self.templates = {
            row[1]: row[0] for row in self.sql("SELECT id, name FROM plans_plantemplate WHERE is_active ORDER BY id")
        }
        self.template_for_type: dict[str, int] = {}
        for tid, types, is_default in self.sql(
            "SELECT id, account_types, is_default FROM plans_plantemplate WHERE is_active ORDER BY name"
        ):
            for t in types or []:
                self.template_for_type.setdefault(t, tid)
            if is_default:
                self.default_template = tid
        self.stages: dict[int, list[tuple[str, str, list[str]]]] = defaultdict(list)
        for tid, name, description, steps in self.sql(
            "SELECT s.template_id, s.name, s.description, "
            "COALESCE(array_agg(st.title ORDER BY st.position, st.id) FILTER (WHERE st.id IS NOT NULL), '{}') "
            "FROM plans_templatestage s LEFT JOIN plans_templatestep st ON st.stage_id = s.id "
            "GROUP BY s.id ORDER BY s.template_id, s.position, s.id"
        ):
            self.stages[tid].append((name, description, list(steps)))
        self.user_names = {
            pk: f"{first} {last}".strip()
            for pk, first, last in self.sql("SELECT id, first_name, last_name FROM core_user")
        }

    # --- the bench plan: 50 objectives, 300 actions ---------------------------------------------------------
    def grow_big_plan(self, plan_id: int) -> None:
        rng = self.gen.rng("plan_sections:big")
        plan = next(p for p in self.plans if p[0] == plan_id)
        owner, start, end = plan[5], plan[6], plan[7]
        objectives = self.objectives[plan_id]
        actions = self.actions[plan_id]
        missing_objectives = max(0, BIG_PLAN_OBJECTIVES - len(objectives))
        missing_actions = max(0, BIG_PLAN_ACTIONS - len(actions))
        if not missing_objectives and not missing_actions:
            return
        obj_rows, tac_rows, act_rows = [], [], []
        per_objective = -(-missing_actions // max(1, missing_objectives)) if missing_objectives else missing_actions
        position = len(objectives)
        left = missing_actions
        sites = sorted({a[3] for a in actions})[:1] or ["the network"]
        for i in range(max(1, missing_objectives)):
            if i < missing_objectives:
                oid = self.gen.new_id("objective")
                base = rng.randint(5, 40)
                target = base + rng.randint(10, 60)
                current = Decimal(base + round((target - base) * rng.uniform(0.1, 0.9)))
                indicator = "leading" if i % 2 else "lagging"
                row = (
                    oid, self.now, self.now, plan_id, f"Pathway adoption at site {i + 1}", "",
                    "Patients on the pathway", Decimal(base), Decimal(target), current,
                    end - dt.timedelta(days=rng.choice((0, 60, 120, 180))), indicator, owner, position,
                )  # fmt: skip
                obj_rows.append(row)
                self.objectives[plan_id].append(
                    (oid, plan_id, row[4], row[6], row[7], row[8], row[9], row[10], indicator, owner, position)
                )
                position += 1
            else:
                oid = objectives[-1][0]
            n = min(per_objective, left)
            if n <= 0:
                continue
            tid = self.gen.new_id("tactic")
            classification = ("commercial", "joint", "market_access")[i % 3]
            function = "market_access" if classification == "market_access" else "commercial"
            tac_rows.append(
                (tid, self.now, self.now, oid, f"Roll-out support at site {i + 1}", "", owner, function,
                 classification, classification == "joint", 0)
            )  # fmt: skip
            for k in range(n):
                aid = self.gen.new_id("action")
                a_start = start + dt.timedelta(days=rng.randint(0, 300))
                due = min(end, a_start + dt.timedelta(days=rng.randint(14, 90)))
                status = rng.choices(("done", "in_progress", "not_started", "blocked"), (35, 30, 30, 5))[0]
                done_at = dt.datetime.combine(due, dt.time(16), tzinfo=self.gen.tz) if status == "done" else None
                act_rows.append(
                    (aid, self.now, self.now, tid, f"{sites[0]} — step {k + 1} at site {i + 1}", "", owner, owner,
                     a_start, due, status, done_at, k)
                )  # fmt: skip
            left -= n
        self.gen.write(
            Objective,
            ("id", "created_at", "updated_at", "plan_id", "title", "description", "metric", "baseline", "target",
             "current", "due_date", "indicator", "owner_id", "position"),
            obj_rows,
        )  # fmt: skip
        self.gen.write(
            Tactic,
            ("id", "created_at", "updated_at", "objective_id", "title", "description", "owner_id", "function",
             "classification", "shared_with_customer", "position"),
            tac_rows,
        )  # fmt: skip
        self.gen.write(
            Action,
            ("id", "created_at", "updated_at", "tactic_id", "title", "description", "owner_id", "assignee_id",
             "start_date", "due_date", "status", "completed_at", "position"),
            act_rows,
        )  # fmt: skip

    # --- one plan ---------------------------------------------------------------------------------------------
    def add(self, model: type, pid: int, row: tuple[Any, ...]) -> None:
        self.rows[model].append(row)
        self.by_plan[pid][model].append(row)

    def plan(self, row: tuple[Any, ...], stale: bool) -> None:
        pid, account, account_name, account_type, status, owner, start, _end, approved_by, approved_at, version = row[
            :11
        ]
        rng = self.gen.rng(f"plan_sections:{pid}")
        product = rng.choice(self.gen.products) if self.gen.products else FALLBACK_PRODUCT
        fill = {
            "account": account_name,
            "product": product[1],
            "area": product[2].lower(),
            "condition": (product[3] or ["the indication"])[0],
            "dept": (product[4] or ("Cardiology",))[0],
        }
        template = self.template_for_type.get(account_type, getattr(self, "default_template", None))
        objectives = self.objectives[pid]
        actions = self.actions[pid]
        thin = status == "draft" and rng.random() < 0.5  # some drafts are only started: completeness has gaps

        # narrative sections
        priorities = rng.sample(PRIORITIES, 3)
        vp_reviewed = status in ("approved", "active", "closed")
        if stale:
            last_update = self.now - dt.timedelta(days=rng.randint(55, 80))
        elif status == "closed":
            last_update = self.now - dt.timedelta(days=rng.randint(90, 200))
        else:
            last_update = self.now - dt.timedelta(days=rng.randint(0, 12), hours=rng.randint(0, 20))
        self.plan_updates.append(
            (
                pid,
                template,
                "" if thin else _text("{account} wants to grow {area} services while holding drug spend flat.", fill),
                "" if thin else _text(POSITIONING, fill),
                _text(VALUE_PROPOSITION, fill),
                vp_reviewed,
                "" if thin else _text(STRATEGY, fill),
                last_update,
            )
        )
        for i, (title, description) in enumerate(priorities):
            self.add(
                CustomerPriority,
                pid,
                (self.new_id(CustomerPriority), self.now, self.now, pid, _text(title, fill), description, i < 2, i),
            )

        # SWOT, linked to the objectives each item drives
        swot_ids: list[tuple[int, str, str]] = []
        for kind, options in SWOT.items():
            if thin and kind == "threat":
                continue
            for i, (title, evidence) in enumerate(rng.sample(options, 2 if kind != "threat" else rng.randint(1, 2))):
                sid = self.new_id(SwotItem)
                classification = "commercial" if kind in ("weakness", "threat") and i == 0 else "joint"
                self.add(
                    SwotItem, pid, (sid, self.now, self.now, pid, kind, _text(title, fill), evidence, classification, i)
                )
                swot_ids.append((sid, kind, _text(title, fill)))
                for o in rng.sample(objectives, min(len(objectives), rng.randint(1, 2))) if objectives else []:
                    self.add(SwotObjective, pid, (self.new_id(SwotObjective), sid, o[0]))

        # goals → CSFs → key actions
        goal_specs = rng.sample(GOALS, 1 if thin else 2)
        csf_count = 0
        for g_pos, (goal_title, csfs) in enumerate(goal_specs):
            gid = self.new_id(Goal)
            self.add(Goal, pid, (gid, self.now, self.now, pid, _text(goal_title, fill), "", g_pos))
            for c_pos, (csf_title, key_actions) in enumerate(csfs):
                cid = self.new_id(CriticalSuccessFactor)
                self.add(
                    CriticalSuccessFactor, pid, (cid, self.now, self.now, pid, gid, csf_title, "", csf_count + c_pos)
                )
                for k_pos, title in enumerate(key_actions):
                    due = start + dt.timedelta(days=60 * (k_pos + 1) + 30 * c_pos)
                    done = status == "closed" or (status == "active" and due < self.gen.anchor and rng.random() < 0.8)
                    self.add(
                        KeyAction,
                        pid,
                        (self.new_id(KeyAction), self.now, self.now, cid, title, owner, due, done, k_pos),
                    )
            csf_count += len(csfs)
        if not thin:  # a CSF outside any chain
            self.add(
                CriticalSuccessFactor, pid, (self.new_id(CriticalSuccessFactor), self.now, self.now, pid, None,
                 "Executive sponsor at the customer", "A named sponsor in the C-suite who meets us each quarter",
                 csf_count)
            )  # fmt: skip

        # stages and steps, ticked as far as the plan got
        progress = {"draft": 0.25, "in_review": 0.6, "approved": 0.75, "active": 0.9, "closed": 1.0}[status]
        stages = self.stages.get(template or 0, [])
        total = sum(len(s[2]) for s in stages)
        done_until = int(total * progress)
        n = 0
        for s_pos, (name, description, steps) in enumerate(stages, start=1):
            stage_id = self.new_id(PlanStage)
            self.add(PlanStage, pid, (stage_id, self.now, self.now, pid, name, description, s_pos))
            for st_pos, title in enumerate(steps, start=1):
                done = n < done_until
                n += 1
                when = self.now - dt.timedelta(days=max(1, (total - n) * 4)) if done else None
                step = (self.new_id(PlanStep), self.now, self.now, stage_id, title, done, when, owner if done else None)
                self.add(PlanStep, pid, (*step, st_pos))

        # objectives of running plans: a mix of on track, at risk and off track (progress vs. time elapsed)
        if status in ("approved", "active"):
            for o in objectives:
                self.objective_progress(pid, o, start, rng)

        # shared with the customer: some objectives, joint actions and milestones
        for o in objectives:
            if rng.random() < 0.45:
                self.objective_shared.append(o[0])
        for i, a in enumerate(actions):
            milestone = i % 7 == 3
            shared = a[9] == "joint" and (milestone or rng.random() < 0.5)
            if milestone or shared:
                self.action_flags.append((a[0], milestone, shared))

        # reviews, snapshots, agreement
        lead = approved_by or self.gen.personas.get("lead")
        submitted = start - dt.timedelta(days=rng.randint(45, 60))
        if status != "draft":
            self.review(pid, "submit", owner, "Ready for review.", 2, submitted)
        if status == "draft" and not thin and rng.random() < 0.6:  # returned once, being fixed
            self.review(pid, "submit", owner, "", 2, self.now - dt.timedelta(days=9))
            self.review(pid, "return", lead, rng.choice(RETURN_COMMENTS), 3, self.now - dt.timedelta(days=7))
        if status in ("approved", "active", "closed"):
            if rng.random() < 0.4:
                self.review(pid, "return", lead, rng.choice(RETURN_COMMENTS), 3, submitted + dt.timedelta(days=3))
                self.review(
                    pid, "submit", owner, "Threats, targets and owners added.", 4, submitted + dt.timedelta(days=8)
                )
            when = approved_at or (submitted + dt.timedelta(days=12))
            self.review(pid, "approve", lead, rng.choice(APPROVE_COMMENTS), version, when)
            self.snapshot(pid, row, lead, when, fill, swot_ids, rng)
            shared_any = any(o[0] in self.objective_shared for o in objectives)
            if status == "active" and shared_any and rng.random() < 0.8:
                signer = self.sql(
                    "SELECT s.first_name, s.last_name, p.title, s.id FROM stakeholders_position p "
                    "JOIN stakeholders_stakeholder s ON s.id = p.stakeholder_id WHERE p.account_id = %s "
                    "AND p.valid_to IS NULL ORDER BY (p.role_in_decision = 'decision_maker') DESC, p.id LIMIT 1",
                    [account],
                )
                if signer:
                    first, last, title, sid = signer[0]
                    self.add(
                        CustomerAgreement, pid, (self.new_id(CustomerAgreement), self.now, self.now, pid,
                         (when + dt.timedelta(days=rng.randint(10, 30))).date(), f"{first} {last}", title, sid,
                         "Signed at the joint planning meeting.", version, owner)
                    )  # fmt: skip

    def objective_progress(self, pid: int, o: tuple[Any, ...], start: dt.date, rng: Any) -> None:
        base, target, due = o[4], o[5], o[7]
        if base is None or target is None or due is None or target == base:
            return
        span = max(1, (due - start).days)
        expected = max(0.0, min(1.0, (self.gen.anchor - start).days / span))
        state = rng.choices(("green", "amber", "red"), (60, 25, 15))[0]
        if state == "green":
            progress = 1.0 if expected >= 1 else min(1.0, expected + 0.05)
        elif state == "amber":
            progress = max(0.0, expected - 0.17) if expected < 1 else 0.9
        else:
            progress = max(0.0, expected - 0.35)
        current = (base + (target - base) * Decimal(str(round(progress, 3)))).quantize(Decimal("0.01"))
        self.objective_current[o[0]] = current

    def review(self, pid: int, kind: str, author: int | None, comment: str, version: int, when: Any) -> None:
        if author is None:
            return
        if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
            when = dt.datetime.combine(when, dt.time(11), tzinfo=self.gen.tz)
        self.add(PlanReview, pid, (self.new_id(PlanReview), when, when, pid, kind, author, comment, version))

    def snapshot(
        self, pid: int, row: tuple[Any, ...], lead: int | None, when: Any, fill: dict[str, str],
        swot_ids: list[tuple[int, str, str]], rng: Any,
    ) -> None:  # fmt: skip
        """The plan as it was at approval: objectives further from target, actions not started, the last SWOT
        item not there yet — so comparing it with today's plan shows what moved."""
        if lead is None:
            return
        _pid, _acc, _account_name, _type, status, owner, start, end, *_rest = row
        version = row[10]

        def d(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, Decimal):
                return str(value.quantize(Decimal("0.01")))
            return value.isoformat() if hasattr(value, "isoformat") else value

        actions_by_tactic: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for a in self.actions[pid]:
            actions_by_tactic[a[2]].append(
                {"id": a[0], "title": a[3], "description": "", "owner": self.user_names.get(a[7]),
                 "assignee": self.user_names.get(a[8]), "start_date": d(a[5]), "due_date": d(a[6]),
                 "status": "not_started" if a[4] in ("done", "in_progress") else a[4], "is_milestone": False,
                 "shared_with_customer": False}
            )  # fmt: skip
        tactics_by_objective: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for t in self.tactics[pid]:
            tactics_by_objective[t[2]].append(
                {"id": t[0], "title": t[3], "description": "", "owner": self.user_names.get(t[7]), "function": t[5],
                 "classification": t[4], "shared_with_customer": t[6], "actions": actions_by_tactic.get(t[0], [])}
            )  # fmt: skip
        objectives = []
        for o in self.objectives[pid]:
            base, target, current = o[4], o[5], self.objective_current.get(o[0], o[6])
            earlier = None
            if current is not None and base is not None:
                earlier = base + (current - base) * Decimal("0.4")
            objectives.append(
                {"id": o[0], "title": o[2], "description": "", "metric": o[3], "baseline": d(base),
                 "target": d(target), "current": d(earlier), "due_date": d(o[7]), "indicator": o[8],
                 "owner": self.user_names.get(o[9]), "shared_with_customer": False,
                 "tactics": tactics_by_objective.get(o[0], [])}
            )  # fmt: skip
        mine = self.by_plan[pid]
        links: dict[int, list[int]] = defaultdict(list)
        for x in mine[SwotObjective]:
            links[x[1]].append(x[2])
        key_actions: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for k in mine[KeyAction]:
            key_actions[k[3]].append(k)
        steps: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for x in mine[PlanStep]:
            steps[x[3]].append(x)
        swot_rows = mine[SwotItem][:-1]
        data = {
            "plan": {"name": row[11], "period_start": d(start), "period_end": d(end),
                     "owner": self.user_names.get(owner, ""), "status": "approved", "version": version,
                     "summary": row[12], "customer_priorities": "", "positioning": _text(POSITIONING, fill),
                     "value_proposition": _text(VALUE_PROPOSITION, fill), "value_proposition_reviewed": False,
                     "strategy": _text(STRATEGY, fill)},
            "customer_priorities": [
                {"id": r[0], "title": r[4], "description": r[5], "shared_with_customer": r[6]}
                for r in mine[CustomerPriority]
            ],
            "swot": [
                {"id": r[0], "kind": r[4], "title": r[5], "evidence": r[6], "classification": r[7],
                 "objective_ids": sorted(links[r[0]])}
                for r in swot_rows
            ],
            "goals": [{"id": r[0], "title": r[4], "description": r[5]} for r in mine[Goal]],
            "csfs": [
                {"id": r[0], "goal_id": r[4], "title": r[5], "description": r[6],
                 "key_actions": [{"id": k[0], "title": k[4], "owner": self.user_names.get(k[5]), "due_date": d(k[6]),
                                  "done": False} for k in key_actions[r[0]]]}
                for r in mine[CriticalSuccessFactor]
            ],
            "objectives": objectives,
            "stages": [
                {"id": s[0], "name": s[4],
                 "steps": [{"id": x[0], "title": x[4], "done": bool(x[5]) and x[8] == 1} for x in steps[s[0]]]}
                for s in mine[PlanStage]
            ],
        }  # fmt: skip
        if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
            when = dt.datetime.combine(when, dt.time(15), tzinfo=self.gen.tz)
        self.add(
            PlanSnapshot, pid, (self.new_id(PlanSnapshot), pid, 1, version, "approved", lead, when, json.dumps(data))
        )
        del status, rng

    # --- writing ------------------------------------------------------------------------------------------------
    def flush(self) -> None:
        with self.conn.cursor() as cur:
            if self.plan_updates:
                columns = list(zip(*self.plan_updates, strict=True))
                cur.execute(
                    "UPDATE plans_accountplan p SET template_id = u.t, customer_priorities = u.cp, "
                    "positioning = u.pos, value_proposition = u.vp, value_proposition_reviewed = u.vpr, "
                    "strategy = u.st, "
                    "last_meaningful_update_at = u.lu FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[], "
                    "%s::text[], %s::bool[], %s::text[], %s::timestamptz[]) AS u(id, t, cp, pos, vp, vpr, st, lu) "
                    "WHERE p.id = u.id",
                    [list(c) for c in columns],
                )
            if self.objective_current:
                ids, values = zip(*sorted(self.objective_current.items()), strict=True)
                cur.execute(
                    "UPDATE plans_objective o SET current = u.c FROM unnest(%s::bigint[], %s::numeric[]) AS u(id, c) "
                    "WHERE o.id = u.id",
                    [list(ids), list(values)],
                )
            if self.objective_shared:
                cur.execute(
                    "UPDATE plans_objective SET shared_with_customer = TRUE WHERE id = ANY(%s)", [self.objective_shared]
                )
            if self.action_flags:
                cur.execute(
                    "UPDATE plans_action x SET is_milestone = f.m, shared_with_customer = f.s "
                    "FROM unnest(%s::bigint[], %s::bool[], %s::bool[]) AS f(id, m, s) WHERE x.id = f.id",
                    [[a[0] for a in self.action_flags], [a[1] for a in self.action_flags],
                     [a[2] for a in self.action_flags]],
                )  # fmt: skip
        cols = {
            CustomerPriority: ("id", "created_at", "updated_at", "plan_id", "title", "description",
                               "shared_with_customer", "position"),
            SwotItem: ("id", "created_at", "updated_at", "plan_id", "kind", "title", "evidence", "classification",
                       "position"),
            SwotObjective: ("id", "swot_item_id", "objective_id"),
            Goal: ("id", "created_at", "updated_at", "plan_id", "title", "description", "position"),
            CriticalSuccessFactor: ("id", "created_at", "updated_at", "plan_id", "goal_id", "title", "description",
                                    "position"),
            KeyAction: ("id", "created_at", "updated_at", "csf_id", "title", "owner_id", "due_date", "done",
                        "position"),
            PlanStage: ("id", "created_at", "updated_at", "plan_id", "name", "description", "position"),
            PlanStep: ("id", "created_at", "updated_at", "stage_id", "title", "done", "done_at", "done_by_id",
                       "position"),
            PlanReview: ("id", "created_at", "updated_at", "plan_id", "kind", "author_id", "comment", "plan_version"),
            PlanSnapshot: ("id", "plan_id", "number", "plan_version", "status", "approved_by_id", "created_at",
                           "data"),
            CustomerAgreement: ("id", "created_at", "updated_at", "plan_id", "agreed_on", "signatory_name",
                                "signatory_title", "stakeholder_id", "note", "plan_version", "recorded_by_id"),
        }  # fmt: skip
        for model in SECTION.models:
            self.gen.write(model, cols[model], self.rows.get(model, []))


def build(gen: WorldGenerator) -> None:
    if getattr(gen.sink, "connection", None) is None:  # a dry run without a database: nothing to complete
        return
    with audit_action(actor=None, action="plans.template.install_defaults", reason="demo seed"):
        install_default_templates(using=gen.sink.connection.alias)  # type: ignore[attr-defined]  # a re-seed empties them
    b = _Builder(gen)
    b.load()
    big = gen.summary.big_plan_id
    if big:
        b.grow_big_plan(big)
    rng = gen.rng("plan_sections:stale")
    active = [p[0] for p in b.plans if p[4] == "active" and p[0] != big]
    stale = set(rng.sample(active, min(len(active), max(1, len(active) // 8)))) if active else set()
    for row in b.plans:
        b.plan(row, stale=row[0] in stale)
    b.flush()


SECTION = WorldSection(
    name="plan sections",
    models=(
        CustomerPriority,
        SwotItem,
        SwotObjective,
        Goal,
        CriticalSuccessFactor,
        KeyAction,
        PlanStage,
        PlanStep,
        PlanReview,
        PlanSnapshot,
        CustomerAgreement,
    ),
    build=build,
)
