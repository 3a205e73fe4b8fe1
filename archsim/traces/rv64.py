"""An RV64IM instruction-set emulator that records dynamic instruction traces, numpy and pure Python only.

It loads a statically linked bare-metal RISC-V ELF (the kernels of ``archsim/traces/programs`` built by
:mod:`archsim.traces.rv64_build`), runs it to its exit ``ecall`` and returns one trace entry per retired
instruction: pc, instruction class, destination and source registers, branch outcome and target, and the
address and size of every load and store. The traces drive the core model (register dependencies and
branch outcomes) and, through :func:`memory_accesses`, the cache simulator (the same ``I``/``L``/``S``
stream a valgrind lackey trace gives, as :class:`archsim.traces.lackey.LackeyTrace`). It imports nothing
from ``hwcost``, ``compress`` or ``models``.

Semantics follow "The RISC-V Instruction Set Manual, Volume I: Unprivileged ISA", version 20191213:

* RV32I base (ch. 2) widened to 64 bits by RV64I (ch. 5): registers are XLEN = 64 bits; 32-bit results of
  the ``*W`` instructions are sign-extended to 64 bits (sec. 5.2, 5.3); shift amounts are the low 6 bits
  of ``rs2`` or ``shamt`` (low 5 bits for the ``*W`` shifts, sec. 5.2); ``LWU`` and ``LD`` (sec. 5.3);
  loads sign- or zero-extend as their name says (sec. 2.6); ``JALR`` clears bit 0 of its target
  (sec. 2.5); ``x0`` reads as zero and ignores writes (sec. 2.1).
* M extension (ch. 7): ``MUL/MULH/MULHSU/MULHU/MULW`` (sec. 7.1); ``DIV/DIVU/REM/REMU`` and the
  ``*W`` forms round toward zero; division by zero gives quotient all ones and remainder the dividend;
  signed overflow (most negative / -1) gives quotient the dividend and remainder 0 (sec. 7.2, Table 7.1).
* ``FENCE`` (sec. 2.7) is a no-op on this single hart. ``ECALL`` (sec. 2.8) with ``a7 = 93`` (the exit
  call number of the RISC-V Linux and newlib ABIs) ends the run with exit value ``a0``; an ``ECALL`` with
  any other call number raises :class:`EmulatorError`. ``EBREAK``, the Zicsr and Zifencei instructions,
  compressed (C) code and every other encoding raise :class:`UnsupportedInstruction` naming the pc and the
  instruction word.
* Misaligned data accesses are carried out (sec. 2.6 leaves them to the execution environment, which may
  perform them); a jump or taken
  branch to an address that is not a multiple of 4 raises, as the instruction-address-misaligned
  exception would (sec. 2.2). Data accesses outside the loaded segments, and stores into an executable
  segment (which would invalidate the decoded-instruction cache), raise :class:`EmulatorError`.

Speed: each static instruction is decoded once into a Python closure (cached by pc) that updates the
register file and returns the next pc; the dispatch loop records only the pc (and, for loads and stores,
the address). Everything else of the trace is static per pc or follows from the next pc, and is filled in
afterwards with numpy: a branch is taken when the next pc is not ``pc + 4`` (a branch whose target is
``pc + 4`` records its outcome explicitly), a ``JALR``'s target is the next pc.
"""

from __future__ import annotations

import dataclasses
import gzip
import struct
from array import array
from collections.abc import Callable
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

import numpy as np

from archsim.traces import lackey

# --- trace vocabulary ---------------------------------------------------------------------------------------
CLASSES = ("alu", "mul", "div", "load", "store", "branch", "jump", "system")
"""Instruction classes, in the order of their codes in :attr:`Trace.cls`."""
ALU, MUL, DIV, LOAD, STORE, BRANCH, JUMP, SYSTEM = range(len(CLASSES))

MNEMONICS = (
    "lui", "auipc", "jal", "jalr",
    "beq", "bne", "blt", "bge", "bltu", "bgeu",
    "lb", "lh", "lw", "ld", "lbu", "lhu", "lwu",
    "sb", "sh", "sw", "sd",
    "addi", "slti", "sltiu", "xori", "ori", "andi", "slli", "srli", "srai",
    "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
    "addiw", "slliw", "srliw", "sraiw", "addw", "subw", "sllw", "srlw", "sraw",
    "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu",
    "mulw", "divw", "divuw", "remw", "remuw",
    "fence", "ecall",
)  # fmt: skip
"""Mnemonics of the supported instructions (RV64I, sec. 2 and 5; M, sec. 7), by their codes in :attr:`Trace.op`."""
_OP = {name: i for i, name in enumerate(MNEMONICS)}

EXIT_CALL = 93
"""``a7`` value of the exit ``ecall`` (RISC-V Linux / newlib system-call number of ``exit``)."""
DEFAULT_MAX_INSTRUCTIONS = 200_000_000
"""Instruction limit of :func:`run`: a run that has not exited by then raises."""
MAX_MEMORY_BYTES = 1 << 30
"""Largest span of the loaded segments (lowest to highest address) the emulator allocates, bytes."""
TRACE_FORMAT_VERSION = 1
"""Version of the ``.npz`` trace layout written by :func:`save_trace`."""

_MASK = (1 << 64) - 1
_SIGN = 1 << 63
_MASK32 = (1 << 32) - 1
_SIGN32 = 1 << 31
_CHUNK = 65_536  # instructions between two checks of the instruction limit

_ELF_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
_PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")
_SECTION_HEADER = struct.Struct("<IIQQQQIIQQ")
_SYMBOL = struct.Struct("<IBBHQQ")
_EM_RISCV = 243  # ELF e_machine of RISC-V (RISC-V ELF psABI, "ELF Object Files")
_ET_EXEC = 2
_PT_LOAD = 1
_PF_X, _PF_W = 1, 2
_SHT_SYMTAB = 2
_EF_RISCV_RVC = 0x1  # e_flags bit: the object uses the C extension (RISC-V ELF psABI, "File Header")


class EmulatorError(RuntimeError):
    """The program did something the emulator does not model (an access outside memory, no exit, ...)."""


class UnsupportedInstruction(EmulatorError):
    """An instruction word that is not RV64IM (or an RV64IM instruction this emulator does not run)."""


class _Exit(Exception):
    """Raised by the exit ``ecall``."""


# --- ELF ------------------------------------------------------------------------------------------------------
class Segment(NamedTuple):
    """One ``PT_LOAD`` segment: ``memsz`` bytes at ``vaddr``, the first ``data`` bytes from the file."""

    vaddr: int
    memsz: int
    data: bytes
    executable: bool
    writable: bool


@dataclasses.dataclass(frozen=True)
class Program:
    """A loaded RV64 executable.

    Attributes:
        entry: entry pc (byte address).
        segments: the ``PT_LOAD`` segments, in file order.
        symbols: symbol name -> address (bytes) of every named symbol of ``.symtab`` (empty when stripped).
    """

    entry: int
    segments: tuple[Segment, ...]
    symbols: dict[str, int]


def load_elf(path_or_bytes: str | Path | bytes) -> Program:
    """Parse a statically linked little-endian ELF64 RISC-V executable (ELF gABI; RISC-V ELF psABI).

    Raises:
        ValueError: naming the header field, its value and what is allowed, for anything else.
    """
    blob = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    if len(blob) < _ELF_HEADER.size or blob[:4] != b"\x7fELF":
        raise ValueError(f"not an ELF file: magic {blob[:4]!r}, expected b'\\x7fELF'")
    (
        ident,
        e_type,
        e_machine,
        _,
        e_entry,
        e_phoff,
        e_shoff,
        e_flags,
        _,
        e_phentsize,
        e_phnum,
        e_shentsize,
        e_shnum,
        _,
    ) = _ELF_HEADER.unpack_from(blob, 0)
    if ident[4] != 2:
        raise ValueError(f"EI_CLASS is {ident[4]}; only 2 (ELFCLASS64) is supported")
    if ident[5] != 1:
        raise ValueError(f"EI_DATA is {ident[5]}; only 1 (little-endian) is supported")
    if e_machine != _EM_RISCV:
        raise ValueError(f"e_machine is {e_machine}; only {_EM_RISCV} (EM_RISCV) is supported")
    if e_type != _ET_EXEC:
        raise ValueError(f"e_type is {e_type}; only {_ET_EXEC} (ET_EXEC, a statically linked executable) is supported")
    if e_flags & _EF_RISCV_RVC:
        raise ValueError(
            f"e_flags is 0x{e_flags:x}: EF_RISCV_RVC is set, but the C extension is not supported "
            "(build with -march=rv64im)"
        )
    tables = ((e_phoff, e_phnum, e_phentsize, _PROGRAM_HEADER.size, "program"),
              (e_shoff, e_shnum if e_shoff else 0, e_shentsize, _SECTION_HEADER.size, "section"))  # fmt: skip
    for offset, count, entry, size, what in tables:
        if count and (entry < size or offset + (count - 1) * entry + size > len(blob)):
            raise ValueError(
                f"the {what} header table (offset {offset}, {count} entries of {entry} bytes) runs past the end of "
                f"the file ({len(blob)} bytes): a truncated or corrupt ELF file"
            )
    segments = []
    for i in range(e_phnum):
        p_type, p_flags, p_offset, p_vaddr, _, p_filesz, p_memsz, _ = _PROGRAM_HEADER.unpack_from(
            blob, e_phoff + i * e_phentsize
        )
        if p_type == _PT_LOAD and p_offset + p_filesz > len(blob):
            raise ValueError(f"segment {i} (offset {p_offset}, {p_filesz} bytes) runs past the end of the file "
                             f"({len(blob)} bytes): a truncated or corrupt ELF file")  # fmt: skip
        if p_type == _PT_LOAD and p_memsz > 0:
            data = blob[p_offset : p_offset + p_filesz]
            segments.append(Segment(p_vaddr, p_memsz, data, bool(p_flags & _PF_X), bool(p_flags & _PF_W)))
    if not segments:
        raise ValueError("the ELF file has no PT_LOAD segment")
    symbols: dict[str, int] = {}
    sections = [_SECTION_HEADER.unpack_from(blob, e_shoff + i * e_shentsize) for i in range(e_shnum)] if e_shoff else []
    for sh in sections:
        if sh[1] != _SHT_SYMTAB:
            continue
        strtab = sections[sh[6]]
        str_off = strtab[4]
        for k in range(sh[5] // _SYMBOL.size):
            st_name, _, _, _, st_value, _ = _SYMBOL.unpack_from(blob, sh[4] + k * _SYMBOL.size)
            if st_name:
                end = blob.index(b"\0", str_off + st_name)
                symbols.setdefault(blob[str_off + st_name : end].decode(), st_value)
    return Program(e_entry, tuple(segments), symbols)


# --- trace ----------------------------------------------------------------------------------------------------
class Trace(NamedTuple):
    """A dynamic instruction trace, one entry per retired instruction (``n`` entries).

    Attributes:
        pc: ``(n,)`` int64 byte address of the instruction.
        op: ``(n,)`` int16 mnemonic code, an index into :data:`MNEMONICS`.
        cls: ``(n,)`` int8 class code, an index into :data:`CLASSES`.
        rd: ``(n,)`` int8 destination register 1..31, -1 when there is none (a write to ``x0`` is none).
        rs1: ``(n,)`` int8 first source register 0..31, -1 when the instruction reads none. ``x0`` is recorded
            as 0; it never has a producer, since no entry writes it. The exit ``ecall`` reads ``a0`` (rs1 = 10)
            and ``a7`` (rs2 = 17).
        rs2: ``(n,)`` int8 second source register (stores: the data register), -1 when absent.
        taken: ``(n,)`` bool, branches: whether taken; jumps: True; all others False.
        target: ``(n,)`` int64 byte address, branches: the target if taken (also when not taken); jumps: the
            jump's destination; -1 for all others.
        mem_address: ``(n,)`` int64 byte address of a load or store, -1 for all others.
        mem_size: ``(n,)`` int8 bytes accessed by a load or store (1, 2, 4 or 8), 0 for all others.
    """

    pc: np.ndarray
    op: np.ndarray
    cls: np.ndarray
    rd: np.ndarray
    rs1: np.ndarray
    rs2: np.ndarray
    taken: np.ndarray
    target: np.ndarray
    mem_address: np.ndarray
    mem_size: np.ndarray


class RunResult(NamedTuple):
    """What :func:`run` returns.

    Attributes:
        trace: the dynamic instruction trace.
        exit_value: ``a0`` at the exit ``ecall`` (the kernels' checksum), as an unsigned 64-bit integer.
        registers: the 32 integer registers at exit, unsigned 64-bit.
        memory: read a little-endian unsigned value: ``memory(address, size_bytes) -> int``.
        symbols: the program's symbol table (name -> address).
    """

    trace: Trace
    exit_value: int
    registers: tuple[int, ...]
    memory: Callable[[int, int], int]
    symbols: dict[str, int]


class _Static(NamedTuple):
    """Static (per-pc) fields of a decoded instruction."""

    op: int
    cls: int
    rd: int
    rs1: int
    rs2: int
    target: int  # static target of a branch or JAL, -1 otherwise (JALR's is dynamic)
    size: int  # bytes of a load or store, 0 otherwise


# --- decoding -------------------------------------------------------------------------------------------------
def _sext(value: int, bits: int) -> int:
    """Two's-complement value of the low ``bits`` bits of ``value`` (a Python int, may be negative)."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _imm_i(w: int) -> int:
    return _sext(w >> 20, 12)  # sec. 2.3, Fig. 2.4


def _imm_s(w: int) -> int:
    return _sext(((w >> 25) << 5) | ((w >> 7) & 0x1F), 12)


def _imm_b(w: int) -> int:
    return _sext(((w >> 31) << 12) | (((w >> 7) & 1) << 11) | (((w >> 25) & 0x3F) << 5) | (((w >> 8) & 0xF) << 1), 13)


def _imm_u(w: int) -> int:
    return _sext(w & 0xFFFFF000, 32)


def _imm_j(w: int) -> int:
    return _sext(
        ((w >> 31) << 20) | (((w >> 12) & 0xFF) << 12) | (((w >> 20) & 1) << 11) | (((w >> 21) & 0x3FF) << 1), 21
    )


def _s64(v: int) -> int:
    """Signed value of an unsigned 64-bit register value."""
    return (v ^ _SIGN) - _SIGN


def _w(v: int) -> int:
    """Sign-extend the low 32 bits of ``v`` to an unsigned 64-bit register value (sec. 5.2)."""
    return (((v & _MASK32) ^ _SIGN32) - _SIGN32) & _MASK


def _div_trunc(a: int, b: int) -> int:
    """Signed quotient rounded toward zero (sec. 7.2), ``b != 0``."""
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def _rem_trunc(a: int, b: int) -> int:
    """Signed remainder with the sign of the dividend (sec. 7.2), ``b != 0``."""
    return a - b * _div_trunc(a, b)


def _div(a: int, b: int) -> int:  # DIV, sec. 7.2 and Table 7.1
    if b == 0:
        return _MASK
    sa, sb = _s64(a), _s64(b)
    if sa == -_SIGN and sb == -1:
        return a
    return _div_trunc(sa, sb) & _MASK


def _rem(a: int, b: int) -> int:  # REM
    if b == 0:
        return a
    sa, sb = _s64(a), _s64(b)
    if sa == -_SIGN and sb == -1:
        return 0
    return _rem_trunc(sa, sb) & _MASK


def _divu(a: int, b: int) -> int:  # DIVU
    return a // b if b else _MASK


def _remu(a: int, b: int) -> int:  # REMU
    return a % b if b else a


def _divw(a: int, b: int) -> int:  # DIVW, sec. 7.2: on the low 32 bits, result sign-extended
    sa, sb = _sext(a, 32), _sext(b, 32)
    if sb == 0:
        return _MASK
    if sa == -_SIGN32 and sb == -1:
        return _w(sa)
    return _w(_div_trunc(sa, sb))


def _remw(a: int, b: int) -> int:  # REMW
    sa, sb = _sext(a, 32), _sext(b, 32)
    if sb == 0:
        return _w(sa)
    if sa == -_SIGN32 and sb == -1:
        return 0
    return _w(_rem_trunc(sa, sb))


def _divuw(a: int, b: int) -> int:  # DIVUW
    ua, ub = a & _MASK32, b & _MASK32
    return _w(ua // ub) if ub else _MASK


def _remuw(a: int, b: int) -> int:  # REMUW
    ua, ub = a & _MASK32, b & _MASK32
    return _w(ua % ub) if ub else _w(ua)


def _mulh(a: int, b: int) -> int:
    return ((_s64(a) * _s64(b)) >> 64) & _MASK


def _mulhsu(a: int, b: int) -> int:
    return ((_s64(a) * b) >> 64) & _MASK


def _mulhu(a: int, b: int) -> int:
    return (a * b) >> 64


# Register-register operations (OP and OP-32, and M): mnemonic -> f(a, b) on unsigned 64-bit values.
_RR: dict[str, Callable[[int, int], int]] = {
    "add": lambda a, b: (a + b) & _MASK,
    "sub": lambda a, b: (a - b) & _MASK,
    "sll": lambda a, b: (a << (b & 63)) & _MASK,
    "slt": lambda a, b: int((a ^ _SIGN) < (b ^ _SIGN)),
    "sltu": lambda a, b: int(a < b),
    "xor": lambda a, b: a ^ b,
    "srl": lambda a, b: a >> (b & 63),
    "sra": lambda a, b: (_s64(a) >> (b & 63)) & _MASK,
    "or": lambda a, b: a | b,
    "and": lambda a, b: a & b,
    "addw": lambda a, b: _w(a + b),
    "subw": lambda a, b: _w(a - b),
    "sllw": lambda a, b: _w(a << (b & 31)),
    "srlw": lambda a, b: _w((a & _MASK32) >> (b & 31)),
    "sraw": lambda a, b: _w(_sext(a, 32) >> (b & 31)),
    "mul": lambda a, b: (a * b) & _MASK,
    "mulh": _mulh,
    "mulhsu": _mulhsu,
    "mulhu": _mulhu,
    "div": _div,
    "divu": _divu,
    "rem": _rem,
    "remu": _remu,
    "mulw": lambda a, b: _w(a * b),
    "divw": _divw,
    "divuw": _divuw,
    "remw": _remw,
    "remuw": _remuw,
}
_OP_NAMES = {  # (funct7, funct3) -> mnemonic, opcode OP (0x33), sec. 2.4.2 and 7.1-7.2
    (0x00, 0): "add", (0x20, 0): "sub", (0x00, 1): "sll", (0x00, 2): "slt", (0x00, 3): "sltu",
    (0x00, 4): "xor", (0x00, 5): "srl", (0x20, 5): "sra", (0x00, 6): "or", (0x00, 7): "and",
    (0x01, 0): "mul", (0x01, 1): "mulh", (0x01, 2): "mulhsu", (0x01, 3): "mulhu",
    (0x01, 4): "div", (0x01, 5): "divu", (0x01, 6): "rem", (0x01, 7): "remu",
}  # fmt: skip
_OP32_NAMES = {  # opcode OP-32 (0x3b), sec. 5.2 and 7.1-7.2
    (0x00, 0): "addw", (0x20, 0): "subw", (0x00, 1): "sllw", (0x00, 5): "srlw", (0x20, 5): "sraw",
    (0x01, 0): "mulw", (0x01, 4): "divw", (0x01, 5): "divuw", (0x01, 6): "remw", (0x01, 7): "remuw",
}  # fmt: skip
_BRANCH_NAMES = {0: "beq", 1: "bne", 4: "blt", 5: "bge", 6: "bltu", 7: "bgeu"}  # sec. 2.5
_LOAD_NAMES = {0: "lb", 1: "lh", 2: "lw", 3: "ld", 4: "lbu", 5: "lhu", 6: "lwu"}  # sec. 2.6, 5.3
_STORE_NAMES = {0: "sb", 1: "sh", 2: "sw", 3: "sd"}
_LOAD_FORMAT = {"lb": "<b", "lh": "<h", "lw": "<i", "ld": "<Q", "lbu": "<B", "lhu": "<H", "lwu": "<I"}
_STORE_FORMAT = {"sb": "<B", "sh": "<H", "sw": "<I", "sd": "<Q"}
_OPIMM_NAMES = {0: "addi", 2: "slti", 3: "sltiu", 4: "xori", 6: "ori", 7: "andi"}  # sec. 2.4.1


def _class_of(name: str) -> int:
    if name in ("mul", "mulh", "mulhsu", "mulhu", "mulw"):
        return MUL
    if name.startswith(("div", "rem")):
        return DIV
    return ALU


class _Machine:
    """Register file, memory and decoded-instruction cache of one run."""

    def __init__(self, program: Program) -> None:
        lo = min(s.vaddr for s in program.segments)
        hi = max(s.vaddr + s.memsz for s in program.segments)
        if hi - lo > MAX_MEMORY_BYTES:
            raise ValueError(f"the loaded segments span {hi - lo:,} bytes (0x{lo:x} to 0x{hi:x}); at most "
                             f"{MAX_MEMORY_BYTES:,} are allowed (memory is one flat array)")  # fmt: skip
        self.base = lo
        self.mem = bytearray(hi - lo)
        for s in program.segments:
            self.mem[s.vaddr - lo : s.vaddr - lo + len(s.data)] = s.data
        self.exec_ranges = [(s.vaddr, s.vaddr + s.memsz) for s in program.segments if s.executable]
        # offsets [code_lo, code_hi) from the lowest to the highest byte of the executable segments; no store
        # may write into them (the decoded instructions would go stale)
        self.code_lo = min((a for a, _ in self.exec_ranges), default=lo) - lo
        self.code_hi = max((b for _, b in self.exec_ranges), default=lo) - lo
        self.x = [0] * 33  # x0..x31, and a sink (index 32) for writes to x0
        self.mem_offsets = array("q")  # offset (address - base) of every load and store, in program order
        self.fallthrough_taken = array("q")  # trace indices of taken branches whose target is pc + 4
        self.static: dict[int, _Static] = {}
        self.pcs = array("q")

    # The decoded form of the instruction at ``pc``: a closure ``() -> next pc``.
    def decode(self, pc: int) -> Callable[[], int]:
        if pc & 3:
            raise EmulatorError(
                f"pc 0x{pc:x}: instruction address is not a multiple of 4 (sec. 2.2; C is not supported)"
            )
        if not any(a <= pc < b for a, b in self.exec_ranges):
            raise EmulatorError(
                f"pc 0x{pc:x}: outside every executable segment {[(hex(a), hex(b)) for a, b in self.exec_ranges]}"
            )
        w = struct.unpack_from("<I", self.mem, pc - self.base)[0]
        fn, static = self._decode_word(pc, w)
        self.static[pc] = static
        return fn

    def _decode_word(self, pc: int, w: int) -> tuple[Callable[[], int], _Static]:
        x = self.x
        opcode = w & 0x7F
        rd = (w >> 7) & 0x1F
        f3 = (w >> 12) & 7
        rs1 = (w >> 15) & 0x1F
        rs2 = (w >> 20) & 0x1F
        f7 = w >> 25
        rd_t = rd if rd else -1  # trace destination (x0 writes are none)
        wd = rd if rd else 32  # register-file index written (the sink for x0)
        nxt = pc + 4

        def bad(reason: str) -> UnsupportedInstruction:
            return UnsupportedInstruction(
                f"pc 0x{pc:x}: instruction word 0x{w:08x} ({reason}) is not supported; "
                "this emulator runs RV64IM (RISC-V unprivileged ISA 20191213, ch. 2, 5, 7)"
            )

        if w & 3 != 3:
            raise bad("a 16-bit compressed encoding; the C extension is not supported")

        if opcode == 0x37:  # LUI, sec. 2.4.1
            v = _imm_u(w) & _MASK

            def f() -> int:
                x[wd] = v
                return nxt

            return f, _Static(_OP["lui"], ALU, rd_t, -1, -1, -1, 0)
        if opcode == 0x17:  # AUIPC
            v = (pc + _imm_u(w)) & _MASK

            def f() -> int:
                x[wd] = v
                return nxt

            return f, _Static(_OP["auipc"], ALU, rd_t, -1, -1, -1, 0)
        if opcode == 0x6F:  # JAL, sec. 2.5
            tgt = (pc + _imm_j(w)) & _MASK
            if tgt & 3:
                raise EmulatorError(f"pc 0x{pc:x}: jal target 0x{tgt:x} is not a multiple of 4 (sec. 2.2)")

            def f() -> int:
                x[wd] = nxt
                return tgt

            return f, _Static(_OP["jal"], JUMP, rd_t, -1, -1, tgt, 0)
        if opcode == 0x67 and f3 == 0:  # JALR
            imm = _imm_i(w)

            def f() -> int:
                t = (x[rs1] + imm) & (_MASK - 1)
                x[wd] = nxt
                return t

            return f, _Static(_OP["jalr"], JUMP, rd_t, rs1, -1, -1, 0)
        if opcode == 0x63 and f3 in _BRANCH_NAMES:  # branches, sec. 2.5
            name = _BRANCH_NAMES[f3]
            tgt = (pc + _imm_b(w)) & _MASK
            if tgt & 3:
                raise EmulatorError(f"pc 0x{pc:x}: {name} target 0x{tgt:x} is not a multiple of 4 (sec. 2.2)")
            f = self._branch(name, rs1, rs2, tgt, nxt)
            return f, _Static(_OP[name], BRANCH, -1, rs1, rs2, tgt, 0)
        if opcode == 0x03 and f3 in _LOAD_NAMES:  # loads, sec. 2.6 and 5.3
            name = _LOAD_NAMES[f3]
            f = self._load(name, wd, rs1, _imm_i(w), nxt, pc)
            return f, _Static(_OP[name], LOAD, rd_t, rs1, -1, -1, struct.calcsize(_LOAD_FORMAT[name]))
        if opcode == 0x23 and f3 in _STORE_NAMES:  # stores
            name = _STORE_NAMES[f3]
            f = self._store(name, rs1, rs2, _imm_s(w), nxt, pc)
            return f, _Static(_OP[name], STORE, -1, rs1, rs2, -1, struct.calcsize(_STORE_FORMAT[name]))
        if opcode == 0x13:  # OP-IMM, sec. 2.4.1 and 5.2 (6-bit shamt)
            imm = _imm_i(w)
            if f3 in _OPIMM_NAMES:
                name = _OPIMM_NAMES[f3]
                if name == "addi":
                    f = self._addi(wd, rs1, imm, nxt)
                else:
                    op = {"slti": "slt", "sltiu": "sltu", "xori": "xor", "ori": "or", "andi": "and"}[name]
                    f = self._rr_imm(_RR[op], wd, rs1, imm & _MASK, nxt)
            else:
                shamt = (w >> 20) & 0x3F
                funct6 = w >> 26
                if f3 == 1 and funct6 == 0:
                    name = "slli"
                elif f3 == 5 and funct6 == 0:
                    name = "srli"
                elif f3 == 5 and funct6 == 0x10:
                    name = "srai"
                else:
                    raise bad(f"OP-IMM shift with funct6 0x{funct6:x}")
                f = self._rr_imm(_RR[{"slli": "sll", "srli": "srl", "srai": "sra"}[name]], wd, rs1, shamt, nxt)
            return f, _Static(_OP[name], ALU, rd_t, rs1, -1, -1, 0)
        if opcode == 0x1B:  # OP-IMM-32, sec. 5.2
            if f3 == 0:
                name, f = "addiw", self._rr_imm(_RR["addw"], wd, rs1, _imm_i(w) & _MASK, nxt)
            else:
                shamt = (w >> 20) & 0x1F
                if f3 == 1 and f7 == 0:
                    name = "slliw"
                elif f3 == 5 and f7 == 0:
                    name = "srliw"
                elif f3 == 5 and f7 == 0x20:
                    name = "sraiw"
                else:
                    raise bad(f"OP-IMM-32 with funct3 {f3} and funct7 0x{f7:x}")
                f = self._rr_imm(_RR[{"slliw": "sllw", "srliw": "srlw", "sraiw": "sraw"}[name]], wd, rs1, shamt, nxt)
            return f, _Static(_OP[name], ALU, rd_t, rs1, -1, -1, 0)
        if opcode in (0x33, 0x3B):  # OP and OP-32, sec. 2.4.2, 5.2, 7.1, 7.2
            names = _OP_NAMES if opcode == 0x33 else _OP32_NAMES
            name = names.get((f7, f3))
            if name is None:
                raise bad(f"{'OP' if opcode == 0x33 else 'OP-32'} with funct3 {f3} and funct7 0x{f7:x}")
            fun = _RR[name]

            def f() -> int:
                x[wd] = fun(x[rs1], x[rs2])
                return nxt

            return f, _Static(_OP[name], _class_of(name), rd_t, rs1, rs2, -1, 0)
        if opcode == 0x0F and f3 == 0:  # FENCE, sec. 2.7: a no-op on one hart

            def f() -> int:
                return nxt

            return f, _Static(_OP["fence"], SYSTEM, -1, -1, -1, -1, 0)
        if w == 0x00000073:  # ECALL, sec. 2.8

            def f() -> int:
                if x[17] != EXIT_CALL:
                    raise EmulatorError(f"pc 0x{pc:x}: ecall with a7 = {x[17]}; only {EXIT_CALL} (exit) is supported")
                raise _Exit

            return f, _Static(_OP["ecall"], SYSTEM, -1, 10, 17, -1, 0)
        if w == 0x00100073:
            raise bad("EBREAK")
        if opcode == 0x73:
            raise bad("a SYSTEM instruction: Zicsr and privileged instructions are not supported")
        if opcode == 0x0F:
            raise bad("FENCE.I (Zifencei) or a reserved MISC-MEM encoding")
        raise bad(f"opcode 0x{opcode:02x}, funct3 {f3}, funct7 0x{f7:x}")

    def _addi(self, wd: int, rs1: int, imm: int, nxt: int) -> Callable[[], int]:
        x = self.x
        if rs1 == 0:  # li
            v = imm & _MASK

            def f() -> int:
                x[wd] = v
                return nxt
        elif imm == 0:  # mv

            def f() -> int:
                x[wd] = x[rs1]
                return nxt
        else:

            def f() -> int:
                x[wd] = (x[rs1] + imm) & _MASK
                return nxt

        return f

    def _rr_imm(self, fun: Callable[[int, int], int], wd: int, rs1: int, imm: int, nxt: int) -> Callable[[], int]:
        x = self.x

        def f() -> int:
            x[wd] = fun(x[rs1], imm)
            return nxt

        return f

    def _branch(self, name: str, rs1: int, rs2: int, tgt: int, nxt: int) -> Callable[[], int]:
        x = self.x
        if tgt == nxt:  # the outcome cannot be told from the next pc: record it
            cond = {
                "beq": lambda a, b: a == b,
                "bne": lambda a, b: a != b,
                "blt": lambda a, b: (a ^ _SIGN) < (b ^ _SIGN),
                "bge": lambda a, b: (a ^ _SIGN) >= (b ^ _SIGN),
                "bltu": lambda a, b: a < b,
                "bgeu": lambda a, b: a >= b,
            }[name]
            pcs, taken = self.pcs, self.fallthrough_taken

            def f() -> int:
                if cond(x[rs1], x[rs2]):
                    taken.append(len(pcs) - 1)
                return nxt

            return f
        if name == "beq":

            def f() -> int:
                return tgt if x[rs1] == x[rs2] else nxt
        elif name == "bne":

            def f() -> int:
                return tgt if x[rs1] != x[rs2] else nxt
        elif name == "blt":

            def f() -> int:
                return tgt if (x[rs1] ^ _SIGN) < (x[rs2] ^ _SIGN) else nxt
        elif name == "bge":

            def f() -> int:
                return tgt if (x[rs1] ^ _SIGN) >= (x[rs2] ^ _SIGN) else nxt
        elif name == "bltu":

            def f() -> int:
                return tgt if x[rs1] < x[rs2] else nxt
        else:

            def f() -> int:
                return tgt if x[rs1] >= x[rs2] else nxt

        return f

    def _load(self, name: str, wd: int, rs1: int, imm: int, nxt: int, pc: int) -> Callable[[], int]:
        x, mem, record = self.x, self.mem, self.mem_offsets.append
        k = imm - self.base
        unpack = struct.Struct(_LOAD_FORMAT[name]).unpack_from
        if name in ("lb", "lh", "lw"):  # sign-extending

            def f() -> int:
                off = (x[rs1] + k) & _MASK
                x[wd] = unpack(mem, off)[0] & _MASK
                record(off)
                return nxt
        else:

            def f() -> int:
                off = (x[rs1] + k) & _MASK
                x[wd] = unpack(mem, off)[0]
                record(off)
                return nxt

        return f

    def _store(self, name: str, rs1: int, rs2: int, imm: int, nxt: int, pc: int) -> Callable[[], int]:
        x, mem, record = self.x, self.mem, self.mem_offsets.append
        k = imm - self.base
        fmt = _STORE_FORMAT[name]
        pack = struct.Struct(fmt).pack_into
        width = struct.calcsize(fmt)
        width_mask = (1 << (8 * width)) - 1
        code_lo, code_hi = self.code_lo - width, self.code_hi  # a store at off writes [off, off + width)

        def f() -> int:
            off = (x[rs1] + k) & _MASK
            if code_lo < off < code_hi:
                raise EmulatorError(
                    f"pc 0x{pc:x}: {name} to 0x{(off + self.base) & _MASK:x}, inside the code "
                    "(self-modifying code is not supported)"
                )
            pack(mem, off, x[rs2] & width_mask)
            record(off)
            return nxt

        return f


class _DecodeCache(dict):
    """pc -> decoded closure; a miss decodes the instruction (once per static instruction)."""

    def __init__(self, machine: _Machine) -> None:
        super().__init__()
        self.machine = machine

    def __missing__(self, pc: int) -> Callable[[], int]:
        fn = self.machine.decode(pc)
        self[pc] = fn
        return fn


def run(program: Program | str | Path | bytes, *, max_instructions: int = DEFAULT_MAX_INSTRUCTIONS) -> RunResult:
    """Run an RV64IM program from its entry to the exit ``ecall`` and return its trace.

    Args:
        program: a loaded :class:`Program`, or an ELF file (path or bytes).
        max_instructions: raise :class:`EmulatorError` when the program has retired this many instructions
            without exiting.

    Raises:
        UnsupportedInstruction: for an instruction outside RV64IM, naming its pc and word.
        EmulatorError: for an access outside memory, a store into code, a misaligned jump, or no exit in time.
    """
    if not isinstance(program, Program):
        program = load_elf(program)
    if max_instructions < 1:
        raise ValueError(f"max_instructions is {max_instructions}; it must be at least 1")
    m = _Machine(program)
    ops = _DecodeCache(m)
    pcs = m.pcs
    append = pcs.append
    pc = program.entry
    try:
        while True:
            for _ in repeat(None, _CHUNK):
                append(pc)
                pc = ops[pc]()
            if len(pcs) >= max_instructions:
                raise EmulatorError(
                    f"no exit after {len(pcs):,} instructions (max_instructions = "
                    f"{max_instructions:,}); last pc 0x{pc:x}"
                )
    except _Exit:
        pass
    except (struct.error, IndexError, OverflowError) as e:
        bad_pc = pcs[-1]
        raise EmulatorError(
            f"pc 0x{bad_pc:x}: data access outside the loaded segments [0x{m.base:x}, 0x{m.base + len(m.mem):x}) ({e})"
        ) from None
    x = m.x
    mem, base = m.mem, m.base

    def memory(address: int, size_bytes: int) -> int:
        if not (base <= address and address + size_bytes <= base + len(mem) and size_bytes >= 0):
            raise ValueError(f"memory read of {size_bytes} bytes at 0x{address:x}: allowed within "
                             f"[0x{base:x}, 0x{base + len(mem):x})")  # fmt: skip
        return int.from_bytes(mem[address - base : address - base + size_bytes], "little")

    trace = _assemble(m)
    return RunResult(trace, x[10], tuple([0, *x[1:32]]), memory, dict(program.symbols))


def _assemble(m: _Machine) -> Trace:
    """Fill in the trace from the recorded pcs, the per-pc static fields and the recorded addresses."""
    pc = np.frombuffer(m.pcs, dtype=np.int64).copy()
    n = pc.size
    keys = np.array(sorted(m.static), dtype=np.int64)
    table = np.array([m.static[int(k)] for k in keys], dtype=np.int64).reshape(len(keys), len(_Static._fields))
    idx = np.searchsorted(keys, pc)
    st = table[idx]
    op, cls = st[:, 0].astype(np.int16), st[:, 1].astype(np.int8)
    next_pc = np.empty(n, dtype=np.int64)
    next_pc[:-1] = pc[1:]
    next_pc[-1] = -1  # the exit ecall
    is_branch, is_jump = cls == BRANCH, cls == JUMP
    taken = (is_branch & (next_pc != pc + 4)) | is_jump
    taken[np.frombuffer(m.fallthrough_taken, dtype=np.int64)] = True
    target = np.where(is_branch | (op == _OP["jal"]), st[:, 5], -1)
    target = np.where(op == _OP["jalr"], next_pc, target)
    is_mem = (cls == LOAD) | (cls == STORE)
    offsets = np.frombuffer(m.mem_offsets, dtype=np.int64)
    if offsets.size != int(is_mem.sum()):  # an internal invariant: one recorded address per executed load/store
        raise AssertionError(f"{offsets.size} recorded addresses for {int(is_mem.sum())} loads and stores")
    mem_address = np.full(n, -1, dtype=np.int64)
    mem_address[is_mem] = offsets + m.base
    return Trace(
        pc=pc,
        op=op,
        cls=cls,
        rd=st[:, 2].astype(np.int8),
        rs1=st[:, 3].astype(np.int8),
        rs2=st[:, 4].astype(np.int8),
        taken=taken,
        target=target,
        mem_address=mem_address,
        mem_size=np.where(is_mem, st[:, 6], 0).astype(np.int8),
    )


# --- derived streams ------------------------------------------------------------------------------------------
INSTRUCTION_BYTES = 4  # RV64IM instructions are 32 bits (sec. 1.5); no C extension


def memory_accesses(
    trace: Trace, *, instructions: bool = True, data: bool = True, source: str = "rv64"
) -> lackey.LackeyTrace:
    """The memory-access stream of a trace as a :class:`archsim.traces.lackey.LackeyTrace`, the type the
    lackey reader returns, so the cache simulator takes either source (``lackey.line_accesses`` makes the
    L1-I and L1-D line streams from it). Each instruction's fetch (``I``, 4 bytes at its pc) is followed by its
    load (``L``) or store (``S``), the order lackey writes them in; there are no modifies (``M``): an RV64IM
    instruction either loads or stores.

    Args:
        trace: a :class:`Trace` of ``n`` instructions.
        instructions: include the instruction-fetch stream.
        data: include the data-side stream.
        source: the ``path`` field of the result (a name for the stream's origin).

    Returns:
        the selected records (``n`` fetches and/or one per load and store) in program order; kind uint8
        (``lackey.INSTR``, ``lackey.LOAD``, ``lackey.STORE``), address and size int64.
    """
    n = trace.pc.size
    is_load = trace.cls == LOAD
    is_mem = is_load | (trace.cls == STORE)
    take_fetch = np.full(n, instructions)
    take_data = is_mem & data
    # Record positions: fetch of instruction i, then its data access, skipping what is left out.
    per_instruction = take_fetch.astype(np.int64) + take_data
    first = np.cumsum(per_instruction) - per_instruction
    m = int(per_instruction.sum())
    kind = np.empty(m, dtype=np.uint8)
    address = np.empty(m, dtype=np.int64)
    size = np.empty(m, dtype=np.int64)
    fpos = first[take_fetch]
    kind[fpos], address[fpos], size[fpos] = lackey.INSTR, trace.pc[take_fetch], INSTRUCTION_BYTES
    dpos = first[take_data] + take_fetch[take_data]
    kind[dpos] = np.where(is_load[take_data], lackey.LOAD, lackey.STORE)
    address[dpos], size[dpos] = trace.mem_address[take_data], trace.mem_size[take_data]
    return lackey.LackeyTrace(source, kind, address, size, valgrind_messages=0, skipped_lines=0, truncated=False)


def write_lackey(path: str | Path, accesses: lackey.LackeyTrace) -> Path:
    """Write a stream as lackey's text (``I  ADDR,SIZE`` / `` L ADDR,SIZE`` / `` S ADDR,SIZE`` / `` M ...``,
    addresses as at least 8 hex digits), gzip-compressed when ``path`` ends in ``.gz``; atomic (temporary file,
    then rename). ``archsim.traces.lackey.read`` reads it back to the same records, so tools that take a lackey
    file (``hwcost simulate cache --trace``) take an RV64IM trace too."""
    path = Path(path)
    prefixes = {lackey.INSTR: "I  ", lackey.LOAD: " L ", lackey.STORE: " S ", lackey.MODIFY: " M "}
    bad = ~np.isin(accesses.kind, list(prefixes))
    if bad.any():
        raise ValueError(f"kind {int(accesses.kind[bad][0])} at record {int(np.flatnonzero(bad)[0])}: allowed "
                         f"{sorted(prefixes)} (lackey.INSTR, LOAD, STORE, MODIFY)")  # fmt: skip
    text = "".join(
        f"{prefixes[k]}{a:08x},{z}\n"
        for k, a, z in zip(accesses.kind.tolist(), accesses.address.tolist(), accesses.size.tolist(), strict=True)
    ).encode()
    if path.suffix == ".gz":
        text = gzip.compress(text, compresslevel=6, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{np.random.default_rng().integers(1 << 62):x}.tmp")
    tmp.write_bytes(text)
    tmp.replace(path)
    return path


def class_mix(trace: Trace) -> dict[str, float]:
    """Fraction of retired instructions in each class of :data:`CLASSES` (sums to 1)."""
    counts = np.bincount(trace.cls.astype(np.int64), minlength=len(CLASSES))
    return {name: float(c) / max(trace.pc.size, 1) for name, c in zip(CLASSES, counts, strict=True)}


def make_traces(cache_dir: str | Path) -> list[dict]:
    """The RV64IM traces of the whole program set, one row each (:func:`archsim.traces.rv64_build.make_traces`;
    the trace-set hook of ``benchmarks/make_traces.py``)."""
    from archsim.traces import rv64_build  # here, not at the top: rv64_build imports this module

    return rv64_build.make_traces(cache_dir)


# --- persistence ----------------------------------------------------------------------------------------------
def save_trace(path: str | Path, trace: Trace, **metadata: int | str) -> Path:
    """Write a trace as a compressed ``.npz`` (atomically: a temporary file renamed into place).

    Args:
        path: destination; ``.npz`` is appended by numpy when missing, so give it.
        trace: the trace.
        metadata: scalar values stored beside it (e.g. ``exit_value``, ``elf_sha256``), read back by
            :func:`load_trace_metadata`.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"path is {str(path)!r}; a trace file must end in .npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{np.random.default_rng().integers(1 << 62):x}.tmp.npz")
    meta = {f"meta_{k}": np.array(str(v)) for k, v in metadata.items()}
    np.savez_compressed(tmp, format_version=np.array(TRACE_FORMAT_VERSION), **trace._asdict(), **meta)
    tmp.replace(path)
    return path


def load_trace(path: str | Path) -> Trace:
    """Read a trace written by :func:`save_trace`."""
    with np.load(Path(path)) as z:
        version = int(z["format_version"])
        if version != TRACE_FORMAT_VERSION:
            raise ValueError(f"{path}: format_version is {version}; this reader supports {TRACE_FORMAT_VERSION}")
        return Trace(**{name: z[name] for name in Trace._fields})


def load_trace_metadata(path: str | Path) -> dict[str, str]:
    """The metadata stored by :func:`save_trace`, as strings."""
    with np.load(Path(path)) as z:
        return {k.removeprefix("meta_"): str(z[k]) for k in z.files if k.startswith("meta_")}
