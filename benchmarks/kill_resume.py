"""Kill and resume: a tiny ``hwcost train`` and a tiny ``hwcost compress`` run once uninterrupted, then again and
again killed with SIGKILL at a random moment (fixed seed; uniform over 20-97 % of the length of a whole run,
re-measured whenever a run finishes before its kill) and rerun to completion; the outputs of every resumed run
must be bit-identical to the uninterrupted run's.

    .venv/bin/python benchmarks/kill_resume.py [--kills 20] [--seed 0] [--verbs train compress]

Compared: every file the run leaves in its ``--out`` folder (``report.json``, the exported models
``*.hwdc`` and ``*.ckpt``, the finished points, the plot), by SHA-256, and ``report.json``'s rows, except the
transient files a kill may leave (``*.tmp``, set-aside ``*.corrupt`` files, locks). Writes
``benchmarks/results/kill_resume.json`` (runs, kill times, what was on disk at the kill, identical yes/no).
MNIST comes from ``HWCOST_DATA_DIR`` (default: ``../shared/datasets`` beside the checkout).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwcost.files import write_atomically  # noqa: E402
from hwcost.formatting import dumps_json  # noqa: E402

RESULT = ROOT / "benchmarks" / "results" / "kill_resume.json"

COMMANDS: dict[str, list[str]] = {
    # the smallest sweep the command line allows: one joint point, one magnitude point, 256 training images,
    # one joint epoch, no frozen-mask epochs, one test image through the simulator
    "train": ["train", "--lambda", "0.5", "--epochs", "1", "--finetune-epochs", "0", "--magnitude-densities", "0.1",
              "--no-deep-compression", "--eval-images", "1", "--train-subset", "256", "--dense-epochs", "1",
              "--quiet"],
    # Deep Compression's pipeline in its plumbing-test size (a few hundred steps per phase)
    "compress": ["compress", "--model", "lenet300", "--pipeline", "deep-compression", "--small", "--no-progress"],
}  # fmt: skip
TRANSIENT_SUFFIXES = (".tmp", ".corrupt", ".lock")


def _command() -> list[str]:
    script = Path(sys.executable).with_name("hwcost")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from hwcost.cli import main; sys.exit(main())"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    shared = ROOT.parent / "shared" / "datasets"
    if "HWCOST_DATA_DIR" not in env and (shared / "mnist").is_dir():
        env["HWCOST_DATA_DIR"] = str(shared)
    env.setdefault("JAX_COMPILATION_CACHE_DIR", str(ROOT / ".cache" / "jax"))
    env.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    return env


def _transient(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.endswith(TRANSIENT_SUFFIXES) or (name.startswith(".") and ".tmp" in name)


def digests(out: Path) -> dict[str, str]:
    """SHA-256 of every lasting file under ``out``, by relative path."""
    found = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        if not _transient(rel):
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _rows(out: Path) -> Any:
    try:
        report = json.loads((out / "report.json").read_text())
    except (OSError, ValueError):
        return None
    return report.get("rows", report.get("layers"))


def _run(argv: list[str], out: Path, log: Path, kill_at: float | None = None) -> dict[str, Any]:
    """Run ``hwcost ARGV --out OUT``; with ``kill_at``, SIGKILL it that many seconds after the start."""
    start = time.perf_counter()
    with log.open("ab") as sink:
        sink.write(f"\n$ {' '.join(argv)} (kill at {kill_at})\n".encode())
        sink.flush()
        proc = subprocess.Popen([*_command(), *argv, "--out", str(out)], stdout=sink, stderr=sink, env=_env(),
                                cwd=out.parent)  # fmt: skip
        killed = False
        try:
            proc.wait(timeout=kill_at)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed = True
    return {"rc": proc.returncode, "killed": killed, "seconds": round(time.perf_counter() - start, 2)}


def _state(out: Path) -> list[str]:
    """What was on disk at the kill: the top-level entries and their file counts."""
    if not out.is_dir():
        return []
    return sorted(f"{p.name}{'/' + str(sum(1 for q in p.rglob('*') if q.is_file())) if p.is_dir() else ''}"
                  for p in out.iterdir())  # fmt: skip


def kill_and_resume(
    verb: str, kills: int, kills_per_run: int, seed: int, work: Path, deadline: float
) -> dict[str, Any]:
    """The uninterrupted run of ``verb``, then runs each killed up to ``kills_per_run`` times (a kill, a rerun
    killed again, ...) and finally rerun to the end, until ``kills`` kills in all."""
    argv = COMMANDS[verb]
    log = work / f"{verb}.log"
    # every run writes to the same folder (reports record their own paths), which is moved aside afterwards
    out = work / f"{verb}-run" / "out"
    out.parent.mkdir(parents=True)
    ref = _run(argv, out, log)
    if ref["rc"] != 0:
        raise SystemExit(f"the uninterrupted hwcost {verb} failed (rc {ref['rc']}); see {log}")
    ref_out = work / f"{verb}-reference"
    out.rename(ref_out)
    reference = digests(ref_out)
    ref_rows = _rows(ref_out)
    rng = random.Random(f"{seed}-{verb}")
    duration = ref["seconds"]  # kill moments are drawn over the length of a whole run, re-measured as it changes
    runs: list[dict[str, Any]] = []
    attempt = 0
    while sum(r["killed"] for r in runs) < kills and time.time() < deadline:
        attempt += 1
        kill_list = []
        for j in range(kills_per_run):  # each kill lands in a run that may itself be a resumed one
            kill_at = round(rng.uniform(0.2, 0.97) * duration, 2)
            first = _run(argv, out, log, kill_at=kill_at)
            if j == 0 and not first["killed"]:
                duration = first["seconds"]  # a whole run took this long now (the machine got less busy)
            kill_list.append({"kill_at_s": kill_at, "killed": first["killed"], "rc": first["rc"],
                              "on_disk_at_kill": _state(out)})  # fmt: skip
            if not first["killed"]:
                break
        resumed = _run(argv, out, log)
        got = digests(out)
        differing = sorted(k for k in {*reference, *got} if reference.get(k) != got.get(k))
        rows_identical = _rows(out) == ref_rows
        runs.append({
            "kills": kill_list, "killed": sum(k["killed"] for k in kill_list), "resume_rc": resumed["rc"],
            "resume_s": resumed["seconds"], "files_compared": len(reference),
            "identical": resumed["rc"] == 0 and not differing and rows_identical,
            "rows_identical": rows_identical, "differing_files": differing,
        })  # fmt: skip
        print(f"{verb} #{attempt}: kills at {[k['kill_at_s'] for k in kill_list]} s (on disk "
              f"{[k['on_disk_at_kill'] for k in kill_list if k['killed']]}), resumed rc {resumed['rc']} in "
              f"{resumed['seconds']:.1f}s, identical={runs[-1]['identical']}"
              + (f", differing {differing[:4]}" if differing else ""), flush=True)  # fmt: skip
        if runs[-1]["identical"]:
            shutil.rmtree(out)
        else:
            out.rename(work / f"{verb}-{attempt:03d}")  # kept for a look
    killed_runs = [r for r in runs if r["killed"]]
    return {
        "kills_per_run": kills_per_run,
        "command": ["hwcost", *argv, "--out", "DIR"],
        "uninterrupted_s": ref["seconds"],
        "files_compared": sorted(reference),
        "kills": sum(r["killed"] for r in runs),
        "kills_requested": kills,
        "runs": len(runs),
        "runs_killed": len(killed_runs),
        "runs_identical": sum(r["identical"] for r in runs),
        "kills_in_identical_runs": sum(r["killed"] for r in runs if r["identical"]),
        "all_identical": all(r["identical"] for r in runs) and sum(r["killed"] for r in runs) >= kills,
        "details": runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="killed-and-resumed runs per verb (default 20)")
    parser.add_argument("--kills-per-run", type=int, default=2, help="kills before a run is let finish (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments (default 0)")
    parser.add_argument("--verbs", nargs="+", default=list(COMMANDS), choices=list(COMMANDS))
    parser.add_argument("--parallel", action="store_true", help="run the verbs at the same time (one thread each)")
    parser.add_argument("--budget-minutes", type=float, default=25.0, help="stop starting new kills after this")
    parser.add_argument("--out", type=Path, default=RESULT)
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    start = time.perf_counter()
    deadline = time.time() + 60 * args.budget_minutes
    work = args.keep or Path(tempfile.mkdtemp(prefix="hwcost-kill-resume-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}

    def one(verb: str) -> None:
        results[verb] = kill_and_resume(verb, args.kills, args.kills_per_run, args.seed, work, deadline)

    if args.parallel:
        threads = [threading.Thread(target=one, args=(v,)) for v in args.verbs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for verb in args.verbs:
            one(verb)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    changed = subprocess.run(["git", "status", "--short", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                             text=True).stdout.split("\n")  # fmt: skip
    result = {
        "what": "hwcost train and hwcost compress killed with SIGKILL at a random moment, rerun to completion, "
        "outputs compared with an uninterrupted run (SHA-256 of every lasting file in --out, report.json rows)",
        "commit": commit,
        "uncommitted_changes_run_with": [line.strip() for line in changed if line.strip()],
        "python": platform.python_version(),
        "seed": args.seed,
        "parallel": args.parallel,
        "kills_total": sum(r["kills"] for r in results.values()),
        "resumed_runs_total": sum(r["runs"] for r in results.values()),
        "identical_runs_total": sum(r["runs_identical"] for r in results.values()),
        "all_identical": all(r["all_identical"] for r in results.values()),
        "verbs": {v: results[v] for v in args.verbs if v in results},
        "seconds": round(time.perf_counter() - start, 1),
    }
    write_atomically(args.out, dumps_json(result) + "\n")
    print(f"{result['kills_total']} kills in {result['resumed_runs_total']} runs, {result['identical_runs_total']} "
          "runs identical after resume, "
          f"all identical: {result['all_identical']}, {result['seconds']} s -> {args.out}")  # fmt: skip
    if args.keep is None and result["all_identical"]:
        shutil.rmtree(work)
    return 0 if result["all_identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
