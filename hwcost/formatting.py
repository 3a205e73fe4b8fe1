"""Results for people and machines: aligned text tables of result rows and plain-JSON conversion, for the
command line, the experiments and notebooks."""

from __future__ import annotations

import dataclasses
import json
import math
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


def to_jsonable(value: Any) -> Any:
    """Plain JSON types, recursively, from dataclasses, NamedTuples (a dict with their ``type``), mappings,
    sequences and numpy/JAX scalars and arrays. Non-finite numbers (NaN, infinities) become ``None``, so
    the result always passes ``json.dumps(..., allow_nan=False)`` (strict JSON; :func:`dumps_json`)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "_asdict"):
        return {"type": type(value).__name__, **{k: to_jsonable(v) for k, v in value._asdict().items()}}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        arr = np.asarray(value)
        return to_jsonable(arr.item() if arr.ndim == 0 else arr.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps_json(value: Any, indent: int | None = 2) -> str:
    """``value`` as strict JSON text (:func:`to_jsonable`, then ``allow_nan=False``: never a bare ``NaN``)."""
    return json.dumps(to_jsonable(value), indent=indent, allow_nan=False)
