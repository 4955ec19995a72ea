"""coursekit.setup: one line of facts, seeded reproducibility, the mixed-precision rule."""

import keras
import numpy as np
import pytest

from coursekit import device


def test_setup_prints_one_line_and_seeds(monkeypatch, capsys):
    monkeypatch.setenv("COURSEKIT_PROFILE", "smoke")
    info = device.setup(seed=5)
    line = capsys.readouterr().out.strip()
    assert "\n" not in line
    for fact in ("TensorFlow", "Keras", "devices: CPU", "profile: smoke", "precision: float32",
                 "seed: 5"):
        assert fact in line
    first = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    device.setup(seed=5, quiet=True)
    second = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert info.profile == "smoke" and info.seed == 5


def test_setup_rejects_an_unknown_profile(monkeypatch):
    monkeypatch.setenv("COURSEKIT_PROFILE", "fast")
    with pytest.raises(ValueError, match="Unknown profile 'fast'"):
        device.setup(quiet=True)


@pytest.mark.parametrize("capability, expected", [((6, 1), False), ((7, 0), True),
                                                  ((9, 0), True), (None, False)])
def test_mixed_precision_only_where_it_helps(monkeypatch, capability, expected):
    import tensorflow as tf

    details = {"compute_capability": capability} if capability else {}
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda gpu: details)
    assert device._benefits_from_mixed_precision(["fake-gpu"]) is expected
