"""``hwcost compress``: run a compression pipeline on an MNIST LeNet and report Deep Compression's columns.

Examples::

    hwcost compress --model lenet300 --pipeline deep-compression
    hwcost compress --model lenet5 --pipeline deep-compression --density ip1=0.07 --bits ip1=4 --json
    hwcost compress --model lenet300 --pipeline deep-compression --evaluate runs/.../lenet300.hwdc

The report (``report.json``) and, for deep-compression, the compressed model (``<model>.hwdc``) and the
phase checkpoints are written into ``--out`` (default ``runs/compress-<model>-<pipeline>``); rerunning
with the same folder resumes an interrupted run.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path
from typing import Any

from hwcost.checks import check_int_range
from hwcost.cli.output import check_out_dir, dumps_json, format_table, parse_assignments, print_json
from hwcost.files import output_lock, write_atomically

HELP = "compress an MNIST LeNet (deep-compression, ttq, dsd) and report per-layer storage and error"

#: Column order of the per-layer table: Deep Compression Tables 2 and 3, then whatever else a pipeline adds.
PREFERRED_COLUMNS: tuple[str, ...] = (
    "layer",
    "num_weights",
    "weights_kept_pct",
    "weight_bits_pq",
    "weight_bits_pqh",
    "index_bits_pq",
    "index_bits_pqh",
    "rate_pq_pct",
    "rate_pqh_pct",
)
MODELS: tuple[str, ...] = ("lenet300", "lenet5")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the verb."""
    parser.add_argument("--model", default=None, help="lenet300 or lenet5 (required unless --evaluate)")
    parser.add_argument("--pipeline", default="deep-compression", help="deep-compression, ttq or dsd")
    parser.add_argument("--seed", type=int, default=0, help="seed of the baseline and every training phase")
    parser.add_argument("--out", default=None, help="output folder (default runs/compress-MODEL-PIPELINE)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    parser.add_argument(
        "--density",
        action="append",
        default=[],
        metavar="LAYER=D",
        help="deep-compression: fraction of weights kept in LAYER, in (0, 1] (repeatable)",
    )
    parser.add_argument(
        "--bits", action="append", default=[], metavar="LAYER=B", help="deep-compression: bits per shared weight"
    )
    parser.add_argument("--index-bits", type=int, default=None, help="deep-compression: relative-index bits")
    parser.add_argument(
        "--evaluate", type=Path, default=None, metavar="FILE", help="report an exported .hwdc model instead"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--small", action="store_true", help=argparse.SUPPRESS)  # a few hundred steps (tests)


def table_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The preferred Table 2/3 columns the rows have, then their other keys in first-seen order."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    return [c for c in PREFERRED_COLUMNS if c in keys] + [k for k in keys if k not in PREFERRED_COLUMNS]


def format_report(report: dict[str, Any]) -> str:
    """Human-readable report: per-layer table with the total row, errors and compression."""
    rows = list(report.get("layers", []))
    total = report.get("total")
    table_rows = rows + ([{k: v for k, v in total.items() if not k.startswith("compression_")}] if total else [])
    lines = [
        f"{report.get('pipeline', '?')} on {report.get('model', '?')}",
        format_table(table_rows, table_columns(table_rows)),
        "",
    ]
    for key, label in (("test_error_before", "test error before"), ("test_error_after", "test error after")):
        if report.get(key) is not None:
            lines.append(f"{label}: {report[key]:.2f}%")
    if total:
        for key, label in (("compression_pq", "compression P+Q"), ("compression_pqh", "compression P+Q+H")):
            if key in total:
                lines.append(f"{label}: {total[key]:.1f}x")
    return "\n".join(lines)


def _evaluate(path: Path) -> dict[str, Any]:
    from compress import encoding, export
    from compress.training import error_rate
    from models.datasets import load_mnist
    from models.lenet import make_model

    model_name, layers = export.load_compressed(path)
    _, params = export.load_params(path)
    export.check_model_fits(path, model_name, params)  # before loading data
    data = load_mnist()
    rows, total, _ = encoding.storage_table(layers)
    err = 100.0 * error_rate(make_model(model_name), params, data.test_images, data.test_labels)
    return {
        "model": model_name,
        "pipeline": "deep-compression (file)",
        "test_error_before": None,
        "test_error_after": err,
        "layers": rows,
        "total": total,
        "details": {"file": str(path), "file_bytes": path.stat().st_size},
    }


def run(args: argparse.Namespace) -> int:
    """Run the verb; ValueError on bad input (exit status 2 through :func:`hwcost.cli.main`)."""
    if args.evaluate is not None:
        if not args.evaluate.is_file():
            raise ValueError(f"--evaluate={str(args.evaluate)!r}: no such file")
        report = _evaluate(args.evaluate)
        print_json(report) if args.json else print(format_report(report))
        return 0

    from compress import pipelines

    if args.model is None:
        raise ValueError("--model is required (lenet300 or lenet5) unless --evaluate FILE is given")
    if args.model not in MODELS:
        raise ValueError(f"model={args.model!r} is unknown; allowed: {', '.join(MODELS)}")
    if args.pipeline not in pipelines.PIPELINES:
        raise ValueError(f"pipeline={args.pipeline!r} is unknown; allowed: {', '.join(pipelines.PIPELINES)}")
    check_int_range("seed", args.seed, 0)
    densities = parse_assignments(args.density, "density", float)
    bits = parse_assignments(args.bits, "bits", int)
    tuned = bool(densities or bits or args.index_bits is not None)
    if tuned and args.pipeline != "deep-compression":
        raise ValueError("--density, --bits and --index-bits apply to --pipeline deep-compression only")

    out_arg = args.out if args.out is not None else str(Path("runs") / f"compress-{args.model}-{args.pipeline}")
    check_out_dir(out_arg)  # before loading data or training
    out = Path(out_arg)
    from models.datasets import load_mnist

    if tuned:
        from compress import deep_compression as dc

        base = dc.CONFIGS[args.model]
        layers = {spec for spec in base.densities}
        unknown = [layer for layer in [*densities, *bits] if layer not in layers]
        if unknown:
            raise ValueError(f"layer {unknown[0]!r} is not in {args.model}; layers: {', '.join(base.densities)}")
        config = base._replace(
            densities={**base.densities, **densities},
            weight_bits={**base.weight_bits, **bits},
            index_bits=base.index_bits if args.index_bits is None else args.index_bits,
        )
        dc.check_config(config, tuple(base.densities))  # before loading data or training
        run_pipeline = functools.partial(dc.run_pipeline, config=config)
    else:
        run_pipeline = functools.partial(pipelines.run, args.pipeline)
    with output_lock(out):
        report = run_pipeline(
            args.model, load_mnist(), seed=args.seed, workdir=out, progress=not args.no_progress, small=args.small
        )
        write_atomically(out / "report.json", dumps_json(report) + "\n")
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
        print(f"report: {out / 'report.json'}")
    return 0
