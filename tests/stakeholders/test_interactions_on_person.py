"""The stakeholder page lists the interactions the reader may see with that person, and links to all of them."""

import pytest

from openkam.activities import services as activity_services
from openkam.stakeholders import services as sh_services


@pytest.mark.django_db
def test_person_page_shows_visible_interactions_only(world, web):
    u = world.users
    person = sh_services.stakeholder_create(
        actor=u["kam"], first_name="Ada", last_name="Okafor", account=world.hospital, title="Director of Pharmacy"
    )
    from django.utils import timezone

    when = timezone.now().replace(microsecond=0)
    activity_services.interaction_create(
        actor=u["kam"], account=world.hospital, occurred_at=when, channel="visit", subject="Formulary follow-up",
        classification="commercial", stakeholders=[person],
    )  # fmt: skip
    activity_services.interaction_create(
        actor=u["msl"], account=world.hospital, occurred_at=when, channel="meeting", subject="Trial data exchange",
        classification="medical", stakeholders=[person],
    )  # fmt: skip
    kam_page = web("kam").get(f"/stakeholders/{person.pk}/").content.decode()
    assert "Formulary follow-up" in kam_page and "Trial data exchange" not in kam_page
    msl_page = web("msl").get(f"/stakeholders/{person.pk}/").content.decode()
    assert "Trial data exchange" in msl_page and "Formulary follow-up" not in msl_page
    listed = web("kam").get(f"/interactions/?stakeholder={person.pk}").content.decode()
    assert "Formulary follow-up" in listed and "With Ada Okafor" in listed
    assert web("kam2").get(f"/interactions/?stakeholder={person.pk}").status_code == 404
