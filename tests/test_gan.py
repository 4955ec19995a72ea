"""Tests for coursekit.gan: Algorithm 1's update counts, the losses, the toy helpers."""

import math

import numpy as np
import pytest

from coursekit import gan as G


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_losses_match_hand_computed_values():
    real, fake = np.array([[2.0], [0.0]]), np.array([[-1.0], [0.0]])
    # D(x) = σ(2), σ(0); D(G(z)) = σ(-1), σ(0)
    expected_d = -0.5 * (math.log(_sigmoid(2)) + math.log(0.5)) - 0.5 * (
        math.log(1 - _sigmoid(-1)) + math.log(0.5))
    assert float(G.discriminator_loss(real, fake)) == pytest.approx(expected_d, rel=1e-6)
    sat = 0.5 * (math.log(1 - _sigmoid(-1)) + math.log(0.5))
    nonsat = -0.5 * (math.log(_sigmoid(-1)) + math.log(0.5))
    assert float(G.generator_loss(fake, "saturating")) == pytest.approx(sat, rel=1e-6)
    assert float(G.generator_loss(fake, "non_saturating")) == pytest.approx(nonsat, rel=1e-6)
    # D = 1/2 everywhere: V = -log 4
    assert float(G.value_function(np.zeros(5), np.zeros(7))) == pytest.approx(-math.log(4))


def test_losses_are_stable_for_extreme_logits():
    d = float(G.discriminator_loss(np.array([200.0]), np.array([-200.0])))
    assert d == pytest.approx(0.0, abs=1e-6)
    assert float(G.generator_loss(np.array([-200.0]), "non_saturating")) == pytest.approx(200.0)
    assert float(G.generator_loss(np.array([-200.0]), "saturating")) == pytest.approx(0.0,
                                                                                    abs=1e-6)
    with pytest.raises(ValueError, match="generator_loss must be one of"):
        G.generator_loss(np.zeros(2), "wasserstein")


def _toy_gan(k):
    gan = G.GAN(G.toy_generator(hidden=4), G.toy_discriminator(hidden=4), noise_dim=1, k=k)
    gan.compile()
    return gan.build_all()


@pytest.mark.parametrize("k", [1, 3])
def test_train_step_does_k_discriminator_updates_per_generator_update(k):
    gan = _toy_gan(k)
    data = np.random.default_rng(0).standard_normal((400, 1)).astype(np.float32)
    history = G.train_gan(gan, data, epochs=1, steps_per_epoch=4, m=8, name=None)
    assert int(gan.d_optimizer.iterations) == 4 * k
    assert int(gan.g_optimizer.iterations) == 4
    assert set(history) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    assert 0.0 < history["d_real"][0] < 1.0 and history["d_loss"][0] > 0


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="k .* must be an integer >= 1"):
        G.GAN(G.toy_generator(4), G.toy_discriminator(4), noise_dim=1, k=0)
    with pytest.raises(ValueError, match="generator_loss must be one of"):
        G.GAN(G.toy_generator(4), G.toy_discriminator(4), noise_dim=1, generator_loss="x")
    with pytest.raises(ValueError, match="fewer than one step"):
        G.gan_pipeline(np.zeros((5, 1), np.float32), m=4, k=2)
    with pytest.raises(ValueError, match="architecture must be"):
        G.build_gan("transformer")
    gan = _toy_gan(1)
    with pytest.raises(ValueError, match=r"noise must have shape \(n, 1\)"):
        gan.generate(noise=np.zeros((3, 2)))
    gan3 = _toy_gan(3)
    with pytest.raises(ValueError, match="cannot be split into k=3"):
        gan3.fit(np.zeros((8, 1), np.float32), batch_size=8, epochs=1, verbose=0)


def test_optimal_discriminator_and_nearest_images():
    np.testing.assert_allclose(G.optimal_discriminator([1.0, 3.0, 0.0], [1.0, 1.0, 2.0]),
                               [0.5, 0.75, 0.0])
    assert G.normal_pdf(0.0, 0.0, 1.0) == pytest.approx(1 / math.sqrt(2 * math.pi))
    train = np.stack([np.zeros((28, 28)), np.ones((28, 28))])
    index, dist = G.nearest_training_images(np.full((3, 28, 28), 0.9), train)
    np.testing.assert_array_equal(index, [1, 1, 1])
    np.testing.assert_allclose(dist, 0.1 * 28, rtol=1e-3)


def test_networks_have_mnist_shapes():
    gan = G.build_gan("dcgan", width=4)
    images = gan.generate(3)
    assert images.shape == (3, 28, 28, 1) and 0 <= images.min() and images.max() <= 1
    assert gan.discriminator(images).shape == (3, 1)
    grads = G.generator_gradient_norms(gan, m=8)
    assert grads["saturating"] > 0 and grads["non_saturating"] > 0
    mlp_d = G.mlp_discriminator(hidden=(8,), pieces=3)
    assert mlp_d(images).shape == (3, 1)
    layer = G.Maxout(5, 3)
    assert G.Maxout.from_config(layer.get_config()).pieces == 3
