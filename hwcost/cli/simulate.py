"""``hwcost simulate HARDWARE``: the reference simulator and the cost model on the user's own layer.

Usage::

    hwcost simulate eie --weights W.npy --activations a.npy [--hw num_pes=64 --hw fifo_depth=8] [--json]
    hwcost simulate scnn|dcnn|dcnn-opt --weights W.npy --activations A.npy [--stride S --padding P]
                    [--output-density D] [--hw FIELD=VALUE ...] [--json]
    hwcost simulate scnn|dcnn|dcnn-opt --layer NETWORK/LAYER [--weight-density D --activation-density A]
                    [--output-density D] [--seed S] [--json]
    hwcost simulate scnn --list-layers
    hwcost simulate ese --weights LSTMP.npz|FOLDER [--frames N] [--seed S] [--hw FIELD=VALUE ...] [--json]
    hwcost simulate cache --trace FILE [--size-kb 32 --ways 4 --line 64] [--holiswap --epoch E --threshold T]
                    [--seed S] [--json]
    hwcost simulate cpu --trace FILE --core inorder|ooo|cgooo [--hw FIELD=VALUE ...] [--json]

EIE: ``W.npy`` holds the weight matrix, shape ``(out_features, in_features)`` (rows are outputs,
``y = W a``); ``a.npy`` the input activation vector, shape ``(in_features,)``. The convolution accelerators
(SCNN and its dense baselines DCNN, DCNN-opt): ``W.npy`` holds the weights ``(K, C, R, S)``, ``A.npy`` the
input activations ``(C, H, W)`` before padding, and ``--stride`` / ``--padding`` (default 1 and 0) and
``--output-density`` (the fraction of nonzero outputs after ReLU, default 1) complete the layer; or
``--layer`` takes the shape of a published layer (``googlenet/inception_3a/3x3``; ``--list-layers`` prints
them) with random tensors of the given densities (default: the layer's published densities, SCNN Fig. 1)
drawn with ``--seed``. Zeros are pruned weights / zero activations. ``--hw FIELD=VALUE`` replaces a field of
the model's paper-default hardware. Both sides are reported (:mod:`hwcost.experiments.single_layer`):
cycles, time (us at the model's clock), energy (uJ), the simulator's other quantities (SCNN: compute and
DRAM cycles, bank-conflict stalls, barrier idle cycles, multiplier utilisation, halo values) and the
per-action breakdown, the simulator's exact counts priced with the model's energies.

ESE (an LSTM with a projection, LSTMP, :mod:`hwcost.experiments.ese_validation`): ``--weights`` is one
``.npz`` file (``numpy.savez``) or a folder of ``.npy`` files holding the five matrices in hardware
orientation (rows are outputs), named as :func:`models.lstm.gate_matrices` names them: ``gate_i``,
``gate_f``, ``gate_g``, ``gate_o``, each ``(cells, inputs + projection)`` over ``[x_t; y_{t-1}]``, and
``projection``, ``(projection, cells)`` (a plain LSTM without a projection is not an ESE workload). The
utterance has ``--frames`` frames (default 8) of standard normal inputs ``x_t`` and a standard normal
``y_{-1}``, drawn with ``--seed`` (default 0). ``--hw num_pes=N`` must divide the cells and the projection.
The summary adds ``latency_us_per_frame``, ``pe_utilisation``, ``sparse_gops`` and
``dense_equivalent_tops`` (``num_channels`` channels each running one utterance) to cycles, time and energy
(the utterance's share of the board power).

Cache (an L1-I and an L1-D on a memory trace, :mod:`hwcost.experiments.cache_simulation`): ``--trace`` is the
output of ``valgrind --tool=lackey --trace-mem=yes`` (plain or ``.gz``); a truncated trace is read up to its
last complete line and the skipped lines are reported. Both caches (default 32 KB, 4-way, 64-byte lines, LRU,
write-allocate, write-back, each way its own subarray at its own wire distance) run as they are and, with
``--holiswap``, with hot-line swapping into the nearest way (epoch ``--epoch`` set accesses, default 128; a
line hot at ``--threshold`` hits, default 64; ``--seed`` seeds the logarithmic counters). Reported per cache:
accesses, hits, misses, hits per physical way, swaps and swap stall cycles, the wire energy per way and in
all, and with ``--holiswap`` the baseline's wire energy and the saving.
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

import numpy as np

from hwcost.cli.output import format_table, parse_assignments, print_json
from hwcost.cli.simulate_cpu import CPU, add_cpu_arguments, run_cpu
from hwcost.errors import UsageError

HELP = (
    "Simulate one layer on an accelerator (reference simulator and cost model side by side), or an L1 cache on a "
    "memory trace."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``hwcost simulate``."""
    parser.add_argument("hardware", help="cost model with a reference simulator (eie, ese, scnn, dcnn, dcnn-opt), "
                        "cache: an L1-I and L1-D on a lackey memory trace, or cpu: a core on an RV64IM program "
                        "(hwcost.cli.simulate_cpu)")  # fmt: skip
    source = parser.add_mutually_exclusive_group()  # one of them is required (checked in run)
    source.add_argument("--weights", help="weights (.npy): eie (out_features, in_features); convolution (K, C, R, S); "
                        "ese: an .npz or a folder of .npy files with gate_i, gate_f, gate_g, gate_o (cells, inputs + "
                        "projection) and projection (projection, cells)")  # fmt: skip
    source.add_argument("--layer", metavar="NETWORK/LAYER",
                        help="convolution: random tensors on a published layer shape (see --list-layers)")  # fmt: skip
    source.add_argument("--list-layers", action="store_true", help="print the published layer names and exit")
    parser.add_argument("--activations", help="input activations (.npy): eie (in_features,); convolution (C, H, W)")
    parser.add_argument("--stride", type=int, default=None, help="convolution with --weights: stride (default 1)")
    parser.add_argument("--padding", type=int, default=None, help="convolution with --weights: padding (default 0)")
    parser.add_argument("--output-density", type=float, default=None,
                        help="convolution: nonzero output fraction in [0, 1] (default 1, or the layer's)")  # fmt: skip
    parser.add_argument("--weight-density", type=float, default=None,
                        help="with --layer: weight density in [0, 1] (default: the published one)")  # fmt: skip
    parser.add_argument("--activation-density", type=float, default=None,
                        help="with --layer: input density in [0, 1] (default: the published one)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=None,
                        help="with --layer: seed of the random tensors; ese: of the random inputs; cache: of the "
                        "logarithmic hit counters (>= 0)")  # fmt: skip
    parser.add_argument("--frames", type=int, default=None,
                        help=f"ese: frames of the utterance, 1..{MAX_FRAMES} (default {ESE_FRAMES})")  # fmt: skip
    parser.add_argument("--hw", action="append", default=[], metavar="FIELD=VALUE",
                        help="replace a field of the paper-default hardware, e.g. num_pes=8 (repeatable)")  # fmt: skip
    _add_cache_arguments(parser)
    add_cpu_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    _require_an_input(parser)


ESE = "ese"
"""The LSTM engine: its input is a set of named matrices, not one layer (:func:`load_lstm_matrices`)."""
ESE_FRAMES = 8
"""Default frames of ``hwcost simulate ese``."""
MAX_FRAMES = 100_000
"""Most frames ``hwcost simulate ese`` runs."""
ESE_MATRICES = ("gate_i", "gate_f", "gate_g", "gate_o", "projection")
"""The matrix names of ``hwcost simulate ese --weights`` (:func:`models.lstm.gate_matrices`)."""

MISSING_INPUT = (
    "the following arguments are required: --weights, --activations (or, on a convolution accelerator, "
    "--layer NETWORK/LAYER or --list-layers)"
)


MISSING_TRACE = "the following arguments are required with hardware 'cache': --trace (a lackey memory trace)"
MISSING_PROGRAM = ("the following arguments are required with hardware 'cpu': --trace (an RV64IM trace .npz or ELF), "
                   "--core")  # fmt: skip


def _require_an_input(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` refuse a command line without ``--weights``, ``--layer`` or ``--list-layers`` as a usage
    error (one line, exit status 2, :class:`hwcost.cli.OneLineParser`), naming ``--weights, --activations``
    as argparse would name required options; argparse's own "one of the arguments ... is required" of a
    required group would not say that ``--activations`` goes with ``--weights``."""
    parse = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):
        parsed, extras = parse(args, namespace)
        if parsed.hardware in (CACHE, CPU):
            if parsed.trace is None:
                parser.error(MISSING_TRACE if parsed.hardware == CACHE else MISSING_PROGRAM)
        elif parsed.weights is None and parsed.layer is None and not parsed.list_layers:
            parser.error(MISSING_INPUT)
        return parsed, extras

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]


NPY_MAGIC = b"\x93NUMPY"
"""The first bytes of every ``.npy`` file (numpy's format specification)."""
REAL_DTYPE_KINDS = "biuf"
"""``dtype.kind`` of the arrays accepted: bool, signed and unsigned integers, floating point. Complex numbers
(whose imaginary part would be dropped), timedelta and datetime (which numpy counts as integers), strings,
bytes and objects are refused by name."""


def load_array(path: str, name: str) -> np.ndarray:
    """Load a real-valued ``.npy`` array; ``ValueError`` naming ``name`` and the path if it cannot be read,
    is not a ``.npy`` file, or holds anything but bool, integer or floating-point numbers."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{name} file {path!r} not found")
    with file.open("rb") as f:
        head = f.read(len(NPY_MAGIC))
    if head[:4] == b"PK\x03\x04":
        raise UsageError(f"{name} file {path!r} holds several arrays (.npz); allowed: one array in a .npy file")
    if head != NPY_MAGIC:
        raise UsageError(
            f"{name} file {path!r} is not a .npy array file (it does not start with the .npy header); "
            "write it with numpy.save"
        )
    try:
        array = np.load(file, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        reason = "object arrays are not accepted" if "allow_pickle" in str(err) else " ".join(str(err).split())
        raise UsageError(
            f"{name} file {path!r} is not a readable .npy array ({reason}); write it with numpy.save"
        ) from None
    if array.dtype.kind not in REAL_DTYPE_KINDS:
        raise UsageError(
            f"{name} dtype={array.dtype} in {path!r} is not a real number type; allowed: bool, integer, unsigned "
            "or floating point"
        )
    return array


def load_tensor(path: str, name: str, ndim: int, layout: str = "") -> np.ndarray:
    """:func:`load_array`, then ``ndim`` dimensions (``layout`` names them) and finite values."""
    array = load_array(path, name)
    if array.ndim != ndim:
        raise UsageError(
            f"{name} ndim={array.ndim} (shape {array.shape}) in {path!r} must be {ndim}"
            + (f" ({layout})" if layout else "")
        )
    if not np.all(np.isfinite(array)):
        raise UsageError(f"{name} contains nan or inf; allowed: finite numbers")
    return array


CONV_ONLY = ("stride", "padding", "output_density", "weight_density", "activation_density", "seed")
"""Options of the convolution accelerators only."""
LAYER_ONLY = ("weight_density", "activation_density", "seed")
"""Options that go with ``--layer`` (random tensors) only."""
FILES_ONLY = ("stride", "padding", "activations")
"""Options that go with ``--weights`` only (a published layer has its own stride and padding)."""


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _given(args: argparse.Namespace, dests: tuple[str, ...]) -> list[str]:
    return [_flag(d) for d in dests if getattr(args, d) is not None]


def _check_numbers(args: argparse.Namespace) -> None:
    """The numeric options in range, before any file is read."""
    from hwcost.checks import check_fraction

    if args.stride is not None and args.stride < 1:
        raise UsageError(f"stride={args.stride} is outside the allowed range; allowed: an integer >= 1")
    if args.padding is not None and args.padding < 0:
        raise UsageError(f"padding={args.padding} is outside the allowed range; allowed: an integer >= 0")
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"seed={args.seed} is outside the allowed range; allowed: an integer >= 0")
    if args.frames is not None and not 1 <= args.frames <= MAX_FRAMES:
        raise UsageError(f"frames={args.frames} is outside the allowed range; allowed: an integer in [1, {MAX_FRAMES}]")
    for dest in ("output_density", "weight_density", "activation_density"):
        if getattr(args, dest) is not None:
            check_fraction(dest, getattr(args, dest))


def run(args: argparse.Namespace) -> int:
    """Check the options, load (or draw) the layer, run both, print tables (or JSON with ``--json``)."""
    from hwcost.checks import check_choice
    from hwcost.experiments.simulators import SIMULATORS
    from hwcost.experiments.single_layer import CONV_HARDWARE

    check_choice("hardware", args.hardware, tuple(sorted({*SIMULATORS, ESE, CACHE, CPU})))
    if args.hardware == CPU:
        wrong = [w for w in _given(args, CACHE_ONLY) if w != "--trace"] + (["--holiswap"] if args.holiswap else [])
        if wrong:
            raise UsageError(f"{wrong[0]} applies to hardware 'cache', not to hardware='cpu'")
        return run_cpu(args)
    if args.core is not None:
        raise UsageError(f"--core applies to hardware 'cpu' (a core on a program), not to hardware={args.hardware!r}")
    if args.hardware == CACHE:
        return _run_cache(args)
    wrong = _given(args, CACHE_ONLY) + (["--holiswap"] if args.holiswap else [])
    if wrong:
        raise UsageError(f"{wrong[0]} applies to hardware 'cache' (an L1 cache on a lackey trace), not to "
                         f"hardware={args.hardware!r}")  # fmt: skip
    _check_numbers(args)
    if args.hardware == ESE:
        return _run_ese(args)
    if args.frames is not None:
        raise UsageError(f"--frames applies to hardware 'ese' (an LSTM over frames), not to hardware={args.hardware!r}")
    if args.hardware not in CONV_HARDWARE:
        wrong = _given(args, CONV_ONLY) + (["--layer"] if args.layer else []) + (["--list-layers"] * args.list_layers)
        if wrong:
            raise UsageError(
                f"{wrong[0]} applies to the convolution accelerators ({', '.join(CONV_HARDWARE)}), not to "
                f"hardware={args.hardware!r}; give --weights and --activations"
            )
        return _run_eie(args)
    if args.list_layers:
        return _list_layers(args)
    return _run_conv(args)


def _run_eie(args: argparse.Namespace) -> int:
    from hwcost.experiments.single_layer import compare_layer, hardware_with

    if args.activations is None:
        raise UsageError("--activations is missing: give the input activations (.npy) with --weights")
    hw = hardware_with(args.hardware, parse_assignments(args.hw, "hw", float))
    weights = load_tensor(args.weights, "weights", 2)
    activations = load_tensor(args.activations, "activations", 1)
    if activations.shape[0] != weights.shape[1]:
        raise UsageError(
            f"activations length={activations.shape[0]} must equal the weights column count "
            f"{weights.shape[1]} (weights shape {weights.shape} is (out_features, in_features))"
        )
    report = compare_layer(args.hardware, weights, activations, hw)
    if args.json:
        print_json(report)
        return 0
    info = report["layer"]
    print(
        f"{args.hardware}: W {info['out_features']} x {info['in_features']}, weight density "
        f"{info['weight_density']:.4g}, activation density {info['activation_density']:.4g}, {info['clock_mhz']:g} MHz"
    )
    print(format_table(report["summary"], ("quantity", "archsim", "model", "model_over_archsim")))
    _print_breakdown(report)
    return 0


def load_lstm_matrices(path: str) -> dict[str, np.ndarray]:
    """The named matrices of an ``.npz`` file or of a folder of ``.npy`` files (``NAME.npy``), as float64;
    :class:`~hwcost.errors.UsageError` naming the file for one that cannot be read or holds no real numbers.
    Which names are required and how their shapes must agree is checked by
    :func:`hwcost.experiments.ese_validation.check_lstm_matrices`."""
    source = Path(path)
    if source.is_dir():
        files = sorted(source.glob("*.npy"))
        if not files:
            raise UsageError(f"weights folder {path!r} holds no .npy file; allowed: {', '.join(ESE_MATRICES)} as "
                             "NAME.npy (numpy.save), or one .npz file (numpy.savez)")  # fmt: skip
        return {f.stem: load_array(str(f), f.stem).astype(np.float64) for f in files}
    if not source.is_file():
        raise UsageError(f"weights file or folder {path!r} not found")
    with source.open("rb") as f:
        head = f.read(len(NPY_MAGIC))
    if head == NPY_MAGIC:
        raise UsageError(f"weights file {path!r} holds one array (.npy); ese needs {', '.join(ESE_MATRICES)}: give "
                         "an .npz file (numpy.savez) or a folder of NAME.npy files")  # fmt: skip
    if head[:4] != b"PK\x03\x04":
        raise UsageError(f"weights file {path!r} is not an .npz archive (it does not start with the zip header); "
                         "write it with numpy.savez, or give a folder of NAME.npy files")  # fmt: skip
    out: dict[str, np.ndarray] = {}
    try:
        with source.open("rb") as file, np.load(file, allow_pickle=False) as archive:  # closed on every path
            for name in archive.files:
                array = archive[name]
                if array.dtype.kind not in REAL_DTYPE_KINDS:
                    raise UsageError(f"{name} dtype={array.dtype} in {path!r} is not a real number type; allowed: "
                                     "bool, integer, unsigned or floating point")  # fmt: skip
                out[name] = array.astype(np.float64)
    except (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, KeyError) as err:
        raise UsageError(f"weights file {path!r} is not a readable .npz archive ({' '.join(str(err).split())}); "
                         "write it with numpy.savez") from None  # fmt: skip
    except UsageError:
        raise
    except ValueError as err:
        reason = "object arrays are not accepted" if "allow_pickle" in str(err) else " ".join(str(err).split())
        raise UsageError(f"weights file {path!r} is not a readable .npz archive ({reason}); write it with "
                         "numpy.savez") from None  # fmt: skip
    return out


def _run_ese(args: argparse.Namespace) -> int:
    from hwcost.experiments.ese_validation import compare_lstm
    from hwcost.experiments.single_layer import hardware_with

    wrong = [f for f in _given(args, CONV_ONLY) if f != "--seed"] + (["--layer"] if args.layer else []) + (
        ["--list-layers"] * args.list_layers) + (["--activations"] if args.activations is not None else [])  # fmt: skip
    if wrong:
        raise UsageError(f"{wrong[0]} does not apply to hardware='ese': give --weights (the LSTM's matrices) and "
                         "optionally --frames and --seed (the random inputs)")  # fmt: skip
    hw = hardware_with(ESE, parse_assignments(args.hw, "hw", float))
    matrices = load_lstm_matrices(args.weights)
    frames = ESE_FRAMES if args.frames is None else args.frames
    seed = 0 if args.seed is None else args.seed
    report = compare_lstm(matrices, hw, frames=frames, seed=seed, source=args.weights)
    if args.json:
        print_json(report)
        return 0
    info = report["layer"]
    densities = ", ".join(f"{k} {v:.4g}" for k, v in info["densities"].items())
    print(
        f"ese: {args.weights}: {info['inputs']} inputs, {info['cells']} cells, projection {info['projection']}; "
        f"{frames} frames (random inputs, seed {seed}); densities {densities}; balanced_density "
        f"{info['balanced_density']:.3g}; {info['num_pes']} PEs per channel, {info['num_channels']:g} channels, "
        f"{info['clock_mhz']:g} MHz"
    )
    print(info["note"])
    rows = [{k: ("-" if v is None else v) for k, v in row.items()} for row in report["summary"]]
    print(format_table(rows, ("quantity", "archsim", "model", "model_over_archsim", "model_relaxed")))
    print("(model: the hard twin, every relaxation exact; model_relaxed: the differentiable model)")
    _print_breakdown(report)
    return 0


def _list_layers(args: argparse.Namespace) -> int:
    from hwcost.experiments.single_layer import conv_layer_names

    if args.activations is not None or args.hw or _given(args, CONV_ONLY):
        extra = "--activations" if args.activations is not None else (_given(args, CONV_ONLY) or ["--hw"])[0]
        raise UsageError(f"{extra} does not go with --list-layers, which only prints the layer names")
    names = conv_layer_names()
    if args.json:
        print_json(list(names))
    else:
        print("\n".join(names))
    return 0


def _run_conv(args: argparse.Namespace) -> int:
    from hwcost.experiments.single_layer import compare_conv_layer, hardware_with, published_layer

    hw = hardware_with(args.hardware, parse_assignments(args.hw, "hw", float))
    if args.layer is not None:
        wrong = _given(args, FILES_ONLY)
        if wrong:
            raise UsageError(
                f"{wrong[0]} goes with --weights; --layer {args.layer} draws random tensors on the layer's "
                "own shape, stride and padding (set --weight-density / --activation-density / --seed instead)"
            )
        layer = published_layer(args.layer, args.weight_density, args.activation_density, args.output_density,
                                args.seed)  # fmt: skip
        report = compare_conv_layer(
            args.hardware, layer.weights, layer.activations, stride=layer.stride, padding=layer.padding,
            output_density=layer.output_density, groups=layer.groups, hw=hw, name=layer.name,
        )  # fmt: skip
        report["layer"]["seed"] = layer.seed
        source = f"{layer.name} (random tensors, seed {layer.seed})"
    else:
        wrong = _given(args, LAYER_ONLY)
        if wrong:
            raise UsageError(f"{wrong[0]} goes with --layer (random tensors); a file's density is its own")
        if args.activations is None:
            raise UsageError("--activations is missing: give the input activations (.npy, (C, H, W)) with --weights")
        weights = load_tensor(args.weights, "weights", 4, "K, C, R, S")
        activations = load_tensor(args.activations, "activations", 3, "C, H, W")
        stride = 1 if args.stride is None else args.stride
        padding = 0 if args.padding is None else args.padding
        _check_conv_shapes(weights, activations, stride, padding)
        output_density = 1.0 if args.output_density is None else args.output_density
        report = compare_conv_layer(args.hardware, weights, activations, stride=stride, padding=padding,
                                    output_density=output_density, hw=hw, name=Path(args.weights).name)  # fmt: skip
        source = f"{args.weights} on {args.activations}"
    if args.json:
        print_json(report)
        return 0
    info = report["layer"]
    k, c, r, s = info["weights_shape"]
    _, h, w = info["activations_shape"]
    print(
        f"{args.hardware}: {source}: W {k} x {c} x {r} x {s}, A {c} x {h} x {w}, stride {info['stride']}, "
        f"padding {info['padding']}, output {info['out_h']} x {info['out_w']}; densities: weights "
        f"{info['weight_density']:.4g}, activations {info['activation_density']:.4g}, outputs "
        f"{info['output_density']:.4g}; {info['clock_mhz']:g} MHz"
    )
    if "note" in info:
        print(info["note"])
    columns = ("quantity", "archsim", "model", "model_over_archsim", "model_relaxed")
    print(format_table(report["summary"], columns))
    print("(model: the hard twin, every relaxation exact; model_relaxed: the differentiable model)")
    _print_breakdown(report)
    return 0


def _check_conv_shapes(weights: np.ndarray, activations: np.ndarray, stride: int, padding: int) -> None:
    """Channel counts that agree, no empty dimension, and an output plane of at least 1 x 1."""
    for name, array, layout in (("weights", weights, "K, C, R, S"), ("activations", activations, "C, H, W")):
        if min(array.shape) < 1:
            raise UsageError(f"{name} shape={array.shape} ({layout}) has an empty dimension; allowed: sizes >= 1")
    if weights.shape[1] != activations.shape[0]:
        raise UsageError(
            f"activations channels C={activations.shape[0]} (shape {activations.shape}, (C, H, W)) must equal the "
            f"weights input channels C={weights.shape[1]} (shape {weights.shape}, (K, C, R, S))"
        )
    _, _, r, s = weights.shape
    _, h, w = activations.shape
    out_h, out_w = (h + 2 * padding - r) // stride + 1, (w + 2 * padding - s) // stride + 1
    if out_h < 1 or out_w < 1:
        raise UsageError(
            f"stride={stride}, padding={padding} leave no output: kernel R x S={r} x {s} on the padded input "
            f"{h + 2 * padding} x {w + 2 * padding} gives Ho x Wo={out_h} x {out_w}; allowed: padding >= "
            f"{max(0, -(-(max(r - h, s - w)) // 2))} for this kernel and input"
        )


CACHE = "cache"
"""The L1 cache simulator: its input is a memory trace, not a layer (:mod:`hwcost.experiments.cache_simulation`)."""
CACHE_ONLY = ("trace", "size_kb", "ways", "line", "epoch", "threshold")
"""Options of ``hwcost simulate cache`` only (with the flag ``--holiswap``)."""


def _add_cache_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``hwcost simulate cache``."""
    from hwcost.experiments.cache_simulation import DEFAULT_EPOCH, DEFAULT_SIZE_KB, DEFAULT_THRESHOLD

    group = parser.add_argument_group("cache (an L1-I and an L1-D on a memory trace)")
    group.add_argument("--trace", metavar="FILE", help="cache: a lackey memory trace (valgrind --tool=lackey "
                       "--trace-mem=yes), plain or .gz; cpu: an RV64IM trace (.npz) or ELF")  # fmt: skip
    group.add_argument("--size-kb", type=int, default=None, help=f"cache: capacity in KB, a power of two "
                       f"(default {DEFAULT_SIZE_KB})")  # fmt: skip
    group.add_argument("--ways", type=int, default=None, help="cache: associativity, each way a subarray (default 4)")
    group.add_argument("--line", type=int, default=None, help="cache: line size in bytes, a power of two (default 64)")
    group.add_argument("--holiswap", action="store_true", help="cache: also run with HoLiSwap hot-line swapping")
    group.add_argument("--epoch", type=int, default=None, help=f"cache with --holiswap: E, set accesses per epoch "
                       f"(default {DEFAULT_EPOCH})")  # fmt: skip
    group.add_argument("--threshold", type=int, default=None, help=f"cache with --holiswap: T, hits per epoch that "
                       f"make a line hot, in [1, E] (default {DEFAULT_THRESHOLD})")  # fmt: skip


def _run_cache(args: argparse.Namespace) -> int:
    from hwcost.experiments import cache_simulation as cs

    wrong = [f for f in _given(args, (*CONV_ONLY, "frames")) if f != "--seed"] + [
        flag for flag, given in (("--weights", args.weights), ("--activations", args.activations),
                                 ("--layer", args.layer), ("--list-layers", args.list_layers or None),
                                 ("--hw", args.hw or None)) if given is not None]  # fmt: skip
    if wrong:
        raise UsageError(f"{wrong[0]} does not apply to hardware='cache': give --trace (a lackey memory trace) and "
                         "optionally --size-kb, --ways, --line, --holiswap, --epoch, --threshold, --seed")  # fmt: skip
    if not args.holiswap and (args.epoch is not None or args.threshold is not None):
        flag = "--epoch" if args.epoch is not None else "--threshold"
        raise UsageError(f"{flag} goes with --holiswap (the epoch and threshold of hot-line detection)")
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"seed={args.seed} is outside the allowed range; allowed: an integer >= 0")
    chosen = {"size_kb": args.size_kb, "ways": args.ways, "line_bytes": args.line, "epoch": args.epoch,
              "threshold": args.threshold, "seed": args.seed}  # fmt: skip
    config = cs.cache_config(holiswap=args.holiswap, **{k: v for k, v in chosen.items() if v is not None})
    if Path(args.trace).is_dir():
        raise UsageError(f"trace {args.trace!r} is a folder; give a lackey trace file")
    if not Path(args.trace).is_file():
        raise UsageError(f"trace file {args.trace!r} not found")
    report = cs.cache_report(args.trace, config)
    if args.json:
        print_json(report)
        return 0
    trace, cache, geometry = report["trace"], report["cache"], report["geometry"]
    kinds = ", ".join(f"{k} {v}" for k, v in trace["records_by_kind"].items())
    print(f"cache: {args.trace}: {trace['records']} records ({kinds}), {trace['valgrind_messages']} valgrind "
          f"messages ignored, {trace['skipped_lines']} incomplete line(s) skipped"
          + (" (the trace is truncated)" if trace["truncated"] else ""))  # fmt: skip
    print(f"{cache['size_bytes'] // 1024} KB, {cache['ways']}-way, {cache['line_bytes']}-byte lines, {cache['sets']} "
          f"sets, LRU, write-allocate, write-back; ways at {', '.join(f'{d:.3g}' for d in geometry['way_distance_mm'])}"
          f" mm ({geometry['nearest_to_farthest_ratio']:.3g}x), {geometry['wire_pj_per_bit_mm']:g} pJ/bit/mm at "
          f"{geometry['node_nm']:g} nm, {geometry['bits_per_access']} bits per access"
          + (f"; HoLiSwap E={cache['epoch']}, T={cache['threshold']}, logarithmic counters (seed {cache['seed']}), "
             f"{cache['swap_stall_cycles_per_swap']} stall cycles per swap" if cache["holiswap"] else ""))  # fmt: skip
    print(format_table(cs.summary_rows(report), ("quantity", "l1i", "l1d")))
    print()
    rows = cs.way_rows(report)
    print(format_table(rows, tuple(rows[0])))
    return 0


def _print_breakdown(report: dict) -> None:
    print()
    print("breakdown (archsim energy = exact count x the model's energy per action):")
    columns = ("action", "archsim_count", "model_count", "count_model_over_archsim", "archsim_energy_uj",
               "model_energy_uj")  # fmt: skip
    print(
        format_table([{k: ("-" if v is None else v) for k, v in row.items()} for row in report["breakdown"]], columns)
    )
