"""Notebook 01_autoencoders: its exported model code (``coursekit.models.autoencoders``), the
helpers of ``coursekit.topics.autoencoders`` (baselines), and the models in mixed precision,
on two replicas and resumed. Factories ``make_*(optimizer_fn) -> (model, batch)`` for
``coursekit.tools.testing``: small instances of every model of the notebook (dense,
convolutional, denoising autoencoder), built and compiled, with one global batch."""

import linecache

import keras
import numpy as np
import pytest

from coursekit import checkpoints, gradients, training
from coursekit.models import autoencoders as models
from coursekit.tools import export, testing
from coursekit.topics import autoencoders as topic


def test_summed_squared_error_by_hand():
    target = np.zeros((2, 28, 28, 1), np.float32)
    reconstruction = np.zeros_like(target)
    reconstruction[0, 0, 0, 0] = 0.5  # 0.25
    reconstruction[1, :2, 0, 0] = 1.0  # 2.0
    np.testing.assert_allclose(models.summed_squared_error(target, reconstruction), [0.25, 2.0])


@pytest.mark.parametrize("build", [
    lambda: models.dense_autoencoder(7),
    lambda: models.dense_autoencoder(7, models.AE_2D_HIDDEN),
    lambda: models.conv_autoencoder(7),
])
def test_models_map_images_to_codes_and_back(build):
    model = build()
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    codes = model.encode(images)
    assert codes.shape == (3, 7)
    decoded = model.decode(codes)
    assert decoded.shape == (3, 28, 28, 1) and 0 <= decoded.min() and decoded.max() <= 1
    np.testing.assert_allclose(model.predict(images, verbose=0), decoded, atol=1e-5)


def test_bad_shapes_are_named():
    model = models.dense_autoencoder(2, models.AE_2D_HIDDEN)
    with pytest.raises(ValueError, match=r"\(N, 28, 28, 1\)"):
        models.train_autoencoder(model, np.zeros((4, 784), np.float32), epochs=1,
                                 batch_size=2, name=None)


def test_denoising_corruption_stays_in_pixel_range():
    model = models.conv_autoencoder(2, noise_std=0.5)
    images = np.full((4, 28, 28, 1), 0.5, np.float32)
    noisy = np.asarray(model.corrupt(images))
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert 0.3 < noisy.std() < 0.5  # noise of std 0.5, clipped


def test_training_reduces_the_loss(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA_DIR", str(tmp_path))
    images = np.zeros((256, 28, 28, 1), np.float32)
    images[:128, 10:18, 10:18] = 1.0
    model = models.dense_autoencoder(2, models.AE_2D_HIDDEN)
    history = models.train_autoencoder(model, images, epochs=3, batch_size=32, name=None,
                                       learning_rate=3e-3)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert topic.reconstruction_error(model, images) < history["loss"][0]


def _as_notebook_cells(notebook):
    """Run a notebook's #@save cells as Jupyter would: in ``__main__``, each cell's source
    registered in linecache (so ``inspect.getsource`` finds it), not from a module file."""
    namespace = {"__name__": "__main__"}
    for index, source in enumerate(export.saved_cells(notebook)):
        filename = f"<notebook {notebook.name} cell {index}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
    return namespace


def test_the_notebook_and_the_export_share_the_2d_checkpoint():
    """Notebook 01 trains its 2-D autoencoder with the classes of its own cells; zoo uses the
    exported copies: both must give the same checkpoint fingerprint, or they would retrain
    (and overwrite) each other's checkpoint."""
    cells = _as_notebook_cells(export.NOTEBOOKS / "01_autoencoders.ipynb")
    images = np.zeros((2, 28, 28, 1), np.float32)
    prints = []
    for namespace in (cells, vars(models)):
        model = namespace["dense_autoencoder"](2, namespace["AE_2D_HIDDEN"])
        model(images)
        assert type(model).__module__ == namespace["__name__"]
        prints.append(checkpoints.fingerprint(model, {"n": 1}))
    assert prints[0] == prints[1]
    other = models.dense_autoencoder(2, (64, 32))
    other(images)
    assert checkpoints.fingerprint(other, {"n": 1}) != prints[1]


def test_pca_reconstruction_is_exact_for_low_rank_data():
    rng = np.random.default_rng(0)
    basis = rng.random((3, 784))
    train = (rng.random((50, 3)) @ basis).reshape(50, 28, 28, 1)
    test = (rng.random((5, 3)) @ basis).reshape(5, 28, 28, 1)
    reconstructed, pca = topic.pca_reconstruction(train, test, 3)
    assert reconstructed.shape == test.shape and pca.n_components_ == 3
    np.testing.assert_allclose(reconstructed, test, atol=1e-4)


def test_labelled_subset_is_balanced_and_seeded():
    labels = np.repeat(np.arange(10), 30)
    first = topic.labelled_subset(labels, 100, seed=1)
    assert np.bincount(labels[first]).tolist() == [10] * 10
    assert first.tolist() == topic.labelled_subset(labels, 100, seed=1).tolist()
    with pytest.raises(ValueError, match="multiple"):
        topic.labelled_subset(labels, 95, seed=1)


def test_few_label_accuracy_separates_separable_classes():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 50)
    features = np.eye(10)[labels] * 5 + rng.normal(0, 0.1, (500, 10))
    mean, std = topic.few_label_accuracy(features, labels, features, labels, n_labelled=20,
                                      repeats=3)
    assert mean > 0.99 and std < 0.01
    noise = rng.normal(size=(500, 10))
    chance, _ = topic.few_label_accuracy(noise, labels, noise[::-1], labels, n_labelled=20,
                                      repeats=3)
    assert chance < 0.3


def _images(n=8):
    return np.random.default_rng(0).random((n, 28, 28, 1)).astype("float32")


class RowsNoiseAutoencoder(models.Autoencoder):
    """The denoising autoencoder with deterministic "noise" that is the same on one replica
    with the global batch and on two replicas with half each (``testing.global_rows``)."""

    def corrupt(self, images):
        shape = keras.ops.shape(images)
        noise = keras.ops.reshape(testing.global_rows(shape[0], 784), shape)
        return keras.ops.clip(images + self.noise_std * keras.ops.cast(noise, images.dtype),
                              0.0, 1.0)


def _compiled(model, optimizer_fn):
    """Compile with ``optimizer_fn()`` (``testing.sgd``: under mixed_float16 already a
    loss-scale optimizer starting at 2^8, not Keras's 2^15: the summed squared error of 784
    pixels scaled by 2^15 overflows float16 in the first backward pass, and dynamic loss
    scaling skips that step, so a one-step check would see no step at all). Dim inputs
    (0.2 × uniform) keep the conv layers' float16 forward pass within the check's tolerance
    (uniform [0, 1] noise gives 0.034)."""
    images = 0.2 * _images()
    model.compile(optimizer=optimizer_fn())
    model(images[:1])
    return model, images


def make_dense(optimizer_fn):
    return _compiled(models.dense_autoencoder(3, hidden=(32, 16)), optimizer_fn)


def make_conv(optimizer_fn):
    return _compiled(models.conv_autoencoder(3), optimizer_fn)


def make_denoising(optimizer_fn):
    model = RowsNoiseAutoencoder(models.conv_encoder(3), models.conv_decoder(3), noise_std=0.5)
    return _compiled(model, optimizer_fn)


FACTORIES = {"dense": make_dense, "conv": make_conv, "denoising": make_denoising}


@pytest.mark.parametrize("name", FACTORIES)
def test_mixed_precision_step_matches_float32(name):
    assert testing.mixed_precision_step(FACTORIES[name]) < 0.02


def test_the_precision_check_fails_without_loss_scaling(monkeypatch):
    """Remove the loss scale from apply_loss: the float16 step is ~2^15 times too small, and
    the check reports a relative difference of about 1."""

    def unscaled(optimizer, tape, loss, variables):
        return tape.gradient(loss, variables)

    monkeypatch.setattr(gradients, "gradients", unscaled)
    assert testing.mixed_precision_step(make_dense) > 0.9


# checked on two replicas by tests/test_two_replicas.py
REPLICA_TARGETS = [f"tests.test_autoencoders:make_{name}" for name in FACTORIES]


def _fresh(build):
    keras.utils.set_random_seed(3)
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


@pytest.mark.parametrize("build", [
    lambda: models.dense_autoencoder(3, hidden=(32, 16)),
    lambda: models.conv_autoencoder(3, noise_std=0.5),
], ids=["dense", "denoising"])
def test_resume_equals_training_straight(cache, capsys, build):
    """1 epoch, checkpoint, a fresh model restores it and trains the 2nd epoch: the same
    weights as 2 epochs straight (the denoiser's noise stream is restored too)."""
    import tensorflow as tf

    images = tf.data.Dataset.from_tensor_slices(_images(32)).batch(16)  # the same order each epoch
    fit = {}
    straight = _fresh(build)
    training.ensure_built(straight, images)  # as fit_resumable does before restoring
    training.fit_resumable(straight, images, epochs=2, name=None, **fit)
    training.fit_resumable(_fresh(build), images, epochs=1, name="ae", **fit)
    resumed = _fresh(build)
    training.fit_resumable(resumed, images, epochs=2, name="ae", **fit)
    assert "resuming checkpoint" in capsys.readouterr().out
    for a, b in zip(straight.weights, resumed.weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
