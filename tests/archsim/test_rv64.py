"""The RV64IM emulator (archsim.traces.rv64) against the RISC-V unprivileged ISA (20191213): instruction
semantics on hand-encoded words, the trace fields, a committed ELF fixture against its Python checksum, and,
when the cross compiler is installed, every small kernel against its native build."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from archsim.traces import lackey, program_set, rv64, rv64_build

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "riscv"
M64 = (1 << 64) - 1
TEXT, DATA = 0x1000, 0x10000  # addresses of the hand-built programs' code and data
SCRATCH = 0x400  # offset of the scratch area in the data segment


# --- a small assembler (RISC-V unprivileged ISA, sec. 2.2-2.3, instruction formats) --------------------------
def r_type(f7: int, rs2: int, rs1: int, f3: int, rd: int, opcode: int) -> int:
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opcode


def i_type(imm: int, rs1: int, f3: int, rd: int, opcode: int) -> int:
    return (imm & 0xFFF) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opcode


def s_type(imm: int, rs2: int, rs1: int, f3: int) -> int:
    return ((imm >> 5) & 0x7F) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1F) << 7 | 0x23


def b_type(imm: int, rs2: int, rs1: int, f3: int) -> int:
    return (
        ((imm >> 12) & 1) << 31 | ((imm >> 5) & 0x3F) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12
        | ((imm >> 1) & 0xF) << 8 | ((imm >> 11) & 1) << 7 | 0x63
    )  # fmt: skip


def u_type(imm20: int, rd: int, opcode: int) -> int:
    return (imm20 & 0xFFFFF) << 12 | rd << 7 | opcode


def j_type(imm: int, rd: int) -> int:
    return (
        ((imm >> 20) & 1) << 31 | ((imm >> 1) & 0x3FF) << 21 | ((imm >> 11) & 1) << 20 | ((imm >> 12) & 0xFF) << 12
        | rd << 7 | 0x6F
    )  # fmt: skip


RR = {  # mnemonic -> (opcode, funct3, funct7)
    "add": (0x33, 0, 0), "sub": (0x33, 0, 0x20), "sll": (0x33, 1, 0), "slt": (0x33, 2, 0), "sltu": (0x33, 3, 0),
    "xor": (0x33, 4, 0), "srl": (0x33, 5, 0), "sra": (0x33, 5, 0x20), "or": (0x33, 6, 0), "and": (0x33, 7, 0),
    "mul": (0x33, 0, 1), "mulh": (0x33, 1, 1), "mulhsu": (0x33, 2, 1), "mulhu": (0x33, 3, 1),
    "div": (0x33, 4, 1), "divu": (0x33, 5, 1), "rem": (0x33, 6, 1), "remu": (0x33, 7, 1),
    "addw": (0x3B, 0, 0), "subw": (0x3B, 0, 0x20), "sllw": (0x3B, 1, 0), "srlw": (0x3B, 5, 0),
    "sraw": (0x3B, 5, 0x20), "mulw": (0x3B, 0, 1), "divw": (0x3B, 4, 1), "divuw": (0x3B, 5, 1),
    "remw": (0x3B, 6, 1), "remuw": (0x3B, 7, 1),
}  # fmt: skip
OPIMM = {"addi": 0, "slti": 2, "sltiu": 3, "xori": 4, "ori": 6, "andi": 7}
LOADS = {"lb": 0, "lh": 1, "lw": 2, "ld": 3, "lbu": 4, "lhu": 5, "lwu": 6}
STORES = {"sb": 0, "sh": 1, "sw": 2, "sd": 3}
BRANCHES = {"beq": 0, "bne": 1, "blt": 4, "bge": 5, "bltu": 6, "bgeu": 7}


def rr(name: str, rd: int, rs1: int, rs2: int) -> int:
    opcode, f3, f7 = RR[name]
    return r_type(f7, rs2, rs1, f3, rd, opcode)


def opimm(name: str, rd: int, rs1: int, imm: int) -> int:
    return i_type(imm, rs1, OPIMM[name], rd, 0x13)


def shift_imm(name: str, rd: int, rs1: int, shamt: int) -> int:
    f3, hi, opcode = {
        "slli": (1, 0, 0x13), "srli": (5, 0, 0x13), "srai": (5, 0x400, 0x13),
        "slliw": (1, 0, 0x1B), "srliw": (5, 0, 0x1B), "sraiw": (5, 0x400, 0x1B),
    }[name]  # fmt: skip
    return i_type(hi | shamt, rs1, f3, rd, opcode)


def load(name: str, rd: int, rs1: int, imm: int) -> int:
    return i_type(imm, rs1, LOADS[name], rd, 0x03)


def store(name: str, rs2: int, rs1: int, imm: int) -> int:
    return s_type(imm, rs2, rs1, STORES[name])


EXIT = [opimm("addi", 17, 0, rv64.EXIT_CALL), 0x00000073]  # li a7, 93; ecall
BASE = 31  # register holding DATA in the hand-built programs


def program_of(body: list[int], init: dict[int, int] | None = None, data: bytes = b"") -> rv64.Program:
    """``body`` preceded by loads of the ``init`` register values (from the data segment) and followed by the
    exit call; x31 holds the data segment's address throughout."""
    init = init or {}
    words = [u_type(DATA >> 12, BASE, 0x37)]  # lui x31, DATA >> 12
    consts = b""
    for k, (reg, value) in enumerate(init.items()):
        words.append(load("ld", reg, BASE, 8 * k))
        consts += (value & M64).to_bytes(8, "little")
    words += body + EXIT
    text = b"".join(w.to_bytes(4, "little") for w in words)
    blob = bytearray(SCRATCH + 0x100)
    blob[: len(consts)] = consts
    blob[SCRATCH : SCRATCH + len(data)] = data
    return rv64.Program(
        TEXT,
        (rv64.Segment(TEXT, len(text), text, True, False), rv64.Segment(DATA, len(blob), bytes(blob), False, True)),
        {},
    )


def execute(body: list[int], init: dict[int, int] | None = None, data: bytes = b"") -> rv64.RunResult:
    return rv64.run(program_of(body, init, data))


def signed(v: int) -> int:
    return v - (1 << 64) if v >> 63 else v


def one(name: str, a: int, b: int) -> int:
    """Result of register-register instruction ``name`` on x1 = a, x2 = b."""
    return execute([rr(name, 3, 1, 2)], {1: a, 2: b}).registers[3]


# --- instruction semantics -----------------------------------------------------------------------------------
def test_immediates_are_sign_extended_lui_and_auipc_fill_the_upper_bits():
    r = execute([
        opimm("addi", 1, 0, -1), opimm("addi", 2, 0, 2047), opimm("addi", 3, 0, -2048),
        u_type(0x80000, 4, 0x37), u_type(0x12345, 5, 0x37), u_type(0xFFFFF, 6, 0x17),
    ]).registers  # fmt: skip
    assert r[1] == M64 and r[2] == 2047 and r[3] == (-2048) & M64
    assert r[4] == 0xFFFF_FFFF_8000_0000  # lui sign-extends its 32-bit result (sec. 5.2)
    assert r[5] == 0x1234_5000
    assert r[6] == (TEXT + 4 * 6 - 0x1000) & M64  # auipc at the 6th word (after the lui of x31)


def test_set_less_than_signed_and_unsigned():
    minus_one = M64
    assert one("slt", minus_one, 1) == 1 and one("sltu", minus_one, 1) == 0
    assert one("slt", 1, 1) == 0 and one("sltu", 0, 1) == 1
    r = execute([opimm("sltiu", 3, 1, -1), opimm("slti", 4, 1, -1)], {1: 5}).registers
    assert r[3] == 1  # sltiu compares with the sign-extended immediate as unsigned: 5 < 2**64 - 1
    assert r[4] == 0


def test_shifts_use_six_bits_and_w_shifts_five():
    v = 0x8000_0000_0000_0001
    assert one("sll", v, 65) == 2  # shift by 65 & 63 = 1
    assert one("srl", v, 63) == 1
    assert one("sra", v, 63) == M64
    assert one("sra", v, 64) == v  # 64 & 63 = 0
    r = execute(
        [shift_imm("slli", 3, 1, 63), shift_imm("srli", 4, 1, 63), shift_imm("srai", 5, 1, 62)], {1: v}
    ).registers
    assert (r[3], r[4], r[5]) == (1 << 63, 1, M64 - 1)
    assert one("sllw", 1, 33) == 2  # 33 & 31 = 1
    assert one("sllw", 1, 31) == 0xFFFF_FFFF_8000_0000  # bit 31 set: sign-extended
    assert one("srlw", 0xFFFF_FFFF_8000_0000, 31) == 1  # the upper 32 bits of rs1 are ignored
    assert one("srlw", 0x1_0000_0000 | 0x8000_0000, 0) == 0xFFFF_FFFF_8000_0000
    assert one("sraw", 0x0000_0000_8000_0000, 4) == 0xFFFF_FFFF_F800_0000
    r = execute(
        [shift_imm("slliw", 3, 1, 31), shift_imm("srliw", 4, 1, 4), shift_imm("sraiw", 5, 1, 4)],
        {1: 0x0000_0001_8000_0001},
    ).registers
    assert (r[3], r[4], r[5]) == (0xFFFF_FFFF_8000_0000, 0x0800_0000, 0xFFFF_FFFF_F800_0000)


def test_word_arithmetic_wraps_at_32_bits_and_sign_extends():
    assert one("addw", 0x7FFF_FFFF, 1) == 0xFFFF_FFFF_8000_0000
    assert one("subw", 0, 1) == M64
    assert one("addw", 0x1_0000_0005, 0x2_0000_0003) == 8
    assert execute([i_type(-1, 1, 0, 3, 0x1B)], {1: 0x1_0000_0000}).registers[3] == M64  # addiw
    assert one("add", M64, 2) == 1 and one("sub", 0, 1) == M64


@pytest.mark.parametrize(
    "a,b",
    [(3, 5), (M64, M64), (M64, 1), (1 << 63, 1 << 63), (1 << 63, M64), (0x1234_5678_9ABC_DEF0, 0xFEDC_BA98_7654_3210),
     (7, M64)],
)  # fmt: skip
def test_multiplications_against_python_integers(a, b):
    assert one("mul", a, b) == (a * b) & M64
    assert one("mulh", a, b) == ((signed(a) * signed(b)) >> 64) & M64
    assert one("mulhsu", a, b) == ((signed(a) * b) >> 64) & M64
    assert one("mulhu", a, b) == (a * b) >> 64
    lo = (a * b) & 0xFFFF_FFFF
    assert one("mulw", a, b) == ((lo - (1 << 32)) if lo >> 31 else lo) & M64


def test_division_rounds_toward_zero_with_the_sign_of_the_dividend():
    neg7 = (-7) & M64
    assert one("div", neg7, 2) == (-3) & M64 and one("rem", neg7, 2) == (-1) & M64
    assert one("div", 7, (-2) & M64) == (-3) & M64 and one("rem", 7, (-2) & M64) == 1
    assert one("divu", neg7, 2) == (M64 - 6) // 2 and one("remu", neg7, 2) == 1
    assert one("divw", (-7) & 0xFFFF_FFFF, 2) == (-3) & M64  # only the low 32 bits count
    assert one("remw", 0xABCD_0000_FFFF_FFF9, 2) == M64
    assert one("divuw", 0xFFFF_FFFF, 2) == 0x7FFF_FFFF and one("remuw", 0xFFFF_FFFF, 2) == 1


def test_division_by_zero_and_overflow_follow_table_7_1():
    # Division by zero: quotient all ones, remainder the dividend (sec. 7.2, Table 7.1).
    x = 0x8765_4321_0FED_CBA9
    assert one("div", x, 0) == M64 and one("divu", x, 0) == M64
    assert one("rem", x, 0) == x and one("remu", x, 0) == x
    assert one("divw", x, 0) == M64 and one("divuw", x, 0) == M64
    assert one("remw", x, 0) == 0x0FED_CBA9 and one("remuw", x, 0) == 0x0FED_CBA9
    assert one("remw", 0x8000_0000, 0) == 0xFFFF_FFFF_8000_0000  # the 32-bit dividend, sign-extended
    # Signed overflow: quotient the dividend, remainder 0.
    assert one("div", 1 << 63, M64) == 1 << 63 and one("rem", 1 << 63, M64) == 0
    assert one("divw", 0x8000_0000, M64) == 0xFFFF_FFFF_8000_0000 and one("remw", 0x8000_0000, M64) == 0


def test_loads_of_every_width_sign_or_zero_extend():
    data = bytes([0x80, 0xFF, 0x01, 0x80, 0xF0, 0xDE, 0xBC, 0x9A])
    body = [load(n, 1 + k, BASE, SCRATCH) for k, n in enumerate(LOADS)]
    r = execute(body, data=data).registers
    word = int.from_bytes(data, "little")
    assert r[1] == 0xFFFF_FFFF_FFFF_FF80  # lb
    assert r[2] == 0xFFFF_FFFF_FFFF_FF80  # lh 0xff80
    assert r[3] == 0xFFFF_FFFF_8001_FF80  # lw
    assert r[4] == word  # ld
    assert (r[5], r[6], r[7]) == (0x80, 0xFF80, 0x8001_FF80)  # lbu, lhu, lwu


def test_stores_of_every_width_write_the_low_bytes_and_the_trace_records_them():
    v = 0x1122_3344_5566_7788
    body = [
        store("sb", 1, BASE, SCRATCH),
        store("sh", 1, BASE, SCRATCH + 8),
        store("sw", 1, BASE, SCRATCH + 16),
        store("sd", 1, BASE, SCRATCH + 24),
        load("ld", 2, BASE, SCRATCH + 24),
        store("sw", 1, BASE, SCRATCH + 33),
    ]
    r = execute(body, {1: v})
    assert r.memory(DATA + SCRATCH, 8) == 0x88
    assert r.memory(DATA + SCRATCH + 8, 8) == 0x7788
    assert r.memory(DATA + SCRATCH + 16, 8) == 0x5566_7788
    assert r.memory(DATA + SCRATCH + 24, 8) == v and r.registers[2] == v
    assert r.memory(DATA + SCRATCH + 33, 4) == 0x5566_7788  # misaligned stores are carried out (sec. 2.6)
    t = r.trace
    mem = t.mem_size > 0
    assert t.mem_size[mem].tolist() == [8, 1, 2, 4, 8, 8, 4]  # the init ld, then the body
    assert t.mem_address[mem][1:].tolist() == [DATA + SCRATCH + o for o in (0, 8, 16, 24, 24, 33)]
    assert t.cls[mem].tolist() == [rv64.LOAD] + [rv64.STORE] * 4 + [rv64.LOAD, rv64.STORE]
    assert np.all(t.mem_address[~mem] == -1)
    st = np.flatnonzero(t.cls == rv64.STORE)
    assert np.all(t.rs1[st] == BASE) and np.all(t.rs2[st] == 1) and np.all(t.rd[st] == -1)


@pytest.mark.parametrize(
    "name,a,b,taken",
    [("beq", 5, 5, True), ("beq", 5, 6, False), ("bne", 5, 6, True), ("bne", 5, 5, False),
     ("blt", M64, 0, True), ("blt", 0, M64, False), ("bge", 0, M64, True), ("bge", M64, 0, False),
     ("bge", 3, 3, True), ("bltu", 0, M64, True), ("bltu", M64, 0, False), ("bgeu", M64, 0, True),
     ("bgeu", 0, M64, False)],
)  # fmt: skip
def test_branches_take_the_right_direction_and_record_it(name, a, b, taken):
    # branch +8 over "addi x3, x0, 1"; then "addi x4, x0, 1"
    body = [b_type(8, 2, 1, BRANCHES[name]), opimm("addi", 3, 0, 1), opimm("addi", 4, 0, 1)]
    r = execute(body, {1: a, 2: b})
    assert r.registers[3] == (0 if taken else 1) and r.registers[4] == 1
    i = int(np.flatnonzero(r.trace.cls == rv64.BRANCH)[0])
    assert bool(r.trace.taken[i]) is taken
    assert r.trace.target[i] == r.trace.pc[i] + 8
    assert (r.trace.rs1[i], r.trace.rs2[i], r.trace.rd[i]) == (1, 2, -1)
    assert r.trace.pc[i + 1] == r.trace.pc[i] + (8 if taken else 4)


def test_backward_branch_loop_and_a_branch_to_the_next_instruction():
    # x1 = 3; loop: x1 -= 1; bne x1, x0, loop; beq x0, x0, +4 (taken, target = pc + 4)
    body = [opimm("addi", 1, 0, 3), opimm("addi", 1, 1, -1), b_type(-4, 0, 1, 1), b_type(4, 0, 0, 0)]
    t = execute(body).trace
    br = np.flatnonzero(t.cls == rv64.BRANCH)
    assert t.taken[br].tolist() == [True, True, False, True]
    assert np.all(t.target[br[:3]] == t.pc[br[0]] - 4) and t.target[br[3]] == t.pc[br[3]] + 4


def test_jal_and_jalr_link_and_jump():
    # 0: jal x1, +12 (to 12)   4: addi x5, x5, 1   8: jal x0, +8 (to the exit at 16)   12: jalr x6, 1(x1), to
    # x1 + 1 with bit 0 cleared, i.e. back to 4.
    body = [j_type(12, 1), opimm("addi", 5, 5, 1), j_type(8, 0), i_type(1, 1, 0, 6, 0x67)]
    r = execute(body)
    start = TEXT + 4  # after the lui of x31
    assert r.registers[1] == start + 4 and r.registers[6] == start + 16
    assert r.registers[5] == 1
    t = r.trace
    jumps = np.flatnonzero(t.cls == rv64.JUMP)
    assert t.pc[jumps].tolist() == [start, start + 12, start + 8]
    assert t.target[jumps].tolist() == [start + 12, start + 4, start + 16]
    assert t.rd[jumps].tolist() == [1, 6, -1]  # jal x0 has no destination
    assert t.rs1[jumps].tolist() == [-1, 1, -1]
    assert np.all(t.taken[jumps])


def test_writes_to_x0_are_dropped_and_not_destinations():
    r = execute([opimm("addi", 0, 0, 5), rr("add", 1, 0, 0), load("ld", 0, BASE, 0)], {2: 9})
    assert r.registers[0] == 0 and r.registers[1] == 0
    t = r.trace
    assert t.rd[2] == -1 and t.rd[4] == -1  # addi x0 and ld x0 (after lui and the init ld)
    assert t.rs1[3] == 0 and t.rs2[3] == 0  # x0 is a source operand as encoded


def test_trace_classes_and_mnemonics():
    fence = i_type(0, 0, 0, 0, 0x0F)
    body = [rr("mul", 3, 1, 2), rr("divu", 4, 1, 2), rr("remw", 5, 1, 2), rr("mulhsu", 6, 1, 2), fence]
    t = execute(body, {1: 10, 2: 3}).trace
    names = [rv64.MNEMONICS[o] for o in t.op]
    assert names == ["lui", "ld", "ld", "mul", "divu", "remw", "mulhsu", "fence", "addi", "ecall"]
    assert [rv64.CLASSES[c] for c in t.cls] == [
        "alu", "load", "load", "mul", "div", "div", "mul", "system", "alu", "system"]  # fmt: skip


# --- errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "word,needle",
    [(0x30002073, "Zicsr"), (0x00100073, "EBREAK"), (0x0000100F, "FENCE.I"), (0x00004501, "compressed"),
     (0x00000053, "opcode 0x53"), (r_type(0x02, 2, 1, 0, 3, 0x33), "funct7 0x2")],
)  # fmt: skip
def test_unsupported_instructions_name_the_pc_and_the_word(word, needle):
    with pytest.raises(rv64.UnsupportedInstruction, match=f"pc 0x{TEXT + 4:x}: instruction word 0x{word:08x}") as e:
        execute([word])
    assert needle in str(e.value)


def test_runtime_errors_are_clear():
    with pytest.raises(rv64.EmulatorError, match="data access outside"):
        execute([load("ld", 1, 0, 0)])
    with pytest.raises(rv64.EmulatorError, match="inside the code"):
        execute([u_type(TEXT >> 12, 1, 0x37), store("sw", 0, 1, 0)])
    with pytest.raises(rv64.EmulatorError, match="not a multiple of 4"):
        execute([i_type(2, 1, 0, 0, 0x67)], {1: TEXT})
    with pytest.raises(rv64.EmulatorError, match="a7 = 1"):
        execute([opimm("addi", 17, 0, 1), 0x00000073])
    with pytest.raises(rv64.EmulatorError, match="max_instructions"):
        rv64.run(program_of([j_type(0, 0)]), max_instructions=1000)
    with pytest.raises(ValueError, match="memory read of 8 bytes at 0x0"):
        execute([]).memory(0, 8)
    far = rv64.Segment(1 << 40, 8, b"", False, True)
    with pytest.raises(ValueError, match="span"):
        rv64.run(dataclasses.replace(program_of([]), segments=(*program_of([]).segments, far)))


def test_elf_loader_rejects_other_files(tmp_path):
    blob = (FIXTURES / "checksum.elf").read_bytes()
    with pytest.raises(ValueError, match="magic"):
        rv64.load_elf(b"#!/bin/sh\n" + bytes(64))
    with pytest.raises(ValueError, match="e_machine is 62"):
        rv64.load_elf(blob[:18] + (62).to_bytes(2, "little") + blob[20:])
    with pytest.raises(ValueError, match="EF_RISCV_RVC"):
        rv64.load_elf(blob[:48] + (1).to_bytes(4, "little") + blob[52:])
    for size in (100, 3000, len(blob) - 1):  # cut inside the program headers, a segment, the section headers
        with pytest.raises(ValueError, match="truncated or corrupt ELF file"):
            rv64.load_elf(blob[:size])


# --- the committed fixture ------------------------------------------------------------------------------------
def fixture_checksum(n: int = 48) -> int:
    """Python re-computation of tests/fixtures/riscv/checksum.c."""

    def sext(v: int, bits: int) -> int:
        v &= (1 << bits) - 1
        return v - (1 << bits) if v >> (bits - 1) else v

    def tdiv(a: int, b: int) -> int:
        q = abs(a) // abs(b)
        return -q if (a < 0) != (b < 0) else q

    def mix(h: int, v: int) -> int:
        return ((h ^ (v & M64)) * 0x100000001B3) & M64

    h, s = 0xCBF29CE484222325, 12345
    words, bytes_, halves = [], [], []
    for _ in range(n):
        s = (s * 1103515245 + 12345) & 0xFFFF_FFFF
        words.append(s)
        bytes_.append(sext(s >> 16, 8))
        halves.append(sext(s >> 8, 16))
    for i in range(n):
        a, b = sext(words[i], 32) * halves[i], bytes_[i]
        a32, b32 = sext(words[i], 32), halves[i]
        if b:
            h = mix(mix(h, tdiv(a, b)), a - b * tdiv(a, b))
        if b32 not in (0, -1):
            h = mix(mix(h, tdiv(a32, b32)), a32 - b32 * tdiv(a32, b32))
        h = mix(h, words[i] >> (i & 31))
        h = mix(h, a >> (i & 63))
        h = mix(h, words[i] // ((b & 0xFF) | 1))
        h = mix(h, (2 * h) & M64 if i % 2 == 0 else ((h << 13) | (h >> 51)) & M64)
    for v in sorted((w << 32) | (hv & 0xFFFF) for w, hv in zip(words, halves, strict=True)):
        h = mix(h, v)
    return h


@pytest.fixture(scope="module")
def fixture_run() -> rv64.RunResult:
    return rv64.run(FIXTURES / "checksum.elf")


def test_fixture_checksum_equals_the_python_value(fixture_run):
    expected = fixture_checksum()
    assert fixture_run.exit_value == expected
    assert fixture_run.memory(fixture_run.symbols["result"], 8) == expected  # crt0 stored it to `result`


def test_fixture_trace_is_consistent(fixture_run):
    t = fixture_run.trace
    n = t.pc.size
    assert all(getattr(t, f).shape == (n,) for f in rv64.Trace._fields)
    assert rv64.MNEMONICS[t.op[-1]] == "ecall" and t.pc[0] == rv64.load_elf(FIXTURES / "checksum.elf").entry
    ctrl = (t.cls == rv64.BRANCH) | (t.cls == rv64.JUMP)
    nxt = t.pc[1:]
    # the next pc is the target of every taken control transfer and pc + 4 otherwise
    assert np.array_equal(np.where(t.taken[:-1], t.target[:-1], t.pc[:-1] + 4), nxt)
    assert np.all(t.target[~ctrl] == -1) and not np.any(t.taken[~ctrl])
    assert np.all((t.rd >= -1) & (t.rd <= 31) & (t.rd != 0))
    used = {rv64.MNEMONICS[o] for o in np.unique(t.op)}
    assert {"div", "rem", "divw", "remw", "divu", "mul", "jalr", "lb", "lh", "lhu", "lwu", "sb", "sh", "sd"} <= used
    mix = rv64.class_mix(t)
    assert abs(sum(mix.values()) - 1) < 1e-12 and mix["branch"] > 0.1


def test_memory_accesses_interleave_fetches_and_data_like_lackey(fixture_run):
    t = fixture_run.trace
    both = rv64.memory_accesses(t)
    assert isinstance(both, lackey.LackeyTrace)
    is_mem = t.mem_size > 0
    assert len(both) == t.pc.size + int(is_mem.sum())
    fetch = both.kind == lackey.INSTR
    assert np.array_equal(both.address[fetch], t.pc) and np.all(both.size[fetch] == 4)
    # each load or store directly follows its instruction's fetch
    after = np.flatnonzero(~fetch) - 1
    assert np.all(both.kind[after] == lackey.INSTR)
    assert np.array_equal(both.address[after], t.pc[is_mem])
    assert np.array_equal(both.address[~fetch], t.mem_address[is_mem])
    assert both.counts() == {"I": t.pc.size, "L": int((t.cls == rv64.LOAD).sum()),
                             "S": int((t.cls == rv64.STORE).sum()), "M": 0}  # fmt: skip
    data = rv64.memory_accesses(t, instructions=False)
    assert np.array_equal(data.kind, both.kind[~fetch]) and np.array_equal(data.size, both.size[~fetch])
    inst = rv64.memory_accesses(t, data=False)
    assert np.array_equal(inst.address, t.pc) and np.all(inst.kind == lackey.INSTR)
    assert len(rv64.memory_accesses(t, instructions=False, data=False)) == 0


def test_memory_stream_feeds_the_lackey_line_streams_and_round_trips_as_lackey_text(fixture_run, tmp_path):
    both = rv64.memory_accesses(fixture_run.trace)
    streams = lackey.line_accesses(both, 64)
    assert len(streams.l1i) == int((both.kind == lackey.INSTR).sum())  # 4-byte aligned fetches: one line each
    assert int(streams.l1d.is_write.sum()) >= int((both.kind == lackey.STORE).sum())
    for name in ("t.lackey", "t.lackey.gz"):
        back = lackey.read(rv64.write_lackey(tmp_path / name, both))
        assert np.array_equal(back.kind, both.kind) and np.array_equal(back.address, both.address)
        assert np.array_equal(back.size, both.size) and not back.truncated


def test_traces_round_trip_through_npz(fixture_run, tmp_path):
    path = rv64.save_trace(tmp_path / "t.npz", fixture_run.trace, exit_value=fixture_run.exit_value)
    back = rv64.load_trace(path)
    for name in rv64.Trace._fields:
        a, b = getattr(back, name), getattr(fixture_run.trace, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert rv64.load_trace_metadata(path) == {"exit_value": str(fixture_run.exit_value)}
    assert [p.name for p in tmp_path.iterdir()] == ["t.npz"]  # no temporary left behind
    with pytest.raises(ValueError, match=r"must end in \.npz"):
        rv64.save_trace(tmp_path / "t.bin", fixture_run.trace)


# --- builds (need the cross compiler) -------------------------------------------------------------------------
def test_missing_compiler_error_names_make_tools(tmp_path):
    with pytest.raises(rv64_build.ToolMissingError, match="make tools"):
        rv64_build.build_elf(FIXTURES / "checksum.c", cache_dir=tmp_path, compiler="riscv64-no-such-gcc")


needs_cross = pytest.mark.skipif(
    shutil.which(rv64_build.COMPILER) is None, reason=f"{rv64_build.COMPILER} not installed (make tools)"
)


@needs_cross
def test_fixture_build_is_cached_and_reproduces_the_committed_elf(tmp_path):
    elf = rv64_build.build_elf(FIXTURES / "checksum.c", cache_dir=tmp_path)
    assert rv64_build.build_elf(FIXTURES / "checksum.c", cache_dir=tmp_path) == elf
    assert rv64_build.build_elf(FIXTURES / "checksum.c", defines=("UNUSED_MACRO",), cache_dir=tmp_path) != elf
    assert rv64.run(elf).exit_value == fixture_checksum()
    readme = (FIXTURES / "README.md").read_text()
    version = subprocess.run([rv64_build.COMPILER, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    if version not in readme:
        pytest.skip(f"compiler {version!r} differs from the fixture's; the bytes may differ")
    assert (
        hashlib.sha256(elf.read_bytes()).hexdigest()
        == hashlib.sha256((FIXTURES / "checksum.elf").read_bytes()).hexdigest()
    )


def native_checksum(name: str, build: Path) -> int:
    exe = program_set.build_native(name, "small", build)
    return program_set.run_native(exe)


@needs_cross
@pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("nm") is None, reason="gcc or nm not installed")
@pytest.mark.parametrize("name", program_set.names())
def test_small_kernel_checksum_equals_the_native_build(name, tmp_path):
    source = program_set.PROGRAMS_DIR / program_set.program(name).source
    if not source.is_file():
        pytest.skip(f"{source} not present")
    path = rv64_build.instruction_trace(name, small=True, cache_dir=tmp_path)
    meta = rv64.load_trace_metadata(path)
    assert int(meta["exit_value"]) == native_checksum(name, tmp_path / "native")
    trace = rv64.load_trace(path)
    assert trace.pc.size == int(meta["instructions"]) > 10_000
    assert rv64_build.instruction_trace(name, small=True, cache_dir=tmp_path) == path  # cached


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc (native) not installed")
def test_fixture_native_build_gives_the_same_checksum(tmp_path):
    exe = tmp_path / "checksum"
    main = program_set.PROGRAMS_DIR / program_set.NATIVE_MAIN
    subprocess.run(["gcc", "-O2", str(main), str(FIXTURES / "checksum.c"), "-o", str(exe)], check=True)
    assert int(subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout) == fixture_checksum()


@pytest.mark.skipif(
    shutil.which("riscv64-unknown-elf-as") is None or shutil.which("riscv64-unknown-elf-objcopy") is None,
    reason="riscv64-unknown-elf binutils not installed",
)
def test_the_test_encoders_match_the_gnu_assembler(tmp_path):
    cases = {
        "beq x1, x2, .+8": b_type(8, 2, 1, 0), "bne x1, x0, .-4": b_type(-4, 0, 1, 1),
        "bgeu x5, x6, .+2048": b_type(2048, 6, 5, 7), "jal x1, .+12": j_type(12, 1), "jal x0, .-2048": j_type(-2048, 0),
        "sd x1, 1025(x31)": store("sd", 1, 31, 1025), "sw x1, -3(x31)": store("sw", 1, 31, -3),
        "lhu x7, -2048(x2)": load("lhu", 7, 2, -2048), "srai x5, x1, 62": shift_imm("srai", 5, 1, 62),
        "sraiw x5, x1, 4": shift_imm("sraiw", 5, 1, 4), "lui x4, 0x80000": u_type(0x80000, 4, 0x37),
        "addiw x3, x1, -1": i_type(-1, 1, 0, 3, 0x1B), "jalr x6, 1(x1)": i_type(1, 1, 0, 6, 0x67),
        "mulhsu x3, x1, x2": rr("mulhsu", 3, 1, 2), "remuw x3, x1, x2": rr("remuw", 3, 1, 2),
        "sra x3, x1, x2": rr("sra", 3, 1, 2), "sltiu x3, x1, -1": opimm("sltiu", 3, 1, -1),
    }  # fmt: skip
    (tmp_path / "t.s").write_text(".option norvc\n" + "\n".join(cases) + "\n")
    obj = tmp_path / "t.o"
    subprocess.run(["riscv64-unknown-elf-as", "-march=rv64im", str(tmp_path / "t.s"), "-o", str(obj)], check=True)
    raw = tmp_path / "t.bin"  # the object is relocatable: its .text, raw
    subprocess.run(["riscv64-unknown-elf-objcopy", "-O", "binary", "-j", ".text", str(obj), str(raw)], check=True)
    blob = raw.read_bytes()
    words = [int.from_bytes(blob[i : i + 4], "little") for i in range(0, len(blob), 4)]
    assert words == list(cases.values())
