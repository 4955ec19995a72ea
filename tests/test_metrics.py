"""Tests for coursekit.metrics: the Fréchet distance, input checks, class histograms."""

import numpy as np
import pytest
from scipy import linalg

from coursekit import metrics
from coursekit.recorders import Recorder


def test_frechet_distance_of_identical_gaussians_is_zero():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 6))
    sigma = a @ a.T + np.eye(6)
    mu = rng.standard_normal(6)
    assert metrics.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_matches_closed_forms():
    # Diagonal covariances: d² = |mu1 - mu2|² + Σ (s1 - s2)² with s the standard deviations.
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 2.0, 0.5]), np.array([3.0, 1.0, 0.5])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((s1 - s2) ** 2)  # 5 + 4 + 1 = 10
    value = metrics.frechet_distance(mu1, np.diag(s1**2), mu2, np.diag(s2**2))
    assert value == pytest.approx(10.0, rel=1e-9) and expected == pytest.approx(10.0)
    # Full covariances against the formula evaluated independently.
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    c1, c2 = a @ a.T + np.eye(4), b @ b.T + np.eye(4)
    r = linalg.sqrtm(c1)
    expected = np.trace(c1 + c2 - 2 * np.real(linalg.sqrtm(r @ c2 @ r)))
    assert metrics.frechet_distance(np.zeros(4), c1, np.zeros(4), c2) == pytest.approx(
        expected, rel=1e-6)


def test_frechet_distance_1d_and_errors():
    # 1-D: (mu1 - mu2)² + (s1 - s2)² = 4 + 1
    assert metrics.frechet_distance(0.0, 4.0, 2.0, 1.0) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="shapes do not match"):
        metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_gaussian_stats_and_histogram():
    feats = np.array([[0.0, 1.0], [2.0, 3.0]])
    mu, sigma = metrics.gaussian_stats(feats)
    np.testing.assert_allclose(mu, [1.0, 2.0])
    np.testing.assert_allclose(sigma, [[2.0, 2.0], [2.0, 2.0]])
    with pytest.raises(ValueError, match="N >= 2"):
        metrics.gaussian_stats(np.zeros((1, 3)))
    logits = np.eye(10)[[0, 0, 3, 9]]
    hist = metrics.class_histogram_from_logits(logits)
    np.testing.assert_allclose(hist, [0.5, 0, 0, 0.25, 0, 0, 0, 0, 0, 0.25])


def test_image_checks_and_uint8_conversion():
    with pytest.raises(ValueError, match="MNIST-shaped"):
        metrics.to_uint8(np.zeros((3, 32, 32)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.to_uint8(np.full((2, 28, 28, 1), -1.0))
    out = metrics.to_uint8(np.stack([np.zeros((28, 28, 1)), np.ones((28, 28, 1))]))
    assert out.dtype == np.uint8 and out.shape == (2, 28, 28)
    assert out[0].max() == 0 and out[1].min() == 255


def test_classifier_path_is_in_the_cache(isolated):
    cache, _ = isolated
    assert metrics.classifier_path() == cache / "models" / "mnist_classifier_v2.keras"
    model = metrics.build_classifier()
    assert model.get_layer(metrics.FEATURE_LAYER).units == 128
    assert model.output.shape == (None, 10)


def test_a_classifier_in_training_is_waited_for_not_trained_twice(isolated, monkeypatch):
    """Two kernels that need the classifier at once (make notebooks runs two notebooks side by
    side): the second waits for the first's training and loads the file it wrote."""
    import threading
    import time

    trained = []

    def slow_training():
        trained.append(threading.current_thread().name)
        time.sleep(1.0)  # long enough for the other caller to arrive meanwhile
        return metrics.build_classifier(seed=0), 1.0

    monkeypatch.setattr(metrics, "train_classifier", slow_training)
    monkeypatch.setattr(metrics, "_LOADED", {})
    loaded = {}

    def kernel(name):
        loaded[name] = metrics.load_classifier()
        metrics._LOADED.clear()  # each kernel has its own memory

    threads = [threading.Thread(target=kernel, args=(n,), name=n) for n in ("first", "second")]
    threads[0].start()
    time.sleep(0.2)
    threads[1].start()
    for thread in threads:
        thread.join()
    assert trained == ["first"], trained
    assert set(loaded) == {"first", "second"}
    assert metrics.classifier_path().exists()
    assert not [p for p in metrics.classifier_path().parent.iterdir() if "tmp" in p.name]


def test_scorer_and_tracker_with_an_untrained_classifier(monkeypatch):
    untrained = metrics.build_classifier(seed=0)
    monkeypatch.setattr(metrics, "load_classifier", lambda retrain=False: untrained)
    rng = np.random.default_rng(0)
    reference = rng.uniform(size=(300, 28, 28, 1)).astype(np.float32)
    scorer = metrics.SampleScorer(reference)
    assert scorer.fid(reference) == pytest.approx(0.0, abs=1e-4)
    result = scorer.score(np.zeros((50, 28, 28), np.uint8))
    assert result["fid"] > 0.0 and result["histogram"].sum() == pytest.approx(1.0)
    tracker = Recorder(lambda: scorer.score(reference[:100]), every=2)  # as 03 records it
    tracker.on_train_begin()
    tracker.on_epoch_end(0)  # not an evaluation epoch
    tracker.on_epoch_end(1)
    assert tracker.epochs == [0, 2] and len(tracker.fid) == len(tracker.histogram) == 2
