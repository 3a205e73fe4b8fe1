"""The registry of trainable models: every model the trainer and ``hwcost train`` know is listed once, and
each entry's layer specs agree with its parameters and with the layer inputs its forward pass sows."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from models import lstm, registry


def test_the_registry_lists_the_lenets_and_the_lstm_and_the_trainer_and_cli_use_it():
    from compress import baseline, hwtrain
    from hwcost.cli.train import default_lambdas, model_names

    assert registry.names() == ("lenet300", "lenet5", "lstm")
    assert model_names() == registry.names()
    assert set(baseline.DEFAULT_EPOCHS) == set(registry.names())
    for name in registry.names():
        assert default_lambdas(name) == registry.trainable(name).default_lambdas
        assert hwtrain.default_groups(name) == dict(registry.trainable(name).default_groups)
    with pytest.raises(ValueError, match="model='alexnet' is unknown"):
        registry.trainable("alexnet")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.trainable("lstm"))


def test_lenet_defaults_are_unchanged():
    from compress.hwtrain import default_groups

    assert default_groups("lenet300") == {"ip1": ("channel", "filter"), "ip2": ("filter",), "ip3": ()}
    assert default_groups("lenet5") == {"conv1": ("filter",), "conv2": ("filter",), "ip1": ("filter",), "ip2": ()}
    assert registry.trainable("lenet300").default_lambdas == (0.1, 0.25, 0.5, 1.0)
    assert registry.trainable("lenet5").default_lambdas == (0.5, 1.0, 2.0, 4.0)


@pytest.mark.parametrize("name", ["lenet300", "lenet5", "lstm"])
def test_specs_match_the_parameters_and_the_sown_layer_inputs(name):
    m = registry.trainable(name)
    params = m.init(0)
    assert [s.name for s in m.specs] == list(params)
    for spec in m.specs:
        assert params[spec.name]["kernel"].shape == spec.kernel_shape
    images = jnp.zeros((3, 28, 28, 1))
    logits, inputs = registry.apply_with_layer_inputs(m.make(), params, images)
    assert logits.shape == (3, 10)
    assert list(inputs) == [s.name for s in m.specs]
    for spec in m.specs:
        x = inputs[spec.name]
        if spec.kind == "fc":  # (B, in) once, or (B, T, in): one product per position
            per_example = (spec.positions, spec.fan_in) if spec.positions > 1 else (spec.fan_in,)
            assert x.shape == (3, *per_example), spec.name
        else:
            assert x.shape == (3, *spec.in_hw, spec.kernel_shape[2]), spec.name


def test_lstm_specs_are_the_gates_applied_every_step_then_the_classifier():
    specs = registry.layer_specs("lstm")
    assert [(s.name, s.kind, s.kernel_shape, s.positions) for s in specs] == [
        *[(g, "fc", (28 + 128, 128), 28) for g in lstm.GATES],
        ("classifier", "fc", (128, 10), 1),
    ]
    lstmp = lstm.layer_specs(lstm.make_model("lstmp"))
    assert [(s.name, s.kernel_shape, s.positions) for s in lstmp][4:] == [
        ("projection", (128, 64), 28),
        ("classifier", (64, 10), 1),
    ]


def test_lstm_layer_inputs_are_x_t_and_y_previous_of_every_step():
    model = lstm.make_model(cell_size=8, projection_size=4)
    params = lstm.init_params(model, seed=1)
    images = jax.random.uniform(jax.random.PRNGKey(0), (2, 28, 28, 1))
    logits, inputs = registry.apply_with_layer_inputs(model, params, images)
    np.testing.assert_allclose(logits, model.apply({"params": params}, images), rtol=1e-6)
    xy = np.asarray(inputs["gate_i"])  # (B, T, 28 + 4)
    assert xy.shape == (2, 28, 32)
    for g in lstm.GATES[1:]:
        np.testing.assert_array_equal(inputs[g], xy)
    np.testing.assert_array_equal(xy[:, :, :28], np.asarray(images).reshape(2, 28, 28))  # x_t: row t
    np.testing.assert_array_equal(xy[:, 0, 28:], 0.0)  # y_{-1} = 0
    proj = np.asarray(params["projection"]["kernel"])
    m = np.asarray(inputs["projection"])  # m_t, (B, T, 8)
    assert m.shape == (2, 28, 8)
    np.testing.assert_allclose(xy[:, 1:, 28:], m[:, :-1] @ proj, rtol=1e-5, atol=1e-6)  # y_{t-1} = W_p m_{t-1}
    np.testing.assert_allclose(inputs["classifier"], m[:, -1] @ proj, rtol=1e-5, atol=1e-6)  # y_T
