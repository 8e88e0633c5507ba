"""Portfolio services: only administrators write; bad input names the field and writes nothing."""

import datetime as dt

import pytest

from openkam.core.errors import PermissionDenied, ValidationFailed
from openkam.core.selectors import object_history
from openkam.portfolio import selectors, services
from openkam.portfolio.models import Indication, Product, TherapeuticArea

pytestmark = pytest.mark.django_db


def field_of(exc_info):
    return [e.field for e in exc_info.value.errors]


def test_catalogue_is_built_and_codes_are_normalised(catalogue):
    assert catalogue.hf.icd10 == "I50.22"
    assert catalogue.cardio.code == "cardio"
    assert set(Product.objects.values_list("name", flat=True)) == {"Cardiovex", "Lipidra", "Tumorex"}


@pytest.mark.parametrize("role", ["kam", "lead", "msl", "access", "compliance"])
def test_only_admin_writes(catalogue, personas, role):
    actor = personas[role]
    with pytest.raises(PermissionDenied):
        services.ta_create(actor=actor, code="derm", name="Dermatology")
    with pytest.raises(PermissionDenied):
        services.product_update(actor=actor, product=catalogue.cardiovex, status="withdrawn")
    with pytest.raises(PermissionDenied):
        services.indication_create(actor=actor, product=catalogue.lipidra, name="Hypercholesterolaemia")
    with pytest.raises(PermissionDenied):
        services.indication_delete(actor=actor, indication=catalogue.hf)
    assert not TherapeuticArea.objects.filter(code="derm").exists()
    assert Product.objects.get(pk=catalogue.cardiovex.pk).status == "marketed"


def test_unique_names_name_the_field(catalogue, personas):
    admin = personas["admin"]
    with pytest.raises(ValidationFailed) as exc:
        services.ta_create(actor=admin, code="cardio2", name="Cardiovascular")
    assert field_of(exc) == ["name"]
    with pytest.raises(ValidationFailed) as exc:
        services.ta_create(actor=admin, code="cardio", name="Heart")
    assert field_of(exc) == ["code"]
    with pytest.raises(ValidationFailed) as exc:
        services.product_create(actor=admin, name="Cardiovex", generic_name="x", therapeutic_area=catalogue.onco)
    assert field_of(exc) == ["name"]
    with pytest.raises(ValidationFailed) as exc:
        services.product_update(actor=admin, product=catalogue.lipidra, name="Tumorex")
    assert field_of(exc) == ["name"]
    with pytest.raises(ValidationFailed) as exc:
        services.indication_create(actor=admin, product=catalogue.cardiovex, name="chronic HEART failure")
    assert field_of(exc) == ["name"]
    # the same indication name on another product is fine
    services.indication_create(actor=admin, product=catalogue.lipidra, name="Chronic heart failure", approved=False)


def test_identifier_formats_and_dates_are_checked(catalogue, personas):
    admin = personas["admin"]
    with pytest.raises(ValidationFailed) as exc:
        services.product_update(actor=admin, product=catalogue.lipidra, ndc="12-34")
    assert field_of(exc) == ["ndc"]
    for good in ["1234-5678-90", "12345-678-90", "12345-6789-0", "12345678901"]:
        services.product_update(actor=admin, product=catalogue.lipidra, ndc=good)
    with pytest.raises(ValidationFailed) as exc:
        services.indication_update(actor=admin, indication=catalogue.hf, icd10="heart")
    assert field_of(exc) == ["icd10"]
    with pytest.raises(ValidationFailed) as exc:
        services.indication_update(actor=admin, indication=catalogue.hf, approved=False)
    assert field_of(exc) == ["approval_date"]  # an unapproved indication has no approval date
    with pytest.raises(ValidationFailed) as exc:
        services.indication_update(actor=admin, indication=catalogue.hf, approval_date=dt.date(2999, 1, 1))
    assert field_of(exc) == ["approval_date"]
    hf = Indication.objects.get(pk=catalogue.hf.pk)
    assert (hf.icd10, hf.approved) == ("I50.22", True)


def test_several_bad_fields_are_reported_together_and_nothing_is_written(catalogue, personas):
    with pytest.raises(ValidationFailed) as exc:
        services.product_create(
            actor=personas["admin"], name="", generic_name="", therapeutic_area=catalogue.cardio, ndc="nope"
        )
    assert set(field_of(exc)) == {"name", "generic_name", "ndc"}
    assert Product.objects.count() == 3


def test_unknown_therapeutic_area_names_the_field(catalogue, personas):
    with pytest.raises(ValidationFailed) as exc:
        services.product_create(actor=personas["admin"], name="X", generic_name="y", therapeutic_area=999999)
    assert field_of(exc) == ["therapeutic_area"]


def test_changes_are_audited_with_action_code(catalogue, personas):
    services.product_update(
        actor=personas["admin"], product=catalogue.cardiovex, status="withdrawn", reason="market exit"
    )
    event = object_history(obj=catalogue.cardiovex).first()
    assert event.pgh_diff["status"] == ["marketed", "withdrawn"]
    assert event.pgh_context["action"] == "portfolio.product.update"
    assert event.pgh_context["reason"] == "market exit"


def test_product_history_includes_indications_even_deleted_ones(catalogue, personas):
    admin = personas["admin"]
    services.indication_delete(actor=admin, indication=catalogue.hf)
    events = list(selectors.product_history(actor=personas["kam"], product=catalogue.cardiovex))
    labels = [(e.pgh_obj_model, e.pgh_label) for e in events]
    assert ("portfolio.Indication", "delete") in labels
    assert ("portfolio.Product", "insert") in labels
    assert all(e.pgh_obj_model != "portfolio.Product" or e.pgh_obj_id == str(catalogue.cardiovex.pk) for e in events)
    other = list(selectors.product_history(actor=personas["kam"], product=catalogue.tumorex))
    assert all(e.pgh_data.get("product_id", catalogue.tumorex.pk) == catalogue.tumorex.pk for e in other)


def test_everyone_reads_the_catalogue(catalogue, personas):
    for role in ["kam", "msl", "compliance", "access"]:
        areas = selectors.portfolio_overview(actor=personas[role])
        assert [ta.name for ta in areas] == ["Cardiovascular", "Oncology"]
        assert [p.name for p in areas[0].product_rows] == ["Cardiovex", "Lipidra"]
        assert [i.name for i in areas[0].product_rows[0].indication_rows] == [
            "Chronic heart failure",
            "Post-MI remodelling",
        ]


def test_overview_filters_and_runs_in_constant_queries(catalogue, personas, django_assert_max_num_queries):
    kam = personas["kam"]
    areas = selectors.portfolio_overview(actor=kam, status="launch")
    assert [ta.name for ta in areas] == ["Oncology"]
    assert [p.name for ta in selectors.portfolio_overview(actor=kam, q="1234") for p in ta.product_rows] == [
        "Cardiovex"
    ]
    for n in range(20):
        services.product_create(
            actor=personas["admin"], name=f"Extra {n}", generic_name="g", therapeutic_area=catalogue.onco
        )
    with django_assert_max_num_queries(3):
        areas = selectors.portfolio_overview(actor=kam)
        assert sum(len(ta.product_rows) for ta in areas) == 23
