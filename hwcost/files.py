"""Files the project writes and reads back: every output goes through :func:`write_atomically` (a temporary
file in the same folder, fsync, rename), so a reader or a rerun after a kill sees the old file or the new
one, never half of one; :func:`read_json` names the file that does not parse, and
:func:`load_json_or_set_aside` moves such a file out of the way so that a resumed run recomputes it."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hwcost.errors import UsageError


def _warn_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def write_atomically(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (text is UTF-8 encoded) to ``path`` atomically; returns the path.

    The bytes go to a uniquely named temporary file beside ``path`` (so concurrent writers never share
    one), are flushed to disk (fsync), and the file is renamed over ``path`` (``os.replace``, atomic on one
    file system); the folder is synced too where the platform allows. Missing parent folders are created.
    The file gets the permissions of the one it replaces, or those of any new file (``0o666`` less the umask).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _mode_for(path))  # mkstemp's file is private (0600); the result is not
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _mode_for(path: Path) -> int:
    """The permissions a new file would get (``0o666`` less the umask), or those of the file it replaces."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        pass
    try:  # read without changing it (os.umask sets it too, racing other threads)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # platforms (Windows) that cannot open a folder
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reason(err: ValueError) -> str:
    if isinstance(err, UnicodeDecodeError):
        return f"not UTF-8 text: {err.reason} at byte {err.start}"
    return f"not valid JSON: {err}"


def read_json(path: str | Path) -> Any:
    """The JSON value in ``path``; :class:`~hwcost.errors.UsageError` naming the file if it is not UTF-8 text
    or not valid JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UsageError(f"{path} is {_reason(err)}; it is not a JSON file written by hwcost") from None


def set_aside(path: str | Path, reason: str, warn: Callable[[str], None] = _warn_stderr) -> Path:
    """Rename ``path`` to ``NAME.corrupt`` (replacing an older one) and ``warn`` one line naming both and
    ``reason``; returns the new path."""
    path = Path(path)
    aside = path.with_name(path.name + ".corrupt")
    os.replace(path, aside)
    warn(f"warning: {path} does not parse ({reason}); moved it to {aside.name}, recomputing it")
    return aside


def load_json_or_set_aside(path: str | Path, warn: Callable[[str], None] = _warn_stderr) -> Any | None:
    """The JSON value in ``path``; ``None`` if there is no such file, or if it does not parse (cut short by a
    crash, a damaged disk), in which case it is :func:`set_aside` (and ``warn`` names it)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        set_aside(path, _reason(err), warn)
        return None


LOCK_NAME = ".hwcost.lock"
"""The lock file :func:`output_lock` keeps in an output folder while a run writes into it."""


@contextlib.contextmanager
def output_lock(folder: str | Path) -> Iterator[Path]:
    """Hold an exclusive lock on the output ``folder`` (created if missing) for the ``with`` block.

    A second run into the same folder (another process) raises :class:`~hwcost.errors.UsageError` naming the
    folder and the process that holds it, instead of interleaving its writes with the first run's. The lock
    is an ``flock`` on ``folder/.hwcost.lock``: the operating system releases it when the holder exits, even
    after a kill, so a stale lock file never blocks a resume.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise UsageError(
                f"{folder} is in use by another hwcost run (pid {holder}); "
                "wait for it to finish or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield folder
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = ["load_json_or_set_aside", "output_lock", "read_json", "set_aside", "write_atomically"]
