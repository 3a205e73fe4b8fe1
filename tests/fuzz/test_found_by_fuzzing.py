"""Defects the fuzz suite found, pinned: each failed before its fix (a traceback, or two lines on stderr)."""

from __future__ import annotations

import copy
import json
import math
import re

import pytest

from hwcost.cli import main
from tests.fuzz import cli_cases
from tests.fuzz.reports import VALID_REPORT


def _one_line(capsys, prefix: str) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith(prefix), err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("argv", "prefix", "message"),
    [
        (["train", "--seed", "x"], "hwcost train: error: ", "invalid int value: 'x'"),
        (["simulate", "eie"], "hwcost simulate: error: ", "required: --weights, --activations"),
        ([], "hwcost: error: ", "required: <verb>"),
        (["fly"], "hwcost: error: ", "invalid choice: 'fly'"),
        (["models", "--zz"], "hwcost: error: ", "unrecognized arguments: --zz"),
        (["train", "--lambda", "1", "--budget", "0.5"], "hwcost train: error: ", "not allowed with argument"),
    ],
)
def test_usage_errors_are_one_line_without_the_usage_block(argv, prefix, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    line = _one_line(capsys, prefix)
    assert message in line and "--help" in line and "usage:" not in line


def _report_with(tmp_path, edit) -> str:
    report = copy.deepcopy(VALID_REPORT)
    edit(report)
    (tmp_path / "report.json").write_text(json.dumps(report))
    return str(tmp_path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r.update(dense_exact=10**400), "['dense_exact']"),  # was: OverflowError traceback
        (lambda r: r["rows"][0].update(exact=-(10**400)), "rows[0]['exact']"),
        (lambda r: r["best_ratio_vs_magnitude"].update(ratio=10**400), "['ratio']"),
        (lambda r: r["dominance_vs_deep_compression"].update(ratio=[1]), "['ratio']"),  # was: TypeError traceback
        (lambda r: r["dominance_vs_deep_compression"].update(ratio="x"), "['ratio']"),  # was: file not named
        (lambda r: r["dominance_vs_deep_compression"].update(ratio=10**400), "['ratio']"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_report_numbers_that_cannot_be_printed_are_one_line(tmp_path, capsys, edit, message, as_json):
    folder = _report_with(tmp_path, edit)
    assert main(["report", folder, *(["--json"] if as_json else [])]) == 2
    line = _one_line(capsys, "hwcost report: error: ")
    assert message in line and str(tmp_path / "report.json") in line


def test_a_null_or_absent_deep_compression_ratio_is_still_a_report(tmp_path, capsys):
    assert (
        main(["report", _report_with(tmp_path, lambda r: r["dominance_vs_deep_compression"].update(ratio=None))]) == 0
    )
    assert main(["report", _report_with(tmp_path, lambda r: r["dominance_vs_deep_compression"].pop("ratio"))]) == 0


def _edited_model(edit) -> bytes:
    header, payload = cli_cases._split_hwdc(cli_cases.valid_hwdc())
    edit(header)
    return cli_cases._join_hwdc(header, payload)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda h: h["layers"][0].update(kernel_shape=5), r"layers\[0\] \('ip1'\): kernel_shape=5"),  # TypeError
        (lambda h: h["layers"][1].update(index_bits=-1), r"index_bits=-1 is not an integer in \[1, 16\]"),
        (lambda h: h["layers"][2].update(weight_bits=None), "weight_bits=None"),  # was: TypeError traceback
        (lambda h: h["layers"][0].update(kind={}), "kind={} is unknown"),
        (lambda h: h["layers"][0].update(bias_size=[1]), "bias_size=[1]"),
        (
            lambda h: h.update(model="lenet5"),
            "has layers ip1, ip2, ip3; lenet5 has conv1, conv2, ip1, ip2",
        ),  # was: trained data loaded
        (lambda h: h.update(model="vgg"), "model='vgg', which is unknown"),  # was: data loaded first
        (lambda h: h.update(model=7), "model=7 is not a name"),
        (lambda h: h["layers"][0].update(num_entries=1), "entries fill 1"),  # was: a 1-weight model evaluated
        (lambda h: h["layers"].pop(), "181 unexpected trailing bytes"),
        (lambda h: h["layers"][0].update(name="ip9"), "has layers ip9, ip2, ip3; lenet300 has ip1, ip2, ip3"),
        (lambda h: h["layers"][2].update(kernel_shape=[1000, 10]), r"kernel \(1000, 10\) and bias \(10,\) do not fit"),
    ],
)
def test_evaluate_refuses_an_edited_model_file_before_loading_data(tmp_path, capsys, edit, message):
    """A model file whose header was edited (checksum recomputed) is one error line naming the file, before
    MNIST is loaded: no TypeError from the reader, no evaluation of a model that is not the one named."""
    path = tmp_path / "m.hwdc"
    path.write_bytes(_edited_model(edit))
    with cli_cases.no_real_work():
        assert main(["compress", "--evaluate", str(path)]) == 2
    line = _one_line(capsys, "hwcost compress: error: ")
    assert re.search(message, line) or message in line, line
    assert str(path) in line


def test_the_unedited_model_file_fits_its_model(tmp_path):
    from compress import export

    path = tmp_path / "m.hwdc"
    path.write_bytes(cli_cases.valid_hwdc())
    model, params = export.load_params(path)
    export.check_model_fits(path, model, params)


# --- library: values the checks accepted although float32 cannot price them (NaN or infinity came out) -------
@pytest.mark.parametrize(
    ("model", "target", "path", "value", "message"),
    [
        ("eie", "workload", "in_features", 1e300, r"in_features=1e\+300 is outside \(0, 2147483648\]"),
        ("eie", "workload", "out_features", 1e38, r"out_features=1e\+38 is outside \[1, 2147483648\]"),
        ("eie", "hardware", "act_write_pj", 3.1e37, r"act_write_pj=3\.1e\+37 is outside \[0, 1000000\]"),
        ("eie", "hardware", "smoothing.temperature", 843.0, r"smoothing.temperature=843 is outside \[1e-06, 10\]"),
        ("memory", "hardware", "word_bits", 1e-308, r"word_bits=1e-308 must be >= 1; allowed: \[1, 65536\]"),
        ("memory", "hardware", "dram_bits_per_cycle", 1e-38, r"dram_bits_per_cycle=1e-38 must be >= 0\.001"),
        ("memory", "hardware", "sram_capacity_bytes", 1e300, r"sram_capacity_bytes=1e\+300 is outside \[1, "),
        ("memory", "workload", "in_h", 1e38, r"in_h=1e\+38 is outside \(0, 2147483648\]"),
    ],
)
def test_huge_and_tiny_values_are_refused_by_name_and_range(model, target, path, value, message):
    """Each was accepted and priced NaN or infinity (``in_features=1e300`` on EIE, ``word_bits=1e-308`` on the
    memory hierarchy); now every call refuses it, naming the field, its value and the allowed range."""
    from hwcost.registry import cost_model
    from tests.fuzz.api_cases import replace_leaf

    m = cost_model(model)
    hw, workload = m.default_hardware, next(iter(m.sample_workloads().values()))
    if path.startswith("in_h"):
        workload = next(w for w in m.sample_workloads().values() if hasattr(w, "in_h"))
    if target == "hardware":
        hw = replace_leaf(hw, path, value)
    else:
        workload = replace_leaf(workload, path, value)
    for call in (m.latency_cycles, m.action_counts, m.energy_pj):
        with pytest.raises(ValueError, match=message):
            call(hw, workload)


def test_a_relaxed_eie_with_many_pes_and_a_hot_temperature_was_infinite():
    """Found by the corner cases: each value in range on its own, together the relaxed latency overflowed
    float32 (about 4e34 cycles, energy inf). The temperature is now bounded to [1e-6, 10]."""
    import dataclasses

    from hwcost import eie
    from hwcost.types import FcLayer, total

    def at(temperature: float) -> eie.EieHardware:
        hw = dataclasses.replace(eie.EIE_64PE_45NM, num_pes=2.58e7, fifo_depth=1.38, pe_cycle_pj=1e6)
        return dataclasses.replace(hw, smoothing=dataclasses.replace(hw.smoothing, temperature=temperature))

    layer = FcLayer(2.0**31, 2.0**31, 0.00105, 1.0)
    counts, per_action = eie.action_counts(at(843.0), layer), eie.per_action_energy_pj(at(843.0))  # unchecked
    assert not math.isfinite(float(sum(counts[k] * per_action[k] for k in counts)))
    with pytest.raises(ValueError, match=r"smoothing\.temperature=843 is outside"):
        eie.COST_MODEL.latency_cycles(at(843.0), layer)
    energy, latency = total(eie.COST_MODEL.energy_pj(at(10.0), layer)), eie.COST_MODEL.latency_cycles(at(10.0), layer)
    assert math.isfinite(float(energy)) and math.isfinite(float(latency))


def test_dcnn_opt_prices_a_kernel_taller_than_its_input_at_non_negative_energy():
    """Found by the long fuzz: a relaxed ``kernel_h=6187.1`` on a 56 x 56 plane (output plane left at 56) was
    accepted and priced at -3.4e11 pJ, because the count of in-bound (output, tap) pairs took each cut-off
    triangle unclipped by the ``Ho`` outputs and ``R`` taps it lies in (:func:`hwcost.conv.taps_inside_input`)."""
    import dataclasses

    from hwcost import dcnn
    from hwcost.types import total

    layer = dataclasses.replace(dcnn.OPT_COST_MODEL.sample_workloads()["vgg_like_3x3"], kernel_h=6187.1)
    energy = float(total(dcnn.OPT_COST_MODEL.energy_pj(dcnn.OPT_COST_MODEL.default_hardware, layer)))
    assert math.isfinite(energy) and energy > 0.0
