import jax
import numpy as np
import optax
import pytest

from compress import checkpoint, training
from models import datasets, lenet


@pytest.fixture(scope="module")
def small_mnist():
    d = datasets.load_mnist()
    return datasets.Dataset(d.train_images[:2048], d.train_labels[:2048], d.test_images[:1000], d.test_labels[:1000])


def test_training_learns_and_resume_is_deterministic(small_mnist, tmp_path):
    model = lenet.make_model("lenet300")
    params = lenet.init_params("lenet300")
    before = training.error_rate(model, params, small_mnist.test_images, small_mnist.test_labels)
    full = training.train(model, params, small_mnist, optax.adam(1e-3), epochs=2, progress=False)
    after = training.error_rate(model, full.params, small_mnist.test_images, small_mnist.test_labels)
    assert after < 0.25 < before
    ckpt = tmp_path / "run.ckpt"
    training.train(model, params, small_mnist, optax.adam(1e-3), epochs=1, checkpoint=ckpt, progress=False)
    resumed = training.train(model, params, small_mnist, optax.adam(1e-3), epochs=2, checkpoint=ckpt, progress=False)
    assert resumed.epoch_losses == pytest.approx(full.epoch_losses)
    for a, b in zip(jax.tree.leaves(full.params), jax.tree.leaves(resumed.params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_corrupt_checkpoint_is_clear_error(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="is not an hwcost checkpoint"):
        checkpoint.load_checkpoint(bad, {"a": np.zeros(2)})


def test_bad_epochs(small_mnist):
    with pytest.raises(ValueError, match="epochs=-1"):
        training.train(lenet.make_model("lenet300"), {}, small_mnist, optax.sgd(0.1), epochs=-1)
