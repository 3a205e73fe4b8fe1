"""The application layer: experiments that tie the cost models, the compression toolkit, the networks and
the reference simulators together. The command line only parses arguments and formats what these return.

* :mod:`~hwcost.experiments.hwaware_sweep`: hardware-aware training against magnitude pruning and Deep
  Compression, every point measured exactly (``hwcost train``);
* :mod:`~hwcost.experiments.validation`: published tables reproduced (``hwcost validate``);
* :mod:`~hwcost.experiments.scnn_validation`: SCNN against DCNN and DCNN-opt as the paper reports it
  (``hwcost validate scnn``; imported here so that it registers itself);
* :mod:`~hwcost.experiments.ese_validation`: ESE's throughput, efficiency and load balance on the paper's
  LSTM (``hwcost validate ese``) and one LSTMP on archsim and the model (``hwcost simulate ese``);
* :mod:`~hwcost.experiments.cache_simulation`: an L1-I and an L1-D on a lackey trace, with and without
  HoLiSwap, priced with the wire geometry (``hwcost simulate cache``);
* :mod:`~hwcost.experiments.holiswap_validation`: the HoLiSwap model against archsim on the program traces and
  the paper's headline quantities (``hwcost validate holiswap``; imported here so that it registers itself);
* :mod:`~hwcost.experiments.core_profile` and :mod:`~hwcost.experiments.cgooo_validation`: the profile of a
  program trace for the core models, and the three cores' models against archsim with CG-OoO's headline
  (``hwcost validate cgooo``; imported here so that it registers itself);
* :mod:`~hwcost.experiments.single_layer`: one layer on a simulator and a model (``hwcost simulate``);
* :mod:`~hwcost.experiments.simulators`: the reference simulator of each cost model.
"""

from hwcost.experiments.cgooo_validation import cgooo_report
from hwcost.experiments.ese_validation import compare_lstm, ese_validation_report
from hwcost.experiments.holiswap_validation import validate as holiswap_validation_report
from hwcost.experiments.hwaware_sweep import (
    ExperimentConfig,
    evaluate_point,
    exact_cost,
    model_costs,
    plot_report,
    run_experiment,
)
from hwcost.experiments.scnn_validation import scnn_validation_report
from hwcost.experiments.simulators import SIMULATORS, LayerSimulation, register_simulator, simulate_network
from hwcost.experiments.single_layer import compare_layer, hardware_with
from hwcost.experiments.validation import VALIDATIONS, Validation, eie_table_iv_report, register_validation

__all__ = [
    "SIMULATORS",
    "VALIDATIONS",
    "ExperimentConfig",
    "LayerSimulation",
    "Validation",
    "cgooo_report",
    "compare_layer",
    "compare_lstm",
    "eie_table_iv_report",
    "ese_validation_report",
    "evaluate_point",
    "exact_cost",
    "hardware_with",
    "holiswap_validation_report",
    "model_costs",
    "plot_report",
    "register_simulator",
    "register_validation",
    "run_experiment",
    "scnn_validation_report",
    "simulate_network",
]
