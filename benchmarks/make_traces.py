"""Build every program of the trace set and produce every trace (archsim.traces.program_set).

For each program: a native ``gcc -O2 -static`` build, its checksum against the Python re-computation, and a
valgrind lackey memory trace (cached under ``$HWCOST_TRACE_DIR`` or ``.cache/traces``; a rerun reuses it).
Prints a table (program, native checksum, instructions fetched, loads, stores, modifies, trace SHA-256) and
writes ``benchmarks/results/traces.json``.

``--fixtures DIR`` also writes the ``-DSMALL`` traces, the committed test fixtures, into ``DIR`` (default
``tests/fixtures/traces``) with ``MANIFEST.json`` (their checksums and counts) and ``README.md``.

Hook for further trace sets: every function in :data:`TRACE_SETS` is called with the cache folder and
returns rows (dicts with at least ``"program"``) that are printed and stored under their set's name in
``traces.json``. The RISC-V instruction traces join through it as the ``"riscv"`` set: the function
``archsim.traces.rv64.make_traces(cache_dir: pathlib.Path) -> list[dict]``, where that module defines it
(``--no-riscv`` leaves them out; a missing cross compiler is reported and the set skipped).

Run: ``make traces`` (installs valgrind where missing), or ``.venv/bin/python benchmarks/make_traces.py``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archsim.traces import program_set as ps  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "traces.json"
FIXTURES = ROOT / "tests" / "fixtures" / "traces"
#: Size bound of one committed fixture (an assumption: keeps the repository small).
FIXTURE_MAX_BYTES = 300_000

#: Fields of a trace's row kept in the fixtures' MANIFEST.json, and of the weights' record in traces.json.
MANIFEST_FIELDS = ("program", "variant", "native_checksum", "total", "kernel", "valgrind_lines", "trace_bytes",
                   "trace_sha256", "records_sha256")  # fmt: skip
WEIGHT_FIELDS = ("model", "layer", "density", "nnz", "scale", "test_accuracy_pruned", "test_accuracy_int16_ip1",
                 "source")  # fmt: skip

TraceSet = Callable[[Path], list[dict]]


def _optional_module(name: str):
    """Module ``name`` if it exists, else ``None`` (an error inside an existing module is raised)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name != name:
            raise
        return None


def _riscv_trace_set() -> TraceSet | None:
    """``archsim.traces.rv64.make_traces`` (the RV64IM instruction traces of the same programs) if that module
    exists and defines it, else ``None``."""
    rv64 = _optional_module("archsim.traces.rv64")
    return getattr(rv64, "make_traces", None) if rv64 is not None else None


#: HOOK: further trace sets, name -> function(cache_dir) -> rows (see the module docstring).
TRACE_SETS: dict[str, TraceSet] = {name: f for name, f in (("riscv", _riscv_trace_set()),) if f is not None}


def row(t: ps.ProgramTrace) -> dict:
    """The record of one traced program in ``traces.json``."""
    p = ps.program(t.name)
    return {
        "program": t.name,
        "source": f"archsim/traces/programs/{p.source}",
        "description": p.description,
        "input": p.input,
        "variant": t.variant,
        "native_checksum": t.checksum,
        "reference_checksum": t.reference_checksum,
        "total": t.summary.total._asdict() | {"records": t.summary.total.records},
        "kernel": t.summary.kernel._asdict() | {"records": t.summary.kernel.records},
        "valgrind_lines": t.summary.valgrind_lines,
        "trace_file": t.trace.name,
        "trace_bytes": t.trace_bytes,
        "trace_sha256": t.trace_sha256,
        "records_sha256": t.summary.records_sha256,
        "cache_key": t.key,
        "cached": t.cached,
        "seconds": round(t.seconds, 2),
    }


def table(rows: list[dict]) -> str:
    """Human-readable table of program rows (whole-program counts; the kernel's instructions in brackets)."""
    head = f"{'program':<14} {'variant':<6} {'checksum':>20} {'instr (kernel)':>20} {'loads':>8} {'stores':>8} "
    head += f"{'modifies':>8} {'KiB':>6}  trace sha256"
    lines = [head, "-" * len(head)]
    for r in rows:
        t = r["total"]
        instr = f"{t['instructions']:,} ({r['kernel']['instructions']:,})"
        lines.append(
            f"{r['program']:<14} {r['variant']:<6} {r['native_checksum']:>20} {instr:>20} {t['loads']:>8,} "
            f"{t['stores']:>8,} {t['modifies']:>8,} {r['trace_bytes'] / 1024:>6.0f}  {r['trace_sha256'][:16]}"
        )
    return "\n".join(lines)


def write_fixtures(rows: list[dict], traces: list[ps.ProgramTrace], folder: Path) -> None:
    """Copy the SMALL traces into ``folder`` with ``MANIFEST.json`` and ``README.md``."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"tools": traces[0].tools, "cflags": list(ps.CFLAGS), "ldflags": list(ps.LDFLAGS), "traces": {}}
    for r, t in zip(rows, traces, strict=True):
        if t.trace_bytes > FIXTURE_MAX_BYTES:
            raise ValueError(f"trace_bytes of {t.trace.name} = {t.trace_bytes}: allowed <= {FIXTURE_MAX_BYTES}")
        ps.write_atomically(folder / t.trace.name, t.trace.read_bytes())
        entry = {k: r[k] for k in MANIFEST_FIELDS}
        manifest["traces"][t.trace.name] = entry | {"marker_address": t.marker_address}
    ps.write_atomically(folder / "MANIFEST.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    listing = "\n".join(
        f"| `{name}` | {m['total']['records']:,} "
        f"| {m['trace_bytes']:,} | {m['native_checksum']} | `{m['trace_sha256']}` |"
        for name, m in manifest["traces"].items()
    )
    readme = f"""# Lackey memory traces of the SMALL program set (test fixtures)

Real valgrind lackey traces of the `-DSMALL` builds of `archsim/traces/programs/*.c`, gzipped, each file
exactly as lackey wrote it (valgrind's `==PID==` lines included). Made by

    .venv/bin/python benchmarks/make_traces.py --fixtures tests/fixtures/traces

which builds each program with `gcc {" ".join(ps.CFLAGS)}` (kernel also `{" ".join(ps.KERNEL_CFLAGS)}`,
`-DSMALL`), links `{" ".join(ps.LDFLAGS)}` with `native_main.c`, and runs
`valgrind {" ".join(ps.LACKEY_ARGS)} --log-file=...` on it with an empty environment
(archsim/traces/program_set.py). Tools: {manifest["tools"]["gcc"]}; {manifest["tools"]["valgrind"]}.

`MANIFEST.json` records, per file, the SHA-256 of the `.gz` file, the SHA-256 of its access records (every
line but valgrind's own; these are the same from run to run, the `.gz` differs by the process id in
valgrind's lines), the counts of `I`/`L`/`S`/`M` records (whole program and kernel alone: the records
between the two stores to `hwcost_trace_marker`, at `marker_address`) and the native checksum, which the
tests compare with the Python re-computation of each kernel.

| file | records | bytes | native checksum | sha256 |
|---|---|---|---|---|
{listing}
"""
    ps.write_atomically(folder / "README.md", readme.encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="trace cache (default $HWCOST_TRACE_DIR or .cache/traces)"
    )
    parser.add_argument(
        "--programs", nargs="*", default=list(ps.names()), choices=ps.names(), help="programs to trace (default all)"
    )
    parser.add_argument(
        "--fixtures", type=Path, nargs="?", const=FIXTURES, default=None,
        help=f"also write the SMALL traces as test fixtures into this folder (default {FIXTURES.relative_to(ROOT)})",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="rebuild and retrace even where cached")
    parser.add_argument("--no-riscv", action="store_true", help="leave out the RISC-V instruction traces")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results JSON (default {RESULTS.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    if args.fixtures is not None and sorted(args.programs) != sorted(ps.names()):
        parser.error(f"--fixtures with --programs {' '.join(args.programs)}: allowed only with every program")
    cache_dir = args.cache_dir if args.cache_dir is not None else ps.default_cache_dir()

    start = time.perf_counter()
    try:
        tools = ps.tool_versions()
        full = [ps.trace(n, "full", cache_dir, force=args.force) for n in args.programs]
        small = [ps.trace(n, "small", cache_dir, force=args.force) for n in args.programs]
    except ps.ToolMissingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    rows = [row(t) for t in full + small]
    print(table(rows))
    if args.fixtures is not None:
        write_fixtures(rows[len(full) :], small, args.fixtures)
        print(f"wrote fixtures to {args.fixtures}")

    extra: dict[str, list[dict]] = {}
    for set_name, make in TRACE_SETS.items():
        if set_name == "riscv" and args.no_riscv:
            continue
        try:
            extra[set_name] = make(Path(cache_dir))
        except RuntimeError as e:  # a missing cross compiler skips the set; any other failure stops the script
            if type(e).__name__ != "ToolMissingError":
                raise
            print(f"\n{set_name}: skipped ({e})")
            continue
        native = {(r["program"], r["variant"]): r["native_checksum"] for r in rows}
        print(f"\n{set_name}: {len(extra[set_name])} traces")
        for r in extra[set_name]:
            same = native.get((r["program"], r.get("variant")))
            if "checksum" in r and same is not None and r["checksum"] != same:
                raise RuntimeError(
                    f"checksum of {r['program']} ({r.get('variant')}) on {set_name} = {r['checksum']}, native = "
                    f"{same}: allowed equal"
                )
            shown = {k: r[k] for k in ("program", "variant", "checksum", "instructions", "trace_bytes") if k in r}
            print(
                "  " + ", ".join(f"{k}={v}" for k, v in shown.items()) + (", equals native" if same is not None else "")
            )

    fc1 = ps.load_fc1().meta
    result = {
        "script": "benchmarks/make_traces.py",
        "tools": tools,
        "cflags": list(ps.CFLAGS),
        "kernel_cflags": list(ps.KERNEL_CFLAGS),
        "ldflags": list(ps.LDFLAGS),
        "lackey": list(ps.LACKEY_ARGS),
        "trace_format": ps.TRACE_FORMAT,
        "spmv_weights": {k: fc1[k] for k in WEIGHT_FIELDS},
        "lackey_traces": rows,
        **extra,
        "seconds": round(time.perf_counter() - start, 1),
    }
    ps.write_atomically(args.out, (json.dumps(result, indent=2) + "\n").encode())
    print(f"\n{len(rows)} traces in {result['seconds']} s; wrote {args.out}")
    if not TRACE_SETS:
        print("(no further trace sets: archsim.traces.rv64 is not present)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
