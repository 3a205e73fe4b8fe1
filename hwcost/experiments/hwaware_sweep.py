"""The hardware-aware training experiment: a sweep of the joint method against the hardware-agnostic
baselines, each point measured exactly, with its Pareto analysis, report and plot.

Points (all from the same cached dense baseline, :func:`compress.baseline.dense_baseline`):

* ``joint``: :func:`compress.hwtrain.train_hwaware` at each λ (or budget B) of the sweep;
* ``magnitude``: hardware-agnostic element-wise magnitude pruning at several overall densities (per-layer
  densities in Deep Compression's proportions, :func:`magnitude_profile`), retrained under fixed masks for
  the same number of epochs with the same optimizer;
* ``deep_compression``: the Deep Compression pipeline (:func:`compress.deep_compression.run_pipeline`),
  evaluated on the weights read back from its exported file;
* ``dense``: the baseline itself (the reference of every relative cost).

Every point gets its test error (full MNIST test set) and three values of the cost:

* ``relaxed``: the differentiable model as trained (soft masks at the final temperature, straight-through
  activation indicators, relaxed hardware) on the evaluation images;
* ``hard``: the same model evaluated exactly (exact masks, exact indicators, ``model.hard(hw)``);
* ``archsim`` (a model with a reference simulator, :mod:`hwcost.experiments.simulators`): the simulator on
  the real pruned weights and the real activations of each evaluation image, batch 1, its exact counts
  priced with the model's per-action energies.

The Pareto claim compares exact values (the simulator's, else the hard model's): for every magnitude point,
the lowest joint cost among the joint points with equal or better test error, and their ratio.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from compress import bridge, hwaware, hwtrain
from compress.checkpoint import save_checkpoint
from compress.hwtrain import Budget, HwTrainConfig, Penalty, structure_summary
from compress.masks import prune_by_magnitude
from compress.training import error_rate
from hwcost.errors import UsageError
from hwcost.experiments.simulators import has_simulator, simulate_network
from hwcost.files import load_json_or_set_aside, set_aside, write_atomically
from hwcost.formatting import dumps_json, to_jsonable
from models.datasets import Dataset
from models.registry import apply_with_layer_inputs, layer_specs

Array = jax.Array


# --- model values -----------------------------------------------------------------------------------
def _layer_values(specs: Sequence[Any], runs: Sequence[Any], cost: Any) -> dict[str, Any]:
    """Per layer (by name): the workload's data fields, its repeats, energy, latency and energy breakdown."""
    out = {}
    for spec, run, layer in zip(specs, runs, cost.layers, strict=True):
        fields = [f.name for f in dataclasses.fields(run.workload) if not f.metadata.get("static")]
        out[spec.name] = {
            **{name: float(getattr(run.workload, name)) for name in fields},
            "repeats": run.repeats,
            "energy_pj": float(layer.total_energy_pj),
            "latency_cycles": float(layer.latency_cycles),
            "breakdown_pj": {k: float(v) for k, v in layer.energy_pj.items()},
        }
    return out


def model_costs(
    setup: hwtrain.Setup,
    weights: Mapping[str, Mapping[str, Any]],
    masks: Mapping[str, Mapping[str, Any]],
    images: np.ndarray,
    *,
    decisions: Any = None,
) -> dict[str, Any]:
    """Relaxed and hard values of the differentiable model on ``images`` (absolute, and relative to the
    dense network with every activation nonzero: ``*_rel_dense_model``).

    ``relaxed``: soft masks of ``decisions`` at the final temperature (the exact masks without decisions),
    straight-through activation indicators (exact value, as in training), relaxed hardware. ``hard``:
    exact masks and indicators, ``model.hard(hw)``.
    """
    cm = setup.cost_model
    params = as_jnp(weights)
    _, inputs = apply_with_layer_inputs(setup.network, params, jnp.asarray(images))
    out = {}
    for kind in ("relaxed", "hard"):
        exact = kind == "hard"
        if not exact and decisions is not None:
            relaxed = hwtrain.relaxed_masks(setup, params, decisions, setup.config.temperature_end, "soft")
            m, gates = hwaware.kernel_and_bias_masks(relaxed), {k: v.gates for k, v in relaxed.items()}
        else:
            m, gates = masks, {}
        stats = bridge.layer_statistics(setup.specs, m, inputs, indicator="exact" if exact else "ste",
                                        act_temperature=setup.config.act_temperature, gates=gates)  # fmt: skip
        hw = cm.hard(setup.hw) if exact else setup.hw
        runs = bridge.lower(cm, stats)
        value = bridge.statistics_cost(cm, hw, stats)
        dense = bridge.statistics_cost(cm, hw, bridge.dense_statistics(setup.specs))
        out[kind] = {
            "energy_pj": float(value.energy_pj),
            "latency_cycles": float(value.latency_cycles),
            "energy_rel_dense_model": float(value.energy_pj / dense.energy_pj),
            "latency_rel_dense_model": float(value.latency_cycles / dense.latency_cycles),
            "layers": _layer_values(setup.specs, runs, value),
        }
    return out


def as_jnp(weights: Mapping[str, Mapping[str, Any]]) -> dict:
    """``weights`` as a plain dict of jnp arrays (the params argument of the mask functions)."""
    return {k: {n: jnp.asarray(v) for n, v in leaves.items()} for k, leaves in weights.items()}


def exact_cost(setup: hwtrain.Setup, weights: Mapping[str, Mapping[str, Any]], images: np.ndarray) -> dict[str, Any]:
    """The reference simulator's cost of a network on ``images`` run one at a time (see
    :func:`hwcost.experiments.simulators.simulate_network`)."""
    _, inputs = apply_with_layer_inputs(setup.network, as_jnp(weights), jnp.asarray(images))
    return simulate_network(setup.config.hardware, setup.specs, weights, inputs, setup.hw)


def evaluate_point(
    setup: hwtrain.Setup,
    data: Dataset,
    weights: Mapping[str, Mapping[str, Any]],
    masks: Mapping[str, Mapping[str, Any]],
    eval_images: np.ndarray,
    *,
    decisions: Any = None,
) -> dict[str, Any]:
    """Test error (percent, full test set), structure, model values and (with a simulator) the exact cost."""
    err = 100.0 * error_rate(setup.network, as_jnp(weights), data.test_images, data.test_labels)
    point: dict[str, Any] = {
        "test_error_pct": err,
        "structure": structure_summary(weights),
        "model": model_costs(setup, weights, masks, eval_images, decisions=decisions),
    }
    if has_simulator(setup.config.hardware):
        point["archsim"] = exact_cost(setup, weights, eval_images)
    return point


# --- Pareto analysis --------------------------------------------------------------------------------
def _objective_key(objective: str) -> str:
    return "energy_pj" if objective == "energy" else "latency_cycles"


def exact_value(point: Mapping[str, Any], objective: str) -> float:
    """The exact cost of a point: the simulator's if measured, else the hard model's (pJ or cycles)."""
    key = _objective_key(objective)
    return float(point["archsim"][key]) if "archsim" in point else float(point["model"]["hard"][key])


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the non-dominated ``(error, cost)`` points, sorted by cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][1], points[i][0]))
    front, best = [], float("inf")
    for i in order:
        if points[i][0] < best:
            front.append(i)
            best = points[i][0]
    return front


def dominance_ratios(joint: Sequence[tuple[float, float]], baseline: Sequence[tuple[float, float]]) -> list[dict]:
    """For each baseline ``(error, cost)``: the cheapest joint point with error <= the baseline's, and
    ``ratio = baseline cost / joint cost`` (None when no joint point is as accurate)."""
    rows = []
    for b_err, b_cost in baseline:
        ok = [(c, e) for e, c in joint if e <= b_err + 1e-9]
        c, e = min(ok) if ok else (None, None)
        rows.append({"baseline_error_pct": b_err, "baseline_cost": b_cost, "joint_error_pct": e, "joint_cost": c,
                     "ratio": None if c is None else b_cost / c})  # fmt: skip
    return rows


# --- the experiment ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """A sweep: the training settings (target replaced per point), the targets and the baselines.

    Attributes:
        train: :class:`~compress.hwtrain.HwTrainConfig` (its ``target`` is replaced by each sweep value).
        lambdas: penalty weights of the sweep (penalised form), or
        budgets: budgets of the sweep (constrained form); exactly one of the two is non-empty.
        magnitude_densities: overall densities of the magnitude-pruning baseline (:func:`magnitude_profile`).
        deep_compression: run the Deep Compression point.
        eval_images: test images run through the simulator (batch 1 each).
        dense_epochs: epochs of the dense baseline (None: its default).
    """

    train: HwTrainConfig
    lambdas: tuple[float, ...] = ()
    budgets: tuple[float, ...] = ()
    magnitude_densities: tuple[float, ...] = (0.1, 0.06, 0.04, 0.025)
    deep_compression: bool = True
    eval_images: int = 100
    dense_epochs: int | None = None


def _point_key(kind: str, value: float) -> str:
    return f"{kind}-{value:g}"


def write_json(path: Path, value: Any) -> None:
    """``value`` as indented JSON, written atomically."""
    write_atomically(path, dumps_json(value, indent=1))


def run_experiment(
    config: ExperimentConfig,
    data: Dataset,
    out_dir: str | Path,
    *,
    progress: bool = True,
    log: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
    callback: Callable[[str, int, Any], None] | None = None,
    baseline_cache: str | Path | None = None,
) -> dict[str, Any]:
    """Run (or resume) the sweep into ``out_dir``; returns the JSON-able report (also written there).

    Each finished point is stored in ``out_dir/points/<key>.json`` and skipped on a rerun; an unfinished
    one resumes from its checkpoint in ``out_dir/checkpoints``. ``callback(point_key, epochs_done, state)``
    runs after every training epoch (a test stops a run by raising from it). ``baseline_cache``: folder
    of the dense baseline's cache (default: the shared one of :mod:`compress.baseline`).

    A stored ``config.json`` or point that does not parse (cut short by a crash) is renamed to
    ``NAME.corrupt`` with a ``warn`` line (default: stderr) and recomputed; a ``config.json`` with other
    settings is a :class:`~hwcost.errors.UsageError`.
    """
    from compress.baseline import dense_baseline

    tc = config.train
    warn = warn or (lambda line: print(line, file=sys.stderr))
    out = Path(out_dir)
    (out / "points").mkdir(parents=True, exist_ok=True)
    settings = json.dumps(to_jsonable(config), sort_keys=True)
    stored = out / "config.json"
    previous = load_json_or_set_aside(stored, warn)  # a file that does not parse is set aside, not "other settings"
    if previous is not None and json.dumps(previous, sort_keys=True) != settings:
        raise UsageError(
            f"out={str(out_dir)!r} holds a run with other settings ({stored}); resume it with the same settings "
            "or choose another output directory"
        )
    write_atomically(stored, settings)
    ckpt_dir = out / "checkpoints"
    dense = as_jnp(dense_baseline(tc.model, data, seed=tc.seed, epochs=config.dense_epochs, cache_dir=baseline_cache,
                                  progress=progress))  # fmt: skip
    training = hwtrain.hwaware_training(tc, len(data.train_labels) // tc.batch_size)
    setup = training.setup
    eval_images = np.asarray(data.test_images[: config.eval_images])
    ones = jax.tree.map(jnp.ones_like, dense)

    def point(key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        path = out / "points" / f"{key}.json"
        stored = load_json_or_set_aside(path, warn)
        if isinstance(stored, dict) and "test_error_pct" in stored:
            return stored
        if stored is not None:  # valid JSON but not a point: set aside too
            set_aside(path, "not a finished point", warn)
        log(f"[{key}] ...")
        result = compute()
        write_json(path, result)
        log(f"[{key}] test error {result['test_error_pct']:.2f}%, exact {tc.objective} "
            f"{exact_value(result, tc.objective):.4g}")  # fmt: skip
        return result

    def train(key: str, target: hwtrain.Target, masks: Any = None) -> tuple[Any, list, dict, dict]:
        cb = None if callback is None else (lambda e, s: callback(key, e, s))
        state, history = hwtrain.train_hwaware(training, dense, data, target, masks=masks,
                                               checkpoint=ckpt_dir / f"{key}.ckpt", progress=progress, desc=key,
                                               callback=cb)  # fmt: skip
        masks, weights = hwtrain.final_weights(training, state)
        return state, history, masks, weights

    points: dict[str, dict[str, Any]] = {}
    points["dense"] = point("dense", lambda: {"kind": "dense", **evaluate_point(setup, data, dense, ones, eval_images)})

    sweep = [("lambda", v) for v in config.lambdas] + [("budget", v) for v in config.budgets]
    for kind, value in sweep:
        key = _point_key(kind, value)

        def compute(kind: str = kind, value: float = value, key: str = key) -> dict[str, Any]:
            target = Penalty(value) if kind == "lambda" else Budget(value)
            state, history, masks, weights = train(key, target)
            save_checkpoint(out / "models" / f"{key}.ckpt", weights, {"model": tc.model, kind: value})
            res = evaluate_point(setup, data, weights, masks, eval_images, decisions=state.decisions)
            exported = export_compressed(tc.model, weights, out / "models" / f"{key}.hwdc")
            res["compressed_file"] = exported | {"test_error_pct": 100.0 * error_rate(
                setup.network, load_compressed_weights(out / "models" / f"{key}.hwdc"), data.test_images,
                data.test_labels)}  # fmt: skip
            res.update(kind="joint", target={kind: value}, history=history, final_lambda=float(state.lam),
                       thresholds=_thresholds(state.decisions))  # fmt: skip
            return res

        points[key] = point(key, compute)

    for d in config.magnitude_densities:
        key = _point_key("magnitude", d)

        def compute_mag(d: float = d, key: str = key) -> dict[str, Any]:
            _, history, masks, weights = train(
                key, Penalty(0.0), prune_by_magnitude(dense, magnitude_profile(tc.model, d))
            )
            res = evaluate_point(setup, data, weights, masks, eval_images)
            res.update(kind="magnitude", density=d, history=history)
            return res

        points[key] = point(key, compute_mag)

    if config.deep_compression:

        def compute_dc() -> dict[str, Any]:
            from compress import export
            from compress.deep_compression import run_pipeline

            workdir = out / "deep_compression"
            report = run_pipeline(tc.model, data, seed=tc.seed, workdir=workdir, progress=progress)
            _, loaded = export.load_params(workdir / f"{tc.model}.hwdc")
            weights = as_jnp(loaded)
            masks = {k: {"kernel": (v["kernel"] != 0).astype(jnp.float32), "bias": jnp.ones_like(v["bias"])}
                     for k, v in weights.items()}  # fmt: skip
            res = evaluate_point(setup, data, weights, masks, eval_images)
            res.update(kind="deep_compression", pipeline_test_error_pct=report["test_error_after"])
            return res

        points["deep_compression"] = point("deep_compression", compute_dc)

    report = summarize(config, points)
    write_json(out / "report.json", report)
    return report


EXPORT_WEIGHT_BITS = 6
"""Bits per shared weight of the exported file (Deep Compression's LeNet setting, Table 2)."""


def export_compressed(model_name: str, weights: Mapping[str, Mapping[str, Any]], path: Path) -> dict[str, Any]:
    """Write ``weights`` in the compressed format of :mod:`compress.export` (k-means shared weights, relative
    indices, Huffman); returns ``{"path", "bytes", "weight_bits"}``."""
    from compress import encoding, export, sharing

    encoded = []
    for layer, leaves in weights.items():
        shared = sharing.share_kernel(np.asarray(leaves["kernel"]), EXPORT_WEIGHT_BITS)
        encoded.append(encoding.encode_layer(layer, shared, encoding.LENET_INDEX_BITS, np.asarray(leaves["bias"])))
    export.save_compressed(path, model_name, encoded)
    return {"path": path.name, "bytes": path.stat().st_size, "weight_bits": EXPORT_WEIGHT_BITS}


def load_compressed_weights(path: Path) -> dict:
    """Weights read back from a compressed file (``{layer: {"kernel", "bias"}}``, jnp arrays)."""
    from compress import export

    _, loaded = export.load_params(path)
    return as_jnp(loaded)


def magnitude_profile(model_name: str, density: float) -> dict[str, float]:
    """Per-layer densities of the magnitude baseline at overall weight density ``density``: in the proportions
    of Deep Compression's hand-tuned per-layer densities (Tables 2 and 3), scaled together and capped at 1,
    the cap's excess redistributed over the other layers (a stronger baseline than one density everywhere:
    ``benchmarks/results/hwaware_lenet300.json``). A model without a Deep Compression recipe (the LSTM) gets
    ``density`` on every layer."""
    from compress.deep_compression import CONFIGS

    sizes = {s.name: s.num_weights for s in layer_specs(model_name)}
    if model_name not in CONFIGS:
        return {k: density for k in sizes}
    ref = CONFIGS[model_name].densities
    total = sum(sizes.values())
    capped: dict[str, float] = {}
    for _ in range(len(sizes)):
        free = [k for k in sizes if k not in capped]
        budget = density * total - sum(sizes[k] for k in capped)
        scale = budget / sum(ref[k] * sizes[k] for k in free)
        over = [k for k in free if ref[k] * scale >= 1.0]
        if not over:
            return {**capped, **{k: ref[k] * scale for k in free}}
        capped.update({k: 1.0 for k in over})
    return {k: 1.0 for k in sizes}


def _thresholds(decisions: Mapping[str, Any]) -> dict[str, float]:
    return {layer: float(d.threshold) for layer, d in decisions.items() if d.threshold is not None}


def summarize(config: ExperimentConfig, points: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The report: every point with its relative exact cost, the Pareto fronts and the dominance ratios."""
    tc = config.train
    objective = tc.objective
    okey = _objective_key(objective)
    ref = exact_value(points["dense"], objective)
    rows = []
    for key, p in points.items():
        exact = exact_value(p, objective)
        m = p["model"]
        rows.append({
            "point": key,
            "kind": p["kind"],
            "test_error_pct": p["test_error_pct"],
            "exact_rel_dense": exact / ref,
            "exact": exact,
            "hard_model": m["hard"][okey],
            "relaxed_model": m["relaxed"][okey],
            "hard_over_exact": m["hard"][okey] / exact if exact else None,
            "relaxed_over_exact": m["relaxed"][okey] / exact if exact else None,
            "weight_density": _overall_density(p["structure"]),
        })  # fmt: skip
    joint = [(r["test_error_pct"], r["exact"]) for r in rows if r["kind"] == "joint"]
    mag = [(r["test_error_pct"], r["exact"]) for r in rows if r["kind"] == "magnitude"]
    ratios = dominance_ratios(joint, mag)
    valid = [r for r in ratios if r["ratio"] is not None]
    dc = [r for r in rows if r["kind"] == "deep_compression"]
    return {
        "model": tc.model,
        "hardware": tc.hardware,
        "objective": objective,
        "exact_source": "archsim" if "archsim" in points["dense"] else "hard model",
        "exact_unit": "pJ" if objective == "energy" else "cycles",
        "dense_exact": ref,
        "config": to_jsonable(config),
        "rows": rows,
        "pareto_joint": [rows[i]["point"] for i in _front_of(rows, "joint")],
        "pareto_magnitude": [rows[i]["point"] for i in _front_of(rows, "magnitude")],
        "dominance_vs_magnitude": ratios,
        "best_ratio_vs_magnitude": max(valid, key=lambda r: r["ratio"]) if valid else None,
        "dominance_vs_deep_compression": dominance_ratios(joint, [(dc[0]["test_error_pct"], dc[0]["exact"])])[0]
        if dc
        else None,
        "points": points,
    }


def _front_of(rows: Sequence[Mapping[str, Any]], kind: str) -> list[int]:
    idx = [i for i, r in enumerate(rows) if r["kind"] == kind]
    front = pareto_front([(rows[i]["test_error_pct"], rows[i]["exact"]) for i in idx])
    return [idx[j] for j in front]


def _overall_density(structure: Mapping[str, Mapping[str, Any]]) -> float:
    # Weighted by layer size: inputs x outputs of the kernel matrix.
    num = sum(s["weight_density"] * s["inputs"] * s["outputs"] for s in structure.values())
    den = sum(s["inputs"] * s["outputs"] for s in structure.values())
    return num / den


def plot_report(report: Mapping[str, Any], path: str | Path) -> Path:
    """PNG of test error vs exact cost relative to dense: joint sweep, magnitude pruning, Deep Compression
    (written atomically)."""
    import io

    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    styles = {
        "joint": ("o-", "C0", "hardware-aware (joint)"),
        "magnitude": ("s--", "C1", "magnitude pruning"),
        "deep_compression": ("D", "C2", "Deep Compression"),
        "dense": ("*", "k", "dense"),
    }
    for kind, (style, color, label) in styles.items():
        rows = sorted((r for r in report["rows"] if r["kind"] == kind), key=lambda r: r["exact_rel_dense"])
        if rows:
            ax.plot([r["exact_rel_dense"] for r in rows], [r["test_error_pct"] for r in rows], style,
                    color=color, label=label, markersize=7)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    name = "energy" if report["objective"] == "energy" else "latency"
    ax.set_xlabel(f"{report['hardware'].upper()} {name} relative to dense ({report['exact_source']})")
    ax.set_ylabel("test error (%)")
    ax.set_title(f"{report['model']}: accuracy vs simulated {name}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return write_atomically(path, buffer.getvalue())
