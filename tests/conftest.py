"""Test-wide settings: JAX's persistent compilation cache (keeps the suite quick across runs)."""

from __future__ import annotations

import os
from pathlib import Path

import jax

ROOT = Path(__file__).resolve().parents[1]

jax.config.update(
    "jax_compilation_cache_dir", os.environ.get("JAX_COMPILATION_CACHE_DIR", str(ROOT / ".cache" / "jax"))
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
