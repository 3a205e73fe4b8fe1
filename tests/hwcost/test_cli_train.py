"""``hwcost train``: bad input exits 2 with a clear message; a tiny run writes its report, model and plot,
and a rerun resumes from what is on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwcost.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "alexnet"], "model='alexnet' is unknown"),
        (["--hardware", "tpu"], "hardware='tpu' is unknown"),
        (["--objective", "area"], "objective='area' is unknown"),
        (["--lambda", "-0.5"], "lambda=-0.5 must be >= 0"),
        (["--budget", "0"], "budget=0 must be > 0"),
        (["--budget", "0.0001"], "budget=0.0001 is unreachable"),
        (["--budget", "1.5"], "budget=1.5 is unreachable"),
        (["--out", "/nonexistent-parent-dir/run"], "parent directory"),
        (["--groups", "ip9=filter"], "groups has layer='ip9'"),
        (["--groups", "ip1=element"], "groups['ip1']='element' is unknown"),
        (["--groups", "ip1"], "groups='ip1' is malformed"),
        (["--init-threshold", "-1"], "init-threshold=-1 must be >= 0"),
        (["--eval-images", "1000000"], "eval-images=1000000 is outside [1, 10000]"),
        (["--train-subset", "10000000"], "train-subset=10000000 is outside [128, 60000]"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(argv, message, capsys, tmp_path):
    argv = ["train", *argv] if "--out" in argv else ["train", *argv, "--out", str(tmp_path / "run")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("hwcost train: error:")


def test_unreachable_budget_states_the_floor(capsys, tmp_path):
    assert main(["train", "--budget", "0.0001", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "allowed: (" in err and "density 0" in err


def _lasting_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not p.name.endswith((".corrupt", ".lock"))}  # fmt: skip


def test_tiny_run_writes_report_model_and_plot_and_reruns_from_disk(tmp_path, capsys):
    """A tiny run writes its outputs; a rerun finds every point on disk; a run killed after a point's epoch
    checkpoint was written but before the point was, whose checkpoint was then cut short (an older version's
    in-place write, a full disk), names the checkpoint, sets it aside as ``.corrupt``, trains the point again
    and leaves every output file bit-identical to the uninterrupted run's; a cut point file is recomputed."""
    out = tmp_path / "run"
    argv = [
        "train", "--out", str(out), "--lambda", "0.5", "--epochs", "1", "--finetune-epochs", "0",
        "--magnitude-densities", "0.1", "--no-deep-compression", "--eval-images", "1",
        "--train-subset", "256", "--dense-epochs", "1", "--quiet",
    ]  # fmt: skip
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "lambda-0.5" in first and "magnitude-0.1" in first
    report = json.loads((out / "report.json").read_text())
    assert {r["kind"] for r in report["rows"]} == {"dense", "joint", "magnitude"}
    assert report["exact_source"] == "archsim"
    assert (out / "pareto.png").stat().st_size > 0
    assert (out / "models" / "lambda-0.5.ckpt").is_file()
    assert (out / "models" / "lambda-0.5.hwdc").is_file()
    # a rerun finds every point on disk and reports the same numbers
    assert main(argv) == 0
    second = json.loads((out / "report.json").read_text())
    assert second["rows"] == report["rows"]
    assert main(["report", str(out)]) == 0
    assert "lambda-0.5" in capsys.readouterr().out
    # a cut epoch checkpoint of a point whose point file is missing
    reference = _lasting_files(out)
    ckpt = out / "checkpoints" / "lambda-0.5.ckpt"
    (out / "points" / "lambda-0.5.json").unlink()
    ckpt.write_bytes(reference["checkpoints/lambda-0.5.ckpt"][:1000])
    assert main(argv) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"warning: {ckpt} does not parse"), err
    assert "lambda-0.5.ckpt.corrupt" in err[0]
    corrupt = out / "checkpoints" / "lambda-0.5.ckpt.corrupt"
    assert corrupt.read_bytes() == reference["checkpoints/lambda-0.5.ckpt"][:1000]
    assert _lasting_files(out) == reference
    # a point cut short by a kill (an older version's in-place write) is named, set aside and recomputed
    point = out / "points" / "lambda-0.5.json"
    point.write_text(point.read_text()[:200])
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"warning: {point} does not parse" in err and "lambda-0.5.json.corrupt" in err
    assert (out / "points" / "lambda-0.5.json.corrupt").is_file()
    assert json.loads((out / "report.json").read_text())["rows"] == report["rows"]


def test_compression_decision_options_reach_the_training_config(tmp_path):
    from hwcost.cli import build_parser
    from hwcost.cli.train import TTQ_INIT_THRESHOLD, experiment_config

    argv = ["train", "--model", "lenet5", "--groups", "conv2=kernel,filter", "ip1=", "--ttq", "--ste"]
    masks = experiment_config(build_parser().parse_args(argv)).train.masks
    assert masks.groups == {"conv1": ("filter",), "conv2": ("kernel", "filter"), "ip1": (), "ip2": ()}
    assert masks.ttq and masks.mode == "ste" and masks.init_threshold == TTQ_INIT_THRESHOLD
    default = experiment_config(build_parser().parse_args(["train"])).train.masks
    assert default.groups is None and not default.ttq and default.mode == "soft" and default.init_threshold == 0.0


def test_tiny_lstm_run_on_ese_goes_through_the_common_bridge_and_writes_its_report(tmp_path, capsys, monkeypatch):
    """``--model lstm --hardware ese``: no special case for the pair; the exact side is ESE's layer simulator,
    each gate priced per inference (28 products), and the Deep Compression point is skipped (no recipe)."""
    from models import datasets

    small = datasets.subset(datasets.load_mnist(), 128, 64)
    monkeypatch.setattr(datasets, "load_mnist", lambda *a, **k: small)
    out = tmp_path / "run"
    argv = [
        "train", "--model", "lstm", "--hardware", "ese", "--objective", "latency", "--out", str(out),
        "--lambda", "1", "--epochs", "1", "--finetune-epochs", "0", "--magnitude-densities",
        "--eval-images", "1", "--train-subset", "128", "--dense-epochs", "1", "--quiet",
    ]  # fmt: skip
    assert main(argv) == 0
    assert "lambda-1" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert (report["model"], report["hardware"], report["exact_source"]) == ("lstm", "ese", "archsim")
    assert {r["kind"] for r in report["rows"]} == {"dense", "joint"}
    layers = report["points"]["lambda-1"]["model"]["hard"]["layers"]
    assert [layers[g]["repeats"] for g in ("gate_i", "gate_f", "gate_g", "gate_o", "classifier")] == [28] * 4 + [1]
    for row in report["rows"]:
        assert 0.85 < row["hard_over_exact"] < 1.15, row
    assert (out / "pareto.png").stat().st_size > 0
