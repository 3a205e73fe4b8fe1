import json
import re

import pytest

from hwcost import cli
from hwcost.cli import compress as compress_verb


def test_compress_small_run_writes_report_and_model_then_evaluates_it(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["compress", "--model", "lenet300", "--pipeline", "deep-compression", "--out", str(out)]
    assert cli.main([*argv, "--small", "--no-progress"]) == 0
    text = capsys.readouterr().out
    for column in ("layer", "weights_kept_pct", "weight_bits_pqh", "index_bits_pqh", "rate_pqh_pct"):
        assert column in text
    assert "test error before" in text and "test error after" in text and "compression P+Q+H" in text
    report = json.loads((out / "report.json").read_text())
    assert [r["layer"] for r in report["layers"]] == ["ip1", "ip2", "ip3"]
    model_file = out / "lenet300.hwdc"
    assert model_file.is_file()
    assert cli.main(["compress", "--evaluate", str(model_file), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["total"] == pytest.approx(report["total"])
    assert 0 <= evaluated["test_error_after"] < 50  # on all 10,000 test images (the small run used 2,000)


def test_table_columns_follow_the_paper_then_extras():
    rows = [{"extra": 1, "rate_pqh_pct": 2.0, "layer": "ip1", "weights_kept_pct": 8.0}]
    assert compress_verb.table_columns(rows) == ["layer", "weights_kept_pct", "rate_pqh_pct", "extra"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "vgg16"], "model='vgg16' is unknown"),
        (["--pipeline", "ttq"], "--model is required"),
        (["--model", "lenet300", "--pipeline", "zip"], "pipeline='zip' is unknown"),
        (["--model", "lenet300", "--density", "ip1=1.5"], r"densities\['ip1'\]=1.5 is outside \(0, 1\]"),
        (["--model", "lenet300", "--density", "ip1=0"], r"densities\['ip1'\]=0 is outside"),
        (["--model", "lenet300", "--bits", "ip2=0"], r"weight_bits\['ip2'\]=0"),
        (["--model", "lenet300", "--bits", "conv9=4"], "layer 'conv9' is not in lenet300"),
        (["--model", "lenet300", "--pipeline", "ttq", "--bits", "ip1=4"], "deep-compression only"),
    ],
)
def test_bad_input_exits_2_with_clear_message(extra, message, capsys):
    assert cli.main(["compress", *extra]) == 2
    err = capsys.readouterr().err
    assert "hwcost compress: error:" in err
    assert re.search(message, err)


def test_corrupt_exported_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.hwdc"
    bad.write_bytes(b"HWDCZ01\n\x05\x00\x00\x00{bad")
    assert cli.main(["compress", "--model", "lenet300", "--evaluate", str(bad)]) == 2
    assert re.search("corrupt|truncated", capsys.readouterr().err)
