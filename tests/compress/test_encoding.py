import numpy as np
import pytest

from compress import encoding, huffman, sharing


def _random_shared(rng, shape, density, bits):
    kernel = rng.standard_normal(shape).astype(np.float32)
    kernel[rng.random(shape) >= density] = 0.0
    return sharing.share_kernel(kernel, bits, iterations=5)


def test_relative_index_example_with_fillers():
    # Fig. 2 style: 3-bit index (span 8). Nonzeros at positions 1, 4 and 15 (gap of 10 zeros needs one filler).
    flat = np.zeros(20, np.int64)
    flat[[1, 4, 15]] = [5, 6, 7]
    codes, rel = encoding.relative_indices(flat, 3)
    assert codes.tolist() == [5, 6, 0, 7]
    assert rel.tolist() == [1, 2, 7, 2]
    assert encoding.positions_from_relative(rel).tolist() == [1, 4, 12, 15]
    np.testing.assert_array_equal(encoding.decode_relative(codes, rel, 20), flat)


def _independent_count(flat_codes, weight_bits, index_bits, k):
    """Bit count written as a plain loop over the positions, with Huffman costs from the codewords."""
    span = 2**index_bits
    entry_codes, entry_rel, skipped = [], [], 0
    for value in flat_codes.tolist():
        if value == 0:
            skipped += 1
            continue
        while skipped >= span:
            entry_codes.append(0)
            entry_rel.append(span - 1)
            skipped -= span
        entry_codes.append(value)
        entry_rel.append(skipped)
        skipped = 0
    w_codes = huffman.canonical_codes(huffman.code_lengths(np.bincount(entry_codes, minlength=2**weight_bits)))
    i_codes = huffman.canonical_codes(huffman.code_lengths(np.bincount(entry_rel, minlength=2**index_bits)))
    huff = sum(len(w_codes[c]) for c in entry_codes) + sum(len(i_codes[r]) for r in entry_rel)
    tables = 5 * (2**weight_bits + 2**index_bits)  # one 5-bit code length per alphabet symbol
    pq = len(entry_codes) * (weight_bits + index_bits) + 32 * k
    return len(entry_codes), pq, huff + 32 * k + tables


@pytest.mark.parametrize(
    ("shape", "density", "bits", "index_bits"),
    [((300, 100), 0.09, 6, 5), ((5, 5, 20, 50), 0.12, 8, 5), ((100, 10), 0.02, 3, 2), ((40, 7), 0.6, 1, 1)],
)
def test_stored_size_equals_encoded_bits_for_random_masks(shape, density, bits, index_bits):
    rng = np.random.default_rng(hash((shape, bits)) % 2**32)
    shared = _random_shared(rng, shape, density, bits)
    layer = encoding.encode_layer("l", shared, index_bits)
    counted = encoding.layer_bits(layer)
    flat = encoding.storage_order(shared.codes).reshape(-1)
    entries, pq, pqh = _independent_count(flat, bits, index_bits, 2**bits - 1)
    assert counted["num_entries"] == entries
    assert counted["num_nonzero"] == np.count_nonzero(shared.codes)
    assert counted["total_bits_pq"] == pq
    assert counted["total_bits_pqh"] == pqh
    # The Huffman streams really have that many bits (byte padding aside).
    w_stream = huffman.encode(layer.codes, layer.weight_lengths)
    i_stream = huffman.encode(layer.rel, layer.index_lengths)
    assert len(w_stream) == -(-counted["weight_code_bits_pqh"] // 8)
    assert len(i_stream) == -(-counted["index_code_bits_pqh"] // 8)
    np.testing.assert_array_equal(encoding.decode_layer(layer), sharing.decode_kernel(shared.codebook, shared.codes))


def test_storage_order_roundtrip_and_table_columns():
    rng = np.random.default_rng(3)
    conv = rng.standard_normal((5, 5, 3, 4))
    np.testing.assert_array_equal(encoding.from_storage_order(encoding.storage_order(conv), conv.shape), conv)
    assert encoding.storage_order(conv)[1, 2, 3, 4] == conv[3, 4, 2, 1]
    layers = [
        encoding.encode_layer("a", _random_shared(rng, (50, 40), 0.1, 6)),
        encoding.encode_layer("b", _random_shared(rng, (40, 10), 0.3, 6)),
    ]
    rows, total, bits = encoding.storage_table(layers)
    assert [r["layer"] for r in rows] == ["a", "b"]
    assert rows[0]["weight_bits_pq"] == 6 and rows[0]["index_bits_pq"] == 5
    dense = 32 * (50 * 40 + 40 * 10)
    compressed = sum(b["total_bits_pqh"] for b in bits.values())
    assert total["compression_pqh"] == pytest.approx(dense / compressed)
    assert total["rate_pqh_pct"] == pytest.approx(100 * compressed / dense)
