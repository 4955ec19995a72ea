"""Notebook 01's models train correctly in mixed precision, on two replicas, and resume.

Factories ``make_*(optimizer_fn) -> (model, batch)`` for ``coursekit.testing``: small
instances of every model of notebook 01 (dense, convolutional, denoising autoencoder),
built and compiled, with one global batch.
"""

import keras
import numpy as np
import pytest

from coursekit import gradients, testing, training
from coursekit.models import autoencoders as models


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


@pytest.mark.parametrize("name", FACTORIES)
def test_two_replicas_match_one(name):
    result = testing.two_replica_step(f"tests.test_models_autoencoders:make_{name}")
    assert result["replicas"] == 2 and result["start"] < 1e-6
    assert result["update"] < 1e-4


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
