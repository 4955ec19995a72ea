"""Multi-device training on the CPU: every model's one-step update on two replicas
(``tf.distribute.MirroredStrategy`` over two logical CPU devices, half the batch each)
equals its update on one device with the whole batch.

The factories live beside each model's other tests (``REPLICA_TARGETS`` of
tests/test_<notebook>.py); all of them run in one fresh process
(``coursekit.tools.testing.two_replica_steps``): the two logical devices must be made
before TensorFlow starts, and TensorFlow then starts once, not once per model.
"""

from __future__ import annotations

import importlib

import pytest

FAMILIES = ("autoencoders", "vae", "gan", "infogan", "pokemon_lstm", "cppn", "wgan_conditional",
            "diffusion")
TARGETS = [target for family in FAMILIES
           for target in importlib.import_module(f"tests.test_{family}").REPLICA_TARGETS]


@pytest.fixture(scope="module")
def two_replicas():
    from coursekit.tools import testing

    return testing.two_replica_steps(*TARGETS)


def test_every_model_family_is_checked():
    """Each notebook's models have factories here, and each factory appears once."""
    from tests.scheduling import NOTEBOOKS

    assert sorted(FAMILIES) == sorted(stem.split("_", 1)[1] for stem in NOTEBOOKS)
    assert len(TARGETS) == len(set(TARGETS)) == 13


@pytest.mark.parametrize("target", TARGETS, ids=[t.split(".", 1)[1] for t in TARGETS])
def test_two_replicas_give_the_one_replica_step(two_replicas, target):
    result = two_replicas[target]
    assert result["replicas"] == 2
    assert result["start"] == 0.0, "both runs start from the same seeded weights"
    assert result["update"] < 1e-4, result
