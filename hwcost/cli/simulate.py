"""``hwcost simulate HARDWARE``: the reference simulator and the cost model on the user's own layer.

Usage::

    hwcost simulate eie --weights W.npy --activations a.npy [--hw num_pes=64 --hw fifo_depth=8] [--json]

``W.npy`` holds the weight matrix, shape ``(out_features, in_features)`` (rows are outputs, ``y = W a``);
``a.npy`` the input activation vector, shape ``(in_features,)``. Zeros are pruned weights / zero
activations. ``--hw FIELD=VALUE`` replaces a field of the model's paper-default hardware. Both sides are
reported (:func:`hwcost.experiments.single_layer.compare_layer`): cycles, time (us at the model's clock),
energy (uJ) and the per-action breakdown, the simulator's exact counts priced with the model's energies.
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

import numpy as np

from hwcost.cli.output import format_table, parse_assignments, print_json
from hwcost.errors import UsageError

HELP = "Simulate one layer on an accelerator (reference simulator and cost model side by side)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``hwcost simulate``."""
    parser.add_argument("hardware", help="cost model with a reference simulator (eie)")
    parser.add_argument("--weights", required=True, help="weight matrix (.npy), shape (out_features, in_features)")
    parser.add_argument("--activations", required=True, help="input activations (.npy), shape (in_features,)")
    parser.add_argument("--hw", action="append", default=[], metavar="FIELD=VALUE",
                        help="replace a field of the paper-default hardware, e.g. num_pes=8 (repeatable)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


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


def run(args: argparse.Namespace) -> int:
    """Load the layer, run both, print tables (or JSON with ``--json``)."""
    from hwcost.checks import check_choice
    from hwcost.experiments.simulators import SIMULATORS
    from hwcost.experiments.single_layer import compare_layer, hardware_with

    check_choice("hardware", args.hardware, tuple(sorted(SIMULATORS)))
    hw = hardware_with(args.hardware, parse_assignments(args.hw, "hw", float))
    weights = load_array(args.weights, "weights")
    activations = load_array(args.activations, "activations")
    if weights.ndim != 2:
        raise ValueError(f"weights ndim={weights.ndim} (shape {weights.shape}) in {args.weights!r} must be 2")
    if activations.ndim != 1:
        raise ValueError(
            f"activations ndim={activations.ndim} (shape {activations.shape}) in {args.activations!r} must be 1"
        )
    if activations.shape[0] != weights.shape[1]:
        raise ValueError(
            f"activations length={activations.shape[0]} must equal the weights column count "
            f"{weights.shape[1]} (weights shape {weights.shape} is (out_features, in_features))"
        )
    for name, array in (("weights", weights), ("activations", activations)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contains nan or inf; allowed: finite numbers")
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
    print()
    print("breakdown (archsim energy = exact count x the model's energy per action):")
    columns = ("action", "archsim_count", "model_count", "count_model_over_archsim", "archsim_energy_uj",
               "model_energy_uj")  # fmt: skip
    print(
        format_table([{k: ("-" if v is None else v) for k, v in row.items()} for row in report["breakdown"]], columns)
    )
    return 0
