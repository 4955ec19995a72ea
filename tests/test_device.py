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
    for fact in ("TensorFlow", "Keras", "devices: CPU", "replicas: 1", "profile: smoke",
                 "precision: float32",
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


def test_one_seed_drives_the_samples(monkeypatch):
    from coursekit.models import gan

    monkeypatch.setenv("COURSEKIT_PROFILE", "smoke")

    def samples(seed):
        device.setup(seed=seed, quiet=True)
        model = gan.build_gan(width=2)  # weights and latents both come from the run seed
        return model.generate(4)

    first, again, other = samples(1), samples(1), samples(2)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).mean() > 1e-3


def test_the_seed_comes_from_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("COURSEKIT_PROFILE", "smoke")
    monkeypatch.setenv("COURSEKIT_SEED", "99")
    assert device.setup().seed == 99 and "seed: 99" in capsys.readouterr().out
    assert device.current_seed() == 99
    streams = device.seed_for("a"), device.seed_for("b")
    device.setup(seed=100, quiet=True)
    assert streams[0] != streams[1] and device.seed_for("a") != streams[0]
    monkeypatch.setenv("COURSEKIT_SEED", "seven")
    with pytest.raises(device.SetupError, match="COURSEKIT_SEED='seven' is not an integer"):
        device.setup(quiet=True)


def test_devices_switch(monkeypatch, capsys):
    import tensorflow as tf

    monkeypatch.setenv("COURSEKIT_PROFILE", "smoke")
    monkeypatch.delenv("COURSEKIT_XLA", raising=False)
    monkeypatch.setenv("COURSEKIT_DEVICES", "all")
    try:
        info = device.setup()
        assert isinstance(tf.distribute.get_strategy(), tf.distribute.MirroredStrategy)
        assert info.replicas == tf.distribute.get_strategy().num_replicas_in_sync >= 1
        out = capsys.readouterr().out
        assert f"replicas: {info.replicas}" in out
        # under a strategy XLA is Keras's choice, as xla_for leaves it
        assert "xla: auto (Keras's choice)" in out and device.xla_for("dense_autoencoder") is None
    finally:
        monkeypatch.delenv("COURSEKIT_DEVICES")
        device.setup(quiet=True)
    assert not tf.distribute.has_strategy()
    monkeypatch.setenv("COURSEKIT_DEVICES", "gpus please")
    with pytest.raises(device.SetupError, match="COURSEKIT_DEVICES"):
        device.setup(quiet=True)


def test_a_backend_other_than_tensorflow_is_a_clear_error(monkeypatch):
    import keras

    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(device.SetupError, match="KERAS_BACKEND"):
        device.check_backend()


def test_the_xla_setting(monkeypatch, capsys):
    """``$COURSEKIT_XLA``: auto turns XLA on, on a CPU, only for the models measured faster with
    it, in every profile; on and off force it; anything else is a clear error."""
    monkeypatch.delenv("COURSEKIT_XLA", raising=False)
    monkeypatch.setenv("COURSEKIT_PROFILE", "cpu")
    assert device.xla_setting() == "auto"
    assert device.xla_for("dense_autoencoder") is True
    assert device.xla_for("diffusion_unet") is False and device.xla_for(None) is False
    device.setup(quiet=False)
    assert "xla: auto (on for: dense_autoencoder)" in capsys.readouterr().out
    monkeypatch.setenv("COURSEKIT_PROFILE", "smoke")
    assert device.xla_for("dense_autoencoder") is True and device.xla_for("vae") is False
    for value, expected in (("on", True), ("1", True), ("OFF", False), ("0", False)):
        monkeypatch.setenv("COURSEKIT_XLA", value)
        assert device.xla_for("diffusion_unet") is expected
        assert device.xla_for("dense_autoencoder") is expected
    monkeypatch.setenv("COURSEKIT_XLA", "fast")
    with pytest.raises(device.SetupError, match="COURSEKIT_XLA='fast'"):
        device.setup(quiet=True)


def test_jit_compile_can_be_set_under_op_determinism():
    from tensorflow.python.framework import config

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    config.enable_op_determinism()
    device.set_jit_compile(model, True)
    assert model.jit_compile is True and config.is_op_determinism_enabled()
    with device.op_determinism(False):
        assert not config.is_op_determinism_enabled()
    assert config.is_op_determinism_enabled()
