import jax
import numpy as np
import pytest

from compress import ladder
from compress.masks import magnitude_mask
from models import datasets


def test_element_storage_counts_fillers_by_hand():
    # fc kernel (in=4, out=2), stored as (out, in): [1 0 0 0 | 0 0 0 1] -> gaps 0 and 6.
    mask = np.zeros((4, 2))
    mask[0, 0] = 1
    mask[3, 1] = 1
    r = ladder.sparse_storage_bits(mask, "element", weight_bits=8, index_bits=2)
    # 2-bit index spans 4: the gap of 6 needs one filler (4 positions later), then a gap of 2.
    assert (r["kept_groups"], r["fillers"], r["group_size"]) == (2, 1, 1)
    assert r["index_storage_bits"] == 3 * 2
    assert r["storage_bits"] == 3 * (2 + 8)
    # With 3 bits no filler is needed; the default picks the cheapest width.
    assert ladder.sparse_storage_bits(mask, "element", weight_bits=8)["storage_bits"] == 2 * (3 + 8)


def test_kernel_granularity_pays_one_index_per_kernel():
    mask = np.zeros((5, 5, 3, 2))
    mask[:, :, 1, 0] = 1  # kernel (c=1, k=0): blob position 1
    mask[:, :, 2, 1] = 1  # kernel (c=2, k=1): blob position 5
    r = ladder.sparse_storage_bits(mask, "kernel", weight_bits=32, index_bits=3)
    assert (r["num_groups"], r["kept_groups"], r["fillers"], r["group_size"]) == (6, 2, 0, 25)
    assert r["index_storage_bits"] == 2 * 3
    assert r["weight_storage_bits"] == 2 * 25 * 32
    # The same mask counted weight by weight needs an index per kept weight.
    assert ladder.sparse_storage_bits(mask, "element", index_bits=3)["index_storage_bits"] >= 50 * 3


@pytest.mark.parametrize("granularity", ["vector", "kernel", "filter"])
def test_index_saving_grows_with_coarseness(granularity):
    kernel = np.asarray(jax.random.normal(jax.random.PRNGKey(0), (5, 5, 20, 50)))
    fine = ladder.sparse_storage_bits(np.asarray(magnitude_mask(kernel, 0.25)), "element")
    coarse = ladder.sparse_storage_bits(np.asarray(magnitude_mask(kernel, 0.25, granularity)), granularity)
    assert coarse["index_storage_bits"] < fine["index_storage_bits"] / 4
    assert coarse["storage_bits"] < fine["storage_bits"]


def test_network_storage_dense_layers_have_no_index():
    masks = {"a": {"kernel": np.ones((3, 4))}, "b": {"kernel": np.eye(4)}}
    out = ladder.network_storage(masks, "element", ["b"], weight_bits=32)
    rows = {r["layer"]: r for r in out["layers"]}
    assert rows["a"]["storage_bits"] == 12 * 32 and rows["a"]["index_storage_bits"] == 0
    assert rows["b"]["kept_groups"] == 4
    assert out["total"]["storage_bits"] == rows["a"]["storage_bits"] + rows["b"]["storage_bits"]
    assert out["total"]["weights_kept_pct"] == pytest.approx(100 * 16 / 28)


def test_run_ladder_small(tmp_path):
    seen = {}
    result = ladder.run_ladder(
        "lenet300",
        datasets.load_mnist(),
        granularities=("element", "filter"),
        workdir=tmp_path,
        small=True,
        progress=False,
        on_rung=lambda g, params, masks: seen.update({g: (params, masks)}),
    )
    assert [r["granularity"] for r in result["rungs"]] == ["element", "filter"]
    assert list(seen) == ["element", "filter"]
    for params, masks in seen.values():
        kept = sum(int((np.asarray(params[n]["kernel"]) != 0).sum()) for n in ("ip1", "ip2"))
        assert kept == sum(int(np.asarray(masks[n]["kernel"]).sum()) for n in ("ip1", "ip2"))
    for rung in result["rungs"]:
        for row in rung["storage"]["layers"]:
            expected = 25.0 if row["layer"] in ("ip1", "ip2") else 100.0
            assert row["weights_kept_pct"] == pytest.approx(expected, abs=0.2)
        assert 0 <= rung["test_error_pct"] < 50
    element, filt = (r["storage"]["total"] for r in result["rungs"])
    assert filt["index_storage_bits"] < element["index_storage_bits"] / 10
    table = ladder.ladder_table(result)
    assert [r["granularity"] for r in table] == ["dense", "element", "filter"]
    assert table[0]["compression_rate"] == pytest.approx(1.0)
    assert table[1]["compression_rate"] > 2.0
    with pytest.raises(ValueError, match="granularity='block' is unknown"):
        ladder.run_ladder("lenet300", None, granularities=("block",))
