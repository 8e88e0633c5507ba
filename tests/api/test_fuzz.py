"""API fuzzing with Schemathesis: no request, however malformed, gets a 500, and every answer is documented.

The schema is loaded from the Django app itself (``/api/v1/openapi.json`` through WSGI, as the fuzzed calls are).
Two tests, each parametrized over every operation:
- ``test_api_fuzz`` — ``FUZZ_EXAMPLES`` (default 3) random cases per operation, valid and invalid, as kam, msl,
  compliance and admin (bearer tokens);
- ``test_api_coverage`` — Schemathesis' coverage phase as admin: boundary values of every parameter and body
  field (shortest/longest strings, smallest/largest numbers, every enum value, nulls, missing optional fields...).
Valid (positive) cases get, most of the time, ids of rows that exist in ``fuzz_world`` instead of random ints (so
requests get past the 404s into the services), and one in three carries a NUL character in every free-text field.
Every call runs in a savepoint that is rolled back: nothing a call writes is seen by the next one.

Each answer must: not be a 5xx; have a status code the operation documents; have the documented content type and a
body matching the schema for that code; reject schema-invalid input with a 4xx (``negative_data_rejection``); and,
for any 4xx, be the error format ``{"code", "message", "errors": [{"field", "code", "message"}]}``.

Deterministic (Hypothesis ``derandomize``) and bounded: about 1,200 fuzz and 1,800 coverage calls, 1–2 minutes.
``OPENKAM_FUZZ_DEEP=1`` runs the thorough version (run it after changing the API): 25 fuzz cases per operation,
positive and negative coverage, every persona — about 40,000 calls, 15–30 minutes with ``-n 2 --dist load``.
``OPENKAM_FUZZ_EXAMPLES=N`` sets the number of fuzz cases.
"""

from __future__ import annotations

import json
import os
import zlib
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.api.conftest import FuzzWorld

PERSONAS = ("kam", "msl", "compliance", "admin")

DEEP = os.environ.get("OPENKAM_FUZZ_DEEP") == "1"
FUZZ_EXAMPLES = int(os.environ.get("OPENKAM_FUZZ_EXAMPLES", "25" if DEEP else "3"))
FUZZ_PERSONAS = ("kam", "kam2", "lead", "msl", "access", "compliance", "admin") if DEEP else PERSONAS
COVERAGE_PERSONAS = FUZZ_PERSONAS if DEEP else ("admin",)
COVERAGE_MODE = "all" if DEEP else "positive"  # negative coverage (~3,800 more calls) only in the deep run


def _config(phase: str, mode: str) -> SchemathesisConfig:
    phases = {name: {"enabled": name == phase} for name in ("examples", "coverage", "fuzzing", "stateful")}
    return SchemathesisConfig.from_dict(
        {
            "phases": phases,
            "generation": {"mode": mode, "max-examples": FUZZ_EXAMPLES, "deterministic": True, "database": "none"},
        }
    )


fuzz_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=_config("fuzzing", "all"))
coverage_schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", application, config=_config("coverage", COVERAGE_MODE)
)

ERROR_KEYS = {"code", "message", "errors"}
FIELD_ERROR_KEYS = {"field", "code", "message"}


def error_format(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx body is ``{"code", "message", "errors": [{"field", "code", "message"}]}`` (strings)."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} is not JSON: {response.content[:200]!r}") from None
    assert isinstance(body, dict) and set(body) == ERROR_KEYS, f"not the error format: {body!r}"
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["message"], str), body
    assert isinstance(body["errors"], list), body
    for err in body["errors"]:
        assert isinstance(err, dict) and set(err) == FIELD_ERROR_KEYS, f"not a field error: {err!r}"
        assert all(isinstance(v, str) for v in err.values()), err
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    error_format,
]


@pytest.fixture(scope="module", autouse=True)
def _keep_test_connection() -> Any:
    """A request through the real WSGI handler closes "old" connections when it starts and ends — which would
    close the test's connection in the middle of its transaction. Django's test client disconnects the same
    handler; do that for the module."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _pick(case: Any, name: str, original: Any, pool: list[Any]) -> Any:
    """A stable choice (the same case always gets the same value): an existing id 3 times out of 4."""
    seed = zlib.crc32(repr((case.operation.label, name, original)).encode())
    if seed % 4 == 0:
        return original
    value = pool[(seed >> 2) % len(pool)]
    if isinstance(original, str) and not isinstance(value, str):
        return str(value)
    return value


def _use_existing_ids(case: Any, world: FuzzWorld) -> None:
    """Replace generated ids by ids of rows that exist (a random int is nearly always a 404)."""
    for container in (case.path_parameters, case.query, case.headers, case.body):
        if not isinstance(container, dict):
            continue
        for name, value in list(container.items()):
            pool = world.ids.get(name)
            if not pool or isinstance(value, bool) or not isinstance(value, (int, str, list)):
                continue
            if isinstance(value, list) == isinstance(pool[0], list):
                container[name] = _pick(case, name, value, pool)


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _is_free_text(schema: dict[str, Any], node: dict[str, Any]) -> bool:
    """A plain string (no enum, format or pattern), possibly nullable."""
    node = _resolve(schema, node)
    options = [_resolve(schema, o) for o in node.get("anyOf", [node])]
    return any(o.get("type") == "string" and not {"enum", "format", "pattern"} & set(o) for o in options)


def _text_fields(case: Any) -> tuple[set[str], set[str]]:
    """Names of the free-text query parameters and top-level body fields of the case's operation."""
    raw, op = case.operation.schema.raw_schema, case.operation.definition.raw
    query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query" and _is_free_text(raw, p["schema"])}
    ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    props = _resolve(raw, ref).get("properties", {}) if ref else {}
    return query, {name for name, prop in props.items() if _is_free_text(raw, prop)}


def _inject_nul(case: Any) -> None:
    """One positive case in three carries a NUL byte in every free-text field (PostgreSQL refuses NUL in text:
    the API must answer 2xx or 4xx, not crash)."""
    if zlib.crc32(repr((case.operation.label, case.query, case.body)).encode()) % 3:
        return
    query_fields, body_fields = _text_fields(case)
    for container, fields in ((case.query, query_fields), (case.body, body_fields)):
        if isinstance(container, dict):
            for name in fields & set(container):
                if isinstance(container[name], str):
                    container[name] = container[name][:1] + "\x00" + container[name][1:]


def _run(case: Any, persona: str, world: FuzzWorld) -> None:
    meta = getattr(case, "meta", None)
    if meta is not None and meta.generation.mode == GenerationMode.POSITIVE:
        _use_existing_ids(case, world)
        _inject_nul(case)
    headers = {"Authorization": f"Bearer {world.tokens[persona]}"}
    with transaction.atomic():  # a savepoint: whatever the call writes is rolled back
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        finally:
            transaction.set_rollback(True)


HYPOTHESIS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@pytest.mark.parametrize("persona", FUZZ_PERSONAS)
@fuzz_schema.parametrize()
@HYPOTHESIS
def test_api_fuzz(case: Any, persona: str, fuzz_world: FuzzWorld, db: Any) -> None:
    """Random valid and invalid requests to every operation, as each persona."""
    _run(case, persona, fuzz_world)


@pytest.mark.parametrize("persona", COVERAGE_PERSONAS)
@coverage_schema.parametrize()
@HYPOTHESIS
def test_api_coverage(case: Any, persona: str, fuzz_world: FuzzWorld, db: Any) -> None:
    """Boundary and invalid values for each parameter and body field of every operation."""
    _run(case, persona, fuzz_world)
