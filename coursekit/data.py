"""The course data sets: a registry of verified files, a cache, parsers and loaders.

Introduced in 01_autoencoders, section 1. Every file the course reads is listed in
``REGISTRY`` with its SHA-256 and canonical URLs. ``fetch`` looks for it in this order:

1. the cache folder (``$COURSEKIT_DATA_DIR``, default ``data/`` in the repository);
2. a local mirror folder (``$COURSEKIT_DATA_MIRROR``; tests and CI point it at ``../shared/data``);
3. the canonical URLs.

The SHA-256 is checked on every cache hit, after every copy and after every download.
Files are written to a temporary name and renamed, so an interrupted or corrupt
transfer never leaves a file in the cache.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

CACHE_ENV = "COURSEKIT_DATA_DIR"
MIRROR_ENV = "COURSEKIT_DATA_MIRROR"
_REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class DataError(RuntimeError):
    """A data file could not be obtained, or its contents are malformed."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set: where it lives in the cache, its checksum, where to get it."""

    path: str  # relative to the cache (and mirror) folder, e.g. "mnist/t10k-labels-idx1-ubyte.gz"
    sha256: str
    size: int
    urls: tuple[str, ...]


def _idx_files(folder: str, bases: tuple[str, ...], sums: dict[str, tuple[str, int]]):
    return {
        f: RemoteFile(f"{folder}/{f}", sha, size, tuple(base + f for base in bases))
        for f, (sha, size) in sums.items()
    }


_MNIST_URLS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
_FASHION_URLS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)
_POKEMON_URL = "https://speech.ee.ntu.edu.tw/~tlkagk/courses/ML_2016/Pokemon_creation/"

REGISTRY: dict[str, dict[str, RemoteFile]] = {
    "mnist": _idx_files(
        "mnist",
        _MNIST_URLS,
        {
            "train-images-idx3-ubyte.gz": (
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                9912422,
            ),
            "train-labels-idx1-ubyte.gz": (
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                28881,
            ),
            "t10k-images-idx3-ubyte.gz": (
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                1648877,
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                4542,
            ),
        },
    ),
    "fashion_mnist": _idx_files(
        "fashion-mnist",
        _FASHION_URLS,
        {
            "train-images-idx3-ubyte.gz": (
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                26421880,
            ),
            "train-labels-idx1-ubyte.gz": (
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                29515,
            ),
            "t10k-images-idx3-ubyte.gz": (
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                4422102,
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                5148,
            ),
        },
    ),
    "pokemon": {
        "pixel_color.txt": RemoteFile(
            "pokemon/pixel_color.txt",
            "facd83256c33298756c3f2dd533771b69d4b7500618b5e73322bc5dbe97c297d",
            849758,
            (_POKEMON_URL + "pixel_color.txt",),
        ),
        "colormap.txt": RemoteFile(
            "pokemon/colormap.txt",
            "1ee954cf5adfa6b996bbf9231a1340efb29a2d4d9eabeb37831af45a0c1ac356",
            1720,
            (_POKEMON_URL + "colormap.txt",),
        ),
    },
}


# --------------------------------------------------------------------------- locations


def cache_dir() -> Path:
    """The cache folder: ``$COURSEKIT_DATA_DIR`` if set, else ``data/`` in the repository."""
    return Path(os.environ.get(CACHE_ENV) or _REPO_DATA_DIR).expanduser()


def mirror_dir() -> Path | None:
    """The local mirror folder named by ``$COURSEKIT_DATA_MIRROR``, or None."""
    value = os.environ.get(MIRROR_ENV)
    return Path(value).expanduser() if value else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, entry: RemoteFile) -> str | None:
    """None if ``path`` holds exactly ``entry``'s bytes, else what is wrong with it."""
    size = path.stat().st_size
    if size != entry.size:
        return f"has {size} bytes, expected {entry.size} (truncated or wrong file)"
    actual = sha256_of(path)
    if actual != entry.sha256:
        return f"SHA-256 is {actual}, expected {entry.sha256} (corrupt or wrong file)"
    return None


def _download(url: str, destination: Path, timeout: float = 60.0) -> None:
    """Stream ``url`` into ``destination`` (a temporary file owned by the caller)."""
    request = urllib.request.Request(url, headers={"User-Agent": "coursekit"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(destination, "wb") as f:
        shutil.copyfileobj(response, f)


def _place_verified(entry: RemoteFile, target: Path, produce) -> str | None:
    """Let ``produce(tmp_path)`` write a temporary file; keep it only if it verifies.

    Returns None on success, else the reason for failure. The temporary file is always
    removed on failure, so the cache never holds a partial or unverified file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        produce(tmp)
        problem = _verify(tmp, entry)
        if problem is None:
            os.replace(tmp, target)
        return problem
    except Exception as exc:  # network and file errors are reported, not raised, here
        return f"{type(exc).__name__}: {exc}"
    finally:
        tmp.unlink(missing_ok=True)


def fetch(dataset: str, filename: str) -> Path:
    """Return the path of a verified copy of ``filename`` of ``dataset`` in the cache.

    Raises ``DataError`` naming the data set, every place tried and how to fix it.
    """
    if dataset not in REGISTRY:
        raise DataError(f"Unknown data set {dataset!r}; known: {', '.join(sorted(REGISTRY))}.")
    files = REGISTRY[dataset]
    if filename not in files:
        raise DataError(f"Data set {dataset!r} has no file {filename!r}; it has {sorted(files)}.")
    entry = files[filename]
    target = cache_dir() / entry.path
    tried: list[str] = []

    if target.exists():
        problem = _verify(target, entry)
        if problem is None:
            return target
        target.unlink()  # a bad cached copy is discarded and fetched again, never used
        tried.append(f"cache {target}: {problem}; removed it")
    else:
        tried.append(f"cache {target}: not present")

    mirror = mirror_dir()
    if mirror is None:
        tried.append(f"mirror: ${MIRROR_ENV} not set")
    else:
        source = mirror / entry.path
        if not source.is_file():
            tried.append(f"mirror {source}: not present")
        else:
            problem = _place_verified(entry, target, lambda tmp: shutil.copyfile(source, tmp))
            if problem is None:
                return target
            tried.append(f"mirror {source}: {problem}")

    for url in entry.urls:
        problem = _place_verified(entry, target, lambda tmp, url=url: _download(url, tmp))
        if problem is None:
            return target
        tried.append(f"download {url}: {problem}")

    raise DataError(
        f"Could not obtain {filename} of the {dataset!r} data set.\n  Tried:\n    - "
        + "\n    - ".join(tried)
        + f"\n  Fix: connect to the internet and run again, or set ${MIRROR_ENV} to a folder "
        f"holding {entry.path} (SHA-256 {entry.sha256}), e.g. ../shared/data."
    )


# --------------------------------------------------------------------------- parsers

_IDX_MAGIC = {2051: 3, 2049: 1}  # unsigned-byte images (3 dims) and labels (1 dim)


def read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Parse a gzip-compressed IDX file (MNIST format) into a uint8 array.

    Rejects a wrong magic number, a header that does not match the data length, and
    files that are not gzip. Introduced in 01_autoencoders, section 1.
    """
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise DataError(
            f"{path} is not a readable gzip file ({exc}); delete it and fetch again."
        ) from exc
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise DataError(f"{path}: bad IDX magic number {magic}, expected {expected_magic}.")
    ndim = _IDX_MAGIC[expected_magic]
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(f"{path}: file too short for an IDX header ({len(raw)} bytes).")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    actual = len(raw) - header_len
    if actual != expected:
        raise DataError(
            f"{path}: header announces shape {shape} ({expected} values) "
            f"but the file holds {actual}; the file is truncated or malformed."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape)


class ImageData(NamedTuple):
    """Images as float32 (N, 28, 28, 1) in [0, 1] and labels as int32 (N,) in 0..9."""

    images: np.ndarray
    labels: np.ndarray


_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def load_image_dataset(dataset: str, split: str = "train") -> ImageData:
    """Load MNIST or Fashion-MNIST as ``ImageData`` (see its docstring for dtypes and ranges)."""
    if split not in _SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}.")
    images_file, labels_file = _SPLIT_FILES[split]
    images = read_idx(fetch(dataset, images_file), 2051)
    labels = read_idx(fetch(dataset, labels_file), 2049)
    if len(images) != len(labels):
        raise DataError(f"{dataset} {split}: {len(images)} images but {len(labels)} labels.")
    if labels.max() > 9:
        raise DataError(f"{dataset} {split}: label {labels.max()} outside 0..9.")
    return ImageData(
        (images.astype(np.float32) / 255.0)[..., None], labels.astype(np.int32)
    )


def load_mnist(split: str = "train") -> ImageData:
    """MNIST digits: 60,000 train or 10,000 test images, see ``ImageData``."""
    return load_image_dataset("mnist", split)


def load_fashion_mnist(split: str = "train") -> ImageData:
    """Fashion-MNIST: 60,000 train or 10,000 test images, see ``ImageData``."""
    return load_image_dataset("fashion_mnist", split)


POKEMON_COUNT, POKEMON_SIDE, POKEMON_COLOURS = 792, 20, 167


class PokemonSprites(NamedTuple):
    """Sprites as int32 colour indices (792, 20, 20) in 0..166 and the palette uint8 (167, 3)."""

    sprites: np.ndarray
    palette: np.ndarray

    def rgb(self, indices: np.ndarray | None = None) -> np.ndarray:
        """Colour indices (any shape) to RGB uint8 (shape + (3,)); all sprites by default."""
        return self.palette[self.sprites if indices is None else indices]


def _parse_int_rows(path: Path, what: str, width: int, low: int, high: int) -> np.ndarray:
    rows = []
    text = path.read_text(encoding="ascii", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values = [int(v) for v in line.split()]
        except ValueError:
            raise DataError(
                f"{path}, line {number}: {what} must be integers: {line[:60]!r}"
            ) from None
        if len(values) != width:
            raise DataError(f"{path}, line {number}: {len(values)} values, expected {width}.")
        bad = [v for v in values if not low <= v <= high]
        if bad:
            raise DataError(f"{path}, line {number}: {what} {bad[0]} outside {low}..{high}.")
        rows.append(values)
    return np.array(rows, dtype=np.int32).reshape(len(rows), width)


def parse_pokemon(pixels_path: Path, palette_path: Path) -> PokemonSprites:
    """Parse the NTU ML 2016 sprite files; reject wrong counts and indices outside the palette."""
    palette = _parse_int_rows(palette_path, "colour components", 3, 0, 255)
    if len(palette) != POKEMON_COLOURS:
        raise DataError(f"{palette_path}: {len(palette)} colours, expected {POKEMON_COLOURS}.")
    side2 = POKEMON_SIDE * POKEMON_SIDE
    sprites = _parse_int_rows(pixels_path, "colour indices", side2, 0, len(palette) - 1)
    if len(sprites) != POKEMON_COUNT:
        raise DataError(f"{pixels_path}: {len(sprites)} sprites, expected {POKEMON_COUNT}.")
    return PokemonSprites(
        sprites.reshape(-1, POKEMON_SIDE, POKEMON_SIDE), palette.astype(np.uint8)
    )


def load_pokemon() -> PokemonSprites:
    """The 792 Pokémon sprites (20x20, 167-colour palette), see ``PokemonSprites``."""
    return parse_pokemon(fetch("pokemon", "pixel_color.txt"), fetch("pokemon", "colormap.txt"))


# --------------------------------------------------------------------------- tf.data


def make_pipeline(
    arrays,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    cache: bool = True,
    drop_remainder: bool = False,
    map_fn=None,
):
    """A ``tf.data`` pipeline over in-memory arrays: cache, shuffle, batch, map, prefetch.

    ``arrays`` is an array or a tuple of arrays with equal first dimension. ``map_fn``
    runs on whole batches (e.g. fresh noise for a denoising autoencoder). The shuffle
    order is reshuffled each epoch but fixed by ``seed``.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(arrays)
    if cache:
        ds = ds.cache()
    if shuffle:
        n = len(arrays[0]) if isinstance(arrays, tuple) else len(arrays)
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if map_fn is not None:
        ds = ds.map(map_fn, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
