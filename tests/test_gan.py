"""Notebook 03's GAN and Algorithm 1's loop (both exported to coursekit.models.gan):
losses, the loop's update counts and fresh minibatches, conditioning, errors, mixed
precision, two replicas, and resuming with both optimizers."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from coursekit import adversarial, checkpoints, gradients
from coursekit.models import gan as models
from coursekit.tools import testing
from coursekit.topics import gan as topic


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_losses_match_hand_computed_values():
    real, fake = np.array([[2.0], [0.0]]), np.array([[-1.0], [0.0]])
    expected_d = -0.5 * (math.log(_sigmoid(2)) + math.log(0.5)) - 0.5 * (
        math.log(1 - _sigmoid(-1)) + math.log(0.5))
    assert float(models.discriminator_loss(real, fake)) == pytest.approx(expected_d, rel=1e-6)
    sat = 0.5 * (math.log(1 - _sigmoid(-1)) + math.log(0.5))
    nonsat = -0.5 * (math.log(_sigmoid(-1)) + math.log(0.5))
    assert float(models.generator_loss(fake, "saturating")) == pytest.approx(sat, rel=1e-6)
    assert float(models.generator_loss(fake, "non_saturating")) == pytest.approx(nonsat, rel=1e-6)
    assert float(models.value_function(np.zeros(5), np.zeros(7))) == pytest.approx(-math.log(4))


def test_losses_are_stable_for_extreme_logits():
    assert float(models.discriminator_loss(np.array([200.0]), np.array([-200.0]))) == pytest.approx(
        0.0, abs=1e-6)
    assert float(models.generator_loss(np.array([-200.0]), "non_saturating")) == pytest.approx(
        200.0)
    assert float(models.generator_loss(np.array([-200.0]), "saturating")) == pytest.approx(
        0.0, abs=1e-6)
    with pytest.raises(ValueError, match="generator loss must be one of"):
        models.generator_loss(np.zeros(2), "wasserstein")


def _toy_gan(k, cls=models.GAN, **compile_kwargs):
    model = cls(models.toy_generator(hidden=4), models.toy_discriminator(hidden=4), noise_dim=1,
                k=k)
    model.compile(d_optimizer=models.paper_sgd(), g_optimizer=models.paper_sgd(), **compile_kwargs)
    return model.build_all()


@pytest.mark.parametrize("k", [1, 3])
def test_train_step_does_k_discriminator_updates_per_generator_update(k):
    model = _toy_gan(k)
    data = np.random.default_rng(0).standard_normal((400, 1)).astype(np.float32)
    history = adversarial.fit_adversarial(model, data, epochs=1, steps_per_epoch=4, m=8,
                                          name=None)
    assert int(model.d_optimizer.iterations) == 4 * k
    assert int(model.g_optimizer.iterations) == 4
    assert set(history) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    assert 0.0 < history["d_real"][0] < 1.0 and history["d_loss"][0] > 0


class _Recording(models.GAN):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []

    def discriminator_loss(self, real, fake, latent, labels):
        self.seen.append((ops.convert_to_numpy(real).ravel(), ops.convert_to_numpy(latent)))
        return super().discriminator_loss(real, fake, latent, labels)


def test_every_discriminator_update_sees_fresh_data_and_fresh_noise():
    model = _toy_gan(3, cls=_Recording, run_eagerly=True)
    data = np.arange(600, dtype=np.float32)[:, None]  # every example distinct
    adversarial.fit_adversarial(model, data, epochs=1, steps_per_epoch=4, m=10, name=None)
    assert len(model.seen) == 12
    for step in range(4):
        rows = np.concatenate([r for r, _ in model.seen[3 * step:3 * step + 3]])
        assert len(np.unique(rows)) == 30  # k disjoint minibatches of one iteration
    latents = [z for _, z in model.seen]
    assert all(not np.array_equal(a, b) for i, a in enumerate(latents) for b in latents[:i])


class _Conditional(models.AdversarialModel):
    """A minimal conditional model: labels one-hot, concatenated to G's and D's inputs."""

    def __init__(self, **kwargs):
        L = keras.layers
        z, y = keras.Input((2,)), keras.Input((), dtype="int32")
        g_out = L.Dense(3)(L.Concatenate()([z, ops.one_hot(y, 4)]))
        x, y2 = keras.Input((3,)), keras.Input((), dtype="int32")
        d_out = L.Dense(1)(L.Concatenate()([x, ops.one_hot(y2, 4)]))
        super().__init__(keras.Model([z, y], g_out), keras.Model([x, y2], d_out),
                         latent_dim=2, **kwargs)
        self.labels_seen = []

    def sample_labels(self, m, seed):
        import tensorflow as tf

        return tf.random.stateless_uniform((m,), seed, 0, 4, dtype=tf.int32)

    def discriminator_loss(self, real, fake, latent, labels):
        self.labels_seen.append(("d", ops.convert_to_numpy(labels)))
        real_logits = self.discriminate(real, labels)
        return models.discriminator_loss(real_logits, self.discriminate(fake, labels))

    def generator_loss(self, fake, latent, labels):
        self.labels_seen.append(("g", ops.convert_to_numpy(labels)))
        return models.generator_loss(self.discriminate(fake, labels))


def test_labels_reach_both_networks_in_a_conditional_model():
    model = _Conditional()
    model.compile(d_optimizer=models.paper_sgd(), g_optimizer=models.paper_sgd(), run_eagerly=True)
    model.build_all()
    x = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    y = (np.arange(40) % 4).astype(np.int32)
    adversarial.fit_adversarial(model, x, labels=y, epochs=1, steps_per_epoch=2, m=8, name=None)
    kinds = [kind for kind, _ in model.labels_seen]
    assert kinds == ["d", "g", "d", "g"]
    d_labels = np.concatenate([lab for kind, lab in model.labels_seen if kind == "d"])
    assert set(d_labels) <= set(range(4)) and len(d_labels) == 16
    assert model.generate(latent=np.zeros((3, 2)), labels=np.array([0, 1, 2])).shape == (3, 3)


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="k .* must be an integer >= 1"):
        models.GAN(models.toy_generator(4), models.toy_discriminator(4), noise_dim=1, k=0)
    with pytest.raises(ValueError, match="generator_loss must be one of"):
        models.GAN(models.toy_generator(4), models.toy_discriminator(4), noise_dim=1,
                   generator_loss="x")
    with pytest.raises(ValueError, match="fewer than one step"):
        adversarial.adversarial_pipeline(np.zeros((5, 1), np.float32), m=4, k=2)
    model = _toy_gan(1)
    with pytest.raises(ValueError, match=r"latent must have shape \(n, 1\)"):
        model.generate(latent=np.zeros((3, 2)))
    gan3 = _toy_gan(3)
    with pytest.raises(ValueError, match="cannot be split into k=3"):
        gan3.fit(np.zeros((8, 1), np.float32), batch_size=8, epochs=1, verbose=0)


def test_toy_helpers_and_networks_have_mnist_shapes():
    assert topic.normal_pdf(0.0, 0.0, 1.0) == pytest.approx(1 / math.sqrt(2 * math.pi))
    model = models.build_gan(width=4)
    images = model.generate(3)
    assert images.shape == (3, 28, 28, 1) and 0 <= images.min() and images.max() <= 1
    assert model.discriminator(images).shape == (3, 1)
    grads = models.generator_gradient_norms(model, model.fixed_latent(8))
    assert grads["saturating"] > 0 and grads["non_saturating"] > 0
    assert models.mlp_discriminator(hidden=(8,), pieces=3)(images).shape == (3, 1)
    assert models.Maxout.from_config(models.Maxout(5, 3).get_config()).pieces == 3


def make_dcgan(optimizer):
    """A small DCGAN without dropout and with inputs identical on 1 or 2 replicas."""

    class Deterministic(models.GAN):
        def sample_latent(self, m, seed):
            return testing.global_rows(m, self.latent_dim)

    model = Deterministic(models.dcgan_generator(width=2),
                          models.dcgan_discriminator(2, dropout=0.0))
    model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    model.build_all()
    images = np.random.default_rng(0).uniform(size=(8, 28, 28, 1)).astype(np.float32)
    return model, images


def test_mixed_precision_step_matches_float32():
    # float16 convolutions and batch norm: measured 0.031; a missing loss scale gives ~1
    assert testing.mixed_precision_step(make_dcgan) < 0.1


def test_without_loss_scaling_the_mixed_precision_check_fails(monkeypatch):
    unscaled = lambda optimizer, tape, loss, variables: tape.gradient(loss, variables)  # noqa: E731
    monkeypatch.setattr(gradients, "gradients", unscaled)
    assert testing.mixed_precision_step(make_dcgan) > 0.5


REPLICA_TARGETS = ["tests.test_gan:make_dcgan"]  # checked by tests/test_two_replicas.py


def test_gan_resumes_with_both_optimizers(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA_DIR", str(tmp_path))
    data = np.random.default_rng(0).standard_normal((256, 1)).astype(np.float32)

    def fresh():
        keras.utils.set_random_seed(3)
        model = models.GAN(models.toy_generator(4), models.toy_discriminator(4), noise_dim=1, k=2,
                           seed=5)
        model.compile(d_optimizer=models.dcgan_adam(1e-2), g_optimizer=models.dcgan_adam(1e-2))
        return model.build_all()

    def fit(model, epochs, name):
        return adversarial.fit_adversarial(model, data, epochs=epochs, steps_per_epoch=3, m=8,
                                           name=name)

    straight = fresh()
    fit(straight, 2, None)
    first = fresh()
    fit(first, 1, "gan")
    resumed = fresh()
    fit(resumed, 2, "gan")
    assert int(resumed.d_optimizer.iterations) == 12 and int(resumed.g_optimizer.iterations) == 6
    for a, b in zip(straight.weights, resumed.weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_a_checkpoint_of_another_model_fails_loudly(tmp_path):
    model = _toy_gan(1)
    checkpoint = checkpoints.Checkpoint(model, tmp_path / "ckpt")
    checkpoint.save(1, {})
    other = models.GAN(models.toy_generator(8), models.toy_discriminator(4), noise_dim=1)
    other.compile(d_optimizer=models.paper_sgd(), g_optimizer=models.paper_sgd())
    other.build_all()
    state = checkpoint.load_state()
    with pytest.raises(checkpoints.CheckpointError, match="Delete"):
        checkpoints.Checkpoint(other, tmp_path / "ckpt").restore(state)


REPLICA_NOISE = """
import numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from coursekit.adversarial import fit_adversarial
from coursekit.models import gan as models
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    model = models.build_gan(width=2)
    images = np.random.default_rng(0).uniform(size=(64, 28, 28, 1)).astype("float32")
    fit_adversarial(model, images, epochs=1, steps_per_epoch=2, m=16, name=None)
out = strategy.run(lambda: model.sample_latent(4, model.next_seed()))
a, b = [np.asarray(t) for t in strategy.experimental_local_results(out)]
steps = int(model.g_optimizer.iterations.numpy())
print("trained", steps, "replicas differ", not np.allclose(a, b))
"""


def test_default_sampling_trains_on_two_replicas_with_different_noise():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", REPLICA_NOISE], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trained 2 replicas differ True" in result.stdout


def test_algorithm_1_is_a_cell_of_notebook_03_that_the_later_notebooks_import():
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    cells = json.loads((root / "notebooks" / "03_gan.ipynb").read_text())["cells"]
    loop = [cell for cell in cells if cell["cell_type"] == "code"
            and "class AdversarialModel(" in "".join(cell["source"])]
    assert len(loop) == 1
    source, tags = "".join(loop[0]["source"]), loop[0]["metadata"].get("tags", [])
    assert source.startswith("#@save") and "def train_step" in source and "show-code" in tags
    assert "train_step" not in vars(adversarial.AdversarialBase)  # the package has no loop
    assert models.AdversarialModel.train_step.__module__ == "coursekit.models.gan"
    for later in ("04_infogan", "07_wgan_conditional"):
        text = (root / "notebooks" / f"{later}.ipynb").read_text()
        assert "from coursekit.models.gan import AdversarialModel" in text, later
