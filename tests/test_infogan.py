"""Notebook 04's InfoGAN (exported to coursekit.models.infogan) and its measuring helpers."""

import math

import numpy as np
import pytest

from coursekit.models import infogan as models
from coursekit.tools import testing
from coursekit.topics import infogan as topic


def _seed(value=3):
    return np.array([value, 0], np.int32)


def test_the_latent_specification_derives_sampling_q_and_losses():
    spec = models.paper_latent()
    assert (spec.size, spec.q_size) == (74, 14)
    latent = np.asarray(spec.sample(500, _seed()))
    cat, c2, c3, noise = (np.asarray(p) for p in spec.split(latent))
    assert np.allclose(cat.sum(1), 1) and set(np.unique(cat)) == {0.0, 1.0}
    assert len(np.unique(cat.argmax(1))) == 10
    assert -1 <= c2.min() and c2.max() <= 1 and noise.shape == (500, 62)
    np.testing.assert_array_equal(latent, np.asarray(spec.sample(500, _seed())))  # stateless
    assert not np.array_equal(latent, np.asarray(spec.sample(500, _seed(4))))
    # Q that knows the code: the categorical bound reaches H(c) = ln 10; a Gaussian at the
    # right mean with std s has −log Q = ½ log 2π + log s
    q = np.concatenate([cat * 60.0, c2, np.full_like(c2, -1.0), c3, np.full_like(c3, -1.0)], 1)
    (w_cat, loss_cat, mi_cat), (w2, loss2, mi2), _ = spec.information(latent, q.astype("f4"))
    assert (w_cat, w2) == (1.0, 0.1)
    assert float(mi_cat) == pytest.approx(math.log(10), abs=1e-5)
    assert float(loss2) == pytest.approx(0.5 * math.log(2 * math.pi) - 1.0, abs=1e-5)
    assert float(mi2) == pytest.approx(math.log(2) - float(loss2), abs=1e-6)
    # the official code's version (the notebook's model): std 1, so −log Q is a squared
    # error plus ½ log 2π, and every code weighs λ = 1
    fixed = models.official_latent()
    assert fixed.q_size == 12
    q = np.concatenate([cat * 60.0, c2 + 0.5, c3], 1).astype("f4")
    (w_cat, _, _), (w2, loss2, _), (w3, loss3, _) = fixed.information(latent, q)
    assert (w_cat, w2, w3) == (1.0, 1.0, 1.0)
    assert float(loss2) == pytest.approx(0.5 * math.log(2 * math.pi) + 0.125, abs=1e-5)
    assert float(loss3) == pytest.approx(0.5 * math.log(2 * math.pi), abs=1e-5)
    assert models.build_infogan(width=4, dense=32).spec.q_size == 12  # the default


def test_the_bound_never_exceeds_the_entropy_for_any_q():
    spec = models.paper_latent()
    latent = spec.sample(256, _seed())
    rng = np.random.default_rng(0)
    for _ in range(5):
        (_, _, mi_cat), *_ = spec.information(latent, rng.normal(0, 3, (256, 14)).astype("f4"))
        assert float(mi_cat) <= math.log(10) + 1e-6


def test_matched_accuracy_finds_the_best_one_to_one_map():
    labels = np.array([3, 3, 7, 7, 1, 1, 1])
    assigned = np.array([0, 0, 1, 1, 2, 2, 0])  # category 0 = digit 3 (2 of 3), 1 = 7, 2 = 1
    accuracy, mapping = topic.matched_accuracy(assigned, labels)
    assert accuracy == pytest.approx(6 / 7) and tuple(mapping[:3]) == (3, 7, 1)


def test_slant_and_width_of_drawn_strokes():
    images = np.zeros((3, 28, 28))
    images[0, 4:24, 14] = 1
    for i in range(20):
        images[1, 4 + i, 20 - i // 2] = 1  # leaning right: lower rows further left
        images[2, 4 + i, 8 + i // 2] = 1
    slant = topic.slant(images)
    assert abs(slant[0]) < 1e-6 and slant[1] > 20 and slant[2] < -20
    wide = np.zeros((1, 28, 28))
    wide[0, 10:18, 4:24] = 1
    assert topic.ink_width(wide)[0] > 3 * topic.ink_width(images[:1])[0] + 1


def make_infogan(optimizer):
    """A small InfoGAN with replica-independent latents (its BN is synchronized; no dropout)."""

    import tensorflow as tf

    class Deterministic(models.InfoGAN):
        def sample_latent(self, m, seed):
            index = testing.global_index(m)
            category = tf.one_hot(index % 10, 10)
            continuous = tf.sin(0.37 * tf.cast(index, "float32")[:, None] + [[0.0, 1.0]])
            return tf.concat([category, continuous, testing.global_rows(m, 62)], 1)

    model = Deterministic(models.paper_latent(), width=4, dense=32)
    model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    model.build_all()
    images = np.random.default_rng(0).uniform(size=(32, 28, 28, 1)).astype(np.float32)
    return model, images


def test_mixed_precision_step_moves_weights_as_far_as_float32():
    # ReLUs at batch-normalised zero flip under float16 rounding, so directions differ by
    # up to ~40% in this tiny net; the size of every variable's step must still agree.
    # On CPUs with AVX512-FP16/AMX, oneDNN's float16 kernels accumulate in reduced precision
    # (GPUs accumulate float16 products in float32): the generator's first layers then moved
    # 0.61-0.65x as far as in float32 on one start, 0.88-1.12 on five starts with oneDNN off
    # (TF_ENABLE_ONEDNN_OPTS=0). The errors this check is for give 2^-8 (no loss scale) or
    # 2^8 (no unscale; see the next test): [0.5, 2] keeps a margin of 128x to either.
    low, high = testing.mixed_precision_update_ratios(make_infogan)
    assert 0.5 < low and high < 2.0, (low, high)


REPLICA_TARGETS = ["tests.test_infogan:make_infogan"]  # checked by tests/test_two_replicas.py


def test_the_information_term_trains_the_shared_body():
    import tensorflow as tf

    model = models.build_infogan(width=2, dense=8)
    latent = model.sample_latent(16, _seed())
    with tf.GradientTape() as tape:
        _, q = model.discriminate(model.generate_from(latent), training=True)
        loss, _ = model.information_terms(latent, q)
    grads = tape.gradient(loss, model.discriminator.trainable_variables)
    body = [g for g, v in zip(grads, model.discriminator.trainable_variables, strict=True)
            if "conv2d" in v.path]
    assert body and all(g is not None and float(tf.reduce_sum(tf.abs(g))) > 0 for g in body)


def test_without_loss_scaling_the_ratio_check_fails(monkeypatch):
    from coursekit import gradients

    unscaled = lambda optimizer, tape, loss, variables: tape.gradient(loss, variables)  # noqa: E731
    monkeypatch.setattr(gradients, "gradients", unscaled)
    low, high = testing.mixed_precision_update_ratios(make_infogan)
    assert high < 0.01
