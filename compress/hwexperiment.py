"""The hardware-aware training experiment: a sweep of the joint method against the hardware-agnostic
baselines, each point measured exactly, with its Pareto analysis, report and plot.

Points (all from the same cached dense baseline, :func:`compress.baseline.dense_baseline`):

* ``joint``: :class:`compress.hwtrain.Trainer` at each λ (or budget B) of the sweep;
* ``magnitude``: hardware-agnostic element-wise magnitude pruning at several overall densities (per-layer
  densities in Deep Compression's proportions, :func:`magnitude_profile`), retrained under fixed masks for
  the same number of epochs with the same optimizer;
* ``deep_compression``: the Deep Compression pipeline (:func:`compress.deep_compression.run_pipeline`),
  evaluated on the weights read back from its exported file;
* ``dense``: the baseline itself (the reference of every relative cost).

Every point gets its test error (full MNIST test set) and three values of the cost:

* ``relaxed``: the differentiable model as trained (soft masks at the final temperature, straight-through
  activation indicators, relaxed hardware) on the evaluation images;
* ``hard``: the same model evaluated exactly (exact masks, exact densities, ``model.hard(hw)``);
* ``archsim`` (EIE only): the cycle-level simulator on the real pruned weight matrices and the real
  activations of each evaluation image, batch 1 as EIE runs, its exact action counts priced with the
  model's per-action energies (:func:`hwcost.cost.price_action_counts`, the pricing of
  ``hwcost simulate``). An input whose weight column is empty is dropped before the broadcast (the
  compressed model stores which inputs it reads); convolutions run as one mat-vec per output position.

The Pareto claim compares archsim values: for every magnitude point, the lowest joint energy among the
joint points with equal or better test error, and their ratio.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from compress import bridge
from compress.checkpoint import load_checkpoint, save_checkpoint
from compress.hwtrain import HwTrainConfig, Trainer, structure_summary
from compress.masks import prune_by_magnitude
from compress.training import error_rate
from hwcost.cost import price_action_counts
from models.datasets import Dataset
from models.lenet import apply_with_layer_inputs, layer_specs, make_model

Array = jax.Array


# --- exact cost on archsim --------------------------------------------------------------------------
def _layer_matvecs(spec: Any, kernel: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(W, activation vectors)`` of one layer and one image: W ``(out, in)``, vectors ``(P, in)``."""
    if spec.kind == "fc":
        w = kernel.T
        vecs = x.reshape(1, -1)
    else:
        kh, kw, c, k = kernel.shape
        w = kernel.reshape(kh * kw * c, k).T
        win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(0, 1))  # (Ho, Wo, C, kh, kw)
        vecs = win.transpose(0, 1, 3, 4, 2).reshape(-1, kh * kw * c)
    alive = np.any(w != 0, axis=0)
    return w, vecs * alive[None, :]


def archsim_cost(model_name: str, weights: Mapping[str, Mapping[str, Any]], images: np.ndarray) -> dict[str, Any]:
    """Exact EIE cost of a (masked) network, mean over ``images`` run one at a time.

    Args:
        model_name: ``"lenet300"`` or ``"lenet5"``.
        weights: ``{layer: {"kernel", "bias"}}`` as the network runs (pruned weights exactly zero).
        images: (N, 28, 28, 1) evaluation images.

    Returns:
        ``{"energy_pj", "latency_cycles", "layers": {layer: {"energy_pj", "latency_cycles", "breakdown_pj",
        "broadcasts"}}}``, means per image; pJ and cycles.
    """
    from archsim import eie as archsim_eie  # the independent reference simulator
    from hwcost import eie as eie_model

    specs = layer_specs(model_name)
    hw = eie_model.EIE_64PE_45NM
    per_action = eie_model.action_energies_pj(hw)
    model = make_model(model_name)
    _, inputs = apply_with_layer_inputs(model, weights, jnp.asarray(images))
    n = len(images)
    layers: dict[str, Any] = {}
    for spec in specs:
        kernel = np.asarray(weights[spec.name]["kernel"], np.float64)
        xs = np.asarray(inputs[spec.name], np.float64)
        counts: dict[str, float] = {}
        cycles = 0.0
        broadcasts = 0.0
        for i in range(n):
            w, vecs = _layer_matvecs(spec, kernel, xs[i])
            coo = archsim_eie.CooMatrix.from_dense(w)
            for vec in vecs:
                sim = archsim_eie.simulate(coo, vec, pes=archsim_eie.DEFAULT_PES)
                for key, value in sim.action_counts().items():
                    counts[key] = counts.get(key, 0.0) + value
                cycles += sim.cycles
                broadcasts += sim.broadcasts
        counts = {k: v / n for k, v in counts.items()}
        breakdown = price_action_counts(counts, per_action)
        layers[spec.name] = {
            "energy_pj": sum(breakdown.values()),
            "latency_cycles": cycles / n,
            "breakdown_pj": breakdown,
            "broadcasts": broadcasts / n,
        }
    return {
        "energy_pj": sum(v["energy_pj"] for v in layers.values()),
        "latency_cycles": sum(v["latency_cycles"] for v in layers.values()),
        "layers": layers,
    }


# --- model values -----------------------------------------------------------------------------------
def model_costs(
    trainer: Trainer,
    weights: Mapping[str, Mapping[str, Any]],
    masks: Mapping[str, Mapping[str, Any]],
    images: np.ndarray,
    *,
    mask_params: Any = None,
) -> dict[str, Any]:
    """Relaxed and hard values of the differentiable model on ``images`` (absolute and relative to dense).

    ``relaxed``: soft masks at the final temperature (if ``mask_params``; else the exact masks),
    straight-through activation indicators (exact value, as in training), relaxed hardware. ``hard``: exact
    masks and indicators, ``model.hard(hw)``.
    """
    cm, hw = trainer.cost_model, trainer.hw
    _, inputs = apply_with_layer_inputs(trainer.model, weights, jnp.asarray(images))
    out = {}
    for kind in ("relaxed", "hard"):
        exact = kind == "hard"
        m, gates = masks, {}
        if not exact and mask_params is not None:
            t_end = jnp.asarray(trainer.config.temperature_end, jnp.float32)
            m, _, gates = trainer.masks_and_weights(trainer_params_like(weights), mask_params, t_end, ste=False)
            # soft masks of the *final* weights (frozen structure): scores and thresholds as learned
        lowered = bridge.lower_network(
            trainer.specs, m, inputs, act_temperature=trainer.config.act_temperature, ste=True, exact=exact,
            gates=gates, **trainer.lowering,
        )  # fmt: skip
        h = cm.hard(hw) if exact else hw
        value = bridge.network_cost_value(cm, h, lowered)
        dense = bridge.network_cost_value(cm, h, trainer.dense)
        out[kind] = {
            "energy_pj": float(value.energy_pj),
            "latency_cycles": float(value.latency_cycles),
            "energy_rel_dense_model": float(value.energy_pj / dense.energy_pj),
            "latency_rel_dense_model": float(value.latency_cycles / dense.latency_cycles),
            "layers": {
                w.name: {
                    "weight_density": float(w.weight_density),
                    "activation_density": float(w.activation_density),
                    "energy_pj": float(sum(e.values())),
                    "latency_cycles": float(lat),
                    "breakdown_pj": {k: float(v) for k, v in e.items()},
                }
                for w, e, lat in zip(lowered.layers, value.layer_energy_pj, value.layer_latency_cycles, strict=True)
            },
        }
    return out


def trainer_params_like(weights: Mapping[str, Mapping[str, Any]]) -> dict:
    """``weights`` as a plain dict of jnp arrays (the params argument of the mask functions)."""
    return {k: {n: jnp.asarray(v) for n, v in leaves.items()} for k, leaves in weights.items()}


def evaluate_point(
    trainer: Trainer,
    data: Dataset,
    weights: Mapping[str, Mapping[str, Any]],
    masks: Mapping[str, Mapping[str, Any]],
    eval_images: np.ndarray,
    *,
    mask_params: Any = None,
    exact_sim: bool = True,
) -> dict[str, Any]:
    """Test error (percent, full test set), structure, model values and (EIE) the archsim cost."""
    err = 100.0 * error_rate(trainer.model, weights, data.test_images, data.test_labels)
    point: dict[str, Any] = {
        "test_error_pct": err,
        "structure": structure_summary(weights),
        "model": model_costs(trainer, weights, masks, eval_images, mask_params=mask_params),
    }
    if exact_sim and trainer.config.hardware == "eie":
        point["archsim"] = archsim_cost(trainer.config.model, weights, eval_images)
    return point


# --- Pareto analysis --------------------------------------------------------------------------------
def exact_value(point: Mapping[str, Any], objective: str) -> float:
    """The exact cost of a point: archsim if measured, else the hard model (pJ or cycles)."""
    key = "energy_pj" if objective == "energy" else "latency_cycles"
    if "archsim" in point:
        return float(point["archsim"][key])
    return float(point["model"]["hard"][key])


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
        if ok:
            c, e = min(ok)
            rows.append({"baseline_error_pct": b_err, "baseline_cost": b_cost, "joint_error_pct": e,
                         "joint_cost": c, "ratio": b_cost / c})  # fmt: skip
        else:
            rows.append({"baseline_error_pct": b_err, "baseline_cost": b_cost, "joint_error_pct": None,
                         "joint_cost": None, "ratio": None})  # fmt: skip
    return rows


# --- the experiment ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """A sweep: the training settings (target overridden per point), the targets and the baselines.

    Attributes:
        train: :class:`HwTrainConfig` (its ``lam``/``budget`` are replaced by each sweep value).
        lambdas: penalty weights of the sweep (penalised form), or
        budgets: budgets of the sweep (constrained form); exactly one of the two is non-empty.
        magnitude_densities: overall densities of the magnitude-pruning baseline (:func:`magnitude_profile`).
        deep_compression: run the Deep Compression point.
        eval_images: test images run through archsim (batch 1 each).
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


def run_experiment(
    config: ExperimentConfig,
    data: Dataset,
    out_dir: str | Path,
    *,
    progress: bool = True,
    log: Callable[[str], None] = print,
    callback: Callable[[str, int, Any], None] | None = None,
    baseline_cache: str | Path | None = None,
) -> dict[str, Any]:
    """Run (or resume) the sweep into ``out_dir``; returns the JSON-able report (also written there).

    Each finished point is stored in ``out_dir/points/<key>.json`` and skipped on a rerun; an unfinished
    one resumes from its checkpoint in ``out_dir/checkpoints``. ``callback(point_key, epochs_done, state)``
    runs after every training epoch (a test stops a run by raising from it). ``baseline_cache``: folder
    of the dense baseline's cache (default: the shared one of :mod:`compress.baseline`).
    """
    from compress.baseline import dense_baseline  # heavy import chain, only needed here

    tc = config.train
    out = Path(out_dir)
    (out / "points").mkdir(parents=True, exist_ok=True)
    settings = json.dumps(_jsonable(dataclasses.asdict(config)), sort_keys=True)
    stored = out / "config.json"
    if stored.is_file() and stored.read_text() != settings:
        raise ValueError(
            f"out={str(out_dir)!r} holds a run with other settings ({stored}); resume it with the same settings "
            "or choose another output directory"
        )
    stored.write_text(settings)
    ckpt_dir = out / "checkpoints"
    dense = dense_baseline(
        tc.model, data, seed=tc.seed, epochs=config.dense_epochs, cache_dir=baseline_cache, progress=progress
    )
    dense = trainer_params_like(dense)
    trainer = Trainer(tc, data)
    eval_images = np.asarray(data.test_images[: config.eval_images])
    ones = jax.tree.map(jnp.ones_like, dense)

    def point(key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        path = out / "points" / f"{key}.json"
        if path.is_file():
            return json.loads(path.read_text())
        log(f"[{key}] ...")
        result = compute()
        path.write_text(json.dumps(result, indent=1))
        log(f"[{key}] test error {result['test_error_pct']:.2f}%, exact {tc.objective} "
            f"{exact_value(result, tc.objective):.4g}")  # fmt: skip
        return result

    points: dict[str, dict[str, Any]] = {}
    points["dense"] = point(
        "dense", lambda: {"kind": "dense", **evaluate_point(trainer, data, dense, ones, eval_images)}
    )

    sweep = [("lambda", v) for v in config.lambdas] + [("budget", v) for v in config.budgets]
    for kind, value in sweep:
        key = _point_key(kind, value)

        def compute(kind: str = kind, value: float = value, key: str = key) -> dict[str, Any]:
            target = {"lam": value} if kind == "lambda" else {"budget": value}
            cb = None if callback is None else (lambda e, s, k=key: callback(k, e, s))
            state, history = trainer.train(
                dense, **target, checkpoint=ckpt_dir / f"{key}.ckpt", progress=progress, desc=key, callback=cb
            )
            masks, weights = trainer.final_weights(state)
            save_checkpoint(out / "models" / f"{key}.ckpt", weights, {"model": tc.model, kind: value})
            res = evaluate_point(trainer, data, weights, masks, eval_images, mask_params=state.mask_params)
            exported = export_compressed(tc.model, weights, out / "models" / f"{key}.hwdc")
            if exported is not None:
                res["compressed_file"] = exported | {"test_error_pct": 100.0 * error_rate(
                    trainer.model, load_compressed_weights(out / "models" / f"{key}.hwdc"),
                    data.test_images, data.test_labels)}  # fmt: skip
            res.update(kind="joint", target={kind: value}, history=history, final_lambda=float(state.lam),
                       thresholds=_thresholds(state.mask_params))  # fmt: skip
            return res

        points[key] = point(key, compute)

    for d in config.magnitude_densities:
        key = _point_key("magnitude", d)

        def compute_mag(d: float = d, key: str = key) -> dict[str, Any]:
            masks = prune_by_magnitude(dense, magnitude_profile(tc.model, d))
            cb = None if callback is None else (lambda e, s, k=key: callback(k, e, s))
            state, history = trainer.train(
                dense, masks=masks, checkpoint=ckpt_dir / f"{key}.ckpt", progress=progress, desc=key, callback=cb
            )
            masks, weights = trainer.final_weights(state)
            res = evaluate_point(trainer, data, weights, masks, eval_images)
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
            weights = trainer_params_like(loaded)
            masks = {k: {"kernel": (v["kernel"] != 0).astype(jnp.float32), "bias": jnp.ones_like(v["bias"])}
                     for k, v in weights.items()}  # fmt: skip
            res = evaluate_point(trainer, data, weights, masks, eval_images)
            res.update(kind="deep_compression", pipeline_test_error_pct=report["test_error_after"])
            return res

        points["deep_compression"] = point("deep_compression", compute_dc)

    report = summarize(config, points)
    (out / "report.json").write_text(json.dumps(report, indent=1))
    return report


EXPORT_WEIGHT_BITS = 6
"""Bits per shared weight of the exported file (Deep Compression's LeNet setting, Table 2)."""


def export_compressed(model_name: str, weights: Mapping[str, Mapping[str, Any]], path: Path) -> dict[str, Any] | None:
    """Write ``weights`` in the compressed format of :mod:`compress.export` (k-means shared weights, relative
    indices, Huffman); returns ``{"path", "bytes"}``, or None when that module is not available."""
    import importlib.util

    if importlib.util.find_spec("compress.export") is None:
        return None
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
    return trainer_params_like(loaded)


def magnitude_profile(model_name: str, density: float) -> dict[str, float]:
    """Per-layer densities of the magnitude baseline at overall weight density ``density``: in the proportions
    of Deep Compression's hand-tuned per-layer densities (Tables 2 and 3), scaled together and capped at 1,
    the cap's excess redistributed over the other layers. A stronger baseline than one density everywhere
    (measured on LeNet-300-100 at 10 %: one density everywhere 2.5 % test error, the profile 1.9 %)."""
    from compress.deep_compression import CONFIGS

    sizes = {s.name: s.num_weights for s in layer_specs(model_name)}
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


def _thresholds(mask_params: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    return {layer: float(e["threshold"]) for layer, e in mask_params.items() if "threshold" in e}


def summarize(config: ExperimentConfig, points: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The report: every point with its relative exact cost, the Pareto fronts and the dominance ratios."""
    tc = config.train
    objective = tc.objective
    ref = exact_value(points["dense"], objective)
    rows = []
    for key, p in points.items():
        exact = exact_value(p, objective)
        m = p["model"]
        okey = "energy_pj" if objective == "energy" else "latency_cycles"
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
    best = max(valid, key=lambda r: r["ratio"]) if valid else None
    dc = [r for r in rows if r["kind"] == "deep_compression"]
    dc_ratio = dominance_ratios(joint, [(dc[0]["test_error_pct"], dc[0]["exact"])])[0] if dc else None
    exact_source = "archsim" if "archsim" in points["dense"] else "hard model"
    return {
        "model": tc.model,
        "hardware": tc.hardware,
        "objective": objective,
        "exact_source": exact_source,
        "exact_unit": "pJ" if objective == "energy" else "cycles",
        "dense_exact": ref,
        "config": _jsonable(dataclasses.asdict(config)),
        "rows": rows,
        "pareto_joint": [rows[i]["point"] for i in _front_of(rows, "joint")],
        "pareto_magnitude": [rows[i]["point"] for i in _front_of(rows, "magnitude")],
        "dominance_vs_magnitude": ratios,
        "best_ratio_vs_magnitude": best,
        "dominance_vs_deep_compression": dc_ratio,
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


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def plot_report(report: Mapping[str, Any], path: str | Path) -> Path:
    """PNG of test error vs exact cost relative to dense: joint sweep, magnitude pruning, Deep Compression."""
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
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def load_state_weights(path: str | Path, model_name: str) -> dict:
    """Masked weights saved by :func:`run_experiment` (``out_dir/models/<key>.ckpt``)."""
    from models.lenet import init_params

    weights, _ = load_checkpoint(path, init_params(model_name))
    return weights
