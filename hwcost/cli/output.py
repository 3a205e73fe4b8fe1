"""Output helpers shared by the verbs: aligned text tables for people (:func:`format_table`), JSON for machines."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hwcost.errors import UsageError
from hwcost.formatting import dumps_json, format_table, to_jsonable


def print_json(value: Any) -> None:
    """Print ``value`` as indented strict JSON (a non-finite number is ``null``, and its object notes it by name:
    :func:`dumps_json`)."""
    print(dumps_json(value))


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


def check_out_dir(value: str | Path, *, parent_must_exist: bool = False) -> Path:
    """The ``--out`` folder as an absolute path, checked before any work: not empty (``--out ''`` would write into
    the current folder), not an existing file, and (``parent_must_exist``) inside an existing folder."""
    text = str(value)
    if not text.strip():
        raise UsageError("out='' is empty; give the output folder, e.g. --out runs/first")
    out = Path(text).expanduser().absolute()
    if out.exists() and not out.is_dir():
        raise UsageError(f"out={text!r} exists and is not a directory; choose another --out or remove the file")
    if parent_must_exist and not out.parent.is_dir():
        raise UsageError(f"out={text!r}: its parent directory {str(out.parent)!r} does not exist")
    return out


__all__ = ["check_out_dir", "dumps_json", "format_table", "parse_assignments", "print_json", "to_jsonable"]
