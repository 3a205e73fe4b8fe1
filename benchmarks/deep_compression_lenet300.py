"""Deep Compression on LeNet-300-100 (Han et al., ICLR'16, Tables 1 and 2): 40x at 1.58% in the paper.

Same procedure as ``deep_compression_lenet5.py``; writes ``benchmarks/results/deep_compression_lenet300.*``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deep_compression_lenet5 import main

if __name__ == "__main__":
    sys.exit(main(model="lenet300"))
