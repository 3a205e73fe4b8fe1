import jax
import jax.numpy as jnp
import numpy as np
import pytest

from compress import ttq
from models import datasets, lenet

# Latent weights with max|w| = 1, so Δ = t.
W = jnp.array([0.9, -1.0, 0.02, -0.03, 0.5, -0.4, 0.1, -0.1])
G = jnp.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])


def test_ternarize_forward_values():
    out = ttq.ternarize(W, 2.0, 3.0, 0.05)
    np.testing.assert_array_equal(out, [2.0, -3.0, 0.0, 0.0, 2.0, -3.0, 2.0, -3.0])
    assert out.dtype == W.dtype and out.shape == W.shape


def test_threshold_is_relative_to_max_magnitude():
    # Scaling the latent weights does not move the ternary pattern (Δ = t · max|w̃|).
    np.testing.assert_array_equal(ttq.ternarize(7.0 * W, 1.0, 1.0, 0.2), ttq.ternarize(W, 1.0, 1.0, 0.2))
    # |w̃| <= Δ is zero (the boundary itself included), |w̃| > Δ is not.
    np.testing.assert_array_equal(ttq.ternarize(W, 1.0, 1.0, 0.1), [1, -1, 0, 0, 1, -1, 0, 0])
    np.testing.assert_array_equal(ttq.ternarize(W, 1.0, 1.0, 0.099), [1, -1, 0, 0, 1, -1, 1, -1])


def test_density_decreases_with_threshold():
    assert float(ttq.ternary_density(W, 0.0)) == 1.0
    assert float(ttq.ternary_density(W, 0.05)) == 6 / 8
    assert float(ttq.ternary_density(W, 0.35)) == 4 / 8
    assert float(ttq.ternary_density(W, 1.0)) == 0.0
    # jit-able with a traced threshold, and the soft density tends to the hard one.
    assert float(jax.jit(ttq.ternary_density)(W, 0.35)) == 4 / 8
    assert float(ttq.soft_ternary_density(W, 0.35, 1e-4)) == pytest.approx(0.5, abs=1e-6)


def test_custom_vjp_matches_paper_rules_by_hand():
    # w_t = [Wp, -Wn, 0, 0, Wp, -Wn, Wp, -Wn] at t = 0.05 ; loss = Σ g · w_t.
    w_p, w_n = 2.0, 3.0
    loss = lambda w, p, n: jnp.sum(G * ttq.ternarize(w, p, n, 0.05))
    g_w, g_p, g_n = jax.grad(loss, argnums=(0, 1, 2))(W, w_p, w_n)
    # ∂L/∂W_p = Σ_{I_p} g = 1 + 5 + 7 ; ∂L/∂W_n = -Σ_{I_n} g = -(2 + 6 + 8) (w_t = -W_n).
    assert float(g_p) == 13.0
    assert float(g_n) == -16.0
    # ∂L/∂w̃ = W_p g (positive), g (zero), W_n g (negative).
    np.testing.assert_allclose(g_w, [2 * 1, 3 * 2, 3, 4, 2 * 5, 3 * 6, 2 * 7, 3 * 8])


def test_scale_gradients_equal_autodiff_with_frozen_support():
    # With the ternary support frozen, w_t = W_p·1_p - W_n·1_n is linear in the scales: autodiff is exact.
    w = jax.random.normal(jax.random.PRNGKey(0), (5, 7))
    g = jax.random.normal(jax.random.PRNGKey(1), (5, 7))
    delta = 0.3 * jnp.max(jnp.abs(w))
    pos, neg = (w > delta).astype(w.dtype), (w < -delta).astype(w.dtype)
    ours = jax.grad(lambda p, n: jnp.sum(g * ttq.ternarize(w, p, n, 0.3)), argnums=(0, 1))(0.7, 1.3)
    ref = jax.grad(lambda p, n: jnp.sum(g * (p * pos - n * neg)), argnums=(0, 1))(0.7, 1.3)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_threshold_gradient_surrogate():
    # Raising t moves weights to zero: with g = w_t (loss = ½Σw_t²) the loss falls, so ∂L/∂t < 0.
    w = jax.random.normal(jax.random.PRNGKey(2), (200,))
    loss = lambda t: 0.5 * jnp.sum(ttq.ternarize(w, 1.0, 1.0, t) ** 2)
    assert float(jax.grad(loss)(0.3)) < 0
    # Finite difference over a step that flips a handful of weights agrees within the smoothing.
    fd = (loss(0.35) - loss(0.25)) / 0.1
    smooth = lambda t: 0.5 * jnp.sum(ttq.ternarize(w, 1.0, 1.0, t, t_grad_temperature=0.05) ** 2)
    assert float(jax.grad(smooth)(0.3)) == pytest.approx(float(fd), rel=0.5)
    # Temperature 0 is the paper's fixed threshold: no gradient.
    zero = jax.grad(lambda t: jnp.sum(ttq.ternarize(w, 1.0, 1.0, t, t_grad_temperature=0.0) ** 2))(0.3)
    assert float(zero) == 0.0


def test_transform_ternarizes_middle_layers_only():
    params = lenet.init_params("lenet5")
    layers = ttq.default_ternary_layers([s.name for s in lenet.layer_specs("lenet5")])
    assert layers == ["conv2", "ip1"]
    tp = ttq.init_ttq(params, layers)
    weights = ttq.ttq_transform()(tp)
    for name in ("conv1", "ip2"):  # first and last: full precision, unchanged
        np.testing.assert_array_equal(weights[name]["kernel"], params[name]["kernel"])
    for name in layers:
        s = tp["scales"][name]
        values = set(np.unique(np.asarray(weights[name]["kernel"])).tolist())
        assert values <= {float(s["w_p"]), 0.0, -float(s["w_n"])}
        assert float(jnp.max(jnp.abs(tp["latent"][name]["kernel"]))) == pytest.approx(1.0)
        np.testing.assert_array_equal(weights[name]["bias"], params[name]["bias"])
    # "mean" init: each scale is the mean magnitude of the original weights above the threshold.
    w = params["conv2"]["kernel"]
    delta = 0.05 * jnp.max(jnp.abs(w))
    assert float(tp["scales"]["conv2"]["w_p"]) == pytest.approx(float(jnp.mean(w[w > delta])), rel=1e-5)
    assert float(tp["scales"]["conv2"]["w_n"]) == pytest.approx(float(-jnp.mean(w[w < -delta])), rel=1e-5)
    dens = ttq.ternary_densities(tp)
    assert set(dens) == set(layers) and all(0.5 < d < 1.0 for d in dens.values())
    # "one" init (authors' code) and keep_first/keep_last switches.
    assert ttq.ternary_scales(ttq.init_ttq(params, ["ip1"], scale_init="one")) == {"ip1": {"w_p": 1.0, "w_n": 1.0}}
    assert ttq.default_ternary_layers(["a", "b", "c"], keep_first=False) == ["a", "b"]


def test_per_layer_threshold_and_gradient_through_transform():
    params = lenet.init_params("lenet300")
    tp = ttq.init_ttq(params, ["ip1", "ip2"], t={"ip1": 0.1, "ip2": 0.2})
    t = {"ip1": jnp.asarray(0.1), "ip2": jnp.asarray(0.2)}
    x = jnp.ones((2, 28, 28, 1))
    model = lenet.make_model("lenet300")
    loss = lambda p, t: jnp.sum(model.apply({"params": ttq.ttq_weights(p, t)}, x) ** 2)
    g_p, g_t = jax.jit(jax.grad(loss, argnums=(0, 1)))(tp, t)
    assert set(g_t) == {"ip1", "ip2"} and all(np.isfinite(float(v)) for v in g_t.values())
    assert float(jnp.abs(g_p["scales"]["ip1"]["w_p"])) > 0
    with pytest.raises(ValueError, match="t has no entry for layer 'ip2'"):
        ttq.ttq_weights(tp, {"ip1": 0.1})
    with pytest.raises(ValueError, match="scale_init='two' is unknown"):
        ttq.init_ttq(params, ["ip1"], scale_init="two")
    with pytest.raises(ValueError, match="'fc9', not a layer"):
        ttq.init_ttq(params, ["fc9"])


def test_run_pipeline_small(tmp_path):
    data = datasets.load_mnist()
    report = ttq.run_pipeline("lenet300", data, workdir=tmp_path, progress=False, small=True)
    assert report["pipeline"] == "ttq" and report["model"] == "lenet300"
    rows = {r["layer"]: r for r in report["layers"]}
    assert rows["ip1"]["full_precision"] and rows["ip3"]["full_precision"] and not rows["ip2"]["full_precision"]
    assert rows["ip2"]["weight_bits"] == 2 and rows["ip1"]["weight_bits"] == 32
    assert rows["ip2"]["w_p"] > 0 and rows["ip2"]["w_n"] > 0 and rows["ip1"]["w_p"] is None
    assert 0 < rows["ip2"]["weights_kept_pct"] < 100
    assert report["test_error_after"] < 20 and report["test_error_before"] < 20  # percent
    assert report["total"]["num_weights"] == 266_200


def test_threshold_sweep_vmaps_like_a_loop():
    w = jax.random.normal(jax.random.PRNGKey(3), (50,))
    loss = lambda t: jnp.sum(ttq.ternarize(w, 1.0, 1.0, t) ** 2)
    ts = jnp.array([0.05, 0.1, 0.2])
    np.testing.assert_allclose(jax.jit(jax.vmap(jax.grad(loss)))(ts), [jax.grad(loss)(t) for t in ts], rtol=1e-5)
    densities = jax.vmap(lambda t: ttq.ternary_density(w, t))(ts)
    assert np.all(np.diff(np.asarray(densities)) <= 0)
