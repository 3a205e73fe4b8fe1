"""EIE validation figures: Table IV (paper vs archsim vs model, nine layers) and the model against
archsim on random layers (``hwcost.experiments.validation``, module docstring).

Writes ``benchmarks/results/eie_validation.json`` with ``{"table_iv": {...}, "random_layers": {...}}``
(about a minute on 2 cores). Usage: ``python benchmarks/eie_validation.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compress.checkpoint import write_atomically
from hwcost.experiments import validation
from hwcost.formatting import to_jsonable

RESULT = Path(__file__).resolve().parent / "results" / "eie_validation.json"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    table_iv = validation.eie_table_iv_report(progress=True)
    random_layers = validation.eie_random_layers_report(progress=True)
    report = {"table_iv": table_iv, "random_layers": random_layers}
    write_atomically(RESULT, json.dumps(to_jsonable(report), indent=1) + "\n")
    for line in validation.eie_summary_lines(table_iv):
        print(line)
    worst = max(table_iv["layers"], key=lambda row: abs(row["model_over_archsim"] - 1.0))
    few = random_layers["few_columns"]
    print(f"model / archsim, nine layers: worst {worst['layer']} {100 * (worst['model_over_archsim'] - 1):+.2f}%")
    print(
        f"model / archsim, {len(random_layers['layers'])} random layers: mean |error| "
        f"{random_layers['mean_abs_error_pct']:.2f}%, max {random_layers['max_abs_error_pct']:.2f}%; "
        f"M < {few['below_columns']} ({few['layers']} layers): mean {few['mean_abs_error_pct']:.2f}%, "
        f"max {few['max_abs_error_pct']:.2f}%"
    )
    print(f"wrote {RESULT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
