"""Notebook 07's WGAN-GP and conditional WGAN-GP (exported to
coursekit.models.wgan_conditional) and its measuring helpers: the gradient penalty's value,
ε ~ U[0, 1] per example, n_critic updates on their own slices, labels reaching both
networks, mixed precision and two replicas for both models."""

import math

import numpy as np
import pytest
from keras import ops

from coursekit import adversarial
from coursekit.models import wgan_conditional as models
from coursekit.tools import testing
from coursekit.topics import wgan_conditional as topic


def test_gradient_penalty_on_critics_whose_gradient_is_known():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    w = rng.normal(size=(28, 28, 1)).astype(np.float32)
    w *= 2.5 / np.linalg.norm(w)
    real = rng.uniform(size=(5, 28, 28, 1)).astype(np.float32)
    fake = rng.uniform(size=(5, 28, 28, 1)).astype(np.float32)
    eps = np.array([0.0, 0.2, 0.5, 0.7, 1.0], np.float32)

    def linear(x):
        return tf.reduce_sum(x * w, axis=(1, 2, 3))

    assert float(models.gradient_penalty(linear, real, fake, eps)) == pytest.approx(
        10 * 1.5 ** 2, rel=1e-5)
    assert float(models.gradient_penalty(linear, real, fake, eps, weight=1.0)) == pytest.approx(
        1.5 ** 2, rel=1e-5)

    # D(x) = ½‖x‖²: ∇D(x̂) = x̂ = (ε a + (1 − ε) b) u for x = a u, x̃ = b u, ‖u‖ = 1
    unit = w / np.linalg.norm(w)
    a, b = rng.uniform(0.2, 3, 5), rng.uniform(0.2, 3, 5)
    x = (a[:, None, None, None] * unit).astype(np.float32)
    x_tilde = (b[:, None, None, None] * unit).astype(np.float32)
    expected = 10 * np.mean((np.abs(eps * a + (1 - eps) * b) - 1) ** 2)

    def quadratic(v):
        return 0.5 * tf.reduce_sum(v * v, axis=(1, 2, 3))

    assert float(models.gradient_penalty(quadratic, x, x_tilde, eps)) == pytest.approx(
        expected, rel=1e-4)
    # the same ε for every example would give another value: each example has its own
    swapped = float(models.gradient_penalty(quadratic, x, x_tilde, eps[::-1].copy()))
    assert swapped != pytest.approx(expected, rel=1e-3)


def test_a_one_lipschitz_critic_with_unit_gradient_has_no_penalty():
    import tensorflow as tf

    images = np.random.default_rng(1).uniform(size=(4, 28, 28, 1)).astype(np.float32)
    direction = np.zeros((28, 28, 1), np.float32)
    direction[3, 4, 0] = 1.0
    penalty = models.gradient_penalty(lambda x: tf.reduce_sum(x * direction, axis=(1, 2, 3)),
                                 images, images[::-1].copy(), np.full(4, 0.3, np.float32))
    assert float(penalty) == pytest.approx(0.0, abs=1e-5)


def _tiny(conditional=False, k=5, **compile_kwargs):
    n_classes = models.N_CLASSES if conditional else None
    cls = models.ConditionalWGANGP if conditional else models.WGANGP
    model = cls(models.wgan_generator(width=2, n_classes=n_classes),
                models.wgan_critic(2, n_classes), k=k)
    model.compile(d_optimizer=models.paper_adam(), g_optimizer=models.paper_adam(),
                  **compile_kwargs)
    return model.build_all()


def test_epsilon_is_uniform_on_0_1_and_drawn_per_example():
    model = _tiny()
    draws = ops.convert_to_numpy(model.sample_epsilon(200_000, np.array([3, 0], np.int32)))
    assert draws.shape == (200_000,) and draws.min() >= 0.0 and draws.max() <= 1.0
    ordered = np.sort(draws)
    ks = np.max(np.abs(ordered - (np.arange(1, len(ordered) + 1) - 0.5) / len(ordered)))
    assert ks < 0.005  # a true U[0, 1] exceeds 0.0044 with probability 0.1% at this n
    assert abs(draws.std() - 1 / math.sqrt(12)) < 0.003
    assert not np.array_equal(  # stateless: another seed, other draws
        draws[:10], ops.convert_to_numpy(model.sample_epsilon(10, np.array([4, 0], np.int32))))


def test_the_paper_settings_are_the_defaults():
    model = models.build_wgan_gp(width=2)
    assert model.k == 5 and model.gp_weight == 10.0
    config = model.d_optimizer.get_config()
    assert config["learning_rate"] == pytest.approx(1e-4)
    assert (config["beta_1"], config["beta_2"]) == (0.0, pytest.approx(0.9))
    layers = [type(layer).__name__ for layer in model.discriminator.layers]
    assert not any("Normalization" in name for name in layers)
    assert model.discriminator.layers[-1].get_config().get("activation", "linear") == "linear"


class _Recording(models.WGANGP):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []

    def sample_epsilon(self, m, seed):
        epsilon = super().sample_epsilon(m, seed)
        self.seen[-1]["epsilon"] = ops.convert_to_numpy(epsilon)
        return epsilon

    def discriminator_loss(self, real, fake, latent, labels):
        self.seen.append({"real": ops.convert_to_numpy(real).ravel(),
                          "latent": ops.convert_to_numpy(latent)})
        return super().discriminator_loss(real, fake, latent, labels)


def test_each_critic_update_sees_its_own_real_slice_fresh_noise_and_epsilon():
    import keras

    generator = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    critic = keras.Sequential([keras.Input((1,)), keras.layers.Dense(4, activation="tanh"),
                               keras.layers.Dense(1)])
    model = _Recording(generator, critic, latent_dim=1, k=5)
    model.compile(d_optimizer=models.paper_adam(), g_optimizer=models.paper_adam(),
                  run_eagerly=True)
    model.build_all()
    data = np.arange(1000, dtype=np.float32)[:, None]  # every example distinct
    adversarial.fit_adversarial(model, data, epochs=1, steps_per_epoch=3, m=8, name=None)
    assert int(model.d_optimizer.iterations) == 15 and int(model.g_optimizer.iterations) == 3
    assert len(model.seen) == 15
    for step in range(3):
        rows = np.concatenate([s["real"] for s in model.seen[5 * step:5 * step + 5]])
        assert len(np.unique(rows)) == 40  # 5 disjoint slices of one iteration's 5·m
    for key in ("latent", "epsilon"):
        values = [s[key] for s in model.seen]
        assert all(not np.array_equal(a, b) for i, a in enumerate(values) for b in values[:i])
    assert all(len(np.unique(s["epsilon"])) == 8 for s in model.seen)  # one per example


def test_conditional_labels_reach_both_networks():
    model = _tiny(conditional=True, k=2, run_eagerly=True)
    seen = []
    original_d, original_g = model.discriminator_loss, model.generator_loss

    def d_loss(real, fake, latent, labels):
        seen.append(("d", ops.convert_to_numpy(labels)))
        return original_d(real, fake, latent, labels)

    def g_loss(fake, latent, labels):
        seen.append(("g", ops.convert_to_numpy(labels)))
        return original_g(fake, latent, labels)

    model.discriminator_loss, model.generator_loss = d_loss, g_loss
    images = np.random.default_rng(0).uniform(size=(40, 28, 28, 1)).astype(np.float32)
    labels = (np.arange(40) % 10).astype(np.int32)
    adversarial.fit_adversarial(model, images, labels=labels, epochs=1, steps_per_epoch=2, m=4,
                                name=None)
    assert [kind for kind, _ in seen] == ["d", "d", "g", "d", "d", "g"]
    assert all(len(lab) == 4 and set(lab) <= set(range(10)) for _, lab in seen)
    # the generator's and the critic's outputs both depend on y
    z = np.repeat(model.fixed_latent(1), 10, axis=0)
    digits = np.arange(10, dtype=np.int32)
    drawn = model.generate(latent=z, labels=digits)
    assert np.abs(drawn[1:] - drawn[:1]).max() > 0  # exactly 0 if y were ignored
    scores = ops.convert_to_numpy(model.scores(np.repeat(images[:1], 10, axis=0), digits))
    assert np.ptp(scores) > 0


def test_the_1d_distances_of_the_disjoint_supports_demonstration():
    p = np.array([0.5, 0.5, 0, 0])
    assert topic.jensen_shannon(p, np.array([0, 0, 0.5, 0.5])) == pytest.approx(math.log(2))
    assert topic.jensen_shannon(p, p) == pytest.approx(0.0, abs=1e-12)
    q = np.linspace(0, 1, 101)
    assert topic.wasserstein_1d(q, q + 2.5) == pytest.approx(2.5)
    assert topic.wasserstein_1d(q[::-1], q + 2.5) == pytest.approx(2.5)  # order irrelevant
    with pytest.raises(ValueError, match="equal size"):
        topic.wasserstein_1d(q, q[:10])
    assert topic.spearman([1, 2, 3, 4], [10, 20, 15, 40]) == pytest.approx(0.8)


def _deterministic(conditional):
    import tensorflow as tf

    base = models.ConditionalWGANGP if conditional else models.WGANGP

    class Deterministic(base):
        def sample_latent(self, m, seed):
            return testing.global_rows(m, self.latent_dim)

        def sample_epsilon(self, m, seed):
            return tf.math.floormod(0.37 * tf.cast(testing.global_index(m), "float32"), 1.0)

        def sample_labels(self, m, seed):
            return None if not conditional else testing.global_index(m) % 10

    return Deterministic


def _factory(optimizer, conditional):
    n_classes = models.N_CLASSES if conditional else None
    cls = _deterministic(conditional)
    model = cls(models.wgan_generator(width=2, n_classes=n_classes),
                models.wgan_critic(2, n_classes), k=1)
    model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    model.build_all()
    images = np.random.default_rng(0).uniform(size=(8, 28, 28, 1)).astype(np.float32)
    if conditional:
        return model, (images, (np.arange(8) % 10).astype(np.int32))
    return model, images


def make_wgan_gp(optimizer):
    """A small WGAN-GP whose noise, ε and labels do not depend on the replica count."""
    return _factory(optimizer, conditional=False)


def make_conditional(optimizer):
    """The same for the conditional WGAN-GP (labels from the batch and from the index)."""
    return _factory(optimizer, conditional=True)


@pytest.mark.parametrize("make", [make_wgan_gp, make_conditional])
def test_mixed_precision_step_moves_weights_as_far_as_float32(make):
    low, high = testing.mixed_precision_update_ratios(make)
    assert 0.75 < low and high < 1.33


# checked on two replicas by tests/test_two_replicas.py
REPLICA_TARGETS = ["tests.test_wgan_conditional:make_wgan_gp",
                   "tests.test_wgan_conditional:make_conditional"]
