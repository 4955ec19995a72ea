"""Checkpoint-and-resume (``coursekit.checkpoints``, ``coursekit.training``), progress logging,
and the recorders kept with a checkpoint (``coursekit.recorders``)."""

import keras
import numpy as np
import pytest

from coursekit import checkpoints, recorders, training
from coursekit.gradients import apply_loss as training_apply_loss


class TinyModel(keras.Model):
    """A subclassed model with a custom train_step and a loss tracker, like the course's."""

    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(8, activation="tanh")
        self.out = keras.layers.Dense(1)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, x):
        return self.out(self.hidden(x))

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, data):
        import tensorflow as tf

        x, y = data
        with tf.GradientTape() as tape:
            loss = keras.ops.mean(keras.ops.square(self(x) - y))
        training_apply_loss(self.optimizer, tape, loss, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    return x, x.sum(1, keepdims=True)


def _fresh_model():
    keras.utils.set_random_seed(7)
    model = TinyModel()
    model.compile(keras.optimizers.Adam(1e-2))
    return model


def _weights(model):
    return [w.numpy().copy() for w in model.weights]


def test_resume_continues_exactly_where_it_stopped(cache, capsys):
    x, y = _data()
    straight = _fresh_model()
    training.fit_resumable(straight, x, y=y, epochs=4, name=None, batch_size=16, shuffle=False)

    first = _fresh_model()
    h1 = training.fit_resumable(first, x, y=y, epochs=2, name="tiny", config={"lr": 1e-2},
                                batch_size=16, shuffle=False)
    assert len(h1["loss"]) == 2
    assert (checkpoints.checkpoint_dir("tiny") / "state.json").exists()

    resumed = _fresh_model()  # a new kernel: fresh weights, fresh optimizer
    h2 = training.fit_resumable(resumed, x, y=y, epochs=4, name="tiny", config={"lr": 1e-2},
                                batch_size=16, shuffle=False)
    assert "resuming checkpoint" in capsys.readouterr().out
    assert len(h2["loss"]) == 4 and h2["loss"][:2] == h1["loss"]
    assert int(resumed.optimizer.iterations.numpy()) == 16
    for a, b in zip(_weights(straight), _weights(resumed), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_finished_checkpoint_is_reused_without_training(cache, capsys):
    x, y = _data()
    trained = _fresh_model()
    training.fit_resumable(trained, x, y=y, epochs=3, name="tiny", batch_size=16)
    reused = _fresh_model()
    reused(x[:1])  # build, as a notebook cell would by using the model
    history = training.fit_resumable(reused, x, y=y, epochs=3, name="tiny", batch_size=16)
    assert "reusing checkpoint" in capsys.readouterr().out
    assert len(history["loss"]) == 3
    assert int(reused.optimizer.iterations.numpy()) == 12
    for a, b in zip(_weights(trained), _weights(reused), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_model_in_training_is_waited_for_not_trained_twice(cache):
    """Two kernels train the same checkpoint at once (two notebooks that share a model, run
    side by side): the second waits for the first's training, then reuses it."""
    import threading
    import time

    x, y = _data()

    training_started = threading.Event()

    class Slow(keras.callbacks.Callback):  # long enough for the second to arrive meanwhile
        def on_train_begin(self, logs=None):
            training_started.set()

        def on_epoch_end(self, epoch, logs=None):
            time.sleep(0.5)

    class Steps(keras.callbacks.Callback):
        taken = 0

        def on_train_batch_end(self, batch, logs=None):
            Steps.taken += 1

    models = {}

    def kernel(name, callbacks):
        models[name] = _fresh_model()
        models[name](x[:1])
        training.fit_resumable(models[name], x, y=y, epochs=2, name="tiny", batch_size=16,
                               callbacks=callbacks)

    first = threading.Thread(target=kernel, args=("first", [Slow()]))
    second = threading.Thread(target=kernel, args=("second", [Steps()]))
    first.start()
    assert training_started.wait(timeout=60)
    second.start()
    first.join()
    second.join()
    assert Steps.taken == 0, f"the second kernel trained {Steps.taken} steps itself"
    assert int(models["second"].optimizer.iterations.numpy()) == 8
    for a, b in zip(_weights(models["first"]), _weights(models["second"]), strict=True):
        np.testing.assert_array_equal(a, b)


def test_other_config_starts_afresh(cache, capsys):
    x, y = _data()
    training.fit_resumable(_fresh_model(), x, y=y, epochs=2, name="tiny", config={"lr": 1},
                           batch_size=16)
    history = training.fit_resumable(_fresh_model(), x, y=y, epochs=1, name="tiny",
                                     config={"lr": 2}, batch_size=16)
    assert "other settings" in capsys.readouterr().out
    assert len(history["loss"]) == 1


def test_progress_logger_measures_throughput(cache, capsys):
    x, y = _data()
    history = training.fit_resumable(_fresh_model(), x, y=y, epochs=2, name=None,
                                     batch_size=16, examples_per_step=16)
    out = capsys.readouterr().out
    assert "epoch 1/2" in out and "epoch 2/2" in out and "ex/s" in out
    assert history["_throughput"] > 0


def test_sample_grid_records_frames_and_animation(cache, tmp_path):
    x, y = _data()
    grid = recorders.SampleGrid(lambda: np.random.rand(6, 28, 28, 1), every=1, ncols=3)
    training.fit_resumable(_fresh_model(), x, y=y, epochs=2, name=None, batch_size=16,
                           callbacks=[grid])
    assert grid.epochs == [0, 1, 2]
    assert grid.frames[0].shape == (2 * 29 - 1, 3 * 29 - 1, 1) and grid.frames[0].dtype == np.uint8
    gif = grid.save_animation(tmp_path / "anim.gif")
    assert gif.stat().st_size > 0


def test_periodic_callbacks_follow_their_schedule(cache):
    x, y = _data()
    grid = recorders.SampleGrid(lambda: np.zeros((2, 4, 4, 1)), every=2)
    training.fit_resumable(_fresh_model(), x, y=y, epochs=5, name=None, batch_size=32,
                           callbacks=[grid])
    assert grid.epochs == [0, 2, 4] and len(grid.frames) == 3
    with pytest.raises(ValueError, match="positive number of epochs"):
        recorders.SampleGrid(lambda: None, every=0)


MODULE = """
import keras
import tensorflow as tf
from coursekit.gradients import apply_loss


def loss_fn(error):
    return keras.ops.mean(keras.ops.square(error)){extra}


class Model(keras.Model):
    def __init__(self):
        super().__init__()
        self.out = keras.layers.Dense(1)

    def call(self, x):
        return self.out(x)

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = loss_fn(self(x) - y)
        apply_loss(self.optimizer, tape, loss, self.trainable_variables)
        return {{}}
"""


def _module(tmp_path, monkeypatch, name, extra):
    (tmp_path / f"{name}.py").write_text(MODULE.format(extra=extra))
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    model = importlib.import_module(name).Model()
    model.compile(keras.optimizers.SGD(0.1))
    model(np.zeros((1, 3), np.float32))
    return model


def test_editing_a_loss_the_train_step_calls_changes_the_fingerprint(tmp_path, monkeypatch):
    same_a = _module(tmp_path, monkeypatch, "variant_a", "")
    same_b = _module(tmp_path, monkeypatch, "variant_b", "")
    edited = _module(tmp_path, monkeypatch, "variant_c", " * 2.0")
    fingerprint = checkpoints.fingerprint
    assert fingerprint(same_a, {"lr": 1}) != fingerprint(same_a, {"lr": 2})
    assert fingerprint(same_a) == fingerprint(same_a)
    # the same source in another module (a notebook and its export): the same fingerprint;
    # an edited loss that train_step calls: another
    assert fingerprint(same_a) == fingerprint(same_b)
    assert fingerprint(same_b) != fingerprint(edited)
    keras.utils.set_random_seed(0)


def test_a_changed_network_changes_the_fingerprint(cache):
    model = _fresh_model()
    model(np.zeros((1, 3), np.float32))
    wider = _fresh_model()
    wider.hidden = keras.layers.Dense(16, activation="tanh")
    wider(np.zeros((1, 3), np.float32))
    assert checkpoints.fingerprint(model) != checkpoints.fingerprint(wider)


def test_edited_code_is_not_reused(cache, capsys):
    x, y = _data()
    training.fit_resumable(_fresh_model(), x, y=y, epochs=1, name="tiny", batch_size=16)

    def builder():
        return 1

    history = training.fit_resumable(_fresh_model(), x, y=y, epochs=1, name="tiny",
                                     code=[builder], batch_size=16)
    assert "other settings or other code" in capsys.readouterr().out
    assert len(history["loss"]) == 1


def _random_grid():
    return np.random.rand(2, 4, 4, 1)


def test_figure_recorders_are_restored_with_the_checkpoint(cache, capsys):
    x, y = _data()
    grid = recorders.SampleGrid(_random_grid, every=1, ncols=2)
    training.fit_resumable(_fresh_model(), x, y=y, epochs=2, name="tiny", batch_size=16,
                           callbacks=[grid])
    again = recorders.SampleGrid(_random_grid, every=1, ncols=2)
    training.fit_resumable(_fresh_model(), x, y=y, epochs=2, name="tiny", batch_size=16,
                           callbacks=[again])
    assert "reusing checkpoint" in capsys.readouterr().out
    assert again.epochs == [0, 1, 2] and len(again.frames) == 3
    np.testing.assert_array_equal(again.frames[-1], grid.frames[-1])


def _reading(values):
    """A measurement returning the next of ``values`` (a re-run passes an empty iterator: it
    must not be called when the checkpoint is reused). The same source for both runs."""
    def read():
        return {"agreement": next(values), "chance": 0.05}
    return read


def test_a_recorder_records_every_epoch_and_returns_with_the_checkpoint(cache):
    x = np.ones((8, 3), np.float32)
    recorder = recorders.Recorder(_reading(iter([0.0, 0.1, 0.2, 0.3])))
    training.fit_resumable(_fresh_model(), x, y=x[:, :1], epochs=3, name="reading",
                           batch_size=8, callbacks=[recorder])
    assert recorder.epochs == [0, 1, 2, 3]
    assert recorder.agreement == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert recorder.chance == [0.05] * 4
    rerun = recorders.Recorder(_reading(iter([])))
    training.fit_resumable(_fresh_model(), x, y=x[:, :1], epochs=3, name="reading",
                           batch_size=8, callbacks=[rerun])
    assert rerun.epochs == recorder.epochs and rerun.agreement == recorder.agreement
    with pytest.raises(AttributeError, match="recorded no 'fids'"):
        _ = rerun.fids


def test_an_edited_measurement_is_not_reused(cache, capsys):
    x = np.ones((8, 3), np.float32)
    training.fit_resumable(_fresh_model(), x, y=x[:, :1], epochs=1, name="measured",
                           batch_size=8, callbacks=[recorders.Recorder(lambda: {"a": 1.0})])
    edited = recorders.Recorder(lambda: {"a": 2.0})
    training.fit_resumable(_fresh_model(), x, y=x[:, :1], epochs=1, name="measured",
                           batch_size=8, callbacks=[edited])
    assert "other settings or other code" in capsys.readouterr().out
    assert edited.a == [2.0, 2.0]


def test_a_recorder_needs_a_dict_and_a_positive_period():
    with pytest.raises(TypeError, match="dict of named values"):
        recorders.Recorder(lambda: 1.0).record(0)
    with pytest.raises(ValueError, match="positive number of epochs"):
        recorders.Recorder(lambda: {}, every=0)


def test_all_layers_finds_nested_layers_through_keras_private_api():
    """``checkpoints.all_layers`` uses Keras's private ``_flatten_layers`` (no public API lists
    nested layers): this fails loudly if a Keras release changes it."""

    class Inner(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    class Outer(keras.Model):
        def __init__(self):
            super().__init__()
            self.body = keras.Sequential([keras.layers.Dense(4), Inner()])

        def call(self, x):
            return self.body(x)

    model = Outer()
    model(np.zeros((1, 3), np.float32))
    found = [type(layer).__name__ for layer in checkpoints.all_layers(model)]
    assert sorted(n for n in found if n != "InputLayer") == [
        "Dense", "Dense", "Inner", "Sequential"], found


def test_a_changed_layer_class_changes_the_fingerprint(tmp_path, monkeypatch):
    """A user layer's source counts even when no method of the model names it (a network
    builder put it there): edit its call and the checkpoint is not reused."""
    model = _fresh_model()
    model(np.zeros((1, 3), np.float32))

    class Scale(keras.layers.Layer):
        def call(self, x):
            return 2.0 * x

    class Halve(keras.layers.Layer):
        def call(self, x):
            return 0.5 * x

    Halve.__qualname__ = Scale.__qualname__  # same name, other source
    prints = []
    for layer in (Scale(), Halve()):
        with_layer = _fresh_model()
        with_layer.extra = layer
        with_layer(np.zeros((1, 3), np.float32))
        prints.append(checkpoints.fingerprint(with_layer))
    assert prints[0] != prints[1] and checkpoints.fingerprint(model) not in prints


def test_a_damaged_checkpoint_fails_loudly(cache):
    x, y = _data()
    training.fit_resumable(_fresh_model(), x, y=y, epochs=1, name="tiny", batch_size=16)
    folder = checkpoints.checkpoint_dir("tiny")
    for index in folder.glob("epoch-*/ckpt.index"):
        index.write_bytes(b"not a checkpoint")
    with pytest.raises(checkpoints.CheckpointError, match="Delete"):
        training.fit_resumable(_fresh_model(), x, y=y, epochs=2, name="tiny", batch_size=16)


def test_resume_replays_a_shuffled_pipeline_exactly(cache):
    from coursekit.data import make_pipeline

    x, y = _data()

    def run(epochs, name):
        model = _fresh_model()
        data = make_pipeline((x, y), 16, shuffle=True, seed=3)  # 4 batches, reshuffled
        training.fit_resumable(model, data, epochs=epochs, name=name)
        return model

    straight = run(4, None)
    run(2, "shuffled")
    resumed = run(4, "shuffled")
    for a, b in zip(_weights(straight), _weights(resumed), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
