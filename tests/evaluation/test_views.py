"""Pages: matrix, KAM analysis (+ XLSX), an account's evaluation, scoring form, review, models, re-score progress."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openkam.accounts import services as account_services
from openkam.evaluation import services
from openkam.evaluation.models import Assessment, ScoringModel
from tests import factories as f
from tests.evaluation.conftest import all_scores
from tests.office import libreoffice_convert

pytestmark = pytest.mark.django_db


def _score(world: Any, model: ScoringModel, account: Any, value: int = 4, **kw: Any) -> Assessment:
    a, _r = services.assessment_create(
        actor=world.users["kam"], account_id=account.pk, scores=all_scores(model, value), **kw
    )
    return a


def test_matrix_page_plots_assessed_accounts_with_filters(
    web: Any, world: Any, models: dict[str, ScoringModel]
) -> None:
    _score(world, models["partnership"], world.hospital, 5)
    for _ in range(13):
        f.InteractionFactory(account=world.department, created_by=world.users["kam"])  # rolls up to its hospital
    services.effort_snapshot_refresh()  # the periodic task
    resp = web("kam").get("/evaluation/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Beacon General Hospital" in html and 'data-testid="matrix-chart"' in html
    assert 'data-testid="quadrant-count-strategic">1<' in html  # 100 attractiveness, coverage 100 %
    assert f"/accounts/{world.hospital.pk}/" in html
    assert "Beacon General Hospital" not in web("kam").get("/evaluation/?type=wholesaler").content.decode()
    assert "Beacon General Hospital" not in web("kam2").get("/evaluation/").content.decode()


def test_account_evaluation_page_and_scoring_form(web: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    p = models["partnership"]
    client = web("kam")
    resp = client.get(f"/evaluation/accounts/{world.hospital.pk}/")
    assert resp.status_code == 200 and "Formulary and protocol status" in resp.content.decode()
    form_page = client.get(f"/evaluation/accounts/{world.hospital.pk}/assess/")
    assert form_page.status_code == 200 and "Innovation readiness" in form_page.content.decode()
    data: dict[str, Any] = {"assessed_on": timezone.localdate().isoformat(), "rationale": ""}
    for c in p.criteria.all():
        data[f"score_{c.pk}"] = "4"
        data[f"evidence_{c.pk}"] = f"Evidence for {c.key}"
    first = p.criteria.first()
    assert first is not None
    bad = {**data, f"score_{first.pk}": ""}
    resp = client.post(f"/evaluation/accounts/{world.hospital.pk}/assess/", bad)
    assert resp.status_code == 200 and f'data-testid="error-score_{first.pk}"' in resp.content.decode()
    assert not Assessment.objects.exists()
    resp = client.post(f"/evaluation/accounts/{world.hospital.pk}/assess/", data)
    assert resp.status_code == 302
    page = client.get(f"/evaluation/accounts/{world.hospital.pk}/").content.decode()
    assert 'data-testid="tier-badge">Strategic<' in page and "75.0" in page
    assert web("kam2").get(f"/evaluation/accounts/{world.hospital.pk}/").status_code == 404
    assert web("compliance").get(f"/evaluation/accounts/{world.hospital.pk}/assess/").status_code == 403


def test_lead_overrides_and_reviews_in_the_page(web: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    a = _score(world, models["partnership"], world.hospital, 3)
    lead = web("lead")
    resp = lead.post(f"/evaluation/accounts/{world.hospital.pk}/", {"level": "declined", "reason": ""})
    assert resp.status_code == 200 and "will not invest" in resp.content.decode()
    resp = lead.post(f"/evaluation/accounts/{world.hospital.pk}/", {"level": "key", "reason": "New oncology centre"})
    assert resp.status_code == 302
    world.hospital.refresh_from_db()
    assert world.hospital.kam_level == "key"
    assert "override-form" not in web("kam").get(f"/evaluation/accounts/{world.hospital.pk}/").content.decode()
    resp = lead.post(f"/evaluation/assessments/{a.pk}/", {"note": "Evidence is solid"})
    assert resp.status_code == 302
    a.refresh_from_db()
    assert a.status == "reviewed"


def test_analysis_page_and_xlsx(web: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    _score(world, models["partnership"], world.hospital, 5)
    _score(world, models["partnership"], world.hospital2, 1, rationale="No overlap with our portfolio")
    for _ in range(5):
        f.InteractionFactory(account=world.hospital2, created_by=world.users["kam"])
    f.InteractionFactory(account=world.hospital2, created_by=world.users["msl"], classification="medical")
    services.effort_snapshot_refresh()
    assert web("kam").get("/evaluation/analysis/").status_code == 403
    html = web("lead").get("/evaluation/analysis/").content.decode()
    assert "Declined account still getting 5 interactions a month." in html
    assert "Strategic account with no activity in 60 days." in html
    resp = web("lead").get("/evaluation/analysis.xlsx")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(resp.content))
    assert wb.sheetnames == ["Levels", "Mismatches", "Accounts", "About"]
    levels = list(wb["Levels"].iter_rows(values_only=True))
    assert levels[0][0] == "Level" and [r[0] for r in levels[1:]] == ["Strategic", "Key", "Basic", "Declined"]
    assert levels[1][1] == 1 and levels[4][1] == 1 and levels[4][3] == 5
    flags = [r[4] for r in wb["Mismatches"].iter_rows(min_row=2, values_only=True)]
    assert "Declined account still getting 5 interactions a month." in flags


def test_xlsx_opens_in_libreoffice(web: Any, world: Any, models: dict[str, ScoringModel], tmp_path: Any) -> None:
    _score(world, models["partnership"], world.hospital, 5)
    path = tmp_path / "analysis.xlsx"
    path.write_bytes(web("lead").get("/evaluation/analysis.xlsx").content)
    assert "Strategic" in libreoffice_convert(path, "csv").read_text()


def test_models_page_and_rescore_progress(web: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    _score(world, models["partnership"], world.hospital, 4)
    assert "Partnership potential" in web("kam").get("/evaluation/models/").content.decode()
    assert web("lead").post("/evaluation/rescore/").status_code == 302  # refused with a message
    admin = web("admin")
    resp = admin.post("/evaluation/rescore/", HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and 'data-status="queued"' in resp.content.decode()
    assert "hx-trigger" in resp.content.decode()  # keeps polling
    from openkam.evaluation.models import RescoreRun
    from openkam.evaluation.tasks import rescore_all

    run = RescoreRun.objects.get()
    rescore_all(run.pk)
    resp = admin.get(f"/evaluation/rescore/{run.pk}/")
    assert 'data-status="done"' in resp.content.decode() and "hx-trigger" not in resp.content.decode()
    assert "1 of 1 accounts" in resp.content.decode()


def _grow(world: Any, models: dict[str, ScoringModel], n: int) -> None:
    admin = world.users["admin"]
    for i in range(n):
        h = account_services.account_create(
            actor=admin, name=f"Extra hospital {n}-{i}", type="hospital", parent=world.idn
        )
        dept = account_services.account_create(actor=admin, name="Cardiology", type="department", parent=h)
        _score(world, models["partnership"], h, 2 + i % 4, rationale="Low potential", assessed_on=dt.date(2026, 1, 1))
        _score(world, models["partnership"], h, 1 + i % 5, rationale="Low potential")
        f.InteractionFactory(account=dept, created_by=world.users["kam"])
        f.InteractionFactory(account=h, created_by=world.users["kam"])


@pytest.mark.parametrize("url,user", [("/evaluation/", "kam"), ("/evaluation/analysis/", "lead")])
def test_constant_query_count_at_1x_and_10x(
    web: Any, world: Any, models: dict[str, ScoringModel], url: str, user: str
) -> None:
    client = web(user)
    _grow(world, models, 3)
    services.effort_snapshot_refresh()
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(world, models, 27)
    services.effort_snapshot_refresh()
    with CaptureQueriesContext(connection) as large:
        resp = client.get(url)
    expected = "Extra hospital 27-26" if user == "kam" else "30 tiered accounts"
    assert resp.status_code == 200 and expected in resp.content.decode()
    assert len(large.captured_queries) == len(small.captured_queries), (len(small), len(large))


def test_tier_card_for_account_360(world: Any, models: dict[str, ScoringModel]) -> None:
    from django.template import Context, Template

    tpl = Template("{% load evaluation_tags %}{% account_tier_card account %}")
    assert "Not assessed yet." in tpl.render(Context({"account": world.hospital}))
    _score(world, models["partnership"], world.hospital, 4)
    world.hospital.refresh_from_db()
    html = tpl.render(Context({"account": world.hospital}))
    assert "75" in html and "badge-level-strategic" in html
    assert "Evaluated with the account it belongs to." in tpl.render(Context({"account": world.department}))


def test_effort_snapshot_counts_what_each_audience_may_see(world: Any, models: dict[str, ScoringModel]) -> None:
    from openkam.evaluation import selectors

    _score(world, models["partnership"], world.hospital, 5)
    kam, msl = world.users["kam"], world.users["msl"]
    f.InteractionFactory(account=world.hospital, created_by=kam)
    f.InteractionFactory(account=world.department, created_by=kam)  # counts for its hospital
    f.InteractionFactory(account=world.hospital, created_by=msl, classification="medical")
    f.InteractionFactory(account=world.hospital, created_by=kam, occurred_at=timezone.now() - dt.timedelta(days=120))
    services.effort_snapshot_refresh()
    commercial = selectors.effort_for(actor=kam, ids=[world.hospital.pk])[world.hospital.pk]
    assert (commercial.n90, commercial.people) == (2, 1)
    compliance = selectors.effort_for(actor=world.users["compliance"], ids=[world.hospital.pk])[world.hospital.pk]
    assert (compliance.n90, compliance.people) == (3, 2)
    assert selectors.effort_for(actor=msl, ids=[world.hospital.pk])[world.hospital.pk].n90 == 1


# --- model editor -----------------------------------------------------------------------------------
def _editor_post(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Formulary influence", "code": "formulary-influence", "description": "For P&T-driven hospitals.",
        "account_types": ["hospital", "idn"], "scale_min": "1", "scale_max": "4",
        "strategic_min": "75", "key_min": "55", "basic_min": "30", "reason": "New for 2027",
        "crit-0-name": "P&T influence", "crit-0-weight": "60", "crit-0-guidance": "Seats on the P&T committee.",
        "crit-0-levels": "None\nObserver\nMember\nChair",
        "crit-1-name": "Budget", "crit-1-weight": "40", "crit-1-guidance": "",
        "crit-1-levels": "Frozen\nTight\nOpen\nGrowing",
        "crit-2-name": "", "crit-2-weight": "", "crit-2-guidance": "", "crit-2-levels": "",
    }  # fmt: skip
    data.update(over)
    return data


def test_admin_creates_a_model_in_the_editor(web: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    client = web("admin")
    page = client.get("/evaluation/models/new/")
    assert page.status_code == 200 and 'data-testid="model-form"' in page.content.decode()
    resp = client.post("/evaluation/models/new/", _editor_post(activate="on"))
    assert resp.status_code == 302
    m = ScoringModel.objects.get(code="formulary-influence")
    assert (m.status, m.version, m.scale_max, m.account_types) == ("active", 1, 4, ["hospital", "idn"])
    crit = list(m.criteria.all())
    assert [(c.name, c.weight, c.levels) for c in crit] == [
        ("P&T influence", 60, ["None", "Observer", "Member", "Chair"]),
        ("Budget", 40, ["Frozen", "Tight", "Open", "Growing"]),
    ]
    listing = client.get("/evaluation/models/").content.decode()
    assert "Formulary influence" in listing and f'href="/evaluation/models/{m.pk}/edit/"' in listing


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"crit-1-weight": "30"}, "add up to 90 %"),
        ({"crit-0-name": "", "crit-0-weight": "", "crit-0-guidance": "", "crit-0-levels": "", "crit-1-name": "",
          "crit-1-weight": "", "crit-1-levels": ""}, "at least one criterion"),
        ({"crit-1-levels": "Frozen\nTight\nOpen"}, "4 labels for a 1–4 scale"),
        ({"crit-1-weight": "forty"}, "Enter a number"),
        ({"account_types": []}, "Choose the account types"),
        ({"strategic_min": "50"}, "Thresholds must decrease"),
    ],
)  # fmt: skip
def test_model_editor_refuses_bad_models_with_friendly_errors_and_saves_nothing(
    web: Any, world: Any, models: dict[str, ScoringModel], over: dict[str, Any], message: str
) -> None:
    before = ScoringModel.objects.count()
    resp = web("admin").post("/evaluation/models/new/", _editor_post(**over))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert message in body and 'data-testid="model-form"' in body
    assert 'value="P&amp;T influence"' in body or over.get("crit-0-name") == ""  # what was typed is kept
    assert ScoringModel.objects.count() == before


def test_editing_a_used_active_model_in_the_editor_makes_the_next_version(
    web: Any, world: Any, models: dict[str, ScoringModel]
) -> None:
    v1 = models["partnership"]
    _score(world, v1, world.hospital, 4)
    client = web("admin")
    page = client.get(f"/evaluation/models/{v1.pk}/edit/").content.decode()
    assert 'data-testid="versioning-note"' in page and "creates version 2" in page
    crit = list(v1.criteria.all())
    data: dict[str, Any] = {
        "name": v1.name, "description": v1.description, "account_types": list(v1.account_types),
        "scale_min": "1", "scale_max": "5", "strategic_min": "70", "key_min": "55", "basic_min": "30",
    }  # fmt: skip
    for i, c in enumerate(crit):
        data.update({f"crit-{i}-key": c.key, f"crit-{i}-name": c.name, f"crit-{i}-weight": str(c.weight),
                     f"crit-{i}-guidance": c.guidance, f"crit-{i}-levels": "\n".join(c.levels)})  # fmt: skip
    resp = client.post(f"/evaluation/models/{v1.pk}/edit/", data, follow=True)
    assert resp.status_code == 200 and "Saved as" in resp.content.decode()
    v2 = ScoringModel.objects.get(code=v1.code, version=2)
    assert v2.status == "active" and v2.strategic_min == 70
    assert [c.key for c in v2.criteria.all()] == [c.key for c in crit]
    v1.refresh_from_db()
    assert v1.status == "retired" and v1.strategic_min == 75


def test_only_admins_open_the_model_editor(web: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    for role in ("lead", "kam", "compliance"):
        assert web(role).get("/evaluation/models/new/").status_code == 403
        assert web(role).post(f"/evaluation/models/{models['trade'].pk}/edit/", _editor_post()).status_code == 403
    assert web("admin").get("/evaluation/models/999999/edit/").status_code == 404
    assert 'data-testid="model-new"' not in web("lead").get("/evaluation/models/").content.decode()
