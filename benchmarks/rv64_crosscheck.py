"""Cross-check of the RV64IM emulator (archsim.traces.rv64) against PyPI's ``rvsim``, a cycle-level RISC-V
simulator, on the same bare-metal ELFs.

For every program of the trace set (full and ``-DSMALL``) and the test fixture
``tests/fixtures/riscv/checksum.elf``, the ELF built by :mod:`archsim.traces.rv64_build` runs

* under :func:`archsim.traces.rv64.run` (timed: instructions per second of the emulator), and
* under ``rvsim`` (its default configuration: a 4-wide out-of-order core), in its own virtual environment
  ``.cache/venvs/rvsim`` (created here when missing, ``pip install rvsim==2.1.0``), with its commit log open.

Compared, per program: the exit value (``a0`` at the exit ``ecall``, the checksum) of both and the Python
re-computation; the number of retired instructions (the emulator's trace length; rvsim's commit-log lines
and its ``instructions_retired`` statistic, which leaves out the final ``ecall``); the whole committed pc
sequence; the destination register of every instruction (rvsim's commit log names the register each
instruction writes); the 32 integer registers at exit; the bytes of the writable segments at exit (all
stores together; the commit log holds no addresses); the instruction classes (rvsim's ``commit.op.*``
counters, which count jumps as branches and multiplies and divides as ALU operations). Prints a table and
writes ``benchmarks/results/rv64_crosscheck.json``.

Run: ``.venv/bin/python benchmarks/rv64_crosscheck.py`` (needs ``riscv64-unknown-elf-gcc``: ``make tools``;
and pip access to PyPI for the first run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archsim.traces import program_set, rv64, rv64_build  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "rv64_crosscheck.json"
VENV = ROOT / ".cache" / "venvs" / "rvsim"
RVSIM_REQUIREMENT = "rvsim==2.1.0"
FIXTURE_SOURCE = ROOT / "tests" / "fixtures" / "riscv" / "checksum.c"
RVSIM_CYCLE_LIMIT = 2_000_000_000  # cycles before rvsim's run() gives up (far above any program here)

# Runs inside rvsim's environment: one ELF, commit log to a file, a JSON summary on stdout.
WORKER = r"""
import hashlib, json, sys, time
import rvsim
elf, log = sys.argv[1], sys.argv[2]
ranges = json.loads(sys.argv[4])
sim = rvsim.Simulator(rvsim.Config(), binary=elf)
sim.open_commit_log(log)
t0 = time.perf_counter()
code = sim.run(limit=int(sys.argv[3]))
seconds = time.perf_counter() - t0
stats = sim.stats
ops = {k: int(stats["core0.commit.op." + k]) for k in ("alu", "branch", "load", "store", "system", "atomic")}
print(json.dumps({
    "version": rvsim.version(), "exit_code": code, "instructions_retired": int(sim.instructions_retired),
    "cycles": int(sim.cycle), "seconds": seconds, "registers": [int(sim.regs[i]) for i in range(32)],
    "commit_op": ops,
    "writable_sha256": [hashlib.sha256(sim.read_phys_bytes(a, n)).hexdigest() for a, n in ranges],
}))
"""


def ensure_rvsim() -> Path:
    """The rvsim environment's python, creating the environment when missing."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", RVSIM_REQUIREMENT], check=True)
    return python


def parse_commit_log(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """pc and destination register (-1 when none is written) of every line of rvsim's commit log
    (``core   0: 0x<pc> (0x<word>) [x<rd> 0x<value>]``)."""
    pcs, rds = [], []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 4 or fields[0] != "core":
                raise ValueError(f"{path}: unexpected commit-log line {line[:80]!r}")
            pcs.append(int(fields[2], 16))
            rds.append(int(fields[4][1:]) if len(fields) >= 6 and fields[4].startswith("x") else -1)
    return np.array(pcs, dtype=np.int64), np.array(rds, dtype=np.int64)


def first_difference(a: np.ndarray, b: np.ndarray) -> int | None:
    """Index of the first entry where ``a`` and ``b`` differ (the shorter length if one is a prefix), or None."""
    n = min(a.size, b.size)
    diff = np.flatnonzero(a[:n] != b[:n])
    if diff.size:
        return int(diff[0])
    return None if a.size == b.size else n


def check(name: str, variant: str, elf: Path, reference: int | None, python: Path) -> dict:
    program = rv64.load_elf(elf)
    t0 = time.perf_counter()
    ours = rv64.run(program)
    seconds = time.perf_counter() - t0
    t = ours.trace
    ranges = [(s.vaddr, s.memsz) for s in program.segments if s.writable]
    ours_memory = [hashlib.sha256(ours.memory(a, n).to_bytes(n, "little")).hexdigest() for a, n in ranges]
    with tempfile.TemporaryDirectory(prefix="rv64-crosscheck-") as tmp:
        log = Path(tmp) / "commit.log"
        done = subprocess.run(
            [str(python), "-c", WORKER, str(elf), str(log), str(RVSIM_CYCLE_LIMIT), json.dumps(ranges)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            return {"program": name, "variant": variant, "rvsim_error": done.stderr.strip()[-2000:]}
        sim = json.loads(done.stdout)
        log_pc, log_rd = parse_commit_log(log)
    per_class = np.bincount(t.cls.astype(np.int64), minlength=len(rv64.CLASSES)).tolist()
    counts = dict(zip(rv64.CLASSES, per_class, strict=True))
    ours_as_rvsim = {
        "alu": counts["alu"] + counts["mul"] + counts["div"],
        "branch": counts["branch"] + counts["jump"],
        "load": counts["load"],
        "store": counts["store"],
        "system": counts["system"],
        "atomic": 0,
    }
    pc_diff = first_difference(t.pc, log_pc)
    rd_diff = first_difference(t.rd.astype(np.int64), log_rd)
    rvsim_exit = sim["exit_code"]
    return {
        "program": name,
        "variant": variant,
        "elf_sha256": hashlib.sha256(elf.read_bytes()).hexdigest(),
        "checksum_reference": reference,
        "checksum_emulator": ours.exit_value,
        "checksum_rvsim": None if rvsim_exit is None else rvsim_exit & ((1 << 64) - 1),
        "instructions_emulator": int(t.pc.size),
        "commit_log_lines_rvsim": int(log_pc.size),
        "instructions_retired_rvsim": sim["instructions_retired"],
        "pc_sequence_equal": pc_diff is None,
        "pc_first_difference": pc_diff,
        "rd_sequence_equal": rd_diff is None,
        "rd_first_difference": rd_diff,
        "registers_at_exit_equal": list(ours.registers) == sim["registers"],
        "writable_memory_bytes": sum(n for _, n in ranges),
        "writable_memory_at_exit_equal": ours_memory == sim["writable_sha256"],
        "classes_emulator": counts,
        "classes_emulator_as_rvsim": ours_as_rvsim,
        "classes_rvsim": sim["commit_op"],
        "classes_equal_except_ecall": {k: v for k, v in ours_as_rvsim.items() if k != "system"}
        == {k: v for k, v in sim["commit_op"].items() if k != "system"},
        "emulator_seconds": round(seconds, 3),
        "emulator_minstr_per_s": round(t.pc.size / seconds / 1e6, 3),
        "rvsim_seconds": round(sim["seconds"], 3),
        "rvsim_minstr_per_s": round(sim["instructions_retired"] / sim["seconds"] / 1e6, 3),
        "rvsim_cycles": sim["cycles"],
        "rvsim_ipc": round(sim["instructions_retired"] / sim["cycles"], 4),
        "rvsim_version": sim["version"],
    }


def agrees(r: dict) -> bool:
    return (
        "rvsim_error" not in r
        and r["checksum_emulator"] == r["checksum_rvsim"]
        and (r["checksum_reference"] is None or r["checksum_reference"] == r["checksum_emulator"])
        and r["instructions_emulator"] == r["commit_log_lines_rvsim"] == r["instructions_retired_rvsim"] + 1
        and r["pc_sequence_equal"]
        and r["rd_sequence_equal"]
        and r["registers_at_exit_equal"]
        and r["writable_memory_at_exit_equal"]
        and r["classes_equal_except_ecall"]
    )


def table(rows: list[dict]) -> str:
    """One line per program: instruction counts, which comparisons agree, speeds."""
    columns = ("program", "variant", "instr (ours)", "rvsim", "pcs", "rd", "regs", "mem", "sum", "ours M/s",
               "rvsim M/s", "rvsim IPC", "agree")  # fmt: skip
    widths = (14, 7, 12, 10, 4, 4, 4, 4, 4, 8, 9, 9, 5)
    lines = [
        " ".join(c.rjust(w) if k > 1 else c.ljust(w) for k, (c, w) in enumerate(zip(columns, widths, strict=True)))
    ]
    lines.append("-" * len(lines[0]))
    for r in rows:
        if "rvsim_error" in r:
            lines.append(f"{r['program']:<14} {r['variant']:<7} rvsim failed: {r['rvsim_error'][:80]}")
            continue
        yes = lambda b: "yes" if b else "NO"
        cells = (
            r["program"], r["variant"], f"{r['instructions_emulator']:,}", f"{r['instructions_retired_rvsim']:,}",
            yes(r["pc_sequence_equal"]), yes(r["rd_sequence_equal"]), yes(r["registers_at_exit_equal"]),
            yes(r["writable_memory_at_exit_equal"]), yes(r["checksum_emulator"] == r["checksum_rvsim"]),
            f"{r['emulator_minstr_per_s']:.2f}", f"{r['rvsim_minstr_per_s']:.2f}", f"{r['rvsim_ipc']:.3f}",
            yes(agrees(r)),
        )  # fmt: skip
        lines.append(
            " ".join(c.rjust(w) if k > 1 else c.ljust(w) for k, (c, w) in enumerate(zip(cells, widths, strict=True)))
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=rv64_build.default_cache_dir(), help="ELF cache folder")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--small-only", action="store_true", help="only the -DSMALL variants and the fixture")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    python = ensure_rvsim()
    jobs: list[tuple[str, str, Path, int | None]] = [
        ("fixture", "-", rv64_build.build_elf(FIXTURE_SOURCE, cache_dir=args.cache), None)
    ]
    for variant in ("small",) if args.small_only else ("small", "full"):
        for name in program_set.names():
            elf = rv64_build.build_program(name, variant == "small", args.cache)
            jobs.append((name, variant, elf, program_set.reference_checksum(name, variant)))
    rows = [check(*job, python) for job in jobs]
    print(table(rows))
    compiler = subprocess.run([rv64_build.COMPILER, "--version"], capture_output=True, text=True).stdout
    result = {
        "what": "RV64IM emulator (archsim.traces.rv64) against rvsim on the same bare-metal ELFs: exit value, "
        "retired instructions, committed pc and destination-register sequences, registers and writable memory at "
        "exit, class counts",
        "all_agree": all(agrees(r) for r in rows),
        "notes": [
            "rvsim runs the bare-metal ELFs directly (RAM at 0x80000000, entry at the ELF entry); the exit ecall "
            "(a7 = 93) ends its run with exit code a0, the checksum.",
            "rvsim's instructions_retired statistic leaves out the final ecall; its commit log lists it, so the "
            "emulator's trace length equals the commit-log lines and instructions_retired + 1.",
            "rvsim's commit.op counters count jumps as branches and multiplies/divides as alu, and do not count "
            "the ecall (commit.op.system = 0); classes_emulator_as_rvsim groups the emulator's classes the same "
            "way.",
            "Compared on every retired instruction: pc and destination register (rvsim's commit log names the "
            "register written). rvsim's commit log holds no memory addresses, so the stores are checked together: "
            "the bytes of every writable segment (data, .bss, stack) at exit, by SHA-256.",
        ],
        "rvsim_config": "rvsim.Config() defaults (4-wide out-of-order, TAGE, 32 KiB L1s, 256 KiB L2)",
        "tools": {
            "compiler": compiler.splitlines()[0] if compiler else None,
            "rvsim": rows[0].get("rvsim_version"),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "rows": rows,
        "seconds": round(time.perf_counter() - start, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nall agree: {result['all_agree']}; wrote {args.out} in {result['seconds']} s")
    return 0 if result["all_agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
