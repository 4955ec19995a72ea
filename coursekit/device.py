"""One call at the top of every notebook: seeds, versions, devices, profile and precision.

Introduced in 01_autoencoders, section 0.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

from .profiles import active_profile

DEFAULT_SEED = 1234  # the one place the course's seed is set
MIXED_PRECISION_ENV = "COURSEKIT_MIXED_PRECISION"  # "0" disables mixed precision on GPUs


@dataclass(frozen=True)
class SetupInfo:
    seed: int
    profile: str
    devices: tuple[str, ...]
    precision: str

    def summary(self) -> str:
        import keras
        import tensorflow as tf

        return (
            f"TensorFlow {tf.__version__} | Keras {keras.__version__} | "
            f"devices: {', '.join(self.devices)} | profile: {self.profile} | "
            f"precision: {self.precision} | seed: {self.seed}"
        )


def _benefits_from_mixed_precision(gpus) -> bool:
    import tensorflow as tf

    for gpu in gpus:
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        if capability and capability >= (7, 0):
            return True
    return False


def setup(seed: int = DEFAULT_SEED, mixed_precision: bool | None = None, quiet: bool = False):
    """Seed everything, configure devices and print one line describing the run.

    - seeds Python, NumPy and TensorFlow (``keras.utils.set_random_seed``) and makes
      TensorFlow ops deterministic, so a seed and profile give the same numbers;
    - enables GPU memory growth (so a notebook does not grab the whole card);
    - turns on ``mixed_float16`` on GPUs of compute capability 7.0 or newer, unless
      ``mixed_precision=False`` or ``$COURSEKIT_MIXED_PRECISION=0``.

    Returns a ``SetupInfo``.
    """
    import keras
    import tensorflow as tf

    profile = active_profile()
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised in this process (a re-run cell)
            pass
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()

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
    info = SetupInfo(seed=seed, profile=profile, devices=names, precision=policy)
    if not quiet:
        print(info.summary(), flush=True)
    return info
