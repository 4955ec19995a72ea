"""Training: progress lines and ``fit_resumable``, ``model.fit`` with checkpoint-and-resume.

Introduced in 01_autoencoders, section 2. Works with ``model.fit`` of any ``keras.Model``
subclass (the GAN and VAE of later notebooks too); checkpoints are ``coursekit.checkpoints``,
the curves recorded during training ``coursekit.recorders``.
"""

from __future__ import annotations

import contextlib
import time

import keras
import numpy as np

from .checkpoints import Checkpoint, all_layers, checkpoint_dir
from .device import set_jit_compile, xla_for
from .recorders import Recorder


def _format_logs(logs: dict) -> str:
    return "  ".join(f"{k} {v:.4g}" for k, v in sorted(logs.items()) if np.isscalar(v))


class ProgressLogger(keras.callbacks.Callback):
    """One plain line per epoch (and every ``every_seconds`` within long epochs).

    Plain lines read well both in a notebook and in a CI log, unlike carriage-return
    progress bars. Use it with ``fit(..., verbose=0)``. With ``examples_per_step`` set,
    it also measures training throughput in ``throughput``: examples per second over all
    steps but the very first, which traces and compiles the graph.
    """

    def __init__(self, examples_per_step: int | None = None, every_seconds: float = 60.0):
        super().__init__()
        self.examples_per_step = examples_per_step
        self.every_seconds = every_seconds
        self.train_seconds = 0.0
        self.timed_steps = 0
        self._compiled = False

    def on_train_begin(self, logs=None):
        self._epochs = self.params.get("epochs")
        self._steps = self.params.get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._start = self._last_print = time.perf_counter()
        self._timed_from = self._start if self._compiled else None
        self._untimed_steps = 0
        self._step = 0

    def on_train_batch_end(self, batch, logs=None):
        self._step = batch + 1
        now = time.perf_counter()
        if not self._compiled:
            self._compiled = True
            self._timed_from, self._untimed_steps = now, self._step
        if now - self._last_print >= self.every_seconds:
            self._last_print = now
            print(f"  epoch {self._epoch + 1} step {self._step}/{self._steps}  "
                  f"{_format_logs(logs or {})}", flush=True)

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        if self._timed_from is not None:
            self.train_seconds += now - self._timed_from
            self.timed_steps += self._step - self._untimed_steps
        rate = ""
        if self.examples_per_step and self.throughput:
            rate = f"  {self.throughput:,.0f} ex/s"
        print(f"epoch {epoch + 1}/{self._epochs}  {_format_logs(logs or {})}  "
              f"{now - self._start:.1f}s{rate}", flush=True)

    @property
    def throughput(self) -> float | None:
        """Training examples per second over the timed steps, or None if not measured."""
        if not self.examples_per_step or self.train_seconds <= 0 or self.timed_steps <= 0:
            return None
        return self.timed_steps * self.examples_per_step / self.train_seconds


def _recorders(callbacks) -> dict:
    return {f"callback{i}": c for i, c in enumerate(callbacks) if isinstance(c, Recorder)}


def _extras(callbacks) -> dict:
    return {f"{name}.{key}": value for name, recorder in _recorders(callbacks).items()
            for key, value in recorder.get_state().items()}


def _load_extras(callbacks, extras: dict) -> None:
    for name, recorder in _recorders(callbacks).items():
        state = {key.split(".", 1)[1]: value for key, value in extras.items()
                 if key.split(".", 1)[0] == name}
        if state:
            recorder.set_state(state)


class _SaveEveryEpoch(keras.callbacks.Callback):
    def __init__(self, checkpoint: Checkpoint, history: dict, callbacks):
        super().__init__()
        self.checkpoint, self.history, self.callbacks = checkpoint, history, callbacks

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.checkpoint.save(epoch + 1, self.history, _extras(self.callbacks))


def _first_inputs(data, fit_kwargs):
    import tensorflow as tf

    if isinstance(data, tf.data.Dataset):
        batch = next(iter(data.take(1)))
        return batch[0] if isinstance(batch, tuple) else batch
    return data[: fit_kwargs.get("batch_size", 32)]


def _as_stream(data, fit_kwargs: dict):
    """A finite ``tf.data`` pipeline as one endless stream with ``steps_per_epoch`` set, so
    that every epoch is read from a single iterator (the pipeline reshuffles at every pass,
    from a seeded state: Keras's own extra iterators would otherwise shift the order)."""
    import tensorflow as tf

    if not isinstance(data, tf.data.Dataset) or "steps_per_epoch" in fit_kwargs:
        return data
    steps = int(data.cardinality())
    if steps <= 0:
        return data  # unknown size: fit reads it epoch by epoch
    fit_kwargs["steps_per_epoch"] = steps
    return data.repeat()


def _continue_stream(data, epochs_done: int, steps_per_epoch: int | None):
    """``data`` advanced by ``epochs_done`` epochs, so that a resumed run sees the batches a
    straight run would have seen next."""
    import tensorflow as tf

    if epochs_done == 0 or not isinstance(data, tf.data.Dataset) or not steps_per_epoch:
        return data
    return data.skip(epochs_done * steps_per_epoch)


def ensure_built(model: keras.Model, data, fit_kwargs: dict | None = None) -> None:
    """Build a subclassed model's variables by calling it on one batch of ``data``.

    Restoring into an unbuilt Keras 3 subclassed model duplicates variables, so
    ``fit_resumable`` builds first. Models whose ``call`` does not take the training
    inputs (a GAN's generator takes noise) must be built by the caller beforehand.
    """
    if model.built and all(layer.built for layer in all_layers(model)):
        return
    try:
        model(_first_inputs(data, fit_kwargs or {}))
    except Exception as exc:
        raise RuntimeError(
            f"{type(model).__name__} is not built and could not be called on a batch of the "
            f"training data ({exc}); call it once (or model.build(...)) before fit_resumable."
        ) from exc


def fit_resumable(
    model: keras.Model,
    data,
    *,
    epochs: int,
    name: str | None,
    config: dict | None = None,
    code=(),
    callbacks=(),
    examples_per_step: int | None = None,
    profile: str | None = None,
    xla: str | None = None,
    **fit_kwargs,
) -> dict:
    """``model.fit`` that reuses or resumes a checkpoint instead of retraining from scratch.

    ``name`` identifies the model within the notebook (``None`` disables checkpoints,
    as the benchmarks do to time a full run). ``config`` should hold every setting that
    changes the result (sizes, learning rate...); the model's code, layers and held objects
    are fingerprinted without being named (``coursekit.checkpoints.fingerprint``), and
    ``code`` adds what shapes the run from outside the model (a training function that
    builds the pipeline): a checkpoint made with another config, other code or another
    seed is not reused. Recorders among the ``callbacks`` (``coursekit.recorders``) are
    saved with the checkpoint and restored, and their measurements are fingerprinted too.
    Returns the full history (dict of per-epoch lists), including epochs
    trained in earlier runs; ``history["_throughput"]`` holds the measured examples/s of
    this run's training when ``examples_per_step`` is given. ``profile`` chooses the
    checkpoint folder (default: the active profile), for a model another notebook reuses.
    ``xla`` names the model for the XLA setting (``coursekit.device.xla_for``): with XLA on,
    the training step is compiled by it and ``config`` records it.

    Introduced in 01_autoencoders, section 2.
    """
    history: dict = {}
    initial_epoch = 0
    logger = ProgressLogger(examples_per_step)
    all_callbacks = [logger, *callbacks]
    ensure_built(model, data, fit_kwargs)  # always: benchmark and notebook see one order
    jit = None if model.run_eagerly else xla_for(xla)
    if jit is not None and jit != model.jit_compile:
        set_jit_compile(model, jit)
    if model.jit_compile is True:
        config = {**(config or {}), "xla": True}  # XLA's rounding differs: its own checkpoint
        print("training step compiled with XLA")
    data = _as_stream(data, fit_kwargs)
    checkpoint = None
    if name is not None:
        from .device import current_seed

        config = {**(config or {}), "seed": current_seed()}
        measures = [recorder.measure for recorder in _recorders(callbacks).values()]
        checkpoint = Checkpoint(model, checkpoint_dir(name, profile), config, code, measures)
    with checkpoint.lock() if checkpoint else contextlib.nullcontext():
        if checkpoint:
            state = checkpoint.load_state()
            if state is not None:
                _load_extras(callbacks, checkpoint.restore(state))
                history = state["history"]
                initial_epoch = min(state["epoch"], epochs)
                verb = "reusing" if initial_epoch >= epochs else "resuming"
                print(f"{verb} checkpoint {checkpoint.directory} (trained {state['epoch']} "
                      f"epochs)")
            all_callbacks.append(_SaveEveryEpoch(checkpoint, history, list(callbacks)))
        import tensorflow as tf

        if isinstance(data, tf.data.Dataset):
            fit_kwargs.setdefault("shuffle", False)  # the pipeline shuffles (make_pipeline)
        if initial_epoch < epochs:
            data = _continue_stream(data, initial_epoch, fit_kwargs.get("steps_per_epoch"))
            result = model.fit(
                data, epochs=epochs, initial_epoch=initial_epoch, callbacks=all_callbacks,
                verbose=0, **fit_kwargs,
            )
            if name is None:
                history = {k: [float(v) for v in vals] for k, vals in result.history.items()}
    history = dict(history)
    if logger.throughput:
        history["_throughput"] = logger.throughput
    return history
