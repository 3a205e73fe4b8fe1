"""Reference simulators in numpy with exact integers, independent of the differentiable models (this package
imports nothing of the project): ``eie`` (the EIE sparse inference engine, cycle-level) and ``network``
(a network layer as the matrix-vector products an accelerator runs)."""
