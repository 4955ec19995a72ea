"""Notebook 02's VAE trains correctly in mixed precision, on two replicas, and resumes; its
beta is a variable that the traced training step reads (so KL annealing works).

``make(optimizer_fn) -> (model, batch)`` is the factory for ``coursekit.testing``.
"""

import keras
import numpy as np
import tensorflow as tf

from coursekit import gradients, testing, training, vae
from coursekit.models import vae as models


def _binary_images(n=8):
    return vae.binarize(np.random.default_rng(0).random((n, 28, 28, 1), dtype=np.float32),
                        seed=0)


class RowsSampling(models.Sampling):
    """eps from ``testing.global_rows``: the same on one replica with the global batch as on
    two replicas with half each (random draws would differ between the two runs)."""

    def noise(self, mean):
        shape = keras.ops.shape(mean)
        return keras.ops.cast(testing.global_rows(shape[0], mean.shape[-1]), mean.dtype)


def make(optimizer_fn):
    model = models.VAE(latent_dim=4, hidden=(32, 16))
    model.sampling = RowsSampling(name="sampling")
    images = _binary_images()
    model.compile(optimizer=optimizer_fn())
    model(images[:1])
    return model, images


def make_mixture(optimizer_fn):
    """Section 12's VAE with a mixture prior (its KL estimated with the sampled code)."""
    model = models.MixturePriorVAE(latent_dim=4, components=3, hidden=(32, 16))
    model.sampling = RowsSampling(name="sampling")
    images = _binary_images()
    model.compile(optimizer=optimizer_fn())
    model(images[:1])
    return model, images


def test_mixed_precision_step_matches_float32():
    assert testing.mixed_precision_step(make) < 0.02


def test_mixture_prior_mixed_precision_step_matches_float32():
    assert testing.mixed_precision_step(make_mixture) < 0.02


def test_mixture_prior_two_replicas_match_one():
    result = testing.two_replica_step("tests.test_models_vae:make_mixture")
    assert result["replicas"] == 2 and result["start"] < 1e-6
    assert result["update"] < 1e-4


def test_mixture_prior_is_the_standard_normal_when_it_has_one_component_at_zero():
    model = models.MixturePriorVAE(latent_dim=3, components=1, hidden=(8,))
    model.prior_means.assign(np.zeros((1, 3), np.float32))  # log-variances start at 0
    z = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    standard = models.VAE(latent_dim=3, hidden=(8,)).log_prior(z)
    np.testing.assert_allclose(model.log_prior(z), standard, rtol=1e-5)
    model.prior_means.assign(np.ones((1, 3), np.float32))
    assert not np.allclose(model.log_prior(z), standard)


def test_mixture_prior_learns_its_means_and_weights():
    model, images = make_mixture(lambda: keras.optimizers.SGD(0.1))
    before = [np.array(v) for v in (model.prior_logits, model.prior_means, model.prior_log_vars)]
    model.train_on_batch(images)
    after = [np.array(v) for v in (model.prior_logits, model.prior_means, model.prior_log_vars)]
    assert all(np.abs(a - b).max() > 0 for a, b in zip(after, before, strict=True))


def test_the_precision_check_fails_without_loss_scaling(monkeypatch):
    monkeypatch.setattr(gradients, "gradients",
                        lambda optimizer, tape, loss, variables: tape.gradient(loss, variables))
    assert testing.mixed_precision_step(make) > 0.9


def test_two_replicas_match_one():
    result = testing.two_replica_step("tests.test_models_vae:make")
    assert result["replicas"] == 2 and result["start"] < 1e-6
    assert result["update"] < 1e-4


def _state(model):
    return ([np.array(w) for w in model.weights],
            np.array(model.sampling.seed_generator.state))


def _restore(model, state):
    weights, seed_state = state
    for variable, value in zip(model.weights, weights, strict=True):
        variable.assign(value)
    model.sampling.seed_generator.state.assign(seed_state)


def test_changing_beta_between_steps_changes_the_loss_and_the_update():
    """beta is read inside the traced train_step: assigning it between two steps (what a
    KL-annealing callback does) changes the loss and the update, without retracing."""
    images = _binary_images()
    model = models.VAE(latent_dim=4, hidden=(32, 16))
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model(images[:1])
    for _ in range(5):  # away from the initialisation, where the KL is still ~0
        model.train_on_batch(images)
    start = _state(model)
    logs = model.train_on_batch(images, return_dict=True)
    traced = model.train_function
    after_beta_1 = [np.array(w) for w in model.trainable_weights]
    np.testing.assert_allclose(logs["loss"], logs["reconstruction"] + logs["kl"], rtol=1e-5)

    _restore(model, start)
    model.beta.assign(0.0)
    logs0 = model.train_on_batch(images, return_dict=True)
    assert model.train_function is traced  # the same graph, not a retrace
    assert logs0["kl"] > 0.01
    np.testing.assert_allclose(logs0["loss"], logs0["reconstruction"], rtol=1e-6)
    np.testing.assert_allclose(logs0["reconstruction"], logs["reconstruction"], rtol=1e-5)
    after_beta_0 = [np.array(w) for w in model.trainable_weights]
    assert testing.relative_difference(after_beta_0, after_beta_1) > 1e-4


def test_kl_annealing_callback_raises_beta_linearly(tmp_path):
    images = _binary_images(16)
    model = models.VAE(latent_dim=4, hidden=(32, 16), beta=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(float(model.beta.numpy())))
    history = model.fit(tf.data.Dataset.from_tensors(images), epochs=4, verbose=0,
                        callbacks=[models.KLAnnealing(2), record])
    assert seen == [0.0, 0.5, 1.0, 1.0]
    h = history.history
    np.testing.assert_allclose(h["loss"][0], h["reconstruction"][0], rtol=1e-6)
    np.testing.assert_allclose(h["loss"][1], h["reconstruction"][1] + 0.5 * h["kl"][1],
                               rtol=1e-5)


def _fresh():
    keras.utils.set_random_seed(3)
    model = models.VAE(latent_dim=4, hidden=(32, 16))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_resume_equals_training_straight(cache, capsys):
    """1 epoch, checkpoint, a fresh model restores it (weights, optimizer, beta and the
    sampling noise's state) and trains the 2nd: the same weights as 2 epochs straight."""
    data = tf.data.Dataset.from_tensor_slices(_binary_images(32)).batch(16)
    straight = _fresh()
    training.ensure_built(straight, data)  # as fit_resumable does (a call: one noise draw)
    training.fit_resumable(straight, data, epochs=2, name=None)
    training.fit_resumable(_fresh(), data, epochs=1, name="vae")
    resumed = _fresh()
    training.fit_resumable(resumed, data, epochs=2, name="vae")
    assert "resuming checkpoint" in capsys.readouterr().out
    for a, b in zip(straight.weights, resumed.weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
