"""Checkpoints: save and restore a model atomically, and reuse one only if its fingerprint matches.

A checkpoint is valid for a run when nothing that shaped it changed: the sizes and settings,
the run's seed, the layers and variables, and the source of the code that defines the model
(its class, the functions its methods call, its own layer classes, the objects it holds, and
the measurements recorded with it). Introduced in 01_autoencoders, section 2; ``fit_resumable``
(``coursekit.training``) uses it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
from pathlib import Path

import keras
import numpy as np
from filelock import FileLock

from .data import cache_dir
from .profiles import active_profile

_KERAS_OWN = ("keras", "builtins", "tensorflow", "numpy")


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
    try:
        return inspect.getsource(obj).rstrip()
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        return repr((code.co_code, code.co_consts, code.co_names)) if code else repr(obj)


def _user_code(obj, seen: dict) -> None:
    """Collect ``obj`` and, recursively, the functions and classes of the same module that
    its functions refer to by global name (a loss a ``train_step`` calls, a network
    builder), keyed by qualified name."""
    key = getattr(obj, "__qualname__", repr(obj))  # not the module: notebook == exported code
    if key in seen:
        return
    if inspect.isclass(obj):
        seen[key] = ""
        for cls in obj.__mro__:
            if _is_library(cls):
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


def all_layers(model) -> list:
    """Every layer inside ``model``, nested ones included, in Keras's tracking order.

    Keras 3 has no public API for this (``Model.layers`` lists only the direct children), so
    this uses ``_flatten_layers``, the method ``Model.layers`` itself is built on.
    ``tests/test_training.py`` fails loudly if it disappears or changes what it returns."""
    return list(model._flatten_layers(include_self=False, recursive=True))


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
    for layer in all_layers(model):
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


def _is_library(cls) -> bool:
    return cls.__module__.split(".")[0] in _KERAS_OWN


def _held_classes(model) -> list:
    """The user-defined classes of the model's own layers and of the objects it holds in its
    public attributes (a latent specification and its codes), whose source shapes the run as
    much as the model's class does."""
    found = [type(layer) for layer in all_layers(model)]
    for key, value in vars(model).items():
        if key.startswith("_"):
            continue
        for item in _items(value):
            found.append(type(item))
            for inner in getattr(item, "__dict__", {}).values():
                found.extend(type(element) for element in _items(inner))
    return [cls for cls in dict.fromkeys(found) if not _is_library(cls)]


def _items(value) -> list:
    """The user-defined objects in ``value`` (itself, or the elements of a list or tuple)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return [item for item in items if not _is_library(type(item))]


def _collected(objects) -> dict:
    sources: dict = {}
    for obj in objects:
        _user_code(obj, sources)
    return sources


def fingerprint(model, config: dict | None = None, code=(), measures=()) -> str:
    """A digest of everything that makes a checkpoint valid for this run: ``config`` (sizes,
    rates, the seed), the source of the model's class (``train_step``, losses, every method
    up to Keras's own) and of the same-module functions they call, of the model's own layer
    classes and of the objects it holds, of the ``measures`` recorded with it
    (``Recorder``), any extra ``code`` (a training function outside the class), and the
    layers and variables. Edit a loss, a layer or a measurement in the notebook and the
    fingerprint changes, so the old checkpoint is not reused."""
    payload = {"config": config or {},
               "code": _collected((type(model), *_held_classes(model), *code)),
               "measures": [_collected([measure]) for measure in measures],
               "structure": _structure(model), "settings": _settings(model)}
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

    def __init__(self, model: keras.Model, directory, config: dict | None = None, code=(),
                 measures=()):
        self.model = model
        self.directory = Path(directory)
        self.config, self.code, self.measures = config, tuple(code), tuple(measures)

    def fingerprint(self) -> str:
        return fingerprint(self.model, self.config, self.code, self.measures)

    def lock(self) -> FileLock:
        """A lock file beside the checkpoint (``.<name>.lock``): held from reading the saved
        state to the end of training, so that a second kernel or benchmark training the same
        model waits, then reuses what the first one trained, instead of both writing the
        same folder."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(self.directory.parent / f".{self.directory.name}.lock")

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def load_state(self) -> dict | None:
        """The saved state if it exists and matches this model, code and config, else None.

        Call it on a built model (the fingerprint includes the variables)."""
        if not self.state_path.exists():
            return None
        state = json.loads(self.state_path.read_text())
        if state.get("fingerprint") != self.fingerprint():
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
                 "fingerprint": self.fingerprint()}
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
