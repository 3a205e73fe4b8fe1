"""The packages import each other only in the allowed directions (DESIGN.md sec. 1):

* ``archsim`` imports nothing of the project (it is the independent check);
* the cost-model core (every module of ``hwcost`` outside ``hwcost.cli`` and ``hwcost.experiments``)
  imports nothing from ``compress``, ``models`` or ``archsim``;
* ``compress`` imports neither ``archsim`` nor a particular cost model, nor the application layer;
* ``models`` imports neither ``compress`` nor ``archsim``;
* notebooks import the public API, never a command-line module;
* only the application layer (``hwcost.experiments``) and the command line tie the packages together.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("hwcost", "compress", "models", "archsim")
COST_MODELS = ("hwcost.dcnn", "hwcost.eie", "hwcost.holiswap", "hwcost.memory", "hwcost.scnn")
"""Modules of particular cost models: generic code finds them through the registry."""


def imported_modules(source: str) -> set[str]:
    """Every module an ``import`` statement of ``source`` names (also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _dotted(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _violations(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for path in paths:
        for name in imported_modules(path.read_text()):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                out.append(f"{_dotted(path)} imports {name}")
    return out


def test_archsim_imports_nothing_of_the_project():
    assert _violations(_modules("archsim"), ("hwcost", "compress", "models")) == []


def test_cost_model_core_imports_no_application_package():
    core = [p for p in _modules("hwcost") if p.relative_to(ROOT / "hwcost").parts[0] not in ("cli", "experiments")]
    assert core, "no cost-model modules found"
    assert _violations(core, ("compress", "models", "archsim", "hwcost.cli", "hwcost.experiments")) == []


def test_compress_imports_no_simulator_no_particular_model_and_no_application_layer():
    assert _violations(_modules("compress"), ("archsim", *COST_MODELS, "hwcost.cli", "hwcost.experiments")) == []


def test_models_import_no_compression_and_no_simulator():
    assert _violations(_modules("models"), ("compress", "archsim", "hwcost.cli", "hwcost.experiments")) == []


def test_the_command_line_reaches_simulators_and_models_only_through_the_application_layer():
    assert _violations(_modules("hwcost/cli"), ("archsim", *COST_MODELS)) == []


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_import_the_public_api_not_the_command_line(path):
    cells = json.loads(path.read_text())["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    bad = [n for n in imported_modules(source) if n.startswith("hwcost.cli")]
    assert bad == []


def test_the_checker_sees_imports_inside_functions():
    source = "def f():\n    from archsim import eie\n    import compress.bridge\n"
    assert {"archsim", "archsim.eie", "compress.bridge"} <= imported_modules(source)
