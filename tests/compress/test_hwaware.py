"""Relaxed masks, straight-through gates and the multiplier update of the hardware-aware trainer."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from compress import hwaware
from models.lenet import init_params


@pytest.fixture(scope="module")
def params():
    return init_params("lenet300", 0)


def _config(**kw):
    groups = {"ip1": ("channel", "filter"), "ip2": ("filter",), "ip3": ()}
    return hwaware.MaskConfig(groups=groups, **kw)


def test_soft_element_mask_converges_to_hard_as_temperature_goes_to_zero(params):
    kernel = params["ip1"]["kernel"]
    tau = jnp.asarray(0.8)
    hard, _ = hwaware.element_mask(kernel, tau, jnp.asarray(1.0))
    gaps = [float(jnp.max(jnp.abs(hwaware.element_mask(kernel, tau, jnp.asarray(t))[1] - hard)))
            for t in (1.0, 0.1, 0.01)]  # fmt: skip
    assert gaps[0] > gaps[1] > gaps[2]
    # Away from the threshold itself the soft mask is already within 1e-3 of the hard one at T = 1e-3.
    _, soft = hwaware.element_mask(kernel, tau, jnp.asarray(1e-3))
    scale = jnp.mean(jnp.abs(kernel))
    away = jnp.abs(jnp.abs(kernel) / scale - tau) > 0.01
    assert float(jnp.max(jnp.where(away, jnp.abs(soft - hard), 0.0))) < 1e-3


def test_soft_network_masks_converge_to_exact_masks(params):
    d = hwaware.init_decisions(params, _config(init_threshold=0.5))
    d["ip2"].gates["filter"] = d["ip2"].gates["filter"].at[0, :10].set(-2.0)
    exact = hwaware.network_masks(params, d, 1.0, "exact")
    errs = []
    for t in (1.0, 0.1, 1e-3):
        soft = hwaware.network_masks(params, d, t, "soft")
        errs.append(float(jnp.mean(jnp.abs(soft["ip2"].kernel - exact["ip2"].kernel))))
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 1e-3


def test_straight_through_masks_are_exact_with_nonzero_gradient(params):
    d = hwaware.init_decisions(params, _config(init_threshold=0.5))
    exact = hwaware.network_masks(params, d, 0.3, "exact")
    ste = hwaware.network_masks(params, d, 0.3, "ste")
    for layer in params:
        np.testing.assert_array_equal(np.asarray(ste[layer].kernel), np.asarray(exact[layer].kernel))

    def kept(d):
        m = hwaware.network_masks(params, d, 0.3, "ste")
        return sum(jnp.sum(v.kernel) for v in m.values())

    grads = jax.grad(kept)(d)
    assert float(grads["ip1"].threshold) < 0  # a higher threshold keeps fewer weights
    assert float(jnp.min(grads["ip2"].gates["filter"])) > 0  # a higher score keeps its neuron
    assert float(jnp.min(grads["ip1"].gates["channel"])) > 0


def test_pruned_output_neuron_masks_its_bias(params):
    d = hwaware.init_decisions(params, _config())
    d["ip1"].gates["filter"] = d["ip1"].gates["filter"].at[0, 3].set(-1.0)
    masks = hwaware.network_masks(params, d, 0.1, "exact")
    assert float(masks["ip1"].bias[3]) == 0.0
    assert float(jnp.sum(masks["ip1"].kernel[:, 3])) == 0.0
    assert float(masks["ip1"].bias[2]) == 1.0


def test_dual_ascent_moves_multiplier_towards_the_budget():
    lam = jnp.asarray(0.5)
    assert float(hwaware.dual_ascent(lam, jnp.asarray(0.4), 0.2, 1.0)) > 0.5  # over budget: grows
    assert float(hwaware.dual_ascent(lam, jnp.asarray(0.1), 0.2, 1.0)) < 0.5  # under budget: shrinks
    assert float(hwaware.dual_ascent(jnp.asarray(0.0), jnp.asarray(0.1), 0.2, 1.0)) == 0.0  # projected


def test_lagrangian_gradient_does_not_flow_into_the_multiplier():
    g = jax.grad(lambda lam: hwaware.lagrangian_loss(jnp.asarray(1.0), jnp.asarray(0.3), lam, 0.2))(jnp.asarray(1.0))
    assert float(g) == 0.0


def test_temperature_schedule_is_geometric_and_clamped():
    assert float(hwaware.temperature_at(0, 100, 1.0, 0.01)) == pytest.approx(1.0)
    assert float(hwaware.temperature_at(50, 100, 1.0, 0.01)) == pytest.approx(0.1, rel=1e-5)
    assert float(hwaware.temperature_at(500, 100, 1.0, 0.01)) == pytest.approx(0.01, rel=1e-5)


def test_bad_mask_configuration_is_rejected(params):
    with pytest.raises(ValueError, match=r"granularity|groups"):
        hwaware.check_config(hwaware.MaskConfig(groups={"ip1": ("row",)}), list(params))
    with pytest.raises(ValueError, match="layer"):
        hwaware.check_config(hwaware.MaskConfig(groups={"conv9": ("filter",)}), list(params))
    with pytest.raises(ValueError, match="mode='hard' is unknown"):
        hwaware.check_config(hwaware.MaskConfig(groups={}, mode="hard"), list(params))
    with pytest.raises(ValueError, match="temperature_end"):
        hwaware.check_temperatures(1.0, 0.0)


def test_ttq_mode_ternarizes_kept_weights(params):
    d = hwaware.init_decisions(params, _config(ttq=True, init_threshold=0.05))
    masks = hwaware.network_masks(params, d, 0.1, "exact", ttq=True)
    weights = hwaware.masked_weights(params, d, masks, ttq=True)
    values = np.unique(np.asarray(weights["ip2"]["kernel"]))
    assert values.size <= 3
    density = float(jnp.mean(weights["ip2"]["kernel"] != 0))
    assert density == pytest.approx(float(jnp.mean(masks["ip2"].kernel)), abs=1e-6)
    # the scales start at TTQ's initialisation: the mean magnitude on each side of the threshold
    w = np.asarray(params["ip2"]["kernel"])
    delta = 0.05 * np.abs(w).max()
    assert float(d["ip2"].scales["w_p"]) == pytest.approx(w[w > delta].mean(), rel=1e-5)
    assert float(d["ip2"].scales["w_n"]) == pytest.approx(-w[w < -delta].mean(), rel=1e-5)
