"""Hardware-aware training: masks, thresholds and weights trained jointly against accuracy plus the cost of
the network on a registered hardware cost model.

Two phases, each a single jit-compiled step (the dataset lives on the device; a step gathers its batch
by index, exactly like :mod:`compress.training`):

1. **joint** (``epochs``): weights, element thresholds and group gates (:mod:`compress.hwaware`) are
   trained on ``cross-entropy + λ·cost`` (``lam``) or on the Lagrangian ``cross-entropy + λ·(cost - B)``
   with λ updated every step by projected dual ascent (``budget``). ``cost`` is the relaxed relative
   cost of :mod:`compress.bridge` on the training batch (energy or latency over the dense network's).
   The mask temperature is annealed geometrically over this phase.
2. **finetune** (``finetune_epochs``): the hard masks are frozen; the weights are retrained with the
   same loss (the cost term keeps acting on the activations' sparsity; the mask parameters are frozen).

Determinism: the batch order of every epoch depends only on ``(seed, epoch)``; checkpoints are written
after every epoch (state + metadata, :mod:`compress.checkpoint`) and a rerun resumes from the last one,
giving the same result as an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from compress import bridge, hwaware
from compress import ttq as ttq_lib
from compress.checkpoint import load_checkpoint, save_checkpoint
from compress.training import cross_entropy, epoch_order
from hwcost.checks import check_choice, check_int_range, check_non_negative, check_positive
from hwcost.registry import MODEL_MODULES, cost_model
from models.datasets import Dataset
from models.lenet import MODELS, apply_with_layer_inputs, layer_specs, make_model

Array = jax.Array
REFERENCE_IMAGES = 1024
"""Training images on which the dense starting network's cost (the unit of relative costs) is taken."""


def default_groups(model_name: str) -> dict[str, tuple[str, ...]]:
    """Default group gates: input neurons of the first layer (``channel``: pixels, or input channels of
    a conv) and every hidden neuron (``filter`` of every layer but the last, whose outputs are the
    classes). These are the decisions that remove broadcast activations, EIE's main energy lever on
    small layers (see ``benchmarks/results/hwaware_lenet300.json``)."""
    specs = layer_specs(model_name)
    groups: dict[str, tuple[str, ...]] = {}
    for i, spec in enumerate(specs):
        g: list[str] = []
        if i == 0 and spec.kind == "fc":
            g.append("channel")
        if i < len(specs) - 1:
            g.append("filter")
        groups[spec.name] = tuple(g)
    return groups


@dataclasses.dataclass(frozen=True)
class HwTrainConfig:
    """Settings of one hardware-aware training run.

    Attributes:
        model: ``"lenet300"`` or ``"lenet5"``.
        hardware: registered cost model name (``hwcost.registry``).
        objective: ``"energy"`` (pJ) or ``"latency"`` (cycles).
        lam: penalty weight λ >= 0 (penalised form); exclusive with ``budget``.
        budget: target cost B as a fraction of the dense network's (constrained form).
        epochs: joint epochs; finetune_epochs: frozen-mask epochs.
        batch_size: examples per step.
        lr: weight learning rate (Adam, cosine-decayed over the run); mask_lr: mask-parameter Adam rate.
        temperature_start, temperature_end: mask temperature schedule (geometric, over the joint phase).
        act_temperature: activation-indicator temperature (relative to the mean nonzero activation).
        dual_lr: dual-ascent step η of the multiplier (budget mode); lam_init: its initial value.
        groups: ``{layer: granularities}``; ``None`` gives :func:`default_groups`.
        ste: straight-through hard masks; default False: soft masks in the forward pass, annealed
            (measured better, see :mod:`compress.hwaware`); ttq: ternarize kept weights.
        init_threshold: initial element threshold (mean|w| units; max|w| units with ``ttq``).
        seed: batch-order seed.
    """

    model: str = "lenet300"
    hardware: str = "eie"
    objective: str = "energy"
    lam: float | None = 0.25
    budget: float | None = None
    epochs: int = 3
    finetune_epochs: int = 3
    batch_size: int = 128
    lr: float = 5e-4
    mask_lr: float = 0.05
    temperature_start: float = 0.5
    temperature_end: float = 0.05
    act_temperature: float = 0.5
    dual_lr: float = 0.5
    lam_init: float = 0.0
    groups: Mapping[str, tuple[str, ...]] | None = None
    ste: bool = False
    ttq: bool = False
    init_threshold: float = 0.0
    seed: int = 0

    def mask_config(self) -> hwaware.MaskConfig:
        """The :class:`~compress.hwaware.MaskConfig` of this run."""
        groups = default_groups(self.model) if self.groups is None else dict(self.groups)
        return hwaware.MaskConfig(groups=groups, ste=self.ste, ttq=self.ttq, init_threshold=self.init_threshold)


def check_train_config(config: HwTrainConfig) -> None:
    """Raise ``ValueError`` naming the field for any bad setting (call outside jit)."""
    check_choice("model", config.model, tuple(MODELS))
    check_choice("hardware", config.hardware, tuple(sorted(MODEL_MODULES)))
    check_choice("objective", config.objective, bridge.OBJECTIVES)
    if (config.lam is None) == (config.budget is None):
        raise ValueError("give exactly one of lambda (penalty) and budget (constraint)")
    if config.lam is not None:
        check_non_negative("lambda", config.lam)
    if config.budget is not None:
        check_budget(config.model, config.hardware, config.objective, config.budget)
    check_int_range("epochs", config.epochs, 0)
    check_int_range("finetune_epochs", config.finetune_epochs, 0)
    check_int_range("batch_size", config.batch_size, 1)
    check_int_range("seed", config.seed, 0)
    for name in ("lr", "mask_lr", "act_temperature", "dual_lr"):
        check_positive(name, getattr(config, name))
    hwaware.check_temperatures(config.temperature_start, config.temperature_end)
    hwaware.check_config(config.mask_config(), [s.name for s in layer_specs(config.model)])


def lowering_for(hardware: str) -> dict[str, str]:
    """How ``hardware`` runs a layer (:func:`compress.bridge.lower_network` keywords): EIE runs
    convolutions as mat-vecs per output position and reads only the columns of nonzero activations
    (broadcast weight density); other models take ``ConvLayer`` natively and the stored density."""
    if hardware == "eie":
        return {"conv_lowering": "matvec", "weight_density": "broadcast"}
    return {"conv_lowering": "conv", "weight_density": "stored"}


def cost_floor(model_name: str, hardware: str, objective: str) -> float:
    """Relative cost (fraction of dense) at weight and activation density 0: no budget can go below it."""
    specs = layer_specs(model_name)
    cm = cost_model(hardware)
    hw = cm.hard(cm.default_hardware)
    lowering = lowering_for(hardware)
    dense = bridge.network_cost_value(cm, hw, bridge.dense_network(specs, **lowering)).objective(objective)
    return floor_value(specs, cm, hw, lowering, objective) / float(dense)


def floor_value(specs: Any, model: Any, hw: Any, lowering: Mapping[str, str], objective: str) -> float:
    """Cost (pJ or cycles) of ``specs`` at weight and activation density 0 on ``hw``, clamped at 0 (the EIE
    model's latency there comes out at about -1e-7 of dense, rounding)."""
    floor = bridge.network_cost_value(model, hw, bridge.floor_network(specs, **lowering)).objective(objective)
    return max(0.0, float(floor))


def check_budget(model_name: str, hardware: str, objective: str, budget: float) -> None:
    """A budget must lie in (floor, 1]: above the cost at density ~0, at most the dense cost.

    Data-free (usable before any training, e.g. by the command line): the floor here is relative to the
    dense network with every activation nonzero, a lower bound of the floor relative to the dense network
    on real data, which :meth:`Trainer.init_state` checks once the starting network is known.
    """
    check_positive("budget", budget)
    floor = cost_floor(model_name, hardware, objective)
    if budget <= floor or budget > 1.0:
        raise ValueError(
            f"budget={budget:g} is unreachable for {model_name} on {hardware} {objective}; allowed: "
            f"({floor:.4g}, 1] (the floor {floor:.4g} is the cost at weight and activation density 0)"
        )


TTQ_THRESHOLD_LR_SCALE = 0.1
"""With ``ttq`` the threshold is TTQ's ``t`` in max|w| units, about a tenth of the mean|w| units of the
magnitude threshold on LeNet kernels: its rate is ``mask_lr`` times this, the same speed in weight terms."""


def mask_optimizer(config: HwTrainConfig) -> optax.GradientTransformation:
    """Adam for the mask parameters: ``mask_lr`` for thresholds and group scores; with ``ttq`` the scales
    W_p/W_n at TTQ's own rate (:data:`compress.ttq.SCALE_LR`, network-weight units) and the threshold
    ``t`` at ``mask_lr`` x :data:`TTQ_THRESHOLD_LR_SCALE` (a scale at ``mask_lr`` would jump by several
    times its own size in one step: measured, the network fell to chance accuracy in the first epoch)."""
    if not config.ttq:
        return optax.adam(config.mask_lr)
    rates = {
        "gate": config.mask_lr,
        "threshold": config.mask_lr * TTQ_THRESHOLD_LR_SCALE,
        "w_p": ttq_lib.SCALE_LR,
        "w_n": ttq_lib.SCALE_LR,
    }

    def labels(mask_params: Any) -> dict:
        return {layer: {k: (k if k in rates else "gate") for k in entry} for layer, entry in mask_params.items()}

    return optax.multi_transform({name: optax.adam(rate) for name, rate in rates.items()}, labels)


class TrainState(NamedTuple):
    """Everything a step reads and changes: weights, mask parameters, optimizer states, the multiplier
    λ, the budget B and dual step η (η = 0: fixed λ, the penalised form), the step count, the frozen
    masks (used in the finetune phase) and the reference cost (the dense starting network's, pJ or
    cycles: the unit of the relative cost). λ, B, η and the reference are data, so one compiled step
    serves a whole sweep."""

    params: Any
    mask_params: Any
    opt_w: Any
    opt_m: Any
    lam: Array
    budget: Array
    dual_lr: Array
    step: Array
    frozen: Any
    reference: Array


class StepMetrics(NamedTuple):
    """Per-step scalars: loss, task loss (cross-entropy), relative cost, multiplier, and the number of
    non-finite gradient entries dropped."""

    loss: Array
    task: Array
    cost: Array
    lam: Array
    nonfinite_grads: Array


def _group_gates(
    mask_params: Mapping[str, Mapping[str, Array]], temperature: Array, *, ste: bool, exact: bool
) -> dict[str, dict[str, Array]]:
    """Relaxed ``channel`` and ``filter`` gates per layer, ``{layer: {granularity: gate}}``."""
    gates: dict[str, dict[str, Array]] = {}
    for layer, entry in mask_params.items():
        for g in ("channel", "filter"):
            if g in entry:
                hard, soft = hwaware.group_gate(entry[g], temperature)
                gate = hard if exact else (soft + jax.lax.stop_gradient(hard - soft) if ste else soft)
                gates.setdefault(layer, {})[g] = gate
    return gates


def _project_thresholds(mask_params: Any) -> Any:
    """Keep element thresholds >= 0: below 0 every weight is kept and the relaxed gradient, which lives
    near the threshold, vanishes, so a threshold pushed negative early (by an undertrained task loss)
    would never come back."""
    return {
        layer: {k: (jnp.maximum(v, 0.0) if k == "threshold" else v) for k, v in entry.items()}
        for layer, entry in mask_params.items()
    }


class Trainer:
    """Builds the jit-compiled steps of one configuration and runs them (see module docstring)."""

    def __init__(self, config: HwTrainConfig, data: Dataset) -> None:
        check_train_config(config)
        self.config = config
        self.data = data
        self.model = make_model(config.model)
        self.specs = layer_specs(config.model)
        self.cost_model = cost_model(config.hardware)
        self.hw = self.cost_model.default_hardware
        self.lowering = lowering_for(config.hardware)
        self.dense = bridge.dense_network(self.specs, **self.lowering)
        self.mask_config = config.mask_config()
        self.steps_per_epoch = len(data.train_labels) // config.batch_size
        self.joint_steps = config.epochs * self.steps_per_epoch
        total = (config.epochs + config.finetune_epochs) * self.steps_per_epoch
        schedule = optax.cosine_decay_schedule(config.lr, max(1, total), alpha=0.05)
        self.tx_w = optax.adam(schedule)
        self.tx_m = mask_optimizer(config)
        self.images = jnp.asarray(data.train_images)
        self.labels = jnp.asarray(data.train_labels)
        self._steps = {phase: jax.jit(self._make_step(phase)) for phase in ("joint", "finetune")}

    # --- pieces shared by training and evaluation ---------------------------------------------------
    def temperature(self, step: Array | int) -> Array:
        """Mask temperature at ``step`` (annealed over the joint phase)."""
        c = self.config
        return hwaware.temperature_at(step, self.joint_steps, c.temperature_start, c.temperature_end)

    def masks_and_weights(
        self, params: Any, mask_params: Any, temperature: Array, *, exact: bool = False, ste: bool | None = None
    ) -> tuple[dict, dict, dict]:
        """``(masks, weights, group gates)`` at ``temperature`` (relaxed, or exact)."""
        ste = self.config.ste if ste is None else ste
        masks = hwaware.network_masks(params, mask_params, temperature, ste=ste, exact=exact, ttq=self.config.ttq)
        gates = _group_gates(mask_params, temperature, ste=ste, exact=exact)
        weights = hwaware.masked_weights(params, mask_params, masks, ttq=self.config.ttq, group_gates=gates)
        return masks, weights, gates

    def frozen_weights(self, params: Any, mask_params: Any, masks: Any) -> dict:
        """Weights under frozen exact ``masks``: ``params * masks``, or with ``ttq`` the ternarized latent
        weights (current scales and threshold) times the masks."""
        return hwaware.masked_weights(params, mask_params, masks, ttq=self.config.ttq)

    def cost_of(
        self,
        masks: Any,
        inputs: Any,
        gates: Any,
        *,
        exact: bool = False,
        hw: Any = None,
        reference: Array | float | None = None,
    ) -> Array:
        """Relative cost of a masked network on a batch of layer inputs: over ``reference`` (the
        training path: :meth:`reference_cost` of the dense starting network, on the relaxed
        hardware) or, without one, over the dense network with every activation nonzero on ``hw``.

        The activation indicators are straight-through (:func:`compress.bridge.activation_indicator`):
        their value is the exact nonzero count of the activations the network runs with, their gradient
        the relaxation's. A soft indicator's value would undercount the broadcasts (its ``tanh`` is below
        1 for every small activation: on LeNet-300-100 the relaxed cost was 0.67-0.86 of archsim), and the
        budget form would then stop the multiplier at a network over its budget.
        """
        lowered = bridge.lower_network(
            self.specs, masks, inputs, act_temperature=self.config.act_temperature, ste=True, exact=exact,
            gates=gates, **self.lowering,
        )  # fmt: skip
        if reference is not None:
            return bridge.relative_cost(self.cost_model, self.hw, lowered, self.config.objective, reference)
        hw = self.hw if hw is None else hw
        return bridge.relative_cost(self.cost_model, hw, lowered, self.config.objective, self.dense)

    def reference_cost(self, params: Any) -> float:
        """Cost of the dense network ``params`` (every weight kept) on the first
        :data:`REFERENCE_IMAGES` training images, as the training step prices a network (relaxed
        hardware, exact activation counts): pJ or cycles. Costs relative to it are fractions of the dense
        network's actual cost, the unit of λ's cost term, of budgets and of the reports' ``exact_rel_dense``
        (a dense reference with every activation nonzero would overstate it: 4-5x on LeNet-300-100, whose
        input pixels are 19 % nonzero)."""
        ones = jax.tree.map(jnp.ones_like, dict(params))
        _, inputs = apply_with_layer_inputs(self.model, params, self.images[:REFERENCE_IMAGES])
        lowered = bridge.lower_network(
            self.specs, ones, inputs, act_temperature=self.config.act_temperature, ste=True, **self.lowering
        )
        return float(bridge.network_cost_value(self.cost_model, self.hw, lowered).objective(self.config.objective))

    def check_reachable(self, budget: float, reference: float) -> None:
        """A budget must lie above the cost at weight and activation density 0 relative to ``reference``."""
        floor = floor_value(self.specs, self.cost_model, self.hw, self.lowering, self.config.objective) / reference
        if budget <= floor:
            raise ValueError(
                f"budget={budget:g} is unreachable for {self.config.model} on {self.config.hardware} "
                f"{self.config.objective}; allowed: ({floor:.4g}, 1] (the floor {floor:.4g} is the cost at weight "
                "and activation density 0 relative to the dense network on the training data)"
            )

    # --- the step -----------------------------------------------------------------------------------
    def _make_step(
        self, phase: str, *, with_cost: bool = True
    ) -> Callable[[TrainState, Array, Array, Array], tuple[TrainState, StepMetrics]]:
        """The (unjitted) step ``(state, images, labels, idx) -> (state, metrics)`` of ``phase``.

        ``with_cost=False`` drops the cost term (for the overhead benchmark). The loss is
        ``task + λ·(cost - B)``: with η = 0 and B = 0 it is the penalised form, otherwise λ follows
        projected dual ascent after each step.
        """

        def loss_fn(
            trainable: tuple[Any, Any], state: TrainState, images: Array, labels: Array, idx: Array
        ) -> tuple[Array, tuple[Array, Array]]:
            params, mask_params = trainable
            temperature = self.temperature(state.step)
            if phase == "joint":
                masks, weights, gates = self.masks_and_weights(params, mask_params, temperature)
            else:
                masks = state.frozen
                weights = self.frozen_weights(params, mask_params, masks)
                gates = {}
            logits, inputs = apply_with_layer_inputs(self.model, weights, images[idx])
            task = cross_entropy(logits, labels[idx])
            cost = self.cost_of(masks, inputs, gates, reference=state.reference) if with_cost else jnp.zeros(())
            return hwaware.lagrangian_loss(task, cost, state.lam, state.budget), (task, cost)

        def step(state: TrainState, images: Array, labels: Array, idx: Array) -> tuple[TrainState, StepMetrics]:
            (loss, (task, cost)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                (state.params, state.mask_params), state, images, labels, idx
            )
            # A cost model with a singular point can return a non-finite gradient entry; drop such
            # entries (a NaN weight would end the run) and count them in the metrics.
            nonfinite = sum(jnp.sum(~jnp.isfinite(g)) for g in jax.tree.leaves(grads))
            g_w, g_m = jax.tree.map(lambda g: jnp.where(jnp.isfinite(g), g, 0.0), grads)
            upd_w, opt_w = self.tx_w.update(g_w, state.opt_w, state.params)
            params = optax.apply_updates(state.params, upd_w)
            mask_params, opt_m = state.mask_params, state.opt_m
            if phase == "joint":
                upd_m, opt_m = self.tx_m.update(g_m, state.opt_m, state.mask_params)
                mask_params = _project_thresholds(optax.apply_updates(state.mask_params, upd_m))
            lam = jnp.where(
                state.dual_lr > 0, hwaware.dual_ascent(state.lam, cost, state.budget, state.dual_lr), state.lam
            )
            new = state._replace(
                params=params, mask_params=mask_params, opt_w=opt_w, opt_m=opt_m, lam=lam, step=state.step + 1
            )
            return new, StepMetrics(loss, task, cost, state.lam, nonfinite.astype(jnp.float32))

        return step

    def init_state(self, params: Any, *, lam: float | None = None, budget: float | None = None) -> TrainState:
        """Initial state from (dense) ``params``: every group kept, thresholds at their initial value.

        ``lam``/``budget`` override the configuration's target (exactly one of them, or neither).
        """
        c = self.config
        if lam is None and budget is None:
            lam, budget = c.lam, c.budget
        if (lam is None) == (budget is None):
            raise ValueError("give exactly one of lambda (penalty) and budget (constraint)")
        reference = self.reference_cost(params)
        if lam is not None:
            check_non_negative("lambda", lam)
            lam0, b, eta = lam, 0.0, 0.0
        else:
            check_budget(c.model, c.hardware, c.objective, budget)
            self.check_reachable(budget, reference)
            lam0, b, eta = c.lam_init, budget, c.dual_lr
        mask_params = hwaware.init_mask_params(params, self.mask_config)
        frozen = jax.tree.map(jnp.ones_like, dict(params))
        f32 = lambda v: jnp.asarray(v, jnp.float32)
        return TrainState(
            params, mask_params, self.tx_w.init(params), self.tx_m.init(mask_params),
            f32(lam0), f32(b), f32(eta), jnp.zeros((), jnp.int32), frozen, f32(reference),
        )  # fmt: skip

    def fixed_mask_state(self, params: Any, masks: Any) -> TrainState:
        """State that retrains ``params`` under fixed ``masks`` without cost term (λ = 0), for baselines."""
        state = self.init_state(params, lam=0.0)
        return state._replace(frozen=jax.tree.map(lambda m: jnp.asarray(m, jnp.float32), dict(masks)))

    def freeze(self, state: TrainState) -> TrainState:
        """Freeze the exact hard masks (entering the finetune phase)."""
        masks, _, _ = self.masks_and_weights(state.params, state.mask_params, self.temperature(state.step), exact=True)
        return state._replace(frozen=masks)

    def train(
        self,
        params: Any,
        *,
        lam: float | None = None,
        budget: float | None = None,
        masks: Any = None,
        checkpoint: str | Path | None = None,
        progress: bool = True,
        desc: str = "hw-aware",
        callback: Callable[[int, TrainState], None] | None = None,
    ) -> tuple[TrainState, list[dict[str, Any]]]:
        """Run the joint and finetune phases from ``params``; returns the final state and per-epoch means.

        Args:
            params: starting (dense) parameters.
            lam, budget: override the configuration's target (see :meth:`init_state`).
            masks: if given, skip the joint phase: retrain under these fixed masks, λ = 0, for all
                ``epochs + finetune_epochs`` epochs (the hardware-agnostic baselines, same budget).
            checkpoint: file written after every epoch and resumed from if present.
            progress: show a progress bar.
            desc: progress-bar label.
            callback: ``(epochs_done, state)`` after each epoch's checkpoint (e.g. to stop a run).
        """
        c = self.config
        fixed = masks is not None
        state = self.fixed_mask_state(params, masks) if fixed else self.init_state(params, lam=lam, budget=budget)
        start, history = 0, []
        if checkpoint is not None and Path(checkpoint).is_file():
            state, meta = load_checkpoint(checkpoint, state)
            start, history = int(meta["epochs_done"]), list(meta["history"])
        total_epochs = c.epochs + c.finetune_epochs
        joint_epochs = 0 if fixed else c.epochs
        bar = tqdm(
            total=total_epochs * self.steps_per_epoch, initial=start * self.steps_per_epoch, desc=desc,
            disable=not progress, leave=False,
        )  # fmt: skip
        n = len(self.data.train_labels)
        for epoch in range(start, total_epochs):
            phase = "joint" if epoch < joint_epochs else "finetune"
            if epoch == joint_epochs and not fixed:
                state = self.freeze(state)
            order = epoch_order(c.seed, epoch, n)
            sums = jnp.zeros(len(StepMetrics._fields))
            step_fn = self._steps[phase]
            for b in range(self.steps_per_epoch):
                idx = jnp.asarray(order[b * c.batch_size : (b + 1) * c.batch_size])
                state, metrics = step_fn(state, self.images, self.labels, idx)
                sums = sums + jnp.stack(metrics)
                bar.update(1)
            mean = np.asarray(sums) / max(1, self.steps_per_epoch)
            record = dict(zip(StepMetrics._fields, map(float, mean), strict=True))
            record["nonfinite_grads"] = float(mean[-1] * self.steps_per_epoch)  # total over the epoch
            history.append(record | {"phase": phase})
            bar.set_postfix(task=f"{mean[1]:.3f}", cost=f"{mean[2]:.3f}", lam=f"{mean[3]:.3g}")
            if checkpoint is not None:
                save_checkpoint(checkpoint, state, {"epochs_done": epoch + 1, "history": history})
            if callback is not None:
                callback(epoch + 1, state)
        bar.close()
        if c.finetune_epochs == 0 and not fixed:
            state = self.freeze(state)
        return state, history

    def final_weights(self, state: TrainState) -> tuple[dict, dict]:
        """``(hard masks, masked weights)`` of a trained state (exact 0/1 masks, biases masked)."""
        masks = state.frozen
        weights = self.frozen_weights(state.params, state.mask_params, masks)
        return masks, weights


def structure_summary(weights: Mapping[str, Mapping[str, Array]]) -> dict[str, Any]:
    """Per layer: weight density, alive input columns and alive output rows of a (masked) network."""
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
