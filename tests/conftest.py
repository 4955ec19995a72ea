"""Shared fixtures: an isolated cache, no mirror, no network, a fake data set, and benchmark
reports kept out of the tree."""

import gzip
import hashlib
import os
import struct
import urllib.error

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from coursekit import data  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def reports_outside_the_tree(tmp_path_factory):
    """A benchmark run by any test reports into a temporary folder, never into the committed
    results/reports (see coursekit/tools/bench.py), so `make test` leaves the tree clean."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSEKIT_RESULTS_DIR", str(tmp_path_factory.mktemp("results")))
        yield


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """An empty cache, no mirror, and a network that refuses every download."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(data.CACHE_ENV, str(cache))
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    calls = []

    def no_network(url, destination, timeout=60.0):
        calls.append(url)
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(data, "_download", no_network)
    return cache, calls


@pytest.fixture
def fake_dataset(tmp_path, monkeypatch):
    """A registered data set 'toy' with one small IDX file, present in a mirror folder."""
    images = np.arange(3 * 28 * 28, dtype=np.uint64).reshape(3, 28, 28) % 256
    payload = idx_bytes(images, 2051)
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "images.gz").write_bytes(payload)
    entry = data.RemoteFile(
        "toy/images.gz",
        hashlib.sha256(payload).hexdigest(),
        len(payload),
        ("http://example.invalid/toy/images.gz",),
    )
    monkeypatch.setitem(data.REGISTRY, "toy", {"images.gz": entry})
    return entry, mirror, payload, images


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder (checkpoints go there) and the smoke profile."""
    monkeypatch.setenv("COURSEKIT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSEKIT_PROFILE", "smoke")
    return tmp_path


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium under Playwright (browser tests only)."""
    from browser_support import chromium_path
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        yield browser
        browser.close()
