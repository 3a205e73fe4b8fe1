"""Registry of the cost models, so that generic code and the property suite can find them all."""

from __future__ import annotations

import importlib

from hwcost.types import CostModel

MODEL_MODULES: dict[str, str] = {
    "eie": "hwcost.eie",
    "memory": "hwcost.memory",
}
"""Model name -> module exporting ``COST_MODEL``. Each model module adds itself here on landing."""


def cost_model(name: str) -> CostModel:
    """The registered cost model called ``name``."""
    if name not in MODEL_MODULES:
        raise ValueError(f"hardware={name!r} is unknown; allowed: {', '.join(sorted(MODEL_MODULES))}")
    return importlib.import_module(MODEL_MODULES[name]).COST_MODEL


def all_cost_models() -> list[CostModel]:
    """Every registered cost model, in name order."""
    return [cost_model(name) for name in sorted(MODEL_MODULES)]
