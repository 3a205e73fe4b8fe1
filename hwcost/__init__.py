"""hwcost: differentiable hardware cost models for hardware-aware model compression.

Public API: the core abstractions (:mod:`hwcost.types`), smooth relaxations (:mod:`hwcost.smooth`),
generic network evaluation (:mod:`hwcost.cost`) and the registry of cost models (:mod:`hwcost.registry`).
"""

from hwcost.cost import LayerCost, NetworkCost, layer_cost, network_cost
from hwcost.registry import all_cost_models, cost_model
from hwcost.types import ConvLayer, CostModel, FcLayer, pytree_dataclass, static_field

__all__ = [
    "ConvLayer",
    "CostModel",
    "FcLayer",
    "LayerCost",
    "NetworkCost",
    "all_cost_models",
    "cost_model",
    "layer_cost",
    "network_cost",
    "pytree_dataclass",
    "static_field",
]
