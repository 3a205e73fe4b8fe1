"""Test-wide settings: JAX's persistent compilation cache (keeps the suite quick across runs) and the least
compile-time optimisation effort (XLA's CPU backend at optimisation level 0, no expensive LLVM passes, the
lowest execution-time optimisation effort, and XLA's classic loop emitters instead of its MLIR fusion
emitters, which take two to three times as long to compile the suite's graphs): the suite compiles hundreds of
graphs once each, and most of its time went to optimising code that then runs for microseconds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# in the environment, so that the notebooks' kernels and the command-line subprocesses of the tests share them
os.environ.setdefault(
    "XLA_FLAGS",
    "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true --xla_cpu_use_fusion_emitters=false",
)
os.environ.setdefault("JAX_EXEC_TIME_OPTIMIZATION_EFFORT", "-1.0")

import jax  # noqa: E402  (after XLA_FLAGS, which XLA reads once)

jax.config.update(
    "jax_compilation_cache_dir", os.environ.get("JAX_COMPILATION_CACHE_DIR", str(ROOT / ".cache" / "jax"))
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


LOCK_HOLDER = (
    "import sys, time\n"
    "from hwcost.files import output_lock\n"
    "with output_lock(sys.argv[1]):\n"
    "    print('locked', flush=True)\n"
    "    time.sleep(60)\n"
)


@pytest.fixture
def locked_folder(tmp_path):
    """``(folder, pid)``: ``tmp_path / "run"`` held by :func:`hwcost.files.output_lock` in another process."""
    import subprocess
    import sys

    folder = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield folder, proc.pid
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
