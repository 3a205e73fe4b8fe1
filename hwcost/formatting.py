"""Results for people and machines: aligned text tables of result rows and plain-JSON conversion, for the
command line, the experiments and notebooks."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _format(value: Any, digits: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return str(value)
    v = float(value)
    if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return f"{int(v):d}"
    return f"{v:.{digits}g}"


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], digits: int = 4) -> str:
    """Aligned text table of ``rows`` restricted to ``columns`` (numeric columns right-aligned, text left)."""
    cells = [[_format(row.get(c, ""), digits) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    head = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    numeric = [all(not isinstance(row.get(c, ""), str) for row in rows) for c in columns]
    body = [
        "  ".join(x.rjust(w) if num else x.ljust(w) for x, w, num in zip(r, widths, numeric, strict=True))
        for r in cells
    ]
    return "\n".join([head, rule, *body])


NON_FINITE_KEY = "non_finite"
"""The note a JSON object gets when some of its numbers were not finite: ``{"non_finite": {"loss": "NaN",
"thresholds[2]": "Infinity"}}`` names each field (a key of the object, with ``[i]`` into lists) written as
``null`` and what it was (``NaN``, ``Infinity`` or ``-Infinity``)."""


def _non_finite_name(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _convert(value: Any) -> tuple[Any, dict[str, str]]:
    """``(plain JSON value, non-finite numbers not yet noted)``: the second maps a path relative to ``value``
    (``""`` for ``value`` itself, ``"[i]..."`` into a list) to what the number was. Each object notes the
    non-finite numbers of its own fields and of the lists in them (:data:`NON_FINITE_KEY`); nested objects
    note their own."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _convert_object({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if hasattr(value, "_asdict"):
        return _convert_object({"type": type(value).__name__, **value._asdict()})
    if isinstance(value, Mapping):
        return _convert_object(value)
    if isinstance(value, list | tuple):
        items, pending = [], {}
        for i, item in enumerate(value):
            converted, inner = _convert(item)
            items.append(converted)
            pending.update({f"[{i}]{path}": what for path, what in inner.items()})
        return items, pending
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        arr = np.asarray(value)
        return _convert(arr.item() if arr.ndim == 0 else arr.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None, {"": _non_finite_name(value)}
    return value, {}


def _convert_object(value: Mapping[Any, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    out: dict[str, Any] = {}
    note: dict[str, str] = {}
    for key, item in value.items():
        converted, inner = _convert(item)
        out[str(key)] = converted
        note.update({f"{key}{path}": what for path, what in inner.items()})
    if note:
        earlier = out.get(NON_FINITE_KEY)
        out[NON_FINITE_KEY] = {**earlier, **note} if isinstance(earlier, dict) else note
    return out, {}


def to_jsonable(value: Any) -> Any:
    """Plain JSON types, recursively, from dataclasses, NamedTuples (a dict with their ``type``), mappings,
    sequences and numpy/JAX scalars and arrays, so the result always passes ``json.dumps(..., allow_nan=False)``
    (strict JSON; :func:`dumps_json`).

    Non-finite numbers (NaN, infinities) become ``None``, and the object holding each gets a note naming the
    field and what it was: ``{"loss": None, "non_finite": {"loss": "NaN"}}`` (:data:`NON_FINITE_KEY`). A note
    read back is kept (and merged), so writing a value, reading it and writing it again gives the same text.
    Non-finite numbers outside any object (a bare list or number) are named in a warning on stderr instead.
    """
    converted, pending = _convert(value)
    if pending:
        fields = ", ".join(f"{path or 'the value'}={what}" for path, what in pending.items())
        print(f"note: non-finite numbers written as null: {fields}", file=sys.stderr)
    return converted


def dumps_json(value: Any, indent: int | None = 2) -> str:
    """``value`` as strict JSON text (:func:`to_jsonable`, then ``allow_nan=False``: never a bare ``NaN``; a
    non-finite number is ``null`` and noted by name in its object)."""
    return json.dumps(to_jsonable(value), indent=indent, allow_nan=False)
