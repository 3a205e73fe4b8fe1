"""Every file the project writes goes through one atomic helper (unique temporary file beside the target,
fsync, rename); JSON read back names the file that does not parse, and a resumed run sets such a file aside."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

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
