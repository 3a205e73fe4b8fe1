import jax
import jax.numpy as jnp
import numpy as np

from hwcost.types import FcLayer


def test_layer_is_pytree_with_static_name():
    layer = FcLayer(784.0, 300.0, 0.1, 0.2, name="ip1")
    leaves, treedef = jax.tree_util.tree_flatten(layer)
    assert len(leaves) == 4
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert rebuilt == layer and rebuilt.name == "ip1"


def test_layers_stack_and_vmap():
    layers = [FcLayer(100.0, 10.0 * (i + 1), 0.1 * (i + 1), 0.5) for i in range(3)]
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *layers)
    work = jax.vmap(lambda lyr: lyr.in_features * lyr.out_features * lyr.weight_density)(stacked)
    np.testing.assert_allclose(work, [100.0, 400.0, 900.0], rtol=1e-6)
