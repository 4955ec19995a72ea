"""One call at the top of every notebook: seeds, versions, devices, profile and precision.

Introduced in 01_autoencoders, section 0.

- **The seed.** ``setup(seed=...)``, else ``$COURSEKIT_SEED``, else ``DEFAULT_SEED``. Every
  random choice of a run derives from it: ``current_seed()`` for TensorFlow/Keras seeds and
  ``rng(stream)`` / ``seed_for(stream)`` for an independent, named NumPy stream (the fixed
  noise of a sample grid, a data subset...), so changing the one seed changes them all.
- **Devices.** ``$COURSEKIT_DEVICES=all`` trains on every visible device (GPUs, else
  CPUs) under ``tf.distribute.MirroredStrategy``, set as TensorFlow's default strategy so
  every model built afterwards is mirrored; the one-line report says how many replicas.
- **Precision.** ``mixed_float16`` on GPUs of compute capability 7.0 or newer, unless
  ``mixed_precision=False`` or ``$COURSEKIT_MIXED_PRECISION=0``.
- **XLA.** ``$COURSEKIT_XLA`` (``auto``, the default; ``on``; ``off``) says whether
  ``fit_resumable`` compiles a model's training step with XLA (``xla_for``). ``auto``: on a
  CPU, for the models that ``make bench NAME=xla`` measured faster with it (``XLA_PAYS_ON_CPU``),
  in every profile (one code path; even a smoke run of 01 trains long enough to repay the
  second of compiling); on a GPU, Keras's own choice, left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
from dataclasses import dataclass

from .profiles import active_profile

DEFAULT_SEED = 1234  # used when neither setup(seed=...) nor $COURSEKIT_SEED says otherwise
SEED_ENV = "COURSEKIT_SEED"
DEVICES_ENV = "COURSEKIT_DEVICES"  # "all": MirroredStrategy over every visible device
MIXED_PRECISION_ENV = "COURSEKIT_MIXED_PRECISION"  # "0" disables mixed precision on GPUs
XLA_ENV = "COURSEKIT_XLA"  # "auto" (default), "on" or "off"
XLA_SETTINGS = ("auto", "on", "off")
# The models (``coursekit.benchmarks.xla.MODELS`` names) whose training XLA made at least 5%
# faster on this project's 2-core CPU under op determinism, as the notebooks run, in every
# measurement (cpu sizes, results/reports/xla-cpu-*.json): the dense autoencoder, 1.2–1.5×.
# The VAEs ran 0.97–1.0× as fast with it; the convolutional, GAN, LSTM and diffusion models
# 0.3–0.9× (oneDNN's convolutions are faster than XLA's on this CPU).
XLA_PAYS_ON_CPU = frozenset({"dense_autoencoder"})

_current_seed: int | None = None


class SetupError(ValueError):
    """A setting of ``setup`` (seed, devices, backend) that cannot be used."""


@dataclass(frozen=True)
class SetupInfo:
    seed: int
    profile: str
    devices: tuple[str, ...]
    precision: str
    replicas: int = 1
    xla: str = "off"

    def summary(self) -> str:
        import keras
        import tensorflow as tf

        return (
            f"TensorFlow {tf.__version__} | Keras {keras.__version__} | "
            f"devices: {', '.join(self.devices)} | replicas: {self.replicas} | "
            f"profile: {self.profile} | precision: {self.precision} | xla: {self.xla} | "
            f"seed: {self.seed}"
        )


def check_backend() -> None:
    """The course's training steps use ``tf.GradientTape``: Keras must run on TensorFlow."""
    import keras

    if keras.backend.backend() != "tensorflow":
        raise SetupError(
            f"Keras is using the {keras.backend.backend()!r} backend, but the course's "
            f"training steps need TensorFlow. Unset $KERAS_BACKEND (or set it to "
            f"'tensorflow') and restart the kernel.")


def seed_from_environment() -> int:
    value = os.environ.get(SEED_ENV, "").strip()
    if not value:
        return DEFAULT_SEED
    try:
        return int(value)
    except ValueError:
        raise SetupError(f"${SEED_ENV}={value!r} is not an integer; set it to a whole number "
                         f"(e.g. `export {SEED_ENV}=7`) or unset it.") from None


def current_seed() -> int:
    """The run's seed: the one given to the last ``setup()``, else ``$COURSEKIT_SEED`` or
    ``DEFAULT_SEED``."""
    return _current_seed if _current_seed is not None else seed_from_environment()


def seed_for(stream: str) -> int:
    """A 31-bit seed for the named ``stream``, derived from the run's seed.

    Different names give independent streams; a different run seed changes every one.
    """
    digest = hashlib.sha256(f"{current_seed()}:{stream}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def rng(stream: str):
    """``np.random.default_rng(seed_for(stream))``: a NumPy generator for one named use."""
    import numpy as np

    return np.random.default_rng(seed_for(stream))


def _benefits_from_mixed_precision(gpus) -> bool:
    import tensorflow as tf

    for gpu in gpus:
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        if capability and capability >= (7, 0):
            return True
    return False


def _distribution(gpus) -> int:
    """Install the strategy ``$COURSEKIT_DEVICES`` asks for; return the replica count."""
    import tensorflow as tf

    value = os.environ.get(DEVICES_ENV, "").strip().lower()
    if value in ("", "1", "one"):
        if tf.distribute.has_strategy():
            tf.distribute.experimental_set_strategy(None)
        return 1
    if value != "all":
        raise SetupError(f"${DEVICES_ENV}={value!r} is not understood; use 'all' (every "
                         f"visible device, MirroredStrategy) or leave it unset (one device).")
    kind = "GPU" if gpus else "CPU"
    devices = [d.name for d in tf.config.list_logical_devices(kind)]
    strategy = tf.distribute.MirroredStrategy(devices)
    tf.distribute.experimental_set_strategy(strategy)
    return strategy.num_replicas_in_sync


def xla_setting() -> str:
    """``$COURSEKIT_XLA``: ``auto`` (unset), ``on`` or ``off``."""
    value = os.environ.get(XLA_ENV, "").strip().lower() or "auto"
    aliases = {"1": "on", "true": "on", "0": "off", "false": "off"}
    value = aliases.get(value, value)
    if value not in XLA_SETTINGS:
        raise SetupError(f"${XLA_ENV}={os.environ[XLA_ENV]!r} is not understood; use 'auto' "
                         f"(XLA where it measured faster), 'on', 'off', or leave it unset.")
    return value


def _keras_decides_xla() -> bool:
    """``auto`` leaves XLA to Keras on a GPU, and under a distribution strategy (where Keras
    turns it off)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU")) or tf.distribute.has_strategy()


def xla_for(model_name: str | None) -> bool | None:
    """Whether to compile the training step of the model ``model_name`` (a name of
    ``coursekit.benchmarks.xla.MODELS``; None: not measured) with XLA: True or False, or None
    to leave Keras's own choice (``auto`` on a GPU). Read by ``fit_resumable``."""
    setting = xla_setting()
    if setting != "auto":
        return setting == "on"
    if _keras_decides_xla():
        return None
    return model_name in XLA_PAYS_ON_CPU


@contextlib.contextmanager
def op_determinism(on: bool):
    """TensorFlow's op determinism on or off inside the block, restored after it."""
    from tensorflow.python.framework import config  # the public API can only turn it on

    before = config.is_op_determinism_enabled()
    (config.enable_op_determinism if on else config.disable_op_determinism)()
    try:
        yield
    finally:
        (config.enable_op_determinism if before else config.disable_op_determinism)()


def set_jit_compile(model, on: bool) -> None:
    """``model.jit_compile = on``, also under the op determinism ``setup`` turns on. Keras
    refuses XLA while it is on, because some XLA kernels on a GPU have no deterministic
    version; TensorFlow hands determinism on to XLA, and on a CPU two XLA runs from one seed
    are bit-identical (tests/test_xla.py)."""
    with op_determinism(False):
        model.jit_compile = on
    if model.jit_compile != on:
        raise SetupError(f"{model.name}: Keras refused jit_compile={on} (a layer that XLA "
                         f"cannot compile, or run_eagerly); set ${XLA_ENV}=off.")
    model.train_function = None  # made again, with the new setting, by the next fit


def xla_summary() -> str:
    """The setup line's XLA entry: what ``xla_for`` will do in this run."""
    setting = xla_setting()
    if setting != "auto":
        return f"{setting} ({XLA_ENV})"
    if _keras_decides_xla():
        return "auto (Keras's choice)"
    return f"auto (on for: {', '.join(sorted(XLA_PAYS_ON_CPU))})"


def setup(seed: int | None = None, mixed_precision: bool | None = None, quiet: bool = False):
    """Seed everything, configure devices and print one line describing the run.

    - seeds Python, NumPy and TensorFlow (``keras.utils.set_random_seed``) with ``seed``
      (default: ``$COURSEKIT_SEED`` or ``DEFAULT_SEED``) and makes TensorFlow ops
      deterministic, so a seed and profile give the same numbers;
    - enables GPU memory growth (so a notebook does not grab the whole card);
    - ``$COURSEKIT_DEVICES=all``: MirroredStrategy over every device (see the module doc);
    - turns on ``mixed_float16`` on GPUs of compute capability 7.0 or newer, unless
      ``mixed_precision=False`` or ``$COURSEKIT_MIXED_PRECISION=0``;
    - checks ``$COURSEKIT_XLA`` and says what it will do (see the module doc).

    Returns a ``SetupInfo``.
    """
    global _current_seed
    import keras
    import tensorflow as tf

    check_backend()
    profile = active_profile()
    seed = seed_from_environment() if seed is None else int(seed)
    _current_seed = seed
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised in this process (a re-run cell)
            pass
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    replicas = _distribution(gpus)

    if mixed_precision is None:
        mixed_precision = os.environ.get(MIXED_PRECISION_ENV, "1") != "0" and (
            _benefits_from_mixed_precision(gpus)
        )
    policy = "mixed_float16" if mixed_precision else "float32"
    keras.mixed_precision.set_global_policy(policy)

    if gpus:
        names = tuple(
            tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus
        )
    else:
        names = (f"CPU ({os.cpu_count()} cores, {platform.machine()})",)
    info = SetupInfo(seed=seed, profile=profile, devices=names, precision=policy,
                     replicas=replicas, xla=xla_summary())
    if not quiet:
        print(info.summary(), flush=True)
    return info
