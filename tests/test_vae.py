"""Notebook 02's VAE: the exported model code (coursekit.models.vae: closed forms, the model,
its terms, the IWAE bound) and the package's data (coursekit.vae: binarisation)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from coursekit import vae, zoo
from coursekit.models import vae as models


def test_gaussian_kl_hand_computed_and_lecture_penalty_is_twice_it():
    mean = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]], np.float32)
    log_var = np.array([[0.0, 0.0], [0.0, 0.0], [math.log(2.0), 0.0]], np.float32)
    kl = np.asarray(models.gaussian_kl(mean, log_var))
    # N(0,1): 0; mean 1: 0.5 * 1; variance 2: 0.5 * (2 - 1 - log 2)
    np.testing.assert_allclose(kl, [0.0, 0.5, 0.5 * (1.0 - math.log(2.0))], atol=1e-6)
    np.testing.assert_allclose(np.asarray(models.lecture_penalty(mean, log_var)), 2 * kl,
                               atol=1e-6)


def test_lecture_penalty_is_not_twice_the_kl_for_a_log_standard_deviation():
    mean = np.zeros((1, 1), np.float32)
    s = np.full((1, 1), 0.5, np.float32)  # log std: variance exp(1)
    kl = float(models.gaussian_kl(mean, 2 * s)[0])
    penalty = float(models.lecture_penalty(mean, s)[0])
    assert 2 * kl - penalty == pytest.approx(math.exp(1.0) - math.exp(0.5) - 0.5, abs=1e-5)


def test_gaussian_log_density_matches_scipy():
    from scipy.stats import norm

    x, m, lv = np.float32(0.3), np.float32(-0.2), np.float32(0.7)
    got = float(models.gaussian_log_density(np.array([[x]]), np.array([[m]]),
                                            np.array([[lv]]))[0])
    assert got == pytest.approx(norm.logpdf(x, m, math.exp(lv / 2)), abs=1e-5)


def test_bernoulli_log_likelihood_of_even_odds_is_784_log_half():
    images = np.zeros((2, 28, 28, 1), np.float32)
    images[1, :14] = 1.0
    logits = np.zeros_like(images)
    got = np.asarray(models.bernoulli_log_likelihood(images, logits))
    np.testing.assert_allclose(got, [784 * math.log(0.5)] * 2, rtol=1e-6)
    confident = np.where(images > 0, 20.0, -20.0).astype(np.float32)
    assert np.all(np.asarray(models.bernoulli_log_likelihood(images, confident)) > -1e-3 * 784)


def test_binarize_is_bernoulli_and_seeded():
    images = np.full((200, 28, 28, 1), 0.3, np.float32)
    a, b = vae.binarize(images, seed=1), vae.binarize(images, seed=1)
    assert set(np.unique(a)) == {0.0, 1.0}
    assert np.array_equal(a, b)
    assert not np.array_equal(a, vae.binarize(images, seed=2))
    assert a.mean() == pytest.approx(0.3, abs=0.005)  # 156,800 draws: std 0.0012


def test_binarize_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(N, 28, 28, 1\)"):
        vae.binarize(np.zeros((3, 28, 28)))
    with pytest.raises(ValueError, match="divide uint8 pixels by 255"):
        vae.binarize(np.full((1, 28, 28, 1), 255.0))


def test_train_pipeline_resamples_every_epoch_and_follows_the_run_seed(monkeypatch):
    from coursekit import device

    images = np.full((50, 28, 28, 1), 0.5, np.float32)

    def epochs(seed, stream="vae data"):
        monkeypatch.setattr(device, "_current_seed", seed)
        ds = vae.train_pipeline(images, batch=25, stream=stream)
        return [np.concatenate([b.numpy() for b in ds]) for _ in range(2)]

    first, second = epochs(1)
    assert first.shape == (50, 28, 28, 1)
    assert 0.1 < np.mean(first != second)  # a new draw, not the first epoch replayed
    assert np.array_equal(first, epochs(1)[0])  # the same run seed: the same draws
    assert not np.array_equal(first, epochs(2)[0])  # another run seed: other draws
    assert not np.array_equal(first, epochs(1, "another stream")[0])


def test_sampling_passes_gradients():
    layer = models.Sampling()
    mean = tf.Variable(tf.zeros((4, 3)))
    log_var = tf.Variable(tf.zeros((4, 3)))
    with tf.GradientTape() as tape:
        z = layer([mean, log_var])
        loss = tf.reduce_sum(z)
    grad_mean, grad_log_var = tape.gradient(loss, [mean, log_var])
    np.testing.assert_allclose(grad_mean.numpy(), np.ones((4, 3)))  # dz/dmean = 1
    np.testing.assert_allclose(grad_log_var.numpy(), 0.5 * (z - mean).numpy(), atol=1e-6)


def test_vae_trains_and_reports_each_loss_term():
    keras.utils.set_random_seed(0)
    images = vae.binarize(np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32))
    model = models.VAE(latent_dim=4)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(images, epochs=3, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "reconstruction", "kl"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_allclose(
        history.history["loss"][0],
        history.history["reconstruction"][0] + history.history["kl"][0], rtol=1e-4)
    assert model(images[:2]).shape == (2, 28, 28, 1)
    assert model.decode(np.zeros((3, 4))).shape == (3, 28, 28, 1)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        model.decode(np.zeros((3, 2)))

    bound = models.elbo(model, images)
    nll = models.iwae_nll(model, images, k=20)
    assert nll.shape == (64,)
    # the IWAE bound with 20 samples is tighter than the one-sample ELBO
    assert nll.mean() < -bound["elbo"]
    assert models.iwae_log_weights(model, images[:5], 7).shape == (5, 7)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="beta"):
        models.VAE(beta=-1.0)
    with pytest.raises(ValueError, match="k"):
        models.iwae_nll(models.VAE(latent_dim=2), np.zeros((1, 28, 28, 1), np.float32), k=0)
    with pytest.raises(ValueError, match="positive integer"):
        zoo.vae_samples(0)


def test_budget_has_every_profile():
    for profile in ("smoke", "cpu", "gpu"):
        sizes = vae.BUDGET.get(profile)
        assert sizes.iwae_images <= sizes.test_size
        assert sizes.beta_train_size <= sizes.train_size


def test_iwae_is_exact_when_q_is_the_prior_and_the_decoder_ignores_z():
    model = models.VAE(latent_dim=3)
    images = vae.binarize(np.full((4, 28, 28, 1), 0.4, np.float32), seed=0)
    model(images)  # build
    for head in ("mean", "log_var"):  # q(z|x) = N(0, I) = p(z)
        layer = model.encoder.get_layer(head)
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    logits = model.decoder.get_layer("logits")
    bias = np.random.default_rng(0).normal(size=784).astype(np.float32)
    logits.set_weights([np.zeros_like(logits.get_weights()[0]), bias])  # p(x|z) = p(x)
    flat = images.reshape(4, -1)
    exact = np.sum(flat * bias - np.logaddexp(0.0, bias), axis=1)  # log p(x), by hand
    np.testing.assert_allclose(models.iwae_nll(model, images, k=5), -exact, rtol=1e-5)
    np.testing.assert_allclose(models.elbo(model, images)["elbo_per_image"], exact, rtol=1e-5)


def test_the_notebook_and_the_export_share_the_vae_checkpoint():
    """Notebook 02 trains its VAE with the classes of its own cells; coursekit.zoo (notebook
    03) uses the exported copies: the checkpoint fingerprints must agree, or zoo would train
    (and overwrite) the notebook's checkpoint."""
    from coursekit import export, training
    from tests.test_autoencoder import _as_notebook_cells

    cells = _as_notebook_cells(export.NOTEBOOKS / "02_vae.ipynb")
    images = np.zeros((2, 28, 28, 1), np.float32)
    prints = []
    for namespace in (cells, vars(models)):
        model = namespace["VAE"](latent_dim=3)
        model(images)
        assert type(model).__module__ == namespace["__name__"]
        code = (namespace["make_encoder"], namespace["make_decoder"])
        prints.append(training.fingerprint(model, {"n": 1}, code=code))
    assert prints[0] == prints[1]
