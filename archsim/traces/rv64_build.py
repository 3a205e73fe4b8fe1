"""Build the C kernels of ``archsim/traces/programs`` for bare-metal RV64IM, and trace them.

:func:`build_elf` compiles one kernel with the start-up code and linker script of ``programs/riscv``::

    riscv64-unknown-elf-gcc -O2 -std=c99 -march=rv64im -mabi=lp64 -mcmodel=medany -nostdlib -ffreestanding \
        -static -fno-tree-loop-distribute-patterns -T link.ld crt0.S runtime.c <kernel>.c -lgcc

into a content-addressed cache: the ELF's name is a hash of the compiler's version, the flags, the
defines and every source and header that can reach the build, so a changed input never reuses a stale
binary. Files are written to a temporary name and renamed into place (atomic on POSIX), so concurrent
builds never see a half-written ELF. :func:`instruction_trace` builds a kernel, runs it under
:mod:`archsim.traces.rv64` and caches the trace as a compressed ``.npz``.

The cross compiler is Debian's ``gcc-riscv64-unknown-elf`` (``make tools`` installs it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from archsim.traces import program_set, rv64

PROGRAMS_DIR = Path(__file__).resolve().parent / "programs"
"""The kernels' C sources (``<name>.c``)."""
RISCV_DIR = PROGRAMS_DIR / "riscv"
"""Start-up code (``crt0.S``), memory functions (``runtime.c``) and linker script (``link.ld``)."""
COMPILER = "riscv64-unknown-elf-gcc"
"""The bare-metal RISC-V cross compiler (Debian package ``gcc-riscv64-unknown-elf``)."""
CFLAGS = (
    "-O2", "-std=c99", "-march=rv64im", "-mabi=lp64", "-mcmodel=medany", "-nostdlib", "-ffreestanding", "-static",
    "-fno-tree-loop-distribute-patterns",
)  # fmt: skip
"""Compiler flags of every kernel build. ``-mcmodel=medany`` (pc-relative addressing) because the program sits
at 0x80000000, beyond the +-2 GiB around address 0 that the default ``medlow`` model can reach (GCC manual,
"RISC-V Options"); ``-std=c99`` and ``-fno-tree-loop-distribute-patterns`` as in the native build of
:mod:`archsim.traces.program_set`, so both builds keep the kernels' loops as loops."""
SMALL_DEFINE = "SMALL"
"""Preprocessor macro that selects a kernel's small input (about 10x fewer instructions)."""
RUNTIME_SOURCES = ("crt0.S", "runtime.c")
LINKER_SCRIPT = "link.ld"


class ToolMissingError(program_set.ToolMissingError):
    """The cross compiler is not installed (a kind of the program set's own missing-tool error)."""


def compiler_path(compiler: str = COMPILER) -> str:
    """The cross compiler's path.

    Raises:
        ToolMissingError: when it is not on ``PATH``, saying how to install it.
    """
    found = shutil.which(compiler)
    if found is None:
        raise ToolMissingError(
            f"{compiler} not found on PATH; install it with `make tools` "
            "(or `apt-get install gcc-riscv64-unknown-elf` on Debian/Ubuntu)"
        )
    return found


def default_cache_dir() -> Path:
    """``rv64`` under the program set's trace cache (:func:`archsim.traces.program_set.default_cache_dir`:
    ``$HWCOST_TRACE_DIR``, else ``.cache/traces`` in the repository)."""
    return program_set.default_cache_dir() / "rv64"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _headers(dirs: Iterable[Path]) -> list[Path]:
    return sorted({h for d in dirs for h in Path(d).glob("*.h")})


def build_key(
    sources: Sequence[Path], defines: Sequence[str], include_dirs: Sequence[Path], compiler: str = COMPILER
) -> str:
    """Hex SHA-256 over the compiler version, the flags, the defines and the contents of every source, of the
    linker script and of every header in the sources' and include directories."""
    version = subprocess.run([compiler_path(compiler), "--version"], capture_output=True, text=True, check=True)
    h = hashlib.sha256()
    h.update(version.stdout.splitlines()[0].encode())
    h.update("\0".join((*CFLAGS, *defines)).encode())
    dirs = [*{Path(s).resolve().parent for s in sources}, *(Path(d).resolve() for d in include_dirs)]
    for f in [*sources, RISCV_DIR / LINKER_SCRIPT, *_headers(dirs)]:
        h.update(Path(f).name.encode() + b"\0" + Path(f).read_bytes() + b"\0")
    return h.hexdigest()


def build_elf(
    source: str | Path,
    *,
    defines: Sequence[str] = (),
    include_dirs: Sequence[str | Path] = (),
    cache_dir: str | Path | None = None,
    compiler: str = COMPILER,
) -> Path:
    """Compile and link one freestanding C kernel for bare-metal RV64IM; return the cached ELF's path.

    Args:
        source: the kernel's C file (defines ``uint64_t run_kernel(void)``).
        defines: preprocessor macros (``"SMALL"``, ``"N=64"``), passed as ``-D``.
        include_dirs: extra header directories (``-I``), e.g. for a generated header.
        cache_dir: where ELFs are kept (default :func:`default_cache_dir`); the file is
            ``<cache_dir>/<stem>-<key[:16]>.elf``.
        compiler: the cross compiler's name.

    Raises:
        ToolMissingError: the cross compiler is missing (install it with ``make tools``).
        FileNotFoundError: ``source`` does not exist.
        RuntimeError: the compiler failed; the message holds its command line and output.
    """
    source = Path(source).resolve()
    if not source.is_file():
        raise FileNotFoundError(f"kernel source {source} does not exist")
    gcc = compiler_path(compiler)
    runtime = [RISCV_DIR / name for name in RUNTIME_SOURCES]
    inc = [Path(d).resolve() for d in include_dirs]
    key = build_key([*runtime, source], defines, inc, compiler)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    out = cache / f"{source.stem}-{key[:16]}.elf"
    if out.is_file():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".build-") as tmp:
        elf = Path(tmp) / "a.elf"
        cmd = [
            gcc, *CFLAGS, "-T", str(RISCV_DIR / LINKER_SCRIPT), *(f"-D{d}" for d in defines),
            *(f"-I{d}" for d in inc), *map(str, runtime), str(source), "-lgcc", "-o", str(elf),
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(
                f"building {source.name} failed (exit {done.returncode}):\n{' '.join(cmd)}\n{done.stdout}{done.stderr}"
            )
        _atomic_write(out, elf.read_bytes())
    return out


def _emulator_key() -> str:
    return hashlib.sha256(Path(rv64.__file__).read_bytes()).hexdigest()


def trace_elf(elf: str | Path, cache_dir: str | Path | None = None, *, name: str | None = None) -> Path:
    """Run an RV64IM ELF under :func:`archsim.traces.rv64.run` and cache the trace as ``.npz``.

    The trace file is ``<cache_dir>/<name>-<key[:16]>.npz``, the key a hash of the ELF and of the emulator's
    source; its metadata (:func:`archsim.traces.rv64.load_trace_metadata`) holds ``exit_value`` (the
    checksum, decimal), ``instructions`` and ``elf_sha256``.
    """
    elf = Path(elf)
    blob = elf.read_bytes()
    elf_sha = hashlib.sha256(blob).hexdigest()
    key = hashlib.sha256((elf_sha + _emulator_key()).encode()).hexdigest()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    out = cache / f"{name or elf.stem}-{key[:16]}.npz"
    if out.is_file():
        return out
    result = rv64.run(blob)
    return rv64.save_trace(
        out, result.trace, exit_value=result.exit_value, instructions=int(result.trace.pc.size), elf_sha256=elf_sha
    )


def build_program(name: str, small: bool, cache_dir: str | Path | None = None) -> Path:
    """Build program ``name`` of :data:`archsim.traces.program_set.PROGRAMS` for RV64IM (``-DSMALL`` when
    ``small``); return the cached ELF's path (:func:`build_elf`).

    Generated headers (``spmv_csc``'s weights) are written by
    :func:`archsim.traces.program_set.write_generated_headers`; their contents are part of the build key.

    Raises:
        ValueError: ``name`` is not a program of the set.
        ToolMissingError: the cross compiler is missing.
    """
    p = program_set.program(name)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".headers-") as gen:
        program_set.write_generated_headers(name, gen)
        return build_elf(
            program_set.PROGRAMS_DIR / p.source,
            defines=(SMALL_DEFINE,) if small else (),
            include_dirs=(gen,),
            cache_dir=cache,
        )


def instruction_trace(name: str, small: bool, cache_dir: str | Path | None = None) -> Path:
    """Build program ``name`` for RV64IM (:func:`build_program`), run it, check its checksum, and return its
    cached ``.npz`` trace (:func:`trace_elf`; read it with :func:`archsim.traces.rv64.load_trace`).

    Raises:
        ValueError: ``name`` is not a program of the set.
        ToolMissingError: the cross compiler is missing.
        RuntimeError: the RISC-V checksum differs from :func:`archsim.traces.program_set.reference_checksum`.
    """
    variant = "small" if small else "full"
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = trace_elf(build_program(name, small, cache), cache, name=f"{name}-{variant}")
    checksum = int(rv64.load_trace_metadata(path)["exit_value"])
    reference = program_set.reference_checksum(name, variant)
    if checksum != reference:
        raise RuntimeError(
            f"RV64IM checksum of {name} ({variant}) = {checksum}, its Python re-computation = "
            f"{reference}: allowed equal"
        )
    return path


def make_traces(cache_dir: str | Path) -> list[dict]:
    """Every program of the set, full and small, traced on RV64IM (:func:`instruction_trace`, in
    ``<cache_dir>/rv64``): one row per trace with its checksum, instruction count, class counts and file."""
    rows = []
    for small in (False, True):
        for name in program_set.names():
            path = instruction_trace(name, small, Path(cache_dir) / "rv64")
            meta = rv64.load_trace_metadata(path)
            trace = rv64.load_trace(path)
            counts = np.bincount(trace.cls.astype(np.int64), minlength=len(rv64.CLASSES))
            rows.append({
                "program": name,
                "variant": "small" if small else "full",
                "checksum": int(meta["exit_value"]),
                "instructions": int(meta["instructions"]),
                **{f"{c}_instructions": int(k) for c, k in zip(rv64.CLASSES, counts, strict=True)},
                "taken_branches": int((trace.taken & (trace.cls == rv64.BRANCH)).sum()),
                "trace_file": path.name,
                "trace_bytes": path.stat().st_size,
                "elf_sha256": meta["elf_sha256"],
            })  # fmt: skip
    return rows
