"""A compressed model in one file, and its loader (Deep Compression storage, Secs. 2-4).

Layout (all integers little-endian)::

    magic      8 bytes  b"HWDCZ01\\n"
    n_header   4 bytes  length of the JSON header
    header     JSON     {"format": 1, "model": ..., "layers": [{"name", "kind", "kernel_shape",
                         "weight_bits", "index_bits", "num_entries", "weight_stream_bytes",
                         "index_stream_bytes", "codebook_size", "bias_size"}, ...]}
    crc32      4 bytes  CRC-32 of the payload
    payload    per layer, in header order:
               Huffman tables        the code length of each weight code (2**weight_bits of them),
                                     then of each relative index (2**index_bits), 5 bits each,
                                     packed MSB first, zero-padded to a byte
               weight stream         Huffman-coded weight codes (byte padded)
               index stream          Huffman-coded relative indices (byte padded)
               codebook              codebook_size float32
               bias                  bias_size float32

The loader rebuilds exactly the float32 weights that were encoded (a codebook gather is exact). A file
that is truncated, altered or not of this format raises ``ValueError`` naming the file and the fault.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from compress import huffman
from compress.encoding import EncodedLayer, decode_layer
from hwcost.files import write_atomically

MAGIC = b"HWDCZ01\n"
FORMAT_VERSION = 1
_HEADER_KEYS = (
    "name",
    "kind",
    "kernel_shape",
    "weight_bits",
    "index_bits",
    "num_entries",
    "weight_stream_bytes",
    "index_stream_bytes",
    "codebook_size",
    "bias_size",
)


def to_bytes(model_name: str, layers: Sequence[EncodedLayer]) -> bytes:
    """Serialise the encoded layers of ``model_name`` into the file format above."""
    entries, chunks = [], []
    for layer in layers:
        w_stream = huffman.encode(layer.codes, layer.weight_lengths)
        i_stream = huffman.encode(layer.rel, layer.index_lengths)
        bias = np.zeros(0, np.float32) if layer.bias is None else np.asarray(layer.bias, np.float32).reshape(-1)
        entries.append(
            {
                "name": layer.name,
                "kind": layer.kind,
                "kernel_shape": list(layer.kernel_shape),
                "weight_bits": layer.weight_bits,
                "index_bits": layer.index_bits,
                "num_entries": int(layer.codes.size),
                "weight_stream_bytes": len(w_stream),
                "index_stream_bytes": len(i_stream),
                "codebook_size": int(layer.codebook.size),
                "bias_size": int(bias.size),
            }
        )
        chunks += [
            huffman.pack_lengths(np.concatenate([layer.weight_lengths, layer.index_lengths])),
            w_stream,
            i_stream,
            np.asarray(layer.codebook, "<f4").tobytes(),
            bias.astype("<f4").tobytes(),
        ]
    header = json.dumps({"format": FORMAT_VERSION, "model": model_name, "layers": entries}).encode()
    payload = b"".join(chunks)
    return MAGIC + len(header).to_bytes(4, "little") + header + zlib.crc32(payload).to_bytes(4, "little") + payload


def save_compressed(path: str | Path, model_name: str, layers: Sequence[EncodedLayer]) -> Path:
    """Write the compressed model to ``path`` atomically; returns the path."""
    return write_atomically(path, to_bytes(model_name, layers))


class _Reader:
    def __init__(self, raw: bytes, start: int, where: str):
        self.raw, self.pos, self.where = raw, start, where

    def take(self, size: int, what: str) -> bytes:
        if size < 0 or self.pos + size > len(self.raw):
            raise ValueError(f"compressed model {self.where} is truncated: {what} needs {size} bytes at {self.pos}")
        out = self.raw[self.pos : self.pos + size]
        self.pos += size
        return out


def from_bytes(raw: bytes, where: str = "<bytes>") -> tuple[str, list[EncodedLayer]]:
    """Parse the file format; returns ``(model name, encoded layers)``.

    Raises:
        ValueError: bad magic, unreadable header, checksum mismatch, truncation or inconsistent streams.
    """
    if not raw.startswith(MAGIC):
        raise ValueError(f"compressed model {where} is not an hwcost compressed model (bad magic number)")
    reader = _Reader(raw, len(MAGIC), where)
    size = int.from_bytes(reader.take(4, "header length"), "little")
    try:
        header = json.loads(reader.take(size, "header"))
        model_name = header["model"]
        specs = [{key: spec[key] for key in _HEADER_KEYS} for spec in header["layers"]]
        version = header["format"]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"compressed model {where} has a corrupt header: {err}") from None
    if version != FORMAT_VERSION:
        raise ValueError(f"compressed model {where} has format={version!r:.40}; this reader knows {FORMAT_VERSION}")
    if not isinstance(model_name, str) or not model_name:
        raise ValueError(f"compressed model {where} has a corrupt header: model={model_name!r:.40} is not a name")
    for i, spec in enumerate(specs):
        _check_spec(spec, f"compressed model {where} has a corrupt header: layers[{i}]")
    crc = int.from_bytes(reader.take(4, "checksum"), "little")
    if zlib.crc32(raw[reader.pos :]) != crc:
        raise ValueError(f"compressed model {where} is corrupt or truncated (payload checksum mismatch)")
    layers = []
    for spec in specs:
        name = spec["name"]
        try:
            n_w, n_i = 2 ** int(spec["weight_bits"]), 2 ** int(spec["index_bits"])
            tables = reader.take(huffman.packed_lengths_bytes(n_w + n_i), f"{name} Huffman tables")
            lengths = huffman.unpack_lengths(tables, n_w + n_i)
            w_len, i_len = lengths[:n_w], lengths[n_w:]
            w_stream = reader.take(int(spec["weight_stream_bytes"]), f"{name} weight stream")
            i_stream = reader.take(int(spec["index_stream_bytes"]), f"{name} index stream")
            codebook = np.frombuffer(reader.take(4 * int(spec["codebook_size"]), f"{name} codebook"), "<f4")
            bias = np.frombuffer(reader.take(4 * int(spec["bias_size"]), f"{name} bias"), "<f4")
            count = int(spec["num_entries"])
            codes = huffman.decode(w_stream, w_len, count)
            rel = huffman.decode(i_stream, i_len, count)
            for stream, what, symbols, lens in ((w_stream, "weight", codes, w_len), (i_stream, "index", rel, i_len)):
                used = -(-int(np.asarray(lens, np.int64)[symbols].sum()) // 8)
                if used != len(stream):
                    raise ValueError(f"the {what} stream holds {len(stream)} bytes but its {count} entries fill {used}")
        except ValueError as err:
            raise ValueError(f"compressed model {where}, layer {name}: {err}") from None
        layers.append(
            EncodedLayer(
                name=name,
                kind=str(spec["kind"]),
                kernel_shape=tuple(int(d) for d in spec["kernel_shape"]),
                weight_bits=int(spec["weight_bits"]),
                index_bits=int(spec["index_bits"]),
                codebook=codebook.astype(np.float32),
                codes=codes,
                rel=rel,
                weight_lengths=w_len.astype(np.int64),
                index_lengths=i_len.astype(np.int64),
                bias=bias.astype(np.float32) if spec["bias_size"] else None,
            )
        )
    if reader.pos != len(raw):
        raise ValueError(f"compressed model {where} has {len(raw) - reader.pos} unexpected trailing bytes")
    return model_name, layers


_KINDS = {"fc": 2, "conv": 4}
"""Layer kinds of the format and the rank of their kernels."""


def _check_spec(spec: dict[str, Any], where: str) -> None:
    """``ValueError`` (prefixed ``where``) naming the first field of a layer's header entry of the wrong type or
    out of range: every count a non-negative integer, bits in [1, 16], a 2-D (fc) or 4-D (conv) kernel shape."""

    def is_int(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if not isinstance(spec["name"], str) or not spec["name"]:
        raise ValueError(f"{where}: name={spec['name']!r:.40} is not a layer name")
    where = f"{where} ({spec['name']!r:.40})"
    if not isinstance(spec["kind"], str) or spec["kind"] not in _KINDS:
        raise ValueError(f"{where}: kind={spec['kind']!r:.40} is unknown; allowed: {', '.join(_KINDS)}")
    shape = spec["kernel_shape"]
    if (not isinstance(shape, list) or len(shape) != _KINDS[spec["kind"]]
            or not all(is_int(d) and d >= 1 for d in shape)):  # fmt: skip
        raise ValueError(
            f"{where}: kernel_shape={shape!r:.40} is not {_KINDS[spec['kind']]} positive integers ({spec['kind']})"
        )
    for key in ("weight_bits", "index_bits"):
        if not is_int(spec[key]) or not 1 <= spec[key] <= 16:
            raise ValueError(f"{where}: {key}={spec[key]!r:.40} is not an integer in [1, 16]")
    for key in ("num_entries", "weight_stream_bytes", "index_stream_bytes", "codebook_size", "bias_size"):
        if not is_int(spec[key]) or spec[key] < 0:
            raise ValueError(f"{where}: {key}={spec[key]!r:.40} is not a non-negative integer")
    if spec["codebook_size"] >= 2 ** spec["weight_bits"]:
        raise ValueError(
            f"{where}: codebook_size={spec['codebook_size']} does not fit {spec['weight_bits']}-bit codes "
            f"(at most {2 ** spec['weight_bits'] - 1})"
        )
    if spec["bias_size"] not in (0, shape[-1]):
        raise ValueError(f"{where}: bias_size={spec['bias_size']} is neither 0 nor the {shape[-1]} outputs")


def check_model_fits(path: str | Path, model_name: str, params: dict[str, dict[str, Any]]) -> None:
    """``ValueError`` naming ``path`` unless ``params`` (from :func:`load_params`) are every layer of the known
    model ``model_name``, in order, with its kernel and bias shapes: call before loading data or evaluating."""
    from models.lenet import LAYER_SPECS

    if model_name not in LAYER_SPECS:
        raise ValueError(
            f"compressed model {path} is of model={model_name!r:.40}, which is unknown; "
            f"allowed: {', '.join(LAYER_SPECS)}"
        )
    specs = LAYER_SPECS[model_name]
    if list(params) != [spec.name for spec in specs]:
        raise ValueError(
            f"compressed model {path} has layers {', '.join(map(str, params))[:80]}; "
            f"{model_name} has {', '.join(spec.name for spec in specs)}"
        )
    for spec in specs:
        kernel, bias = params[spec.name]["kernel"], params[spec.name]["bias"]
        if tuple(kernel.shape) != tuple(spec.kernel_shape) or tuple(bias.shape) != (spec.kernel_shape[-1],):
            raise ValueError(
                f"compressed model {path}, layer {spec.name}: kernel {tuple(kernel.shape)} and bias "
                f"{tuple(bias.shape)} do not fit {model_name}'s kernel {spec.kernel_shape}"
            )


def load_compressed(path: str | Path) -> tuple[str, list[EncodedLayer]]:
    """Read a compressed model file; returns ``(model name, encoded layers)``."""
    return from_bytes(Path(path).read_bytes(), str(path))


def load_params(path: str | Path) -> tuple[str, dict[str, dict[str, Any]]]:
    """Read a compressed model file into ``(model name, {layer: {"kernel", "bias"}})`` float32 arrays."""
    model_name, layers = load_compressed(path)
    params = {}
    for layer in layers:
        try:
            kernel = decode_layer(layer)
        except (ValueError, IndexError) as err:
            raise ValueError(f"compressed model {path}, layer {layer.name}: {err}") from None
        out = kernel.shape[-1]
        bias = layer.bias if layer.bias is not None else np.zeros(out, np.float32)
        params[layer.name] = {"kernel": kernel, "bias": bias}
    return model_name, params
