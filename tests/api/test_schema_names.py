"""Every API schema name stands for one shape: django-ninja files components by class name, so two different
schemas with one name would silently describe one of them wrongly in the OpenAPI document."""

from __future__ import annotations

import json
from collections import defaultdict

from ninja import Schema

import config.api  # noqa: F401  (mounts every router, importing every api module)


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def test_schema_names_are_unique_per_shape() -> None:
    shapes: dict[str, dict[str, str]] = defaultdict(dict)
    for schema in _subclasses(Schema):
        if schema.__module__.startswith("openkam."):
            shape = json.dumps(schema.model_json_schema(), sort_keys=True, default=str)
            shapes[schema.__name__][schema.__module__] = shape
    clashes = {name: sorted(by_module) for name, by_module in shapes.items() if len(set(by_module.values())) > 1}
    assert not clashes, f"schemas with one name and different shapes (rename one): {clashes}"
