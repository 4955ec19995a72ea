"""XLA: every model's one-step update compiled with ``jit_compile=True`` (Keras's default on a
GPU, so the path a GPU student runs; off by default on a CPU) equals the step without it.

The factories are the two-replica test's (``REPLICA_TARGETS`` of tests/test_<notebook>.py).
"""

from __future__ import annotations

import importlib

import pytest

from coursekit.device import XLA_PAYS_ON_CPU, set_jit_compile
from coursekit.tools import testing
from tests.test_two_replicas import TARGETS


def _factory(target: str):
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("target", TARGETS, ids=[t.split(".", 1)[1] for t in TARGETS])
def test_the_xla_step_is_the_step_without_xla(target):
    import tensorflow as tf
    from tensorflow.python.framework import config

    tf.config.experimental.enable_op_determinism()  # as ck.setup() leaves it, in any order
    # XLA fuses and reorders float32 arithmetic, so the updates agree to rounding, not bits.
    assert testing.xla_step(_factory(target)) < 1e-4
    assert config.is_op_determinism_enabled(), "xla_step restores op determinism"


def test_the_step_flops_of_the_dense_autoencoder_are_its_matrix_products():
    """784-1000-500-250-30 and back: the forward products, their weight gradients, and the
    input gradients of every layer but the first (nothing asks for the image's gradient);
    the profiler adds the elementwise operations (biases, activations: a few percent)."""
    import numpy as np
    import tensorflow as tf

    from coursekit.benchmarks import xla

    model, images, batch = xla.MODELS["dense_autoencoder"][1]("smoke",
                                                              np.random.default_rng(0))
    model.fit(tf.data.Dataset.from_tensors(images).repeat(), epochs=1, steps_per_epoch=1,
              verbose=0)
    sizes = [784, 1000, 500, 250, 30, 250, 500, 1000, 784]
    forward = 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    products = 3 * forward - 2 * 784 * 1000
    per_image = xla.step_flops(model, images) / batch
    assert products <= per_image <= 1.05 * products


def test_the_xla_measurement_times_every_path_of_one_model():
    import tensorflow as tf
    from tensorflow.python.framework import config

    from coursekit.benchmarks import xla

    tf.config.experimental.enable_op_determinism()  # as ck.setup() leaves it
    row = xla.measure("dense_autoencoder", "smoke", rounds=1, round_seconds=0.01)
    assert config.is_op_determinism_enabled(), "measure restores op determinism"
    for path in xla.PATHS:
        assert row[path]["train_images_per_s"] > 0 and row[path]["gflops_per_s"] > 0
    assert row["speedup"] == pytest.approx(row["with_xla"]["train_images_per_s"]
                                           / row["without_xla"]["train_images_per_s"], rel=0.01)
    assert row["determinism_cost"] == pytest.approx(  # a ratio of times: > 1 is slower
        row["without_xla_nondeterministic"]["train_images_per_s"]
        / row["without_xla"]["train_images_per_s"], rel=0.01)
    assert row["notebook"] == "01" and row["examples_per_step"] == 128
    loop = xla.measure_loop("fid_features", "smoke", rounds=1, round_seconds=0.01)
    for path in ("without_xla", "with_xla"):
        assert loop[path]["loop_images_per_s"] > 0


@pytest.mark.parametrize("name", sorted(XLA_PAYS_ON_CPU))
def test_the_xla_steps_the_setting_chooses_are_reproducible(name):
    """Where ``auto`` turns XLA on (under op determinism, which Keras's own check refuses),
    two runs from one seed take bit-identical steps."""
    import keras
    import numpy as np
    import tensorflow as tf

    from coursekit.benchmarks import xla

    tf.config.experimental.enable_op_determinism()
    weights = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        model, data, _ = xla.MODELS[name][1]("smoke", np.random.default_rng(0))
        set_jit_compile(model, True)
        model.fit(tf.data.Dataset.from_tensors(data).repeat(), epochs=1, steps_per_epoch=3,
                  verbose=0)
        weights.append(np.concatenate([v.numpy().ravel() for v in model.trainable_variables]))
    np.testing.assert_array_equal(weights[0], weights[1])


def test_fit_resumable_compiles_with_xla_where_the_setting_says(monkeypatch, capsys):
    import keras
    import numpy as np
    import tensorflow as tf

    from coursekit.training import fit_resumable

    monkeypatch.setenv("COURSEKIT_PROFILE", "cpu")
    monkeypatch.delenv("COURSEKIT_XLA", raising=False)
    images = np.random.default_rng(0).uniform(size=(64, 3)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((images, images)).batch(32)
    for name, expected in (("dense_autoencoder", True), ("vae", False)):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3)])
        model.compile(optimizer="sgd", loss="mse")
        fit_resumable(model, data, epochs=1, name=None, xla=name)
        assert model.jit_compile is expected
        assert ("compiled with XLA" in capsys.readouterr().out) is expected
