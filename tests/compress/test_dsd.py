import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from compress import dsd
from compress.pruning import pruning_masks
from models import datasets

KEY = jax.random.PRNGKey(0)


def _problem():
    params = {"fc": {"kernel": jax.random.normal(KEY, (20, 10)), "bias": jnp.zeros(10)}}
    target = jax.random.normal(jax.random.PRNGKey(1), (20, 10))
    loss = lambda p: jnp.sum((p["fc"]["kernel"] - target) ** 2)
    return params, loss


def test_dsd_masks_prune_then_free_pruned_weights_from_zero():
    params, loss = _problem()
    tx = optax.chain(optax.sgd(0.05), dsd.dsd_masks(2, 6, 0.5))
    state = tx.init(params)
    snapshots = []
    for _ in range(10):
        updates, state = tx.update(jax.grad(loss)(params), state, params)
        params = optax.apply_updates(params, updates)
        snapshots.append(params["fc"]["kernel"])
    # Dense for steps 0-1; sparse (exactly 50% zeros, same zeros) for steps 2-5.
    assert int(jnp.sum(snapshots[1] == 0)) == 0
    pruned = snapshots[2] == 0
    assert int(pruned.sum()) == 100
    for k in range(2, 6):
        np.testing.assert_array_equal(snapshots[k] == 0, pruned)
    # Re-dense from step 6: the pruned weights move again, starting from zero.
    assert int(jnp.sum(snapshots[6] == 0)) == 0
    assert float(jnp.sum(pruning_masks(state)["fc"]["kernel"])) == 200
    # One SGD step from zero: w = -lr * ∂L/∂w = 0.05 * 2 * target for the freed weights.
    target = jax.random.normal(jax.random.PRNGKey(1), (20, 10))
    np.testing.assert_allclose(snapshots[6][pruned], 0.1 * target[pruned], rtol=1e-5)


def test_dsd_learning_rate_drops_for_redense():
    lr = dsd.dsd_learning_rate(100, 50, lr=1e-3, redense_factor=0.1)
    assert float(lr(0)) == pytest.approx(1e-3)
    assert float(lr(99)) == pytest.approx(1e-4, rel=0.05)
    assert float(lr(100)) == pytest.approx(1e-4)
    assert float(lr(149)) == pytest.approx(1e-5, rel=0.05)


def test_bad_schedule_and_sparsity():
    with pytest.raises(ValueError, match="redense_step=3 is outside"):
        dsd.dsd_masks(3, 3, 0.5)
    with pytest.raises(ValueError, match=r"sparsity=1\.0 is outside"):
        dsd.run_pipeline("lenet300", None, sparsity=1.0)


def test_run_pipeline_small(tmp_path):
    report = dsd.run_pipeline("lenet300", datasets.load_mnist(), workdir=tmp_path, progress=False, small=True)
    assert report["pipeline"] == "dsd" and report["model"] == "lenet300"
    for row in report["layers"]:
        assert row["sparse_weights_kept_pct"] == pytest.approx(50.0, abs=0.1)
        # Re-densified: every freed weight with a nonzero gradient moves off zero (weights reading the
        # always-blank border pixels of MNIST, or dead ReLU units, get no gradient and stay at zero).
        assert row["weights_kept_pct"] > 80.0
    d = report["details"]
    assert d["extra_epochs_after_baseline"] == 2
    for e in (report["test_error_before"], report["test_error_after"], d["test_error_sparse_phase"]):
        assert 0 <= e < 20  # percent
    assert d["test_error_dense_control"] < 20
    # Resuming from the checkpoints reproduces the report exactly.
    again = dsd.run_pipeline("lenet300", datasets.load_mnist(), workdir=tmp_path, progress=False, small=True)
    assert again == report
