"""Interaction pages: list with filters, detail with history, log / edit / delete forms."""

import pytest
from django.utils import timezone

from openkam.activities.models import Interaction
from tests.activities.conftest import ago

pytestmark = pytest.mark.django_db


def form_data(scene, **kw):
    data = {
        "occurred_at": timezone.localtime(ago(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "channel": "visit",
        "account": scene.world.hospital.pk,
        "classification": "commercial",
        "subject": "Budget impact model review",
        "notes": "Pharmacy asked for the budget impact model.",
        "duration_minutes": "30",
        "stakeholders": [scene.cardiologist.pk],
        "participants": [scene.users["kam"].pk],
        "plan_link": f"a{scene.commercial_action.pk}",
    }
    data.update(kw)
    return data


def test_list_shows_visible_interactions_with_badges(scene, web):
    html = web("kam").get("/interactions/").content.decode()
    assert "Formulary discussion" in html and "Heart failure webinar" in html
    assert "Trial data exchange" not in html
    assert "badge-class-commercial" in html and "Dr. Ada Heart, MD" in html
    assert 'data-testid="log-interaction"' in html


def test_msl_list_never_shows_commercial(scene, web):
    html = web("msl").get("/interactions/").content.decode()
    assert "Formulary discussion" not in html and "Trial data exchange" in html


def test_compliance_reads_without_log_button(scene, web):
    resp = web("compliance").get("/interactions/")
    assert resp.status_code == 200 and 'data-testid="log-interaction"' not in resp.content.decode()
    assert web("compliance").get("/interactions/new/").status_code == 403


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("channel=digital", {"Heart failure webinar"}),
        ("channel=human", {"Formulary discussion"}),
        ("channel=visit", {"Formulary discussion"}),
        ("q=webinar", {"Heart failure webinar"}),
        ("classification=joint", {"Heart failure webinar"}),
        ("mine=on", {"Formulary discussion", "Heart failure webinar"}),
        ("channel=bogus", {"Formulary discussion", "Heart failure webinar"}),  # bad values are ignored
    ],
)
def test_list_filters(scene, web, query, expected):
    html = web("kam").get(f"/interactions/?{query}").content.decode()
    shown = {s for s in ["Formulary discussion", "Heart failure webinar", "Trial data exchange"] if s in html}
    assert shown == expected


def test_list_account_and_date_filters(scene, web):
    kam = web("kam")
    html = kam.get(f"/interactions/?account={scene.world.hospital.pk}").content.decode()
    assert "Formulary discussion" in html and "Heart failure webinar" not in html
    day = timezone.localtime(ago(days=2)).date().isoformat()
    html = kam.get(f"/interactions/?since={day}&until={day}").content.decode()
    assert "Formulary discussion" in html and "Heart failure webinar" not in html
    html = kam.get("/interactions/?since=2001-01-01&until=2001-01-02").content.decode()
    assert "No interaction matches these filters" in html


def test_list_paginates(scene, web, settings):
    settings.OPENKAM = {**settings.OPENKAM, "PAGE_SIZE": 2}
    html = web("compliance").get("/interactions/").content.decode()
    assert "Page 1 of 2" in html


def test_detail_with_history_and_hidden_from_other_function(scene, web):
    resp = web("kam").get(f"/interactions/{scene.commercial.pk}/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "Formulary discussion" in html and 'data-testid="history"' in html and "P&amp;T dossier" in html
    assert 'data-testid="edit-interaction"' in html
    assert web("msl").get(f"/interactions/{scene.commercial.pk}/").status_code == 404
    assert web("kam2").get(f"/interactions/{scene.commercial.pk}/").status_code == 404
    html = web("kam").get(f"/interactions/{scene.joint.pk}/").content.decode()
    assert 'data-testid="edit-interaction"' not in html  # logged by the msl


def test_create_form_prefills_the_account_and_limits_pickers(scene, web):
    resp = web("kam").get(f"/interactions/new/?account={scene.world.hospital.pk}")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "Dr. Ada Heart, MD" in html and "Ben Pill, PharmD" in html  # at Cardiology (below) and former
    assert "Cora Harbor" not in html
    assert "P&amp;T dossier" in html and "Present dossier to P&amp;T" in html
    assert "Advisory board" not in html  # medical tactic: not for a KAM
    assert f'<option value="{scene.world.hospital.pk}" selected' in html
    assert "Harbor Medical Center" not in html  # not on kam's book


def test_msl_form_offers_medical_and_joint_only(scene, web):
    html = web("msl").get(f"/interactions/new/?account={scene.world.idn.pk}").content.decode()
    assert 'value="medical"' in html and 'value="joint"' in html and 'value="commercial"' not in html
    assert "Advisory board" in html and "P&amp;T dossier" not in html


def test_pickers_partial_follows_the_account(scene, web):
    html = web("kam").get(f"/interactions/form/pickers/?account={scene.world.hospital2.pk}").content.decode()
    assert "Dr. Ada Heart" not in html and "Nobody holds a position" in html
    assert 'hx-swap-oob="true"' in html and "P&amp;T dossier" in html  # the IDN plan applies below it
    html = web("kam").get(f"/interactions/form/pickers/?account={scene.world.other_account.pk}").content.decode()
    assert "Choose the account first" in html


def test_log_an_interaction_through_the_form(scene, web):
    resp = web("kam").post("/interactions/new/", form_data(scene))
    created = Interaction.objects.get(subject="Budget impact model review")
    assert resp.status_code == 302 and resp["Location"] == f"/interactions/{created.pk}/"
    assert (created.tactic, created.action) == (scene.commercial_tactic, scene.commercial_action)
    assert list(created.stakeholders.all()) == [scene.cardiologist]
    assert created.duration_minutes == 30 and created.created_by == scene.users["kam"]


def test_form_errors_are_shown_next_to_the_fields(scene, web):
    resp = web("kam").post(
        "/interactions/new/",
        form_data(scene, subject="", occurred_at=timezone.localtime(ago(days=-3)).strftime("%Y-%m-%dT%H:%M")),
    )
    html = resp.content.decode()
    assert resp.status_code == 400 and 'data-testid="error-subject"' in html
    resp = web("kam").post("/interactions/new/", form_data(scene))
    assert resp.status_code == 302
    # a stakeholder from another account, smuggled into the POST, is refused on the stakeholders field
    resp = web("admin").post(
        "/interactions/new/", form_data(scene, stakeholders=[scene.harbor_doc.pk], subject="Smuggled")
    )
    assert resp.status_code == 400 and 'data-testid="error-stakeholders"' in resp.content.decode()
    # the future time is refused by the service, shown on its field
    resp = web("kam").post(
        "/interactions/new/",
        form_data(scene, occurred_at=timezone.localtime(ago(days=-3)).strftime("%Y-%m-%dT%H:%M")),
    )
    assert resp.status_code == 400 and 'data-testid="error-occurred_at"' in resp.content.decode()
    assert not Interaction.objects.filter(subject="Smuggled").exists()


def test_edit_and_delete_by_author(scene, web):
    kam = web("kam")
    resp = kam.get(f"/interactions/{scene.commercial.pk}/edit/")
    assert resp.status_code == 200 and "Formulary discussion" in resp.content.decode()
    resp = kam.post(
        f"/interactions/{scene.commercial.pk}/edit/",
        form_data(scene, subject="Formulary discussion (updated)", plan_link="", reason="typo"),
    )
    assert resp.status_code == 302
    scene.commercial.refresh_from_db()
    assert scene.commercial.subject == "Formulary discussion (updated)" and scene.commercial.tactic is None
    resp = kam.post(f"/interactions/{scene.commercial.pk}/delete/", {"reason": "duplicate"})
    assert resp.status_code == 302 and resp["Location"] == "/interactions/"
    assert not Interaction.objects.filter(pk=scene.commercial.pk).exists()


def test_others_cannot_edit_or_delete(scene, web):
    assert web("kam").get(f"/interactions/{scene.joint.pk}/edit/").status_code == 403
    assert web("kam").post(f"/interactions/{scene.joint.pk}/delete/").status_code == 403
    assert web("compliance").post(f"/interactions/{scene.joint.pk}/delete/").status_code == 403
    assert web("kam2").post(f"/interactions/{scene.joint.pk}/delete/").status_code == 404
    assert Interaction.objects.filter(pk=scene.joint.pk).exists()


def test_ids_are_never_localised_in_form_values(scene, web):
    """USE_THOUSAND_SEPARATOR must not turn id 1234567 into "1,234,567" in a checkbox or option value."""
    from tests import factories as f

    person = f.StakeholderFactory(pk=1234567, first_name="Big", last_name="Id")
    f.PositionFactory(stakeholder=person, account=scene.world.hospital, title="Nurse lead")
    html = web("kam").get(f"/interactions/new/?account={scene.world.hospital.pk}").content.decode()
    assert 'value="1234567"' in html
    resp = web("kam").post(
        "/interactions/new/",
        form_data(scene, stakeholders=[1234567], subject="Nurse lead meeting", plan_link=""),
    )
    assert resp.status_code == 302
    assert list(Interaction.objects.get(subject="Nurse lead meeting").stakeholders.all()) == [person]


def test_list_page_query_count_does_not_grow_with_rows(scene, web):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from openkam.activities import services

    client = web("kam")
    client.get("/interactions/")  # warm up (session, content types)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/interactions/").status_code == 200
    for n in range(10):
        services.interaction_create(
            actor=scene.users["kam"],
            account=scene.world.hospital,
            occurred_at=ago(hours=n + 1),
            channel="call",
            subject=f"Call {n}",
            stakeholders=[scene.cardiologist, scene.pharmacist],
            action=scene.commercial_action,
        )
    with CaptureQueriesContext(connection) as large:
        html = client.get("/interactions/").content.decode()
    assert "Call 9" in html
    assert len(large.captured_queries) == len(small.captured_queries)


def test_editing_one_field_changes_only_that_field(scene, web):
    from openkam.core.selectors import object_history

    before = Interaction.objects.get(pk=scene.commercial.pk)
    local = timezone.localtime(before.occurred_at)
    resp = web("kam").post(
        f"/interactions/{before.pk}/edit/",
        {
            "occurred_at": local.strftime("%Y-%m-%dT%H:%M"),  # minute precision, as the browser sends it
            "channel": before.channel,
            "duration_minutes": before.duration_minutes,
            "account": before.account_id,
            "classification": before.classification,
            "subject": "Formulary discussion — follow-up",
            "notes": before.notes,
            "stakeholders": [scene.cardiologist.pk],
            "participants": [scene.users["kam"].pk],
            "plan_link": f"t{scene.commercial_tactic.pk}",
        },
    )
    assert resp.status_code == 302
    after = Interaction.objects.get(pk=before.pk)
    assert after.occurred_at == before.occurred_at  # the seconds were not lost
    assert set(object_history(obj=after).first().pgh_diff) == {"subject", "updated_at"}


# --- long lists: accounts and colleagues are searched, not all rendered --------------------------------
def _shape(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200
    html = resp.content.decode()
    return html, len(resp.content), html.count("<option"), len(ctx.captured_queries)


def _clinics(scene, n, prefix="Zeta clinic"):
    from openkam.accounts import services as account_services

    admin = scene.users["admin"]
    return [
        account_services.account_create(actor=admin, name=f"{prefix} {i:03d}", type="clinic", parent=scene.world.idn)
        for i in range(n)
    ]


def test_form_size_options_and_queries_do_not_grow_with_users_or_accounts(scene, web):
    """Before: every active user and up to 1,000 accounts were options; now a first page of each (50)."""
    from openkam.core.models import User
    from tests import factories as f

    _clinics(scene, 60)
    f.UserFactory.create_batch(53)  # a first page (50) of colleagues and of accounts is full from here on
    assert User.objects.filter(is_active=True).count() == 60
    client = web("kam")
    url = f"/interactions/new/?account={scene.world.hospital.pk}"
    client.get(url)
    _html, bytes60, options60, queries60 = _shape(client, url)
    f.UserFactory.create_batch(140, last_name="Newcomer")
    _clinics(scene, 60, prefix="Yet another clinic")
    assert User.objects.filter(is_active=True).count() == 200
    html, bytes200, options200, queries200 = _shape(client, url)
    assert (options200, queries200) == (options60, queries60)
    assert abs(bytes200 - bytes60) < 2_000  # the first pages hold other names, not more of them
    assert html.count("Newcomer") <= 50 and html.count(" clinic ") <= 50
    assert 'data-testid="picker-account"' in html and 'data-testid="picker-participants"' in html
    assert f'<option value="{scene.users["kam"].pk}" selected>Kim Kam · Key account manager</option>' in html


def test_an_account_beyond_the_first_page_is_kept_and_accepted(scene, web):
    last = _clinics(scene, 60)[-1]
    client = web("kam")
    html = client.get(f"/interactions/new/?account={last.pk}").content.decode()
    assert f'<option value="{last.pk}" selected>Zeta clinic 059 · Beacon Health System</option>' in html
    resp = client.post(
        "/interactions/new/", form_data(scene, account=last.pk, subject="Clinic visit", stakeholders=[], plan_link="")
    )
    assert resp.status_code == 302 and Interaction.objects.get(subject="Clinic visit").account == last
    # an account off the book, smuggled into the POST, is refused on the account field
    resp = client.post(
        "/interactions/new/",
        form_data(scene, account=scene.world.other_account.pk, subject="Off book", stakeholders=[], plan_link=""),
    )
    assert resp.status_code == 400 and 'data-testid="error-account"' in resp.content.decode()
    assert not Interaction.objects.filter(subject="Off book").exists()


def test_participants_beyond_the_first_page_are_kept_and_inactive_ones_refused(scene, web):
    from tests import factories as f

    f.UserFactory.create_batch(60, last_name="Aaron")  # sorted before everyone else
    zoe = f.UserFactory(first_name="Zoe", last_name="Zulu")
    client = web("kam")
    data = form_data(scene, subject="With Zoe", participants=[scene.users["kam"].pk, zoe.pk])
    assert client.post("/interactions/new/", data).status_code == 302
    created = Interaction.objects.get(subject="With Zoe")
    assert set(created.participants.all()) == {scene.users["kam"], zoe}
    html = client.get(f"/interactions/{created.pk}/edit/").content.decode()
    assert f'<option value="{zoe.pk}" selected>Zoe Zulu · Key account manager</option>' in html
    assert html.count(" · Key account manager</option>") <= 2 + 50
    gone = f.UserFactory(first_name="Gone", last_name="Away", is_active=False)
    resp = client.post("/interactions/new/", form_data(scene, subject="With a ghost", participants=[gone.pk]))
    assert resp.status_code == 400 and 'data-testid="error-participants"' in resp.content.decode()
    assert not Interaction.objects.filter(subject="With a ghost").exists()
