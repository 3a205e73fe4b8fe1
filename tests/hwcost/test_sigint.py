"""A real Ctrl-C: ``hwcost train`` in its own process, interrupted with SIGINT while it is training (its first
epoch checkpoint is on disk), exits with status 130 and exactly one stderr line that says how to resume, with
no traceback anywhere, no temporary file left behind and a checkpoint that still loads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hwcost.cli import interrupted_line

ROOT = Path(__file__).resolve().parents[2]

LAUNCH = (
    "import signal, sys\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "from hwcost.cli import main\n"
    "sys.exit(main())\n"
)
"""The console script's ``sys.exit(main())``, with Python's own Ctrl-C handler installed first: a process that a
shell started in the background (a CI runner, ``nohup``) may inherit SIGINT as ignored, and Python then keeps
ignoring it; in a terminal, Ctrl-C reaches exactly this handler."""

NEVER_ENDING = [
    "train", "--lambda", "0.5", "--epochs", "1", "--finetune-epochs", "0", "--magnitude-densities", "0.1",
    "--no-deep-compression", "--eval-images", "1", "--train-subset", "256",
    "--dense-epochs", "100000",  # the dense baseline trains far longer than the test waits: the signal cannot miss
]  # fmt: skip
STARTUP_LIMIT_S = 180
"""How long the first epoch may take to reach the disk (a cold compilation cache on 2 cores); usually ~10 s."""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("JAX_COMPILATION_CACHE_DIR", str(ROOT / ".cache" / "jax"))
    env.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    env["JAX_PLATFORMS"] = "cpu"  # no "GPU may be present" line on a machine with a GPU but a CPU-only jaxlib
    return env


def _checkpoints(out: Path) -> list[Path]:
    """Checkpoints under ``out`` (not the hidden temporary files of a write in progress)."""
    return [p for p in out.rglob("*.ckpt*") if p.is_file() and not p.name.startswith(".")]


def test_sigint_while_training_is_one_line_on_how_to_resume_and_exit_130(tmp_path):
    out = tmp_path / "run"
    # leaving the block closes the pipes, also when an assertion fails
    with subprocess.Popen(
        [sys.executable, "-c", LAUNCH, *NEVER_ENDING, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=tmp_path,
    ) as proc:
        try:
            deadline = time.monotonic() + STARTUP_LIMIT_S
            while not _checkpoints(out):  # polled: the work itself says when it is under way
                assert proc.poll() is None, (
                    f"hwcost train ended before training (rc {proc.returncode}): {proc.stderr.read()}"
                )
                assert time.monotonic() < deadline, f"no checkpoint in {out} after {STARTUP_LIMIT_S} s"
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 130, stderr
    assert stderr.splitlines() == [interrupted_line("train")], stderr
    assert "resume" in stderr
    assert "Traceback" not in stdout + stderr and "KeyboardInterrupt" not in stdout + stderr
    assert not [p.name for p in out.rglob("*.tmp")], "an interrupted write left its temporary file"

    from compress.checkpoint import checkpoint_metadata

    for checkpoint in _checkpoints(out):  # whole (checksum verified): the epochs done are kept for the rerun
        assert checkpoint_metadata(checkpoint)["epochs_done"] >= 1
