"""hwcost: differentiable hardware cost models for hardware-aware model compression.

Public API: the contract and its types (:mod:`hwcost.types`), generic evaluation (:mod:`hwcost.cost`), the
registry of cost models (:mod:`hwcost.registry`), smooth relaxations (:mod:`hwcost.smooth`) and the property
suite every model passes (:mod:`hwcost.testing`). Experiments that tie the packages together live in
:mod:`hwcost.experiments`.
"""

from hwcost.cost import LayerCost, NetworkCost, energy_pj, layer_cost, network_cost
from hwcost.registry import all_cost_models, cost_model, register
from hwcost.types import (
    ConvLayer,
    CostModel,
    FcLayer,
    LayerRun,
    LayerSpec,
    LayerStatistics,
    ModelCard,
    Monotone,
    pytree_dataclass,
    static_field,
)

__all__ = [
    "ConvLayer",
    "CostModel",
    "FcLayer",
    "LayerCost",
    "LayerRun",
    "LayerSpec",
    "LayerStatistics",
    "ModelCard",
    "Monotone",
    "NetworkCost",
    "all_cost_models",
    "cost_model",
    "energy_pj",
    "layer_cost",
    "network_cost",
    "pytree_dataclass",
    "register",
    "static_field",
]
