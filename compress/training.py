"""Supervised training and evaluation of the MNIST models, shared by every compression pipeline.

One jit-compiled step (the whole dataset lives on the device; a step gathers its batch by index).
A ``transform`` maps the trainable parameters to the weights the network runs with — identity for
plain training, masking for pruning, a codebook lookup for weight sharing (whose gradient is then
exactly the paper's per-cluster gradient sum), ternarization for TTQ. Long runs show a progress bar,
checkpoint every epoch and resume deterministically: the batch order of epoch e depends only on
``(seed, e)``.
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
from tqdm.auto import tqdm

from compress.checkpoint import load_checkpoint, save_checkpoint
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


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean softmax cross-entropy; logits (B, 10), integer labels (B,)."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The shuffled example order of one epoch (depends only on ``seed`` and ``epoch``)."""
    return np.random.default_rng([seed, epoch]).permutation(n)


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
    check_int_range("batch_size", batch_size, 1, len(data.train_labels))
    images = jnp.asarray(data.train_images)
    labels = jnp.asarray(data.train_labels)

    def loss_fn(p: Any, idx: jax.Array) -> jax.Array:
        logits = model.apply({"params": transform(p)}, images[idx])
        loss = cross_entropy(logits, labels[idx])
        return loss + extra_loss(p) if extra_loss is not None else loss

    @jax.jit
    def step(p: Any, state: Any, idx: jax.Array) -> tuple[Any, Any, jax.Array]:
        loss, grads = jax.value_and_grad(loss_fn)(p, idx)
        updates, state = tx.update(grads, state, p)
        return optax.apply_updates(p, updates), state, loss

    opt_state = tx.init(params)
    start, losses = 0, []
    if checkpoint is not None and Path(checkpoint).is_file():
        (params, opt_state), meta = load_checkpoint(checkpoint, (params, opt_state))
        start, losses = int(meta["epochs_done"]), list(meta["epoch_losses"])
    steps_per_epoch = len(data.train_labels) // batch_size
    bar = tqdm(total=epochs * steps_per_epoch, initial=start * steps_per_epoch, desc=desc, disable=not progress)
    for epoch in range(start, epochs):
        order = epoch_order(seed, epoch, len(data.train_labels))
        total = jnp.zeros(())
        for b in range(steps_per_epoch):
            idx = jnp.asarray(order[b * batch_size : (b + 1) * batch_size])
            params, opt_state, loss = step(params, opt_state, idx)
            total = total + loss
            bar.update(1)
        losses.append(float(total) / steps_per_epoch)
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
        if checkpoint is not None:
            save_checkpoint(checkpoint, (params, opt_state), {"epochs_done": epoch + 1, "epoch_losses": losses})
    bar.close()
    return TrainResult(params, opt_state, losses)


def predict(model: nn.Module, weights: Any, images: np.ndarray, batch_size: int = 2000) -> np.ndarray:
    """Predicted classes (N,) of ``images`` with network ``weights``."""
    forward = jax.jit(lambda w, x: jnp.argmax(model.apply({"params": w}, x), axis=-1))
    return np.concatenate(
        [np.asarray(forward(weights, images[i : i + batch_size])) for i in range(0, len(images), batch_size)]
    )


def error_rate(model: nn.Module, weights: Any, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of misclassified examples (multiply by 100 for the papers' top-1 error %)."""
    return float(np.mean(predict(model, weights, images) != labels))
