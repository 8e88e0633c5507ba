"""The relationship map in a real browser: the graph renders (pixels on the canvas; time to first render is
printed), a coverage finding is shown, fixing it in the person panel (HTMX) makes it disappear, and an
assessment recorded in place changes the graph."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from openkam.relationships import services
from openkam.relationships.models import RelationshipStrength, StakeholderAssessment
from tests.browser.conftest import shot
from tests.relationships.conftest import domains, mapped, person  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def _painted_share(png: bytes) -> float:
    """Share of the canvas's pixels that are not (near) white background."""
    img = Image.open(io.BytesIO(png)).convert("RGB").resize((200, 150))
    raw = img.tobytes()
    px = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    return sum(1 for r, g, b in px if min(r, g, b) < 235) / len(px)


def test_map_renders_finding_fixed_in_place(mapped: Any, page: Any, login: Any) -> None:  # noqa: F811
    w = mapped.w
    login("kam")
    started = time.perf_counter()
    page.goto(f"/relationships/accounts/{w.idn.pk}/")
    graph = page.locator("#rel-graph[data-rendered='1']")
    expect(graph).to_be_visible()
    wall_ms = (time.perf_counter() - started) * 1000
    render_ms = page.get_attribute("#rel-graph", "data-render-ms")
    print(f"\nrelationship map: graph first render {render_ms} ms after init, {wall_ms:.0f} ms from navigation")
    expect(page.locator("#rel-graph[data-settled-ms]")).to_have_count(1)  # the layout settled
    canvas = page.locator("#rel-graph canvas").first
    assert _painted_share(canvas.screenshot()) > 0.004, "the graph canvas is blank"
    shot(page, "relationships-map")

    finding = page.locator("[data-testid=finding][data-code=champion_single_contact]")
    expect(finding).to_have_count(1)
    expect(finding).to_contain_text("known only by")

    # fix it: open the champion from the coverage matrix, add a second contact
    page.click("[data-testid=tab-matrix]")
    page.locator("[data-testid=matrix-row]", has_text="Pharma").locator("a").first.click()
    card = page.locator(f"[data-testid=person-card][data-stakeholder='{mapped.pharm.pk}']")
    expect(card).to_be_visible()
    form = card.locator("[data-testid=strength-form]")
    form.locator("select[name=user]").select_option(str(w.users["msl"].pk))
    form.locator("select[name=current]").select_option("3")
    form.locator("[data-testid=strength-save]").click()
    expect(card.locator("[data-testid=strength-row]")).to_have_count(2)
    expect(page.locator("[data-testid=finding][data-code=champion_single_contact]")).to_have_count(0)
    # the coverage matrix and the key figures follow without a reload (out-of-band swaps)
    expect(page.locator("[data-testid=matrix-member]")).to_have_count(2)
    assert RelationshipStrength.objects.filter(stakeholder=mapped.pharm).count() == 2
    shot(page, "relationships-fixed")

    # assess the unassessed fellow in place: a new version, the graph reloads
    page.evaluate(f"OKAM_REL.openPerson({mapped.fellow.pk})")
    card = page.locator(f"[data-testid=person-card][data-stakeholder='{mapped.fellow.pk}']")
    expect(card).to_be_visible()
    card.locator("select[name=decision_role]").select_option("influencer")
    card.locator("select[name=stance]").select_option("2")
    card.locator("select[name=influence]").select_option("3")
    card.locator("[data-testid=assessment-save]").click()
    expect(page.locator("[data-testid=saved]")).to_be_visible()
    assert StakeholderAssessment.objects.get(stakeholder=mapped.fellow, superseded_at=None).stance == 2
    expect(page.locator("[data-testid=kpi-assessed]")).to_have_text(re.compile(r"^\s*4\s*/\s*4\s*$"))
    expect(page.locator("#rel-graph[data-rendered='1']")).to_have_count(1)  # reloaded after the change


def test_org_chart_and_committee_page(mapped: Any, page: Any, login: Any) -> None:  # noqa: F811
    w = mapped.w
    login("kam")
    page.goto(f"/relationships/accounts/{w.idn.pk}/?view=org")
    expect(page.locator("#rel-org canvas")).to_have_count(1)
    page.wait_for_timeout(500)
    assert _painted_share(page.locator("#rel-org canvas").first.screenshot()) > 0.002
    shot(page, "relationships-org")
    page.goto(f"/stakeholders/committees/{mapped.committee.pk}/")
    expect(page.locator("[data-testid=member-row]")).to_have_count(2)
    shot(page, "relationships-committee")


# The chart's drawn elements (zrender), read in the page: each node's box and its label's box in canvas pixels,
# whether the label is shown, and the legend's box.
_DRAWN = """(sel) => {
  const chart = echarts.getInstanceByDom(document.querySelector(sel));
  const series = chart.getModel().getSeriesByIndex(0), data = series.getData(), option = chart.getOption();
  const box = (el) => {
    const r = el.getBoundingRect().clone();
    r.applyTransform(el.getComputedTransform());
    return [r.x, r.y, r.width, r.height];
  };
  const out = {width: chart.getWidth(), height: chart.getHeight(), nodes: [], legend: null,
               legendNames: option.legend && option.legend.length ? option.legend[0].data.map((d) => d.name) : []};
  for (let i = 0; i < data.count(); i++) {
    const el = data.getItemGraphicEl(i), item = option.series[0].data[i] || {};
    if (!el || item.anchor || item.group) { continue; }
    let text = null;  // the label hangs on the node's symbol (a child of the item's group)
    el.traverse((c) => { if (!text && c.getTextContent && c.getTextContent()) { text = c.getTextContent(); } });
    const shown = !!(text && !text.ignore && !text.invisible && text.style && text.style.text);
    out.nodes.push({name: data.getName(i), vacancy: !!item.vacancy, node: box(el), label: shown ? box(text) : null,
                    text: shown ? text.style.text : null});
  }
  const views = chart._componentsViews || [];
  const legendView = views.find((v) => v && v.__model && v.__model.mainType === "legend");
  if (legendView) { out.legend = box(legendView.group); }
  return out;
}"""


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_graph_keeps_labels_and_vacancies_inside(mapped: Any, page: Any, login: Any) -> None:  # noqa: F811
    """With a department filter, the vacated roles (no links: a force layout threw them onto the legend and over
    the edge) sit in rows inside the drawing area below the people; no label runs out of the canvas."""
    w = mapped.w
    ended = timezone.localdate() - dt.timedelta(days=30)
    titles = ["Director of Pharmacy", "Chief of Critical Care Medicine and Pulmonary Services", "Chief Nursing Officer",
              "Chief of Emergency Medicine", "Director of Quality", "VP Clinical Operations", "Formulary Manager",
              "Chief of Oncology", "Chief of Neurology", "Nurse Manager, Cardiology", "Medication Safety Officer",
              "Chief of Endocrinology", "Director of Supply Chain"]  # fmt: skip
    for i, title in enumerate(titles):
        s, pos = person(w.hospital if i % 2 else w.department, title, last_name=f"Former{i}")
        pos.valid_to = ended
        pos.save()
    for i in range(8):  # people with long names, so some sit near the right edge
        s, _p = person(w.department, "Attending Physician, Cardiology", first_name="Meghana-Alexandra",
                       last_name=f"Vanderbilt-Rodriguez{i}")  # fmt: skip
        services.link_create(actor=w.users["kam"], from_stakeholder_id=s.pk, to_stakeholder_id=mapped.chief.pk,
                             kind="reports_to")  # fmt: skip
    login("kam")
    page.goto(f"/relationships/accounts/{w.idn.pk}/?department={w.department.pk}")
    expect(page.locator("#rel-graph[data-rendered='1']")).to_be_visible()
    page.wait_for_timeout(300)
    drawn = page.evaluate(_DRAWN, "#rel-graph")
    shot(page, "relationships-map-filtered")
    width, height = drawn["width"], drawn["height"]
    vacancies = [n for n in drawn["nodes"] if n["vacancy"]]
    assert vacancies, "the filtered map draws vacated roles"
    assert drawn["legend"], "the legend is drawn"
    legend_bottom = drawn["legend"][1] + drawn["legend"][3]
    for n in drawn["nodes"]:
        x, y, nw, nh = n["node"]
        assert x >= 0 and x + nw <= width and y >= 0 and y + nh <= height, f"{n['name']} drawn outside: {n['node']}"
        if n["label"]:
            lx, _ly, lw, _lh = n["label"]
            assert lx >= 0 and lx + lw <= width + 0.5, f"label {n['text']!r} cut off at the edge: {n['label']}"
        for box in (n["node"], n["label"]):
            if box and n["vacancy"]:
                assert box[1] >= legend_bottom, f"{n['name']} on the legend"
    shown = [n for n in vacancies if n["label"]]
    assert len(shown) == len(vacancies), "every vacated role is labelled"
    for i, a in enumerate(shown):
        for b in shown[i + 1 :]:
            assert not _overlap(a["label"], b["label"]), (a["text"], b["text"])
    # the legend lists every link kind for a reader of judgements
    assert len(drawn["legendNames"]) == 4


def test_medical_map_legend_shows_only_what_medical_sees(mapped: Any, page: Any, login: Any) -> None:  # noqa: F811
    login("msl")
    page.goto(f"/relationships/accounts/{mapped.w.idn.pk}/")
    expect(page.locator("#rel-graph[data-rendered='1']")).to_be_visible()
    drawn = page.evaluate(_DRAWN, "#rel-graph")
    assert drawn["legendNames"] == ["Reports to"], drawn["legendNames"]
    shot(page, "relationships-map-msl")


def _org(w: Any, kam: Any) -> dict[str, Any]:
    """A 64-person org at the test IDN: a CEO, three executives at the hospital, six department heads under the
    CMO with nine attendings each (long names and titles)."""
    link = lambda a, b: services.link_create(actor=kam, from_stakeholder_id=a.pk, to_stakeholder_id=b.pk,  # noqa: E731
                                             kind="reports_to")  # fmt: skip
    ceo, _p = person(w.idn, "Chief Executive Officer", first_name="Catherine", last_name="Ceoworth")
    execs = {}
    for title in ("Chief Medical Officer", "Chief Nursing Officer", "Chief Financial Officer"):
        execs[title], _p = person(w.hospital, title, last_name=title.split()[1] + "son")
        link(execs[title], ceo)
    heads = []
    for d in ("Cardiology", "Oncology", "Neurology", "Endocrinology", "Rheumatology", "Critical Care Medicine"):
        head, _p = person(w.department, f"Chief of {d}", first_name="Alexandra", last_name=f"Headley-{d[:5]}")
        link(head, execs["Chief Medical Officer"])
        heads.append(head)
        for i in range(9):
            s, _p = person(w.department, f"Attending Physician, {d} and Internal Medicine", first_name="Bartholomew",
                           last_name=f"Staffington-{d[:4]}{i}")  # fmt: skip
            link(s, head)
    return {"ceo": ceo, "cmo": execs["Chief Medical Officer"], "heads": heads}


_NODE_AT = """([sel, name]) => {
  const chart = echarts.getInstanceByDom(document.querySelector(sel));
  const data = chart.getModel().getSeriesByIndex(0).getData();
  for (let i = 0; i < data.count(); i++) {
    if (data.getName(i) === name) {
      const p = data.getItemGraphicEl(i).transformCoordToGlobal(0, 0);
      return [p[0], p[1]];
    }
  }
  return null;
}"""


def _click_node(page: Any, name: str) -> None:
    xy = page.evaluate(_NODE_AT, ["#rel-org", name])
    assert xy, f"{name} is not drawn"
    page.locator("#rel-org").scroll_into_view_if_needed()
    page.evaluate(
        "([x, y]) => document.querySelector('[data-testid=rel-org-scroll]')"
        ".scrollTo(Math.max(0, x - 300), Math.max(0, y - 200))",
        xy,
    )
    page.wait_for_timeout(100)
    box = page.locator("#rel-org canvas").first.bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])


def _assert_tree_readable(page: Any) -> dict[str, Any]:
    drawn = page.evaluate(_DRAWN, "#rel-org")
    labelled = [n for n in drawn["nodes"] if n["label"]]
    assert len(labelled) == len(drawn["nodes"]), "every person in the org chart is labelled"
    for i, a in enumerate(labelled):
        for b in labelled[i + 1 :]:
            assert not _overlap(a["label"], b["label"]), (a["text"], b["text"])
        assert a["label"][0] >= 0 and a["label"][0] + a["label"][2] <= drawn["width"] + 0.5, a["text"]
    return drawn


def test_org_chart_names_titles_collapsed_expand_on_click(mapped: Any, page: Any, login: Any) -> None:  # noqa: F811
    w = mapped.w
    org = _org(w, w.users["kam"])
    login("kam")
    page.goto(f"/relationships/accounts/{w.idn.pk}/?view=org")
    expect(page.locator("#rel-org canvas")).to_have_count(1)
    page.wait_for_timeout(300)
    assert _painted_share(page.locator("#rel-org canvas").first.screenshot()) > 0.002
    drawn = _assert_tree_readable(page)
    texts = " ".join(n["text"] for n in drawn["nodes"])
    # two trees (the CEO's, the Chief of Cardiology's from the fixture) under the account's name; the CEO's
    # reports shown with their titles, the CMO's 60 people folded ("+60")
    assert w.idn.name in texts
    assert "Chief Executive Officer" in texts and "Chief Medical Officer" in texts and "+60" in texts
    assert "Staffington" not in texts
    shot(page, "relationships-org")
    rows = int(page.get_attribute("#rel-org", "data-rows") or 0)

    _click_node(page, org["cmo"].display_name)
    expect(page.locator("#rel-org")).not_to_have_attribute("data-rows", str(rows))
    drawn = _assert_tree_readable(page)
    assert sum("Headley" in n["text"] for n in drawn["nodes"]) == 6
    _click_node(page, org["heads"][0].display_name)
    expect(page.locator("#rel-org")).to_have_attribute("data-rows", re.compile(r"^(1[5-9]|[2-9]\d)$"))
    drawn = _assert_tree_readable(page)
    assert sum("Staffington" in n["text"] for n in drawn["nodes"]) == 9
    page.locator("[data-testid=rel-org-scroll]").screenshot(path="var/screenshots/relationships-org-expanded.png")


def test_org_chart_small_hospital_all_open(mapped: Any, page: Any, login: Any) -> None:  # noqa: F811
    """A hospital of a dozen people: the whole tree open at once, names with titles, nothing overlapping."""
    w = mapped.w
    kam = w.users["kam"]
    cmo, _p = person(w.hospital, "Chief Medical Officer", first_name="Harriet", last_name="Medford")
    for i in range(10):
        s, _p = person(w.department, f"Attending Physician, Cardiology {i}", last_name=f"Smallwood{i}")
        services.link_create(actor=kam, from_stakeholder_id=s.pk, to_stakeholder_id=mapped.chief.pk, kind="reports_to")
    services.link_create(actor=kam, from_stakeholder_id=mapped.chief.pk, to_stakeholder_id=cmo.pk, kind="reports_to")
    login("kam")
    page.goto(f"/relationships/accounts/{w.hospital.pk}/?view=org")
    expect(page.locator("#rel-org canvas")).to_have_count(1)
    page.wait_for_timeout(300)
    drawn = _assert_tree_readable(page)
    texts = " ".join(n["text"] for n in drawn["nodes"])
    assert "Medford" in texts and "Chief of Cardiology" in texts and texts.count("Smallwood") == 10
    assert "+" not in texts.replace("Attending", "")  # nothing folded
    shot(page, "relationships-org-hospital")
