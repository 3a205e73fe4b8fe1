"""Output helpers shared by the verbs: aligned text tables for people (:func:`format_table`), JSON for machines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hwcost.formatting import format_table, to_jsonable


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    print(json.dumps(to_jsonable(value), indent=2))


def parse_assignments(items: Sequence[str], option: str, cast: type) -> dict[str, Any]:
    """``["ip1=0.07", ...]`` -> ``{"ip1": 0.07}``; ``ValueError`` naming the option for a malformed item."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--{option}={item!r} must look like NAME=VALUE")
        try:
            out[key.strip()] = cast(value)
        except ValueError:
            raise ValueError(f"--{option} {key}={value!r} is not a {cast.__name__}") from None
    return out


__all__ = ["format_table", "parse_assignments", "print_json", "to_jsonable"]
