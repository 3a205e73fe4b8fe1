"""An LSTM (optionally with a recurrent projection, LSTMP) classifying MNIST read row by row.

Row-sequential MNIST is an offline stand-in for the speech task of ESE (Han et al., FPGA'17, arXiv
1612.00694), whose Google LSTMP runs on TIMIT frames (not available offline): each 28x28 image is a sequence
of ``T = 28`` steps of ``28`` pixels, and the class is read from the last step's output.

The cell (Sak et al., Interspeech 2014; the form ESE accelerates, without the diagonal peephole weights,
which are element-wise work outside ESE's sparse matrix-vector units):

    i_t = sigmoid(W_i [x_t; y_{t-1}] + b_i)      f_t = sigmoid(W_f [x_t; y_{t-1}] + b_f)
    g_t = tanh(W_g [x_t; y_{t-1}] + b_g)         o_t = sigmoid(W_o [x_t; y_{t-1}] + b_o)
    c_t = f_t * c_{t-1} + i_t * g_t              m_t = o_t * tanh(c_t)
    y_t = W_p m_t   (LSTMP; without a projection y_t = m_t)

**Parameters** (``params[name]["kernel"]`` in flax's ``(in, out)`` layout; the hardware matrix an ESE
simulator multiplies is its transpose, ``(out, in)``, rows = cells; :func:`gate_matrices` returns them so),
with ``n`` = cell size, ``p`` = projection size (``n`` without a projection), ``d = 28`` inputs per step:

=============================  ==========================  ==============
name                           kernel shape ``(in, out)``  bias
=============================  ==========================  ==============
``gate_i``, ``gate_f``,        ``(d + p, n)``              ``(n,)``
``gate_g``, ``gate_o``
``projection`` (LSTMP only)    ``(n, p)``                  none
``classifier``                 ``(p, 10)``                 ``(10,)``
=============================  ==========================  ==============

Every matrix is a separate ``{"kernel": ...}`` entry, so :func:`compress.masks.prune_by_magnitude` (and the
pruning schedules) prune each gate, the projection and the classifier independently, e.g. with ESE's
load-balance-aware granularity. The forget-gate bias starts at 1 (Jozefowicz et al., ICML 2015), the other
biases at 0, the kernels with flax's default (LeCun normal).

Default size: 128 cells, no projection (:data:`DEFAULT_CELL_SIZE`); ``lstmp`` adds a 64-wide projection.
Measured figures are in the tests and the report, not here.

**Layer inputs** (for the bridge to hardware, :func:`models.lenet.apply_with_layer_inputs`): every matrix
sows the input it multiplies into the ``"inputs"`` collection, keyed ``<name>_input`` as the LeNets do:
each gate ``[x_t; y_{t-1}]`` stacked over the steps, ``(B, T, d + p)``; the projection ``m_t``,
``(B, T, n)``; the classifier ``y_T``, ``(B, p)``. :func:`layer_specs` describes each gate (and the
projection) as a fully connected layer applied at ``T`` positions (``out_hw = (T, 1)``: one matrix-vector
product per time step, as a convolution is one per output position), the classifier as an ordinary one.
"""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from hwcost.checks import check_choice, check_int_range
from hwcost.types import LayerSpec
from models.lenet import INPUT_SUFFIX

ROWS, PIXELS_PER_ROW, CLASSES = 28, 28, 10
"""Steps per image, inputs per step, output classes."""
DEFAULT_CELL_SIZE = 128
"""Cells of the default model (trains on CPU to above 95 % test accuracy in a few epochs)."""
GATES: tuple[str, ...] = ("gate_i", "gate_f", "gate_g", "gate_o")
"""Parameter names of the four gate matrices (input, forget, cell candidate, output), in that order."""
PROJECTION, CLASSIFIER = "projection", "classifier"


class _Matrix(nn.Module):
    """One named weight matrix ``kernel (in, out)`` with an optional ``bias (out,)``; returns them."""

    in_features: int
    out_features: int
    use_bias: bool = True
    bias_init: Callable = nn.initializers.zeros

    @nn.compact
    def __call__(self) -> tuple[jax.Array, jax.Array | None]:
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (self.in_features, self.out_features))
        bias = self.param("bias", self.bias_init, (self.out_features,)) if self.use_bias else None
        return kernel, bias


class LSTMClassifier(nn.Module):
    """LSTM(P) over the 28 rows of an image, then a dense classifier on the last output ``y_T``.

    Attributes:
        cell_size: cells ``n``.
        projection_size: projection width ``p`` (LSTMP), or ``None`` for a plain LSTM.
    """

    cell_size: int = DEFAULT_CELL_SIZE
    projection_size: int | None = None

    @nn.compact
    def __call__(self, images: jax.Array) -> jax.Array:
        """Logits ``(B, 10)`` of images ``(B, 28, 28, 1)`` (or ``(B, 28, 28)``), read one row per step."""
        x = images.reshape((images.shape[0], ROWS, PIXELS_PER_ROW))
        n = self.cell_size
        p = n if self.projection_size is None else self.projection_size
        forget_bias = nn.initializers.constant(1.0)
        gates = [
            _Matrix(PIXELS_PER_ROW + p, n, bias_init=forget_bias if name == "gate_f" else nn.initializers.zeros,
                    name=name)()
            for name in GATES
        ]  # fmt: skip
        # One matmul for the four gates (the same arithmetic as four; the parameters stay separate).
        kernel = jnp.concatenate([k for k, _ in gates], axis=1)
        bias = jnp.concatenate([b for _, b in gates])
        proj = None if self.projection_size is None else _Matrix(n, p, use_bias=False, name=PROJECTION)()[0]

        def step(carry, x_t):
            c, y = carry
            xy = jnp.concatenate([x_t, y], axis=-1)
            z = xy @ kernel + bias
            i, f, g, o = jnp.split(z, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            m = jax.nn.sigmoid(o) * jnp.tanh(c)
            y_next = m if proj is None else m @ proj
            return (c, y_next), (xy, m)

        batch = x.shape[0]
        init = (jnp.zeros((batch, n), x.dtype), jnp.zeros((batch, p), x.dtype))
        (_, y), (xy, m) = jax.lax.scan(step, init, jnp.swapaxes(x, 0, 1))
        # The inputs each matrix multiplied, (B, T, in): sown after the scan (a no-op unless "inputs" is mutable).
        for name in GATES:
            self.sow("inputs", name + INPUT_SUFFIX, jnp.swapaxes(xy, 0, 1))
        if proj is not None:
            self.sow("inputs", PROJECTION + INPUT_SUFFIX, jnp.swapaxes(m, 0, 1))
        self.sow("inputs", CLASSIFIER + INPUT_SUFFIX, y)
        w, b = _Matrix(p, CLASSES, name=CLASSIFIER)()
        return y @ w + b


CONFIGS: dict[str, dict[str, int | None]] = {
    "lstm": {"cell_size": DEFAULT_CELL_SIZE, "projection_size": None},
    "lstmp": {"cell_size": DEFAULT_CELL_SIZE, "projection_size": 64},
}
"""Named sizes: ``lstm`` (128 cells) and ``lstmp`` (128 cells, 64-wide projection)."""


def make_model(name: str = "lstm", **overrides: int | None) -> LSTMClassifier:
    """The module of a named size (:data:`CONFIGS`), with ``cell_size`` / ``projection_size`` overrides."""
    check_choice("model", name, tuple(CONFIGS))
    config = {**CONFIGS[name], **overrides}
    check_int_range("cell_size", config["cell_size"], 1)
    if config["projection_size"] is not None:
        check_int_range("projection_size", config["projection_size"], 1)
    return LSTMClassifier(**config)


def init_params(model: LSTMClassifier, seed: int = 0) -> dict:
    """Freshly initialised parameters of ``model``."""
    return model.init(jax.random.PRNGKey(seed), jnp.zeros((1, ROWS, PIXELS_PER_ROW, 1)))["params"]


def layer_specs(model: LSTMClassifier) -> tuple[LayerSpec, ...]:
    """The matrices of ``model`` as the bridge to hardware sees them, in the order they run: each gate a fully
    connected ``(d + p, n)`` layer applied at every one of the ``T = 28`` steps (``out_hw = (T, 1)``, so a
    lowering runs it ``T`` times per image), then the projection ``(n, p)`` likewise (LSTMP only), then the
    classifier ``(p, 10)`` once, on ``y_T``."""
    n = model.cell_size
    p = n if model.projection_size is None else model.projection_size
    steps = (ROWS, 1)
    specs = [LayerSpec(name, "fc", (PIXELS_PER_ROW + p, n), out_hw=steps) for name in GATES]
    if model.projection_size is not None:
        specs.append(LayerSpec(PROJECTION, "fc", (n, p), out_hw=steps))
    return (*specs, LayerSpec(CLASSIFIER, "fc", (p, CLASSES)))


def gate_matrices(params: dict) -> dict[str, jax.Array]:
    """The matrices an ESE-style accelerator multiplies, in hardware orientation ``(out, in)`` (rows = the
    matrix's outputs): ``gate_i`` .. ``gate_o`` ``(n, d + p)`` over ``[x_t; y_{t-1}]`` and, for an LSTMP,
    ``projection`` ``(p, n)``."""
    names = [*GATES, PROJECTION] if PROJECTION in params else list(GATES)
    return {name: params[name]["kernel"].T for name in names}
