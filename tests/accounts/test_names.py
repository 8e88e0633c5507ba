"""Account names a person can tell apart across an IDN (every hospital has a "Pharmacy")."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openkam.accounts.models import Account, qualified_name
from tests import factories as f


def test_departments_and_clinics_carry_their_parents_name() -> None:
    assert qualified_name("Pharmacy", "department", "Mount Sinai West") == "Pharmacy · Mount Sinai West"
    assert qualified_name("Heart Clinic", "clinic", "Mount Sinai West") == "Heart Clinic · Mount Sinai West"
    assert qualified_name("Mount Sinai West", "hospital", "Hudson Harbor Health") == "Mount Sinai West"
    assert qualified_name("Pharmacy", "department", None) == "Pharmacy"


@pytest.mark.django_db
def test_qualified_name_reads_a_loaded_parent_without_a_query() -> None:
    idn = f.AccountFactory(name="Hudson Harbor Health", type="idn")
    hospital = f.AccountFactory(name="Mount Sinai West", type="hospital", parent=idn)
    f.AccountFactory(name="Pharmacy", type="department", parent=hospital)
    rows = list(Account.objects.filter(type__in=["department", "hospital"]).select_related("parent").order_by("pk"))
    with CaptureQueriesContext(connection) as q:
        names = [a.qualified_name for a in rows]
    assert names == ["Mount Sinai West", "Pharmacy · Mount Sinai West"] and len(q) == 0
