"""The lackey trace reader: the record forms, valgrind messages, modifies, accesses spanning lines, gzip,
truncated traces and malformed lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from archsim.traces import lackey

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"

TRACE = """==1234== Lackey, an example Valgrind tool
==1234== Command: ./a.out
I  04016c0,3
 L 1ffefff3f8,8
 S 1ffefff3f0,8
 M 0601040,4
I  04016c3,5
==1234==
==1234== Counted 1 call to main()
"""


def write(tmp_path: Path, text: str | bytes, name: str = "t.trace") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def reference_parse(text: str) -> tuple[list[int], list[int], list[int]]:
    """The records of ``text`` read one line at a time, as simply as possible."""
    kinds = {"I": lackey.INSTR, "L": lackey.LOAD, "S": lackey.STORE, "M": lackey.MODIFY}
    out: tuple[list[int], list[int], list[int]] = ([], [], [])
    for line in text.splitlines():
        if line.startswith("=="):
            continue
        address, size = line[3:].split(",")
        out[0].append(kinds[line[:3].strip()])
        out[1].append(int(address, 16))
        out[2].append(int(size))
    return out


def test_reads_every_record_form_and_counts_valgrind_messages(tmp_path):
    trace = lackey.read(write(tmp_path, TRACE))
    assert len(trace) == 5
    assert trace.kind.tolist() == [lackey.INSTR, lackey.LOAD, lackey.STORE, lackey.MODIFY, lackey.INSTR]
    assert trace.address.tolist() == [0x04016C0, 0x1FFEFFF3F8, 0x1FFEFFF3F0, 0x0601040, 0x04016C3]
    assert trace.size.tolist() == [3, 8, 8, 4, 5]
    assert trace.valgrind_messages == 4
    assert trace.skipped_lines == 0 and not trace.truncated
    assert trace.counts() == {"I": 2, "L": 1, "S": 1, "M": 1}


def test_vectorised_parse_equals_a_line_by_line_parse_on_random_traces(tmp_path):
    rng = np.random.default_rng(7)
    letters = np.array(["I ", " L", " S", " M"])
    lines = []
    for k in range(3000):
        if k % 97 == 0:
            lines.append(f"=={rng.integers(1, 99999)}== message, with a comma")
        address = int(rng.integers(0, 2**47))
        digits = f"{address:0{int(rng.integers(8, 13))}x}"
        digits = digits.upper() if k % 5 == 0 else digits
        lines.append(f"{letters[rng.integers(0, 4)]} {digits},{int(rng.integers(1, 65))}")
    text = "\n".join(lines) + "\n"
    trace = lackey.read(write(tmp_path, text))
    kinds, addresses, sizes = reference_parse(text)
    assert trace.kind.tolist() == kinds
    assert trace.address.tolist() == addresses
    assert trace.size.tolist() == sizes


def test_modify_is_a_load_then_a_store_and_fetches_go_to_the_l1i(tmp_path):
    streams = lackey.line_accesses(lackey.read(write(tmp_path, TRACE)), 64)
    assert streams.l1i.line.tolist() == [0x04016C0 // 64, 0x04016C3 // 64]
    assert not streams.l1i.is_write.any()
    assert streams.l1d.line.tolist() == [0x1FFEFFF3F8 // 64, 0x1FFEFFF3F0 // 64, 0x0601040 // 64, 0x0601040 // 64]
    assert streams.l1d.is_write.tolist() == [False, True, False, True]


def test_an_access_spanning_two_lines_is_one_access_per_line(tmp_path):
    text = "I  000003e,4\n L 00000078,16\n M 000000bc,8\n S 00000100,64\n"
    streams = lackey.line_accesses(lackey.read(write(tmp_path, text)), 64)
    assert streams.l1i.line.tolist() == [0, 1]  # bytes 0x3e..0x41 cross 0x40
    # load 0x78..0x87 (lines 1, 2); modify 0xbc..0xc3: load lines 2, 3 then store lines 2, 3; an aligned store
    assert streams.l1d.line.tolist() == [1, 2, 2, 3, 2, 3, 4]
    assert streams.l1d.is_write.tolist() == [False, False, False, False, True, True, True]
    wide = lackey.line_accesses(lackey.read(write(tmp_path, " L 00000000,64\n", "w.trace")), 16)
    assert wide.l1d.line.tolist() == [0, 1, 2, 3]


def test_gzip_trace_reads_like_the_plain_one(tmp_path):
    plain = lackey.read(write(tmp_path, TRACE))
    packed = lackey.read(write(tmp_path, gzip.compress(TRACE.encode()), "t.trace.gz"))
    assert np.array_equal(plain.address, packed.address) and np.array_equal(plain.kind, packed.kind)
    assert packed.valgrind_messages == plain.valgrind_messages and not packed.truncated


def test_truncated_trace_is_read_to_its_last_complete_line(tmp_path):
    cut = TRACE[: TRACE.index(" M 06") + 6]  # " M 06" with no newline: a record cut in the middle
    trace = lackey.read(write(tmp_path, cut))
    assert len(trace) == 3 and trace.skipped_lines == 1 and trace.truncated
    whole_line_missing_newline = lackey.read(write(tmp_path, "I  04016c0,3\n L 1000,8", "n.trace"))
    assert len(whole_line_missing_newline) == 1 and whole_line_missing_newline.skipped_lines == 1


def test_truncated_gzip_stream_is_read_to_its_last_complete_line(tmp_path):
    text = "".join(f" L {k * 8:08x},8\n" for k in range(20000))
    packed = gzip.compress(text.encode())
    trace = lackey.read(write(tmp_path, packed[: len(packed) // 2], "cut.trace.gz"))
    assert trace.truncated
    assert 0 < len(trace) < 20000
    assert trace.address.tolist() == [k * 8 for k in range(len(trace))]
    assert trace.skipped_lines in (0, 1)


def test_damaged_gzip_is_a_clear_error(tmp_path):
    packed = bytearray(gzip.compress(TRACE.encode()))
    packed[12:20] = b"\xff" * 8
    with pytest.raises(ValueError, match="gzip stream is damaged"):
        lackey.read(write(tmp_path, bytes(packed), "bad.gz"))


def test_empty_trace_has_no_records(tmp_path):
    trace = lackey.read(write(tmp_path, ""))
    assert len(trace) == 0 and trace.skipped_lines == 0
    streams = lackey.line_accesses(trace)
    assert len(streams.l1i) == 0 and len(streams.l1d) == 0


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("X  04016c0,3", "unknown record"),
        (" Q 04016c0,3", "unknown record"),
        ("I 04016c0,3", "unknown record"),
        ("", "unknown record"),
        ("hello from the program", "unknown record"),
        (" L 04016c0 3", "one comma"),
        (" L 0401,6c0,3", "one comma"),
        (" L 04016g0,3", "ADDR is not hexadecimal"),
        (" L ,3", "ADDR is not hexadecimal"),
        (" L 8000000000000000,8", "ADDR is not hexadecimal"),
        (" L 04016c0,0", "SIZE is not a decimal >= 1"),
        (" L 04016c0,x", "SIZE is not a decimal >= 1"),
        (" L 04016c0,8\r", "SIZE is not a decimal >= 1"),
    ],
)
def test_malformed_line_names_file_line_number_line_and_allowed_forms(tmp_path, line, why):
    path = write(tmp_path, f"I  04016c0,3\n==9== ok\n{line}\n L 1000,8\n")
    with pytest.raises(ValueError) as info:
        lackey.read(path)
    message = str(info.value)
    assert str(path) in message and "line 3" in message and repr(line) in message
    assert why in message and "'I  ADDR,SIZE'" in message and "'==PID== ...'" in message


@pytest.mark.parametrize("line_bytes", [0, 48, -64, 1.5, True])
def test_line_size_must_be_a_power_of_two(tmp_path, line_bytes):
    trace = lackey.read(write(tmp_path, TRACE))
    with pytest.raises(ValueError, match=r"line_bytes=.* is not a power of two"):
        lackey.line_accesses(trace, line_bytes)


def test_committed_fixture_traces_read(tmp_path):
    paths = sorted(FIXTURES.glob("*.lackey.gz"))
    if not paths:
        pytest.skip(f"no lackey fixtures in {FIXTURES}")
    for path in paths:
        trace = lackey.read(path)
        assert len(trace) > 0
        streams = lackey.line_accesses(trace)
        assert len(streams.l1i) >= trace.counts()["I"]
