"""Bad command lines and bad files for every verb of ``hwcost``, as hypothesis strategies, and the check that
each is refused the way the error boundary promises.

The verbs come from the parser itself (:func:`hwcost.cli.build_parser`), and what is generated for a verb
comes from its arguments: an ``int`` or ``float`` option gets text that is not a number, NaN and infinities,
negative numbers; an option that takes a value gets the empty string; an option whose metavar reads
``NAME=VALUE`` gets malformed assignments, unknown names and bad values for known names; a name option
(:data:`NAME_DESTS`) gets names no registry knows; a file option (:data:`FILE_KINDS`) gets damaged files; a
flag gets an explicit value; a required argument is left out; both halves of a mutually exclusive group are
given; and every verb gets unknown flags and stray arguments. (Policy: no ``int`` or ``float`` option of any
verb accepts a negative number, NaN or an infinity.) A new verb is fuzzed without editing this module; the tables below
only make its cases sharper (a valid value for a required argument, known keys for an assignment).

Every case is a command line that must be refused before any work starts (:func:`check_case`): exit status
2, exactly one non-empty line on stderr, of the form ``hwcost[ VERB]: error: ...``, no traceback, MNIST
never loaded, and nothing written in the case's working folder outside ``out/``. argparse's own usage
errors are one line too: :class:`hwcost.cli.OneLineParser` prints ``PROG: error: MESSAGE (see PROG --help)``
without the usage block.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import io
import json
import os
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from hypothesis import strategies as st

from hwcost import cli

# --- what the suite knows about option names (never about verbs) -------------------------------------------
VALID: dict[str, str] = {"hardware": "eie", "dir": "rep", "weights": "w.npy", "activations": "a.npy"}
"""A valid value for a required argument, by ``dest`` (files are written by :func:`write_base_files`);
anything else required gets ``x``."""
ANCHORS: dict[str, str] = {"out": "out", "model": "lenet300", "weights": "w.npy", "activations": "a.npy"}
"""Options given on every command line of a verb that has them: ``--out out`` keeps every write of the case
inside ``out/``; ``--model`` is required by some verbs; ``--weights`` / ``--activations`` are the input of
``hwcost simulate`` (``--layer`` or ``--list-layers`` replace them on a convolution accelerator)."""
NAME_DESTS: frozenset[str] = frozenset({"model", "hardware", "objective", "pipeline", "layer"})
"""Options whose value is one of a set of names (unknown names must be refused)."""
FILE_KINDS: dict[str, str] = {"weights": "npy", "activations": "npy", "evaluate": "hwdc", "dir": "report_dir"}
"""Options that name a file (or folder), by ``dest``, and which kind of bad file to give them."""
OUT_DESTS: frozenset[str] = frozenset({"out"})
"""Options naming an output folder (an existing file there must be refused)."""


def _known_keys() -> dict[str, tuple[str, ...]]:
    from compress.deep_compression import CONFIGS
    from hwcost.registry import cost_model

    hw = cost_model(VALID["hardware"]).default_hardware
    hw_fields = tuple(f.name for f in dataclasses.fields(hw) if not f.metadata.get("static")
                      and not dataclasses.is_dataclass(getattr(hw, f.name)))  # fmt: skip
    layers = tuple(CONFIGS[ANCHORS["model"]].densities)
    return {"hw": hw_fields, "density": layers, "bits": layers, "groups": layers}


def _known_names() -> frozenset[str]:
    from compress.pipelines import PIPELINES
    from hwcost.cli.train import model_names
    from hwcost.registry import names
    from hwcost.types import OBJECTIVES

    return frozenset({*names(), *PIPELINES, *model_names(), *OBJECTIVES})


@dataclasses.dataclass
class Case:
    """One generated command line: ``argv`` (without the program name) run in a fresh folder holding
    ``files`` (relative path -> bytes) and ``dirs``; ``kind`` says what is wrong with it."""

    verb: str
    kind: str
    argv: list[str]
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)
    dirs: list[str] = dataclasses.field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        """JSON-able summary (file contents shortened to their size and first bytes)."""
        files = {k: f"{len(v)} bytes, starts {v[:24]!r}" for k, v in self.files.items()}
        return {"verb": self.verb, "kind": self.kind, "argv": self.argv, "files": files, "dirs": self.dirs}


# --- the parser, introspected ----------------------------------------------------------------------------
def verb_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every verb of the command line and its parser, from :func:`hwcost.cli.build_parser`."""
    parser = cli.build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("hwcost.cli.build_parser() has no sub-parsers")


def _arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0


def _flag(action: argparse.Action) -> str:
    return max(action.option_strings, key=len)


class Base:
    """The valid-looking command line of a verb that a case then breaks in one place."""

    def __init__(self, verb: str, parser: argparse.ArgumentParser) -> None:
        self.verb = verb
        self.parser = parser
        self.positionals: list[tuple[argparse.Action, str]] = []
        self.options: dict[str, list[str]] = {}
        for action in _arguments(parser):
            if not action.option_strings:
                self.positionals.append((action, VALID.get(action.dest, "x")))
            elif action.required:
                self.options[_flag(action)] = [VALID.get(action.dest, "x")]
            elif action.dest in ANCHORS:
                self.options[_flag(action)] = [ANCHORS[action.dest]]

    def argv(self, *, positionals: dict[int, str | None] | None = None,
             options: dict[str, list[str] | None] | None = None, extra: tuple[str, ...] = ()) -> list[str]:  # fmt: skip
        """The command line with positional ``i`` replaced (``None``: left out) and options replaced or left
        out; an option value ``[v]`` is passed as ``--flag=v`` (so that ``-inf`` stays a value)."""
        positionals = positionals or {}
        opts = {**self.options, **(options or {})}
        argv = [self.verb]
        for i, (_, value) in enumerate(self.positionals):
            value = positionals.get(i, value)
            if value is not None:
                argv.append(value)
        for flag, values in opts.items():
            if values is None:
                continue
            if len(values) == 1:
                argv.append(f"{flag}={values[0]}")
            else:
                argv += [flag, *values]
        return [*argv, *extra]


# --- bad values --------------------------------------------------------------------------------------------
def _fails(cast: Callable[[str], Any]) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            cast(text)
        except (ValueError, OverflowError):
            return True
        return False

    return check


_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
NOT_A_NUMBER = st.one_of(  # never "--": argparse reads "--opt=--" of a nargs="*" option as no value
    st.sampled_from(["", " ", "abc", "1e", "0x10", "1,5", "-", "1.2.3", "one", "e5", "+-1"]),
    _TEXT.filter(_fails(float)),
).filter(lambda s: s.strip() != "--")
NON_FINITE = st.sampled_from(["nan", "NaN", "-nan", "inf", "+inf", "-inf", "Infinity", "-Infinity", "1e999"])
NEGATIVE_INT = st.integers(max_value=-1).map(str)
NEGATIVE_FLOAT = st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=False).map(repr)
NOT_AN_INT = st.one_of(NOT_A_NUMBER, NON_FINITE, st.sampled_from(["1.5", "2e3", "0.0", "-0.5"]))


def bad_number(action: argparse.Action) -> st.SearchStrategy[str]:
    """Values an ``int`` or ``float`` option must refuse."""
    if action.type is int:
        return st.one_of(NOT_AN_INT, NEGATIVE_INT)
    return st.one_of(NOT_A_NUMBER, NON_FINITE, NEGATIVE_FLOAT, NEGATIVE_INT)


def unknown_name() -> st.SearchStrategy[str]:
    """Names that no model, hardware, objective or pipeline has (near misses included)."""
    known = _known_names()
    near = st.sampled_from(sorted(known)).flatmap(
        lambda n: st.sampled_from([n.upper(), f" {n}", f"{n} ", n[:-1], f"{n}x", f"{n}\n", n.replace("e", "3")])
    )
    return st.one_of(near, st.just(""), _TEXT).filter(lambda n: n not in known)


GRANULARITIES = ("vector", "kernel", "filter", "channel")


def _not_granularities(value: str) -> bool:
    """``value`` names something that is not a granularity (``ip1=`` and ``ip1=filter,channel`` are valid)."""
    return any(g.strip() not in GRANULARITIES for g in value.split(",") if g.strip())


def bad_assignment(dest: str) -> st.SearchStrategy[str]:
    """``NAME=VALUE`` items an assignment option must refuse: malformed, unknown names, bad values."""
    keys = _known_keys().get(dest, ())
    malformed = st.one_of(
        st.sampled_from(["", "=", "=1", "noequals", "==", " =0.5"]), _TEXT.filter(lambda s: "=" not in s)
    )
    unknown = st.tuples(st.sampled_from(["zz9", "IP1", "conv9", "num_pe", "unknown"]), st.sampled_from(["1", "4"]))
    strategies = [malformed, unknown.map("=".join)]
    if keys:
        if dest == "groups":
            values = st.one_of(st.sampled_from(["element", "nan", "-1", "channel,zz", "Filter"]), _TEXT).filter(
                _not_granularities
            )
        elif dest == "bits":
            values = st.one_of(NOT_AN_INT, NEGATIVE_INT, st.just("0"))
        elif dest == "density":
            values = st.one_of(
                NOT_A_NUMBER, NON_FINITE, NEGATIVE_FLOAT, st.just("0"),
                st.floats(min_value=1.0001, max_value=1e300).map(repr),
            )  # fmt: skip
        else:
            values = st.one_of(NOT_A_NUMBER, NON_FINITE, NEGATIVE_FLOAT, NEGATIVE_INT)
        strategies.append(st.tuples(st.sampled_from(keys), values).map("=".join))
    return st.one_of(strategies)


# --- bad files ---------------------------------------------------------------------------------------------
def _npy(array: np.ndarray, *, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


BASE_WEIGHTS = np.array([[0, 1.5, 0, 0, -2, 0], [0, 0, 0, 0.5, 0, 0], [1, 0, 0, 0, 0, 3], [0, 0, 2, 0, 0, 0]], "f4")
BASE_ACTIVATIONS = np.array([1, 0, 0.5, 2, 0, 1], "f4")


def write_base_files() -> dict[str, bytes]:
    """The valid files every case starts from: a 4 x 6 layer and a valid ``hwcost train`` report."""
    from tests.fuzz.reports import VALID_REPORT

    return {
        VALID["weights"]: _npy(BASE_WEIGHTS),
        VALID["activations"]: _npy(BASE_ACTIVATIONS),
        f"{VALID['dir']}/report.json": json.dumps(VALID_REPORT).encode(),
    }


_BAD_DTYPE_ARRAYS: list[Callable[[tuple[int, ...]], np.ndarray]] = [
    lambda s: np.ones(s, np.complex64) * 1j,
    lambda s: np.ones(s, np.complex128),
    lambda s: np.ones(s, "m8[s]"),
    lambda s: np.ones(s, "M8[D]"),
    lambda s: np.full(s, "1", "U3"),
    lambda s: np.full(s, b"1", "S2"),
    lambda s: np.zeros(s, [("a", "f4"), ("b", "i4")]),
    lambda s: np.zeros(s, "V4"),
]


def bad_npy(dest: str) -> st.SearchStrategy[tuple[bytes | None, str]]:
    """(content, what) of a ``.npy`` argument that must be refused; content ``None`` is a folder."""
    shape = BASE_WEIGHTS.shape if dest == "weights" else BASE_ACTIVATIONS.shape
    good = _npy(BASE_WEIGHTS if dest == "weights" else BASE_ACTIVATIONS)
    wrong_ndim = [(), (2, 2, 6)] + ([(6,)] if dest == "weights" else [(1, 6)])
    wrong_size = [(4, 5), (4, 7), (0, 6), (4, 0)] if dest == "weights" else [(5,), (7,), (0,)]
    return st.one_of(
        st.binary(max_size=300).map(lambda b: (b, "random bytes")),
        st.integers(0, len(good) - 1).map(lambda n: (good[:n], "truncated .npy")),
        st.binary(min_size=1, max_size=40).map(lambda b: (good[:10] + b, "damaged .npy header")),
        _TEXT.map(lambda t: (t.encode(), "text named .npy")),
        st.just((json.dumps([[1, 2], [3, 4]]).encode(), "JSON named .npy")),
        st.just((b"PK\x03\x04" + b"\0" * 30, "zip (.npz) named .npy")),
        st.just((_npy(np.array([{"a": 1}] * shape[-1], dtype=object), allow_pickle=True), "object array (pickle)")),
        st.sampled_from(_BAD_DTYPE_ARRAYS).map(lambda f: (_npy(f(shape)), f"dtype {f(shape).dtype}")),
        st.sampled_from(wrong_ndim).map(lambda s: (_npy(np.ones(s, "f4")), f"shape {s}")),
        st.sampled_from(wrong_size).map(lambda s: (_npy(np.ones(s, "f4")), f"shape {s}")),
        st.sampled_from([np.nan, np.inf, -np.inf]).map(
            lambda v: (_npy(np.where(np.arange(np.prod(shape)).reshape(shape) == 1, v, 1.0)), f"holds {v}")
        ),
        st.just((None, "a folder")),
    )


@functools.cache
def valid_hwdc(model: str = "lenet300") -> bytes:
    """A well-formed compressed ``model`` (random sparse 4-bit codes, every layer of the right shape)."""
    from compress.encoding import encode_layer
    from compress.export import to_bytes
    from compress.sharing import SharedLayer
    from models.lenet import layer_specs

    rng = np.random.default_rng(0)
    layers = []
    for spec in layer_specs(model):
        codes = np.where(rng.random(spec.kernel_shape) < 0.05, rng.integers(1, 16, spec.kernel_shape), 0)
        shared = SharedLayer(np.linspace(-1, 1, 15, dtype=np.float32), codes.astype(np.int32), 4)
        layers.append(encode_layer(spec.name, shared, 4, bias=np.zeros(spec.kernel_shape[-1], np.float32)))
    return to_bytes(model, layers)


def _split_hwdc(raw: bytes) -> tuple[dict[str, Any], bytes]:
    from compress.export import MAGIC

    size = int.from_bytes(raw[len(MAGIC) : len(MAGIC) + 4], "little")
    header = json.loads(raw[len(MAGIC) + 4 : len(MAGIC) + 4 + size])
    return header, raw[len(MAGIC) + 4 + size + 4 :]


def _join_hwdc(header: Any, payload: bytes) -> bytes:
    import zlib

    from compress.export import MAGIC

    text = json.dumps(header).encode()
    return MAGIC + len(text).to_bytes(4, "little") + text + zlib.crc32(payload).to_bytes(4, "little") + payload


_HEADER_VALUES = st.one_of(
    st.sampled_from([None, True, -1, 0, 10**6, 2**40, -(2**40), 1.5, "4", "x", [], [1], {}, [784, 300], [3, 3, 1]]),
    st.integers(-100, 100),
)


def edited_hwdc() -> st.SearchStrategy[tuple[bytes, str]]:
    """(content, what) of a well-formed compressed model edited so that it must be refused: cut short, bytes
    flipped, one header field (model, format or a layer's field) given a wrong value with the checksum
    recomputed, a layer dropped, the layer list replaced, or another model's name on it."""
    from compress.export import _HEADER_KEYS

    raw = valid_hwdc()
    header, payload = _split_hwdc(raw)

    def set_field(layer: int, key: str, value: Any) -> tuple[bytes, str]:
        h = json.loads(json.dumps(header))
        h["layers"][layer][key] = value
        return _join_hwdc(h, payload), f"layer field {key}={value!r:.20}"

    def set_top(key: str, value: Any) -> tuple[bytes, str]:
        h = json.loads(json.dumps(header))
        h[key] = value
        return _join_hwdc(h, payload), f"header {key}={value!r:.20}"

    def drop_layer(layer: int) -> tuple[bytes, str]:
        h = json.loads(json.dumps(header))
        del h["layers"][layer]
        return _join_hwdc(h, payload), f"layer {layer} dropped"

    def flip(t: tuple[int, int]) -> tuple[bytes, str]:
        pos, bit = t
        b = bytearray(raw)
        b[pos] ^= 1 << bit
        return bytes(b), "one bit flipped"

    n_layers = len(header["layers"])
    changed = st.one_of(
        st.tuples(st.integers(0, n_layers - 1), st.sampled_from(_HEADER_KEYS), _HEADER_VALUES)
        .filter(lambda t: header["layers"][t[0]][t[1]] != t[2])
        .map(lambda t: set_field(*t)),
        st.tuples(st.sampled_from(["model", "format", "layers"]), _HEADER_VALUES | unknown_name())
        .filter(lambda t: header[t[0]] != t[1])
        .map(lambda t: set_top(*t)),
        st.just(set_top("model", "lenet5")),
        st.integers(0, n_layers - 1).map(drop_layer),
    )
    return st.one_of(
        st.integers(0, len(raw) - 1).map(lambda n: (raw[:n], "truncated model")),
        st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 7)).map(flip),
        st.binary(min_size=1, max_size=16).map(lambda b: (raw + b, "trailing bytes")),
        changed,
    )


def bad_hwdc() -> st.SearchStrategy[tuple[bytes | None, str]]:
    """(content, what) of a compressed model file (``--evaluate``) that must be refused."""
    from compress.export import MAGIC

    header = st.binary(max_size=200).map(lambda b: MAGIC + len(b).to_bytes(4, "little") + b)
    json_header = st.dictionaries(st.text(max_size=5), st.integers(), max_size=3).map(
        lambda d: MAGIC + len(json.dumps(d)).to_bytes(4, "little") + json.dumps(d).encode() + b"\0\0\0\0"
    )
    return st.one_of(
        st.binary(max_size=300).map(lambda b: (b, "random bytes")),
        st.binary(max_size=300).map(lambda b: (MAGIC + b, "magic then random bytes")),
        header.map(lambda b: (b, "random header")),
        json_header.map(lambda b: (b, "JSON header, no payload")),
        st.integers(0, len(MAGIC)).map(lambda n: (MAGIC[:n], "truncated magic")),
        st.just((None, "a folder")),
        edited_hwdc(),
    )


def bad_report_dir() -> st.SearchStrategy[tuple[dict[str, bytes | None], str]]:
    """(files of the report folder, what) that ``hwcost report`` must refuse."""
    from tests.fuzz.reports import VALID_REPORT, broken_reports, json_values

    good = json.dumps(VALID_REPORT).encode()

    def one(content: bytes | None, what: str) -> tuple[dict[str, bytes | None], str]:
        return {"report.json": content}, what

    return st.one_of(
        st.binary(max_size=200).filter(lambda b: b.strip() != b"").map(lambda b: one(b, "random bytes")),
        st.integers(0, len(good) - 1).map(lambda n: one(good[:n], "truncated report")),
        json_values().map(lambda v: one(json.dumps(v).encode(), "JSON that is not a report")),
        broken_reports().map(lambda v: one(json.dumps(v).encode(), "report with a missing or mistyped key")),
        st.just(({"report.json": None}, "report.json is a folder")),
        st.just(({}, "no report.json")),
        st.just(({"other.json": good}, "report under another name")),
    )


# --- cases of one verb -------------------------------------------------------------------------------------
def verb_cases(verb: str, parser: argparse.ArgumentParser) -> st.SearchStrategy[Case]:
    """Every kind of bad command line that the arguments of ``verb`` allow."""
    base = Base(verb, parser)
    flags = {s for a in _arguments(parser) for s in a.option_strings}
    kinds: list[st.SearchStrategy[Case]] = []

    def case(kind: str, argv: list[str], files: dict[str, bytes] | None = None, dirs: list[str] | None = None):
        return Case(verb, kind, argv, files or {}, dirs or [])

    unknown_flag = st.from_regex(r"\A--zz[a-z-]{0,10}\Z").filter(lambda f: not any(s.startswith(f) for s in flags))
    kinds.append(
        st.tuples(unknown_flag, st.sampled_from([[], ["1"], ["x"]])).map(
            lambda t: case("unknown flag", base.argv(extra=(t[0], *t[1])))
        )
    )
    stray = _TEXT.filter(lambda s: not s.startswith("-")).map(lambda t: t or "stray")
    kinds.append(stray.map(lambda t: case("stray argument", base.argv(extra=(t,)))))
    for i, (action, _) in enumerate(base.positionals):
        kinds.append(st.just(case(f"missing {action.dest}", base.argv(positionals={i: None}))))
    for action in _arguments(parser):
        flag = _flag(action) if action.option_strings else None
        if flag and action.required:
            kinds.append(st.just(case(f"missing {flag}", base.argv(options={flag: None}))))
        if flag and not _takes_value(action):
            kinds.append(st.sampled_from(["1", "", "yes"]).map(
                lambda v, f=flag: case(f"{f} given a value", base.argv(options={f: [v]}))))  # fmt: skip
            continue
        kinds += _value_cases(base, action, case)
    for group in parser._mutually_exclusive_groups:
        members = group._group_actions
        if len(members) >= 2:
            opts = {_flag(a): [_valid_number(a)] for a in members[:2]}
            kinds.append(st.just(case("mutually exclusive options", base.argv(options=opts))))
    return st.one_of(kinds)


def _valid_number(action: argparse.Action) -> str:
    return "1" if action.type is int else "0.5"


def _value_cases(base: Base, action: argparse.Action, case: Callable[..., Case]) -> list[st.SearchStrategy[Case]]:
    dest = action.dest
    where = _flag(action) if action.option_strings else dest
    index = next((i for i, (a, _) in enumerate(base.positionals) if a is action), None)

    def put(value: str) -> list[str]:
        if index is not None:
            return base.argv(positionals={index: value})
        return base.argv(options={where: [value]})

    out: list[st.SearchStrategy[Case]] = [st.just(case(f"{where} empty", put("")))]
    if action.type in (int, float):
        out.append(bad_number(action).map(lambda v: case(f"{where} bad number", put(v))))
    if dest in NAME_DESTS:
        out.append(unknown_name().map(lambda v: case(f"{where} unknown name", put(v))))
    if action.metavar and "=" in str(action.metavar):
        out.append(bad_assignment(dest).map(lambda v: case(f"{where} bad assignment", put(v))))
    if dest in OUT_DESTS:
        out.append(st.just(case(f"{where} is a file", put("taken"), files={"taken": b"not a folder"})))
    kind = FILE_KINDS.get(dest)

    def file_case(name: str) -> Callable[[tuple[bytes | None, str]], Case]:
        def build(content_what: tuple[bytes | None, str]) -> Case:
            content, what = content_what
            if content is None:  # a folder where the file should be
                return case(f"{where} {what}", put(name), dirs=[name])
            return case(f"{where} {what}", put(name), files={name: content})

        return build

    if kind == "npy":
        out.append(bad_npy(dest).map(file_case("bad.npy")))
        out.append(st.just(case(f"{where} missing file", put("missing.npy"))))
    elif kind == "hwdc":
        out.append(bad_hwdc().map(file_case("bad.hwdc")))
        out.append(st.just(case(f"{where} missing file", put("missing.hwdc"))))
    elif kind == "report_dir":

        def report_case(fw: tuple[dict[str, bytes | None], str]) -> Case:
            files = {f"bad/{k}": v for k, v in fw[0].items() if v is not None}
            dirs = ["bad"] + [f"bad/{k}" for k, v in fw[0].items() if v is None]
            return case(f"{where} {fw[1]}", put("bad"), files, dirs)

        out.append(bad_report_dir().map(report_case))
        out.append(st.just(case(f"{where} is a file", put("afile"), files={"afile": b"{}"})))
        out.append(st.just(case(f"{where} missing", put("missing"))))
    return out


def top_level_cases() -> st.SearchStrategy[Case]:
    """Command lines without a known verb."""
    verbs = set(cli.VERBS)
    unknown = _TEXT.filter(lambda v: v not in verbs and not v.startswith("-"))
    return st.one_of(
        unknown.map(lambda v: Case("", "unknown verb", [v])),
        st.just(Case("", "no verb", [])),
        st.from_regex(r"\A--zz[a-z]{0,8}\Z").map(lambda f: Case("", "unknown flag before the verb", [f, "models"])),
    )


def all_cases() -> st.SearchStrategy[Case]:
    """Cases of every verb (and of no verb), the verb drawn first so each gets its share."""
    parsers = verb_parsers()
    per_verb = {verb: verb_cases(verb, p) for verb, p in parsers.items()}
    return st.sampled_from([*sorted(per_verb), ""]).flatmap(lambda v: per_verb[v] if v else top_level_cases())


# --- running one case ----------------------------------------------------------------------------------------
class ReachedWork(BaseException):
    """Raised where a verb would start real work (loading MNIST): the case should have been refused first.
    A ``BaseException`` so that no ``except Exception`` on the way can swallow it."""


@dataclasses.dataclass
class Outcome:
    """What running a case did: exit status (``None`` if an exception escaped), stdout, stderr, the escaped
    exception's traceback, and the files that appeared, changed or vanished in the case's folder."""

    status: int | None
    stdout: str
    stderr: str
    escaped: str | None
    changed: list[str]


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath) / name
            st_ = p.lstat()
            out[str(p.relative_to(root))] = (st_.st_size, st_.st_mtime_ns)
    return out


@contextlib.contextmanager
def no_real_work() -> Iterator[None]:
    """Make loading MNIST (where training and evaluation start) raise :class:`ReachedWork`."""

    def refuse(*_: Any, **__: Any) -> Any:
        raise ReachedWork("reached load_mnist: the command line should have been refused before any work")

    with mock.patch("models.datasets.load_mnist", refuse):
        yield


def run_case(case: Case, folder: Path) -> Outcome:
    """Write the case's files into the empty ``folder``, run ``hwcost.cli.main(argv)`` there in-process and
    return what happened. The working folder is restored afterwards."""
    for rel, content in {**write_base_files(), **case.files}.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    for rel in case.dirs:
        (folder / rel).mkdir(parents=True, exist_ok=True)
    before = _listing(folder)
    out, err = io.StringIO(), io.StringIO()
    status: int | None = None
    escaped = None
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with no_real_work(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(list(case.argv))
            except SystemExit as stop:
                status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except (Exception, ReachedWork) as exc:  # recorded and reported as a failure
        escaped = "".join(traceback.format_exception(exc))
    finally:
        os.chdir(cwd)
    after = _listing(folder)
    changed = sorted(k for k in {*before, *after} if before.get(k) != after.get(k) and not _inside_out(k))
    return Outcome(status, out.getvalue(), err.getvalue(), escaped, changed)


def _inside_out(rel: str) -> bool:
    return rel == ANCHORS["out"] or rel.startswith(ANCHORS["out"] + os.sep)


def problems(case: Case, outcome: Outcome) -> list[str]:
    """Everything the outcome does wrong (empty if the case was refused as promised)."""
    found = []
    if outcome.escaped is not None:
        found.append(f"exception escaped: {outcome.escaped.strip().splitlines()[-1]}")
    if outcome.status != 2:
        found.append(f"exit status {outcome.status}, expected 2")
    lines = outcome.stderr.splitlines()
    if len(lines) != 1 or not lines[0].strip():
        found.append(f"stderr has {len(lines)} lines, expected exactly one: {outcome.stderr[:300]!r}")
    elif not lines[0].startswith(("hwcost: error: ", f"hwcost {case.verb}: error: ")):
        found.append(f"stderr line is not 'hwcost[ VERB]: error: ...': {lines[0][:200]!r}")
    if "Traceback" in outcome.stderr:
        found.append("traceback on stderr")
    if outcome.changed:
        found.append(f"wrote outside out/: {outcome.changed[:5]}")
    return found


def check_case(case: Case, folder: Path) -> None:
    """Run the case in ``folder`` and fail with every problem found."""
    outcome = run_case(case, folder)
    found = problems(case, outcome)
    assert not found, f"{case.describe()}: {found}; stderr={outcome.stderr!r}; {outcome.escaped or ''}"


__all__ = ["Case", "all_cases", "check_case", "problems", "run_case", "top_level_cases", "verb_cases"]
