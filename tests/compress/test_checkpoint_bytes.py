"""A checkpoint's bytes depend on the values only: the dict order of the tree (flax's ``kernel, bias`` after a
load into a fresh structure, ``bias, kernel`` after an optimizer step) does not change the file, so a run
resumed after a kill writes files bit-identical to an uninterrupted run's."""

from __future__ import annotations

import numpy as np
import optax

from compress.checkpoint import load_checkpoint, save_checkpoint


def _params(order: tuple[str, ...]) -> dict:
    rng = np.random.default_rng(0)
    values = {"kernel": rng.standard_normal((3, 2)).astype(np.float32), "bias": np.arange(2, dtype=np.float32)}
    return {layer: {key: values[key] + i for key in order} for i, layer in enumerate(("ip1", "ip2"))}


def test_dict_order_does_not_change_the_file(tmp_path):
    a = save_checkpoint(tmp_path / "a.ckpt", _params(("kernel", "bias")), {"epoch": 1}).read_bytes()
    b = save_checkpoint(tmp_path / "b.ckpt", _params(("bias", "kernel")), {"epoch": 1}).read_bytes()
    assert a == b


def test_a_sorted_file_loads_into_either_order(tmp_path):
    path = save_checkpoint(tmp_path / "a.ckpt", _params(("bias", "kernel")))
    tree, _ = load_checkpoint(path, _params(("kernel", "bias")))
    for layer, leaves in _params(("kernel", "bias")).items():
        for key, value in leaves.items():
            np.testing.assert_array_equal(tree[layer][key], value)


def test_optimizer_state_round_trips(tmp_path):
    params = _params(("kernel", "bias"))
    state = optax.adam(1e-3).init(params)
    path = save_checkpoint(tmp_path / "s.ckpt", {"params": params, "opt": state, "epoch": 3})
    tree, _ = load_checkpoint(path, {"params": params, "opt": state, "epoch": 0})
    assert tree["epoch"] == 3
    np.testing.assert_array_equal(tree["opt"][0].mu["ip2"]["kernel"], state[0].mu["ip2"]["kernel"])
