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
    from openkam.demo.sections import commercial, market_access, plan_sections, relationships

    # build order: relationships, market access, commercial (reads formulary status), then the plan sections
    return (relationships.SECTION, market_access.SECTION, commercial.SECTION, plan_sections.SECTION)
