"""The data layer: verification, look-up order, atomic writes, parsers, loaders."""

import numpy as np
import pytest

from coursekit import data
from tests.conftest import idx_bytes


def test_mirror_hit_is_copied_and_verified(isolated, fake_dataset, monkeypatch):
    cache, calls = isolated
    entry, mirror, payload, _ = fake_dataset
    monkeypatch.setenv(data.MIRROR_ENV, str(mirror))
    path = data.fetch("toy", "images.gz")
    assert path == cache / "toy" / "images.gz"
    assert path.read_bytes() == payload
    assert calls == []  # the mirror answered; no download was tried


def test_cache_hit_needs_no_mirror(isolated, fake_dataset, monkeypatch):
    cache, calls = isolated
    entry, mirror, payload, _ = fake_dataset
    (cache / "toy").mkdir(parents=True)
    (cache / "toy" / "images.gz").write_bytes(payload)
    assert data.fetch("toy", "images.gz").read_bytes() == payload
    assert calls == []


def test_download_is_verified_and_written_atomically(isolated, fake_dataset, monkeypatch):
    cache, _ = isolated
    entry, _, payload, _ = fake_dataset

    def good_download(url, destination, timeout=60.0):
        destination.write_bytes(payload)

    monkeypatch.setattr(data, "_download", good_download)
    assert data.fetch("toy", "images.gz").read_bytes() == payload
    assert [p.name for p in (cache / "toy").iterdir()] == ["images.gz"]


@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_bad_mirror_copy_never_reaches_the_cache(isolated, fake_dataset, monkeypatch, damage):
    cache, calls = isolated
    entry, mirror, payload, _ = fake_dataset
    bad = payload[:-10] if damage == "truncated" else payload[:-1] + bytes([payload[-1] ^ 1])
    (mirror / "toy" / "images.gz").write_bytes(bad)
    monkeypatch.setenv(data.MIRROR_ENV, str(mirror))
    with pytest.raises(data.DataError) as err:
        data.fetch("toy", "images.gz")
    message = str(err.value)
    assert "truncated" in message if damage == "truncated" else "SHA-256" in message
    assert "toy" in message and str(mirror) in message and entry.urls[0] in message
    assert list((cache / "toy").iterdir()) == []  # no partial or temporary file left
    assert calls == list(entry.urls)


def test_corrupt_download_leaves_nothing(isolated, fake_dataset, monkeypatch):
    cache, _ = isolated

    def corrupt_download(url, destination, timeout=60.0):
        destination.write_bytes(b"not the file")

    monkeypatch.setattr(data, "_download", corrupt_download)
    with pytest.raises(data.DataError, match="expected"):
        data.fetch("toy", "images.gz")
    assert list((cache / "toy").iterdir()) == []


def test_interrupted_download_leaves_nothing(isolated, fake_dataset, monkeypatch):
    cache, _ = isolated
    _, _, payload, _ = fake_dataset

    def interrupted(url, destination, timeout=60.0):
        destination.write_bytes(payload[:100])
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(data, "_download", interrupted)
    with pytest.raises(data.DataError, match="ConnectionResetError"):
        data.fetch("toy", "images.gz")
    assert list((cache / "toy").iterdir()) == []


def test_missing_everywhere_names_every_place_and_the_fix(isolated, fake_dataset):
    cache, calls = isolated
    entry, *_ = fake_dataset
    with pytest.raises(data.DataError) as err:
        data.fetch("toy", "images.gz")
    message = str(err.value)
    assert "'toy'" in message
    assert str(cache / "toy" / "images.gz") in message
    assert data.MIRROR_ENV in message
    assert entry.urls[0] in message and "network disabled" in message
    assert "Fix:" in message


def test_corrupt_cache_file_is_replaced_from_the_mirror(isolated, fake_dataset, monkeypatch):
    cache, _ = isolated
    entry, mirror, payload, _ = fake_dataset
    (cache / "toy").mkdir(parents=True)
    (cache / "toy" / "images.gz").write_bytes(b"garbage")
    monkeypatch.setenv(data.MIRROR_ENV, str(mirror))
    assert data.fetch("toy", "images.gz").read_bytes() == payload


def test_unknown_dataset_and_file():
    with pytest.raises(data.DataError, match="Unknown data set"):
        data.fetch("cifar", "x")
    with pytest.raises(data.DataError, match="has no file"):
        data.fetch("mnist", "x")


# --------------------------------------------------------------------------- IDX parser


def test_idx_roundtrip(tmp_path):
    images = (np.arange(2 * 28 * 28) % 256).reshape(2, 28, 28)
    path = tmp_path / "ok.gz"
    path.write_bytes(idx_bytes(images, 2051))
    parsed = data.read_idx(path, 2051)
    assert parsed.shape == (2, 28, 28) and parsed.dtype == np.uint8
    np.testing.assert_array_equal(parsed, images)


def test_idx_bad_magic(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(idx_bytes(np.zeros(5), 2049))
    with pytest.raises(data.DataError, match="bad IDX magic number 2049, expected 2051"):
        data.read_idx(path, 2051)


def test_idx_wrong_count(tmp_path):
    import gzip
    import struct

    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(struct.pack(">II", 2049, 10) + bytes(7)))
    with pytest.raises(data.DataError, match="announces shape"):
        data.read_idx(path, 2049)


def test_idx_not_gzip(tmp_path):
    path = tmp_path / "plain"
    path.write_bytes(b"\x00\x00\x08\x01" + bytes(8))
    with pytest.raises(data.DataError, match="not a readable gzip"):
        data.read_idx(path, 2049)


# --------------------------------------------------------------------------- Pokémon parser


def _write_pokemon(tmp_path, sprites: list[list[int]], palette: list[list[int]]):
    pixels = tmp_path / "pixel_color.txt"
    colours = tmp_path / "colormap.txt"
    pixels.write_text("\n".join(" ".join(map(str, s)) for s in sprites) + "\n")
    colours.write_text("\n".join(" ".join(map(str, c)) for c in palette) + "\n")
    return pixels, colours


def _valid_pokemon():
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, (167, 3)).tolist()
    sprites = rng.integers(0, 167, (792, 400)).tolist()
    return sprites, palette


def test_pokemon_parses(tmp_path):
    sprites, palette = _valid_pokemon()
    parsed = data.parse_pokemon(*_write_pokemon(tmp_path, sprites, palette))
    assert parsed.sprites.shape == (792, 20, 20) and parsed.sprites.dtype == np.int32
    assert parsed.palette.shape == (167, 3) and parsed.palette.dtype == np.uint8
    assert parsed.rgb().shape == (792, 20, 20, 3)
    np.testing.assert_array_equal(parsed.sprites[5].ravel(), sprites[5])


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda s, p: s[3].__setitem__(7, 167), "colour indices 167 outside 0..166"),
        (lambda s, p: s[3].__setitem__(7, -1), "outside 0..166"),
        (lambda s, p: s.pop(), "791 sprites, expected 792"),
        (lambda s, p: s[0].pop(), "399 values, expected 400"),
        (lambda s, p: p.pop(), "166 colours, expected 167"),
        (lambda s, p: p[0].__setitem__(0, 300), "outside 0..255"),
    ],
)
def test_pokemon_rejects_malformed(tmp_path, mutate, message):
    sprites, palette = _valid_pokemon()
    mutate(sprites, palette)
    with pytest.raises(data.DataError, match=message):
        data.parse_pokemon(*_write_pokemon(tmp_path, sprites, palette))


def test_pokemon_rejects_non_integers(tmp_path):
    sprites, palette = _valid_pokemon()
    pixels, colours = _write_pokemon(tmp_path, sprites, palette)
    pixels.write_text(pixels.read_text().replace(" ", " x", 1))
    with pytest.raises(data.DataError, match="must be integers"):
        data.parse_pokemon(pixels, colours)


# --------------------------------------------------------------------------- real files


@pytest.fixture
def shared_mirror(tmp_path, monkeypatch):
    import pathlib

    mirror = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
    mirror = pathlib.Path(__import__("os").environ.get("COURSEKIT_DATA_MIRROR", mirror))
    if not (mirror / "mnist").is_dir():
        pytest.fail(f"the course's data mirror is missing at {mirror}; set COURSEKIT_DATA_MIRROR")
    monkeypatch.setenv(data.MIRROR_ENV, str(mirror))
    return mirror


def test_load_mnist_from_mirror(shared_mirror):
    test = data.load_mnist("test")
    assert test.images.shape == (10000, 28, 28, 1) and test.images.dtype == np.float32
    assert 0.0 <= test.images.min() and test.images.max() == 1.0
    assert test.labels.dtype == np.int32 and sorted(set(test.labels.tolist())) == list(range(10))


def test_load_pokemon_from_mirror(shared_mirror):
    pokemon = data.load_pokemon()
    assert pokemon.sprites.shape == (792, 20, 20)
    assert pokemon.sprites.max() <= 166 and pokemon.palette.shape == (167, 3)


def test_unknown_split():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        data.load_mnist("validation")


def test_pipeline_batches_and_is_seeded():
    x = np.arange(10, dtype=np.float32)
    first = [b.numpy().tolist() for b in data.make_pipeline(x, 4, seed=3)]
    again = [b.numpy().tolist() for b in data.make_pipeline(x, 4, seed=3)]
    assert first == again and [len(b) for b in first] == [4, 4, 2]
    assert sorted(sum(first, [])) == x.tolist()
    pairs = data.make_pipeline((x, x * 2), 5, shuffle=False, map_fn=lambda a, b: (a, b + 1))
    a, b = next(iter(pairs))
    np.testing.assert_allclose(b.numpy(), a.numpy() * 2 + 1)
