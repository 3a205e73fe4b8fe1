"""The fixed program set of the trace-driven simulators, built natively and traced through valgrind's lackey.

Six small C kernels (``archsim/traces/programs/*.c``), each with a fixed input generated inside the file:
the sparse matrix-vector product of the pruned first layer of a trained LeNet-300-100 in CSC, a dense GEMM,
a five-point stencil, a merge sort, an open-addressing hash table and a pointer-chasing walk. Every kernel
is freestanding C99 (only ``<stdint.h>``, ``<stddef.h>`` and the shared ``kernel_common.h``: the input
generator and the checksum step; static arrays, no library calls) and defines
``uint64_t run_kernel(void)``, which returns a checksum of its result; ``-DSMALL`` gives an input about ten
times smaller. ``native_main.c`` runs the kernel once and prints the checksum, bracketed by two stores to
``hwcost_trace_marker`` so the kernel's own accesses can be cut out of a whole-program trace.

Pipeline of :func:`trace` (results cached, so a trace is produced once and reused):

1. build natively: ``gcc -O2 -static`` (:data:`CFLAGS`, :data:`LDFLAGS`; static, so the trace has no dynamic
   loader), after checking that the kernel object references no outside symbol (freestanding);
2. run it plainly for the checksum, and compare with the Python re-computation of the same kernel
   (:func:`reference_checksum`);
3. run it under ``valgrind --tool=lackey --trace-mem=yes --log-file=...`` and gzip the log exactly as lackey
   wrote it (valgrind's ``==PID==`` lines included);
4. record the counts of instruction fetches (``I``), loads (``L``), stores (``S``) and modifies (``M``), for
   the whole program and for the kernel alone, and two SHA-256 checksums: of the ``.gz`` file, and of the
   access records alone (every line but valgrind's ``==PID==`` lines, which hold the process id).

Reproducibility: the records depend only on the sources, the flags and the tool versions, provided the
program runs with the same environment and the same length of working-directory path (both sit on the
client stack, so they move its addresses). :func:`run_lackey` therefore runs the program with an empty
environment, as ``./program``, in a fresh ``/tmp/hwcost-lackey-XXXXXXXX`` folder (always the same length);
the tests compare a fresh trace's records with the committed fixture's.

Cache: ``$HWCOST_TRACE_DIR`` if set, else ``.cache/traces`` under the repository, one folder per program,
variant and key (:func:`cache_key`: SHA-256 of the sources, the generated weight header, the flags, the
tool versions and :data:`TRACE_FORMAT`). Files are written to a temporary name and renamed (atomic).

Tools: gcc, nm (binutils) and valgrind on ``PATH``; if one is missing :class:`ToolMissingError` says how to
install it (``make tools``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

PROGRAMS_DIR = Path(__file__).resolve().parent / "programs"
REPO_ROOT = Path(__file__).resolve().parents[2]
WEIGHTS_NPZ = PROGRAMS_DIR / "data" / "lenet300_fc1.npz"
WEIGHTS_HEADER = "lenet300_fc1.h"
COMMON_HEADER = "kernel_common.h"
"""The header every kernel includes: its input generator (xorshift64) and its checksum step (FNV-1a)."""
NATIVE_MAIN = "native_main.c"
MARKER_SYMBOL = "hwcost_trace_marker"
TRACE_DIR_ENV = "HWCOST_TRACE_DIR"

#: Bumped whenever the build, the run or the trace file layout changes, so stale cache entries are not reused.
TRACE_FORMAT = 1
#: Compiler flags of every object. ``-fno-tree-loop-distribute-patterns`` keeps GCC from turning the
#: kernels' clearing and copying loops into memset/memcpy calls, which a bare-metal build has no library for.
#: ``-fno-tree-vectorize`` keeps the native code scalar, as on the RV64IM core (no vector unit), so the
#: native and RISC-V traces, and the full and SMALL variants (GCC 12 vectorises the 48-wide GEMM rows at -O2
#: but not the 22-wide ones), run the same scalar algorithm.
CFLAGS: tuple[str, ...] = ("-O2", "-std=c99", "-fno-tree-loop-distribute-patterns", "-fno-tree-vectorize")
#: Extra flags of the kernel object (it may not rely on the C library).
KERNEL_CFLAGS: tuple[str, ...] = ("-ffreestanding",)
#: Link flags: static, so the program has no dynamic loader and its trace starts at ``_start``.
LDFLAGS: tuple[str, ...] = ("-static",)
#: The lackey command line (valgrind 3.19 manual, sec. "Lackey: an example tool").
LACKEY_ARGS: tuple[str, ...] = ("--tool=lackey", "--trace-mem=yes")
VARIANTS: tuple[str, ...] = ("full", "small")
#: Seconds a native run or a lackey run may take before it counts as hung (an assumption: the largest
#: program takes a few seconds under lackey on this machine kind).
RUN_TIMEOUT_S = 300.0

INSTALL_HINT = (
    "run `make tools` (it installs those of Debian's gcc, binutils, valgrind and gcc-riscv64-unknown-elf that are "
    "missing, with apt-get), or install them yourself: `sudo apt-get install gcc binutils valgrind`"
)

FNV_OFFSET = 0xCBF29CE484222325  # FNV-1a 64-bit offset basis (Fowler, Noll, Vo; IETF draft-eastlake-fnv)
FNV_PRIME = 0x100000001B3  # FNV 64-bit prime (same source)
MASK64 = (1 << 64) - 1


class ToolMissingError(RuntimeError):
    """A tool the program set needs (gcc, nm, valgrind) is not installed."""


class Program(NamedTuple):
    """One program of the set.

    ``source`` is the kernel's file name in :data:`PROGRAMS_DIR`; ``headers`` the generated headers it
    includes (written into the build folder); ``description`` says what it does and ``input`` its fixed
    input (the full and the ``-DSMALL`` size); ``reference`` recomputes its checksum in Python
    (``reference(constants)`` with the source's ``#define`` values, :func:`source_constants`).
    """

    name: str
    source: str
    description: str
    input: str
    headers: tuple[str, ...]
    reference: Callable[[dict[str, int]], int]


class Fc1Matrix(NamedTuple):
    """The pruned LeNet-300-100 ``ip1`` in CSC: ``W[row_idx[k], j] = values[k] * scale`` for
    ``col_ptr[j] <= k < col_ptr[j + 1]``; ``shape = (300, 784)`` (outputs, inputs); ``meta`` the export's
    record (recipe, density, test accuracies)."""

    col_ptr: np.ndarray
    row_idx: np.ndarray
    values: np.ndarray
    scale: float
    shape: tuple[int, int]
    meta: dict


class LackeyCounts(NamedTuple):
    """Access records of one lackey trace: instruction fetches, loads, stores, modifies (load + store of one
    address by one instruction); ``records`` = their sum."""

    instructions: int
    loads: int
    stores: int
    modifies: int

    @property
    def records(self) -> int:
        return self.instructions + self.loads + self.stores + self.modifies


class TraceSummary(NamedTuple):
    """What one pass over a lackey trace records: counts of the whole program and of the kernel alone (the
    records strictly between the two marker stores), valgrind's own lines, and the SHA-256 of the access
    records (every line that is not a valgrind ``==PID==`` line, each with its newline)."""

    total: LackeyCounts
    kernel: LackeyCounts
    valgrind_lines: int
    records_sha256: str


class ProgramTrace(NamedTuple):
    """A built and traced program (:func:`trace`); paths are in the cache folder."""

    name: str
    variant: str
    key: str
    executable: Path
    trace: Path
    checksum: int
    reference_checksum: int
    marker_address: int
    summary: TraceSummary
    trace_sha256: str
    trace_bytes: int
    tools: dict[str, str]
    cached: bool
    seconds: float


# --- the kernels' Python re-computations -------------------------------------------------------------------


def xorshift64(state: int) -> Iterator[int]:
    """The kernels' generator: xorshift64 with shifts (13, 7, 17) (Marsaglia, "Xorshift RNGs", J. Stat.
    Softw. 8(14), 2003), yielding each new 64-bit state from the nonzero seed ``state``."""
    if not 0 < state <= MASK64:
        raise ValueError(f"state={state}: allowed a nonzero 64-bit unsigned integer")
    x = state
    while True:
        x ^= (x << 13) & MASK64
        x ^= x >> 7
        x ^= (x << 17) & MASK64
        yield x


def fold(values: Iterable[int], h: int = FNV_OFFSET) -> int:
    """The kernels' checksum: ``h = (h ^ v) * 0x100000001b3 mod 2^64`` over ``values`` (each taken as a 64-bit
    two's complement word), from the FNV-1a offset basis."""
    for v in values:
        h = ((h ^ (int(v) & MASK64)) * FNV_PRIME) & MASK64
    return h


def _draws(seed: int, n: int) -> list[int]:
    gen = xorshift64(seed)
    return [next(gen) for _ in range(n)]


def _int8_of(r: int) -> int:
    top = r >> 56
    return top - 256 if top >= 128 else top


def _gemm_reference(c: dict[str, int]) -> int:
    n = c["N"]
    r = _draws(c["SEED"], 2 * n * n)
    a = np.array([_int8_of(v) for v in r[: n * n]], np.int64).reshape(n, n)
    b = np.array([_int8_of(v) for v in r[n * n :]], np.int64).reshape(n, n)
    return fold((a @ b).ravel().tolist())


def _stencil_reference(c: dict[str, int]) -> int:
    n, t = c["N"], c["T"]
    grid = np.array([v >> 48 for v in _draws(c["SEED"], (n + 2) ** 2)], np.int64).reshape(n + 2, n + 2)
    for _ in range(t):
        out = grid.copy()
        out[1:-1, 1:-1] = (
            4 * grid[1:-1, 1:-1] + grid[:-2, 1:-1] + grid[2:, 1:-1] + grid[1:-1, :-2] + grid[1:-1, 2:]
        ) >> 3
        grid = out
    return fold(grid[1:-1, 1:-1].ravel().tolist())


def _sort_reference(c: dict[str, int]) -> int:
    return fold(sorted(v >> 32 for v in _draws(c["SEED"], c["N"])))


def _hash_table_reference(c: dict[str, int]) -> int:
    m, q = c["M"], c["Q"]
    gen = xorshift64(c["SEED"])
    inserted = [next(gen) for _ in range(m)]
    table: dict[int, int] = {}
    for i, key in enumerate(inserted):
        table[key] = i  # a key seen again overwrites its value, as the C insert does
    results = []
    for k in range(q):
        r = next(gen)
        key = inserted[r % m] if k % 2 == 0 else r
        results.append(table.get(key, MASK64))
    return fold(results)


def _pointer_chase_reference(c: dict[str, int]) -> int:
    n, steps = c["N"], c["STEPS"]
    gen = xorshift64(c["SEED"])
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = next(gen) % (i + 1)
        order[i], order[j] = order[j], order[i]
    nxt = [0] * n
    for i in range(n):
        nxt[order[i]] = order[(i + 1) % n]
    payload = [next(gen) >> 32 for _ in range(n)]
    total, p = 0, 0
    for _ in range(steps):
        total += payload[p]
        p = nxt[p]
    return fold([total & MASK64, p])


def _spmv_reference(c: dict[str, int]) -> int:
    m = load_fc1()
    w = np.zeros(m.shape, np.int64)
    for j in range(m.shape[1]):
        lo, hi = m.col_ptr[j], m.col_ptr[j + 1]
        w[m.row_idx[lo:hi].astype(np.int64), j] = m.values[lo:hi]
    gen = xorshift64(c["SEED"])
    out: list[int] = []
    for _ in range(c["BATCH"]):
        r = [next(gen) for _ in range(m.shape[1])]
        x = np.array([(v >> 32) & 255 if v & 3 == 0 else 0 for v in r], np.int64)
        out.extend((w @ x).tolist())
    return fold(out)


PROGRAMS: dict[str, Program] = {
    p.name: p
    for p in (
        Program(
            "spmv_csc",
            "spmv_csc.c",
            "y = W x with the pruned first layer (784 -> 300) of a trained LeNet-300-100 in CSC, int16 weights, "
            "column by column for the nonzero activations (EIE's dataflow, Han et al., ISCA'16, Sec. III)",
            "W: 18,816 nonzeros (8% density, Deep Compression Table 2); x: 20 vectors of 784 8-bit activations, "
            "about one in four nonzero (SMALL: 2 vectors)",
            (WEIGHTS_HEADER,),
            _spmv_reference,
        ),
        Program(
            "gemm",
            "gemm.c",
            "dense integer matrix product C = A B, loop order i-k-j",
            "A, B: 48 x 48 int16 in [-128, 127]; C int32 (SMALL: 22 x 22)",
            (),
            _gemm_reference,
        ),
        Program(
            "stencil",
            "stencil.c",
            "two-dimensional five-point Jacobi sweeps, out = (4 c + n + s + e + w) >> 3, ping-pong grids",
            "66 x 66 int32 grid in [0, 65535] (64 x 64 interior), 16 sweeps (SMALL: 34 x 34, 6 sweeps)",
            (),
            _stencil_reference,
        ),
        Program(
            "sort",
            "sort.c",
            "bottom-up merge sort of 32-bit keys between two buffers",
            "4,096 random 32-bit keys (SMALL: 512)",
            (),
            _sort_reference,
        ),
        Program(
            "hash_table",
            "hash_table.c",
            "open-addressing hash table with linear probing and Fibonacci hashing: inserts, then lookups of "
            "present and absent keys",
            "16,384 slots of (64-bit key, value), 8,192 inserts, 16,384 lookups, half of them present "
            "(SMALL: 2,048 slots, 1,024 inserts, 2,048 lookups)",
            (),
            _hash_table_reference,
        ),
        Program(
            "pointer_chase",
            "pointer_chase.c",
            "walk along one random cycle of 64-byte nodes (dependent loads), adding up payloads",
            "4,096 nodes (256 KiB), 65,536 steps (SMALL: 1,024 nodes (64 KiB), 4,096 steps)",
            (),
            _pointer_chase_reference,
        ),
    )
}
"""Program name -> :class:`Program`, in the order of the tables."""


def names() -> tuple[str, ...]:
    """The program names."""
    return tuple(PROGRAMS)


def program(name: str) -> Program:
    """The program ``name`` (``ValueError`` naming the allowed ones otherwise)."""
    if name not in PROGRAMS:
        raise ValueError(f"program={name!r}: allowed one of {', '.join(PROGRAMS)}")
    return PROGRAMS[name]


def check_variant(variant: str) -> None:
    """``ValueError`` unless ``variant`` is ``"full"`` or ``"small"`` (``-DSMALL``)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant={variant!r}: allowed one of {', '.join(VARIANTS)}")


# --- sources, constants and the generated weight header ----------------------------------------------------

_DEFINE = re.compile(r"#define\s+(\w+)\s+\(?\s*(0x[0-9a-fA-F]+|\d+)(?:[uU][lL]{0,2}|[lL]{1,2}[uU]?)?\s*\)?\s*$")


def source_constants(name: str, variant: str = "full") -> dict[str, int]:
    """The integer ``#define`` values of program ``name``'s source as the compiler sees them for ``variant``
    (the branch of ``#ifdef SMALL`` / ``#else`` / ``#endif`` that applies), so the Python re-computation uses
    the sizes and seeds of the C file itself."""
    check_variant(variant)
    small = variant == "small"
    constants: dict[str, int] = {}
    active = [True]
    for line in (PROGRAMS_DIR / program(name).source).read_text().splitlines():
        s = line.strip()
        if s.startswith("#ifdef"):
            active.append(active[-1] and (s.split()[1] == "SMALL") == small)
        elif s.startswith("#ifndef"):
            active.append(active[-1] and (s.split()[1] == "SMALL") != small)
        elif s.startswith("#else"):
            active[-1] = active[-2] and not active[-1]
        elif s.startswith("#endif"):
            active.pop()
        elif active[-1]:
            match = _DEFINE.match(s)
            if match:
                constants[match.group(1)] = int(match.group(2), 0)
    return constants


def reference_checksum(name: str, variant: str = "full") -> int:
    """Python re-computation of program ``name``'s checksum (what ``run_kernel()`` must return)."""
    return program(name).reference(source_constants(name, variant))


def load_fc1(path: str | Path = WEIGHTS_NPZ) -> Fc1Matrix:
    """The committed pruned LeNet-300-100 ``ip1`` (written by ``benchmarks/export_lenet300_fc1.py``), checked:
    ``col_ptr`` nondecreasing from 0 to nnz, row indices in range and increasing within each column."""
    with np.load(path) as f:
        m = Fc1Matrix(
            f["col_ptr"].astype(np.int64), f["row_idx"].astype(np.int64), f["values"].astype(np.int64),
            float(f["scale"]), (int(f["shape"][0]), int(f["shape"][1])), json.loads(str(f["meta"])),
        )  # fmt: skip
    rows, cols = m.shape
    nnz = len(m.values)
    if len(m.col_ptr) != cols + 1 or m.col_ptr[0] != 0 or m.col_ptr[-1] != nnz or np.any(np.diff(m.col_ptr) < 0):
        raise ValueError(f"col_ptr of {path}: allowed {cols + 1} nondecreasing entries from 0 to nnz={nnz}")
    if len(m.row_idx) != nnz or np.any(m.row_idx < 0) or np.any(m.row_idx >= rows):
        raise ValueError(f"row_idx of {path}: allowed {nnz} entries in [0, {rows})")
    starts = np.zeros(nnz, bool)
    starts[m.col_ptr[:-1][m.col_ptr[:-1] < nnz]] = True
    if np.any((np.diff(m.row_idx) <= 0) & ~starts[1:]):
        raise ValueError(f"row_idx of {path}: allowed strictly increasing rows within each column")
    return m


def weights_header_text(path: str | Path = WEIGHTS_NPZ) -> str:
    """The C header ``lenet300_fc1.h`` that ``spmv_csc.c`` includes, generated from the committed ``.npz``."""
    m = load_fc1(path)

    def array(ctype: str, name: str, values: np.ndarray, per_line: int = 16) -> str:
        items = [str(int(v)) for v in values]
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return f"static const {ctype} {name}[{len(items)}] = {{\n    " + ",\n    ".join(lines) + "\n};\n"

    return (
        f"/* Generated by archsim/traces/program_set.py from {WEIGHTS_NPZ.relative_to(REPO_ROOT)}; do not edit.\n"
        f" * Pruned LeNet-300-100 ip1 in CSC, weight = value * {m.scale!r}; density {m.meta.get('density')}. */\n"
        "#ifndef LENET300_FC1_H\n#define LENET300_FC1_H\n"
        "#include <stdint.h>\n"
        f"#define FC1_ROWS {m.shape[0]}\n#define FC1_COLS {m.shape[1]}\n#define FC1_NNZ {len(m.values)}\n"
        + array("int32_t", "fc1_col_ptr", m.col_ptr)
        + array("uint16_t", "fc1_row_idx", m.row_idx)
        + array("int16_t", "fc1_values", m.values)
        + "#endif\n"
    )


def write_generated_headers(name: str, directory: str | Path) -> list[Path]:
    """Write the generated headers program ``name`` includes into ``directory``; returns their paths."""
    out = []
    for header in program(name).headers:
        if header != WEIGHTS_HEADER:
            raise ValueError(f"headers={header!r} of program {name!r}: allowed {WEIGHTS_HEADER!r}")
        out.append(write_atomically(Path(directory) / header, weights_header_text().encode()))
    return out


# --- tools, files, cache -------------------------------------------------------------------------------------


def find_tool(tool: str) -> str:
    """Absolute path of ``tool`` on ``PATH``; :class:`ToolMissingError` with how to install it otherwise."""
    found = shutil.which(tool)
    if found is None:
        raise ToolMissingError(f"{tool} is not on PATH ({os.environ.get('PATH', '')}): {INSTALL_HINT}")
    return found


def tool_versions() -> dict[str, str]:
    """First line of ``gcc --version`` and ``valgrind --version`` (part of the cache key)."""
    out = {}
    for tool in ("gcc", "valgrind"):
        result = subprocess.run([find_tool(tool), "--version"], capture_output=True, text=True, check=True)
        out[tool] = result.stdout.splitlines()[0].strip()
    return out


def write_atomically(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a uniquely named temporary file beside it, renamed over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def default_cache_dir() -> Path:
    """``$HWCOST_TRACE_DIR`` if set, else ``.cache/traces`` under the repository."""
    env = os.environ.get(TRACE_DIR_ENV)
    return Path(env) if env else REPO_ROOT / ".cache" / "traces"


def cache_key(name: str, variant: str, tools: dict[str, str] | None = None) -> str:
    """Hex SHA-256 of everything a trace depends on: the kernel, ``native_main.c``, ``kernel_common.h``, the
    generated headers, the flags, the variant, the tool versions and :data:`TRACE_FORMAT`."""
    check_variant(variant)
    p = program(name)
    recipe = {
        "format": TRACE_FORMAT,
        "variant": variant,
        "sources": {
            f: hashlib.sha256((PROGRAMS_DIR / f).read_bytes()).hexdigest()
            for f in (p.source, NATIVE_MAIN, COMMON_HEADER)
        },
        "headers": {h: hashlib.sha256(weights_header_text().encode()).hexdigest() for h in p.headers},
        "cflags": CFLAGS,
        "kernel_cflags": KERNEL_CFLAGS,
        "ldflags": LDFLAGS,
        "lackey": LACKEY_ARGS,
        "tools": tool_versions() if tools is None else tools,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


# --- build, run, trace ---------------------------------------------------------------------------------------


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {result.returncode}:\n{result.stderr.strip()}")
    return result


def build_native(name: str, variant: str, directory: str | Path) -> Path:
    """Compile and link program ``name`` (``variant``) into ``directory/program``; returns its path.

    ``RuntimeError`` if the kernel object references an outside symbol (it must be freestanding), with the
    symbols named."""
    check_variant(variant)
    p = program(name)
    gcc, nm = find_tool("gcc"), find_tool("nm")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    write_generated_headers(name, d)
    small = ["-DSMALL"] if variant == "small" else []
    kernel_o, main_o, exe = d / "kernel.o", d / "native_main.o", d / "program"
    _run([gcc, *CFLAGS, *KERNEL_CFLAGS, *small, "-I", str(d), "-c", str(PROGRAMS_DIR / p.source), "-o", str(kernel_o)])
    undefined = _run([nm, "-u", str(kernel_o)]).stdout.split()
    undefined = [s for s in undefined if s not in ("U", "w")]
    if undefined:
        raise RuntimeError(f"kernel object of {name!r} references {', '.join(undefined)}: allowed none (freestanding)")
    _run([gcc, *CFLAGS, "-c", str(PROGRAMS_DIR / NATIVE_MAIN), "-o", str(main_o)])
    _run([gcc, *LDFLAGS, str(main_o), str(kernel_o), "-o", str(exe)])
    return exe


def marker_address(executable: str | Path) -> int:
    """Address of :data:`MARKER_SYMBOL` in a (static, non-PIE) executable, from its symbol table."""
    for line in _run([find_tool("nm"), str(executable)]).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == MARKER_SYMBOL:
            return int(parts[0], 16)
    raise RuntimeError(f"{executable} has no symbol {MARKER_SYMBOL}: allowed only programs linked with {NATIVE_MAIN}")


def run_native(executable: str | Path) -> int:
    """Run a built program and return the checksum it prints (one decimal 64-bit unsigned integer)."""
    out = _run([str(executable)]).stdout.strip()
    if not out.isdigit() or int(out) > MASK64:
        raise RuntimeError(f"{executable} printed {out!r}: allowed one decimal 64-bit unsigned integer")
    return int(out)


def run_lackey(executable: str | Path, log: str | Path) -> None:
    """Run ``executable`` under valgrind's lackey, writing the trace to ``log`` (plain text).

    The program runs as ``./program`` with an empty environment in a fresh folder whose path always has the
    same length, so its stack addresses, and therefore its trace, are the same from run to run."""
    valgrind = find_tool("valgrind")
    with tempfile.TemporaryDirectory(prefix="hwcost-lackey-", dir="/tmp") as work:
        shutil.copy2(executable, Path(work) / "program")
        _run([valgrind, *LACKEY_ARGS, f"--log-file={Path(log).resolve()}", "./program"], cwd=work, env={})


_RECORD = re.compile(rb"^(?:I |\s[LSM]) [0-9a-f]+,\d+$")


def summarize_lackey(lines: Iterable[bytes], marker: int | None = None) -> TraceSummary:
    """Count the records of a lackey trace given as its lines (bytes, newline kept or not).

    Args:
        lines: the trace's lines.
        marker: address of :data:`MARKER_SYMBOL`; records strictly between the first two stores to it are
            the kernel's (``None``: no kernel counts).

    ``ValueError`` naming the line if one is neither a valgrind ``==PID==`` line nor an access record
    ``I  addr,size`` / `` L addr,size`` / `` S addr,size`` / `` M addr,size``."""
    total = [0, 0, 0, 0]
    kernel = [0, 0, 0, 0]
    kinds = {ord("I"): 0, ord("L"): 1, ord("S"): 2, ord("M"): 3}
    marker_record = None if marker is None else f" S {marker:08x},8".encode()
    seen_markers = 0
    valgrind = 0
    h = hashlib.sha256()
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip(b"\n")
        if line.startswith(b"=="):
            valgrind += 1
            continue
        if not _RECORD.match(line):
            raise ValueError(f"line {number} = {line[:60]!r}: allowed a valgrind '==PID==' line or an access record")
        h.update(line + b"\n")
        kind = kinds[line[0] if line[0] == ord("I") else line[1]]
        total[kind] += 1
        if line == marker_record:
            seen_markers += 1
        elif seen_markers == 1:
            kernel[kind] += 1
    if marker is not None and seen_markers < 2:
        raise ValueError(f"stores to the marker at {marker:#x}: {seen_markers} found, allowed at least 2")
    return TraceSummary(LackeyCounts(*total), LackeyCounts(*kernel), valgrind, h.hexdigest())


def gzip_file(src: str | Path, dest: str | Path) -> None:
    """Gzip ``src`` into ``dest`` (atomically), with no file name and mtime 0 in the header, so equal inputs give
    equal files (with one zlib version)."""
    buffer = io.BytesIO()
    with open(src, "rb") as f, gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as g:
        shutil.copyfileobj(f, g, 1 << 20)
    write_atomically(dest, buffer.getvalue())


def read_trace_lines(path: str | Path) -> Iterator[bytes]:
    """The lines of a (gzipped or plain) lackey trace."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        yield from f


def _from_meta(meta: dict, folder: Path, cached: bool, seconds: float) -> ProgramTrace:
    s = meta["summary"]
    summary = TraceSummary(
        LackeyCounts(**s["total"]), LackeyCounts(**s["kernel"]), s["valgrind_lines"], s["records_sha256"]
    )
    return ProgramTrace(
        meta["name"], meta["variant"], meta["key"], folder / "program", folder / meta["trace_file"],
        meta["checksum"], meta["reference_checksum"], meta["marker_address"], summary, meta["trace_sha256"],
        meta["trace_bytes"], meta["tools"], cached, seconds,
    )  # fmt: skip


def trace_file_name(name: str, variant: str) -> str:
    """File name of a trace: ``<program>.<variant>.lackey.gz``."""
    return f"{name}.{variant}.lackey.gz"


def trace(
    name: str, variant: str = "full", cache_dir: str | Path | None = None, *, force: bool = False
) -> ProgramTrace:
    """Build, run and trace program ``name`` (``variant``), or reuse the cached result.

    Args:
        name: a program of :data:`PROGRAMS`.
        variant: ``"full"`` or ``"small"`` (``-DSMALL``).
        cache_dir: cache folder (default :func:`default_cache_dir`).
        force: rebuild and retrace even if a cached result exists.

    ``RuntimeError`` if the native checksum differs from :func:`reference_checksum` (the kernel and its Python
    re-computation disagree), or if a cached trace's SHA-256 no longer matches its record."""
    start = time.perf_counter()
    check_variant(variant)
    program(name)
    tools = tool_versions()
    key = cache_key(name, variant, tools)
    folder = Path(cache_dir if cache_dir is not None else default_cache_dir()) / f"{name}-{variant}-{key[:16]}"
    meta_path = folder / "meta.json"
    if meta_path.is_file() and not force:
        meta = json.loads(meta_path.read_text())
        if sha256_file(folder / meta["trace_file"]) != meta["trace_sha256"]:
            raise RuntimeError(f"{folder / meta['trace_file']}: SHA-256 differs from {meta_path}; delete {folder}")
        return _from_meta(meta, folder, True, time.perf_counter() - start)

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-", dir=folder) as build:
        exe = build_native(name, variant, build)
        checksum = run_native(exe)
        reference = reference_checksum(name, variant)
        if checksum != reference:
            raise RuntimeError(
                f"checksum of {name} ({variant}) = {checksum}, its Python re-computation = {reference}: allowed equal"
            )
        marker = marker_address(exe)
        log = Path(build) / "lackey.log"
        run_lackey(exe, log)
        summary = summarize_lackey(read_trace_lines(log), marker)
        gz = folder / trace_file_name(name, variant)
        gzip_file(log, gz)
        write_atomically(folder / "program", exe.read_bytes())
        os.chmod(folder / "program", 0o755)
    meta = {
        "name": name,
        "variant": variant,
        "key": key,
        "trace_file": gz.name,
        "checksum": checksum,
        "reference_checksum": reference,
        "marker_address": marker,
        "summary": {
            "total": summary.total._asdict(),
            "kernel": summary.kernel._asdict(),
            "valgrind_lines": summary.valgrind_lines,
            "records_sha256": summary.records_sha256,
        },
        "trace_sha256": sha256_file(gz),
        "trace_bytes": gz.stat().st_size,
        "tools": tools,
        "cflags": list(CFLAGS),
        "kernel_cflags": list(KERNEL_CFLAGS),
        "ldflags": list(LDFLAGS),
    }
    write_atomically(meta_path, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
    return _from_meta(meta, folder, False, time.perf_counter() - start)


__all__ = [
    "PROGRAMS",
    "Fc1Matrix",
    "LackeyCounts",
    "Program",
    "ProgramTrace",
    "ToolMissingError",
    "TraceSummary",
    "build_native",
    "cache_key",
    "default_cache_dir",
    "find_tool",
    "fold",
    "load_fc1",
    "names",
    "program",
    "reference_checksum",
    "run_lackey",
    "run_native",
    "source_constants",
    "summarize_lackey",
    "trace",
    "weights_header_text",
    "xorshift64",
]
