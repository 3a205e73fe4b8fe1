"""Checkpoints: a pytree plus JSON metadata written atomically, so an interrupted run never loses
more than the work since its last save, and never leaves a half-written file behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flax import serialization

from hwcost.files import write_atomically

_MAGIC = b"HWCKPT1\n"


def _sorted_keys(state: Any) -> Any:
    """``state`` with every dict's keys in sorted order (the order of ``jax.tree_util``)."""
    if isinstance(state, dict):
        return {key: _sorted_keys(state[key]) for key in sorted(state)}
    return state


def save_checkpoint(path: str | Path, tree: Any, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``tree`` (any pytree of arrays) and ``metadata`` (JSON-able) to ``path`` atomically.

    The bytes depend on the values only, not on the insertion order of the tree's dicts: a tree that went
    through an optimizer step (``jax.tree_util`` sorts dict keys) and the same tree loaded from a checkpoint
    into a freshly initialised structure (flax's ``kernel, bias`` order) give the same file, so a run resumed
    after a kill writes a file bit-identical to an uninterrupted run's.
    """
    header = json.dumps(metadata or {}).encode()
    payload = serialization.msgpack_serialize(_sorted_keys(serialization.to_state_dict(tree)))
    return write_atomically(path, _MAGIC + len(header).to_bytes(8, "little") + header + payload)


def load_checkpoint(path: str | Path, target: Any) -> tuple[Any, dict[str, Any]]:
    """Read a checkpoint into the structure of ``target``; returns ``(tree, metadata)``.

    Raises:
        ValueError: the file is not a checkpoint or does not match ``target``'s structure.
    """
    raw = Path(path).read_bytes()
    if not raw.startswith(_MAGIC):
        raise ValueError(f"checkpoint={path} is not an hwcost checkpoint (bad header)")
    size = int.from_bytes(raw[len(_MAGIC) : len(_MAGIC) + 8], "little")
    start = len(_MAGIC) + 8
    try:
        metadata = json.loads(raw[start : start + size])
        tree = serialization.from_bytes(target, raw[start + size :])
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"checkpoint={path} is corrupt or does not match the model: {err}") from None
    return tree, metadata


__all__ = ["load_checkpoint", "save_checkpoint", "write_atomically"]
