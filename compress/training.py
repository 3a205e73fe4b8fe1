"""Supervised training and evaluation of the MNIST models, shared by every compression pipeline.

A ``transform`` maps the trainable parameters to the weights the network runs with — identity for
plain training, masking for pruning, a codebook lookup for weight sharing (whose gradient is then
exactly the paper's per-cluster gradient sum), ternarization for TTQ. The epochs run in the shared loop
of :mod:`compress.loop` (progress bar, checkpoint every epoch, deterministic resume).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from compress.loop import Phase, Step, run_phases
from hwcost.checks import check_int_range
from models.datasets import Dataset

Transform = Callable[[Any], Any]


def identity(params: Any) -> Any:
    """The identity transform (trainable parameters are the network weights)."""
    return params


class TrainResult(NamedTuple):
    """Trained parameters, final optimizer state and the mean training loss of each epoch."""

    params: Any
    opt_state: Any
    epoch_losses: list[float]


class StepMetrics(NamedTuple):
    """Per-step scalars of supervised training: the loss (cross-entropy plus any extra term)."""

    loss: jax.Array


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean softmax cross-entropy; logits (B, 10), integer labels (B,)."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def supervised_step(
    model: nn.Module,
    tx: optax.GradientTransformation,
    *,
    transform: Transform = identity,
    extra_loss: Callable[[Any], jax.Array] | None = None,
) -> Step:
    """The pure step ``((params, opt_state), images, labels, idx) -> ((params, opt_state), StepMetrics)``
    of cross-entropy training (plus ``extra_loss(params)``), for :func:`compress.loop.run_phases`."""

    def loss_fn(p: Any, images: jax.Array, labels: jax.Array, idx: jax.Array) -> jax.Array:
        logits = model.apply({"params": transform(p)}, images[idx])
        loss = cross_entropy(logits, labels[idx])
        return loss + extra_loss(p) if extra_loss is not None else loss

    def step(state: tuple[Any, Any], images: jax.Array, labels: jax.Array, idx: jax.Array) -> tuple[Any, StepMetrics]:
        params, opt_state = state
        loss, grads = jax.value_and_grad(loss_fn)(params, images, labels, idx)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), StepMetrics(loss)

    return step


def train(
    model: nn.Module,
    params: Any,
    data: Dataset,
    tx: optax.GradientTransformation,
    *,
    epochs: int,
    batch_size: int = 128,
    seed: int = 0,
    transform: Transform = identity,
    extra_loss: Callable[[Any], jax.Array] | None = None,
    checkpoint: str | Path | None = None,
    progress: bool = True,
    desc: str = "train",
) -> TrainResult:
    """Train ``params`` for ``epochs`` epochs of ``data`` with optimizer ``tx``.

    Args:
        model: a flax module mapping images (B, 28, 28, 1) to logits (B, 10).
        params: trainable parameters (the input of ``transform``).
        data: MNIST arrays.
        tx: optax transformation (it may hold masks in its state, see :mod:`compress.pruning`).
        epochs: number of passes over the training set (>= 0).
        batch_size: examples per step; the last incomplete batch of an epoch is dropped.
        seed: fixes the batch order.
        transform: trainable parameters -> network weights.
        extra_loss: optional ``params -> scalar`` added to the cross-entropy (regularisers).
        checkpoint: file to save after every epoch and to resume from if it exists.
        progress: show a progress bar.
        desc: progress-bar label.
    """
    check_int_range("epochs", epochs, 0)
    step = supervised_step(model, tx, transform=transform, extra_loss=extra_loss)
    (params, opt_state), history = run_phases(
        [Phase("train", epochs, step)], (params, tx.init(params)), data.train_images, data.train_labels,
        batch_size=batch_size, seed=seed, checkpoint=checkpoint, progress=progress, desc=desc,
    )  # fmt: skip
    return TrainResult(params, opt_state, [h["loss"] for h in history])


def predict(model: nn.Module, weights: Any, images: np.ndarray, batch_size: int = 2000) -> np.ndarray:
    """Predicted classes (N,) of ``images`` with network ``weights``."""
    forward = jax.jit(lambda w, x: jnp.argmax(model.apply({"params": w}, x), axis=-1))
    return np.concatenate(
        [np.asarray(forward(weights, images[i : i + batch_size])) for i in range(0, len(images), batch_size)]
    )


def error_rate(model: nn.Module, weights: Any, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of misclassified examples (multiply by 100 for the papers' top-1 error %)."""
    return float(np.mean(predict(model, weights, images) != labels))
