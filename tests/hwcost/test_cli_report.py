"""``hwcost report``: prints a stored report as a table or JSON; a missing report is a clear error."""

from __future__ import annotations

import json

from hwcost.cli import main

REPORT = {
    "model": "lenet300", "hardware": "eie", "objective": "energy", "exact_source": "archsim", "exact_unit": "pJ",
    "dense_exact": 1.0e6,
    "rows": [
        {"point": "dense", "kind": "dense", "test_error_pct": 1.5, "exact_rel_dense": 1.0, "exact": 1.0e6},
        {"point": "lambda-0.1", "kind": "joint", "test_error_pct": 1.6, "exact_rel_dense": 0.2, "exact": 2.0e5},
        {"point": "magnitude-0.1", "kind": "magnitude", "test_error_pct": 1.7, "exact_rel_dense": 0.4, "exact": 4.0e5},
    ],
    "best_ratio_vs_magnitude": {"ratio": 2.0, "baseline_error_pct": 1.7, "baseline_cost": 4.0e5,
                                "joint_error_pct": 1.6, "joint_cost": 2.0e5},
    "points": {},
}  # fmt: skip


def test_report_prints_table_and_json(tmp_path, capsys):
    (tmp_path / "report.json").write_text(json.dumps(REPORT))
    assert main(["report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "magnitude-0.1" in out and "2.00x lower energy" in out
    assert main(["report", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["best_ratio_vs_magnitude"]["ratio"] == 2.0
    assert "points" not in data


def test_missing_report_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "holds no report.json" in capsys.readouterr().err
