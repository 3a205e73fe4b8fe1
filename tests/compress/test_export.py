import numpy as np
import pytest

from compress import encoding, export, sharing


@pytest.fixture
def encoded():
    rng = np.random.default_rng(0)
    layers = []
    for name, shape, density, bits in [("conv1", (5, 5, 1, 20), 0.66, 8), ("ip1", (800, 50), 0.08, 5)]:
        kernel = rng.standard_normal(shape).astype(np.float32)
        kernel[rng.random(shape) >= density] = 0.0
        shared = sharing.share_kernel(kernel, bits, iterations=5)
        layers.append(encoding.encode_layer(name, shared, 5, rng.standard_normal(shape[-1])))
    return layers


def test_export_roundtrip_gives_exactly_the_same_weights(encoded, tmp_path):
    path = export.save_compressed(tmp_path / "m.hwdc", "lenet5", encoded)
    model, params = export.load_params(path)
    assert model == "lenet5" and list(params) == ["conv1", "ip1"]
    for layer in encoded:
        np.testing.assert_array_equal(params[layer.name]["kernel"], encoding.decode_layer(layer))
        np.testing.assert_array_equal(params[layer.name]["bias"], layer.bias)
        assert params[layer.name]["kernel"].dtype == np.float32
    # The file holds the counted bits plus byte padding, the header and the biases.
    bits = sum(encoding.layer_bits(layer)["total_bits_pqh"] for layer in encoded)
    biases = sum(32 * layer.bias.size for layer in encoded)
    size = path.stat().st_size
    assert (bits + biases) / 8 < size < (bits + biases) / 8 + 4 * len(encoded) + 2048


def test_corrupt_or_truncated_file_is_clear_error(encoded, tmp_path):
    raw = export.to_bytes("lenet5", encoded)
    bad = tmp_path / "bad.hwdc"
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated"):
        export.load_params(bad)
    flipped = bytearray(raw)
    flipped[-10] ^= 0xFF
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="corrupt"):
        export.load_params(bad)
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not an hwcost compressed model"):
        export.load_params(bad)
    bad.write_bytes(raw[:20])
    with pytest.raises(ValueError, match=r"truncated|corrupt header"):
        export.load_params(bad)
