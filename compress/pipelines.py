"""Registry of the compression pipelines, imported lazily by name.

Every pipeline module exports ``run_pipeline(model_name, data, *, seed=0, workdir=None, progress=True,
small=False) -> dict`` returning a JSON-able report with ``"layers"`` rows (one dict per layer),
``"total"``, ``"test_error_before"`` and ``"test_error_after"`` (percent).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hwcost.checks import check_choice
from models.datasets import Dataset
from models.lenet import MODELS

#: Pipeline name -> "module:function", resolved on first use.
PIPELINES: dict[str, str] = {
    "deep-compression": "compress.deep_compression:run_pipeline",
    "ttq": "compress.ttq:run_pipeline",
    "dsd": "compress.dsd:run_pipeline",
}


def get_pipeline(name: str) -> Callable[..., dict[str, Any]]:
    """The ``run_pipeline`` function of pipeline ``name`` (ValueError for an unknown or missing one)."""
    check_choice("pipeline", name, tuple(PIPELINES))
    module_name, function = PIPELINES[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        raise ValueError(f"pipeline={name!r} is not installed (module {module_name} not found)") from None
    return getattr(module, function)


def run(
    pipeline: str,
    model: str,
    data: Dataset,
    *,
    seed: int = 0,
    workdir: str | Path | None = None,
    progress: bool = True,
    small: bool = False,
) -> dict[str, Any]:
    """Run ``pipeline`` on ``model`` (e.g. ``run("deep-compression", "lenet300", load_mnist())``)."""
    check_choice("model", model, tuple(MODELS))
    fn = get_pipeline(pipeline)
    return fn(
        model, data, seed=seed, workdir=None if workdir is None else Path(workdir), progress=progress, small=small
    )
