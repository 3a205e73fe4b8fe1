"""The Regularity study's memory-reference experiment on SCNN: coarse-grained against fine-grained sparsity at
the same density (Mao et al., "Exploring the Regularity of Sparse Structure in CNNs", arXiv 1705.08922; CVPR
Workshops 2017 as "Exploring the Granularity of Sparsity in Convolutional Neural Networks"; papers.md §4 and
"Regularity (additions to section 4)"). The arXiv abstract claims coarse-grained sparsity saves "about 2x" the
memory references of fine-grained sparsity on SCNN, the CVPRW abstract "30%-35%" (1.43-1.54x).

Method. Every conv layer is pruned by group magnitude (:func:`compress.masks.magnitude_mask`, mean absolute
weight of the group) to the same density at each granularity of :data:`compress.ladder.LADDER_GRANULARITIES`
(element, vector = one kernel row, kernel, filter), or comes already pruned and retrained (the LeNet-5 rungs of
:func:`compress.ladder.run_ladder`). Each layer runs on the cycle-level SCNN simulator (:mod:`archsim.scnn`,
Table 3 design point, batch 1, one example at a time), and the product updates of the accumulators are also
counted with same-address products of one multiply cycle merged (:mod:`archsim.scnn_merging`; that mechanism is
our reading of how coarse granularity saves references, not the paper's text).

Memory references (dimensionless counts of buffer accesses, one per access whatever its width), per layer:

* ``weight_fifo_reads``: ``weight_fifo.read``, one F-vector read per multiply cycle;
* ``iaram_reads``: ``iaram.read``, one I-vector read per group, input channel and PE;
* ``oaram_writes``: ``oaram.write``, one compressed output value written;
* ``accumulator_refs``: as built ``accumulator.update + accumulator.read`` (every product and halo addition is a
  read-modify-write; the halo sends and the drain read); ``accumulator_refs_merged`` replaces the product part
  ``products`` of ``accumulator.update`` by the merged updates (halo additions and reads unchanged);
* ``dram_words``: ``(dram.read_bit + dram.write_bit) / (value_bits + index_bits)``, one stored entry (a 16-bit
  value and its 4-bit zero-run index) moved to or from DRAM.

``memory_refs`` (as built) and ``memory_refs_merged`` are the sums of these five. The weight FIFO writes (one
broadcast per F-vector, fed from the DRAM words already counted) and the multiplier and crossbar operations
(arithmetic and wires, not memory) are left out. Storage is reported beside them: bits of the pruned weights with
one relative index per kept group (:func:`compress.ladder.sparse_storage_bits`, best index width, 16-bit values
as SCNN stores them); SCNN itself stores weights element by element with its 4-bit run-length index, which the
DRAM words count. Ratios are each granularity's totals over element's (below 1: fewer references).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np

from archsim import scnn as archsim_scnn
from archsim.scnn_merging import merged_accumulator_updates
from compress.encoding import storage_order
from compress.ladder import LADDER_GRANULARITIES, sparse_storage_bits
from compress.masks import magnitude_mask
from hwcost.checks import check_choice, check_int_range
from models import conv_specs

#: Seed of the random AlexNet tensors (arXiv 1705.08922).
SEED = 1705
#: Per-layer memory-reference components, in report order (module docstring).
COMPONENTS: tuple[str, ...] = ("weight_fifo_reads", "iaram_reads", "oaram_writes", "accumulator_refs", "dram_words")
_SUMMED = (
    *COMPONENTS,
    "accumulator_refs_merged",
    "memory_refs",
    "memory_refs_merged",
    "products",
    "merged_product_updates",
    "halo_values",
    "storage_bits",
    "index_storage_bits",
    "weights",
    "nonzero_weights",
)


class ConvCase(NamedTuple):
    """One conv layer as the study runs it.

    Attributes:
        name: layer name.
        weights: ``(K, C, R, S)`` float array, already pruned (zeros are pruned weights).
        activations: ``(N, C, H, W)`` float array, ``N`` examples run one at a time (zeros are skipped).
        stride, padding: ``u >= 1``, ``p >= 0``.
        output_density: fraction of nonzero outputs after the layer, in [0, 1] (``oaram.write``).
        repeats: filter groups the layer has; one is simulated and its counts taken ``repeats`` times.
    """

    name: str
    weights: np.ndarray
    activations: np.ndarray
    stride: int
    padding: int
    output_density: float
    repeats: int = 1


def to_flax(weights: np.ndarray) -> np.ndarray:
    """``(K, C, R, S)`` -> flax kernel layout ``(R, S, C, K)``."""
    return np.transpose(np.asarray(weights), (2, 3, 1, 0))


def prune(weights: np.ndarray, density: float, granularity: str) -> np.ndarray:
    """``(K, C, R, S)`` weights with all but the most salient groups of ``granularity`` set to zero.

    Args:
        weights: ``(K, C, R, S)`` float array.
        density: kept fraction of the groups (= of the weights), in (0, 1].
        granularity: one of :data:`compress.ladder.LADDER_GRANULARITIES` (vector = one kernel row, ``S``
            weights at fixed ``(k, c, r)``).
    """
    check_choice("granularity", granularity, LADDER_GRANULARITIES)
    kernel = to_flax(weights)
    mask = np.asarray(magnitude_mask(jnp.asarray(kernel), density, granularity))
    return storage_order(kernel * mask)


def layer_references(
    case: ConvCase, granularity: str, config: archsim_scnn.ScnnConfig = archsim_scnn.SCNN
) -> dict[str, Any]:
    """Memory references of one layer summed over its examples and filter groups (module docstring).

    Returns a flat row: ``layer``, ``granularity``, ``weight_density`` (achieved), ``activation_density``
    (over all examples), the components of :data:`COMPONENTS`, ``accumulator_refs_merged``, ``memory_refs``,
    ``memory_refs_merged``, ``products``, ``merged_product_updates``, ``halo_values``, ``cycles``, the storage
    of the pruned weights (``storage_bits``, ``index_storage_bits``, ``index_bits``) and ``weights`` /
    ``nonzero_weights``. Counts are dimensionless, storage in bits.
    """
    check_choice("granularity", granularity, LADDER_GRANULARITIES)
    check_int_range("repeats", case.repeats, 1)
    acts = np.asarray(case.activations)
    if acts.ndim != 4:
        raise ValueError(f"activations ndim={acts.ndim} (shape {acts.shape}) must be 4: (N, C, H, W)")
    entry_bits = config.value_bits + config.index_bits
    totals = dict.fromkeys(("cycles", "products", "merged", "halo", *COMPONENTS[:3], "dram_bits", "acc"), 0)
    for example in acts:
        sim = archsim_scnn.simulate(
            case.weights, example, case.stride, case.padding, config, output_density=case.output_density
        )
        c = sim.counts
        totals["cycles"] += sim.cycles
        totals["products"] += sim.products
        totals["halo"] += sim.halo_values
        totals["merged"] += merged_accumulator_updates(case.weights, example, case.stride, case.padding, config)
        totals["weight_fifo_reads"] += c["weight_fifo.read"]
        totals["iaram_reads"] += c["iaram.read"]
        totals["oaram_writes"] += c["oaram.write"]
        totals["dram_bits"] += c["dram.read_bit"] + c["dram.write_bit"]
        totals["acc"] += c["accumulator.update"] + c["accumulator.read"]
    n = case.repeats
    row: dict[str, Any] = {
        "layer": case.name,
        "granularity": granularity,
        "examples": int(acts.shape[0]),
        "repeats": n,
        "weight_density": float(np.count_nonzero(case.weights) / case.weights.size),
        "activation_density": float(np.count_nonzero(acts) / acts.size),
        "weight_fifo_reads": n * totals["weight_fifo_reads"],
        "iaram_reads": n * totals["iaram_reads"],
        "oaram_writes": n * totals["oaram_writes"],
        "accumulator_refs": n * totals["acc"],
        "dram_words": n * totals["dram_bits"] // entry_bits,
        "accumulator_refs_merged": n * (totals["acc"] - totals["products"] + totals["merged"]),
        "products": n * totals["products"],
        "merged_product_updates": n * totals["merged"],
        "halo_values": n * totals["halo"],
        "cycles": n * totals["cycles"],
    }
    row["memory_refs"] = sum(row[k] for k in COMPONENTS)
    row["memory_refs_merged"] = row["memory_refs"] - row["accumulator_refs"] + row["accumulator_refs_merged"]
    storage = sparse_storage_bits(to_flax(case.weights) != 0, granularity, weight_bits=config.value_bits)
    row["storage_bits"] = n * storage["storage_bits"]
    row["index_storage_bits"] = n * storage["index_storage_bits"]
    row["index_bits"] = storage["index_bits"]
    row["weights"] = n * int(case.weights.size)
    row["nonzero_weights"] = n * int(np.count_nonzero(case.weights))
    return row


def _ratio(value: float, reference: float) -> float | None:
    return value / reference if reference else None


def granularity_study(
    cases: Mapping[str, Sequence[ConvCase]],
    config: archsim_scnn.ScnnConfig = archsim_scnn.SCNN,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Memory references of a network's conv layers at every granularity, and their ratios to element.

    Args:
        cases: ``{granularity: [ConvCase, ...]}``, the same layers pruned at each granularity; must include
            ``"element"`` (the reference of the ratios).
        config: the SCNN design point (default Table 3).
        progress: called with one line per finished layer.

    Returns:
        ``{"granularities": [{granularity, layers: [row], total: {...}, ratio_to_element: {...}}],
        "components": COMPONENTS}``; rows from :func:`layer_references`, ``total`` sums every count of the rows
        (``weight_density`` = nonzero / all weights), ``ratio_to_element`` divides each total by element's:
        ``memory_refs`` (as built), ``memory_refs_merged`` (with merging), every component, the merged
        accumulator references, ``storage_bits`` and ``index_storage_bits``.
    """
    if "element" not in cases:
        raise ValueError(f"cases granularities={list(cases)} must include 'element' (the reference of the ratios)")
    out = []
    for granularity, layers in cases.items():
        rows = []
        for case in layers:
            rows.append(layer_references(case, granularity, config))
            if progress is not None:
                r = rows[-1]
                progress(
                    f"{granularity:8s} {case.name}: weight density {r['weight_density']:.3f}, memory refs "
                    f"{r['memory_refs']:.4g} as built, {r['memory_refs_merged']:.4g} merged"
                )
        total = {key: sum(r[key] for r in rows) for key in _SUMMED}
        total["weight_density"] = total["nonzero_weights"] / total["weights"]
        out.append({"granularity": granularity, "layers": rows, "total": total})
    element = next(g["total"] for g in out if g["granularity"] == "element")
    ratio_keys = (*_SUMMED[:8], "storage_bits", "index_storage_bits")
    for entry in out:
        entry["ratio_to_element"] = {k: _ratio(entry["total"][k], element[k]) for k in ratio_keys}
    return {"components": list(COMPONENTS), "granularities": out}


def alexnet_cases(
    granularities: Sequence[str] = LADDER_GRANULARITIES, seed: int = SEED, layers: Sequence[str] | None = None
) -> dict[str, list[ConvCase]]:
    """AlexNet conv1-conv5 (:mod:`models.conv_specs`) with random tensors at SCNN Fig. 1's densities.

    Weights: i.i.d. standard normal (no ImageNet weights offline), one filter group per layer (``repeats`` =
    the layer's groups), magnitude-pruned at each granularity to the layer's published weight density.
    Activations: :func:`archsim.scnn.random_layer` at the published input-activation density (uniform random
    positions, one example); output density = the published next layer's input density.

    Args:
        granularities: the rungs.
        seed: base seed; layer ``i`` draws its weights from ``numpy.random.default_rng([seed, i])``.
        layers: subset of layer names (``"conv1"``, ...); default all five.
    """
    specs = conv_specs.network_specs("alexnet")
    if layers is not None:
        for name in layers:
            check_choice("layers", name, tuple(s.layer for s in specs))
    cases: dict[str, list[ConvCase]] = {g: [] for g in granularities}
    for i, spec in enumerate(specs):
        if layers is not None and spec.layer not in layers:
            continue
        k, c = spec.out_channels // spec.groups, spec.filter_channels
        shape = (k, c, *spec.kernel)
        _, acts = archsim_scnn.random_layer(shape, (c, *spec.in_hw), 0.0, spec.activation_density, seed)
        dense = np.random.default_rng([seed, i]).standard_normal(shape)
        for g in granularities:
            weights = prune(dense, spec.weight_density, g)
            cases[g].append(
                ConvCase(spec.layer, weights, acts[None], spec.stride, spec.padding, spec.output_density, spec.groups)
            )
    return cases


def lenet5_cases(
    params: Mapping[str, Mapping[str, Any]], images: np.ndarray, apply: Callable[[Mapping, np.ndarray], Mapping]
) -> list[ConvCase]:
    """LeNet-5's two conv layers with trained weights and the real inputs a batch of images gives them.

    Args:
        params: trained (pruned) LeNet-5 params, ``{layer: {"kernel": (kh, kw, c, k), "bias": ...}}``.
        images: ``(N, 28, 28, 1)`` float images.
        apply: ``(params, images) -> {layer: input}``, each layer's input (``(N, H, W, C)`` for a conv,
            ``(N, features)`` for fc), e.g. :func:`models.lenet.apply_with_layer_inputs`'s second result.

    Returns:
        ``[conv1, conv2]``: stride 1, no padding (LeNet-5's VALID convolutions); conv1's input is the image;
        output density = the measured density of the next layer's input (conv2's, ip1's).
    """
    inputs = {k: np.asarray(v) for k, v in apply(params, images).items()}
    nxt = {"conv1": "conv2", "conv2": "ip1"}
    cases = []
    for layer, following in nxt.items():
        weights = storage_order(params[layer]["kernel"]).astype(np.float64)
        acts = np.transpose(inputs[layer], (0, 3, 1, 2)).astype(np.float64)
        out_density = float(np.count_nonzero(inputs[following]) / inputs[following].size)
        cases.append(ConvCase(layer, weights, acts, 1, 0, out_density))
    return cases
