"""The HoLiSwap validation on one committed program trace: every reported quantity present and consistent with
archsim's run and the model's, and the report formats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwcost import holiswap
from hwcost.experiments import holiswap_validation as hv


@pytest.fixture(scope="module")
def report():
    path = hv.FIXTURES / "hash_table.small.lackey.gz"
    if not path.exists():
        pytest.skip("no committed traces")
    return hv.validate([path], caches=("l1d",))


def test_rows_report_the_model_against_archsim(report):
    (row,) = report["layers"]
    assert row["trace"] == "hash_table" and row["cache"] == "l1d"
    assert row["wire_error"] == pytest.approx(row["model_wire_pj"] / row["archsim_wire_pj"] - 1.0)
    assert row["swap_error"] == pytest.approx(row["model_swaps"] / row["archsim_swaps"] - 1.0)
    assert 0.0 < row["hot_line_fraction"] <= 1.0
    assert row["lines_serving_60pct"] <= row["distinct_lines"]
    # swaps stall the ports 4 cycles each, one access per cycle
    assert row["archsim_swap_stall_fraction"] == pytest.approx(4 * row["archsim_swaps"] / row["accesses"])
    assert abs(row["conventional_wire_error"]) < 0.01
    assert row["phase_effect_wire"] >= 0.0 and row["phase_effect_swaps"] >= 0.0
    assert 0.0 <= row["hot_overlap"] <= 1.0


def test_summary_and_table(report):
    s = report["summary"]
    assert s["streams"] == 1 and s["target_rtol"] == hv.TARGET_RTOL
    text = hv.format_report(report)
    assert "hash_table" in text and "paper: < 3%" in text
    json.dumps(report)


def test_hot_overlap_sees_two_hot_lines_sharing_a_set():
    """Lines 0 and 128 (set 0) alternate for 2,000 accesses: both hot at once; line 1 (set 1) alone is hot too."""
    from archsim.traces.lackey import LineStream

    pair = np.tile([0, 128], 1000)
    alone = np.ones(2000, np.int64)
    stream = LineStream(np.concatenate([pair, alone]), np.zeros(4000, bool))
    hw = holiswap.HOLISWAP_L1D
    assert hv.hot_overlap(stream, hw) == pytest.approx(0.5)


def test_validate_holiswap_on_the_command_line_prints_the_table_and_json(tmp_path, monkeypatch, capsys):
    import shutil

    from hwcost.cli import main

    path = hv.FIXTURES / "sort.small.lackey.gz"
    if not path.exists():
        pytest.skip("no committed traces")
    shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(hv, "FIXTURES", tmp_path)
    assert main(["validate", "holiswap", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("HoLiSwap") and "sort" in text and "paper: < 3%" in text
    assert main(["validate", "holiswap", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {r["cache"] for r in report["layers"]} == {"l1i", "l1d"}
    assert report["summary"]["streams"] == 2
