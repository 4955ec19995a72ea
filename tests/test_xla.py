"""XLA: every model's one-step update compiled with ``jit_compile=True`` (Keras's default on a
GPU, so the path a GPU student runs; off by default on a CPU) equals the step without it.

The factories are the two-replica test's (``REPLICA_TARGETS`` of tests/test_<notebook>.py).
"""

from __future__ import annotations

import importlib

import pytest

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


def test_the_xla_measurement_times_both_paths_of_one_model():
    import tensorflow as tf
    from tensorflow.python.framework import config

    from coursekit.benchmarks import xla

    tf.config.experimental.enable_op_determinism()
    with pytest.raises(RuntimeError, match="Keras refused jit_compile=True"):
        xla.measure("dense_autoencoder", "smoke", rounds=1, round_seconds=0.01)
    config.disable_op_determinism()
    try:
        row = xla.measure("dense_autoencoder", "smoke", rounds=1, round_seconds=0.01)
    finally:
        tf.config.experimental.enable_op_determinism()
    for path in ("without_xla", "with_xla"):
        assert row[path]["train_images_per_s"] > 0 and row[path]["gflops_per_s"] > 0
    assert row["speedup"] == pytest.approx(row["with_xla"]["train_images_per_s"]
                                           / row["without_xla"]["train_images_per_s"], rel=0.01)
    assert row["notebook"] == "01" and row["examples_per_step"] == 128
