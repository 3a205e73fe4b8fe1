"""``hwcost report``: prints a stored report as a table or JSON; a missing report is a clear error."""

from __future__ import annotations

import json

from hwcost.cli import main
from tests.fuzz.reports import VALID_REPORT

REPORT = {k: v for k, v in VALID_REPORT.items() if k != "dominance_vs_deep_compression"}


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
