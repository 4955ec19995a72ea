"""Measuring generated MNIST digits: a cached classifier, a Fréchet distance, class coverage.

Introduced in 03_gan, section 4 ("How do you know you are improving?"). A small CNN
classifier is trained once (at least 99% test accuracy) and cached under
``cache_dir()/models``; its penultimate layer gives the features for a Fréchet distance
between sets of images (FID on MNIST-classifier features, as TF-GAN does for MNIST),
and its predictions give the class histogram of generated samples (mode coverage).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import keras
import numpy as np
from filelock import FileLock

from .data import cache_dir, load_mnist
from .viz import as_float_images

CLASSIFIER_NAME = "mnist_classifier_v2.keras"
# The classifier is the course's measuring instrument, not a random choice of a run: it is
# trained with this fixed seed (explicit initializer, dropout and shuffling seeds, so the
# run's global RNG is neither used nor reset), and every run and seed is scored alike.
CLASSIFIER_SEED = 0
FEATURE_LAYER = "features"
MIN_ACCURACY = 0.99


def classifier_path() -> Path:
    """Where the cached classifier lives: ``cache_dir()/models/`` + ``CLASSIFIER_NAME``."""
    return cache_dir() / "models" / CLASSIFIER_NAME


def build_classifier(seed: int = CLASSIFIER_SEED) -> keras.Model:
    """A small CNN: two conv blocks, a 128-unit feature layer, 10 logits (float32), every
    random initialisation and dropout mask seeded explicitly by ``seed``."""
    L = keras.layers

    def init(i):
        return {"kernel_initializer": keras.initializers.GlorotUniform(seed=seed + i)}

    inputs = keras.Input((28, 28, 1))
    x = L.Conv2D(32, 3, activation="relu", **init(1))(inputs)
    x = L.MaxPooling2D()(x)
    x = L.Conv2D(64, 3, activation="relu", **init(2))(x)
    x = L.MaxPooling2D()(x)
    x = L.Flatten()(x)
    x = L.Dropout(0.25, seed=seed + 3)(x)
    x = L.Dense(128, activation="relu", name=FEATURE_LAYER, dtype="float32", **init(4))(x)
    x = L.Dropout(0.25, seed=seed + 5)(x)
    logits = L.Dense(10, name="logits", dtype="float32", **init(6))(x)
    return keras.Model(inputs, logits, name="mnist_classifier")


def train_classifier(max_epochs: int = 6, batch_size: int = 64, seed: int = CLASSIFIER_SEED):
    """Train the classifier until its test accuracy reaches 99% (at most ``max_epochs``).

    Returns ``(model, test_accuracy)``; raises if 99% is not reached. Shuffling uses its own
    NumPy generator, so training neither depends on nor changes the run's random state.
    """
    train, test = load_mnist("train"), load_mnist("test")
    model = build_classifier(seed)
    order = np.random.default_rng(seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    accuracy = 0.0
    for epoch in range(max_epochs):
        perm = order.permutation(len(train.images))
        model.fit(train.images[perm], train.labels[perm], batch_size=batch_size, epochs=1,
                  verbose=0, shuffle=False)
        accuracy = float(model.evaluate(test.images, test.labels, batch_size=1000,
                                        verbose=0)[1])
        print(f"classifier epoch {epoch + 1}: test accuracy {accuracy:.4f}", flush=True)
        if accuracy >= MIN_ACCURACY:
            return model, accuracy
    raise RuntimeError(
        f"the MNIST classifier reached only {accuracy:.4f} test accuracy after {max_epochs} "
        f"epochs (need {MIN_ACCURACY}); retry with train_classifier(max_epochs=8)."
    )


_LOADED: dict[str, keras.Model] = {}


def load_classifier(retrain: bool = False) -> keras.Model:
    """The cached MNIST classifier, trained (about a minute on 2 cores) and cached if absent.

    The file is written to a temporary name and renamed, so an interrupted run never
    leaves a half-written model behind. A lock file beside it makes a second process that
    needs the classifier meanwhile (another notebook's kernel, a benchmark) wait for this
    training and load its result, instead of training it again.
    """
    path = classifier_path()
    key = str(path)
    if not retrain and key in _LOADED:
        return _LOADED[key]
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path.with_name(f".{path.name}.lock")):
        if retrain or not path.exists():
            print(f"training the MNIST classifier (cached at {path})", flush=True)
            model, _ = train_classifier()
            tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
            model.save(tmp)
            os.replace(tmp, path)
        else:
            model = keras.models.load_model(path)
    _LOADED[key] = model
    return model


def classifier_accuracy() -> float:
    """Test accuracy of the cached classifier on the 10,000 MNIST test images."""
    test = load_mnist("test")
    _, logits = features_and_logits(test.images)
    return float((logits.argmax(1) == test.labels).mean())


def _as_batch(images) -> np.ndarray:
    """Images as float32 (N, 28, 28, 1) in [0, 1]; accepts uint8 0..255 or floats in [0, 1]."""
    shape = np.shape(images)
    if len(shape) not in (3, 4) or tuple(shape[1:3]) != (28, 28) or shape[3:] not in ((), (1,)):
        raise ValueError(
            f"expected MNIST-shaped images (N, 28, 28) or (N, 28, 28, 1), got {shape}; "
            "reshape generator outputs to 28x28 first."
        )
    if shape[0] == 0:
        raise ValueError("got no images; pass at least two images to measure.")
    images = as_float_images(images)
    if images.min() < -1e-3 or images.max() > 1 + 1e-3:
        raise ValueError(
            f"float images must lie in [0, 1], got [{images.min():.3g}, {images.max():.3g}]; "
            "rescale (e.g. (x + 1) / 2 for tanh outputs)."
        )
    return images


def to_uint8(images) -> np.ndarray:
    """Float images in [0, 1] (N, 28, 28[, 1]) as uint8 (N, 28, 28), the format the bench saves."""
    batch = _as_batch(images)
    return np.round(np.clip(batch[..., 0], 0, 1) * 255).astype(np.uint8)


def features_and_logits(images, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """The classifier's penultimate features (N, 128) and logits (N, 10) for ``images``."""
    model = load_classifier()
    both = keras.Model(model.input, [model.get_layer(FEATURE_LAYER).output, model.output])
    feats, logits = [], []
    batch = _as_batch(images)
    for start in range(0, len(batch), batch_size):
        f, lg = both(batch[start:start + batch_size], training=False)
        feats.append(np.asarray(f, np.float64))
        logits.append(np.asarray(lg, np.float64))
    return np.concatenate(feats), np.concatenate(logits)


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (rows are samples) of a feature set."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need features (N >= 2, D), got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    d² = |mu1 - mu2|² + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2}), with the matrix
    square root from ``scipy.linalg.sqrtm`` (as TF-GAN and the FID paper compute it).
    """
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1 = np.atleast_2d(sigma1).astype(np.float64)
    sigma2 = np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(
            f"shapes do not match: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs "
            f"{sigma2.shape}; both Gaussians need a (D,) mean and a (D, D) covariance."
        )
    with warnings.catch_warnings():  # ReLU features may be constant: singular covariances
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():  # nudge both diagonals, as TF-GAN does
            offset = np.eye(len(sigma1)) * 1e-6
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)
    return float(max(value, 0.0))


def class_histogram_from_logits(logits) -> np.ndarray:
    """Fraction of samples assigned to each of the 10 classes (sums to 1)."""
    predicted = np.argmax(np.asarray(logits), axis=1)
    return np.bincount(predicted, minlength=10) / len(predicted)


class SampleScorer:
    """Scores image sets against a reference set (by default the 10,000 MNIST test images).

    ``score(images)`` returns ``{"fid": ..., "histogram": array(10), "min_class": ...}``.
    The reference statistics are computed once.
    """

    def __init__(self, reference=None):
        if reference is None:
            reference = load_mnist("test").images
        feats, _ = features_and_logits(reference)
        self.mu, self.sigma = gaussian_stats(feats)

    def fid(self, images) -> float:
        feats, _ = features_and_logits(images)
        return frechet_distance(*gaussian_stats(feats), self.mu, self.sigma)

    def score(self, images) -> dict:
        feats, logits = features_and_logits(images)
        hist = class_histogram_from_logits(logits)
        return {"fid": frechet_distance(*gaussian_stats(feats), self.mu, self.sigma),
                "histogram": hist, "min_class": float(hist.min())}


def fid_floor(scorer: SampleScorer, n: int) -> float:
    """The distance between ``n`` random *real* training images and the reference set: a
    finite-sample reference, not a bound. Real data scored at the same n as a generator's
    samples (the distance is biased upwards at small n, so compare at equal n only)."""
    from .device import rng

    train = load_mnist("train").images
    return scorer.fid(train[rng("fid floor").choice(len(train), size=n, replace=False)])


def nearest_neighbours(queries, references, batch_size: int = 500):
    """For each query image, the index of and the L2 pixel distance to its nearest reference
    image (is a generator copying its training set?). Introduced in 03_gan, section 6."""
    a = np.asarray(queries, np.float32).reshape(len(queries), -1)
    b = np.asarray(references, np.float32).reshape(len(references), -1)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"queries have {a.shape[1]} pixels, references {b.shape[1]}")
    b_sq = (b ** 2).sum(1)
    index, dist = np.empty(len(a), np.int64), np.empty(len(a), np.float32)
    for i in range(0, len(a), batch_size):
        d2 = (a[i:i + batch_size] ** 2).sum(1)[:, None] - 2 * a[i:i + batch_size] @ b.T + b_sq
        index[i:i + batch_size] = d2.argmin(1)
        dist[i:i + batch_size] = np.sqrt(np.maximum(d2.min(1), 0))
    return index, dist
