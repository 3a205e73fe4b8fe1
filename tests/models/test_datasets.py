import gzip
import hashlib

import numpy as np
import pytest

from models import datasets


def test_mnist_loads_with_checksums():
    data = datasets.load_mnist()
    assert data.train_images.shape == (60000, 28, 28, 1)
    assert data.test_images.shape == (10000, 28, 28, 1)
    assert data.train_labels.shape == (60000,) and data.test_labels.max() == 9
    assert 0.0 <= data.train_images.min() and data.train_images.max() == 1.0
    assert np.bincount(data.test_labels).tolist()[:2] == [980, 1135]


def test_corrupt_file_is_a_clear_error(tmp_path, monkeypatch):
    bad = gzip.compress(b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"abc")
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(bad)
    monkeypatch.setenv("HWCOST_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte from .* is corrupt: SHA-256"):
        datasets.read_idx_file("t10k-labels-idx1-ubyte")


def test_missing_files_say_where_the_loader_looked(tmp_path, monkeypatch):
    (tmp_path / "nowhere").mkdir()
    monkeypatch.setenv("HWCOST_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", ("http://127.0.0.1:9/",))
    with pytest.raises(FileNotFoundError, match=r"looked in: .*nowhere.*Set HWCOST_DATA_DIR"):
        datasets.read_idx_file("t10k-labels-idx1-ubyte")


def test_download_path_verifies_and_caches(tmp_path, monkeypatch):
    payload = datasets.read_idx_file("t10k-labels-idx1-ubyte")
    served = tmp_path / "mirror"
    served.mkdir()
    (served / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(payload))
    (tmp_path / "nowhere").mkdir()
    monkeypatch.setenv("HWCOST_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", (served.as_uri() + "/",))
    raw = datasets.read_idx_file("t10k-labels-idx1-ubyte")
    assert hashlib.sha256(raw).hexdigest() == datasets.MNIST_FILES["t10k-labels-idx1-ubyte"]
    assert (tmp_path / "cache" / "hwcost" / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file()


def test_a_data_dir_that_does_not_exist_is_named_not_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("HWCOST_DATA_DIR", str(tmp_path / "typo"))
    with pytest.raises(ValueError, match=r"HWCOST_DATA_DIR='.*typo' is not a folder"):
        datasets.read_idx_file("t10k-labels-idx1-ubyte")


def test_a_truncated_gz_names_the_file(tmp_path, monkeypatch):
    packed = gzip.compress(datasets.read_idx_file("t10k-labels-idx1-ubyte"))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(packed[: len(packed) // 2])
    monkeypatch.setenv("HWCOST_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz cannot be read .* truncated or damaged"):
        datasets.read_idx_file("t10k-labels-idx1-ubyte")


def test_downloads_wait_at_most_the_short_timeout(tmp_path, monkeypatch):
    timeouts = []

    def unreachable(url, timeout=None):
        timeouts.append(timeout)
        raise OSError("network is unreachable")

    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("HWCOST_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets.urllib.request, "urlopen", unreachable)
    with pytest.raises(FileNotFoundError, match="network is unreachable"):
        datasets.read_idx_file("t10k-labels-idx1-ubyte")
    assert timeouts and all(t is not None and t <= 20 for t in timeouts)


def test_parse_idx_rejects_bad_magic():
    with pytest.raises(ValueError, match="bad magic"):
        datasets.parse_idx(b"\x01\x02\x03\x04")
