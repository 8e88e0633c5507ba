"""The NPPES NPI Registry v2.1 parser, on real registry answers (tests/data/nppes/README.md) and broken ones."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from openkam.interop.nppes import (
    Individual,
    NppesApiError,
    NppesEmptyResult,
    NppesError,
    Organisation,
    parse_response,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "nppes"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def sample_json(name: str) -> dict[str, Any]:
    return json.loads(sample(name))


def test_an_individual_with_addresses_and_taxonomies() -> None:
    batch = parse_response(sample("api-b2f594.json"))
    assert batch.responses == 1 and len(batch) == 1 and not batch.organisations
    person = batch.individuals[0]
    assert isinstance(person, Individual)
    assert (person.npi, person.first_name, person.last_name, person.middle_name) == (
        "1720377294",
        "ELISE",
        "HIZA",
        "AILEEN",
    )
    assert person.credential == "M.D." and person.gender == "F" and person.is_active
    assert person.enumeration_date.isoformat() == "2011-04-05"
    assert person.primary_taxonomy is not None and person.primary_taxonomy.code == "207X00000X"
    assert [t.code for t in person.taxonomies] == ["207X00000X", "390200000X"]
    assert person.location is not None and person.location.city == "ASHEVILLE"
    assert person.location.postal_code_display == "28801-4811"
    assert person.mailing is not None and person.phone == "828-252-7331"


def test_an_organisation() -> None:
    batch = parse_response(sample("api-8bdc8b.json"))
    org = batch.organisations[0]
    assert isinstance(org, Organisation) and not batch.individuals
    assert org.npi == "1568946812" and org.name == "CSP ANESTHESIA LLC" and not org.subpart
    assert org.official_name == "TIMOTHY BARTON" and org.official_title == "MANAGING MEMBER"
    assert org.location is not None and org.location.street == "403 PERMIAN WAY STE D"
    assert org.mailing is not None and org.mailing.street == "PO BOX 1186"


def test_the_primary_taxonomy_comes_first_and_duplicates_are_kept_once() -> None:
    batch = parse_response(sample("api-34c18d.json"))
    assert len(batch.individuals) == 10
    biller = next(p for p in batch.individuals if p.last_name == "BILLER")
    assert [(t.code, t.primary) for t in biller.taxonomies] == [("213E00000X", True), ("213EP1101X", False)]
    twice = next(p for p in parse_response(sample("api-f62abe.json")).individuals if p.last_name == "NARVAEZ-MEZA")
    assert [(t.code, t.primary) for t in twice.taxonomies] == [("1041C0700X", True)]


def test_a_list_of_answers_is_one_batch() -> None:
    combined = json.dumps([sample_json("api-b2f594.json"), sample_json("api-1f9cef.json")]).encode()
    batch = parse_response(combined)
    assert batch.responses == 2 and len(batch.individuals) == 1 and len(batch.organisations) == 10
    assert [p.index for p in batch.providers] == list(range(11))


def test_the_registry_error_answer_is_reported_as_such() -> None:
    with pytest.raises(NppesApiError) as exc:
        parse_response(sample("api-8d2d52.json"))
    assert exc.value.code == "nppes_api_error"
    assert "No valid search criteria provided" in exc.value.message and "error 04" in exc.value.message
    assert exc.value.errors[0].field == "generic"


def test_an_empty_result_is_reported() -> None:
    with pytest.raises(NppesEmptyResult) as exc:
        parse_response(sample("api-a2f836.json"))
    assert exc.value.code == "nppes_empty" and "result_count 0" in exc.value.message


def _broken(mutate: Any, name: str = "api-b2f594.json") -> dict[str, Any]:
    doc = copy.deepcopy(sample_json(name))
    mutate(doc)
    return doc


@pytest.mark.parametrize(
    ("payload", "code", "where"),
    [
        (b"", "nppes_not_json", "empty"),
        (b"{not json", "nppes_not_json", "line 1"),
        (b"\xff\xfe\x00", "nppes_not_text", "UTF-8"),
        (b"[]", "nppes_malformed", "empty JSON list"),
        (b'{"hello": 1}', "nppes_not_registry", "no “results”"),
        (b'"text"', "nppes_malformed", "JSON object"),
        (b'{"results": {}}', "nppes_malformed", "results"),
        (b'{"Errors": []}', "nppes_malformed", "Errors"),
    ],
)
def test_files_that_are_not_registry_answers(payload: bytes, code: str, where: str) -> None:
    with pytest.raises(NppesError) as exc:
        parse_response(payload)
    assert exc.value.code == code and where in exc.value.message


@pytest.mark.parametrize(
    ("mutate", "code", "path"),
    [
        (lambda d: d.update(result_count=3), "nppes_count_mismatch", "result_count"),
        (lambda d: d["results"][0].update(number=1720377295), "nppes_bad_npi", "results[0].number"),
        (lambda d: d["results"][0].pop("number"), "nppes_missing_field", "results[0].number"),
        (lambda d: d["results"][0].update(enumeration_type="NPI-3"), "nppes_bad_type", "results[0].enumeration_type"),
        (lambda d: d["results"][0].pop("basic"), "nppes_missing_field", "results[0].basic"),
        (lambda d: d["results"][0]["basic"].update(last_name=""), "nppes_missing_field", "basic.last_name"),
        (lambda d: d["results"][0]["basic"].update(first_name=["x"]), "nppes_malformed", "basic.first_name"),
        (lambda d: d["results"][0]["basic"].update(status="X"), "nppes_malformed", "basic.status"),
        (lambda d: d["results"][0]["basic"].update(enumeration_date="24/05/2005"), "nppes_malformed", "enumeration"),
        (lambda d: d["results"][0].update(taxonomies={}), "nppes_malformed", "results[0].taxonomies"),
        (lambda d: d["results"][0]["taxonomies"][0].pop("code"), "nppes_missing_field", "taxonomies[0].code"),
        (lambda d: d["results"][0]["taxonomies"][0].update(primary="yes"), "nppes_malformed", "primary"),
        (lambda d: d["results"][0]["addresses"][0].update(address_purpose="HOME"), "nppes_malformed", "addresses[0]"),
        (lambda d: d["results"].append(d["results"][0]) or d.update(result_count=2), "nppes_duplicate_npi", ""),
    ],
)
def test_malformed_results_name_the_place_and_rule(mutate: Any, code: str, path: str) -> None:
    with pytest.raises(NppesError) as exc:
        parse_response(_broken(mutate))
    assert exc.value.code == code
    assert path in exc.value.message


def test_an_organisation_needs_its_name() -> None:
    doc = _broken(lambda d: d["results"][0]["basic"].pop("organization_name"), "api-8bdc8b.json")
    with pytest.raises(NppesError, match=r"results\[0\]\.basic\.organization_name"):
        parse_response(doc)


def test_a_deactivated_provider_is_parsed_as_inactive() -> None:
    doc = _broken(lambda d: d["results"][0]["basic"].update(status="D"))
    assert not parse_response(doc).individuals[0].is_active
