"""Training utilities: progress lines, sample grids during training, checkpoint-and-resume.

Introduced in 01_autoencoders, section 2. All three are Keras 3 callbacks, so they work
with ``model.fit`` of any ``keras.Model`` subclass (the GAN and VAE of later notebooks too).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from .data import cache_dir
from .profiles import active_profile


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


def tile_frames(images: np.ndarray, ncols: int) -> np.ndarray:
    from .viz import tile_images

    return (np.clip(tile_images(images, ncols=ncols), 0, 1) * 255).astype(np.uint8)


class EveryEpochs(keras.callbacks.Callback):
    """Base for callbacks that record something before training and every ``every`` epochs.

    Subclasses implement ``record(epoch)`` and append ``epoch`` to ``self.epochs``; a
    resumed ``fit`` does not record epoch 0 again.
    """

    def __init__(self, every: int = 1):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be a positive number of epochs, not {every}")
        self.every = every
        self.epochs: list[int] = []

    def record(self, epoch: int) -> None:
        raise NotImplementedError

    def on_train_begin(self, logs=None):
        if not self.epochs:
            self.record(0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.record(epoch + 1)


class SampleGrid(EveryEpochs):
    """Record a grid of samples every ``every`` epochs, for a figure or an animation.

    ``sample_fn()`` returns images (N, H, W, C) in [0, 1] (e.g. a generator applied to a
    fixed batch of noise). Frames are kept in ``frames`` as uint8 grids;
    ``save_animation`` writes them as a GIF.
    """

    def __init__(self, sample_fn, every: int = 1, ncols: int = 8):
        super().__init__(every)
        self.sample_fn, self.ncols = sample_fn, ncols
        self.frames: list[np.ndarray] = []

    def record(self, epoch: int) -> None:
        self.frames.append(tile_frames(np.asarray(self.sample_fn()), self.ncols))
        self.epochs.append(epoch)

    def save_animation(self, path, seconds_per_frame: float = 0.5) -> Path:
        import imageio.v3 as iio

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        frames = [f[..., 0] if f.shape[-1] == 1 else f for f in self.frames]
        iio.imwrite(path, frames, duration=int(seconds_per_frame * 1000), loop=0)
        return path


# --------------------------------------------------------------------------- checkpoints


def checkpoint_dir(name: str, profile: str | None = None) -> Path:
    """Where a notebook's model ``name`` is checkpointed: ``<cache>/checkpoints/<profile>/<name>``.
    """
    return cache_dir() / "checkpoints" / (profile or active_profile()) / name


def _fingerprint(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _trackables(model: keras.Model) -> dict:
    """The model and every optimizer it holds (``optimizer``, or several for a GAN)."""
    import tensorflow as tf

    found = {"model": model}
    for name, value in vars(model).items():
        if isinstance(value, keras.optimizers.Optimizer) and not name.startswith("__"):
            found[name.strip("_")] = value
    if getattr(model, "optimizer", None) is not None:
        found["optimizer"] = model.optimizer
    return {k: v for k, v in found.items() if isinstance(v, tf.__internal__.tracking.Trackable)}


class Checkpoint:
    """Save and restore a model, its optimizers, the epoch and the history, atomically.

    A checkpoint is a folder holding ``state.json`` (epoch, history, config fingerprint)
    and the TensorFlow checkpoint it names. ``state.json`` is replaced last, with a
    rename, so an interrupted save leaves the previous checkpoint intact.
    Optimizer slots are restored lazily when the optimizer builds them, so a restored
    model continues exactly where it stopped.
    """

    def __init__(self, model: keras.Model, directory, config: dict | None = None):
        self.model = model
        self.directory = Path(directory)
        self.fingerprint = _fingerprint(config or {})

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def load_state(self) -> dict | None:
        """The saved state if it exists and matches this config, else None."""
        if not self.state_path.exists():
            return None
        state = json.loads(self.state_path.read_text())
        if state.get("fingerprint") != self.fingerprint:
            print(f"checkpoint {self.directory} was made with other settings; starting afresh")
            return None
        return state

    def save(self, epoch: int, history: dict) -> None:
        import tensorflow as tf

        self.directory.mkdir(parents=True, exist_ok=True)
        folder = f"epoch-{epoch:05d}"
        tmp_folder = self.directory / f".{folder}.tmp"
        shutil.rmtree(tmp_folder, ignore_errors=True)
        tf.train.Checkpoint(**_trackables(self.model)).write(str(tmp_folder / "ckpt"))
        shutil.rmtree(self.directory / folder, ignore_errors=True)
        os.replace(tmp_folder, self.directory / folder)
        state = {"epoch": epoch, "history": history, "fingerprint": self.fingerprint,
                 "checkpoint": folder}
        tmp_state = self.directory / ".state.json.tmp"
        tmp_state.write_text(json.dumps(state, default=float))
        os.replace(tmp_state, self.state_path)
        for old in self.directory.glob("epoch-*"):
            if old.name != folder:
                shutil.rmtree(old, ignore_errors=True)

    def restore(self, state: dict) -> None:
        import tensorflow as tf

        path = self.directory / state["checkpoint"] / "ckpt"
        tf.train.Checkpoint(**_trackables(self.model)).read(str(path)).expect_partial()


class _SaveEveryEpoch(keras.callbacks.Callback):
    def __init__(self, checkpoint: Checkpoint, history: dict):
        super().__init__()
        self.checkpoint, self.history = checkpoint, history

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.checkpoint.save(epoch + 1, self.history)


def _first_inputs(data, fit_kwargs):
    import tensorflow as tf

    if isinstance(data, tf.data.Dataset):
        batch = next(iter(data.take(1)))
        return batch[0] if isinstance(batch, tuple) else batch
    return data[: fit_kwargs.get("batch_size", 32)]


def ensure_built(model: keras.Model, data, fit_kwargs: dict | None = None) -> None:
    """Build a subclassed model's variables by calling it on one batch of ``data``.

    Restoring into an unbuilt Keras 3 subclassed model duplicates variables, so
    ``fit_resumable`` builds first. Models whose ``call`` does not take the training
    inputs (a GAN's generator takes noise) must be built by the caller beforehand.
    """
    if model.built and all(layer.built for layer in model._flatten_layers()):
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
    callbacks=(),
    examples_per_step: int | None = None,
    **fit_kwargs,
) -> dict:
    """``model.fit`` that reuses or resumes a checkpoint instead of retraining from scratch.

    ``name`` identifies the model within the notebook (``None`` disables checkpoints,
    as the benchmarks do to time a full run). ``config`` should hold every setting that
    changes the result (sizes, learning rate...): a checkpoint made with another config
    is not reused. Returns the full history (dict of per-epoch lists), including epochs
    trained in earlier runs; ``history["_throughput"]`` holds the measured examples/s of
    this run's training when ``examples_per_step`` is given.

    Introduced in 01_autoencoders, section 2.
    """
    history: dict = {}
    initial_epoch = 0
    logger = ProgressLogger(examples_per_step)
    all_callbacks = [logger, *callbacks]
    if name is not None:
        checkpoint = Checkpoint(model, checkpoint_dir(name), config)
        state = checkpoint.load_state()
        if state is not None:
            ensure_built(model, data, fit_kwargs)
            checkpoint.restore(state)
            history = state["history"]
            initial_epoch = min(state["epoch"], epochs)
            verb = "reusing" if initial_epoch >= epochs else "resuming"
            print(f"{verb} checkpoint {checkpoint.directory} (trained {state['epoch']} epochs)")
        all_callbacks.append(_SaveEveryEpoch(checkpoint, history))
    import tensorflow as tf

    if isinstance(data, tf.data.Dataset):
        fit_kwargs.setdefault("shuffle", False)  # the pipeline shuffles (make_pipeline)
    if initial_epoch < epochs:
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
