"""The one epoch loop every training in the project runs: dense, pruning, weight sharing, TTQ, DSD and
hardware-aware training.

A training is a sequence of :class:`Phase` s (a name, a number of epochs, a pure step function and an
optional transition into the phase). The loop owns what every run needs: the batch order (epoch ``e``
depends only on ``(seed, e)``), per-epoch means of the step's metrics, a progress bar, a checkpoint
after every epoch (state and history, written atomically) and a resume from it that gives the same
result as an uninterrupted run.

A step is ``step(state, images, labels, idx) -> (state, metrics)``: the dataset lives on the device and a
step gathers its batch by index; ``metrics`` is a NamedTuple or dict of scalars. The loop jit-compiles it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from compress.checkpoint import load_checkpoint_or_set_aside, save_checkpoint
from hwcost.checks import check_int_range

StateT = TypeVar("StateT")
Array = jax.Array
Step = Callable[[StateT, Array, Array, Array], tuple[StateT, Any]]


class Phase(NamedTuple, Generic[StateT]):
    """One phase of a training.

    Attributes:
        name: recorded in the history (``"train"``, ``"joint"``, ``"finetune"``).
        epochs: passes over the training set (>= 0).
        step: the pure step function (see the module docstring).
        enter: ``state -> state`` applied when the phase starts (e.g. freezing the masks), also when it has no
            epochs; not applied again when a run resumes inside or after the phase's first epoch.
    """

    name: str
    epochs: int
    step: Step
    enter: Callable[[StateT], StateT] | None = None


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The shuffled example order of one epoch (depends only on ``seed`` and ``epoch``)."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def _as_dict(metrics: Any) -> Mapping[str, Array]:
    return metrics._asdict() if hasattr(metrics, "_asdict") else dict(metrics)


def _check_resumable(meta: Mapping[str, Any]) -> None:
    """``ValueError`` unless ``meta`` is a loop checkpoint's: ``epochs_done`` >= 0 and one history record per
    epoch done."""
    done, history = meta.get("epochs_done"), meta.get("history")
    if isinstance(done, bool) or not isinstance(done, int) or done < 0:
        raise ValueError(f"metadata epochs_done={done!r} is not an epoch count")
    if not isinstance(history, list) or len(history) != done:
        raise ValueError(f"metadata history does not hold one record for each of the {done} epochs done")


def run_phases(
    phases: Sequence[Phase[StateT]],
    state: StateT,
    images: Any,
    labels: Any,
    *,
    batch_size: int,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    progress: bool = True,
    desc: str = "train",
    callback: Callable[[int, StateT], None] | None = None,
) -> tuple[StateT, list[dict[str, Any]]]:
    """Run ``phases`` one after another from ``state``; returns the final state and the per-epoch history.

    Args:
        phases: the phases (:class:`Phase`).
        state: the initial state (also the structure a checkpoint is read into).
        images, labels: the training set, (N, ...) and (N,); moved to the device once.
        batch_size: examples per step; the last incomplete batch of an epoch is dropped.
        seed: fixes the batch order.
        checkpoint: file written after every epoch and resumed from if it exists; one that does not load (cut
            short, damaged) is named on stderr, renamed to ``NAME.corrupt`` and the run starts from ``state``.
        progress: show a progress bar.
        desc: progress-bar label.
        callback: ``(epochs_done, state)`` after each epoch's checkpoint (e.g. to stop a run).

    Returns:
        ``(state, history)``, one ``{"phase": name, <metric>: epoch mean, ...}`` per epoch.
    """
    n = len(labels)
    check_int_range("batch_size", batch_size, 1, n)
    for phase in phases:
        check_int_range(f"{phase.name} epochs", phase.epochs, 0)
    images, labels = jnp.asarray(images), jnp.asarray(labels)
    steps_per_epoch = n // batch_size
    start, history = 0, []
    resumed = None if checkpoint is None else load_checkpoint_or_set_aside(checkpoint, state, _check_resumable)
    if resumed is not None:  # a checkpoint that does not load was named, set aside, and the run starts over
        state, meta = resumed
        start, history = int(meta["epochs_done"]), list(meta["history"])
    total = sum(phase.epochs for phase in phases)
    bar = tqdm(total=total * steps_per_epoch, initial=start * steps_per_epoch, desc=desc, disable=not progress,
               leave=False)  # fmt: skip
    first_epoch = 0
    for phase in phases:
        step = jax.jit(phase.step)
        if phase.enter is not None and start <= first_epoch:
            state = phase.enter(state)
        for epoch in range(max(start, first_epoch), first_epoch + phase.epochs):
            order = epoch_order(seed, epoch, n)
            sums: dict[str, Array] | None = None
            for b in range(steps_per_epoch):
                idx = jnp.asarray(order[b * batch_size : (b + 1) * batch_size])
                state, metrics = step(state, images, labels, idx)
                values = _as_dict(metrics)
                sums = dict(values) if sums is None else {k: sums[k] + v for k, v in values.items()}
                bar.update(1)
            record: dict[str, Any] = {"phase": phase.name}
            record.update({k: float(v) / max(1, steps_per_epoch) for k, v in (sums or {}).items()})
            history.append(record)
            bar.set_postfix({k: f"{v:.3g}" for k, v in record.items() if k != "phase"})
            if checkpoint is not None:
                save_checkpoint(checkpoint, state, {"epochs_done": epoch + 1, "history": history})
            if callback is not None:
                callback(epoch + 1, state)
        first_epoch += phase.epochs
    bar.close()
    return state, history
