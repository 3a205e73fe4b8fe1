"""The README's figures are the committed results: its table equals the rendering of ``benchmarks/results/``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _figures():
    spec = importlib.util.spec_from_file_location("readme_figures", ROOT / "benchmarks" / "readme_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_table_is_rendered_from_the_committed_results():
    figures = _figures()
    assert figures.readme_table((ROOT / "README.md").read_text()) == figures.render(), (
        "README.md's results table is stale: run python benchmarks/readme_figures.py --write"
    )


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text().splitlines()[:8]
    assert any(line.startswith("make run") for line in head) and any(line.startswith("make test") for line in head)
