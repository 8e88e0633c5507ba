"""Relationship pages: the map of an account (graph, org chart, coverage matrix, findings), the person panel
(edit the assessment, strengths, owners and links in place with HTMX), naming a successor, Account 360's
panel, and the settings (admin)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openkam.accounts.selectors import account_get, account_team, account_team_inherited
from openkam.core.access import can_write, is_admin
from openkam.core.errors import DomainError, NotFound
from openkam.core.errors import PermissionDenied as DomainPermissionDenied
from openkam.core.forms import apply_domain_error
from openkam.core.models import User
from openkam.relationships import selectors, services
from openkam.relationships.forms import (
    AssessmentForm,
    DomainForm,
    LinkForm,
    MapFilterForm,
    PrivacyRuleForm,
    SettingsForm,
    StrengthForm,
    SucceedForm,
)
from openkam.relationships.models import Influence, Stance, Strength
from openkam.stakeholders.models import DecisionRole
from openkam.stakeholders.selectors import position_get, stakeholder_positions

STANCE_COLOURS = {"-2": "#dc3545", "-1": "#fd7e14", "0": "#adb5bd", "1": "#20c997", "2": "#198754", "none": "#dee2e6"}
LINK_COLOURS = {"reports_to": "#495057", "influences": "#0d6efd", "peer": "#6f42c1", "conflicts_with": "#dc3545"}


def _domain_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Out of scope → the 404 page; a role that may not do this → the 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)
        except DomainPermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message)

    return wrapper


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _filters(request: HttpRequest, m: dict[str, Any]) -> tuple[MapFilterForm, selectors.MapFilters]:
    options = {
        "departments": [(d["id"], d["name"]) for d in m["departments"]],
        "committees": [(c["id"], c["name"]) for c in m["committees"]],
        "domains": [(d["id"], d["name"]) for d in m["domains"] if d["active"]] if m["judgements"] else [],
    }
    form = MapFilterForm(request.GET or None, options=options)
    f = selectors.MapFilters()
    if form.is_valid():
        f = selectors.MapFilters(
            department=form.cleaned_data.get("department"),
            committee=form.cleaned_data.get("committee"),
            domain=form.cleaned_data.get("domain"),
        )
    return form, f


LINK_KINDS = ["reports_to", "influences", "peer", "conflicts_with"]
NODE_FIELDS = ["id", "name", "title", "account_id", "group_id", "role", "stance", "influence", "best_strength",
               "stance_allowed", "last_contact"]  # fmt: skip


def _chart(m: dict[str, Any]) -> dict[str, Any]:
    """What the graph draws, and nothing else, packed: a node is a row of ``nodeFields`` (account names and
    labels are looked up once, not repeated per person), a link ``[source, target, kind index, strength,
    directional]``. 2,000 people and 10,000 links make ~0.25 MB of JSON instead of 2.3 MB; map.js unpacks it."""
    judge = m["judgements"]
    kind_index = {k: i for i, k in enumerate(LINK_KINDS)}
    accounts: dict[int, str] = {}
    nodes = []
    for n in m["nodes"]:
        accounts[n["account_id"]] = n["account"]
        nodes.append(
            [
                n["id"], n["name"], n["title"], n["account_id"], n["group_id"], n.get("role") if judge else None,
                n.get("stance") if judge else None, n.get("influence") if judge else None,
                n.get("best_strength") if judge else None, 1 if n["stance_allowed"] else 0, n["last_contact"],
            ]
        )  # fmt: skip
    links = [
        [lk["source"], lk["target"], kind_index[lk["kind"]], lk["strength"], 1 if lk["directional"] else 0]
        for lk in m["links"]
    ]
    for v in m["vacancies"]:
        accounts[v["account_id"]] = v["account"]
    groups = {g["id"]: g["name"] for g in m["groups"]}
    return {
        "nodeFields": NODE_FIELDS,
        "nodes": nodes,
        "links": links,
        "linkKinds": LINK_KINDS,
        "accounts": accounts,
        "groups": groups,
        "vacancies": [
            {**{k: v[k] for k in ("position_id", "title", "account_id", "group_id", "account", "former")},
             "since": v["since_label"]}  # the locale's short date, as shown (not ISO)
            for v in m["vacancies"]
        ],
        "judgements": judge,
        "stanceColours": STANCE_COLOURS,
        "linkColours": LINK_COLOURS,
        "labels": {
            "reports_to": _("Reports to"), "influences": _("Influences"), "peer": _("Peer"),
            "conflicts_with": _("Conflicts with"), "vacant": _("Vacant"), "stance": _("Stance"),
            "influence": _("Influence"), "role": _("Role"), "lastContact": _("Last contact"), "never": _("never"),
            "notAssessed": _("not assessed"),
            "stances": {str(v): str(label) for v, label in Stance.choices},
            "influenceLevels": {str(v): str(label) for v, label in Influence.choices},
            "roles": {str(v): str(label) for v, label in DecisionRole.choices},
        },
        "personUrl": reverse("relationships:person", args=[m["account"]["id"], 0])[:-2],
    }  # fmt: skip


# --- the map ----------------------------------------------------------------------------------------
def _figures(request: HttpRequest, account_id: int) -> dict[str, Any]:
    """What the map page shows besides the graph: the (filtered) map, the coverage of the whole account, the
    key figures and the coverage matrix — for the page and for the out-of-band refresh after an edit."""
    actor = _actor(request)
    full = selectors.relationship_map(actor=actor, account_id=account_id)
    form, f = _filters(request, full)
    filtered = any([f.department, f.committee, f.domain])
    m = selectors.relationship_map(actor=actor, account_id=account_id, filters=f) if filtered else full
    # the page shows a vacancy's date in the locale's short format (the data and the API keep ISO dates)
    m = {**m, "vacancies": [{**v, "since": v["since_label"]} for v in m["vacancies"]]}
    coverage = selectors.relationship_coverage(
        actor=actor, account_id=account_id, map_data=full, expand=_finding(request)
    )
    team = m["team"]
    rows = m["nodes"][:300]
    matrix = [{"node": n, "cells": [n.get("strengths", {}).get(str(t["id"])) for t in team]} for n in rows]
    return {
        "m": m,
        "form": form,
        "filtered": filtered,
        "coverage": coverage,
        "matrix": matrix,
        "matrix_more": max(0, len(m["nodes"]) - len(rows)),
        "strength_labels": {s.value: s.label for s in Strength},
        "stances": [
            (st.label, STANCE_COLOURS[str(st.value)], coverage["summary"].get("stances", {}).get(str(st.value), 0))
            for st in Stance
        ],
        "account_id": account_id,
    }


@login_required
@_domain_errors
@require_GET
def map_page(request: HttpRequest, account_id: int) -> HttpResponse:
    actor = _actor(request)
    ctx = _figures(request, account_id)
    return render(
        request,
        "relationships/map.html",
        {
            **ctx,
            "account": account_get(actor=actor, account_id=account_id),
            "chart": _chart(ctx["m"]),
            "org": selectors.org_chart(map_data=ctx["m"]),
            "can_edit": can_write(actor),
            "view": request.GET.get("view", "graph"),
            "edit": request.GET.get("edit", ""),
        },
    )


@login_required
@_domain_errors
@require_GET
def map_data(request: HttpRequest, account_id: int) -> JsonResponse:
    """The graph's data (after an in-place edit the page reloads it from here)."""
    actor = _actor(request)
    f = selectors.MapFilters(
        department=_int(request.GET.get("department")),
        committee=_int(request.GET.get("committee")),
        domain=_int(request.GET.get("domain")),
    )
    m = selectors.relationship_map(actor=actor, account_id=account_id, filters=f, graph_only=True)
    return JsonResponse(_chart(m))


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
@_domain_errors
@require_GET
def coverage_fragment(request: HttpRequest, account_id: int) -> HttpResponse:
    """The coverage findings. With ``oob=1`` (the map page after an in-place edit, with its filters) also the
    key figures, the people/link count and the coverage matrix, as HTMX out-of-band swaps."""
    if request.GET.get("oob") == "1":
        return render(request, "relationships/_coverage_oob.html", {**_figures(request, account_id), "oob": True})
    actor = _actor(request)
    coverage = selectors.relationship_coverage(actor=actor, account_id=account_id, expand=_finding(request))
    return render(request, "relationships/_findings.html", {"coverage": coverage, "account_id": account_id})


def _finding(request: HttpRequest) -> str | None:
    """``?finding=<code>``: list every finding of that kind (the "… and N more" line's link)."""
    return request.GET.get("finding", "")[:40] or None


# --- the person panel -------------------------------------------------------------------------------
def _team_choices(actor: User, account_id: int, card: dict[str, Any]) -> list[tuple[int, str]]:
    account = account_get(actor=actor, account_id=account_id)
    users: dict[int, str] = {}
    for member in [*account_team(actor=actor, account=account, include_ended=False),
                   *account_team_inherited(actor=actor, account=account)]:  # fmt: skip
        if member.user.is_active:
            users[member.user_id] = member.user.get_full_name() or member.user.get_username()
    for t in card["map"]["team"]:
        if t["active"]:
            users.setdefault(t["id"], t["name"])
    if actor.pk not in users:
        users[actor.pk] = actor.get_full_name() or actor.get_username()
    return sorted(users.items(), key=lambda kv: kv[1])


PEOPLE_IN_SELECT = 150  # a map with more people lists the likely colleagues and finds the others by search
PEOPLE_SHOWN = 60


def _person_context(request: HttpRequest, account_id: int, stakeholder_id: int, **forms: Any) -> dict[str, Any]:
    actor = _actor(request)
    card = selectors.stakeholder_card(actor=actor, account_id=account_id, stakeholder_id=stakeholder_id)
    node = card["node"]
    judge = card["map"]["judgements"]
    domains = [(d["id"], d["name"]) for d in card["map"]["domains"] if d["active"]]
    current = None
    if judge:
        current = selectors.assessment_current(actor=actor, account_id=account_id, stakeholder_id=stakeholder_id)
    initial = {
        "decision_role": current.decision_role if current else node.get("role") or "unknown",
        "domain_ids": current.domain_ids if current else node.get("domains", []),
        "stance": current.stance if current else node.get("stance"),
        "influence": current.influence if current else node.get("influence"),
        "note": current.note if current else "",
    }
    people, total = selectors.map_people(actor=actor, account_id=account_id, near=stakeholder_id)
    people = [c for c in people if c[0] != stakeholder_id]
    shown = people[:PEOPLE_SHOWN] if total > PEOPLE_IN_SELECT else None
    team = _team_choices(actor, account_id, card)
    names = dict(team) | {t["id"]: t["name"] for t in card["map"]["team"]}
    strengths = [
        {"user_id": int(u), "name": names.get(int(u), "?"), "current": c, "desired": d,
         "current_label": Strength(c).label, "desired_label": Strength(d).label}
        for u, (c, d) in node.get("strengths", {}).items()
    ]  # fmt: skip
    ctx = {
        "account_id": account_id,
        "node": node,
        "card": card,
        "judge": judge,
        "can_edit": can_write(actor) and (judge or not node.get("privacy_restricted")),
        "assessment_form": forms.get("assessment_form")
        or AssessmentForm(initial=initial, domains=domains, stance_allowed=node["stance_allowed"]),
        "strength_form": forms.get("strength_form")
        or StrengthForm(users=team, initial={"user": actor.pk, "current": 2, "desired": 3}),
        "link_form": forms.get("link_form") or LinkForm(people=people, judgements=judge, shown=shown),
        "link_people": people,
        "link_shown": shown,
        "link_search": shown is not None,
        "strengths": sorted(strengths, key=lambda s: -s["current"]),
        "owners": [names.get(u, "?") for u in node.get("owners", [])],
        "owner_choices": team,
        "owner_ids": node.get("owners", []),
        "history": card["history"][:12],
        "assessment_note": initial["note"] or _resolved_note(card["history"], node.get("assessed_at")),
        "last_contact": selectors.short_date(dt.date.fromisoformat(node["last_contact"]))
        if node.get("last_contact")
        else "",
        "now": timezone.now(),
    }
    return ctx


def _resolved_note(history: list[Any], assessed_at: int | None) -> str:
    """The note of the assessment the map shows (made here or at an account above)."""
    return next((h.note for h in history if h.superseded_at is None and h.account_id == assessed_at), "")


def _panel(request: HttpRequest, ctx: dict[str, Any], *, changed: bool = False, status: int = 200) -> HttpResponse:
    response = render(request, "relationships/_person.html", ctx, status=status)
    if changed:
        response["HX-Trigger"] = "relationships-changed"
    return response


@login_required
@_domain_errors
@require_http_methods(["GET", "POST"])
def person(request: HttpRequest, account_id: int, stakeholder_id: int) -> HttpResponse:
    """GET: the side panel of one person on the map. POST: record their assessment (a new version)."""
    actor = _actor(request)
    if request.method == "GET":
        if not request.htmx:  # type: ignore[attr-defined]
            return redirect(reverse("relationships:map", args=[account_id]) + f"?edit={stakeholder_id}")
        return _panel(request, _person_context(request, account_id, stakeholder_id))
    ctx = _person_context(request, account_id, stakeholder_id)
    domains = [(d["id"], d["name"]) for d in ctx["card"]["map"]["domains"] if d["active"]]
    form = AssessmentForm(request.POST, domains=domains, stance_allowed=ctx["node"]["stance_allowed"])
    if form.is_valid():
        try:
            services.assessment_record(
                actor=actor, account_id=account_id, stakeholder_id=stakeholder_id, **form.cleaned_data
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return _panel(
                request, {**_person_context(request, account_id, stakeholder_id), "saved": True}, changed=True
            )
    return _panel(request, _person_context(request, account_id, stakeholder_id, assessment_form=form), status=422)


@login_required
@_domain_errors
@require_POST
def strength(request: HttpRequest, account_id: int, stakeholder_id: int) -> HttpResponse:
    actor = _actor(request)
    ctx = _person_context(request, account_id, stakeholder_id)
    if request.POST.get("remove", "").isdigit():
        try:
            services.strength_remove(
                actor=actor, account_id=account_id, stakeholder_id=stakeholder_id, user_id=int(request.POST["remove"])
            )
        except DomainError as exc:
            return _panel(request, {**ctx, "error": exc.message}, status=exc.status)
        return _panel(request, _person_context(request, account_id, stakeholder_id), changed=True)
    form = StrengthForm(request.POST, users=ctx["owner_choices"])
    if form.is_valid():
        try:
            services.strength_set(
                actor=actor,
                account_id=account_id,
                stakeholder_id=stakeholder_id,
                user_id=form.cleaned_data["user"],
                current=form.cleaned_data["current"],
                desired=form.cleaned_data["desired"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return _panel(request, _person_context(request, account_id, stakeholder_id), changed=True)
    return _panel(request, _person_context(request, account_id, stakeholder_id, strength_form=form), status=422)


@login_required
@_domain_errors
@require_POST
def owners(request: HttpRequest, account_id: int, stakeholder_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        services.assessment_owners_set(
            actor=actor, account_id=account_id, stakeholder_id=stakeholder_id, user_ids=request.POST.getlist("owners")
        )
    except DomainError as exc:
        ctx = _person_context(request, account_id, stakeholder_id)
        return _panel(request, {**ctx, "error": exc.message}, status=exc.status)
    return _panel(request, _person_context(request, account_id, stakeholder_id), changed=True)


@login_required
@_domain_errors
@require_POST
def link_add(request: HttpRequest, account_id: int, stakeholder_id: int) -> HttpResponse:
    actor = _actor(request)
    ctx = _person_context(request, account_id, stakeholder_id)
    form = LinkForm(request.POST, people=ctx["link_people"], judgements=ctx["judge"], shown=ctx["link_shown"])
    if form.is_valid():
        d = form.cleaned_data
        a, b = (stakeholder_id, d["other"]) if d["outgoing"] else (d["other"], stakeholder_id)
        try:
            services.link_create(
                actor=actor, from_stakeholder_id=a, to_stakeholder_id=b, kind=d["kind"], strength=d["strength"],
                directional=d["directional"], evidence=d["evidence"],
            )  # fmt: skip
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return _panel(request, _person_context(request, account_id, stakeholder_id), changed=True)
    return _panel(request, _person_context(request, account_id, stakeholder_id, link_form=form), status=422)


@login_required
@_domain_errors
@require_GET
def link_people(request: HttpRequest, account_id: int, stakeholder_id: int) -> HttpResponse:
    """HTMX: the options of the link form's "other person" list that match the search (large maps)."""
    people, total = selectors.map_people(
        actor=_actor(request), account_id=account_id, q=request.GET.get("q", "")[:100], near=stakeholder_id,
        limit=PEOPLE_SHOWN + 1,
    )  # fmt: skip
    people = [c for c in people if c[0] != stakeholder_id][:PEOPLE_SHOWN]
    more = max(0, total - 1 - len(people))
    return render(request, "relationships/_people_options.html", {"people": people, "more": more})


@login_required
@_domain_errors
@require_POST
def link_delete(request: HttpRequest, account_id: int, stakeholder_id: int, link_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        services.link_delete(actor=actor, link_id=link_id)
    except DomainError as exc:
        ctx = _person_context(request, account_id, stakeholder_id)
        return _panel(request, {**ctx, "error": exc.message}, status=exc.status)
    return _panel(request, _person_context(request, account_id, stakeholder_id), changed=True)


# --- role changes -----------------------------------------------------------------------------------
@login_required
@_domain_errors
@require_http_methods(["GET", "POST"])
def succeed(request: HttpRequest, account_id: int, position_id: int) -> HttpResponse:
    """Name the new incumbent of a vacated (or vacating) role. A role that can read but not change records
    (compliance) gets the 403 page on GET as on POST, like every other form page of the app."""
    actor = _actor(request)
    account = account_get(actor=actor, account_id=account_id)
    position = position_get(actor=actor, position_id=position_id)
    if position.account_id != account.pk and account.pk not in (position.account.ancestors or []):
        raise NotFound(_("No such position."), code="position_not_found")
    if not can_write(actor):
        return render(request, "core/forbidden.html", status=403)
    # one list of everybody on the map, by last name, each with title and place (department · hospital)
    people, _total = selectors.map_people(actor=actor, account_id=account_id)
    people = [c for c in people if c[0] != position.stakeholder_id]
    seats = [
        (p.pk, f"{p.committee.name if p.committee else ''} ({p.get_committee_role_display() or _('member')})")
        for p in stakeholder_positions(actor=actor, stakeholder=position.stakeholder)
        if p.committee_id is not None and p.pk != position.pk
        and (p.is_current or (position.valid_to and p.valid_to and p.valid_to >= position.valid_to))  # type: ignore[attr-defined]
    ]  # fmt: skip
    initial = {"valid_from": position.valid_to or timezone.localdate(), "carry_seat_ids": [s[0] for s in seats]}
    form = SucceedForm(request.POST or None, people=people, seats=seats, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            new = services.role_succeed(
                actor=actor, position_id=position.pk, stakeholder_id=d["stakeholder"], valid_from=d["valid_from"],
                carry_seat_ids=d["carry_seat_ids"], reason=d["reason"],
            )  # fmt: skip
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("%(p)s now holds “%(t)s”; the role's committee seats and decision domains moved over.")
                % {"p": new.stakeholder, "t": new.title},
            )
            return redirect(reverse("relationships:map", args=[account_id]) + "?view=vacancies")
    return render(request, "relationships/succeed.html", {"account": account, "position": position, "form": form})


# --- Account 360 panel ------------------------------------------------------------------------------
@login_required
@_domain_errors
@require_GET
def account_panel(request: HttpRequest, account_id: int) -> HttpResponse:
    """Account 360's lazy card: coverage summary, the top findings and a link to the map."""
    actor = _actor(request)
    coverage = selectors.relationship_coverage(actor=actor, account_id=account_id)
    return render(
        request,
        "relationships/_panel.html",
        {"coverage": coverage, "account_id": account_id, "top": coverage["findings"][:3]},
    )


# --- settings (admin) -------------------------------------------------------------------------------
@login_required
@_domain_errors
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    admin = is_admin(actor)
    s = selectors.settings_get()
    settings_form = SettingsForm(
        initial={f: getattr(s, f) for f in ("internal_share_limit", "stakeholder_share_limit", "key_person_days",
                                            "assessment_retention_days")}
    )  # fmt: skip
    domain_form, rule_form = DomainForm(), PrivacyRuleForm(initial={"allow_stance": True,
                                                                    "allow_directional_influence": True})  # fmt: skip
    if request.method == "POST":
        what = request.POST.get("form")
        try:
            if what == "settings":
                settings_form = SettingsForm(request.POST)
                if settings_form.is_valid():
                    services.settings_update(actor=actor, **settings_form.cleaned_data)
                    messages.success(request, _("Coverage settings saved."))
                    return redirect("relationships:settings")
            elif what == "domain":
                domain_form = DomainForm(request.POST)
                if domain_form.is_valid():
                    services.domain_create(actor=actor, **domain_form.cleaned_data)
                    messages.success(request, _("Decision domain added."))
                    return redirect("relationships:settings")
            elif what == "domain_toggle":
                services.domain_update(
                    actor=actor, domain_id=int(request.POST.get("domain", "0") or 0),
                    is_active=request.POST.get("active") == "1",
                )  # fmt: skip
                return redirect("relationships:settings")
            elif what == "rule":
                rule_form = PrivacyRuleForm(request.POST)
                if rule_form.is_valid():
                    services.privacy_rule_set(actor=actor, **rule_form.cleaned_data)
                    messages.success(request, _("Privacy rule saved."))
                    return redirect("relationships:settings")
            elif what == "rule_delete":
                services.privacy_rule_delete(actor=actor, country=request.POST.get("country", ""))
                return redirect("relationships:settings")
        except DomainError as exc:
            target = {"settings": settings_form, "domain": domain_form, "rule": rule_form}.get(what or "")
            if target is not None:
                apply_domain_error(target, exc)
            else:
                messages.error(request, exc.message)
    return render(
        request,
        "relationships/settings.html",
        {
            "admin": admin,
            "settings_form": settings_form,
            "domain_form": domain_form,
            "rule_form": rule_form,
            "domains": selectors.domain_list(actor=actor, include_inactive=True),
            "rules": selectors.privacy_rule_list(actor=actor),
        },
    )
