"""Write :data:`hwcost.cgooo.SAMPLE_PROFILES`: the :class:`hwcost.cgooo.CoreProfile` of the RV64IM test
fixture ``tests/fixtures/riscv/checksum.elf`` and of the small RV64IM builds of ``gemm``, ``sort``,
``pointer_chase`` and ``spmv_csc`` (:mod:`archsim.traces.program_set`), measured by
:mod:`hwcost.experiments.core_profile`.

Run: ``.venv/bin/python benchmarks/core_profiles.py`` (needs ``riscv64-unknown-elf-gcc``: ``make tools``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archsim import cores  # noqa: E402
from archsim.traces import rv64, rv64_build  # noqa: E402
from hwcost import cgooo  # noqa: E402
from hwcost.experiments import core_profile  # noqa: E402
from hwcost.experiments.cgooo_validation import FIXTURE_ELF  # noqa: E402
from hwcost.files import write_atomically  # noqa: E402

KERNELS = ("gemm", "sort", "pointer_chase", "spmv_csc")


def main() -> None:
    programs = {"checksum": rv64.run(FIXTURE_ELF).trace}
    programs.update({k: rv64.load_trace(rv64_build.instruction_trace(k, small=True)) for k in KERNELS})
    out = {}
    for name, trace in programs.items():
        out[name] = cgooo.profile_to_dict(core_profile.profile(trace, cores.prepare(trace), name=name))
        print(f"{name}: {int(out[name]['instructions'])} instructions, {int(out[name]['mispredicts'])} mispredicts")
    write_atomically(cgooo.SAMPLE_PROFILES, json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {cgooo.SAMPLE_PROFILES.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
