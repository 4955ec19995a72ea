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
    resumed ``fit`` does not record epoch 0 again. The list attributes named in ``saved``
    are kept with the checkpoint by ``fit_resumable``, so a re-run that reuses the
    checkpoint still has what the training figures need.
    """

    saved: tuple[str, ...] = ("epochs",)

    def __init__(self, every: int = 1):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be a positive number of epochs, not {every}")
        self.every = every
        self.epochs: list[int] = []

    def record(self, epoch: int) -> None:
        raise NotImplementedError

    def get_state(self) -> dict:
        return {key: np.asarray(getattr(self, key)) for key in self.saved}

    def set_state(self, state: dict) -> None:
        for key in self.saved:
            setattr(self, key, list(state[key]))

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

    saved = ("epochs", "frames")

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


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be restored into the model it is meant for."""


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            yield from _code_objects(const)


def _source(obj) -> str:
    """The source of a function or class, or its bytecode where no source is available.

    Trailing whitespace is dropped: the last function of a notebook cell has no final
    newline, the same function in the exported module has one."""
    import inspect

    try:
        return inspect.getsource(obj).rstrip()
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        return repr((code.co_code, code.co_consts, code.co_names)) if code else repr(obj)


def _user_code(obj, seen: dict) -> None:
    """Collect ``obj`` and, recursively, the functions and classes of the same module that
    its functions refer to by global name (a loss a ``train_step`` calls, a network
    builder), keyed by qualified name."""
    import inspect

    key = getattr(obj, "__qualname__", repr(obj))  # not the module: notebook == exported code
    if key in seen:
        return
    if inspect.isclass(obj):
        seen[key] = ""
        for cls in obj.__mro__:
            if cls.__module__.split(".")[0] in ("keras", "builtins", "tensorflow"):
                continue
            for name, member in sorted(vars(cls).items()):
                function = getattr(member, "fget", None) or getattr(member, "__func__", member)
                if inspect.isfunction(function):
                    _user_code(function, seen)
                    seen[f"{cls.__qualname__}.{name}"] = _source(function)
        return
    seen[key] = _source(obj)
    function = getattr(obj, "__func__", obj)
    if not inspect.isfunction(function):
        return
    for code in _code_objects(function.__code__):
        for name in code.co_names:
            target = function.__globals__.get(name)
            if (inspect.isfunction(target) or inspect.isclass(target)) and (
                    getattr(target, "__module__", None) == function.__module__):
                _user_code(target, seen)


def _unnamed(config):
    """``config`` without its ``name`` entries: Keras numbers generated names per process
    (``pixel_lstm_1``, ``dense_3``), so a second instance of the same model in one kernel
    must still match its checkpoint."""
    if isinstance(config, dict):
        return {key: _unnamed(value) for key, value in config.items() if key != "name"}
    if isinstance(config, (list, tuple)):
        return [_unnamed(value) for value in config]
    return config


def _structure(model) -> list:
    """The model's layers (class and config) and variables (shape and dtype, in order),
    without the names Keras generates."""
    layers = []
    for layer in model._flatten_layers(include_self=False):
        try:
            config = _unnamed(layer.get_config())
        except Exception:  # a layer without get_config: its class name still counts
            config = None
        layers.append((type(layer).__name__, config))
    return [layers, [(tuple(v.shape), str(v.dtype)) for v in model.weights]]


def _settings(model) -> dict:
    """The model's own scalar attributes (k, a loss kind...) and its optimizers' settings."""
    keras_own = set(vars(keras.Model())) | {"stop_training", "stop_evaluating",
                                            "stop_predicting"}  # set by fit and evaluate
    found = {key: value for key, value in vars(model).items()
             if key not in keras_own and not key.startswith("_")
             and isinstance(value, (int, float, str, bool))}
    try:
        objects = checkpoint_objects(model)
    except (AttributeError, CheckpointError):  # not compiled yet: no optimizer settings
        objects = {}
    for name, obj in objects.items():
        if isinstance(obj, keras.optimizers.Optimizer):
            found[name] = {k: v for k, v in obj.get_config().items() if k != "name"}
    return found


def fingerprint(model, config: dict | None = None, code=()) -> str:
    """A digest of everything that makes a checkpoint valid for this run: ``config`` (sizes,
    rates), the source of the model's class (``train_step``, losses, every method up to
    Keras's own) and of the same-module functions they call, any extra ``code`` (e.g. the
    network builders), and the layers and variables. Edit a loss in the notebook and the
    fingerprint changes, so the old checkpoint is not reused. Introduced in 01_autoencoders,
    section 2."""
    sources: dict = {}
    for obj in (type(model), *code):
        _user_code(obj, sources)
    payload = {"config": config or {}, "code": sources, "structure": _structure(model),
               "settings": _settings(model)}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def checkpoint_objects(model: keras.Model) -> dict:
    """What a checkpoint of ``model`` holds, by name: ``model.checkpoint_objects()`` where the
    model defines it (a GAN: both networks and both optimisers), else the model and its
    optimizer."""
    if hasattr(model, "checkpoint_objects"):
        objects = dict(model.checkpoint_objects())
    else:
        objects = {"model": model}
        if getattr(model, "optimizer", None) is not None:
            objects["optimizer"] = model.optimizer
    missing = [name for name, obj in objects.items() if obj is None]
    if missing:
        raise CheckpointError(f"{type(model).__name__} has no {missing} to checkpoint; "
                              f"compile the model before training it.")
    return objects


def _build_optimizers(model, objects: dict) -> None:
    """Create optimizer slots now, so restoring can check that every value has a home."""
    variables = model.trainable_variables
    for obj in objects.values():
        if isinstance(obj, keras.optimizers.Optimizer) and not obj.built:
            obj.build(variables)


class Checkpoint:
    """Save and restore a model, its optimizers, the epoch and the history, atomically.

    A checkpoint is a folder holding ``state.json`` (epoch, history, fingerprint) and the
    TensorFlow checkpoint it names. ``state.json`` is replaced last, with a rename, so an
    interrupted save leaves the previous checkpoint intact. The objects saved are named
    explicitly (``checkpoint_objects``); restoring fails loudly if any saved value or any
    model variable is unmatched, instead of silently continuing from a partial state.
    """

    def __init__(self, model: keras.Model, directory, config: dict | None = None, code=()):
        self.model = model
        self.directory = Path(directory)
        self.config, self.code = config, tuple(code)

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def load_state(self) -> dict | None:
        """The saved state if it exists and matches this model, code and config, else None.

        Call it on a built model (the fingerprint includes the variables)."""
        if not self.state_path.exists():
            return None
        state = json.loads(self.state_path.read_text())
        if state.get("fingerprint") != fingerprint(self.model, self.config, self.code):
            print(f"checkpoint {self.directory} was made with other settings or other code; "
                  f"starting afresh")
            return None
        return state

    def save(self, epoch: int, history: dict, extras: dict | None = None) -> None:
        import tensorflow as tf

        self.directory.mkdir(parents=True, exist_ok=True)
        folder = f"epoch-{epoch:05d}"
        tmp_folder = self.directory / f".{folder}.tmp"
        shutil.rmtree(tmp_folder, ignore_errors=True)
        tf.train.Checkpoint(**checkpoint_objects(self.model)).write(str(tmp_folder / "ckpt"))
        if extras:
            np.savez(tmp_folder / "extras.npz", **extras)
        shutil.rmtree(self.directory / folder, ignore_errors=True)
        os.replace(tmp_folder, self.directory / folder)
        state = {"epoch": epoch, "history": history, "checkpoint": folder,
                 "fingerprint": fingerprint(self.model, self.config, self.code)}
        tmp_state = self.directory / ".state.json.tmp"
        tmp_state.write_text(json.dumps(state, default=float))
        os.replace(tmp_state, self.state_path)
        for old in self.directory.glob("epoch-*"):
            if old.name != folder:
                shutil.rmtree(old, ignore_errors=True)

    def restore(self, state: dict) -> dict:
        """Restore the saved objects; return the saved extras (figure material), if any."""
        import tensorflow as tf

        objects = checkpoint_objects(self.model)
        _build_optimizers(self.model, objects)
        folder = self.directory / state["checkpoint"]
        try:
            tf.train.Checkpoint(**objects).read(str(folder / "ckpt")).assert_consumed()
        except (AssertionError, ValueError, tf.errors.OpError) as exc:
            raise CheckpointError(
                f"checkpoint {folder} does not match {type(self.model).__name__} ({exc}). "
                f"Delete {self.directory} to train afresh.") from exc
        extras = folder / "extras.npz"
        if not extras.exists():
            return {}
        with np.load(extras) as saved:
            return {key: saved[key] for key in saved.files}


def _recorders(callbacks) -> dict:
    return {f"callback{i}": c for i, c in enumerate(callbacks) if isinstance(c, EveryEpochs)}


def _extras(callbacks) -> dict:
    return {f"{name}.{key}": value for name, recorder in _recorders(callbacks).items()
            for key, value in recorder.get_state().items()}


def _load_extras(callbacks, extras: dict) -> None:
    for name, recorder in _recorders(callbacks).items():
        state = {key.split(".", 1)[1]: value for key, value in extras.items()
                 if key.split(".", 1)[0] == name}
        if set(state) == set(recorder.saved):
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
    code=(),
    callbacks=(),
    examples_per_step: int | None = None,
    profile: str | None = None,
    **fit_kwargs,
) -> dict:
    """``model.fit`` that reuses or resumes a checkpoint instead of retraining from scratch.

    ``name`` identifies the model within the notebook (``None`` disables checkpoints,
    as the benchmarks do to time a full run). ``config`` should hold every setting that
    changes the result (sizes, learning rate...) and ``code`` the functions that define the
    model beyond its class (e.g. its network builders): a checkpoint made with another
    config, other code or another seed is not reused (see ``fingerprint``). Recorders
    among the ``callbacks`` (``SampleGrid``...) are saved with the checkpoint and restored.
    Returns the full history (dict of per-epoch lists), including epochs
    trained in earlier runs; ``history["_throughput"]`` holds the measured examples/s of
    this run's training when ``examples_per_step`` is given. ``profile`` chooses the
    checkpoint folder (default: the active profile), for a model another notebook reuses.

    Introduced in 01_autoencoders, section 2.
    """
    history: dict = {}
    initial_epoch = 0
    logger = ProgressLogger(examples_per_step)
    all_callbacks = [logger, *callbacks]
    ensure_built(model, data, fit_kwargs)  # always: benchmark and notebook see one order
    data = _as_stream(data, fit_kwargs)
    if name is not None:
        from .device import current_seed

        config = {**(config or {}), "seed": current_seed()}
        checkpoint = Checkpoint(model, checkpoint_dir(name, profile), config, code)
        state = checkpoint.load_state()
        if state is not None:
            _load_extras(callbacks, checkpoint.restore(state))
            history = state["history"]
            initial_epoch = min(state["epoch"], epochs)
            verb = "reusing" if initial_epoch >= epochs else "resuming"
            print(f"{verb} checkpoint {checkpoint.directory} (trained {state['epoch']} epochs)")
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
