"""Trained Ternary Quantization (Zhu, Han, Mao, Dally, ICLR'17, arXiv 1612.01064).

Each ternarized layer keeps full-precision *latent* weights w̃ (normalised to [-1, 1] by their maximum
magnitude when TTQ starts, paper §3) and two learned scales, W_p and W_n (both positive). The network
runs with the ternary weights

    w_t = W_p    if w̃ >  Δ
    w_t = 0      if |w̃| <= Δ
    w_t = -W_n   if w̃ < -Δ,        Δ = t · max|w̃|   (paper Eq. 6; t = 0.05 by default)

Gradients (paper Eqs. 7-8, implemented as a ``jax.custom_vjp``), with g = ∂L/∂w_t:

* ∂L/∂W_p = Σ_{i∈I_p} g_i and ∂L/∂W_n = -Σ_{i∈I_n} g_i. The paper prints Eq. 7 for W_n without the
  minus sign; with w_t = -W_n and W_n > 0 the chain rule gives the minus sign, and so do the authors'
  code (``czhu95/ternarynet`` ``ternary.py``, ``w = sign(x) * mask * W_n``) and autodiff. We follow the
  chain rule (a positive W_n grows when making the negative weights more negative lowers the loss).
* ∂L/∂w̃ = W_p·g (w̃ > Δ), 1·g (|w̃| <= Δ), W_n·g (w̃ < -Δ) — the paper's scaled straight-through rule.
* ∂L/∂t: the paper keeps t fixed. So that a hardware-aware trainer can learn the threshold, ``t`` is a
  traced input and gets a surrogate gradient: the step functions 1[w̃ > Δ] and 1[w̃ < -Δ] are replaced,
  in the backward pass only, by logistic functions of width τ = ``t_grad_temperature`` · max|w̃|.
  ``t_grad_temperature=0`` gives a zero gradient (the paper's fixed threshold).

The scales are initialised, by default, to the mean magnitude of the weights on each side of the
threshold (the least-squares ternary fit for that support, in the units of the original weights), so
the ternary network starts close to the pretrained one. The authors' code initialises them to 1.0
(``scale_init="one"``), which is harmless in their batch-normalised networks but rescales every layer
of the un-normalised LeNets.

Parameters are kept as ``{"latent": params, "scales": {layer: {"w_p": (), "w_n": ()}}}``; layers listed
in ``scales`` are ternarized, the others (by default the first and the last, as in the paper's AlexNet,
``tw-imagenet-alexnet.py``) stay in full precision. Biases are never ternarized.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import optax

from compress.baseline import baseline_for
from compress.training import error_rate, train
from hwcost.checks import check_choice, check_fraction, check_non_negative
from models.datasets import Dataset, subset
from models.lenet import layer_specs, make_model

# TTQ threshold factor: Δ = t · max|w̃|, t = 0.05 (Zhu et al., ICLR'17 §3; `--t 0.05` in the authors'
# CIFAR-10 and ImageNet scripts, czhu95/ternarynet).
DEFAULT_THRESHOLD_FACTOR = 0.05
# Width of the backward-only logistic relaxation of the threshold, in units of t (ours, not the paper's).
DEFAULT_T_GRAD_TEMPERATURE = 0.02
# Storage per ternary weight: 2 bits (TTQ abstract: "nearly 16x smaller" than 32-bit).
TERNARY_WEIGHT_BITS = 2
FULL_PRECISION_BITS = 32
SCALE_INITS: tuple[str, ...] = ("mean", "one")

ThresholdFactor = float | jax.Array | Mapping[str, float | jax.Array]


@partial(jax.custom_vjp, nondiff_argnums=(4,))
def _ternarize(w: jax.Array, w_p: jax.Array, w_n: jax.Array, t: jax.Array, temperature: float) -> jax.Array:
    w_max = jax.lax.stop_gradient(jnp.max(jnp.abs(w)))
    delta = t * w_max
    return jnp.where(w > delta, w_p, jnp.where(w < -delta, -w_n, 0.0)).astype(w.dtype)


def _ternarize_fwd(w, w_p, w_n, t, temperature):
    return _ternarize(w, w_p, w_n, t, temperature), (w, w_p, w_n, t)


def _ternarize_bwd(temperature, residuals, g):
    w, w_p, w_n, t = residuals
    w_max = jnp.max(jnp.abs(w))
    delta = t * w_max
    pos, neg = w > delta, w < -delta
    g_w = jnp.where(pos, w_p * g, jnp.where(neg, w_n * g, g))
    g_wp = jnp.sum(jnp.where(pos, g, 0.0))
    g_wn = -jnp.sum(jnp.where(neg, g, 0.0))
    if temperature > 0:
        tau = temperature * w_max
        # w_t ≈ W_p σ((w̃-Δ)/τ) - W_n σ((-w̃-Δ)/τ); dΔ/dt = max|w̃| (held constant).
        dpos = jax.nn.sigmoid((w - delta) / tau)
        dneg = jax.nn.sigmoid((-w - delta) / tau)
        dw_t_ddelta = (-w_p * dpos * (1 - dpos) + w_n * dneg * (1 - dneg)) / tau
        g_t = jnp.sum(g * dw_t_ddelta) * w_max
    else:
        g_t = jnp.zeros_like(t)
    cast = lambda x, like: jnp.asarray(x, jnp.result_type(like)).reshape(jnp.shape(like))
    return cast(g_w, w), cast(g_wp, w_p), cast(g_wn, w_n), cast(g_t, t)


_ternarize.defvjp(_ternarize_fwd, _ternarize_bwd)


def ternarize(
    w: jax.Array,
    w_p: float | jax.Array,
    w_n: float | jax.Array,
    t: float | jax.Array = DEFAULT_THRESHOLD_FACTOR,
    *,
    t_grad_temperature: float = DEFAULT_T_GRAD_TEMPERATURE,
) -> jax.Array:
    """Ternary weights W_p / 0 / -W_n of latent weights ``w`` with threshold Δ = t · max|w| (TTQ Eq. 6).

    Differentiable in ``w``, ``w_p``, ``w_n`` (the paper's Eqs. 7-8) and ``t`` (a logistic surrogate of
    width ``t_grad_temperature`` · max|w|; 0 gives the paper's zero gradient), see the module docstring.

    Args:
        w: latent weights, any shape (dimensionless once normalised to [-1, 1]).
        w_p: positive scale, scalar, > 0 (units of the network weights).
        w_n: negative scale, scalar, > 0 (the negative level is -w_n).
        t: threshold factor, scalar in [0, 1); may be traced.
        t_grad_temperature: static, >= 0.

    Returns:
        Array of ``w``'s shape and dtype with values in {w_p, 0, -w_n}.
    """
    w = jnp.asarray(w)
    return _ternarize(
        w,
        jnp.asarray(w_p, w.dtype),
        jnp.asarray(w_n, w.dtype),
        jnp.asarray(t, w.dtype),
        float(t_grad_temperature),
    )


def ternary_density(w: jax.Array, t: float | jax.Array = DEFAULT_THRESHOLD_FACTOR) -> jax.Array:
    """Fraction of nonzero ternary weights, |w̃| > t · max|w̃| (a scalar in [0, 1]; jit-able, t may be traced).

    The hard count has zero gradient in ``t``; use :func:`soft_ternary_density` for a differentiable one.
    """
    w = jnp.asarray(w)
    delta = t * jnp.max(jnp.abs(w))
    return jnp.mean(jnp.abs(w) > delta)


def soft_ternary_density(
    w: jax.Array, t: float | jax.Array = DEFAULT_THRESHOLD_FACTOR, temperature: float = DEFAULT_T_GRAD_TEMPERATURE
) -> jax.Array:
    """Logistic relaxation of :func:`ternary_density`, mean σ((|w̃| - Δ)/τ) with τ = temperature · max|w̃|.

    Differentiable in ``w`` and ``t``; tends to the hard density as ``temperature`` -> 0.
    """
    w = jnp.asarray(w)
    w_max = jax.lax.stop_gradient(jnp.max(jnp.abs(w)))
    return jnp.mean(jax.nn.sigmoid((jnp.abs(w) - t * w_max) / (temperature * w_max)))


def default_ternary_layers(layer_names: Sequence[str], *, keep_first: bool = True, keep_last: bool = True) -> list[str]:
    """Layers to ternarize: all of ``layer_names`` (forward order) except, by default, the first and last
    (kept in full precision, as in the authors' AlexNet, ``tw-imagenet-alexnet.py``)."""
    names = list(layer_names)
    lo = 1 if keep_first else 0
    hi = len(names) - 1 if keep_last else len(names)
    return names[lo:hi]


def _layer_t(t: ThresholdFactor, layer: str) -> float | jax.Array:
    if isinstance(t, Mapping):
        if layer not in t:
            raise ValueError(f"t has no entry for layer {layer!r}; given: {', '.join(t)}")
        return t[layer]
    return t


def init_ttq(
    params: Mapping[str, Mapping[str, jax.Array]],
    layers: Sequence[str],
    *,
    t: ThresholdFactor = DEFAULT_THRESHOLD_FACTOR,
    scale_init: str = "mean",
) -> dict:
    """TTQ parameters from pretrained full-precision ``params``.

    Args:
        params: ``{layer: {"kernel": ..., "bias": ...}}`` (the dense network).
        layers: names of the layers to ternarize (see :func:`default_ternary_layers`).
        t: threshold factor (one for all layers or ``{layer: t}``), used for the scale initialisation.
        scale_init: ``"mean"`` (mean magnitude above the threshold on each side, original weight units)
            or ``"one"`` (1.0, the authors' code).

    Returns:
        ``{"latent": params with ternarized kernels divided by their max magnitude,
        "scales": {layer: {"w_p": scalar, "w_n": scalar}}}``.
    """
    check_choice("scale_init", scale_init, SCALE_INITS)
    for layer in layers:
        if layer not in params:
            raise ValueError(f"layers contains {layer!r}, not a layer of params ({', '.join(params)})")
    latent = {name: dict(leaves) for name, leaves in params.items()}
    scales = {}
    for layer in layers:
        w = jnp.asarray(params[layer]["kernel"])
        tl = _layer_t(t, layer)
        check_fraction(f"t[{layer}]", tl)
        w_max = jnp.max(jnp.abs(w))
        latent[layer]["kernel"] = w / w_max
        if scale_init == "one":
            w_p = w_n = jnp.ones((), w.dtype)
        else:
            delta = tl * w_max
            pos, neg = w > delta, w < -delta
            w_p = jnp.sum(jnp.where(pos, w, 0)) / jnp.maximum(jnp.sum(pos), 1)
            w_n = -jnp.sum(jnp.where(neg, w, 0)) / jnp.maximum(jnp.sum(neg), 1)
        scales[layer] = {"w_p": jnp.asarray(w_p, w.dtype), "w_n": jnp.asarray(w_n, w.dtype)}
    return {"latent": latent, "scales": scales}


def ttq_weights(
    ttq_params: Mapping[str, Any],
    t: ThresholdFactor = DEFAULT_THRESHOLD_FACTOR,
    *,
    t_grad_temperature: float = DEFAULT_T_GRAD_TEMPERATURE,
) -> dict:
    """Network weights from TTQ parameters: ternary kernels for the layers in ``scales``, the rest as is.

    ``t`` is one threshold factor or ``{layer: t}``; it may be traced (and trained, see :func:`ternarize`).
    """
    latent, scales = ttq_params["latent"], ttq_params["scales"]
    out = {}
    for layer, leaves in latent.items():
        leaves = dict(leaves)
        if layer in scales:
            s = scales[layer]
            leaves["kernel"] = ternarize(
                leaves["kernel"], s["w_p"], s["w_n"], _layer_t(t, layer), t_grad_temperature=t_grad_temperature
            )
        out[layer] = leaves
    return out


def ttq_transform(
    t: ThresholdFactor = DEFAULT_THRESHOLD_FACTOR, *, t_grad_temperature: float = DEFAULT_T_GRAD_TEMPERATURE
) -> Callable[[Any], dict]:
    """``ttq_params -> network weights`` with a fixed ``t``, for ``compress.training.train(transform=...)``."""
    check_non_negative("t_grad_temperature", t_grad_temperature)
    return partial(ttq_weights, t=t, t_grad_temperature=t_grad_temperature)


def ternary_densities(ttq_params: Mapping[str, Any], t: ThresholdFactor = DEFAULT_THRESHOLD_FACTOR) -> dict[str, float]:
    """Fraction of nonzero ternary weights of each ternarized layer, ``{layer: density in [0, 1]}``."""
    latent = ttq_params["latent"]
    return {
        layer: float(ternary_density(latent[layer]["kernel"], _layer_t(t, layer))) for layer in ttq_params["scales"]
    }


def ternary_scales(ttq_params: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Learned scales ``{layer: {"w_p": float, "w_n": float}}`` (units of the network weights)."""
    return {layer: {k: float(v) for k, v in s.items()} for layer, s in ttq_params["scales"].items()}


# ---------------------------------------------------------------------------------------------------------
# Pipeline: dense baseline -> TTQ fine-tuning -> report.

#: Fine-tuning epochs per model (ours; MNIST converges in a few epochs from the dense baseline).
DEFAULT_TTQ_EPOCHS: dict[str, int] = {"lenet300": 4, "lenet5": 4}
#: Adam learning rates, cosine-decayed to 1% over the run: latent weights (in [-1, 1] units) and scales
#: (network-weight units). The authors' AlexNet script uses Adam at 1e-4 (czhu95/ternarynet).
LATENT_LR = 1e-3
SCALE_LR = 1e-4
SMALL_TRAIN_EXAMPLES = 12_800
SMALL_TEST_EXAMPLES = 2_000


def ttq_optimizer(steps: int, latent_lr: float = LATENT_LR, scale_lr: float = SCALE_LR) -> optax.GradientTransformation:
    """Adam for TTQ parameters: ``latent_lr`` for the latent weights and biases, ``scale_lr`` for W_p/W_n,
    both cosine-decayed to 1% over ``steps`` optimizer updates."""

    def adam(lr: float) -> optax.GradientTransformation:
        return optax.adam(optax.cosine_decay_schedule(lr, max(1, steps), alpha=0.01))

    def labels(params: Any) -> dict:
        return {key: jax.tree.map(lambda _, k=key: k, params[key]) for key in ("latent", "scales")}

    return optax.multi_transform({"latent": adam(latent_lr), "scales": adam(scale_lr)}, labels)


def small_dataset(data: Dataset) -> Dataset:
    """The first :data:`SMALL_TRAIN_EXAMPLES` training and :data:`SMALL_TEST_EXAMPLES` test examples."""
    return subset(data, SMALL_TRAIN_EXAMPLES, SMALL_TEST_EXAMPLES)


def run_pipeline(
    model_name: str,
    data: Dataset,
    *,
    seed: int = 0,
    workdir: str | Path | None = None,
    progress: bool = True,
    small: bool = False,
    epochs: int | None = None,
    t: float = DEFAULT_THRESHOLD_FACTOR,
    full_precision_layers: Sequence[str] | None = None,
    scale_init: str = "mean",
) -> dict:
    """Dense baseline -> TTQ fine-tuning; returns the report dict.

    Args:
        model_name: ``"lenet300"`` or ``"lenet5"``.
        data: MNIST (:class:`models.datasets.Dataset`).
        seed: baseline and batch-order seed.
        workdir: folder for the fine-tuning checkpoint (resumable); a temporary folder if None.
        progress: progress bars.
        small: plumbing run (a 12,800-example subset, one baseline epoch, two TTQ epochs: 200 steps).
        epochs: TTQ fine-tuning epochs (default :data:`DEFAULT_TTQ_EPOCHS`).
        t: threshold factor (TTQ Eq. 6).
        full_precision_layers: layers kept in full precision (default: first and last).
        scale_init: ``"mean"`` or ``"one"``, see :func:`init_ttq`.

    Returns:
        ``{"model", "pipeline": "ttq", "test_error_before", "test_error_after" (percent), "layers": [...],
        "total": {...}, "details": {...}}``; per layer: ``layer, num_weights, weights_kept_pct (ternary
        density, %), w_p, w_n, weight_bits (2 ternary, 32 full precision), full_precision``.
    """
    model = make_model(model_name)
    specs = layer_specs(model_name)
    names = [s.name for s in specs]
    if full_precision_layers is None:
        layers = default_ternary_layers(names)
    else:
        for name in full_precision_layers:
            check_choice("full_precision_layers", name, names)
        layers = [n for n in names if n not in full_precision_layers]
    epochs = (2 if small else DEFAULT_TTQ_EPOCHS[model_name]) if epochs is None else epochs
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        if small:
            data = small_dataset(data)
        dense = baseline_for(model_name, data, seed=seed, workdir=work, progress=progress, small=small)
        before = 100.0 * error_rate(model, dense, data.test_images, data.test_labels)
        params = init_ttq(dense, layers, t=t, scale_init=scale_init)
        init_error = 100.0 * error_rate(model, ttq_weights(params, t), data.test_images, data.test_labels)
        batch_size = 128
        steps = epochs * (len(data.train_labels) // batch_size)
        tag = "-".join(layers) or "none"
        result = train(
            model,
            params,
            data,
            ttq_optimizer(steps),
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            transform=ttq_transform(t),
            checkpoint=work / f"ttq-{model_name}-seed{seed}-ep{epochs}-t{t:g}-{tag}-{scale_init}.ckpt",
            progress=progress,
            desc=f"ttq {model_name}",
        )
    params = result.params
    after = 100.0 * error_rate(model, ttq_weights(params, t), data.test_images, data.test_labels)
    densities = ternary_densities(params, t)
    scales = ternary_scales(params)
    rows, total_bits, kept = [], 0, 0.0
    for spec in specs:
        ternary = spec.name in scales
        density = densities[spec.name] if ternary else float(jnp.mean(params["latent"][spec.name]["kernel"] != 0))
        bits = TERNARY_WEIGHT_BITS if ternary else FULL_PRECISION_BITS
        # Storage: 2 bits per ternary weight plus the two 32-bit scales; 32 bits per full-precision weight.
        layer_bits = spec.num_weights * bits + (2 * FULL_PRECISION_BITS if ternary else 0)
        total_bits += layer_bits
        kept += density * spec.num_weights
        rows.append(
            {
                "layer": spec.name,
                "num_weights": spec.num_weights,
                "weights_kept_pct": 100.0 * density,
                "w_p": scales[spec.name]["w_p"] if ternary else None,
                "w_n": scales[spec.name]["w_n"] if ternary else None,
                "weight_bits": bits,
                "full_precision": not ternary,
                "storage_bits": layer_bits,
            }
        )
    num_weights = sum(s.num_weights for s in specs)
    return {
        "model": model_name,
        "pipeline": "ttq",
        "test_error_before": before,
        "test_error_after": after,
        "layers": rows,
        "total": {
            "num_weights": num_weights,
            "weights_kept_pct": 100.0 * kept / num_weights,
            "storage_bits": total_bits,
            "compression_rate": FULL_PRECISION_BITS * num_weights / total_bits,
        },
        "details": {
            "seed": seed,
            "small": small,
            "t": t,
            "ttq_epochs": epochs,
            "scale_init": scale_init,
            "ternary_layers": layers,
            "test_error_at_ttq_init": init_error,
            "epoch_losses": result.epoch_losses,
            "latent_lr": LATENT_LR,
            "scale_lr": SCALE_LR,
            "storage_rule": "2 bits per ternary weight + two 32-bit scales per ternary layer; 32 bits per "
            "full-precision weight; biases (32-bit, all layers) not counted",
            "test_examples": len(data.test_labels),
        },
    }
