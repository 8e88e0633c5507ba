"""Relationship reads: the relationship map of an account, its coverage analysis, assessment history, the
personal-data record of one stakeholder and the handover summary of an account.

Access: the account comes from ``account_get`` (out of scope → 404); everything below a visible account is
visible. Stances, influence, decision roles from assessments, relationship strengths, owners and judgement
links (influences, conflicts with) are commercial judgements: only readers who see commercial records get
them (``can_see_judgements``); a medical reader gets the organisation (people, positions, committees,
reports-to and peer links). A country's privacy rule hides stance labels and the direction of influence for
people of that country, whatever the reader.

An assessment belongs to the account it was made at. The map of an account shows, per person, the
assessment made at that account, else the one at the nearest account above it, else the most recent one
made at an account below it (``from_account`` tells which). Strengths and owners resolve the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from openkam.accounts.models import Account, qualified_name
from openkam.accounts.selectors import account_get, account_subtree
from openkam.activities.selectors import account_stakeholder_contacts
from openkam.core.access import sees_all_accounts
from openkam.core.errors import NotFound, ValidationFailed
from openkam.core.models import User
from openkam.relationships.models import (
    JUDGEMENT_LINK_KINDS,
    RELATIONSHIP_THRESHOLD,
    AssessmentOwner,
    CountryPrivacyRule,
    DecisionDomain,
    Influence,
    InfluenceLink,
    LinkKind,
    RelationshipSettings,
    RelationshipStrength,
    StakeholderAssessment,
    Stance,
    Strength,
)
from openkam.stakeholders.models import CommitteeRole, DecisionRole, Position
from openkam.stakeholders.selectors import (  # can_see_judgements: one rule for every app that shows people
    can_see_judgements,
    committees_deciding_for,
    stakeholder_get,
    stakeholder_scope,
)

KEY_ROLES = frozenset({DecisionRole.DECISION_MAKER, DecisionRole.APPROVER, DecisionRole.CHAMPION})
VACANCY_DAYS = 365  # a role ended longer ago than this is history, not a vacancy on the map
MAX_PER_CODE = 6  # findings of one kind listed one by one; the rest are counted in one line


def short_date(day: dt.date) -> str:
    """A date as the rest of the pages show it: the locale's short format (03/31/2026, 31.03.2026)."""
    return date_format(day, "SHORT_DATE_FORMAT")


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


# --- reference data and settings ------------------------------------------------------------------
def domain_list(*, actor: User | None = None, include_inactive: bool = False) -> list[DecisionDomain]:
    """The decision domains (standard first, then admin-defined), active ones unless ``include_inactive``."""
    qs = DecisionDomain.objects.all()
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("position", "name", "pk"))


def domain_label(domain: DecisionDomain) -> str:
    """The name to show: a standard domain's name in the reader's language (admin-defined ones as written)."""
    return _(domain.name) if domain.is_standard else domain.name


def domain_get(*, actor: User, domain_id: int) -> DecisionDomain:
    d = DecisionDomain.objects.filter(pk=domain_id).first()
    if d is None:
        raise NotFound(_("No such decision domain."), code="domain_not_found")
    return d


def settings_get() -> RelationshipSettings:
    """The coverage thresholds (the defaults when nobody has changed them)."""
    return RelationshipSettings.objects.filter(pk=1).first() or RelationshipSettings(pk=1)


def privacy_rule_list(*, actor: User) -> list[CountryPrivacyRule]:
    return list(CountryPrivacyRule.objects.order_by("country"))


def privacy_rules_for(countries: Iterable[str]) -> dict[str, CountryPrivacyRule]:
    wanted = sorted({c for c in countries if c})
    if not wanted:
        return {}
    return {r.country: r for r in CountryPrivacyRule.objects.filter(country__in=wanted)}


def privacy_rule_for(country: str) -> CountryPrivacyRule | None:
    return CountryPrivacyRule.objects.filter(country=(country or "").upper()).first()


# --- resolution of per-account rows ---------------------------------------------------------------
def _priority(account: Account) -> dict[int, int]:
    """Lower is better: the account itself, then its ancestors nearest first; accounts below come last."""
    order = {account.pk: 0}
    for i, a in enumerate(reversed(account.ancestors or []), start=1):
        order[a] = i
    return order


def _rank(order: dict[int, int], account_id: int) -> int:
    return order.get(account_id, 1000)


def _context_accounts_q(account: Account, field: str = "account_id") -> Q:
    return Q(**{f"{field}__in": account_subtree(account=account)}) | Q(
        **{f"{field}__in": list(account.ancestors or [])}
    )


# --- the map --------------------------------------------------------------------------------------
@dataclass
class MapFilters:
    department: int | None = None
    committee: int | None = None
    domain: int | None = None


def _user_name(u: dict[str, Any]) -> str:
    full = f"{u.get('first_name') or ''} {u.get('last_name') or ''}".strip()
    return full or u.get("username") or "?"


def _labels(choices: Any) -> dict[Any, str]:
    """Value → translated label of a choices class, once per call (``Choices(value).label`` costs per row)."""
    return {value: str(label) for value, label in choices.choices}


def relationship_map(
    *,
    actor: User,
    account_id: int,
    filters: MapFilters | None = None,
    with_contacts: bool = True,
    graph_only: bool = False,
    focus: int | None = None,
) -> dict[str, Any]:
    """Everything the relationship map of an account shows, as JSON-ready data, in a constant number of
    queries: people with a current position at the account or below (nodes), vacated roles, links between
    the people on the map, the assessment, owners and strengths of each person (for readers who may see
    judgements), our team members with a relationship, the committees deciding here, and last contact.

    ``filters`` keep the people of one department (an account below), one committee (current seat) or one
    decision domain (in their assessment); links are kept between the people left.

    ``graph_only`` (the graph's JSON): what only the page around the graph shows is left out — committees,
    departments, team names and the account's interaction total come back empty.

    ``focus`` (one person's side panel): only that person and the people they are linked with, and only the
    links of that person — the same data for them as the whole map gives, without reading the 2,000 others.
    Committees, departments and the interaction total are left out as with ``graph_only``.

    Built for 2,000 people and 10,000 links: every query fetches exactly the columns used, as tuples
    (``values_list``), and rows are folded into the result in one pass each."""
    account = account_get(actor=actor, account_id=account_id)
    filters = filters or MapFilters()
    judge = can_see_judgements(actor)
    today = timezone.localdate()
    order = _priority(account)
    subtree = account_subtree(account=account)
    role_labels = _labels(DecisionRole)
    seat_labels = _labels(CommitteeRole)
    extras = not graph_only and focus is None  # committees, departments, the interaction total
    positions = Position.objects.filter(account_id__in=subtree)  # type: ignore[misc]
    if focus is not None:
        focus_links = InfluenceLink.objects.filter(Q(from_stakeholder_id=focus) | Q(to_stakeholder_id=focus))
        if not judge:
            focus_links = focus_links.exclude(kind__in=sorted(JUDGEMENT_LINK_KINDS))
        near = {x for pair in focus_links.values_list("from_stakeholder_id", "to_stakeholder_id") for x in pair}
        positions = positions.filter(stakeholder_id__in=sorted(near | {focus}))

    # positions held now, or ended within VACANCY_DAYS (vacated roles), at the account and below
    pos_rows = list(
        positions.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today - dt.timedelta(days=VACANCY_DAYS)))
        .order_by("-is_primary", "account__depth", "valid_from", "pk")
        .values_list(
            "pk", "stakeholder_id", "account_id", "committee_id", "committee_role", "title", "role_in_decision",
            "valid_to", "account__name", "stakeholder__prefix", "stakeholder__first_name", "stakeholder__last_name",
            "stakeholder__credentials", "stakeholder__country", "stakeholder__privacy_restricted", "committee__name",
            "account__ancestors", "account__type", "account__parent__name", "committee_id",
        )
    )  # fmt: skip
    below_at = account.depth + 1  # index, in a deeper account's ancestors, of the child of this account above it

    def group_of(acc: int, ancestors: list[int] | None) -> int:
        """The account directly below the mapped one that ``acc`` belongs to (a hospital of an IDN, a department
        of a hospital), or the mapped account itself: how large maps are grouped."""
        if acc == account.pk:
            return acc
        return ancestors[below_at] if ancestors and len(ancestors) > below_at else acc

    people: dict[int, dict[str, Any]] = {}
    ended = []
    held: set[tuple[int, str]] = set()
    place: dict[int, str] = {}  # account id → its name with its hospital's ("Cardiology · Beacon General")

    def place_of(p: tuple[Any, ...]) -> str:
        name = place.get(p[2])
        if name is None:
            name = place[p[2]] = qualified_name(p[8], p[17], p[18])
        return name

    for p in pos_rows:
        pk, sid, acc, cid, crole, title, role, valid_to = p[:8]
        acc_name = place_of(p)
        if valid_to is not None and valid_to <= today:
            ended.append(p)
            continue
        held.add((acc, title))
        node = people.get(sid)
        if node is None:
            prefix, first, last, cred, country, restricted = p[9:15]
            name = " ".join(x for x in (prefix, first, last) if x)
            people[sid] = node = {
                "id": sid,
                "name": f"{name}, {cred}" if cred else name,
                "title": title,
                "account_id": acc,
                "account": acc_name,
                "position_id": pk,
                "position_role": role,
                "group_id": group_of(acc, p[16]),
                "country": country,
                "privacy_restricted": restricted,
                "accounts": {acc},
                "committees": [],
            }
        else:
            node["accounts"].add(acc)
        if cid:
            crole = crole or CommitteeRole.MEMBER
            node["committees"].append(
                {"id": cid, "name": p[15], "role": crole, "role_label": seat_labels.get(crole, crole),
                 "decision_role": role}
            )  # fmt: skip
            if node["position_role"] == DecisionRole.UNKNOWN:
                node["position_role"] = role
    vacancies = []
    for p in ended:
        pk, sid, acc, cid, crole, title, role, valid_to = p[:8]
        acc_name = place_of(p)
        if (acc, title) in held:
            continue
        held.add((acc, title))
        prefix, first, last, cred = p[9:13]
        name = " ".join(x for x in (prefix, first, last) if x)
        vacancies.append(
            {
                "position_id": pk,
                "title": title,
                "account_id": acc,
                "account": acc_name,
                "committee": p[15],
                "committee_id": cid,
                "group_id": group_of(acc, p[16]),
                "role": role,
                "role_label": role_labels.get(role, role),
                "since": valid_to.isoformat() if valid_to else None,
                "since_label": short_date(valid_to) if valid_to else "",
                "former_id": sid,
                "former": f"{name}, {cred}" if cred else name,
            }
        )

    ids = list(people)
    ctx = _context_accounts_q(account)
    # the people on the map as a subquery: 2,000 ids as query parameters cost more than the query itself.
    # DISTINCT lets PostgreSQL estimate the set (~2,000 people) and hash it; without it the planner walked
    # every position in the database once per link query (250 ms instead of 14 ms at 10,000 links).
    on_map: Any = (
        Position.objects.filter(account_id__in=subtree)  # type: ignore[misc]
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today))
        .order_by()
        .values("stakeholder_id")
        .distinct()
    )
    if focus is not None:
        on_map = ids  # a handful of people: plain parameters
    assessments: dict[int, tuple[Any, ...]] = {}
    owners: dict[int, list[int]] = defaultdict(list)
    strengths: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    if judge and ids:
        # current assessment per person: made here, else nearest above, else the most recent below. Rows come
        # newest first, so the first row of the best-ranked account wins (no timestamps to parse per row).
        best: dict[int, tuple[int, tuple[Any, ...]]] = {}
        for row in (
            StakeholderAssessment.objects.filter(ctx, stakeholder_id__in=on_map, superseded_at__isnull=True)
            .order_by("-effective_from", "-pk")
            .values_list(
                "stakeholder_id", "account_id", "decision_role", "domain_ids", "stance", "influence", "account__name",
                "account__type", "account__parent__name",
            )
        ):  # fmt: skip
            rank = order.get(row[1], 1000)
            if row[0] not in best or rank < best[row[0]][0]:
                best[row[0]] = (rank, row)
        assessments = {sid: row for sid, (_k, row) in best.items()}
        own_best: dict[int, int] = {}
        for sid, acc, uid in (
            AssessmentOwner.objects.filter(ctx, stakeholder_id__in=on_map)
            .order_by()
            .values_list("stakeholder_id", "account_id", "user_id")
        ):
            r = order.get(acc, 1000)
            if sid not in own_best or r < own_best[sid]:
                own_best[sid], owners[sid] = r, []
            if r == own_best[sid] and uid not in owners[sid]:
                owners[sid].append(uid)
        st_best: dict[tuple[int, int], int] = {}
        for sid, acc, uid, cur, des in (
            RelationshipStrength.objects.filter(ctx, stakeholder_id__in=on_map)
            .order_by("-updated_at", "-pk")
            .values_list("stakeholder_id", "account_id", "user_id", "current", "desired")
        ):
            rank = order.get(acc, 1000)
            if (sid, uid) not in st_best or rank < st_best[(sid, uid)]:
                st_best[(sid, uid)] = rank
                strengths[sid][uid] = (cur, des)

    rules = privacy_rules_for(n["country"] for n in people.values())
    domains = domain_list(actor=actor, include_inactive=True)
    domain_names = {d.pk: domain_label(d) for d in domains}
    contacts: dict[int, tuple[dt.date, int]] = {}
    interactions_12m = 0
    if with_contacts and ids:
        since = timezone.now() - dt.timedelta(days=365)
        contacts, interactions_12m = account_stakeholder_contacts(
            actor=actor, account=account, since=since, with_total=extras,
            stakeholder_ids=ids if focus is not None else None,
        )  # fmt: skip

    # links between the people on the map (both ends current here)
    links: list[dict[str, Any]] = []
    if ids:
        link_qs = InfluenceLink.objects.filter(from_stakeholder_id__in=on_map, to_stakeholder_id__in=on_map)
        if focus is not None:
            link_qs = link_qs.filter(Q(from_stakeholder_id=focus) | Q(to_stakeholder_id=focus))
        if not judge:
            link_qs = link_qs.exclude(kind__in=sorted(JUDGEMENT_LINK_KINDS))
        no_direction = {c for c, r in rules.items() if not r.allow_directional_influence}
        hidden = {sid for sid, n in people.items() if n["country"] in no_direction} if no_direction else set()
        influences = LinkKind.INFLUENCES
        for pk, a, b, kind, strength, directional in link_qs.order_by().values_list(
            "pk", "from_stakeholder_id", "to_stakeholder_id", "kind", "strength", "directional"
        ):
            if directional and hidden and kind == influences and (a in hidden or b in hidden):
                directional = False
            links.append(
                {"id": pk, "source": a, "target": b, "kind": kind, "strength": strength, "directional": directional}
            )

    # team members with a relationship or ownership (coverage matrix columns)
    team_ids = sorted({u for per in strengths.values() for u in per} | {u for us in owners.values() for u in us})
    users: dict[int, dict[str, Any]] = (
        {}
        if graph_only
        else {
            u["pk"]: dict(u)
            for u in User.objects.filter(pk__in=team_ids).values(
                "pk", "username", "first_name", "last_name", "is_active"
            )
        }
    )

    stance_labels = _labels(Stance)
    influence_labels = _labels(Influence)
    no_stance = {c for c, r in rules.items() if not r.allow_stance}
    nodes = []
    for sid, n in people.items():
        asm = assessments.get(sid)
        stance_allowed = n["country"] not in no_stance
        last_day, recent = contacts.get(sid, (None, 0))
        last_contact = last_day.isoformat() if last_day is not None else None
        node = {
            "id": sid,
            "name": n["name"],
            "title": n["title"],
            "account_id": n["account_id"],
            "account": n["account"],
            "group_id": n["group_id"],
            "inherited": n["account_id"] != account.pk,
            "position_id": n["position_id"],
            "accounts": sorted(n["accounts"]),
            "committees": n["committees"],
            "privacy_restricted": n["privacy_restricted"],
            "stance_allowed": stance_allowed,
            "last_contact": last_contact,
            "interactions_12m": recent,
            "assessed": asm is not None,
        }
        if judge:
            per_user = strengths.get(sid, {})
            if asm is not None:
                _sid, at_id, a_role, a_domains, a_stance, a_influence, at_name, at_type, at_parent = asm
                at_name = qualified_name(at_name, at_type, at_parent)
                role = a_role if a_role != DecisionRole.UNKNOWN else n["position_role"]
                stance = a_stance if stance_allowed else None
                node.update(
                    role=role,
                    role_label=role_labels.get(role, role),
                    stance=stance,
                    stance_label=stance_labels.get(stance) if stance is not None else None,
                    influence=a_influence,
                    influence_label=influence_labels.get(a_influence) if a_influence else None,
                    domains=list(a_domains),
                    domain_names=[domain_names.get(d, "?") for d in a_domains],
                    assessed_at=at_id,
                    assessed_at_name=at_name,
                )
            else:
                role = n["position_role"]
                node.update(
                    role=role, role_label=role_labels.get(role, role), stance=None, stance_label=None,
                    influence=None, influence_label=None, domains=[], domain_names=[], assessed_at=None,
                    assessed_at_name=None,
                )  # fmt: skip
            node.update(
                owners=owners.get(sid, []),
                strengths={str(u): list(v) for u, v in per_user.items()},
                best_strength=max((c for c, _d in per_user.values()), default=None),
            )
        nodes.append(node)

    # filters
    keep: set[int] | None = None
    if filters.department:
        dept = Account.objects.filter(pk=filters.department).filter(
            Q(pk=account.pk) | Q(ancestors__contains=[account.pk])
        )
        below = (
            set(
                Account.objects.filter(
                    Q(pk__in=dept.values("pk")) | Q(ancestors__contains=[filters.department])
                ).values_list("pk", flat=True)
            )
            if dept.exists()
            else set()
        )
        keep = {n["id"] for n in nodes if below.intersection(n["accounts"])}
    if filters.committee:
        members = {n["id"] for n in nodes if any(c["id"] == filters.committee for c in n["committees"])}
        keep = members if keep is None else keep & members
    if filters.domain and judge:
        in_domain = {n["id"] for n in nodes if filters.domain in n.get("domains", [])}
        keep = in_domain if keep is None else keep & in_domain
    if keep is not None:
        nodes = [n for n in nodes if n["id"] in keep]
        links = [lk for lk in links if lk["source"] in keep and lk["target"] in keep]
        # vacated roles follow the filters too: at the department (or below), with the committee's seat; a vacancy
        # belongs to no decision domain (the role's domains are the successor's to be assessed)
        if filters.department:
            vacancies = [v for v in vacancies if v["account_id"] in below]
        if filters.committee:
            vacancies = [v for v in vacancies if v["committee_id"] == filters.committee]
        if filters.domain and judge:
            vacancies = []

    nodes.sort(key=lambda n: (-(n.get("influence") or 0), n["name"]))
    committees = (
        []
        if not extras
        else [
            {
                "id": c.pk,
                "name": c.name,
                "account": c.account.qualified_name,
                "kind": c.kind,
                "member_count": c.member_count,  # type: ignore[attr-defined]
                "next_meeting": c.next_meeting.isoformat() if c.next_meeting else None,
            }
            for c in committees_deciding_for(actor=actor, account=account, include_below=True)
        ]
    )
    departments = [] if not extras else _departments(account)
    groups = [{"id": account.pk, "name": account.name}] + [
        {"id": pk, "name": name}
        for pk, name in Account.objects.filter(parent_id=account.pk).order_by("name", "pk").values_list("pk", "name")
    ]
    return {
        "account": {
            "id": account.pk,
            "name": account.name,
            "country": account.country,
            "ancestors": list(account.ancestors or []),
        },
        "judgements": judge,
        "nodes": nodes,
        "links": links,
        "vacancies": vacancies,
        "team": [
            {"id": uid, "name": _user_name(users[uid]), "active": users[uid]["is_active"]}
            for uid in team_ids
            if uid in users
        ],
        "committees": committees,
        "domains": [{"id": d.pk, "name": domain_label(d), "active": d.is_active} for d in domains],
        "departments": departments,
        "groups": groups,
        "filters": {"department": filters.department, "committee": filters.committee, "domain": filters.domain},
        "interactions_12m": interactions_12m,
    }


def _departments(account: Account) -> list[dict[str, Any]]:
    """The accounts below ``account`` for the department filter, each named with its hospital ("Cardiology ·
    Beacon General") and listed under the account directly below the mapped one it belongs to (a hospital,
    then its departments by name), so one hospital's departments sit together. One query."""
    rows = list(
        Account.objects.filter(ancestors__contains=[account.pk])
        .order_by()
        .values_list("pk", "name", "type", "parent__name", "depth", "ancestors")
    )
    below_at = account.depth + 1
    names = {pk: name for pk, name, *_rest in rows}

    def key(r: tuple[Any, ...]) -> tuple[Any, ...]:
        pk, name, _t, _p, depth, ancestors = r
        top = ancestors[below_at] if ancestors and len(ancestors) > below_at else pk
        return (names.get(top, "").casefold(), top, depth != account.depth + 1, name.casefold(), pk)

    return [{"id": r[0], "name": qualified_name(r[1], r[2], r[3])} for r in sorted(rows, key=key)]


def org_chart(*, map_data: dict[str, Any]) -> list[dict[str, Any]]:
    """Trees built from reports-to links of the map (roots: people who report to nobody on the map but
    have someone reporting to them), as nested ``{"name", "id", "children"}`` for an ECharts tree."""
    names = {n["id"]: n for n in map_data["nodes"]}
    boss: dict[int, int] = {}
    for lk in map_data["links"]:
        if lk["kind"] == LinkKind.REPORTS_TO and lk["source"] not in boss:
            boss[lk["source"]] = lk["target"]
    children: dict[int, list[int]] = defaultdict(list)
    for sub, sup in boss.items():
        children[sup].append(sub)

    def build(pid: int, seen: frozenset[int]) -> dict[str, Any]:
        n = names[pid]
        kids = [
            build(c, seen | {c}) for c in sorted(children.get(pid, []), key=lambda x: names[x]["name"]) if c not in seen
        ]
        return {"id": pid, "name": n["name"], "title": n["title"], "stance": n.get("stance"), "children": kids}

    roots = [p for p in children if p not in boss or boss[p] not in names]
    # cycles of reports-to (bad data) still show: pick the smallest id of a cycle as root
    reached: set[int] = set()

    def mark(pid: int) -> None:
        stack = [pid]
        while stack:
            x = stack.pop()
            if x in reached:
                continue
            reached.add(x)
            stack.extend(children.get(x, []))

    for r in roots:
        mark(r)
    for p in sorted(children):
        if p not in reached:
            roots.append(p)
            mark(p)
    return [build(r, frozenset({r})) for r in sorted(roots, key=lambda x: -len(children.get(x, [])))]


# --- coverage -------------------------------------------------------------------------------------
CENTRALITY_SAMPLES = 32  # betweenness pivots on networks larger than this (seeded: same data, same answer)
CENTRALITY_SEED = 7
_CENTRALITY_VERSION = 2  # bump when the algorithm changes: cached results of the old one are not reused


def _pagerank(n: int, edges: list[tuple[int, int, float]], alpha: float = 0.85, tol: float = 1.0e-6) -> list[float]:
    """PageRank by power iteration over ``edges`` (u votes for v with weight w) of nodes ``0..n-1``: the
    algorithm of ``networkx.pagerank`` (same damping, dangling nodes spread evenly, same stop rule: L1 change
    < n × tol), on plain lists of in-edges with pre-divided weights instead of dict-of-dict graphs
    (``networkx.pagerank`` itself needs SciPy, which we do not ship)."""
    if n == 0:
        return []
    out_weight = [0.0] * n
    for u, _v, w in edges:
        out_weight[u] += w
    incoming: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for u, v, w in edges:
        incoming[v].append((u, w / out_weight[u]))
    dangling = [u for u in range(n) if out_weight[u] == 0]
    rank = [1.0 / n] * n
    for _i in range(100):
        last = rank
        base = (1.0 - alpha) / n + alpha * sum(last[u] for u in dangling) / n
        rank = [base + alpha * sum(last[u] * w for u, w in ins) for ins in incoming]
        if sum(abs(x - y) for x, y in zip(rank, last, strict=True)) < n * tol:
            break
    return rank


def _betweenness(adjacency: list[list[int]], sources: Iterable[int]) -> list[float]:
    """Brandes' accumulation of shortest-path betweenness (unweighted, undirected) from ``sources``:
    a breadth-first search per source on integer adjacency lists (predecessors are the neighbours one level
    up, so no per-node predecessor lists are built), then the dependencies summed back level by level."""
    n = len(adjacency)
    bc = [0.0] * n
    for s in sources:
        sigma = [0] * n
        dist = [-1] * n
        sigma[s], dist[s] = 1, 0
        seen = [s]
        i = 0
        while i < len(seen):
            v = seen[i]
            i += 1
            dv, sv = dist[v] + 1, sigma[v]
            for w in adjacency[v]:
                dw = dist[w]
                if dw < 0:
                    dist[w] = dv
                    sigma[w] = sv
                    seen.append(w)
                elif dw == dv:
                    sigma[w] += sv
        delta = [0.0] * n
        for w in reversed(seen):
            coeff = (1.0 + delta[w]) / sigma[w]
            up = dist[w] - 1
            for v in adjacency[w]:
                if dist[v] == up:
                    delta[v] += sigma[v] * coeff
        delta[s] = 0.0
        for w in seen:
            bc[w] += delta[w]
    return bc


def _centrality_compute(
    ids: list[int], links: list[tuple[int, int, str, int, bool]], samples: int
) -> dict[int, tuple[float, float]]:
    index = {sid: i for i, sid in enumerate(ids)}
    n = len(ids)
    edges: dict[tuple[int, int], float] = defaultdict(float)  # parallel links add up (order does not matter)
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for a_id, b_id, kind, strength, directional in links:
        if kind == LinkKind.CONFLICTS_WITH:
            continue  # a conflict carries no influence
        a, b, w = index[a_id], index[b_id], float(strength)
        neighbours[a].add(b)
        neighbours[b].add(a)
        if not directional:
            edges[(a, b)] += w
            edges[(b, a)] += w
        elif kind == LinkKind.INFLUENCES:  # a influences b: b's vote points to a
            edges[(b, a)] += w
        else:  # reports to: the report points to the boss
            edges[(a, b)] += w
    pr = _pagerank(n, [(u, v, w) for (u, v), w in edges.items()])
    bc = [0.0] * n
    if any(neighbours):
        adjacency = [sorted(x) for x in neighbours]
        if n > samples:
            sources: list[int] = random.Random(CENTRALITY_SEED).sample(range(n), samples)
            scale = n / samples
        else:
            sources, scale = list(range(n)), 1.0
        raw = _betweenness(adjacency, sources)
        if n > 2:
            scale /= (n - 1) * (n - 2)
            bc = [x * scale for x in raw]
    return {sid: (pr[i], bc[i]) for i, sid in enumerate(ids)}


def network_centrality(
    *, nodes: list[int], links: list[dict[str, Any]], samples: int = CENTRALITY_SAMPLES
) -> dict[int, dict[str, float]]:
    """PageRank (influence flows to whom people report and from whom they are influenced; conflicts carry
    none) and betweenness (who bridges groups) per person, normalised like networkx.

    Betweenness is exact up to ``samples`` people; on larger networks it is estimated from ``samples``
    source people drawn with a fixed seed (Brandes–Pich: the sum of dependencies from k random sources,
    scaled by n/k, is an unbiased estimate; the people who bridge groups — the ones the coverage analysis
    flags — come out on top). Same data, same answer.

    Computed once per data version: the result is cached under a digest of exactly what it depends on (the
    people and every link's ends, kind, strength and direction), so any change is a different key — a stale
    result is never served — and repeated reads of an unchanged network cost a digest and a cache get."""
    present = set(nodes)
    ids = sorted(present)
    rows = sorted(
        (lk["source"], lk["target"], str(lk["kind"]), int(lk["strength"]), bool(lk["directional"]))
        for lk in links
        if lk["source"] in present and lk["target"] in present
    )
    digest = hashlib.blake2b(repr((_CENTRALITY_VERSION, samples, ids, rows)).encode(), digest_size=20).hexdigest()
    key = f"relationships:centrality:{digest}"
    result: dict[int, tuple[float, float]] | None = cache.get(key)
    if result is None:
        result = _centrality_compute(ids, rows, samples)
        cache.set(key, result, timeout=24 * 3600)
    return {sid: {"pagerank": result[sid][0], "betweenness": result[sid][1]} for sid in nodes}


def _url(name: str, *args: Any, query: str = "") -> str:
    return reverse(name, args=args) + (f"?{query}" if query else "")


def relationship_coverage(
    *,
    actor: User,
    account_id: int,
    internal_share: int | None = None,
    stakeholder_share: int | None = None,
    key_person_days: int | None = None,
    map_data: dict[str, Any] | None = None,
    expand: str | None = None,
) -> dict[str, Any]:
    """Coverage of an account's decision-makers by our team, with plain-language findings — each naming the
    place to fix it (``url``). Thresholds default to the relationship settings. Findings (``code``):

    ``committee_no_decision_maker``, ``domain_unmapped``, ``domain_no_relationship``,
    ``champion_single_contact``, ``blocker_outranks``, ``single_threaded_member``,
    ``single_threaded_stakeholder``, ``key_person_left``, ``key_person_not_reached``, ``hidden_influencer``.

    More than ``MAX_PER_CODE`` findings of one kind are cut to that many plus one "… and N more" line whose link
    lists them all (the map with ``?finding=<code>``); ``expand`` (a code) lists every finding of that kind.

    Readers who may not see judgements (medical) get the counts of the organisation only, no findings."""
    settings = settings_get()
    internal_share = internal_share if internal_share is not None else settings.internal_share_limit
    stakeholder_share = stakeholder_share if stakeholder_share is not None else settings.stakeholder_share_limit
    key_person_days = key_person_days if key_person_days is not None else settings.key_person_days
    for field, value, lo, hi in (
        ("internal_share", internal_share, 1, 100),
        ("stakeholder_share", stakeholder_share, 1, 100),
        ("key_person_days", key_person_days, 1, 3650),
    ):
        if not isinstance(value, int) or not lo <= value <= hi:
            raise ValidationFailed(
                _("%(f)s must be a whole number from %(lo)s to %(hi)s.") % {"f": field, "lo": lo, "hi": hi},
                field=field,
                code="out_of_range",
            )
    m = map_data if map_data is not None else relationship_map(actor=actor, account_id=account_id)
    account = m["account"]
    aid = account["id"]
    nodes = m["nodes"]
    judge = m["judgements"]
    summary: dict[str, Any] = {
        "people": len(nodes),
        "vacancies": len(m["vacancies"]),
        "committees": len(m["committees"]),
        "links": len(m["links"]),
    }
    if not judge:
        return {"account": account, "summary": summary, "findings": [], "judgements": False, "thresholds": {}}

    today = timezone.localdate()
    map_url = _url("relationships:map", aid)
    covered = {n["id"] for n in nodes if (n["best_strength"] or 0) >= RELATIONSHIP_THRESHOLD}
    by_id = {n["id"]: n for n in nodes}
    team = {t["id"]: t["name"] for t in m["team"]}
    findings: list[dict[str, Any]] = []

    def add(code: str, severity: str, text: str, url: str, action: str, **extra: Any) -> None:
        findings.append({"code": code, "severity": severity, "text": text, "url": url, "action": action, **extra})

    def edit_url(sid: int) -> str:
        return _url("relationships:map", aid, query=f"edit={sid}")

    # 1. committees with no identified decision maker. A committee deciding here may sit above the account (a
    # system P&T decides for every member hospital) with its members at the IDN, not on this account's map: its
    # members are counted wherever they sit (two queries for all committees). A decision maker = seat role, or the
    # current assessment that resolves for this account (on the map), or for a member off the map a current
    # assessment made at this account, above it or below it.
    cids = [c["id"] for c in m["committees"]]
    seats_of: dict[int, list[tuple[int, str]]] = defaultdict(list)
    off_map_deciders: set[int] = set()
    if cids:
        for cid, sid, role in (
            Position.objects.filter(committee_id__in=cids)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today))
            .order_by()
            .values_list("committee_id", "stakeholder_id", "role_in_decision")
        ):
            seats_of[cid].append((sid, role))
        off_map = sorted({sid for seats in seats_of.values() for sid, _r in seats if sid not in by_id})
        if off_map:
            context = Q(account_id__in=account_subtree(account=aid)) | Q(account_id__in=account.get("ancestors", []))
            off_map_deciders = set(
                StakeholderAssessment.objects.filter(
                    context, stakeholder_id__in=off_map, superseded_at__isnull=True,
                    decision_role=DecisionRole.DECISION_MAKER,
                ).values_list("stakeholder_id", flat=True)
            )  # fmt: skip
    for c in m["committees"]:
        seats = seats_of.get(c["id"], [])
        deciders = [
            sid
            for sid, role in seats
            if role == DecisionRole.DECISION_MAKER
            or (by_id[sid]["role"] == DecisionRole.DECISION_MAKER if sid in by_id else sid in off_map_deciders)
        ]
        if not deciders:
            members_n = len({sid for sid, _r in seats})
            text = (
                _("Nobody on “%(c)s” (%(n)s current members) is identified as a decision maker.")
                % {"c": c["name"], "n": members_n}
                if seats
                else _("“%(c)s” decides for this account but we know none of its members.") % {"c": c["name"]}
            )
            add(
                "committee_no_decision_maker",
                "high",
                text,
                _url("stakeholders:committee_detail", c["id"]),
                _("Open the committee") if seats else _("Seat its members"),
                committee_id=c["id"],
                members=members_n,
            )

    # 2. decision domains without anyone mapped, or without a relationship
    for d in m["domains"]:
        if not d["active"]:
            continue
        in_domain = [n for n in nodes if d["id"] in n["domains"]]
        url = _url("relationships:map", aid, query=f"domain={d['id']}")
        if not in_domain:
            add(
                "domain_unmapped",
                "medium",
                _("Nobody is mapped to the %(d)s decisions of this account.") % {"d": d["name"]},
                map_url,
                _("Assess who decides on it"),
                domain_id=d["id"],
            )
        elif not any(n["id"] in covered for n in in_domain):
            weak = any(n["best_strength"] for n in in_domain)  # a weak relationship is not one we can rely on
            add(
                "domain_no_relationship",
                "high",
                (
                    ngettext(
                        "We have only weak relationships in the %(d)s domain (%(n)s person mapped).",
                        "We have only weak relationships in the %(d)s domain (%(n)s people mapped).",
                        len(in_domain),
                    )
                    if weak
                    else ngettext(
                        "We have no relationship with anyone in the %(d)s domain (%(n)s person mapped).",
                        "We have no relationship with anyone in the %(d)s domain (%(n)s people mapped).",
                        len(in_domain),
                    )
                )
                % {"d": d["name"], "n": len(in_domain)},
                url,
                _("See the people of this domain"),
                domain_id=d["id"],
            )

    # 3. champions known by one team member only
    for n in nodes:
        if n["role"] != DecisionRole.CHAMPION:
            continue
        knowers = [int(u) for u, (cur, _des) in n["strengths"].items() if cur >= RELATIONSHIP_THRESHOLD]
        if len(knowers) == 1:
            add(
                "champion_single_contact",
                "medium",
                _("Champion %(p)s is known only by %(u)s: add a second contact.")
                % {"p": n["name"], "u": team.get(knowers[0], "?")},
                edit_url(n["id"]),
                _("Add a relationship"),
                stakeholder_id=n["id"],
            )

    # 4. blockers who outrank all our contacts
    contact_influence = max((by_id[s]["influence"] or 0 for s in covered), default=0)
    for n in nodes:
        if n["role"] == DecisionRole.BLOCKER and (n["influence"] or 0) > contact_influence and n["id"] not in covered:
            add(
                "blocker_outranks",
                "high",
                _("Blocker %(p)s (influence %(i)s) outranks every one of our contacts (highest: %(c)s).")
                % {
                    "p": n["name"],
                    "i": n["influence_label"] or "?",
                    "c": _label(Influence, contact_influence) if contact_influence else _("none"),
                },
                edit_url(n["id"]),
                _("Plan access to them"),
                stakeholder_id=n["id"],
            )

    # 5a. single-threading: one team member holds too many of the relationships
    holders: Counter[int] = Counter()
    for n in nodes:
        for u, (cur, _des) in n["strengths"].items():
            if cur >= RELATIONSHIP_THRESHOLD:
                holders[int(u)] += 1
    total_rel = sum(holders.values())
    if total_rel >= 3 and holders:
        uid, count = holders.most_common(1)[0]
        share = round(100 * count / total_rel)
        if share > internal_share:
            add(
                "single_threaded_member",
                "high",
                _("%(u)s holds %(s)s%% of this account's relationships (%(c)s of %(t)s; limit %(l)s%%).")
                % {"u": team.get(uid, "?"), "s": share, "c": count, "t": total_rel, "l": internal_share},
                _url("relationships:map", aid, query="view=matrix"),
                _("Open the coverage matrix"),
                user_id=uid,
                share=share,
            )

    # 5b. single-threading: one stakeholder receives too many of our interactions (last 12 months)
    total = m["interactions_12m"]
    busiest = max(nodes, key=lambda n: (n["interactions_12m"], -n["id"]), default=None)
    if total >= 5 and busiest is not None:
        sid, count = busiest["id"], busiest["interactions_12m"]
        share = round(100 * count / total)
        if share > stakeholder_share:
            name = busiest["name"]
            add(
                "single_threaded_stakeholder",
                "high",
                _(
                    "%(p)s took part in %(s)s%% of our interactions with this account in the last 12 months "
                    "(%(c)s of %(t)s; limit %(l)s%%)."
                )
                % {"p": name, "s": share, "c": count, "t": total, "l": stakeholder_share},
                map_url,
                _("Broaden the contacts"),
                stakeholder_id=sid,
                share=share,
            )

    # 6. key-person risk: a key role vacated, a key person not reached
    for v in m["vacancies"]:
        if v["role"] in KEY_ROLES or v["committee"]:
            add(
                "key_person_left",
                "high",
                _("%(p)s left the role “%(t)s” at %(a)s on %(d)s: name the successor.")
                % {"p": v["former"], "t": v["title"], "a": v["account"], "d": v["since_label"]},
                _url("relationships:succeed", aid, v["position_id"]),
                _("Name the successor"),
                position_id=v["position_id"],
            )
    limit = today - dt.timedelta(days=key_person_days)
    for n in nodes:
        key = n["role"] in KEY_ROLES or (n["influence"] or 0) >= Influence.HIGH
        if not key:
            continue
        last = dt.date.fromisoformat(n["last_contact"]) if n["last_contact"] else None
        if last is None or last < limit:
            text = (
                _("Key person %(p)s has not been reached for %(d)s days (last contact %(l)s).")
                % {"p": n["name"], "d": (today - last).days, "l": short_date(last)}
                if last
                else _("Key person %(p)s has never been reached.") % {"p": n["name"]}
            )
            add(
                "key_person_not_reached",
                "medium",
                text,
                _url("activities:create", query=f"account={n['account_id']}&stakeholder={n['id']}"),
                _("Log or plan a contact"),
                stakeholder_id=n["id"],
            )

    # 7. hidden influencers: central in the network, nobody of ours knows them
    centrality = network_centrality(nodes=[n["id"] for n in nodes], links=m["links"])
    if len(nodes) >= 4 and m["links"]:
        mean_pr = 1.0 / len(nodes)
        ranked = sorted(centrality.items(), key=lambda kv: -kv[1]["pagerank"])
        top_n = max(3, math.ceil(len(nodes) * 0.1))
        top_pr = {sid for sid, _c in ranked[:top_n] if _c["pagerank"] >= 1.5 * mean_pr}
        by_bc = sorted(centrality.items(), key=lambda kv: -kv[1]["betweenness"])
        top_bc = {sid for sid, c in by_bc[:top_n] if c["betweenness"] > 0}
        pr_rank = {sid: i for i, (sid, _c) in enumerate(ranked, start=1)}
        hidden = [sid for sid in top_pr | top_bc if sid not in covered]
        for sid in sorted(hidden, key=lambda s: pr_rank[s])[:5]:
            n = by_id[sid]
            add(
                "hidden_influencer",
                "medium",
                (
                    _(
                        "%(p)s is among the most connected people in this account's network (influence rank %(r)s of "
                        "%(t)s) but our team has only a weak relationship with them."
                    )
                    if n["best_strength"]
                    else _(
                        "%(p)s is among the most connected people in this account's network (influence rank %(r)s of "
                        "%(t)s) but none of our team has a relationship with them."
                    )
                )
                % {"p": n["name"], "r": pr_rank[sid], "t": len(nodes)},
                edit_url(sid),
                _("Add a relationship"),
                stakeholder_id=sid,
                pagerank=round(centrality[sid]["pagerank"], 5),
                betweenness=round(centrality[sid]["betweenness"], 5),
            )

    severity = {"high": 0, "medium": 1, "low": 2}
    findings.sort(key=lambda f: severity[f["severity"]])
    counts = Counter(f["code"] for f in findings)
    if max(counts.values(), default=0) > MAX_PER_CODE:  # many of a kind: the first few, then one line for the rest
        shown: Counter[str] = Counter()
        capped = []
        for f in findings:
            shown[f["code"]] += 1
            if shown[f["code"]] <= MAX_PER_CODE or f["code"] == expand:
                capped.append(f)
            elif shown[f["code"]] == MAX_PER_CODE + 1:
                rest = counts[f["code"]] - MAX_PER_CODE
                capped.append(
                    {
                        "code": f["code"],
                        "severity": f["severity"],
                        "more": rest,
                        "url": _url("relationships:map", aid, query=f"finding={f['code']}") + "#findings",
                        "action": _("List all of them"),
                        "text": _("… and %(n)s more like this.") % {"n": rest},
                    }
                )
        findings = capped
    summary["finding_counts"] = dict(counts)
    assessed = [n for n in nodes if n["assessed"]]
    summary.update(
        {
            "assessed": len(assessed),
            "covered": len(covered),
            "coverage_pct": round(100 * len(covered) / len(nodes)) if nodes else 0,
            "decision_makers": sum(1 for n in nodes if n["role"] == DecisionRole.DECISION_MAKER),
            "decision_makers_covered": sum(
                1 for n in nodes if n["role"] == DecisionRole.DECISION_MAKER and n["id"] in covered
            ),
            "stances": {str(s.value): sum(1 for n in nodes if n["stance"] == s.value) for s in Stance},
            "team": len(m["team"]),
            "findings": sum(counts.values()),
        }
    )
    top = sorted(centrality.items(), key=lambda kv: -kv[1]["pagerank"])[:10]
    return {
        "account": account,
        "judgements": True,
        "summary": summary,
        "findings": findings,
        "expanded": expand if expand in counts and counts[expand] > MAX_PER_CODE else None,
        "expanded_count": counts.get(expand, 0) if expand else 0,
        "thresholds": {
            "internal_share": internal_share,
            "stakeholder_share": stakeholder_share,
            "key_person_days": key_person_days,
        },
        "central": [
            {"id": sid, "name": by_id[sid]["name"], **{k: round(v, 5) for k, v in c.items()}}
            for sid, c in top
            if sid in by_id
        ],
    }


# --- one stakeholder at one account -----------------------------------------------------------------
def assessment_current(*, actor: User, account_id: int, stakeholder_id: int) -> StakeholderAssessment | None:
    """The current assessment made at this account (not resolved from others), or None."""
    account = account_get(actor=actor, account_id=account_id)
    stakeholder_get(actor=actor, stakeholder_id=stakeholder_id)
    return StakeholderAssessment.objects.filter(
        account_id=account.pk, stakeholder_id=stakeholder_id, superseded_at__isnull=True
    ).first()


def assessment_history(*, actor: User, account_id: int, stakeholder_id: int) -> list[StakeholderAssessment]:
    """Every version of the assessment of a stakeholder at an account and the accounts above it, newest
    first (with who recorded it) — the movement of the stakeholder over time."""
    if not can_see_judgements(actor):
        return []
    account = account_get(actor=actor, account_id=account_id)
    stakeholder_get(actor=actor, stakeholder_id=stakeholder_id)
    return list(
        StakeholderAssessment.objects.filter(
            Q(account_id=account.pk) | Q(account_id__in=list(account.ancestors or [])), stakeholder_id=stakeholder_id
        )
        .select_related("recorded_by", "account__parent")
        .order_by("-effective_from", "-pk")
    )


def map_people(
    *, actor: User, account_id: int, q: str = "", near: int | None = None, limit: int | None = None
) -> tuple[list[tuple[int, str]], int]:
    """The people on an account's map (a current position at the account or below) as ``(id, "Name — title ·
    account")`` choices, by name, and how many there are in all; for picking the other end of a link.

    ``q`` keeps those whose name, title or account contains every word; ``near`` puts the people who share an
    account with that person first (the likely colleagues); ``limit`` cuts the list (the count is before it)."""
    account = account_get(actor=actor, account_id=account_id)
    today = timezone.localdate()
    rows = (
        Position.objects.filter(account_id__in=account_subtree(account=account))  # type: ignore[misc]
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today))
        .order_by("-is_primary", "account__depth", "valid_from", "pk")
        .values_list("stakeholder_id", "account_id", "title", "account__name", "stakeholder__prefix",
                     "stakeholder__first_name", "stakeholder__last_name", "stakeholder__credentials",
                     "account__type", "account__parent__name")
    )  # fmt: skip
    first: dict[int, tuple[str, str, str]] = {}
    accounts_of: dict[int, set[int]] = defaultdict(set)
    for sid, acc, title, acc_name, prefix, fname, lname, cred, acc_type, parent_name in rows:
        accounts_of[sid].add(acc)
        if sid not in first:
            name = " ".join(x for x in (prefix, fname, lname) if x)
            where = f"{title} · {qualified_name(acc_name, acc_type, parent_name)}"
            first[sid] = (f"{name}, {cred}" if cred else name, where, f"{lname} {fname}".casefold())
    words = [w.casefold() for w in q.split() if w][:5]
    found = [
        (sid, f"{name} — {where}", sort_name)
        for sid, (name, where, sort_name) in first.items()
        if all(w in f"{name} {where}".casefold() for w in words)
    ]
    mine = accounts_of.get(near, set()) if near is not None else set()
    # colleagues of ``near`` first, then by last name, first name (not by "Dr." and the like)
    found.sort(key=lambda o: (not (mine & accounts_of[o[0]]), o[2], o[1].casefold(), o[0]))
    listed = [(sid, label) for sid, label, _k in found]
    return (listed[:limit] if limit is not None else listed), len(listed)


def _link_phrase(kind: str, outgoing: bool, directional: bool) -> str:
    """How the person panel reads a link of the person shown, as a whole sentence per kind and direction (a
    label between two names reads wrongly in other languages: "diese Person gleichrangig Dr. …")."""
    if kind == LinkKind.REPORTS_TO:
        return _("Reports to %(p)s") if outgoing else _("%(p)s reports to this person")
    if kind == LinkKind.PEER:
        return _("Peer of %(p)s")
    if kind == LinkKind.CONFLICTS_WITH:
        return _("In conflict with %(p)s")
    if not directional:
        return _("Influences and is influenced by %(p)s")
    return _("Influences %(p)s") if outgoing else _("Influenced by %(p)s")


def stakeholder_card(*, actor: User, account_id: int, stakeholder_id: int) -> dict[str, Any]:
    """One person as the map's side panel shows them: their node, history, strengths by member, links. Reads
    only that person and the people they are linked with (``relationship_map(focus=...)``)."""
    m = relationship_map(actor=actor, account_id=account_id, focus=stakeholder_id)
    node = next((n for n in m["nodes"] if n["id"] == stakeholder_id), None)
    if node is None:
        raise NotFound(_("This person holds no current position at this account."), code="stakeholder_not_on_map")
    names = {n["id"]: n["name"] for n in m["nodes"]}
    kinds = _labels(LinkKind)
    links = []
    for lk in m["links"]:
        if stakeholder_id not in (lk["source"], lk["target"]):
            continue
        outgoing = lk["source"] == stakeholder_id
        other = names.get(lk["target"] if outgoing else lk["source"]) or "?"
        links.append(
            {
                **lk,
                "kind_label": kinds.get(lk["kind"], lk["kind"]),
                "other": other,
                "outgoing": outgoing,
                "phrase": _link_phrase(lk["kind"], outgoing, lk["directional"]) % {"p": other},
            }
        )
    return {
        "map": m,
        "node": node,
        "links": links,
        "history": assessment_history(actor=actor, account_id=account_id, stakeholder_id=stakeholder_id),
    }


def link_get(*, actor: User, link_id: int) -> InfluenceLink:
    """One link between two people the actor may see (judgement links only for readers of judgements)."""
    visible = stakeholder_scope(actor=actor).values("pk")
    qs = InfluenceLink.objects.filter(pk=link_id, from_stakeholder_id__in=visible, to_stakeholder_id__in=visible)
    if not can_see_judgements(actor):
        qs = qs.exclude(kind__in=sorted(JUDGEMENT_LINK_KINDS))
    link = qs.select_related("from_stakeholder", "to_stakeholder").first()
    if link is None:
        raise NotFound(_("No such link."), code="link_not_found")
    return link


# --- for other apps: personal-data export and handover ----------------------------------------------
def _visible_account_ids(actor: User, ids: Iterable[int]) -> set[int]:
    from openkam.accounts.selectors import account_scope

    ids = set(ids)
    if not ids or sees_all_accounts(actor):
        return ids
    return set(account_scope(actor=actor).filter(pk__in=ids).values_list("pk", flat=True))


def stakeholder_relationship_record(*, actor: User, stakeholder_id: int) -> dict[str, Any]:
    """Everything this app holds about one stakeholder (assessments with every version, owners, strengths,
    links with evidence, decision domains) as JSON-serialisable data — for a personal-data export. Rows at
    accounts the actor may not see are left out; compliance and admin see all."""
    s = stakeholder_get(actor=actor, stakeholder_id=stakeholder_id)
    if not can_see_judgements(actor):
        raise NotFound(_("No such stakeholder."), code="stakeholder_not_found")
    rows = list(
        StakeholderAssessment.objects.filter(stakeholder_id=s.pk)
        .select_related("account__parent", "recorded_by")
        .order_by("account_id", "-effective_from", "-pk")
    )
    owners = list(AssessmentOwner.objects.filter(stakeholder_id=s.pk).select_related("account__parent", "user"))
    strengths = list(RelationshipStrength.objects.filter(stakeholder_id=s.pk).select_related("account__parent", "user"))
    visible = _visible_account_ids(
        actor, [*(r.account_id for r in rows), *(o.account_id for o in owners), *(x.account_id for x in strengths)]
    )
    domain_names = {d.pk: domain_label(d) for d in domain_list(actor=actor, include_inactive=True)}
    links = list(
        InfluenceLink.objects.filter(Q(from_stakeholder_id=s.pk) | Q(to_stakeholder_id=s.pk))
        .select_related("from_stakeholder", "to_stakeholder")
        .order_by("pk")
    )

    def who(u: Any) -> str | None:
        return u.get_username() if u is not None else None

    domains_used = sorted({domain_names.get(d, str(d)) for r in rows for d in r.domain_ids if r.account_id in visible})
    return {
        "stakeholder_id": s.pk,
        "assessments": [
            {
                "id": r.pk,
                "account_id": r.account_id,
                "account": r.account.qualified_name,
                "decision_role": r.decision_role,
                "decision_domains": [domain_names.get(d, str(d)) for d in r.domain_ids],
                "stance": r.stance,
                "stance_label": _label(Stance, r.stance) if r.stance is not None else None,
                "influence": r.influence,
                "note": r.note,
                "effective_from": r.effective_from.isoformat(),
                "superseded_at": r.superseded_at.isoformat() if r.superseded_at else None,
                "recorded_by": who(r.recorded_by),
            }
            for r in rows
            if r.account_id in visible
        ],
        "owners": [
            {
                "account_id": o.account_id,
                "account": o.account.qualified_name,
                "user": who(o.user),
                "since": o.since.isoformat(),
            }
            for o in owners
            if o.account_id in visible
        ],
        "strengths": [
            {
                "account_id": x.account_id,
                "account": x.account.qualified_name,
                "user": who(x.user),
                "current": x.current,
                "current_label": _label(Strength, x.current),
                "desired": x.desired,
                "desired_label": _label(Strength, x.desired),
                "note": x.note,
                "updated_at": x.updated_at.isoformat(),
            }
            for x in strengths
            if x.account_id in visible
        ],
        "links": [
            {
                "id": lk.pk,
                "kind": lk.kind,
                "direction": "outgoing" if lk.from_stakeholder_id == s.pk else "incoming",
                "other_stakeholder_id": lk.to_stakeholder_id
                if lk.from_stakeholder_id == s.pk
                else lk.from_stakeholder_id,
                "other": str(lk.to_stakeholder if lk.from_stakeholder_id == s.pk else lk.from_stakeholder),
                "strength": lk.strength,
                "directional": lk.directional,
                "evidence": lk.evidence,
                "created_at": lk.created_at.isoformat(),
            }
            for lk in links
        ],
        "decision_domains": domains_used,
    }


def account_relationship_summary(*, actor: User, account_id: int, limit: int = 15) -> dict[str, Any]:
    """Key relationships of an account for a handover report: the ``limit`` most important people (key
    roles and influence first) with role, stance, influence, owners and last contact, the coverage summary
    and the findings."""
    m = relationship_map(actor=actor, account_id=account_id)
    cov = relationship_coverage(actor=actor, account_id=account_id, map_data=m)
    team = {t["id"]: t["name"] for t in m["team"]}
    role_weight = {
        DecisionRole.DECISION_MAKER: 0,
        DecisionRole.APPROVER: 1,
        DecisionRole.CHAMPION: 2,
        DecisionRole.BLOCKER: 3,
        DecisionRole.GATEKEEPER: 4,
        DecisionRole.INFLUENCER: 5,
    }
    nodes = m["nodes"]
    if m["judgements"]:
        nodes = sorted(nodes, key=lambda n: (role_weight.get(n["role"], 9), -(n["influence"] or 0), n["name"]))
    key = []
    for n in nodes[:limit]:
        key.append(
            {
                "stakeholder_id": n["id"],
                "name": n["name"],
                "title": n["title"],
                "account": n["account"],
                "role": n.get("role_label"),
                "stance": n.get("stance_label"),
                "influence": n.get("influence_label"),
                "owners": [team.get(u, "?") for u in n.get("owners", [])],
                "relationships": {
                    team.get(int(u), "?"): _label(Strength, c) for u, (c, _d) in n.get("strengths", {}).items()
                },
                "last_contact": n["last_contact"],
            }
        )
    return {
        "account": m["account"],
        "key_relationships": key,
        "summary": cov["summary"],
        "findings": [{"code": f["code"], "severity": f["severity"], "text": str(f["text"])} for f in cov["findings"]],
        "vacancies": m["vacancies"],
    }
