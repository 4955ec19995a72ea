"""Notebook 02_vae: its exported model code (``coursekit.models.vae``: closed forms, the model,
its terms, the IWAE bound), the helpers of ``coursekit.topics.vae`` (binarisation), and the VAE
in mixed precision, on two replicas and resumed; its beta is a variable that the traced
training step reads (so KL annealing works). ``make(optimizer_fn) -> (model, batch)`` is the
factory for ``coursekit.tools.testing``."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from coursekit import gradients, training, zoo
from coursekit.models import vae as models
from coursekit.tools import testing
from coursekit.topics import vae as topic


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
    a, b = topic.binarize(images, seed=1), topic.binarize(images, seed=1)
    assert set(np.unique(a)) == {0.0, 1.0}
    assert np.array_equal(a, b)
    assert not np.array_equal(a, topic.binarize(images, seed=2))
    assert a.mean() == pytest.approx(0.3, abs=0.005)  # 156,800 draws: std 0.0012


def test_binarize_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(N, 28, 28, 1\)"):
        topic.binarize(np.zeros((3, 28, 28)))
    with pytest.raises(ValueError, match="divide uint8 pixels by 255"):
        topic.binarize(np.full((1, 28, 28, 1), 255.0))


def test_train_pipeline_resamples_every_epoch_and_follows_the_run_seed(monkeypatch):
    from coursekit import device

    images = np.full((50, 28, 28, 1), 0.5, np.float32)

    def epochs(seed, stream="vae data"):
        monkeypatch.setattr(device, "_current_seed", seed)
        ds = topic.train_pipeline(images, batch=25, stream=stream)
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
    images = topic.binarize(np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32))
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
        sizes = topic.BUDGET.get(profile)
        assert sizes.iwae_images <= sizes.test_size
        assert sizes.beta_train_size <= sizes.train_size


def test_iwae_is_exact_when_q_is_the_prior_and_the_decoder_ignores_z():
    model = models.VAE(latent_dim=3)
    images = topic.binarize(np.full((4, 28, 28, 1), 0.4, np.float32), seed=0)
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
    from coursekit import checkpoints
    from coursekit.tools import export
    from tests.test_autoencoders import _as_notebook_cells

    cells = _as_notebook_cells(export.NOTEBOOKS / "02_vae.ipynb")
    images = np.zeros((2, 28, 28, 1), np.float32)
    prints = []
    for namespace in (cells, vars(models)):
        model = namespace["VAE"](latent_dim=3)
        model(images)
        assert type(model).__module__ == namespace["__name__"]
        prints.append(checkpoints.fingerprint(model, {"n": 1}))
    assert prints[0] == prints[1]


def _binary_images(n=8):
    return topic.binarize(np.random.default_rng(0).random((n, 28, 28, 1), dtype=np.float32),
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


# checked on two replicas by tests/test_two_replicas.py
REPLICA_TARGETS = ["tests.test_vae:make", "tests.test_vae:make_mixture"]


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
