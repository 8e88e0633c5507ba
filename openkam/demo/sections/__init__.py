"""World sections of the higher apps, built after the core world (``WorldGenerator.build``), in this order.

Each module here owns the demo/bench data of one capability and exposes ``SECTION``: the models it writes
(parents first — the loader adds them to the tables it checks, wipes, analyses) and a ``build(gen)`` function that
reads the generator's state (``gen.units``, ``gen.users``, ``gen.personas``, ``gen.acc_*``, ``gen.rng(name)``,
``gen.new_id(table)``, ``gen.anchor``, ``gen.scale``) and writes rows with ``gen.write(Model, columns, rows)``.
Deterministic: draw only from ``gen.rng("<section>:<what>")``. Scale-aware: size by ``gen.scale``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model

    from openkam.demo.world import WorldGenerator


@dataclass(frozen=True)
class WorldSection:
    name: str
    models: tuple[type[Model], ...]
    build: Callable[[WorldGenerator], Any]
    # big tables whose secondary indexes are rebuilt after a no-history (bench) load
    deferred_index_models: tuple[type[Model], ...] = field(default=())


def sections() -> tuple[WorldSection, ...]:
    """The registered sections, in build order (imported lazily: the generator module stays light)."""
    found: list[WorldSection] = []
    # Register a section by adding its module here (one line each).
    from openkam.demo.sections import relationships; found.append(relationships.SECTION)  # noqa: E702, I001
    from openkam.demo.sections import market_access; found.append(market_access.SECTION)  # noqa: E702, I001
    from openkam.demo.sections import commercial; found.append(commercial.SECTION)  # noqa: E702, I001
    from openkam.demo.sections import plan_sections; found.append(plan_sections.SECTION)  # noqa: E702, I001
    return tuple(found)
