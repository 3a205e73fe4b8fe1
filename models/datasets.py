"""MNIST, read from the four standard IDX files.

Search order (DESIGN.md section 6): ``$HWCOST_DATA_DIR`` (the folder itself or its ``mnist/``
subfolder; a ``$HWCOST_DATA_DIR`` that is not a folder is an error), then the user cache
(``$XDG_CACHE_HOME/hwcost/mnist``, default ``~/.cache/hwcost/mnist``), then a download from the standard
mirror into the cache (:data:`DOWNLOAD_TIMEOUT_S` per request). Files may be gzip-compressed or raw. The
SHA-256 of the decompressed bytes is always verified; a missing, truncated or corrupt file is a clear error
that names the file or the folders tried and how to fix it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.request
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hwcost.errors import UsageError
from hwcost.files import write_atomically

MNIST_FILES: dict[str, str] = {
    # SHA-256 of the decompressed IDX files (shared/datasets/mnist/README.md; the published checksums).
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
DOWNLOAD_TIMEOUT_S = 20.0
"""Seconds a download request may wait for the mirror (connect or read) before the next mirror is tried."""


class Dataset(NamedTuple):
    """Images as float32 in [0, 1] of shape (N, 28, 28, 1) and labels as int32 of shape (N,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def subset(data: Dataset, train_examples: int, test_examples: int) -> Dataset:
    """The first ``train_examples`` training and ``test_examples`` test examples (quick plumbing runs)."""
    return Dataset(
        data.train_images[:train_examples],
        data.train_labels[:train_examples],
        data.test_images[:test_examples],
        data.test_labels[:test_examples],
    )


def cache_dir() -> Path:
    """The user cache folder for MNIST."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hwcost" / "mnist"


def candidate_dirs() -> list[Path]:
    """Folders searched, in order; :class:`~hwcost.errors.UsageError` if ``$HWCOST_DATA_DIR`` is set but is not
    a folder (a typo would otherwise be skipped silently)."""
    dirs: list[Path] = []
    env = os.environ.get("HWCOST_DATA_DIR")
    if env:
        if not Path(env).expanduser().is_dir():
            raise UsageError(
                f"HWCOST_DATA_DIR={env!r} is not a folder; set it to the folder holding the four MNIST IDX files "
                "(or its parent with a mnist/ subfolder), or unset it"
            )
        dirs += [Path(env).expanduser(), Path(env).expanduser() / "mnist"]
    dirs.append(cache_dir())
    return dirs


def _read_local(folder: Path, name: str) -> bytes | None:
    for candidate, opener in ((folder / f"{name}.gz", gzip.open), (folder / name, open)):
        if candidate.is_file():
            try:
                with opener(candidate, "rb") as f:
                    return f.read()
            except (EOFError, OSError, zlib.error) as err:  # a truncated or damaged .gz, an unreadable file
                raise UsageError(
                    f"MNIST file {candidate} cannot be read ({err or type(err).__name__}): it is truncated or "
                    "damaged. Delete it and run again (or point HWCOST_DATA_DIR at good files)."
                ) from None
    return None


def _verify(name: str, raw: bytes, where: str) -> bytes:
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MNIST_FILES[name]:
        raise ValueError(
            f"MNIST file {name} from {where} is corrupt: SHA-256 of the decompressed bytes is {digest}, "
            f"expected {MNIST_FILES[name]}. Delete it and run again (or point HWCOST_DATA_DIR at good files)."
        )
    return raw


def _download(name: str, dest: Path) -> bytes:
    errors = []
    for mirror in MNIST_MIRRORS:
        url = f"{mirror}{name}.gz"
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                packed = response.read()
            raw = _verify(name, gzip.decompress(packed), url)
        except (OSError, ValueError, EOFError, zlib.error) as err:
            errors.append(f"{url}: {err}")
            continue
        write_atomically(dest / f"{name}.gz", packed)
        return raw
    raise FileNotFoundError("; ".join(errors))


def read_idx_file(name: str) -> bytes:
    """Decompressed, checksum-verified bytes of one MNIST IDX file, from the first place that has it."""
    dirs = candidate_dirs()
    for folder in dirs:
        raw = _read_local(folder, name)
        if raw is not None:
            return _verify(name, raw, str(folder))
    try:
        return _download(name, cache_dir())
    except FileNotFoundError as err:
        looked = ", ".join(str(d) for d in dirs)
        raise FileNotFoundError(
            f"MNIST file {name}(.gz) not found; looked in: {looked}; download failed ({err}). "
            "Set HWCOST_DATA_DIR to a folder holding the four MNIST IDX files."
        ) from None


def parse_idx(raw: bytes) -> np.ndarray:
    """Parse IDX bytes (unsigned-byte data only) into a uint8 array of the stored shape."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError("not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"IDX payload has {data.size} bytes, header says shape {shape}")
    return data.reshape(shape)


def load_mnist() -> Dataset:
    """Load MNIST: 60,000 training and 10,000 test images (float32 in [0, 1], NHWC) with int32 labels."""

    def images(name: str) -> np.ndarray:
        return (parse_idx(read_idx_file(name)).astype(np.float32) / 255.0)[..., None]

    def labels(name: str) -> np.ndarray:
        return parse_idx(read_idx_file(name)).astype(np.int32)

    return Dataset(
        images("train-images-idx3-ubyte"),
        labels("train-labels-idx1-ubyte"),
        images("t10k-images-idx3-ubyte"),
        labels("t10k-labels-idx1-ubyte"),
    )
