import json

import numpy as np
import pytest

from compress import deep_compression as dc
from compress import export, pipelines
from models import datasets

ROW_KEYS = {
    "layer",
    "num_weights",
    "weights_kept_pct",
    "weight_bits_pq",
    "weight_bits_pqh",
    "index_bits_pq",
    "index_bits_pqh",
    "rate_pq_pct",
    "rate_pqh_pct",
}


@pytest.fixture(scope="module")
def mnist():
    return datasets.load_mnist()


def test_small_pipeline_plumbing_resume_and_export(mnist, tmp_path):
    report = dc.run_pipeline("lenet300", mnist, workdir=tmp_path, progress=False, small=True)
    json.dumps(report)  # JSON-able
    assert report["model"] == "lenet300" and report["pipeline"] == "deep-compression"
    assert [r["layer"] for r in report["layers"]] == ["ip1", "ip2", "ip3"]
    assert all(set(r) == ROW_KEYS for r in report["layers"])
    assert ROW_KEYS | {"compression_pq", "compression_pqh"} == set(report["total"])
    kept = {r["layer"]: r["weights_kept_pct"] for r in report["layers"]}
    target = {layer: 100 * d for layer, d in dc.CONFIGS["lenet300"].densities.items()}
    assert kept == pytest.approx(target, abs=0.01)
    assert all(r["weight_bits_pq"] == 6 and r["index_bits_pq"] == 5 for r in report["layers"])
    assert report["total"]["compression_pqh"] > report["total"]["compression_pq"] > 20
    # The exported file decodes to weights with at most 2**6 - 1 distinct nonzero values per layer.
    _, params = export.load_params(report["details"]["exported_file"])
    for leaves in params.values():
        assert np.unique(leaves["kernel"][leaves["kernel"] != 0]).size <= 63
    # A rerun resumes from the checkpoints and reproduces the report.
    again = dc.run_pipeline("lenet300", mnist, workdir=tmp_path, progress=False, small=True)
    assert again["test_error_after"] == report["test_error_after"]
    assert again["total"] == report["total"]
    with pytest.raises(ValueError, match="holds checkpoints of another run"):
        dc.run_pipeline("lenet300", mnist, seed=1, workdir=tmp_path, progress=False, small=True)


def test_a_recipe_cut_short_is_set_aside_not_taken_for_another_run(tmp_path, capsys):
    recipe = {"model": "lenet300", "seed": 0}
    (tmp_path / "recipe.json").write_text('{"model": "lenet3')
    dc._claim_workdir(tmp_path, recipe)
    assert json.loads((tmp_path / "recipe.json").read_text()) == recipe
    assert (tmp_path / "recipe.json.corrupt").is_file()
    assert "recipe.json does not parse" in capsys.readouterr().err
    dc._claim_workdir(tmp_path, recipe)  # the rewritten recipe is this run's
    with pytest.raises(ValueError, match="holds checkpoints of another run"):
        dc._claim_workdir(tmp_path, {**recipe, "seed": 1})


def test_translated_copy_moves_images_with_zero_fill():
    images = np.zeros((50, 6, 6, 1), np.float32)
    images[:, 2, 3, 0] = 1.0
    moved = dc.translated_copy(images, 2, seed=0)
    assert moved.shape == images.shape and np.all(moved.sum(axis=(1, 2, 3)) == 1.0)
    rows, cols = np.nonzero(moved[..., 0])[1:]
    assert set(rows.tolist()) <= set(range(0, 5)) and set(cols.tolist()) <= set(range(1, 6))
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) > 10  # many different shifts
    edge = np.ones((1, 4, 4, 1), np.float32)
    assert dc.translated_copy(edge, 1, seed=3).sum() <= 16  # zero-filled, never wrapped or enlarged


def test_bad_recipe_and_registry_errors(mnist):
    bad = dc.CONFIGS["lenet300"]._replace(densities={"ip1": 1.5, "ip2": 0.1, "ip3": 0.2})
    with pytest.raises(ValueError, match=r"densities\['ip1'\]=1.5 is outside"):
        dc.run_pipeline("lenet300", mnist, config=bad)
    bad = dc.CONFIGS["lenet300"]._replace(weight_bits={"ip1": 0, "ip2": 6, "ip3": 6})
    with pytest.raises(ValueError, match=r"weight_bits\['ip1'\]=0"):
        dc.run_pipeline("lenet300", mnist, config=bad)
    with pytest.raises(ValueError, match="pipeline='zip' is unknown"):
        pipelines.run("zip", "lenet300", mnist)
    with pytest.raises(ValueError, match="model='alexnet' is unknown"):
        pipelines.run("deep-compression", "alexnet", mnist)
    assert pipelines.get_pipeline("deep-compression") is dc.run_pipeline


@pytest.mark.slow
def test_lenet300_reaches_40x_at_paper_error(mnist, tmp_path, monkeypatch):
    """Deep Compression Table 1/2: LeNet-300-100 40x (P+Q+H) at 1.58% top-1 error (reference 1.64%)."""
    monkeypatch.setenv("HWCOST_CACHE_DIR", str(tmp_path / "baselines"))
    report = dc.run_pipeline("lenet300", mnist, seed=0, workdir=tmp_path / "run", progress=False)
    print(json.dumps({k: report[k] for k in ("test_error_before", "test_error_after", "total")}))
    assert report["total"]["compression_pqh"] >= 40.0
    assert report["test_error_after"] <= 1.64
