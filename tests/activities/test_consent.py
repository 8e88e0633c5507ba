"""Consent and privacy flags of the people named are enforced when interactions are logged or corrected."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from openkam.activities import services
from openkam.activities.models import Interaction
from openkam.core.errors import ValidationFailed
from tests.activities.conftest import ago

pytestmark = pytest.mark.django_db


def _log(scene: Any, channel: str = "visit", **data: Any) -> Any:
    data.setdefault("stakeholders", [scene.cardiologist])
    return services.interaction_create(
        actor=scene.users["kam"], account=scene.world.hospital, occurred_at=ago(days=1), channel=channel,
        subject="Dossier follow-up", **data,
    )  # fmt: skip


def _codes(exc: ValidationFailed) -> set[str]:
    return {e.code for e in exc.errors}


@pytest.mark.parametrize("flags", [{"do_not_contact": True}, {"consent_contact": False}, {"erased_at": timezone.now()}])
def test_no_interaction_with_someone_who_may_not_be_contacted(scene: Any, flags: dict[str, Any]) -> None:
    for key, value in flags.items():
        setattr(scene.cardiologist, key, value)
    scene.cardiologist.save()
    before = Interaction.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        _log(scene)
    assert "do_not_contact" in _codes(caught.value)
    assert scene.cardiologist.display_name in caught.value.errors[0].message
    assert Interaction.objects.count() == before  # nothing written


def test_email_needs_consent_to_email(scene: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _log(scene, channel="email")
    assert _codes(caught.value) == {"no_email_consent"}
    scene.cardiologist.consent_email = True
    scene.cardiologist.save()
    assert _log(scene, channel="email").channel == "email"


def test_corrections_check_newly_named_people_and_a_new_channel(scene: Any) -> None:
    interaction = _log(scene)
    scene.cardiologist.do_not_contact = True  # withdrew later: the past visit can still be corrected
    scene.cardiologist.save()
    services.interaction_update(actor=scene.users["kam"], interaction=interaction, subject="Dossier follow-up (2)")
    with pytest.raises(ValidationFailed):  # but not turned into an email to them
        services.interaction_update(actor=scene.users["kam"], interaction=interaction, channel="email")
    with pytest.raises(ValidationFailed):  # nor can they be added to another interaction
        services.interaction_update(
            actor=scene.users["kam"], interaction=_log(scene, stakeholders=[]), stakeholders=[scene.cardiologist]
        )


def test_api_names_the_rule(scene: Any, api: Any) -> None:
    scene.cardiologist.do_not_contact = True
    scene.cardiologist.save()
    status, body = api("kam").post(
        "interactions",
        {"account": scene.world.hospital.pk, "occurred_at": ago(days=1).isoformat(), "channel": "visit",
         "subject": "x", "stakeholders": [scene.cardiologist.pk]},
    )  # fmt: skip
    assert status == 422 and body["errors"][0]["code"] == "do_not_contact"
