"""Hardware-aware training as pure functions: masks, thresholds and weights trained jointly against
accuracy plus the cost of the network on a registered cost model.

:func:`hwaware_training` builds, for one configuration, ``init`` and the two step functions (optax
style: explicit state, no object whose methods close over mutable attributes):

1. **joint** (``epochs``): weights, element thresholds and group gates (:mod:`compress.hwaware`) trained on
   ``cross-entropy + λ (cost - B)``: the penalised form (:class:`Penalty`, ``B = 0``, λ fixed) or the
   constrained form (:class:`Budget`, λ updated every step by projected dual ascent). ``cost`` is the
   relaxed cost of the masked network on the batch (:mod:`compress.bridge`, the model's own lowering)
   relative to the dense starting network on the training data (:func:`reference_cost`). The mask
   temperature is annealed geometrically over this phase.
2. **finetune** (``finetune_epochs``): the exact hard masks are frozen into the weight optimizer
   (:func:`compress.pruning.fixed_masks`); the weights are retrained with the same loss (the cost term
   keeps acting on the activations' sparsity; the decisions are fixed).

λ, B, the dual step and the reference are data in the state, so one compiled step serves a whole sweep.
:func:`train_hwaware` runs both phases in the shared loop of :mod:`compress.loop` (checkpoint, resume).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from compress import bridge, hwaware, pruning
from compress.hwaware import LayerDecisions, LayerMasks, MaskConfig
from compress.loop import Phase, Step, run_phases
from compress.training import cross_entropy
from hwcost.checks import check_choice, check_int_range, check_non_negative, check_positive
from hwcost.registry import cost_model, names
from hwcost.types import CostModel, LayerSpec, Objective, check_objective
from models import registry as trainable_models
from models.datasets import Dataset
from models.registry import apply_with_layer_inputs, layer_specs, make_model

Array = jax.Array
REFERENCE_IMAGES = 1024
"""Training images on which the dense starting network's cost (the unit of relative costs) is taken."""
TTQ_THRESHOLD_LR_SCALE = 0.1
"""With ``ttq`` the threshold is TTQ's ``t`` in max|w| units, about a tenth of the mean|w| units of the
magnitude threshold on LeNet kernels: its rate is ``mask_lr`` times this, the same speed in weight terms."""


class Penalty(NamedTuple):
    """Train on ``task + lam * cost`` (``lam >= 0``, cross-entropy nats per unit of dense cost)."""

    lam: float


class Budget(NamedTuple):
    """Train on ``task + λ (cost - budget)`` with λ from projected dual ascent (step ``dual_lr``, start
    ``lam_init``): the cost is driven to ``budget``, a fraction of the dense network's cost."""

    budget: float
    dual_lr: float = 0.5
    lam_init: float = 0.0


Target = Penalty | Budget


def default_groups(model_name: str) -> dict[str, tuple[str, ...]]:
    """The model's default group gates (:attr:`models.registry.TrainableModel.default_groups`): for the
    LeNets the input pixels of the first layer and every hidden neuron, for the LSTM every matrix's input
    columns and the cells (:func:`models.registry.lstm_groups`): the decisions that remove broadcasts."""
    return trainable_models.default_groups(model_name)


DEFAULT_TARGET = Penalty(0.25)
DEFAULT_MASKS = MaskConfig(groups=None)  # type: ignore[arg-type]  # None: the model's default_groups


@dataclasses.dataclass(frozen=True)
class HwTrainConfig:
    """Settings of one hardware-aware training run.

    Attributes:
        model: a registered trainable model (:func:`models.registry.names`: ``"lenet300"``, ``"lenet5"``,
            ``"lstm"``).
        hardware: registered cost model name (:func:`hwcost.registry.names`).
        objective: ``"energy"`` (pJ) or ``"latency"`` (cycles).
        target: :class:`Penalty` or :class:`Budget` (a sweep replaces it per point).
        epochs: joint epochs; finetune_epochs: frozen-mask epochs.
        batch_size: examples per step.
        lr: weight learning rate (Adam, cosine-decayed over the run); mask_lr: decisions' Adam rate.
        temperature_start, temperature_end: mask temperature schedule (geometric, over the joint phase).
        act_temperature: activation-indicator temperature (relative to the mean nonzero activation).
        masks: the decisions (:class:`compress.hwaware.MaskConfig`); ``groups=None`` there gives
            :func:`default_groups`.
        seed: batch-order seed.
    """

    model: str = "lenet300"
    hardware: str = "eie"
    objective: Objective = "energy"
    target: Target = DEFAULT_TARGET
    epochs: int = 3
    finetune_epochs: int = 3
    batch_size: int = 128
    lr: float = 5e-4
    mask_lr: float = 0.05
    temperature_start: float = 0.5
    temperature_end: float = 0.05
    act_temperature: float = 0.5
    masks: MaskConfig = DEFAULT_MASKS
    seed: int = 0

    def mask_config(self) -> MaskConfig:
        """``masks`` with the model's default groups filled in."""
        if self.masks.groups is not None:
            return self.masks._replace(groups=dict(self.masks.groups))
        return self.masks._replace(groups=default_groups(self.model))


def check_target(target: Target) -> None:
    """Raise ``ValueError`` naming the field for a bad penalty or budget."""
    if isinstance(target, Penalty):
        check_non_negative("lambda", target.lam)
    elif isinstance(target, Budget):
        check_positive("budget", target.budget)
        check_positive("dual_lr", target.dual_lr)
        check_non_negative("lam_init", target.lam_init)
    else:
        raise ValueError(f"target={target!r} is unknown; allowed: Penalty(lam), Budget(budget)")


def check_train_config(config: HwTrainConfig) -> None:
    """Raise ``ValueError`` naming the field for any bad setting (call outside jit)."""
    check_choice("model", config.model, trainable_models.names())
    check_choice("hardware", config.hardware, names())
    check_objective(config.objective)
    check_target(config.target)
    if isinstance(config.target, Budget):
        check_budget(config.model, config.hardware, config.objective, config.target.budget)
    check_int_range("epochs", config.epochs, 0)
    check_int_range("finetune_epochs", config.finetune_epochs, 0)
    check_int_range("batch_size", config.batch_size, 1)
    check_int_range("seed", config.seed, 0)
    for name in ("lr", "mask_lr", "act_temperature"):
        check_positive(name, getattr(config, name))
    hwaware.check_temperatures(config.temperature_start, config.temperature_end)
    hwaware.check_config(config.mask_config(), [s.name for s in layer_specs(config.model)])


def cost_floor(model_name: str, hardware: str, objective: Objective) -> float:
    """Cost at weight and activation density 0 relative to the dense network with every activation
    nonzero (hard model): no budget can go below it."""
    cm = cost_model(hardware)
    hw = cm.hard(cm.default_hardware)
    specs = layer_specs(model_name)
    dense = bridge.statistics_cost(cm, hw, bridge.dense_statistics(specs)).objective(objective)
    return floor_value(specs, cm, hw, objective) / float(dense)


def floor_value(specs: tuple[LayerSpec, ...], model: CostModel, hw: Any, objective: Objective) -> float:
    """Cost (pJ or cycles) of ``specs`` at weight and activation density 0 on ``hw``."""
    return float(bridge.statistics_cost(model, hw, bridge.floor_statistics(specs)).objective(objective))


def _unreachable(
    budget: float, floor: float, model_name: str, hardware: str, objective: str, relative_to: str
) -> ValueError:
    return ValueError(
        f"budget={budget:g} is unreachable for {model_name} on {hardware} {objective}; allowed: ({floor:.4g}, 1] "
        f"(the floor {floor:.4g} is the cost at weight and activation density 0{relative_to})"
    )


def check_budget(model_name: str, hardware: str, objective: Objective, budget: float) -> None:
    """A budget must lie in (floor, 1]. Data-free (usable before any training): the floor here is relative
    to the dense network with every activation nonzero, a lower bound of the floor relative to the dense
    network on real data, which :func:`check_reachable` checks once the starting network is known."""
    check_positive("budget", budget)
    floor = cost_floor(model_name, hardware, objective)
    if budget <= floor or budget > 1.0:
        raise _unreachable(budget, floor, model_name, hardware, objective, "")


class HwAwareState(NamedTuple):
    """Everything a step reads and changes.

    Attributes:
        params: the network weights (the finetune phase's frozen masks live in ``opt_w``).
        decisions: ``{layer: LayerDecisions}``.
        opt_w, opt_m: optimizer states of the weights and of the decisions.
        lam: the multiplier λ; budget: B; dual_lr: η (0: λ fixed, the penalised form).
        step: optimizer steps taken.
        reference: the dense starting network's cost (pJ or cycles), the unit of the relative cost.
    """

    params: Any
    decisions: dict[str, LayerDecisions]
    opt_w: Any
    opt_m: Any
    lam: Array
    budget: Array
    dual_lr: Array
    step: Array
    reference: Array


class StepMetrics(NamedTuple):
    """Per-step scalars: loss, task loss (cross-entropy), relative cost, multiplier."""

    loss: Array
    task: Array
    cost: Array
    lam: Array


class Setup(NamedTuple):
    """The immutable pieces one configuration's functions close over."""

    config: HwTrainConfig
    masks: MaskConfig
    network: nn.Module
    specs: tuple[LayerSpec, ...]
    cost_model: CostModel
    hw: Any
    joint_steps: int
    tx_w: optax.GradientTransformation
    tx_m: optax.GradientTransformation


class HwAwareTraining(NamedTuple):
    """The pure functions of one configuration (:func:`hwaware_training`).

    Attributes:
        setup: what they close over.
        init: ``(params, reference, target) -> HwAwareState`` from dense ``params``.
        joint_step, finetune_step: ``(state, images, labels, idx) -> (state, StepMetrics)``.
        freeze: ``state -> state`` entering the finetune phase (exact masks frozen, pruned weights zeroed).
    """

    setup: Setup
    init: Callable[[Any, float, Target], HwAwareState]
    joint_step: Step
    finetune_step: Step
    freeze: Callable[[HwAwareState], HwAwareState]


def decision_optimizer(config: HwTrainConfig) -> optax.GradientTransformation:
    """Adam for the decisions: ``mask_lr`` for thresholds and gate scores; with ``ttq`` the scales W_p/W_n
    at TTQ's own rate (:data:`compress.ttq.SCALE_LR`, network-weight units) and the threshold ``t`` at
    ``mask_lr`` x :data:`TTQ_THRESHOLD_LR_SCALE`."""
    from compress import ttq as ttq_lib

    if not config.masks.ttq:
        return optax.adam(config.mask_lr)
    rates = {"gate": config.mask_lr, "threshold": config.mask_lr * TTQ_THRESHOLD_LR_SCALE, "scale": ttq_lib.SCALE_LR}

    def labels(decisions: Mapping[str, LayerDecisions]) -> dict:
        return {
            layer: LayerDecisions(
                None if d.threshold is None else "threshold",
                {g: "gate" for g in d.gates},
                None if d.scales is None else {k: "scale" for k in d.scales},
            )
            for layer, d in decisions.items()
        }

    return optax.multi_transform({name: optax.adam(rate) for name, rate in rates.items()}, labels)


def make_setup(config: HwTrainConfig, steps_per_epoch: int) -> Setup:
    """Check ``config`` and build the pieces of its functions (``steps_per_epoch`` fixes the schedules)."""
    check_train_config(config)
    check_int_range("steps_per_epoch", steps_per_epoch, 1)
    total = (config.epochs + config.finetune_epochs) * steps_per_epoch
    schedule = optax.cosine_decay_schedule(config.lr, max(1, total), alpha=0.05)
    tx_w = optax.chain(optax.adam(schedule), pruning.fixed_masks())
    cm = cost_model(config.hardware)
    return Setup(config, config.mask_config(), make_model(config.model), layer_specs(config.model), cm,
                 cm.default_hardware, config.epochs * steps_per_epoch, tx_w, decision_optimizer(config))  # fmt: skip


def temperature(setup: Setup, step: Array | int) -> Array:
    """Mask temperature at optimizer step ``step`` (annealed over the joint phase)."""
    c = setup.config
    return hwaware.temperature_at(step, setup.joint_steps, c.temperature_start, c.temperature_end)


def relaxed_masks(
    setup: Setup, params: Any, decisions: Any, temp: Array, mode: hwaware.MaskMode
) -> dict[str, LayerMasks]:
    """The layer masks of ``decisions`` at temperature ``temp`` in ``mode`` (``"exact"`` for the hard ones)."""
    return hwaware.network_masks(params, decisions, temp, mode, ttq=setup.masks.ttq)


def relative_cost(
    setup: Setup, masks: Mapping[str, LayerMasks], inputs: Mapping[str, Array], reference: Array | float,
    *, indicator: bridge.IndicatorMode = "ste", hw: Any = None,
) -> Array:  # fmt: skip
    """Cost of a masked network on a batch of layer inputs over ``reference`` (pJ or cycles).

    The activation indicators are straight-through by default: their value is the exact nonzero count of
    the activations the network runs with, their gradient the relaxation's (a soft indicator's value would
    undercount the broadcasts, and the budget form would then stop at a network over its budget).
    """
    stats = bridge.layer_statistics(
        setup.specs, hwaware.kernel_and_bias_masks(masks), inputs, indicator=indicator,
        act_temperature=setup.config.act_temperature, gates={layer: m.gates for layer, m in masks.items()},
    )  # fmt: skip
    return bridge.relative_cost(setup.cost_model, setup.hw if hw is None else hw, stats, setup.config.objective,
                                reference)  # fmt: skip


def reference_cost(setup: Setup, params: Any, images: Array) -> float:
    """Cost of the dense network ``params`` (every weight kept) on ``images`` (the trainer uses the first
    :data:`REFERENCE_IMAGES` training images) as the training step prices a network: pJ or cycles.

    Costs relative to it are fractions of the dense network's actual cost: the unit of λ's cost term, of
    budgets and of the reports (a dense reference with every activation nonzero would overstate it: MNIST
    pixels are about a fifth nonzero)."""
    _, inputs = apply_with_layer_inputs(setup.network, params, images)
    whole = hwaware.network_masks(params, {}, 1.0, "exact")
    return float(relative_cost(setup, whole, inputs, 1.0))


def check_reachable(setup: Setup, budget: float, reference: float) -> None:
    """A budget must lie above the cost at weight and activation density 0 relative to ``reference``."""
    floor = floor_value(setup.specs, setup.cost_model, setup.hw, setup.config.objective) / reference
    if budget <= floor:
        c = setup.config
        raise _unreachable(
            budget, floor, c.model, c.hardware, c.objective, " relative to the dense network on the training data"
        )


def frozen_masks(state: HwAwareState) -> dict[str, LayerMasks]:
    """The finetune phase's fixed exact masks (held by the weight optimizer's pruning state)."""
    held = pruning.pruning_masks(state.opt_w)
    return {layer: LayerMasks.frozen(m["kernel"], m["bias"]) for layer, m in held.items()}


def hwaware_training(config: HwTrainConfig, steps_per_epoch: int, *, cost_term: bool = True) -> HwAwareTraining:
    """The pure ``init``, ``joint_step``, ``finetune_step`` and ``freeze`` of ``config`` (module docstring).

    ``cost_term=False`` drops the cost from the loss (a cost of 0), to measure its share of the step time.
    """
    setup = make_setup(config, steps_per_epoch)
    ttq = setup.masks.ttq

    def init(params: Any, reference: float, target: Target) -> HwAwareState:
        check_target(target)
        if isinstance(target, Penalty):
            lam0, budget, eta = target.lam, 0.0, 0.0
        else:
            check_budget(config.model, config.hardware, config.objective, target.budget)
            check_reachable(setup, target.budget, reference)
            lam0, budget, eta = target.lam_init, target.budget, target.dual_lr
        decisions = hwaware.init_decisions(params, setup.masks)
        f32 = lambda v: jnp.asarray(v, jnp.float32)
        return HwAwareState(params, decisions, setup.tx_w.init(params), setup.tx_m.init(decisions), f32(lam0),
                            f32(budget), f32(eta), jnp.zeros((), jnp.int32), f32(reference))  # fmt: skip

    def make_step(joint: bool) -> Step:
        def loss_fn(
            trainable: tuple[Any, Any], state: HwAwareState, images: Array, labels: Array, idx: Array
        ) -> tuple[Array, tuple[Array, Array]]:
            params, decisions = trainable
            if joint:
                masks = relaxed_masks(setup, params, decisions, temperature(setup, state.step), setup.masks.mode)
            else:
                masks = frozen_masks(state)
            weights = hwaware.masked_weights(params, decisions, masks, ttq=ttq)
            logits, inputs = apply_with_layer_inputs(setup.network, weights, images[idx])
            task = cross_entropy(logits, labels[idx])
            cost = relative_cost(setup, masks, inputs, state.reference) if cost_term else jnp.zeros(())
            return hwaware.lagrangian_loss(task, cost, state.lam, state.budget), (task, cost)

        def step(state: HwAwareState, images: Array, labels: Array, idx: Array) -> tuple[HwAwareState, StepMetrics]:
            (loss, (task, cost)), (g_w, g_m) = jax.value_and_grad(loss_fn, has_aux=True)(
                (state.params, state.decisions), state, images, labels, idx
            )
            upd_w, opt_w = setup.tx_w.update(g_w, state.opt_w, state.params)
            decisions, opt_m = state.decisions, state.opt_m
            if joint:
                upd_m, opt_m = setup.tx_m.update(g_m, state.opt_m, state.decisions)
                decisions = hwaware.project_thresholds(optax.apply_updates(state.decisions, upd_m))
            lam = jnp.where(state.dual_lr > 0, hwaware.dual_ascent(state.lam, cost, state.budget, state.dual_lr),
                            state.lam)  # fmt: skip
            new = state._replace(params=optax.apply_updates(state.params, upd_w), decisions=decisions, opt_w=opt_w,
                                 opt_m=opt_m, lam=lam, step=state.step + 1)  # fmt: skip
            return new, StepMetrics(loss, task, cost, state.lam)

        return step

    def freeze(state: HwAwareState) -> HwAwareState:
        masks = relaxed_masks(setup, state.params, state.decisions, temperature(setup, state.step), "exact")
        fixed = hwaware.kernel_and_bias_masks(masks)
        params = jax.tree.map(lambda p, m: p * m, state.params, fixed)
        return state._replace(params=params, opt_w=pruning.replace_masks(state.opt_w, fixed))

    return HwAwareTraining(setup, init, make_step(True), make_step(False), freeze)


def with_fixed_masks(state: HwAwareState, masks: Any) -> HwAwareState:
    """``state`` retraining under fixed exact ``masks`` (``{layer: {"kernel", "bias"}}``): pruned weights zeroed."""
    fixed = jax.tree.map(lambda m: jnp.asarray(m, jnp.float32), dict(masks))
    params = jax.tree.map(lambda p, m: p * m, state.params, fixed)
    return state._replace(params=params, opt_w=pruning.replace_masks(state.opt_w, fixed))


def train_hwaware(
    training: HwAwareTraining,
    params: Any,
    data: Dataset,
    target: Target,
    *,
    masks: Any = None,
    checkpoint: str | Path | None = None,
    progress: bool = True,
    desc: str = "hw-aware",
    callback: Callable[[int, HwAwareState], None] | None = None,
) -> tuple[HwAwareState, list[dict[str, Any]]]:
    """Run the joint and finetune phases from dense ``params``; returns the final (frozen) state and the
    per-epoch history.

    With ``masks`` (``{layer: {"kernel", "bias"}}``, exact) the joint phase is skipped: the weights are
    retrained under these fixed masks for all ``epochs + finetune_epochs`` epochs at λ = 0 (the
    hardware-agnostic baselines, same budget of epochs).
    """
    setup = training.setup
    c = setup.config
    reference = reference_cost(setup, params, jnp.asarray(data.train_images[:REFERENCE_IMAGES]))
    if masks is not None:
        state = with_fixed_masks(training.init(params, reference, Penalty(0.0)), masks)
        phases = [Phase("finetune", c.epochs + c.finetune_epochs, training.finetune_step)]
    else:
        state = training.init(params, reference, target)
        phases = [Phase("joint", c.epochs, training.joint_step),
                  Phase("finetune", c.finetune_epochs, training.finetune_step, enter=training.freeze)]  # fmt: skip
    return run_phases(phases, state, data.train_images, data.train_labels, batch_size=c.batch_size, seed=c.seed,
                      checkpoint=checkpoint, progress=progress, desc=desc, callback=callback)  # fmt: skip


def final_weights(training: HwAwareTraining, state: HwAwareState) -> tuple[dict, dict]:
    """``(exact masks, weights)`` of a trained (frozen) state: 0/1 masks, biases of pruned neurons zeroed."""
    masks = frozen_masks(state)
    weights = hwaware.masked_weights(state.params, state.decisions, masks, ttq=training.setup.masks.ttq)
    return hwaware.kernel_and_bias_masks(masks), weights


def structure_summary(weights: Mapping[str, Mapping[str, Array]]) -> dict[str, Any]:
    """Per layer: weight density, alive input columns and alive output rows of a (masked) network."""
    import numpy as np

    out = {}
    for layer in weights:
        k = np.asarray(weights[layer]["kernel"])
        mat = k.reshape(-1, k.shape[-1])
        out[layer] = {
            "weight_density": float(np.mean(k != 0)),
            "alive_inputs": int(np.sum(np.any(mat != 0, axis=1))),
            "inputs": int(mat.shape[0]),
            "alive_outputs": int(np.sum(np.any(mat != 0, axis=0) | (np.asarray(weights[layer]["bias"]) != 0))),
            "outputs": int(mat.shape[1]),
        }
    return out
