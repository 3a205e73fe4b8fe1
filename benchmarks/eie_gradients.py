"""EIE model derivatives in the PE count and the row count against central differences of the same function.

The layers are those on which the derivatives once disagreed with the values: a 4096-in x 1000-out layer
at weight density 0.1 and activation density 0.4 on 64, 200 and 50.5 PEs (latency and energy in
``num_pes``), and a 300-in layer at densities 0.1 / 0.3 with 10..63 output rows, fewer than the 64 PEs
(latency in ``out_features``, where every PE holds at most one row and the latency is flat). float64;
central step 1e-5. Usage: ``python benchmarks/eie_gradients.py`` (seconds).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwcost import eie
from hwcost.types import FcLayer, total

STEP = 1e-5


def central_difference(f, x: float) -> float:
    return float((f(x + STEP) - f(x - STEP)) / (2 * STEP))


def main() -> int:
    jax.config.update("jax_enable_x64", True)
    hw = eie.EIE_64PE_45NM
    layer = FcLayer(4096.0, 1000.0, 0.1, 0.4)
    quantities = {
        "latency (cycles/PE)": lambda p: eie.latency_cycles(dataclasses.replace(hw, num_pes=p), layer),
        "energy (pJ/PE)": lambda p: total(eie.COST_MODEL.energy_pj(dataclasses.replace(hw, num_pes=p), layer)),
    }
    for pes in (64.0, 200.0, 50.5):
        for name, f in quantities.items():
            grad = float(jax.grad(f)(jnp.float64(pes)))
            print(f"d {name} / d num_pes at {pes:g} PEs: jax.grad {grad:.6g}, central difference "
                  f"{central_difference(f, pes):.6g}")  # fmt: skip

    def rows(out: float) -> jax.Array:
        return eie.latency_cycles(hw, FcLayer(300.0, out, 0.1, 0.3))

    worst = 0.0
    for out in range(10, 64):
        grad, fd = float(jax.grad(rows)(jnp.float64(out))), central_difference(rows, float(out))
        worst = max(worst, abs(grad - fd))
    print(f"d latency / d out_features, 300-in layer, out 10..63 on 64 PEs: largest |jax.grad - central "
          f"difference| {worst:.3g} cycles/row")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
