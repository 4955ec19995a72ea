"""Measuring generated MNIST digits: a cached classifier, a Fréchet distance, class coverage.

Introduced in 03_gan, section 5 ("How do you know you are improving?"). A small CNN
classifier is trained once (at least 99% test accuracy) and cached under
``cache_dir()/models``; its penultimate layer gives the features for a Fréchet distance
between sets of images (FID on MNIST-classifier features, as TF-GAN does for MNIST),
and its predictions give the class histogram of generated samples (mode coverage).
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import keras
import numpy as np

from .data import cache_dir, load_mnist
from .training import EveryEpochs

CLASSIFIER_NAME = "mnist_classifier_v1.keras"
FEATURE_LAYER = "features"
MIN_ACCURACY = 0.99


def classifier_path() -> Path:
    """Where the cached classifier lives: ``cache_dir()/models/mnist_classifier_v1.keras``."""
    return cache_dir() / "models" / CLASSIFIER_NAME


def build_classifier(seed: int = 0) -> keras.Model:
    """A small CNN: two conv blocks, a 128-unit feature layer, 10 logits (float32)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(32, 3, activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(64, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.25)(x)
    x = keras.layers.Dense(128, activation="relu", name=FEATURE_LAYER, dtype="float32")(x)
    x = keras.layers.Dropout(0.25)(x)
    logits = keras.layers.Dense(10, name="logits", dtype="float32")(x)
    return keras.Model(inputs, logits, name="mnist_classifier")


def train_classifier(max_epochs: int = 6, batch_size: int = 64, seed: int = 0):
    """Train the classifier until its test accuracy reaches 99% (at most ``max_epochs``).

    Returns ``(model, test_accuracy)``; raises if 99% is not reached.
    """
    train, test = load_mnist("train"), load_mnist("test")
    model = build_classifier(seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    accuracy = 0.0
    for epoch in range(max_epochs):
        model.fit(train.images, train.labels, batch_size=batch_size, epochs=1, verbose=0,
                  shuffle=True)
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
    leaves a half-written model behind.
    """
    path = classifier_path()
    key = str(path)
    if not retrain and key in _LOADED:
        return _LOADED[key]
    if retrain or not path.exists():
        print(f"training the MNIST classifier (cached at {path})", flush=True)
        model, _ = train_classifier()
        path.parent.mkdir(parents=True, exist_ok=True)
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
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1):
        raise ValueError(
            f"expected MNIST-shaped images (N, 28, 28) or (N, 28, 28, 1), got {images.shape}; "
            "reshape generator outputs to 28x28 first."
        )
    if len(images) == 0:
        raise ValueError("got no images; pass at least two images to measure.")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    images = images.astype(np.float32)
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


def fid_floor(scorer: SampleScorer, n: int = 10_000, seed: int = 0) -> float:
    """The distance between ``n`` random training images and the test set: the best a
    generator can hope for with ``n`` samples (the 'floor')."""
    train = load_mnist("train").images
    rng = np.random.default_rng(seed)
    return scorer.fid(train[rng.choice(len(train), size=n, replace=False)])


class QualityTracker(EveryEpochs):
    """Every ``every`` epochs, score ``sample_fn(n)`` (images in [0, 1]) with a SampleScorer.

    Keeps ``epochs``, ``fids`` and ``histograms`` lists, for curves of sample quality and
    mode coverage over training. Introduced in 03_gan, section 5.
    """

    saved = ("epochs", "fids", "histograms")

    def __init__(self, sample_fn, scorer: SampleScorer, n: int = 2000, every: int = 1):
        super().__init__(every)
        self.sample_fn, self.scorer, self.n = sample_fn, scorer, n
        self.fids: list[float] = []
        self.histograms: list[np.ndarray] = []

    def record(self, epoch: int) -> None:
        result = self.scorer.score(self.sample_fn(self.n))
        self.epochs.append(epoch)
        self.fids.append(result["fid"])
        self.histograms.append(result["histogram"])


def clear_cached_classifier() -> None:
    """Delete the cached classifier file (the next ``load_classifier`` retrains it)."""
    _LOADED.clear()
    shutil.rmtree(classifier_path(), ignore_errors=True)
    if classifier_path().exists():
        classifier_path().unlink()
