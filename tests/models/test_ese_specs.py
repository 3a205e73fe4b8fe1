"""models.ese_specs: the ESE LSTMP shapes and the random and load-balanced masks."""

from __future__ import annotations

import numpy as np
import pytest

from models import ese_specs as specs


def test_ese_first_layer_has_the_weights_the_abstract_throughput_implies():
    # 32 channels x 2 ops x 3.248e6 weights / 82.7 us = 2.51 TOPS (abstract: 2.52 TOPS)
    layer = specs.ESE_LSTM.layers[0]
    assert layer.num_weights == 3_248_128
    assert 32 * 2 * layer.num_weights / 82.7e-6 / 1e12 == pytest.approx(2.52, abs=0.01)
    assert 32 * 2 * specs.ESE_DENSITY * layer.num_weights / 82.7e-6 / 1e9 == pytest.approx(282, abs=1)


def test_random_mask_keeps_exactly_the_density():
    mask = specs.random_mask(64, 30, 0.1, np.random.default_rng(0))
    assert mask.sum() == round(0.1 * 64 * 30)


def test_balanced_mask_gives_every_pe_the_same_nonzeros():
    mask = specs.balanced_mask(64, 30, 0.1, 8, np.random.default_rng(1))
    per_pe = np.array([mask[p::8].sum() for p in range(8)])
    assert np.all(per_pe == round(0.1 * 8 * 30))
    random = specs.random_mask(64, 30, 0.1, np.random.default_rng(1))
    assert np.array([random[p::8].sum() for p in range(8)]).std() > 0


def test_balanced_mask_refuses_rows_the_pes_do_not_divide():
    with pytest.raises(ValueError, match="pes=7 must divide rows=64"):
        specs.balanced_mask(64, 30, 0.1, 7, np.random.default_rng(2))


def test_random_weights_have_the_lstmp_shapes():
    layer = specs.LstmpLayerSpec("small", 5, 16, 8)
    gates, projection = specs.random_weights(layer, 0.25, np.random.default_rng(3), balanced_pes=4)
    assert set(gates) == set(specs.GATES)
    assert all(g.shape == (16, 13) for g in gates.values()) and projection.shape == (8, 16)
    assert np.count_nonzero(projection) == 0.25 * 8 * 16
