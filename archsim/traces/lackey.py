"""Memory traces of valgrind's lackey tool (``valgrind --tool=lackey --trace-mem=yes``), read directly.

Lackey prints one record per memory access (``lackey/lk_main.c`` of valgrind 3.19, its ``--trace-mem``
output):

* ``I  ADDR,SIZE`` an instruction fetch (``I`` then two spaces),
* `` L ADDR,SIZE`` a data load, `` S ADDR,SIZE`` a store, `` M ADDR,SIZE`` a modify (one space, the letter,
  one space); a modify is a load and then a store to the same address,

with ``ADDR`` hexadecimal (lackey zero-pads it to at least 8 digits) and ``SIZE`` the access size in bytes,
decimal. Valgrind's own messages (``==PID== ...``) may be interleaved with the records (they are when the
trace goes to valgrind's log); they are counted and ignored. Any other line is an error naming the file,
the line number, the line and the allowed forms.

A trace cut short (a program killed, a copy interrupted, a truncated ``.gz``) ends in an incomplete line:
only the complete lines (ending in a newline) are read, and :attr:`LackeyTrace.skipped_lines` counts the
one left.

Parsing is vectorised in numpy: the line breaks, commas and hexadecimal digits of the whole file are found
with array operations, a few million lines per second.
"""

from __future__ import annotations

import dataclasses
import zlib
from pathlib import Path

import numpy as np

INSTR, LOAD, STORE, MODIFY = 0, 1, 2, 3
"""Record kinds in :attr:`LackeyTrace.kind`."""
KIND_NAMES = ("I", "L", "S", "M")
"""Lackey's letter of each kind, indexed by kind."""
ALLOWED_FORMS = (
    "'I  ADDR,SIZE' (instruction fetch: I and two spaces), ' L ADDR,SIZE' (load), ' S ADDR,SIZE' (store) or "
    "' M ADDR,SIZE' (modify: a space, the letter, a space), ADDR hexadecimal (at most 16 digits, below 2**63), "
    "SIZE decimal >= 1; or a valgrind message '==PID== ...'"
)
MAX_ADDRESS_DIGITS = 16
"""Most hexadecimal digits of an address (64 bits)."""
MAX_SIZE_DIGITS = 9
"""Most decimal digits of an access size."""
GZIP_MAGIC = b"\x1f\x8b"
"""The first two bytes of a gzip file (RFC 1952)."""

_HEX = np.full(256, 255, dtype=np.uint8)  # digit value of each byte, 255 for a byte that is not a digit
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i
_DEC = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789"):
    _DEC[_c] = _i


@dataclasses.dataclass(frozen=True)
class LackeyTrace:
    """The records of one lackey trace, in program order.

    Attributes:
        path: the file read.
        kind: record kind per record, :data:`INSTR`, :data:`LOAD`, :data:`STORE` or :data:`MODIFY`,
            uint8 ``[records]``.
        address: byte address per record, int64 ``[records]``.
        size: access size per record, bytes, int64 ``[records]``.
        valgrind_messages: ``==PID==`` lines read and ignored.
        skipped_lines: incomplete lines at the end of a truncated trace, not read (0 or 1).
        truncated: whether the file ended without a newline or its compressed stream was cut short.
    """

    path: str
    kind: np.ndarray
    address: np.ndarray
    size: np.ndarray
    valgrind_messages: int
    skipped_lines: int
    truncated: bool

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    def counts(self) -> dict[str, int]:
        """Records of each kind, keyed by lackey's letter."""
        per_kind = np.bincount(self.kind, minlength=len(KIND_NAMES))
        return {name: int(n) for name, n in zip(KIND_NAMES, per_kind, strict=True)}


@dataclasses.dataclass(frozen=True)
class LineStream:
    """The cache-line accesses of one cache, in order.

    Attributes:
        line: line address (byte address // line bytes), int64 ``[accesses]``.
        is_write: whether the access writes the line (a store), bool ``[accesses]``.
    """

    line: np.ndarray
    is_write: np.ndarray

    def __len__(self) -> int:
        return int(self.line.shape[0])


@dataclasses.dataclass(frozen=True)
class CacheStreams:
    """The line accesses of a trace, split between the L1 instruction cache and the L1 data cache.

    Attributes:
        l1i: instruction fetches.
        l1d: loads, stores, and each modify as a load followed by a store.
        line_bytes: line size the addresses were divided by, bytes.
    """

    l1i: LineStream
    l1d: LineStream
    line_bytes: int


def _read_bytes(path: str) -> tuple[bytes, bool]:
    """The file's bytes (decompressed if it is gzip, by its magic bytes) and whether a compressed stream was
    cut short; ``ValueError`` naming the file for a damaged compressed stream."""
    raw = Path(path).read_bytes()
    if raw[:2] != GZIP_MAGIC:
        return raw, False
    pieces: list[bytes] = []
    rest = raw
    while rest:
        stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            pieces.append(stream.decompress(rest))
        except zlib.error as err:
            raise ValueError(
                f"{path}: the gzip stream is damaged ({err}); allowed: a plain or gzip lackey trace"
            ) from None
        if not stream.eof:
            pieces.append(stream.flush())
            return b"".join(pieces), True
        rest = stream.unused_data
        if rest[:2] != GZIP_MAGIC:  # trailing zero padding after the last member is tolerated, as gzip does
            break
    return b"".join(pieces), False


def _line_text(buf: np.ndarray, start: int, end: int) -> str:
    text = bytes(buf[start:end]).decode("utf-8", errors="replace")
    return text if len(text) <= 80 else text[:77] + "..."


def _malformed(path: str, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, index: int, why: str) -> ValueError:
    line = _line_text(buf, int(starts[index]), int(ends[index]))
    return ValueError(f"{path}: line {index + 1}: {line!r} is not lackey's format ({why}); allowed: {ALLOWED_FORMS}")


def _parse_digits(
    buf: np.ndarray, first: np.ndarray, stop: np.ndarray, table: np.ndarray, base: int, max_digits: int
) -> tuple[np.ndarray, np.ndarray]:
    """The numbers written in ``buf[first:stop]`` per record in ``base`` (digit values from ``table``, 255 for a
    character that is not a digit), as int64, and a mask of the records whose field is not a number below
    2**63 (empty, too long, a character that is not a digit). Records are grouped by field length (a trace
    has few), and each group is read one digit column at a time."""
    length = stop - first
    bad = (length < 1) | (length > max_digits)
    value = np.zeros(first.shape, dtype=np.uint64)
    for digits in np.unique(length[~bad]).tolist():
        rows = np.flatnonzero(length == digits)
        start = first[rows]
        number = np.zeros(rows.shape, dtype=np.uint64)
        wrong = np.zeros(rows.shape, dtype=bool)
        for j in range(digits):
            digit = table[buf[start + j]]
            wrong |= digit == 255
            number = number * np.uint64(base) + digit
        value[rows] = number
        bad[rows] |= wrong
    bad |= value >= np.uint64(2**63)  # 16 hexadecimal digits with the top bit set
    return np.where(bad, 0, value).astype(np.int64), bad


def read(path: str | Path) -> LackeyTrace:
    """Read a lackey trace (plain text or gzip; see the module docstring for the format).

    Raises:
        ValueError: a line that is neither a lackey record nor a valgrind message, naming the file, the line
            number, the line and the allowed forms; a damaged gzip stream.
        OSError: the file cannot be read.
    """
    path = str(path)
    data, cut = _read_bytes(path)
    buf = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(buf == ord("\n"))
    complete = breaks.shape[0]
    tail = buf.shape[0] - (int(breaks[-1]) + 1 if complete else 0)  # bytes after the last newline
    skipped = int(tail > 0)
    starts = np.concatenate(([0], breaks[:-1] + 1)).astype(np.int64) if complete else np.zeros(0, np.int64)
    ends = breaks.astype(np.int64)
    length = ends - starts
    padded = np.concatenate((buf, np.zeros(3, dtype=np.uint8)))  # the first three bytes of a short line

    c0, c1, c2 = (np.where(length > k, padded[starts + k], 0) for k in range(3))
    message = (c0 == ord("=")) & (c1 == ord("=")) & (_DEC[c2] != 255)
    instr = (c0 == ord("I")) & (c1 == ord(" ")) & (c2 == ord(" "))
    data_kind = np.full(c1.shape, -1, dtype=np.int64)
    for kind, letter in ((LOAD, "L"), (STORE, "S"), (MODIFY, "M")):
        data_kind[c1 == ord(letter)] = kind
    data_rec = (c0 == ord(" ")) & (data_kind >= 0) & (c2 == ord(" "))
    record = instr | data_rec
    unknown = ~(record | message)
    if np.any(unknown):
        raise _malformed(path, buf, starts, ends, int(np.argmax(unknown)), "unknown record")

    rec = np.flatnonzero(record)
    rec_start, rec_end = starts[rec] + 3, ends[rec]
    commas = np.flatnonzero(buf == ord(","))
    comma_line = np.searchsorted(starts, commas, side="right") - 1
    in_line = (comma_line >= 0) & (commas < ends[np.maximum(comma_line, 0)]) if complete else comma_line >= 0
    commas, comma_line = commas[in_line], comma_line[in_line]
    per_line = np.bincount(comma_line, minlength=complete)
    one_comma = per_line[rec] == 1
    if not np.all(one_comma):
        raise _malformed(path, buf, starts, ends, int(rec[np.argmin(one_comma)]), "one comma between ADDR and SIZE")
    comma_of_line = np.zeros(complete, dtype=np.int64)
    comma_of_line[comma_line] = commas  # lines with several commas are not records (checked above)
    rec_comma = comma_of_line[rec]
    address, bad_address = _parse_digits(padded, rec_start, rec_comma, _HEX, 16, MAX_ADDRESS_DIGITS)
    if np.any(bad_address):
        raise _malformed(path, buf, starts, ends, int(rec[np.argmax(bad_address)]), "ADDR is not hexadecimal")
    size, bad_size = _parse_digits(padded, rec_comma + 1, rec_end, _DEC, 10, MAX_SIZE_DIGITS)
    bad_size |= size < 1
    if np.any(bad_size):
        raise _malformed(path, buf, starts, ends, int(rec[np.argmax(bad_size)]), "SIZE is not a decimal >= 1")
    kind = np.where(instr[rec], INSTR, data_kind[rec]).astype(np.uint8)
    return LackeyTrace(
        path=path,
        kind=kind,
        address=address,
        size=size,
        valgrind_messages=int(np.count_nonzero(message)),
        skipped_lines=skipped,
        truncated=bool(cut or tail > 0),
    )


def _expand(address: np.ndarray, size: np.ndarray, is_write: np.ndarray, line_bytes: int) -> LineStream:
    """One access per line that ``[address, address + size)`` touches, in address order."""
    shift = line_bytes.bit_length() - 1
    first = address >> shift
    last = (address + size - 1) >> shift
    count = last - first + 1
    owner = np.repeat(np.arange(first.shape[0]), count)
    offset = np.arange(owner.shape[0]) - np.repeat(np.cumsum(count) - count, count)
    return LineStream(line=(first[owner] + offset).astype(np.int64), is_write=is_write[owner].copy())


def line_accesses(trace: LackeyTrace, line_bytes: int = 64) -> CacheStreams:
    """The line accesses of ``trace`` for an L1-I and an L1-D with ``line_bytes`` lines.

    Instruction fetches go to the L1-I, loads, stores and modifies to the L1-D. A modify becomes a load
    followed by a store to the same address; an access that spans two (or more) lines becomes one access per
    line, in address order (the load part of a modify on every line it touches, then its store part).

    Raises:
        ValueError: ``line_bytes`` is not a power of two >= 1.
    """
    if isinstance(line_bytes, bool) or not isinstance(line_bytes, int | np.integer) or line_bytes < 1 or (
        line_bytes & (line_bytes - 1)
    ):  # fmt: skip
        raise ValueError(f"line_bytes={line_bytes!r} is not a power of two; allowed: 1, 2, 4, ..., 64, 128, ...")
    line_bytes = int(line_bytes)
    fetch = trace.kind == INSTR
    l1i = _expand(trace.address[fetch], trace.size[fetch], np.zeros(int(fetch.sum()), dtype=bool), line_bytes)
    data = ~fetch
    kind, address, size = trace.kind[data], trace.address[data], trace.size[data]
    parts = np.where(kind == MODIFY, 2, 1)
    owner = np.repeat(np.arange(kind.shape[0]), parts)
    second = np.arange(owner.shape[0]) - np.repeat(np.cumsum(parts) - parts, parts) == 1
    owner_kind = kind[owner]
    is_write = (owner_kind == STORE) | ((owner_kind == MODIFY) & second)
    l1d = _expand(address[owner], size[owner], is_write, line_bytes)
    return CacheStreams(l1i=l1i, l1d=l1d, line_bytes=line_bytes)


__all__ = [
    "ALLOWED_FORMS",
    "INSTR",
    "KIND_NAMES",
    "LOAD",
    "MODIFY",
    "STORE",
    "CacheStreams",
    "LackeyTrace",
    "LineStream",
    "line_accesses",
    "read",
]
