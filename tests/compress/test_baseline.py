import jax
import numpy as np
import pytest

from compress import baseline, training
from models import datasets, lenet


@pytest.fixture(scope="module")
def tiny_mnist():
    d = datasets.load_mnist()
    return datasets.Dataset(d.train_images[:1024], d.train_labels[:1024], d.test_images[:500], d.test_labels[:500])


def test_dense_baseline_trains_caches_and_reloads(tiny_mnist, tmp_path, monkeypatch):
    params = baseline.dense_baseline("lenet300", tiny_mnist, epochs=2, cache_dir=tmp_path, progress=False)
    assert baseline.cache_path("lenet300", 0, 2, tmp_path).is_file()
    err = training.error_rate(lenet.make_model("lenet300"), params, tiny_mnist.test_images, tiny_mnist.test_labels)
    assert err < 0.3

    def no_training(*args, **kwargs):
        raise AssertionError("the cached baseline must be loaded, not retrained")

    monkeypatch.setattr(baseline, "train", no_training)
    monkeypatch.setenv("HWCOST_CACHE_DIR", str(tmp_path))
    again = baseline.dense_baseline("lenet300", tiny_mnist, epochs=2, progress=False)
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(again), strict=True):
        np.testing.assert_array_equal(a, b)


def test_cache_key_and_bad_input(tiny_mnist, tmp_path):
    assert baseline.cache_path("lenet5", 3, 7, tmp_path).name.startswith("lenet5-seed3-ep7-")
    with pytest.raises(ValueError, match="model='vgg' is unknown"):
        baseline.dense_baseline("vgg", tiny_mnist, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="epochs=-2"):
        baseline.dense_baseline("lenet300", tiny_mnist, epochs=-2, cache_dir=tmp_path)
