"""Layer shapes and published densities of the papers' benchmark networks.

EIE Table III (Han et al., ISCA'16): the nine fully connected benchmark layers with their weight and
activation densities, and EIE Table IV (wall-clock time, us, batch 1) for the CPU dense baseline, EIE
theoretical and EIE actual. All values V-P in shared/reference/papers.md section 1.
"""

from __future__ import annotations

from typing import NamedTuple


class EieBenchmarkLayer(NamedTuple):
    """One row of EIE Table III joined with its Table IV columns (times in us, batch 1)."""

    name: str
    in_features: int
    out_features: int
    weight_density: float
    activation_density: float
    cpu_dense_us: float
    eie_theoretical_us: float
    eie_actual_us: float


EIE_TABLE_III: tuple[EieBenchmarkLayer, ...] = (
    # EIE Table III (size, densities) and Table IV (CPU i7-5930k dense b=1, EIE theoretical, EIE actual).
    EieBenchmarkLayer("Alex-6", 9216, 4096, 0.09, 0.351, 7516.2, 28.1, 30.3),
    EieBenchmarkLayer("Alex-7", 4096, 4096, 0.09, 0.353, 6187.1, 11.7, 12.2),
    EieBenchmarkLayer("Alex-8", 4096, 1000, 0.25, 0.375, 1134.9, 8.9, 9.9),
    EieBenchmarkLayer("VGG-6", 25088, 4096, 0.04, 0.183, 35022.8, 28.1, 34.4),
    EieBenchmarkLayer("VGG-7", 4096, 4096, 0.04, 0.375, 5372.8, 7.9, 8.7),
    EieBenchmarkLayer("VGG-8", 4096, 1000, 0.23, 0.411, 774.2, 7.3, 8.4),
    EieBenchmarkLayer("NT-We", 4096, 600, 0.10, 1.0, 605.0, 5.2, 8.0),
    EieBenchmarkLayer("NT-Wd", 600, 8791, 0.11, 1.0, 1361.4, 13.0, 13.9),
    EieBenchmarkLayer("NT-LSTM", 1201, 2400, 0.10, 1.0, 470.5, 6.5, 7.5),
)
