import numpy as np
import pytest

from compress import huffman


def _roundtrip(symbols, alphabet):
    lengths = huffman.code_lengths(np.bincount(np.asarray(symbols, np.int64), minlength=alphabet))
    data = huffman.encode(symbols, lengths)
    assert len(data) == -(-huffman.encoded_bits(symbols, lengths) // 8)
    np.testing.assert_array_equal(huffman.decode(data, lengths, len(symbols)), symbols)
    return lengths


def test_roundtrip_random_skewed_symbols():
    rng = np.random.default_rng(0)
    symbols = np.minimum(rng.geometric(0.2, 5000) - 1, 31)
    lengths = _roundtrip(symbols, 32)
    freq = np.bincount(symbols, minlength=32)
    p = freq[freq > 0] / freq.sum()
    entropy = -(p * np.log2(p)).sum()
    mean = huffman.encoded_bits(symbols, lengths) / symbols.size
    assert entropy <= mean < entropy + 1  # Huffman optimality bound


def test_known_code_lengths_and_canonical_prefix_free():
    lengths = huffman.code_lengths([45, 13, 12, 16, 9, 5])  # the classic textbook example
    assert lengths.tolist() == [1, 3, 3, 3, 4, 4]
    codes = huffman.canonical_codes(lengths)
    assert codes == {0: "0", 1: "100", 2: "101", 3: "110", 4: "1110", 5: "1111"}
    words = list(codes.values())
    assert not any(a != b and b.startswith(a) for a in words for b in words)


def test_single_symbol_and_empty_edge_cases():
    lengths = _roundtrip([3, 3, 3, 3, 3], 8)
    assert lengths.tolist() == [0, 0, 0, 1, 0, 0, 0, 0]
    assert huffman.encode([], np.zeros(8, np.int64)) == b""
    assert huffman.decode(b"", np.zeros(8, np.int64), 0).size == 0
    assert huffman.code_lengths([0, 0, 0]).tolist() == [0, 0, 0]


def test_truncated_stream_and_unknown_symbol_are_clear_errors():
    lengths = huffman.code_lengths([5, 1, 1, 1])
    data = huffman.encode([1, 2, 3, 1, 2, 3, 1, 2], lengths)
    with pytest.raises(ValueError, match="truncated"):
        huffman.decode(data[:1], lengths, 8)
    with pytest.raises(ValueError, match="symbol 2 has no code"):
        huffman.encode([2], [1, 1, 0])


def test_packed_length_table_roundtrip():
    lengths = np.array([0, 1, 31, 7, 5, 0, 12], np.int64)
    packed = huffman.pack_lengths(lengths)
    assert len(packed) == huffman.packed_lengths_bytes(7) == 5  # 35 bits
    np.testing.assert_array_equal(huffman.unpack_lengths(packed, 7), lengths)
    with pytest.raises(ValueError, match="truncated"):
        huffman.unpack_lengths(packed[:2], 7)
