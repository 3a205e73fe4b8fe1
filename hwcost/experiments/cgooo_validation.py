"""``hwcost validate cgooo``: the three cores of :mod:`hwcost.cgooo` against :mod:`archsim.cgooo` on RV64IM
program traces, and CG-OoO's headline beside the paper's.

For every program: the cycles and energy (pJ, the authors' per-structure table) of the in-order, OoO and CG-OoO
cores from archsim and from the model (its hard twin at the authors' configuration, on the program's
:class:`~hwcost.cgooo.CoreProfile`), their relative errors, and CG-OoO's share of the in-order-to-OoO energy
gap it closes, ``(E_OoO - E_CGOoO) / (E_OoO - E_InO)``, and its ``EDP^-1`` over OoO, from both. Summary: the
arithmetic mean of the closures and the geometric mean of the ``EDP^-1`` ratios beside the paper's 64% and
1.9x (arXiv 1606.01607 v1 abstract; TACO 14(4) 2017: 62%, 1.8x, measured there on SPEC CPU2006 integer
programs with the authors' x86 simulator, not on these kernels), and per core the geometric-mean error
(``exp(mean |log(model / archsim)|) - 1``) and the largest absolute error of the model, beside the average
errors the mechanistic-model literature reports against cycle-level simulation: 7% for a 4-wide out-of-order
core (Eyerman, Eeckhout, Karkhanis, Smith, ACM TOCS 27(2) 2009, abstract), 2.5% and 3.2% for superscalar
in-order cores (Breughe, Eyerman, Eeckhout, ISPASS 2012 and ACM TACO 11(4) 2014, abstracts).

Programs: ``size="small"`` / ``"full"`` builds the program set (:mod:`archsim.traces.program_set`) for RV64IM
(needs ``riscv64-unknown-elf-gcc``: ``make tools``); ``"fixture"`` runs only the committed test ELF
``tests/fixtures/riscv/checksum.elf`` (no compiler needed).
"""

from __future__ import annotations

import dataclasses
import math
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from tqdm import tqdm

from archsim import cgooo as sim
from archsim import cores
from archsim.traces import program_set, rv64, rv64_build
from hwcost import cgooo
from hwcost.experiments import core_profile
from hwcost.experiments.validation import Validation, register_validation

FIXTURE_ELF = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "riscv" / "checksum.elf"
"""The committed RV64IM test program."""
SIZES = ("fixture", "small", "full")
PAPER = {
    "arxiv_v1": {"energy_gap_closed": 0.64, "edp_inverse_over_ooo": 1.9, "source": "arXiv 1606.01607 v1 abstract"},
    "taco_2017": {"energy_gap_closed": 0.62, "edp_inverse_over_ooo": 1.8, "source": "TACO 14(4) 2017 abstract"},
}
LITERATURE_MEAN_ERROR = {"ooo": 0.07, "ino": 0.032}
"""Average cycle errors of mechanistic models against cycle-level simulation (module docstring): out-of-order
7% (Eyerman et al. 2009), in-order 3.2% (Breughe et al. 2014; 2.5% in their 2012 paper)."""


def program_names(size: str) -> tuple[str, ...]:
    """The programs of ``size`` (:data:`SIZES`); ``ValueError`` for another size."""
    if size not in SIZES:
        raise ValueError(f"size={size!r}; allowed: {', '.join(SIZES)}")
    return ("checksum",) if size == "fixture" else program_set.names()


def load_trace(name: str, size: str) -> rv64.Trace:
    """The RV64IM trace of program ``name`` at ``size`` (built and cached for the program set)."""
    if size == "fixture":
        return rv64.run(FIXTURE_ELF).trace
    return rv64.load_trace(rv64_build.instruction_trace(name, size == "small"))


DESIGN_POINTS: tuple[tuple[str, dict[str, float]], ...] = (
    ("ino", {"width": 2.0}),
    ("ooo", {"rob_entries": 64.0}),
    ("ooo", {"rob_entries": 96.0}),
    ("ooo", {"width": 2.0}),
    ("ooo", {"width": 2.0, "rob_entries": 64.0}),
    ("cgooo", {"head_buffer_entries": 8.0}),
    ("cgooo", {"head_buffer_entries": 6.0}),
    ("cgooo", {"skipahead_blocks": 3.0}),
    ("cgooo", {"windows": 8.0}),
    ("cgooo", {"width": 2.0}),
    ("cgooo", {"head_buffer_entries": 8.0, "skipahead_blocks": 3.0, "windows": 16.0}),
    ("ooo", {"rs_entries": 16.0}),
    ("ooo", {"lq_entries": 16.0, "sq_entries": 8.0}),
    ("ooo", {"prf_entries": 96.0}),
    ("cgooo", {"block_rob_entries": 8.0}),
    ("cgooo", {"global_rf_entries": 96.0}),
)
"""Configurations besides the authors' at which the model's cycles are checked against archsim: grid points
of one parameter, points between grid points (ROB 96, head buffer 6) and combinations (the separable
interpolation's test)."""
_SIM_FIELDS = ("rob_entries", "rs_entries", "lq_entries", "sq_entries", "prf_entries", "head_buffer_entries",
               "skipahead_blocks", "windows", "global_rf_entries", "block_rob_entries", "local_rf_entries")  # fmt: skip
"""Design parameters archsim's core configurations take under the model's names."""
_SIM_CONFIG = {"ino": sim.InOConfig, "ooo": sim.OoOConfig, "cgooo": sim.CGOoOConfig}
_SIMULATE = {"ino": sim.simulate_ino, "ooo": sim.simulate_ooo, "cgooo": sim.simulate_cgooo}


def simulate(
    trace: rv64.Trace, core: str, changes: Mapping[str, float], prepared: cores.Prepared | None = None
) -> tuple[cores.CoreResult, cores.Prepared]:
    """archsim's run of ``core`` on ``trace`` with ``changes`` (model names, :data:`_SIM_FIELDS` and ``width``) to
    the authors' configuration, and the prepared trace it ran on (``prepared`` is reused when its width is the
    one asked for; the front end and caches depend on nothing else)."""
    config = _SIM_CONFIG[core](**{k: int(v) for k, v in changes.items() if k != "width"})
    sim.check_config(config)
    shared = cores.SharedConfig(width=int(changes.get("width", cores.DEFAULT_WIDTH)))
    if prepared is None or prepared.config != shared:
        prepared = cores.prepare(trace, shared)
    return _SIMULATE[core](prepared, config), prepared


def design_point_row(
    trace: rv64.Trace, profile: cgooo.CoreProfile, core: str, changes: dict[str, float], prepared: cores.Prepared
) -> dict:
    """archsim's and the model's cycles of ``core`` with ``changes`` to the authors' configuration (``prepared``:
    the trace at the authors' front end, reused where the width is unchanged)."""
    archsim_cycles = simulate(trace, core, changes, prepared)[0].cycles
    cycles = model_run(profile, core, changes)[0]
    label = ", ".join(f"{k}={v:g}" for k, v in changes.items())
    return {"core": core, "changes": label, "archsim_cycles": archsim_cycles, "model_cycles": cycles,
            "cycles_error": _relative(cycles, archsim_cycles)}  # fmt: skip


def model_run(
    profile: cgooo.CoreProfile, core: str, changes: dict[str, float] | None = None
) -> tuple[float, float, dict[str, float]]:
    """Cycles, energy (pJ) and counts of ``core`` at the authors' configuration (with ``changes``), hard twin."""
    hw = dataclasses.replace(cgooo.CORE_HARDWARE[core], **(changes or {}))
    hw = dataclasses.replace(hw, smoothing=dataclasses.replace(hw.smoothing, hard=True))
    counts, cycles = cgooo.counts_and_latency(hw, profile)
    table = cgooo.per_action_energy_pj(hw)
    energy = float(sum(float(counts[k]) * float(table[k]) for k in counts))
    return float(cycles), energy, {k: float(v) for k, v in counts.items()}


def _relative(model: float, reference: float) -> float:
    return model / reference - 1.0


def validate_program(name: str, trace: rv64.Trace, design_points: bool = True) -> dict:
    """One program: per core archsim's and the model's cycles and energy, their errors, CG-OoO's energy-gap
    closure and ``EDP^-1`` over OoO from each, and (``design_points``) the cycles at :data:`DESIGN_POINTS`."""
    t0 = time.perf_counter()
    prepared = cores.prepare(trace)
    results = sim.simulate_all(prepared)
    t1 = time.perf_counter()
    profile = core_profile.profile(trace, prepared, name=name)
    t2 = time.perf_counter()
    row: dict = {"name": name, "instructions": prepared.n, "archsim_s": t1 - t0, "profile_s": t2 - t1}
    for core, result in results.items():
        cycles, energy, counts = model_run(profile, core)
        archsim_energy = cores.energy_pj(result)
        row[core + "_count_mismatches"] = {
            k: [counts.get(k, 0.0), float(v)] for k, v in result.counts.items()
            if k in cgooo.ACCESS_PJ and abs(counts.get(k, 0.0) - v) > 1e-6 * max(1.0, v)
        }  # fmt: skip
        row[core] = {
            "archsim": {"cycles": result.cycles, "energy_pj": archsim_energy["total"], "ipc": result.ipc},
            "model": {"cycles": cycles, "energy_pj": energy, "ipc": prepared.n / cycles},
            "cycles_error": _relative(cycles, result.cycles),
            "energy_error": _relative(energy, archsim_energy["total"]),
        }
    for source in ("archsim", "model"):
        e = {core: row[core][source]["energy_pj"] for core in cgooo.CORES}
        c = {core: row[core][source]["cycles"] for core in cgooo.CORES}
        row[source] = {
            "energy_gap_closed": (e["ooo"] - e["cgooo"]) / (e["ooo"] - e["ino"]),
            "edp_inverse_over_ooo": e["ooo"] * c["ooo"] / (e["cgooo"] * c["cgooo"]),
            "performance_over_ooo": c["ooo"] / c["cgooo"],
        }
    if design_points:
        row["design_points"] = [design_point_row(trace, profile, core, changes, prepared)
                                for core, changes in DESIGN_POINTS]  # fmt: skip
    return row


def geomean(values: list[float]) -> float:
    """Geometric mean of positive values."""
    return math.exp(sum(math.log(v) for v in values) / len(values))


def summary(rows: list[dict]) -> dict:
    """Means over the programs (module docstring)."""
    out: dict = {"paper": PAPER, "literature_mean_error": LITERATURE_MEAN_ERROR}
    for source in ("archsim", "model"):
        out[source] = {
            "energy_gap_closed": float(np.mean([r[source]["energy_gap_closed"] for r in rows])),
            "edp_inverse_over_ooo": geomean([r[source]["edp_inverse_over_ooo"] for r in rows]),
            "performance_over_ooo": geomean([r[source]["performance_over_ooo"] for r in rows]),
        }
    for core in cgooo.CORES:
        for quantity in ("cycles", "energy"):
            ratios = [1.0 + r[core][f"{quantity}_error"] for r in rows]
            out[f"{core}_{quantity}_error_geomean"] = math.exp(np.mean([abs(math.log(x)) for x in ratios])) - 1.0
            out[f"{core}_{quantity}_error_max"] = max(abs(x - 1.0) for x in ratios)
    out["within_10_percent"] = all(
        abs(r[core][f"{q}_error"]) <= 0.10 for r in rows for core in cgooo.CORES for q in ("cycles", "energy")
    )
    points = [p for r in rows for p in r.get("design_points", ())]
    if points:
        errors = [abs(p["cycles_error"]) for p in points]
        out["design_points"] = {"evaluated": len(points), "within_10_percent": sum(e <= 0.10 for e in errors),
                                "max_cycles_error": max(errors),
                                "geomean_cycles_error": math.exp(np.mean([abs(math.log(1.0 + p["cycles_error"]))
                                                                          for p in points])) - 1.0}  # fmt: skip
    return out


def cgooo_report(progress: bool = False, size: str = "small", design_points: bool | None = None) -> dict:
    """The validation report: ``{"programs": [...], "summary": {...}, "energy_gap_closed", "edp_inverse_over_ooo",
    "layers": [...]}`` (module docstring; the headline keys at the top are archsim's; ``layers`` is one flat row
    per program and core, the text table); each program carries, per core, ``cycles`` and ``energy_pj`` from
    archsim and the model. ``progress``: a bar on stderr, one step per program; ``design_points``: also check
    :data:`DESIGN_POINTS` (default: except for the full builds, where archsim takes minutes per point)."""
    names = program_names(size)
    points = size != "full" if design_points is None else design_points
    rows = [validate_program(name, load_trace(name, size), points)
            for name in tqdm(names, desc="CG-OoO programs", unit="program", disable=not progress)]  # fmt: skip
    totals = summary(rows)
    headline = {k: totals["archsim"][k] for k in ("energy_gap_closed", "edp_inverse_over_ooo")}
    report = {"size": size, "programs": rows, "summary": totals, **headline}
    report["layers"] = table_rows(report)
    return report


TABLE_COLUMNS = ("program", "core", "archsim_cycles", "model_cycles", "cycles_error", "archsim_energy_uj",
                 "model_energy_uj", "energy_error")  # fmt: skip
"""Columns of the text table (one row per program and core)."""


def table_rows(report: dict) -> list[dict]:
    """One flat row per program and core, for the text table."""
    return [
        {
            "program": row["name"],
            "core": core,
            "archsim_cycles": row[core]["archsim"]["cycles"],
            "model_cycles": round(row[core]["model"]["cycles"]),
            "cycles_error": f"{row[core]['cycles_error']:+.1%}",
            "archsim_energy_uj": round(row[core]["archsim"]["energy_pj"] / 1e6, 3),
            "model_energy_uj": round(row[core]["model"]["energy_pj"] / 1e6, 3),
            "energy_error": f"{row[core]['energy_error']:+.1%}",
        }
        for row in report["programs"]
        for core in cgooo.CORES
    ]


def summary_lines(report: dict) -> list[str]:
    """The summary in words: the headline from archsim and from the model beside the paper's, and the model's
    errors beside the literature's."""
    s = report["summary"]
    lines = []
    for source in ("archsim", "model"):
        x = s[source]
        lines.append(
            f"{source}: CG-OoO closes {x['energy_gap_closed']:.1%} of the in-order-to-OoO energy gap (mean over "
            f"programs) at {x['performance_over_ooo']:.2f} of OoO's performance, EDP^-1 over OoO "
            f"{x['edp_inverse_over_ooo']:.2f}x (geometric mean); paper 64% / 1.9x (TACO 2017: 62% / 1.8x, SPEC "
            "CPU2006 integer)"
        )
    errors = ", ".join(
        f"{core} {s[f'{core}_cycles_error_geomean']:.1%} (max {s[f'{core}_cycles_error_max']:.1%})"
        for core in cgooo.CORES
    )
    energy = ", ".join(f"{core} max {s[f'{core}_energy_error_max']:.1%}" for core in cgooo.CORES)
    lines.append(
        f"model vs archsim, cycles: geometric-mean error {errors}; mechanistic models in the literature: "
        "7% mean (OoO), 3.2% (in-order)"
    )
    lines.append(f"model vs archsim, energy: {energy}; every error within 10%: {s['within_10_percent']}")
    if "design_points" in s:
        d = s["design_points"]
        lines.append(f"other configurations: cycles within 10% at {d['within_10_percent']} of {d['evaluated']} "
                     f"(program x configuration), geometric-mean error {d['geomean_cycles_error']:.1%}, "
                     f"max {d['max_cycles_error']:.1%}")  # fmt: skip
    return lines


register_validation(
    "cgooo",
    Validation(
        "CG-OoO (arXiv 1606.01607): in-order, OoO and CG-OoO cores, archsim vs the interval model, per program",
        cgooo_report,
        TABLE_COLUMNS,
        summary_lines,
    ),
)


# --- one program on one core (``hwcost simulate cpu``) --------------------------------------------------------
CORE_NAMES = {"inorder": "ino", "ooo": "ooo", "cgooo": "cgooo"}
"""``--core`` names of the command line -> the cores of :mod:`hwcost.cgooo`."""
CPU_FIELDS = ("width", *_SIM_FIELDS)
"""Design parameters that both archsim and the model take (``--hw FIELD=VALUE``)."""


def read_program(path: str | Path) -> rv64.Trace:
    """An RV64IM trace: a ``.npz`` written by :func:`archsim.traces.rv64.save_trace`, or an RV64IM ELF (run on
    :mod:`archsim.traces.rv64`). ``ValueError`` naming the file and what is allowed otherwise."""
    path = Path(path)
    allowed = "an RV64IM trace (.npz from archsim.traces.rv64.save_trace) or an RV64IM ELF executable"
    if not path.is_file():
        raise ValueError(f"trace={str(path)!r} is not a file; allowed: {allowed}")
    head = path.read_bytes()[:4]
    try:
        if head == b"\x7fELF":
            return rv64.run(path).trace
        if head[:2] == b"PK" and zipfile.is_zipfile(path):
            trace = rv64.load_trace(path)
            cores.check_trace(trace)
            return trace
    except (ValueError, KeyError, OSError, rv64.EmulatorError) as err:
        raise ValueError(f"trace={str(path)!r}: {err}") from None  # the reader's message names the field
    raise ValueError(f"trace={str(path)!r} is neither a .npz (zip) archive nor an ELF file; allowed: {allowed}")


def cpu_report(trace: rv64.Trace, core: str, changes: dict[str, float] | None = None, name: str = "trace") -> dict:
    """``core`` (``ino``, ``ooo`` or ``cgooo``) on ``trace`` in archsim and in the model, at the authors'
    configuration with ``changes`` (:data:`CPU_FIELDS`): ``{"program", "core", "hardware", "summary",
    "breakdown", "stalls"}`` with ``summary`` one row per quantity (``cycles``, ``ipc``, ``energy_uj``) of
    ``archsim``, ``model`` and ``model_over_archsim``, ``breakdown`` one row per counted action."""
    changes = dict(changes or {})
    wrong = sorted(set(changes) - set(CPU_FIELDS))
    if wrong:
        raise ValueError(f"hw field {wrong[0]!r} is not a design parameter of both archsim and the model; allowed: "
                         f"{', '.join(CPU_FIELDS)}")  # fmt: skip
    hw = dataclasses.replace(cgooo.CORE_HARDWARE[core], **changes)
    cgooo.check_hardware(hw)
    if any(float(v) != int(v) for v in changes.values()):
        raise ValueError(f"hw {changes}: archsim needs whole numbers; allowed: integers")
    known = {f.name for f in dataclasses.fields(_SIM_CONFIG[core])}
    wrong = sorted(k for k in changes if k != "width" and k not in known)
    if wrong:
        raise ValueError(f"hw field {wrong[0]!r} is not a parameter of the {core} core; allowed: width, "
                         f"{', '.join(k for k in _SIM_FIELDS if k in known)}")  # fmt: skip
    result, prepared = simulate(trace, core, changes)
    instructions = prepared.n
    archsim_energy = cores.energy_pj(result)
    default = prepared if prepared.config == cores.SharedConfig() else cores.prepare(trace)
    profile = core_profile.profile(trace, default, name=name)
    cycles, energy, counts = model_run(profile, core, changes)
    table = cgooo.per_action_energy_pj(hw)
    summary = [
        {"quantity": "cycles", "archsim": result.cycles, "model": cycles},
        {"quantity": "ipc", "archsim": result.ipc, "model": instructions / cycles},
        {"quantity": "energy_uj", "archsim": archsim_energy["total"] / 1e6, "model": energy / 1e6},
    ]
    for row in summary:
        row["model_over_archsim"] = row["model"] / row["archsim"]
    leak = {f"{k}.leakage": result.cycles * v for k, v in result.structures.items()}
    breakdown = [
        {"action": key, "archsim_count": {**result.counts, **leak}.get(key), "model_count": value,
         "archsim_energy_uj": archsim_energy.get(key, 0.0) / 1e6, "model_energy_uj": value * float(table[key]) / 1e6}
        for key, value in counts.items()
    ]  # fmt: skip
    return {"program": name, "instructions": instructions, "core": core, "hardware": changes, "summary": summary,
            "breakdown": breakdown, "stalls": result.stalls}  # fmt: skip
