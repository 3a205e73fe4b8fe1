"""A cost model defined and registered here, and nowhere else, is priced by ``network_cost``, trained against by
the hardware-aware trainer and listed and trained by the command line: the contract is the whole interface.

The model: a weight-stationary array of multipliers that skips zero activations (a workload type of its own,
:class:`ArrayWork`), ``rate`` multiplies per cycle, a buffer that streams ``width`` kept weights per cycle,
latency ``max(multiplies / rate, weights / width)`` relaxed by a log-sum-exp maximum.
"""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest

from compress import bridge, hwtrain
from compress.hwtrain import HwTrainConfig, Penalty
from hwcost import registry, testing
from hwcost.checks import check_finite, check_non_negative, check_positive
from hwcost.cli import main
from hwcost.cost import network_cost
from hwcost.smooth import Smoothing, smooth_maximum
from hwcost.types import CostModel, LayerRun, LayerStatistics, ModelCard, Monotone, pytree_dataclass
from models.datasets import Dataset
from models.lenet import apply_with_layer_inputs, init_params, layer_specs, make_model


@pytree_dataclass
class ArrayWork:
    """One layer on the array: ``multiplies`` (nonzero weight x nonzero activation) and ``weights`` (kept)."""

    multiplies: float
    weights: float


@pytree_dataclass
class ArrayHardware:
    """``rate`` multiplies and ``width`` weight reads per cycle; energies per multiply and per weight read."""

    rate: float
    width: float
    multiply_pj: float
    read_pj: float
    smoothing: Smoothing


def _counts(hw: ArrayHardware, work: ArrayWork) -> dict:
    return {"array.multiply": jnp.asarray(work.multiplies), "buffer.read": jnp.asarray(work.weights)}


def _latency(hw: ArrayHardware, work: ArrayWork):
    compute, stream = work.multiplies / hw.rate, work.weights / hw.width
    return smooth_maximum(compute, stream, hw.smoothing.temperature * (compute + stream + 1.0), hard=hw.smoothing.hard)


def _lower(layer: LayerStatistics) -> LayerRun[ArrayWork]:
    return LayerRun(ArrayWork(layer.weights_read * layer.spec.positions, layer.kept_weights))


def _check_work(work: ArrayWork) -> None:
    for field in ("multiplies", "weights"):
        check_non_negative(field, getattr(work, field))


def _check_hw(hw: ArrayHardware) -> None:
    for field in ("rate", "width", "multiply_pj", "read_pj"):
        check_positive(field, getattr(hw, field))
    check_finite("temperature", hw.smoothing.temperature)
    check_positive("temperature", hw.smoothing.temperature)


ARRAY = CostModel(
    card=ModelCard("zero-skipping-array", "a zero-skipping multiplier array", "defined in a test", (ArrayWork,)),
    per_action_energy_pj=lambda hw: {"array.multiply": hw.multiply_pj, "buffer.read": hw.read_pj},
    action_counts=_counts,
    latency_cycles=_latency,
    default_hardware=ArrayHardware(256.0, 64.0, 0.9, 5.0, Smoothing(0.02)),
    sample_workloads=lambda: {"compute_bound": ArrayWork(1.0e6, 2.0e3), "stream_bound": ArrayWork(1.0e4, 8.0e4)},
    lower=_lower,
    check_hardware=_check_hw,
    check_workload=_check_work,
    clock_mhz=lambda hw: 500.0,
    monotone=(
        Monotone("energy", "workload.multiplies", grid=(0.0, 1e2, 1e4, 1e6)),
        Monotone("latency", "workload.weights", grid=(0.0, 1e2, 1e4, 1e6)),
        Monotone("latency", "hardware.rate", increasing=False, grid=(16.0, 64.0, 256.0, 1024.0)),
    ),
)


@pytest.fixture
def registered():
    registry.register(ARRAY)
    yield ARRAY
    registry.unregister(ARRAY.name)


def _data() -> Dataset:
    rng = np.random.default_rng(0)
    images = rng.random((384, 28, 28, 1)).astype(np.float32)
    images[images < 0.7] = 0.0
    labels = (images.reshape(384, -1)[:, :392].sum(1) > images.reshape(384, -1)[:, 392:].sum(1)).astype(np.int32)
    return Dataset(images[:256], labels[:256], images[256:], labels[256:])


def test_the_new_model_passes_the_property_suite():
    testing.check_all(ARRAY)


def test_network_cost_prices_a_lowered_network(registered):
    params = init_params("lenet5", 0)
    images = jnp.asarray(_data().train_images[:4])
    _, inputs = apply_with_layer_inputs(make_model("lenet5"), params, images)
    masks = {k: {"kernel": jnp.ones_like(v["kernel"])} for k, v in params.items()}
    stats = bridge.layer_statistics(layer_specs("lenet5"), masks, inputs, indicator="exact")
    cost = network_cost(registry.cost_model("zero-skipping-array"), ARRAY.default_hardware, bridge.lower(ARRAY, stats))
    assert len(cost.layers) == 4
    conv1 = stats[0]
    assert float(cost.layers[0].counts["array.multiply"]) == pytest.approx(float(conv1.weights_read) * 24 * 24)
    assert float(cost.energy_pj) == pytest.approx(sum(float(layer.total_energy_pj) for layer in cost.layers))


def test_the_trainer_trains_against_it(registered):
    data = _data()
    config = HwTrainConfig(hardware="zero-skipping-array", epochs=2, finetune_epochs=0, batch_size=64)
    training = hwtrain.hwaware_training(config, 4)
    state, _ = hwtrain.train_hwaware(training, init_params("lenet300", 0), data, Penalty(5.0), progress=False)
    _, weights = hwtrain.final_weights(training, state)
    _, inputs = apply_with_layer_inputs(training.setup.network, weights, jnp.asarray(data.train_images))
    hard = ARRAY.hard(ARRAY.default_hardware)
    cost = hwtrain.relative_cost(training.setup, hwtrain.frozen_masks(state), inputs, state.reference,
                                 indicator="exact", hw=hard)  # fmt: skip
    assert float(cost) < 0.9  # the trained network is cheaper than the dense one on this model


def test_the_command_line_lists_it_and_trains_against_it(registered, tmp_path, capsys):
    assert main(["models"]) == 0
    assert "zero-skipping-array" in capsys.readouterr().out
    out = tmp_path / "run"
    argv = ["train", "--hardware", "zero-skipping-array", "--objective", "latency", "--out", str(out), "--lambda",
            "1", "--epochs", "1", "--finetune-epochs", "0", "--magnitude-densities", "0.1", "--no-deep-compression",
            "--eval-images", "2", "--train-subset", "256", "--dense-epochs", "1", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["hardware"] == "zero-skipping-array" and report["exact_source"] == "hard model"
    assert {r["kind"] for r in report["rows"]} == {"dense", "joint", "magnitude"}


def test_an_unknown_model_name_lists_the_registered_ones(registered, capsys, tmp_path):
    assert main(["train", "--hardware", "tpu", "--out", str(tmp_path / "run")]) == 2
    assert "zero-skipping-array" in capsys.readouterr().err
