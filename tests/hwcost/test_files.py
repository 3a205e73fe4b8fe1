"""Every file the project writes goes through one atomic helper (unique temporary file beside the target,
fsync, rename); JSON read back names the file that does not parse, and a resumed run sets such a file aside."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import numpy as np
import pytest

from hwcost import files

ROOT = Path(__file__).resolve().parents[2]


def test_write_atomically_syncs_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(files.os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    path = files.write_atomically(tmp_path / "sub" / "a.json", "{}")
    assert path.read_text() == "{}"
    assert synced, "the data never reached the disk before the rename"
    assert [p.name for p in path.parent.iterdir()] == ["a.json"]


def test_an_interrupted_write_keeps_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "report.json"
    path.write_text('{"old": 1}')

    def killed(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        files.write_atomically(path, '{"new": 2}')
    assert json.loads(path.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_concurrent_writers_use_distinct_temporary_files(tmp_path, monkeypatch):
    temps = []
    real_replace = os.replace
    monkeypatch.setattr(files.os, "replace", lambda src, dst: temps.append(Path(src).name) or real_replace(src, dst))
    for text in ("1", "2"):
        files.write_atomically(tmp_path / "x.json", text)
    assert len(set(temps)) == 2 and all(t.startswith(".x.json.") for t in temps)


def test_read_json_names_the_file(tmp_path):
    (tmp_path / "cut.json").write_text('{"a": ')
    with pytest.raises(ValueError, match=r"cut.json is not valid JSON"):
        files.read_json(tmp_path / "cut.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(ValueError, match=r"bin.json is not UTF-8 text"):
        files.read_json(tmp_path / "bin.json")


def test_a_file_that_does_not_parse_is_set_aside_with_a_warning(tmp_path):
    path = tmp_path / "point.json"
    path.write_text('{"test_error_pct": 1.')
    lines = []
    assert files.load_json_or_set_aside(path, lines.append) is None
    assert not path.exists() and (tmp_path / "point.json.corrupt").is_file()
    assert len(lines) == 1 and str(path) in lines[0] and "point.json.corrupt" in lines[0]
    assert files.load_json_or_set_aside(path, lines.append) is None and len(lines) == 1  # now simply missing
    path.write_text('{"a": 1}')
    assert files.load_json_or_set_aside(path, lines.append) == {"a": 1}


WRITERS = ("write_text", "write_bytes", "savefig", "save", "savez", "savez_compressed", "dump")


def _direct_writes(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in WRITERS and not (name == "savefig" and _writes_to_buffer(node)):
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
            if name == "open" and any(isinstance(a, ast.Constant) and "w" in str(a.value) for a in node.args[1:]):
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} open for writing")
    return out


def _writes_to_buffer(call: ast.Call) -> bool:
    return bool(call.args) and isinstance(call.args[0], ast.Name) and call.args[0].id == "buffer"


def test_the_library_writes_files_only_through_the_atomic_helper():
    sources = [p for pkg in ("hwcost", "compress", "models") for p in sorted((ROOT / pkg).rglob("*.py"))]
    sources = [p for p in sources if p != ROOT / "hwcost" / "files.py"]
    assert [w for p in sources for w in _direct_writes(p)] == []


def test_an_output_folder_is_locked_against_a_second_run(locked_folder):
    from hwcost.errors import UsageError
    from hwcost.files import output_lock

    folder, pid = locked_folder
    with pytest.raises(UsageError, match=rf"{folder} is in use by another hwcost run \(pid {pid}\)"):
        with output_lock(folder):
            pass


def test_a_lock_is_released_when_its_holder_is_killed(tmp_path):
    import subprocess
    import sys

    from hwcost.files import output_lock
    from tests.conftest import LOCK_HOLDER

    with subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True) as p:
        assert p.stdout.readline().strip() == "locked"
        p.kill()
    with output_lock(tmp_path):  # released by the operating system when the holder died
        pass


# --- checkpoints on resume -------------------------------------------------------------------------------
def _count_phases(epochs: int):
    import jax.numpy as jnp

    from compress.loop import Phase

    def step(state, images, labels, idx):
        new = {"w": state["w"] + jnp.mean(images[idx])}
        return new, {"loss": jnp.sum(new["w"])}

    return [Phase("train", epochs, step)], {"w": jnp.zeros(3)}, jnp.arange(8.0), jnp.zeros(8)


def _damaged(raw: bytes, how: str) -> bytes:
    if how == "truncated":
        return raw[: len(raw) // 2]
    if how == "garbage":
        return b"\x00\xffnot a checkpoint at all" * 10
    if how == "flipped":  # one bit of the weights changed in place: only the checksum notices
        return raw[:-3] + bytes([raw[-3] ^ 1]) + raw[-2:]
    return raw[:8]  # "header only": the magic and nothing else


@pytest.mark.parametrize("how", ["truncated", "garbage", "flipped", "header only"])
def test_a_checkpoint_that_does_not_load_is_named_set_aside_and_recomputed(tmp_path, capsys, how):
    from compress.checkpoint import load_checkpoint
    from compress.loop import run_phases

    phases, state, images, labels = _count_phases(3)
    ckpt = tmp_path / "run.ckpt"
    reference, ref_history = run_phases(phases, state, images, labels, batch_size=4, checkpoint=ckpt, progress=False)
    good = ckpt.read_bytes()
    ckpt.write_bytes(_damaged(good, how))
    capsys.readouterr()
    again, history = run_phases(phases, state, images, labels, batch_size=4, checkpoint=ckpt, progress=False)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"warning: {ckpt} does not parse"), err
    assert "moved it to run.ckpt.corrupt, recomputing it" in err[0]
    assert (tmp_path / "run.ckpt.corrupt").read_bytes() == _damaged(good, how)
    assert history == ref_history and np.array_equal(again["w"], reference["w"])
    assert ckpt.read_bytes() == good  # recomputed from the start: the same file as the uninterrupted run's
    assert load_checkpoint(ckpt, state)[1]["epochs_done"] == 3


def test_a_checkpoint_of_another_loop_is_set_aside_too(tmp_path, capsys):
    from compress.checkpoint import save_checkpoint
    from compress.loop import run_phases

    phases, state, images, labels = _count_phases(2)
    ckpt = tmp_path / "run.ckpt"
    save_checkpoint(ckpt, state, {"epochs_done": 5, "history": []})  # metadata that no run of this loop writes
    _, history = run_phases(phases, state, images, labels, batch_size=4, checkpoint=ckpt, progress=False)
    assert len(history) == 2
    assert "one record for each of the 5 epochs done" in capsys.readouterr().err
    assert (tmp_path / "run.ckpt.corrupt").is_file()


def test_checkpoint_metadata_is_strict_json_with_a_note(tmp_path):
    import math

    from compress.checkpoint import load_checkpoint, save_checkpoint

    path = save_checkpoint(tmp_path / "a.ckpt", {"w": np.zeros(2)}, {"history": [{"loss": math.nan}]})
    raw = path.read_bytes()
    header = raw[16 : 16 + int.from_bytes(raw[8:16], "little")]

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    json.loads(header, parse_constant=refuse)
    _, meta = load_checkpoint(path, {"w": np.zeros(2)})
    assert meta == {"history": [{"loss": None, "non_finite": {"loss": "NaN"}}]}


# --- strict JSON ------------------------------------------------------------------------------------------
def test_non_finite_numbers_are_null_with_a_note_naming_each_field():
    import math

    from hwcost.formatting import dumps_json

    value = {
        "loss": math.nan, "ok": 1.5, "thresholds": [0.1, math.inf, [2.0, -math.inf]],
        "rows": [{"energy": np.float32("nan"), "point": "a"}, {"energy": 1.0}],
        "array": np.array([1.0, np.nan]), "nested": {"x": math.inf},
    }  # fmt: skip
    text = dumps_json(value)

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    data = json.loads(text, parse_constant=refuse)
    assert data["loss"] is None and data["thresholds"] == [0.1, None, [2.0, None]] and data["ok"] == 1.5
    assert data["non_finite"] == {"loss": "NaN", "thresholds[1]": "Infinity", "thresholds[2][1]": "-Infinity",
                                  "array[1]": "NaN"}  # fmt: skip
    assert data["rows"][0] == {"energy": None, "point": "a", "non_finite": {"energy": "NaN"}}
    assert data["rows"][1] == {"energy": 1.0} and data["nested"] == {"x": None, "non_finite": {"x": "Infinity"}}
    # written, read back and written again (a resumed run re-writing a stored point): the same text
    assert dumps_json(json.loads(text)) == text


def test_a_note_read_back_is_merged_with_new_non_finite_fields():
    import math

    from hwcost.formatting import to_jsonable

    stored = {"a": None, "non_finite": {"a": "NaN"}, "b": math.inf}
    assert to_jsonable(stored) == {"a": None, "non_finite": {"a": "NaN", "b": "Infinity"}, "b": None}


def test_non_finite_numbers_outside_any_object_are_named_on_stderr(capsys):
    import math

    from hwcost.formatting import dumps_json

    assert dumps_json([1.0, math.nan], indent=None) == "[1.0, null]"
    assert capsys.readouterr().err == "note: non-finite numbers written as null: [1]=NaN\n"
    assert dumps_json(math.inf) == "null"
    assert "the value=Infinity" in capsys.readouterr().err


def test_an_atomic_write_has_the_permissions_of_a_plain_one(tmp_path):
    plain = tmp_path / "plain.json"
    plain.write_text("{}")
    assert (files.write_atomically(tmp_path / "new.json", "{}").stat().st_mode & 0o777) == (
        plain.stat().st_mode & 0o777
    )  # not mkstemp's private 0600
    os.chmod(plain, 0o640)
    assert files.write_atomically(plain, "[]").stat().st_mode & 0o777 == 0o640  # the replaced file's
