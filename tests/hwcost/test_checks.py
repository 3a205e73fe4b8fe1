import math

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
