"""The one error boundary of the command line: every expected failure of every verb is one line on stderr,
``hwcost VERB: error: ...`` naming the field or file, with exit status 2; Ctrl-C is one line saying how to
resume, exit 130; an unexpected exception keeps its traceback."""

from __future__ import annotations

import gzip
import json
import math
import re

import numpy as np
import pytest

from hwcost import cli
from hwcost.cli import main
from models import datasets


def _one_error_line(capsys, verb: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"hwcost {verb}: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a verb gets as far as loading MNIST (checks must come before any work)."""

    def refuse():
        raise AssertionError("reached load_mnist: the input should have been refused up front")

    monkeypatch.setattr(datasets, "load_mnist", refuse)


# --- hwcost report ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"rows": []}, "has no 'model'"),
        ([1, 2], "is a JSON list, not an object"),
        (
            {"model": "lenet300", "hardware": "eie", "objective": "energy", "exact_source": "archsim",
             "dense_exact": 1.0, "rows": [{"point": "dense"}]},
            r"rows\[0\] has no 'kind'",
        ),
        (
            {"model": "lenet300", "hardware": "eie", "objective": "energy", "exact_source": "archsim",
             "dense_exact": "big", "rows": [{"point": "dense", "kind": "dense", "test_error_pct": 1.0}]},
            r"\['dense_exact'\]='big' has the wrong type",
        ),
        (
            {"model": "lenet300", "hardware": "eie", "objective": "energy", "exact_source": "archsim",
             "dense_exact": 1.0, "rows": [{"point": "dense", "kind": "dense", "test_error_pct": 1.0}],
             "best_ratio_vs_magnitude": {"ratio": 2.0}},
            r"best_ratio_vs_magnitude has no 'baseline_error_pct'",
        ),
        (
            {"model": "lenet300", "hardware": "eie", "objective": "energy", "exact_source": "archsim",
             "dense_exact": 1.0, "rows": [{"point": "dense", "kind": "dense", "test_error_pct": 1.0, "exact": [1]}]},
            r"rows\[0\]\['exact'\]=\[1\] is not a number or text",
        ),
    ],
)  # fmt: skip
@pytest.mark.parametrize("as_json", [False, True])
def test_report_of_valid_json_that_is_not_a_report_exits_2(tmp_path, capsys, content, message, as_json):
    (tmp_path / "report.json").write_text(json.dumps(content))
    assert main(["report", str(tmp_path), *(["--json"] if as_json else [])]) == 2
    line = _one_error_line(capsys, "report")
    assert str(tmp_path / "report.json") in line
    assert re.search(message, line), line
    assert "not a hwcost train report" in line


def test_report_that_is_not_utf8_names_the_file(tmp_path, capsys):
    (tmp_path / "report.json").write_bytes(b"\xff\xfe{\x00}")
    assert main(["report", str(tmp_path)]) == 2
    line = _one_error_line(capsys, "report")
    assert str(tmp_path / "report.json") in line and "not UTF-8" in line


def test_json_output_is_strict_with_non_finite_values_as_null(tmp_path, capsys):
    report = {
        "model": "lenet300", "hardware": "eie", "objective": "energy", "exact_source": "archsim", "exact_unit": "pJ",
        "dense_exact": 1.0, "rows": [{"point": "dense", "kind": "dense", "test_error_pct": math.nan,
                                      "exact_rel_dense": math.inf}],
    }  # fmt: skip
    (tmp_path / "report.json").write_text(json.dumps(report))  # Python writes NaN and Infinity
    assert main(["report", str(tmp_path), "--json"]) == 0
    out = capsys.readouterr().out

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    data = json.loads(out, parse_constant=refuse)
    assert data["rows"][0]["test_error_pct"] is None and data["rows"][0]["exact_rel_dense"] is None
    # and a note in the same object says which fields were not finite, and what they were
    assert data["rows"][0]["non_finite"] == {"test_error_pct": "NaN", "exact_rel_dense": "Infinity"}
    assert "non_finite" not in data  # the report's own fields were all finite


# --- hwcost simulate -------------------------------------------------------------------------------------
@pytest.fixture
def activations(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.ones(4))
    return path


def test_a_text_file_named_npy_is_not_a_npy_file(tmp_path, activations, capsys):
    (tmp_path / "W.npy").write_text("1 2 3 4\n5 6 7 8\n")
    assert main(["simulate", "eie", "--weights", str(tmp_path / "W.npy"), "--activations", str(activations)]) == 2
    line = _one_error_line(capsys, "simulate")
    assert "is not a .npy array file" in line and "W.npy" in line
    assert "pickle" not in line


@pytest.mark.parametrize(
    ("array", "dtype"),
    [
        (np.ones((2, 4)) * 1j, "complex128"),
        (np.ones((2, 4), dtype="timedelta64[s]"), "timedelta64"),
        (np.ones((2, 4), dtype="datetime64[D]"), "datetime64"),
        (np.full((2, 4), "1"), "<U1"),
    ],
)
def test_arrays_that_are_not_real_numbers_are_refused_by_dtype(tmp_path, activations, capsys, array, dtype):
    np.save(tmp_path / "W.npy", array)
    assert main(["simulate", "eie", "--weights", str(tmp_path / "W.npy"), "--activations", str(activations)]) == 2
    line = _one_error_line(capsys, "simulate")
    assert f"weights dtype={dtype}" in line and "allowed: bool, integer, unsigned or floating point" in line


def test_an_object_array_is_refused_without_pickle_advice(tmp_path, activations, capsys):
    np.save(tmp_path / "W.npy", np.array([[1, None]], dtype=object), allow_pickle=True)
    assert main(["simulate", "eie", "--weights", str(tmp_path / "W.npy"), "--activations", str(activations)]) == 2
    line = _one_error_line(capsys, "simulate")
    assert "object arrays are not accepted" in line and "allow_pickle" not in line


# --- output folders, checked before any work -------------------------------------------------------------
@pytest.mark.parametrize("verb", ["train", "compress"])
def test_out_that_is_an_existing_file_is_refused_up_front(tmp_path, capsys, no_training, verb):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    argv = [verb, "--out", str(target)] + (["--model", "lenet300", "--pipeline", "ttq"] if verb == "compress" else [])
    assert main(argv) == 2
    line = _one_error_line(capsys, verb)
    assert f"out={str(target)!r} exists and is not a directory" in line


@pytest.mark.parametrize("verb", ["train", "compress"])
def test_an_empty_out_is_refused(capsys, no_training, verb):
    argv = [verb, "--out", ""] + (["--model", "lenet300"] if verb == "compress" else [])
    assert main(argv) == 2
    assert "out='' is empty" in _one_error_line(capsys, verb)


# --- MNIST missing or damaged --------------------------------------------------------------------------
def _no_network(monkeypatch):
    def unreachable(url, timeout=None):
        raise OSError("network is unreachable")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", unreachable)


def test_mnist_missing_everywhere_and_no_network_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("HWCOST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _no_network(monkeypatch)
    assert main(["train", "--out", str(tmp_path / "run"), "--quiet"]) == 2
    line = _one_error_line(capsys, "train")
    assert "HWCOST_DATA_DIR" in line and str(tmp_path / "data") in line and str(tmp_path / "cache") in line


def test_a_data_dir_that_does_not_exist_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HWCOST_DATA_DIR", str(tmp_path / "typo"))
    _no_network(monkeypatch)
    assert main(["train", "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert f"HWCOST_DATA_DIR={str(tmp_path / 'typo')!r} is not a folder" in _one_error_line(capsys, "train")


def test_a_truncated_gz_names_the_file(tmp_path, monkeypatch, capsys):
    packed = gzip.compress(datasets.read_idx_file("train-images-idx3-ubyte")[:100_000])
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(packed[: len(packed) // 2])
    monkeypatch.setenv("HWCOST_DATA_DIR", str(tmp_path))
    _no_network(monkeypatch)
    assert main(["train", "--out", str(tmp_path / "run"), "--quiet"]) == 2
    line = _one_error_line(capsys, "train")
    assert str(tmp_path / "train-images-idx3-ubyte.gz") in line and "truncated" in line


# --- the boundary itself -------------------------------------------------------------------------------
def _failing_report(monkeypatch, exc: BaseException) -> None:
    def run(args):
        raise exc

    monkeypatch.setattr(cli.report, "run", run)


@pytest.mark.parametrize(
    "exc",
    [
        FileNotFoundError(2, "No such file or directory", "/data/x.ckpt"),
        FileExistsError(17, "File exists", "/runs/a"),
        EOFError("Compressed file ended before the end-of-stream marker was reached"),
        json.JSONDecodeError("Expecting ':' delimiter", '{"a" 1}', 5),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        ValueError("first line\nsecond line"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_expected_failures_of_any_kind_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys, exc):
    import hwcost.cli.report  # noqa: F401  (the verb module whose run is replaced)

    _failing_report(monkeypatch, exc)
    assert main(["report", str(tmp_path)]) == 2
    line = _one_error_line(capsys, "report")
    if isinstance(exc, OSError):
        assert exc.filename in line


def test_ctrl_c_is_one_line_saying_how_to_resume_and_exits_130(tmp_path, monkeypatch, capsys):
    import hwcost.cli.train

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(hwcost.cli.train, "run", interrupted)
    assert main(["train", "--out", str(tmp_path / "run")]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("hwcost train: interrupted; rerun the same command to resume")


def test_an_unexpected_exception_keeps_its_traceback(tmp_path, monkeypatch):
    import hwcost.cli.report  # noqa: F401

    _failing_report(monkeypatch, KeyError("bug"))
    with pytest.raises(KeyError):
        main(["report", str(tmp_path)])


# --- an output folder in use ------------------------------------------------------------------------------
def test_a_second_run_into_a_folder_in_use_is_one_line(locked_folder, capsys, no_training):
    out, pid = locked_folder
    assert main(["compress", "--model", "lenet300", "--pipeline", "dsd", "--out", str(out)]) == 2
    assert f"{out} is in use by another hwcost run (pid {pid})" in _one_error_line(capsys, "compress")
