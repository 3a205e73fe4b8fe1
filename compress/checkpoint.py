"""Checkpoints: a pytree plus JSON metadata written atomically, so an interrupted run never loses
more than the work since its last save, and never leaves a half-written file behind.

A file is ``HWCKPT2\\n``, the length of the metadata (8 bytes, little endian), the metadata (strict JSON,
:func:`hwcost.formatting.dumps_json`), the SHA-256 of metadata and payload (32 bytes) and the payload (flax's
msgpack of the tree). The checksum catches a file that a damaged disk or a copy changed in place, besides
one cut short; files of the first format (``HWCKPT1\\n``, no checksum) are still read.

On resume, :func:`load_checkpoint_or_set_aside` treats a checkpoint that does not load as missing: it names
the file on stderr, renames it to ``NAME.corrupt`` (:func:`hwcost.files.set_aside`) and the work is recomputed.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flax import serialization

from hwcost.files import set_aside, write_atomically
from hwcost.formatting import dumps_json

_MAGIC_V1 = b"HWCKPT1\n"
_MAGIC = b"HWCKPT2\n"
_DIGEST_BYTES = 32


def _sorted_keys(state: Any) -> Any:
    """``state`` with every dict's keys in sorted order (the order of ``jax.tree_util``)."""
    if isinstance(state, dict):
        return {key: _sorted_keys(state[key]) for key in sorted(state)}
    return state


def save_checkpoint(path: str | Path, tree: Any, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``tree`` (any pytree of arrays) and ``metadata`` (JSON-able; non-finite numbers are written as
    ``null`` with a note, :func:`hwcost.formatting.to_jsonable`) to ``path`` atomically, with a checksum.

    The bytes depend on the values only, not on the insertion order of the tree's dicts: a tree that went
    through an optimizer step (``jax.tree_util`` sorts dict keys) and the same tree loaded from a checkpoint
    into a freshly initialised structure (flax's ``kernel, bias`` order) give the same file, so a run resumed
    after a kill writes a file bit-identical to an uninterrupted run's.
    """
    header = dumps_json(metadata or {}, indent=None).encode()
    payload = serialization.msgpack_serialize(_sorted_keys(serialization.to_state_dict(tree)))
    digest = hashlib.sha256(header + payload).digest()
    return write_atomically(path, _MAGIC + len(header).to_bytes(8, "little") + header + digest + payload)


def _read(path: str | Path) -> tuple[dict[str, Any], bytes]:
    """``(metadata, payload)`` of the checkpoint at ``path``, its header and checksum verified."""
    raw = Path(path).read_bytes()
    if raw.startswith(_MAGIC):
        version = 2
    elif raw.startswith(_MAGIC_V1):
        version = 1
    else:
        raise ValueError(f"checkpoint={path} is not an hwcost checkpoint (bad header)")
    start = len(_MAGIC) + 8
    size = int.from_bytes(raw[len(_MAGIC) : start], "little")
    header = raw[start : start + size]
    payload_start = start + size + (_DIGEST_BYTES if version == 2 else 0)
    if len(raw) < payload_start:
        raise ValueError(f"checkpoint={path} is corrupt: cut short at {len(raw)} bytes")
    payload = raw[payload_start:]
    if version == 2 and hashlib.sha256(header + payload).digest() != raw[start + size : payload_start]:
        raise ValueError(
            f"checkpoint={path} is corrupt: its checksum does not match, the file was cut short or damaged"
        )
    try:
        metadata = json.loads(header)
    except ValueError as err:
        raise ValueError(f"checkpoint={path} is corrupt: its metadata is not JSON: {err}") from None
    if not isinstance(metadata, dict):
        raise ValueError(f"checkpoint={path} is corrupt: its metadata is a JSON {type(metadata).__name__}")
    return metadata, payload


def checkpoint_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of the checkpoint at ``path`` (header and checksum verified, the tree not read).

    Raises:
        ValueError: naming the file: it is not a checkpoint, or is cut short or damaged.
    """
    return _read(path)[0]


def load_checkpoint(path: str | Path, target: Any) -> tuple[Any, dict[str, Any]]:
    """Read a checkpoint into the structure of ``target``; returns ``(tree, metadata)``.

    Raises:
        ValueError: naming the file: it is not a checkpoint, is cut short or damaged (its checksum does not
            match), or does not match ``target``'s structure.
    """
    metadata, payload = _read(path)
    try:
        tree = serialization.from_bytes(target, payload)
    except (ValueError, KeyError, TypeError, IndexError) as err:  # msgpack and flax on a damaged or other tree
        raise ValueError(f"checkpoint={path} is corrupt or does not match the model: {err}") from None
    return tree, metadata


def load_checkpoint_or_set_aside(
    path: str | Path,
    target: Any,
    check: Callable[[dict[str, Any]], None] | None = None,
    warn: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> tuple[Any, dict[str, Any]] | None:
    """The checkpoint at ``path`` read into ``target``'s structure (:func:`load_checkpoint`), or ``None`` if
    there is none, or if it does not load (cut short, damaged, another structure) or ``check(metadata)`` raises
    ``ValueError``: such a file is named in one ``warn`` line (default: stderr) and renamed to ``NAME.corrupt``
    (:func:`hwcost.files.set_aside`), so that the caller recomputes what it held."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        tree, metadata = load_checkpoint(path, target)
        if check is not None:
            check(metadata)
    except ValueError as err:
        set_aside(path, str(err).removeprefix(f"checkpoint={path} is "), warn)
        return None
    return tree, metadata


__all__ = [
    "checkpoint_metadata",
    "load_checkpoint",
    "load_checkpoint_or_set_aside",
    "save_checkpoint",
    "write_atomically",
]
