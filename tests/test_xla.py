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
