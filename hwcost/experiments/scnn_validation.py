"""SCNN against its dense baselines, as the paper reports it (Parashar et al., ISCA'17, Figs. 8-11), by archsim
and by the differentiable models (``hwcost validate scnn``).

Method (every assumption is also listed in the report's ``assumptions``):

* Layers: the convolution layers of AlexNet (5), GoogLeNet (54, in 9 inception modules) and VGG-16 (13) of
  :mod:`models.conv_specs`, with SCNN Fig. 1's weight and input-activation densities (GoogLeNet 3b-5a
  interpolated there, as that module says) and each layer's output density (the next layer's input density).
* Tensors: for each layer one pair of random tensors with exactly ``round(d n)`` nonzeros at those densities,
  uniformly placed (:func:`archsim.scnn.random_layer`, seed :data:`SEED`); SCNN, DCNN and DCNN-opt are all
  simulated on the same pair. A layer with filter groups (AlexNet conv2, conv4, conv5) is one group simulated
  and its cycles and counts multiplied by the groups, which run one after another.
* Energy: archsim's exact counts priced with the per-action energies of the design's own cost model
  (:func:`hwcost.cost.price_action_counts`): SCNN's with :mod:`hwcost.scnn`'s, DCNN's and DCNN-opt's with
  :mod:`hwcost.dcnn`'s. The model side is each model's hard twin (``model.hard(hw)``) on the
  :class:`~hwcost.types.ConvLayer` of the same tensors (shape and realised densities).
* Figures: a layer, an inception module (the sum over its 6 layers) or a network (the sum over its layers)
  has ``speedup = DCNN cycles / SCNN cycles`` (Fig. 9; DCNN-opt runs as fast as DCNN),
  ``energy_vs_dcnn = SCNN energy / DCNN energy`` and ``dcnn_opt_energy_vs_dcnn = DCNN-opt energy / DCNN
  energy`` (Fig. 11, DCNN = 1), each for the paper, archsim and the model, and their ratios. archsim's
  multiplier utilisation (products over the busy multiplier slots) and PE idle fraction (barrier idle cycles
  over all PE cycles) stand beside Fig. 10's; ``archsim_oracle_speedup`` is DCNN's cycles over the nonzero
  products (DCNN-opt's ungated multiplies) at 1,024 per cycle (Fig. 9's oracle).
* Headline (Sec. 6): the arithmetic mean over the three networks of the speedups (paper: 2.7x), of the
  energy gains ``1 / energy_vs_dcnn`` (paper: 2.3x) and of DCNN-opt's energy gains (paper: 2.0x). The
  paper's network speedups are Fig. 9's (AlexNet 2.38; the text says 2.37).
* Density sweep (Fig. 8): GoogLeNet with every layer's weight, input and output density set to ``d = 0.1,
  0.2, ..., 1.0`` (:data:`SWEEP_DENSITIES`), the whole network summed, SCNN vs DCNN and DCNN-opt:
  ``speedup_vs_dcnn``, ``energy_vs_dcnn`` (SCNN / DCNN), ``energy_vs_dcnn_opt`` (SCNN / DCNN-opt),
  ``dcnn_opt_energy_vs_dcnn``, archsim and (``model_`` prefix) the models.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from tqdm import tqdm

from archsim import scnn as archsim_scnn
from hwcost.cost import price_action_counts
from hwcost.experiments.simulators import simulate_conv
from hwcost.experiments.single_layer import conv_workload
from hwcost.experiments.validation import Validation, register_validation
from hwcost.formatting import format_table
from hwcost.registry import cost_model
from models import conv_specs

NETWORKS: tuple[str, ...] = ("alexnet", "googlenet", "vgg16")
"""The networks of SCNN's evaluation."""
DESIGNS: tuple[str, ...] = ("scnn", "dcnn", "dcnn-opt")
"""The simulated designs (cost-model names)."""
SEED = archsim_scnn.SCNN_SEED
"""Seed of every layer's random tensors (:func:`archsim.scnn.random_layer`)."""
SWEEP_NETWORK = "googlenet"
SWEEP_DENSITIES: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(1, 11))
"""Weight = activation = output density of the sweep (Fig. 8)."""
MULTIPLIERS = 1024
"""Multipliers of SCNN and DCNN (64 PEs of 16): the oracle's products per cycle."""

ASSUMPTIONS: tuple[str, ...] = (
    "Densities: SCNN Fig. 1 per layer; GoogLeNet inception_3b..5a interpolated linearly in the module index "
    "between 3a and 5b (models.conv_specs); output density = the next layer's input density.",
    f"Tensors: one random pair per layer with exactly round(d n) nonzeros, uniformly placed (seed {SEED}); "
    "SCNN, DCNN and DCNN-opt simulated on the same pair; the paper used real pruned networks.",
    "Filter groups (AlexNet conv2, conv4, conv5: 2): one group simulated, cycles and counts x 2 (back to back).",
    "Energy: archsim's exact counts priced with each design's cost-model energies per action (the rule of "
    "hwcost.scnn_energy: the 45 nm table scaled to 16 nm, and one factor on the arithmetic fitted to the "
    "per-layer energies of Fig. 11, benchmarks/results/scnn_energy_calibration.json); the paper's per-access "
    "energies are not published.",
    "Model: each cost model's hard twin on the ConvLayer of the same tensors (realised densities).",
    "Modules and networks: cycles and energies summed over their conv layers (layers run one after another).",
    "Headline: arithmetic means over AlexNet, GoogLeNet and VGG-16 of the speedups and of the energy gains "
    "1 / energy_vs_dcnn; paper network speedups from Fig. 9 (AlexNet 2.38; the text says 2.37).",
    "Density sweep: every GoogLeNet layer at weight = input = output density d, the whole network summed.",
)

_SLUG = {"scnn": "scnn", "dcnn": "dcnn", "dcnn-opt": "dcnn_opt"}


# --- one layer ------------------------------------------------------------------------------------------------
@functools.cache
def _model_eval(design: str) -> tuple[Any, Callable[[Any], tuple[dict[str, Any], Any]], dict[str, float]]:
    """``(hard hardware, jitted workload -> (counts, cycles), per-action pJ)`` of a design's cost model."""
    model = cost_model(design)
    hard = model.hard(model.default_hardware)
    per_action = {k: float(v) for k, v in model.per_action_energy_pj(hard).items()}

    @jax.jit
    def evaluate(workload: Any) -> tuple[dict[str, Any], Any]:
        return model.counts_and_latency(hard, workload)

    return hard, evaluate, per_action


def simulate_layer(
    spec: conv_specs.ConvSpec,
    weight_density: float | None = None,
    activation_density: float | None = None,
    output_density: float | None = None,
    seed: int = SEED,
) -> dict[str, Any]:
    """SCNN, DCNN and DCNN-opt on one layer's random tensors, archsim and model (module docstring).

    Densities default to the layer's published ones. Returns a flat row: the layer's name, network, module,
    groups and densities; per design ``d`` (``scnn``, ``dcnn``, ``dcnn_opt``) ``archsim_d_cycles``,
    ``archsim_d_energy_pj``, ``model_d_cycles``, ``model_d_energy_pj`` (the whole layer, all groups); and
    SCNN's ``archsim_products``, ``archsim_busy_pe_cycles``, ``archsim_barrier_idle_cycles``,
    ``archsim_compute_cycles`` and DCNN-opt's ``archsim_nonzero_products`` (ungated multiplies).
    """
    wd = spec.weight_density if weight_density is None else weight_density
    ad = spec.activation_density if activation_density is None else activation_density
    od = spec.output_density if output_density is None else output_density
    k, c = spec.out_channels // spec.groups, spec.filter_channels
    weights, activations = archsim_scnn.random_layer((k, c, *spec.kernel), (c, *spec.in_hw), wd, ad, seed)
    workload = conv_workload(
        weights.shape, activations.shape, spec.stride, spec.padding,
        np.count_nonzero(weights) / weights.size, np.count_nonzero(activations) / activations.size, od, name="",
    )  # fmt: skip
    n = float(spec.groups)
    row: dict[str, Any] = {
        "layer": spec.name,
        "network": spec.network,
        "module": f"{spec.network}/{spec.module}",
        "groups": spec.groups,
        "weight_density": float(wd),
        "activation_density": float(ad),
        "output_density": float(od),
    }
    for design in DESIGNS:
        hard, evaluate, per_action = _model_eval(design)
        cost_model(design).check(hard, workload)
        sim = simulate_conv(design, weights, activations, spec.stride, spec.padding, od, hard)
        counts, cycles = evaluate(workload)
        slug = _SLUG[design]
        row[f"archsim_{slug}_cycles"] = n * sim.cycles
        row[f"archsim_{slug}_energy_pj"] = n * sum(price_action_counts(sim.counts, per_action).values())
        row[f"model_{slug}_cycles"] = n * float(cycles)
        row[f"model_{slug}_energy_pj"] = n * sum(float(v) * per_action[key] for key, v in counts.items())
        if design == "scnn":
            for key in ("products", "busy_pe_cycles", "barrier_idle_cycles", "compute_cycles"):
                row[f"archsim_{key}"] = n * sim.extras[key]
        if design == "dcnn-opt":
            row["archsim_nonzero_products"] = n * sim.counts["multiplier.multiply"]
    return row


# --- sums of layers ------------------------------------------------------------------------------------------
_SUMMED = (
    *(f"{side}_{_SLUG[d]}_{q}" for side in ("archsim", "model") for d in DESIGNS for q in ("cycles", "energy_pj")),
    "archsim_products",
    "archsim_busy_pe_cycles",
    "archsim_barrier_idle_cycles",
    "archsim_compute_cycles",
    "archsim_nonzero_products",
)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def aggregate(name: str, rows: Sequence[dict[str, Any]], pes: int = 64, lanes: int = 16) -> dict[str, Any]:
    """The figures of a layer, module or network from its layers' rows (module docstring), with the paper's
    where :data:`models.conv_specs.SCNN_RESULTS` has them (``None`` otherwise)."""
    total = {key: float(sum(row[key] for row in rows)) for key in _SUMMED}
    out: dict[str, Any] = {"name": name, "conv_layers": len(rows)}
    paper = conv_specs.SCNN_RESULTS.get(name)
    figures = {
        "speedup": (paper and paper.speedup, "dcnn_cycles", "scnn_cycles"),
        "energy_vs_dcnn": (paper and paper.scnn_energy, "scnn_energy_pj", "dcnn_energy_pj"),
        "dcnn_opt_energy_vs_dcnn": (paper and paper.dcnn_opt_energy, "dcnn_opt_energy_pj", "dcnn_energy_pj"),
    }
    for figure, (published, top, bottom) in figures.items():
        archsim = _ratio(total[f"archsim_{top}"], total[f"archsim_{bottom}"])
        model = _ratio(total[f"model_{top}"], total[f"model_{bottom}"])
        out[f"paper_{figure}"] = published
        out[f"archsim_{figure}"] = archsim
        out[f"model_{figure}"] = model
        stem = figure.removesuffix("_vs_dcnn")
        out[f"archsim_{stem}_over_paper"] = _ratio(archsim, published)
        out[f"model_{stem}_over_paper"] = _ratio(model, published)
        out[f"model_{stem}_over_archsim"] = _ratio(model, archsim)
    out["paper_oracle_speedup"] = paper and paper.oracle_speedup
    oracle_cycles = total["archsim_nonzero_products"] / MULTIPLIERS
    out["archsim_oracle_speedup"] = _ratio(total["archsim_dcnn_cycles"], oracle_cycles)
    out["paper_multiplier_utilisation"] = paper and paper.multiplier_utilisation
    out["archsim_multiplier_utilisation"] = _ratio(total["archsim_products"], lanes * total["archsim_busy_pe_cycles"])
    out["paper_pe_idle_fraction"] = paper and paper.pe_idle_fraction
    out["archsim_pe_idle_fraction"] = _ratio(
        total["archsim_barrier_idle_cycles"], pes * total["archsim_compute_cycles"]
    )
    for side in ("archsim", "model"):
        for design in DESIGNS:
            slug = _SLUG[design]
            out[f"{side}_{slug}_cycles"] = total[f"{side}_{slug}_cycles"]
            out[f"{side}_{slug}_energy_uj"] = total[f"{side}_{slug}_energy_pj"] * 1e-6
    return out


def _entries(network: str, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-layer entries (per inception module for GoogLeNet, as Figs. 9-11 show it)."""
    if network == "googlenet":
        modules = list(dict.fromkeys(row["module"] for row in rows))
        return [aggregate(m, [row for row in rows if row["module"] == m]) for m in modules]
    return [aggregate(row["layer"], [row]) for row in rows]


def _mean(values: Sequence[float | None]) -> float | None:
    return None if not values or any(v is None for v in values) else float(np.mean(values))


def _headline(networks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"networks": [row["name"] for row in networks]}
    for side in ("paper", "archsim", "model"):
        out[f"mean_speedup_{side}"] = _mean([row[f"{side}_speedup"] for row in networks])
        out[f"mean_energy_gain_{side}"] = _mean([_ratio(1.0, row[f"{side}_energy_vs_dcnn"]) for row in networks])
        out[f"mean_dcnn_opt_energy_gain_{side}"] = _mean(
            [_ratio(1.0, row[f"{side}_dcnn_opt_energy_vs_dcnn"]) for row in networks]
        )
    for figure in ("speedup", "energy_gain", "dcnn_opt_energy_gain"):
        paper, archsim, model = (out[f"mean_{figure}_{side}"] for side in ("paper", "archsim", "model"))
        out[f"mean_{figure}_archsim_over_paper"] = _ratio(archsim, paper)
        out[f"mean_{figure}_model_over_paper"] = _ratio(model, paper)
        out[f"mean_{figure}_model_over_archsim"] = _ratio(model, archsim)
    return out


def _model_errors(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The models' error against archsim over the conv layers (percent, model / archsim - 1)."""
    out: dict[str, Any] = {}
    for design in DESIGNS:
        slug = _SLUG[design]
        for quantity in ("cycles", "energy_pj"):
            errors = np.array([100.0 * (row[f"model_{slug}_{quantity}"] / row[f"archsim_{slug}_{quantity}"] - 1.0)
                               for row in rows])  # fmt: skip
            worst = int(np.argmax(np.abs(errors)))
            key = f"{slug}_{quantity.removesuffix('_pj')}"
            out[f"{key}_mean_abs_error_pct"] = float(np.abs(errors).mean())
            out[f"{key}_max_abs_error_pct"] = float(np.abs(errors[worst]))
            out[f"{key}_worst_layer"] = rows[worst]["layer"]
    return out


# --- the report ---------------------------------------------------------------------------------------------
def _sweep_point(density: float, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    total = aggregate(SWEEP_NETWORK, rows)
    point: dict[str, Any] = {"density": density}
    for side, prefix in (("archsim", ""), ("model", "model_")):
        scnn_e, dcnn_e, opt_e = (total[f"{side}_{_SLUG[d]}_energy_uj"] for d in DESIGNS)
        point[f"{prefix}speedup_vs_dcnn"] = total[f"{side}_speedup"]
        point[f"{prefix}energy_vs_dcnn"] = _ratio(scnn_e, dcnn_e)
        point[f"{prefix}energy_vs_dcnn_opt"] = _ratio(scnn_e, opt_e)
        point[f"{prefix}dcnn_opt_energy_vs_dcnn"] = _ratio(opt_e, dcnn_e)
    for side in ("archsim", "model"):
        for design in DESIGNS:
            point[f"{side}_{_SLUG[design]}_cycles"] = total[f"{side}_{_SLUG[design]}_cycles"]
            point[f"{side}_{_SLUG[design]}_energy_uj"] = total[f"{side}_{_SLUG[design]}_energy_uj"]
    return point


def scnn_validation_report(
    networks: Sequence[str] | None = None,
    sweep_densities: Sequence[float] | None = None,
    *,
    layers: Sequence[str] | None = None,
    progress: bool = False,
    seed: int = SEED,
) -> dict[str, Any]:
    """SCNN, DCNN and DCNN-opt on the paper's networks, archsim and the models against the paper.

    Args:
        networks: subset of :data:`NETWORKS` (default: all three).
        sweep_densities: densities of the GoogLeNet sweep (default :data:`SWEEP_DENSITIES`; ``()`` skips it).
        layers: restrict every network (and the sweep) to these ``"network/layer"`` names (for quick checks;
            a module or network then sums only the layers kept).
        progress: show a progress bar on stderr (one step per simulated layer).
        seed: seed of the random tensors.

    Returns:
        ``{"layers": [...], "networks": [...], "summary": {...}, "density_sweep": [...], "conv_layers": [...],
        "model_vs_archsim": {...}, "assumptions": [...], "seed"}``: ``layers`` one entry per AlexNet and VGG-16
        layer and GoogLeNet module and ``networks`` one per network (keys of :func:`aggregate`); ``summary``
        the means over the networks; ``conv_layers`` the raw per-layer rows (:func:`simulate_layer`);
        ``model_vs_archsim`` the models' errors over those layers; ``density_sweep`` the points of
        :func:`_sweep_point` (module docstring).
    """
    networks = tuple(NETWORKS if networks is None else networks)
    for network in networks:
        if network not in NETWORKS:
            raise ValueError(f"network={network!r} is not in SCNN's evaluation; allowed: {', '.join(NETWORKS)}")
    densities = tuple(SWEEP_DENSITIES if sweep_densities is None else sweep_densities)
    keep = None if layers is None else set(layers)
    if keep is not None:
        unknown = sorted(keep - set(conv_specs.layer_names()))
        if unknown:
            raise ValueError(f"layer={unknown[0]!r} is unknown; allowed: {', '.join(conv_specs.layer_names())}")

    def specs_of(network: str) -> list[conv_specs.ConvSpec]:
        return [s for s in conv_specs.network_specs(network) if keep is None or s.name in keep]

    per_network = {network: specs_of(network) for network in networks}
    sweep_specs = specs_of(SWEEP_NETWORK) if densities else []
    steps = sum(len(v) for v in per_network.values()) + len(sweep_specs) * len(densities)
    bar = tqdm(total=steps, desc="SCNN vs DCNN", unit="layer", disable=not progress)
    conv_rows: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    network_rows: list[dict[str, Any]] = []
    with bar:
        for network, specs in per_network.items():
            rows = []
            for spec in specs:
                bar.set_postfix_str(spec.name, refresh=False)
                rows.append(simulate_layer(spec, seed=seed))
                bar.update()
            if rows:
                conv_rows += rows
                entries += _entries(network, rows)
                network_rows.append(aggregate(network, rows))
        sweep = []
        for density in densities:
            rows = []
            for spec in sweep_specs:
                bar.set_postfix_str(f"{SWEEP_NETWORK} at density {density:g}", refresh=False)
                rows.append(simulate_layer(spec, density, density, density, seed=seed))
                bar.update()
            if rows:
                sweep.append(_sweep_point(float(density), rows))
    return {
        "seed": seed,
        "layers": entries,
        "networks": network_rows,
        "summary": _headline(network_rows) if network_rows else {},
        "model_vs_archsim": _model_errors(conv_rows) if conv_rows else {},
        "density_sweep": sweep,
        "conv_layers": conv_rows,
        "assumptions": list(ASSUMPTIONS),
    }


TABLE_COLUMNS: tuple[str, ...] = (
    "name",
    "paper_speedup",
    "archsim_speedup",
    "model_speedup",
    "archsim_speedup_over_paper",
    "paper_energy_vs_dcnn",
    "archsim_energy_vs_dcnn",
    "model_energy_vs_dcnn",
    "archsim_energy_over_paper",
    "paper_dcnn_opt_energy_vs_dcnn",
    "archsim_dcnn_opt_energy_vs_dcnn",
)
"""Columns of the per-layer text table of ``hwcost validate scnn``."""
SWEEP_COLUMNS = ("density", "speedup_vs_dcnn", "energy_vs_dcnn", "energy_vs_dcnn_opt", "dcnn_opt_energy_vs_dcnn",
                 "model_speedup_vs_dcnn", "model_energy_vs_dcnn")  # fmt: skip


def _fmt(value: float | None, digits: str = ".2f") -> str:
    return "-" if value is None else format(value, digits)


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The network figures, the headline means, the models' errors and the density sweep, in words."""
    lines = ["per network (sums over the conv layers):",
             format_table(report["networks"], TABLE_COLUMNS), ""]  # fmt: skip
    s = report["summary"]
    if s:
        for figure, what in (("speedup", "speedup over DCNN"), ("energy_gain", "energy gain over DCNN (1 / energy)"),
                             ("dcnn_opt_energy_gain", "DCNN-opt energy gain over DCNN")):  # fmt: skip
            lines.append(
                f"mean {what} over {', '.join(s['networks'])}: paper {_fmt(s[f'mean_{figure}_paper'])}x, "
                f"archsim {_fmt(s[f'mean_{figure}_archsim'])}x ({_fmt(s[f'mean_{figure}_archsim_over_paper'], '.3f')}"
                f" of the paper), model {_fmt(s[f'mean_{figure}_model'])}x "
                f"({_fmt(s[f'mean_{figure}_model_over_archsim'], '.3f')} of archsim)"
            )
    errors = report["model_vs_archsim"]
    if errors:
        for slug, design in (("scnn", "SCNN"), ("dcnn", "DCNN"), ("dcnn_opt", "DCNN-opt")):
            e = {key.removeprefix(f"{slug}_"): value for key, value in errors.items() if key.startswith(f"{slug}_")}
            lines.append(
                f"{design} model vs archsim over {len(report['conv_layers'])} conv layers: cycles mean |error| "
                f"{e['cycles_mean_abs_error_pct']:.2f}%, max {e['cycles_max_abs_error_pct']:.2f}% "
                f"({e['cycles_worst_layer']}); energy mean {e['energy_mean_abs_error_pct']:.2f}%, "
                f"max {e['energy_max_abs_error_pct']:.2f}% ({e['energy_worst_layer']})"
            )
    if report["density_sweep"]:
        lines += ["", f"density sweep, {SWEEP_NETWORK} (weight = activation = output density; archsim unless model_):",
                  format_table(report["density_sweep"], SWEEP_COLUMNS)]  # fmt: skip
    return lines


def _run(progress: bool) -> dict[str, Any]:
    """The full report (the module's :data:`NETWORKS` and :data:`SWEEP_DENSITIES`, read at call time)."""
    return scnn_validation_report(NETWORKS, SWEEP_DENSITIES, progress=progress)


register_validation(
    "scnn",
    Validation(
        "SCNN Figs. 9-11 (speedup and energy relative to DCNN): paper vs archsim (random tensors at Fig. 1 "
        "densities) vs model",
        _run,
        TABLE_COLUMNS,
        summary_lines,
    ),
)

__all__ = [
    "ASSUMPTIONS",
    "DESIGNS",
    "NETWORKS",
    "SWEEP_DENSITIES",
    "aggregate",
    "scnn_validation_report",
    "simulate_layer",
    "summary_lines",
]
