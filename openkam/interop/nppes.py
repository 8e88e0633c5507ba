"""NPPES NPI Registry API v2.1 responses → dataclasses (a pure parser: no database, no domain app).

The CMS NPI Registry (``https://npiregistry.cms.hhs.gov/api/?version=2.1&...``) answers a search with
``{"result_count": N, "results": [...]}``; each result is an individual provider (``enumeration_type``
``NPI-1``) or an organisation (``NPI-2``) with ``basic`` (names, credential, status), ``addresses``
(``LOCATION`` and ``MAILING``), ``taxonomies`` (NUCC codes, one marked ``primary``), ``identifiers`` and
``other_names``. A bad search gets ``{"Errors": [{"field", "number", "description"}]}``.

:func:`parse_response` reads one response (bytes, text or an already decoded object) — or a JSON list of
responses, e.g. several result pages saved into one file — and returns :class:`NppesBatch`. Anything it cannot
use raises :class:`NppesError` naming the place (``results[3].basic.last_name``) and the rule, with a stable
``code``; an API error payload raises :class:`NppesApiError` and a response without results
:class:`NppesEmptyResult` (both subclasses), so the caller can say exactly what the file is.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from openkam.core.validators import npi_is_valid

INDIVIDUAL = "NPI-1"
ORGANISATION = "NPI-2"
MAX_BYTES = 10 * 1024 * 1024  # an API page holds at most 200 results (~1 MB); 10 MB is many pages


class NppesError(ValueError):
    """The file is not a usable NPI Registry response. ``path`` says where, ``code`` what rule it breaks."""

    def __init__(self, message: str, *, code: str = "nppes_malformed", path: str = "") -> None:
        self.code = code
        self.path = path
        self.message = f"{path}: {message}" if path else message
        super().__init__(self.message)


class NppesApiError(NppesError):
    """The file is the registry's own error answer (``{"Errors": [...]}``): the search itself was refused."""

    def __init__(self, errors: list[ApiErrorItem]) -> None:
        self.errors = errors
        described = "; ".join(f"{e.description} (error {e.number}, field “{e.field}”)" for e in errors)
        super().__init__(
            f"The file is an error answer of the NPI Registry, not search results: {described}. "
            "Repeat the search with valid criteria and upload its results.",
            code="nppes_api_error",
        )


class NppesEmptyResult(NppesError):
    """The search found nobody (``result_count`` 0): there is nothing to import."""

    def __init__(self) -> None:
        super().__init__(
            "The file holds an NPI Registry search that found no providers (result_count 0): nothing to import. "
            "Widen the search (name, state, taxonomy) and upload its results.",
            code="nppes_empty",
        )


@dataclass(frozen=True)
class ApiErrorItem:
    field: str
    number: str
    description: str


@dataclass(frozen=True)
class Taxonomy:
    code: str
    description: str
    primary: bool
    state: str = ""
    license: str = ""
    group: str = ""


@dataclass(frozen=True)
class Address:
    purpose: str  # LOCATION or MAILING
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country_code: str
    phone: str

    @property
    def street(self) -> str:
        return ", ".join(p for p in (self.line1, self.line2) if p)

    @property
    def postal_code_display(self) -> str:
        """US ZIP+4 as ``12345-6789`` (the registry sends the nine digits run together)."""
        code = self.postal_code
        if self.country_code == "US" and len(code) == 9 and code.isdigit():
            return f"{code[:5]}-{code[5:]}"
        return code


@dataclass(frozen=True)
class _Provider:
    npi: str
    status: str  # "A" active; "D" deactivated
    enumeration_date: dt.date | None
    last_updated: dt.date | None
    taxonomies: tuple[Taxonomy, ...]  # primary first, duplicates of a code removed
    location: Address | None
    mailing: Address | None
    index: int  # position in the file (0-based, over all responses), for messages

    @property
    def primary_taxonomy(self) -> Taxonomy | None:
        return self.taxonomies[0] if self.taxonomies else None

    @property
    def is_active(self) -> bool:
        return self.status == "A"

    @property
    def phone(self) -> str:
        for address in (self.location, self.mailing):
            if address is not None and address.phone:
                return address.phone
        return ""


@dataclass(frozen=True)
class Individual(_Provider):
    """An NPI-1 provider: a person."""

    first_name: str = ""
    last_name: str = ""
    middle_name: str = ""
    prefix: str = ""
    suffix: str = ""
    credential: str = ""
    gender: str = ""

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.prefix, self.first_name, self.middle_name, self.last_name, self.suffix) if p)


@dataclass(frozen=True)
class Organisation(_Provider):
    """An NPI-2 provider: an organisation (hospital, clinic, group practice, pharmacy...)."""

    name: str = ""
    subpart: bool = False
    official_name: str = ""
    official_title: str = ""
    official_phone: str = ""

    @property
    def display_name(self) -> str:
        return self.name


@dataclass
class NppesBatch:
    individuals: list[Individual] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)
    responses: int = 0

    @property
    def providers(self) -> list[Individual | Organisation]:
        return sorted([*self.individuals, *self.organisations], key=lambda p: p.index)

    def __len__(self) -> int:
        return len(self.individuals) + len(self.organisations)


# --- parsing ---------------------------------------------------------------------------------------
def parse_response(data: bytes | str | dict[str, Any] | list[Any]) -> NppesBatch:
    """Parse an NPI Registry v2.1 answer (or a JSON list of answers) into :class:`NppesBatch`.

    Raises :class:`NppesError` (malformed), :class:`NppesApiError` (the registry's error answer) or
    :class:`NppesEmptyResult` (no provider in the whole file).
    """
    doc = _decode(data)
    batch = NppesBatch()
    if isinstance(doc, list):
        if not doc:
            raise NppesError("The file holds an empty JSON list; expected NPI Registry search results.")
        for i, item in enumerate(doc):
            _parse_one(item, f"[{i}]", batch)
    else:
        _parse_one(doc, "", batch)
    if not len(batch):
        raise NppesEmptyResult()
    seen: dict[str, int] = {}
    for provider in batch.providers:
        if provider.npi in seen:
            raise NppesError(
                f"NPI {provider.npi} appears twice in the file (providers #{seen[provider.npi] + 1} and "
                f"#{provider.index + 1}); remove the duplicate.",
                code="nppes_duplicate_npi",
            )
        seen[provider.npi] = provider.index
    return batch


def load_document(data: bytes | str | dict[str, Any] | list[Any]) -> Any:
    """The decoded JSON of a file (size, encoding and syntax checked; the content is not)."""
    return _decode(data)


def _decode(data: bytes | str | dict[str, Any] | list[Any]) -> Any:
    if isinstance(data, dict | list):
        return data
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise NppesError(
                f"The file is {len(data) // (1024 * 1024)} MB; at most {MAX_BYTES // (1024 * 1024)} MB can be read.",
                code="nppes_too_large",
            )
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise NppesError(
                f"The file is not UTF-8 text (byte {exc.start}); upload the JSON exactly as the registry sent it.",
                code="nppes_not_text",
            ) from None
    if not data.strip():
        raise NppesError("The file is empty; expected the JSON answer of the NPI Registry.", code="nppes_not_json")
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise NppesError(
            f"The file is not valid JSON: {json_problem(exc.msg)} at line {exc.lineno}, column {exc.colno}.",
            code="nppes_not_json",
        ) from None


def json_problem(msg: str) -> str:
    """The JSON decoder's complaint as part of a sentence: ``Unterminated string starting at`` → ``unterminated
    string`` (its messages end in “at”/“starting at”, which the sentence adds with the line and column)."""
    text = msg.strip().rstrip(":").strip()
    for tail in (" starting at", " at"):
        if text.endswith(tail):
            text = text[: -len(tail)]
            break
    return text[:1].lower() + text[1:] if text else "malformed"


def _parse_one(doc: Any, at: str, batch: NppesBatch) -> None:
    if not isinstance(doc, dict):
        raise NppesError("expected a JSON object (an NPI Registry answer).", path=at or "(file)")
    if "Errors" in doc:
        raise NppesApiError(_api_errors(doc["Errors"], f"{at}.Errors" if at else "Errors"))
    if "results" not in doc:
        raise NppesError(
            "this is not an NPI Registry v2.1 answer: it has no “results” (nor “Errors”).",
            code="nppes_not_registry",
            path=at or "(file)",
        )
    results = doc["results"]
    if not isinstance(results, list):
        raise NppesError("“results” must be a list.", path=_join(at, "results"))
    count = doc.get("result_count")
    if count is not None:
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise NppesError("“result_count” must be a whole number.", path=_join(at, "result_count"))
        if count != len(results):
            raise NppesError(
                f"“result_count” says {count} but “results” holds {len(results)}: the file looks cut or edited.",
                code="nppes_count_mismatch",
                path=_join(at, "result_count"),
            )
    batch.responses += 1
    for i, item in enumerate(results):
        path = _join(at, f"results[{i}]")
        provider = _provider(item, path, index=len(batch))
        if isinstance(provider, Individual):
            batch.individuals.append(provider)
        else:
            batch.organisations.append(provider)


def _join(at: str, name: str) -> str:
    return f"{at}.{name}" if at else name


def _api_errors(value: Any, path: str) -> list[ApiErrorItem]:
    if not isinstance(value, list) or not value:
        raise NppesError("“Errors” must be a non-empty list.", path=path)
    items = []
    for i, err in enumerate(value):
        if not isinstance(err, dict):
            raise NppesError("each error must be an object.", path=f"{path}[{i}]")
        items.append(
            ApiErrorItem(
                field=str(err.get("field", "")),
                number=str(err.get("number", "")),
                description=str(err.get("description", "")).strip() or "no description",
            )
        )
    return items


def _text(obj: dict[str, Any], key: str, path: str, *, required: bool = False, max_length: int = 200) -> str:
    value = obj.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise NppesError(f"“{key}” must be text.", path=_join(path, key))
    text = " ".join(str(value).split())
    if "\x00" in text:
        raise NppesError(f"“{key}” contains a NUL character.", path=_join(path, key))
    if required and not text:
        raise NppesError(f"“{key}” is missing or empty.", code="nppes_missing_field", path=_join(path, key))
    if len(text) > max_length:
        raise NppesError(f"“{key}” is longer than {max_length} characters.", path=_join(path, key))
    return text


def _date(obj: dict[str, Any], key: str, path: str) -> dt.date | None:
    text = _text(obj, key, path)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise NppesError(f"“{key}” must be a date as YYYY-MM-DD, not “{text}”.", path=_join(path, key)) from None


def _provider(item: Any, path: str, *, index: int) -> Individual | Organisation:
    if not isinstance(item, dict):
        raise NppesError("each result must be an object.", path=path)
    raw_number = item.get("number")
    if isinstance(raw_number, bool) or not isinstance(raw_number, int | str):
        raise NppesError("“number” (the NPI) is missing.", code="nppes_missing_field", path=_join(path, "number"))
    npi = str(raw_number).strip()
    if not npi_is_valid(npi):
        raise NppesError(
            f"“{npi}” is not a valid NPI (10 digits starting with 1 or 2, with a correct check digit).",
            code="nppes_bad_npi",
            path=_join(path, "number"),
        )
    kind = item.get("enumeration_type")
    if kind not in (INDIVIDUAL, ORGANISATION):
        raise NppesError(
            f"“enumeration_type” must be NPI-1 (individual) or NPI-2 (organisation), not “{kind}”.",
            code="nppes_bad_type",
            path=_join(path, "enumeration_type"),
        )
    basic = item.get("basic")
    if not isinstance(basic, dict):
        raise NppesError(
            "“basic” (names and status) is missing.", code="nppes_missing_field", path=_join(path, "basic")
        )
    bpath = _join(path, "basic")
    status = _text(basic, "status", bpath) or "A"
    if status not in ("A", "D"):
        raise NppesError(
            f"“status” must be A (active) or D (deactivated), not “{status}”.", path=_join(bpath, "status")
        )
    addresses = _addresses(item.get("addresses"), _join(path, "addresses"))
    common: dict[str, Any] = {
        "npi": npi,
        "status": status,
        "enumeration_date": _date(basic, "enumeration_date", bpath),
        "last_updated": _date(basic, "last_updated", bpath),
        "taxonomies": _taxonomies(item.get("taxonomies"), _join(path, "taxonomies")),
        "location": addresses.get("LOCATION"),
        "mailing": addresses.get("MAILING"),
        "index": index,
    }
    if kind == INDIVIDUAL:
        return Individual(
            **common,
            first_name=_text(basic, "first_name", bpath, required=True, max_length=100),
            last_name=_text(basic, "last_name", bpath, required=True, max_length=100),
            middle_name=_text(basic, "middle_name", bpath, max_length=100),
            prefix=_text(basic, "name_prefix", bpath, max_length=20),
            suffix=_text(basic, "name_suffix", bpath, max_length=20),
            credential=_text(basic, "credential", bpath, max_length=60),
            gender=_text(basic, "gender", bpath, max_length=1),
        )
    official = " ".join(
        p
        for p in (
            _text(basic, "authorized_official_first_name", bpath),
            _text(basic, "authorized_official_last_name", bpath),
        )
        if p
    )
    return Organisation(
        **common,
        name=_text(basic, "organization_name", bpath, required=True, max_length=255),
        subpart=_text(basic, "organizational_subpart", bpath).upper() == "YES",
        official_name=official,
        official_title=_text(basic, "authorized_official_title_or_position", bpath),
        official_phone=_text(basic, "authorized_official_telephone_number", bpath, max_length=40),
    )


def _addresses(value: Any, path: str) -> dict[str, Address]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise NppesError("“addresses” must be a list.", path=path)
    out: dict[str, Address] = {}
    for i, raw in enumerate(value):
        at = f"{path}[{i}]"
        if not isinstance(raw, dict):
            raise NppesError("each address must be an object.", path=at)
        purpose = _text(raw, "address_purpose", at).upper()
        if purpose not in ("LOCATION", "MAILING"):
            raise NppesError(
                f"“address_purpose” must be LOCATION or MAILING, not “{purpose}”.", path=f"{at}.address_purpose"
            )
        out.setdefault(
            purpose,
            Address(
                purpose=purpose,
                line1=_text(raw, "address_1", at, max_length=255),
                line2=_text(raw, "address_2", at, max_length=255),
                city=_text(raw, "city", at, max_length=100),
                state=_text(raw, "state", at, max_length=100),
                postal_code=_text(raw, "postal_code", at, max_length=20),
                country_code=_text(raw, "country_code", at, max_length=2).upper() or "US",
                phone=_text(raw, "telephone_number", at, max_length=40),
            ),
        )
    return out


def _taxonomies(value: Any, path: str) -> tuple[Taxonomy, ...]:
    """The provider's taxonomies, primary first (the registry lists them in any order and sometimes twice:
    the same code once as primary and once not — it is kept once, as primary)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise NppesError("“taxonomies” must be a list.", path=path)
    by_code: dict[str, Taxonomy] = {}
    order: list[str] = []
    for i, raw in enumerate(value):
        at = f"{path}[{i}]"
        if not isinstance(raw, dict):
            raise NppesError("each taxonomy must be an object.", path=at)
        code = _text(raw, "code", at, required=True, max_length=10).upper()
        primary = raw.get("primary", False)
        if not isinstance(primary, bool):
            raise NppesError("“primary” must be true or false.", path=f"{at}.primary")
        tax = Taxonomy(
            code=code,
            description=_text(raw, "desc", at, max_length=255),
            primary=primary,
            state=_text(raw, "state", at, max_length=20),
            license=_text(raw, "license", at, max_length=60),
            group=_text(raw, "taxonomy_group", at, max_length=255),
        )
        if code not in by_code:
            order.append(code)
            by_code[code] = tax
        elif primary and not by_code[code].primary:
            by_code[code] = tax
    taxonomies = [by_code[c] for c in order]
    return tuple(sorted(taxonomies, key=lambda t: not t.primary))
