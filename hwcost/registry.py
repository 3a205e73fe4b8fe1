"""Registry of the cost models: generic code, the property suite, the trainer and the command line find
every model here and nowhere else.

The models that ship with hwcost are imported on first use (:data:`BUILT_IN`); any other model (a user's,
or a test's toy model) joins with :func:`register`.
"""

from __future__ import annotations

import importlib

from hwcost.types import CostModel

BUILT_IN: dict[str, str] = {
    "dcnn": "hwcost.dcnn",
    "dcnn-opt": "hwcost.dcnn:OPT_COST_MODEL",
    "eie": "hwcost.eie",
    "ese": "hwcost.ese",
    "holiswap": "hwcost.holiswap",
    "memory": "hwcost.memory",
    "scnn": "hwcost.scnn",
}
"""Model name -> ``module`` exporting ``COST_MODEL`` (or ``module:attribute``), imported on first use."""

_REGISTERED: dict[str, CostModel] = {}


def register(model: CostModel, *, replace: bool = False) -> CostModel:
    """Add ``model`` under ``model.name``; ``ValueError`` if the name is taken (unless ``replace``)."""
    if not replace and model.name in names():
        raise ValueError(f"hardware={model.name!r} is already registered; pass replace=True to replace it")
    _REGISTERED[model.name] = model
    return model


def unregister(name: str) -> None:
    """Remove a model added with :func:`register` (built-in models cannot be removed)."""
    if name not in _REGISTERED or name in BUILT_IN:
        raise ValueError(f"hardware={name!r} was not added with register(); registered: {', '.join(names())}")
    del _REGISTERED[name]


def names() -> tuple[str, ...]:
    """Every registered model name, sorted."""
    return tuple(sorted({*BUILT_IN, *_REGISTERED}))


def cost_model(name: str) -> CostModel:
    """The registered cost model called ``name``; ``ValueError`` naming the allowed names otherwise."""
    if name not in _REGISTERED:
        if name not in BUILT_IN:
            raise ValueError(f"hardware={name!r} is unknown; allowed: {', '.join(names())}")
        module, _, attribute = BUILT_IN[name].partition(":")
        _REGISTERED[name] = getattr(importlib.import_module(module), attribute or "COST_MODEL")
    return _REGISTERED[name]


def all_cost_models() -> list[CostModel]:
    """Every registered cost model, in name order."""
    return [cost_model(name) for name in names()]
