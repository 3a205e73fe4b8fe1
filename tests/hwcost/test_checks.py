import math

import numpy as np
import pytest

from hwcost import checks


def test_fraction_error_names_field_value_and_range():
    with pytest.raises(ValueError, match=r"weight_density=1.5 is outside \[0, 1\]"):
        checks.check_fraction("weight_density", 1.5)
    with pytest.raises(ValueError, match=r"density=0 is outside \(0, 1\]"):
        checks.check_fraction("density", 0.0, open_low=True)


def test_nan_is_rejected():
    with pytest.raises(ValueError, match="activation_density=nan is not finite"):
        checks.check_fraction("activation_density", math.nan)


def test_int_and_choice():
    with pytest.raises(ValueError, match=r"pes=2\.5 must be an integer"):
        checks.check_int_range("pes", 2.5, 1)
    with pytest.raises(ValueError, match=r"fifo=0 is outside \[1, 256\]"):
        checks.check_int_range("fifo", 0, 1, 256)
    with pytest.raises(ValueError, match="model='vgg' is unknown; allowed: lenet300, lenet5"):
        checks.check_choice("model", "vgg", ("lenet300", "lenet5"))
    checks.check_positive("lam", 0.5)
    with pytest.raises(ValueError, match="lam=-1 must be >= 0"):
        checks.check_non_negative("lam", -1)


# --- magnitude bounds: no accepted value overflows or vanishes in float32 ------------------------------------
def test_a_range_error_names_field_value_and_range():
    with pytest.raises(ValueError, match=r"in_features=1e\+300 is outside \(0, 2147483648\]"):
        checks.check_size("in_features", 1e300, low=0, open_low=True)
    with pytest.raises(ValueError, match=r"in_features=0 must be > 0; allowed: \(0, 2147483648\]"):
        checks.check_size("in_features", 0.0, low=0, open_low=True)
    with pytest.raises(ValueError, match=r"num_pes=0\.5 must be >= 1; allowed: \[1, 2147483648\]"):
        checks.check_size("num_pes", 0.5)
    with pytest.raises(ValueError, match=r"fifo_depth=inf is not finite; allowed: \[1, 2147483648\]"):
        checks.check_size("fifo_depth", math.inf)
    checks.check_size("num_pes", 2**31)
    with pytest.raises(ValueError, match=r"num_pes=2\.14748e\+09 is outside \[1, 2147483648\]"):
        checks.check_size("num_pes", 2**31 + 1)


def test_a_bit_width_is_at_least_one_bit():
    with pytest.raises(ValueError, match=r"word_bits=1e-308 must be >= 1; allowed: \[1, 65536\]"):
        checks.check_bits("word_bits", 1e-308)
    with pytest.raises(ValueError, match=r"weight_bits=1e\+06 is outside \[1, 65536\]"):
        checks.check_bits("weight_bits", 1e6)
    checks.check_bits("activation_bits", 1)


def test_energies_clocks_bandwidths_and_temperatures_are_bounded():
    with pytest.raises(ValueError, match=r"mac_pj=1e\+300 is outside \[0, 1000000\]"):
        checks.check_energy_pj("mac_pj", 1e300)
    with pytest.raises(ValueError, match=r"clock_mhz=1e-09 must be >= 0\.001; allowed: \[0\.001, 1000000\]"):
        checks.check_clock_mhz("clock_mhz", 1e-9)
    with pytest.raises(ValueError, match=r"dram_bits_per_cycle=1e-38 must be >= 0\.001"):
        checks.check_bandwidth("dram_bits_per_cycle", 1e-38)
    with pytest.raises(ValueError, match=r"smoothing.temperature=843 is outside \[1e-06, 10\]"):
        checks.check_temperature("smoothing.temperature", 843.0)
    checks.check_energy_pj("mac_pj", 0.0)


def test_a_nonzero_value_that_vanishes_in_float32_is_refused():
    with pytest.raises(ValueError, match=r"weight_density=1e-300 is below float32's smallest normal number"):
        checks.check_range("weight_density", 1e-300, 0, 1)
    checks.check_range("weight_density", 0.0, 0, 1)
    checks.check_range("weight_density", 1.2e-38, 0, 1)


def test_every_element_of_an_array_is_checked():
    with pytest.raises(ValueError, match=r"in_features=3e\+09 is outside"):
        checks.check_size("in_features", np.array([4.0, 3e9]), low=0, open_low=True)


def test_a_product_of_sizes_is_bounded_and_names_its_fields():
    with pytest.raises(ValueError, match=r"out_channels\*in_channels=4\.61169e\+18 \(weights\) is outside \[0, 1000\]"):
        checks.check_product(("out_channels", "in_channels"), (2**31, 2**31), "weights", high=1000)
    checks.check_product(("out_channels", "in_channels"), (2**31, 2**31), "weights")  # 2**62 exactly


@pytest.mark.parametrize("value", ["abc", None, 10**400, [1, "x"], 1j])
def test_a_value_that_is_not_a_number_is_named(value):
    with pytest.raises(ValueError, match=r"^x=.* is not a number in the float range"):
        checks.check_range("x", value, 0, 1)
