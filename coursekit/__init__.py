"""coursekit: what the generative deep learning course notebooks import.

The package has three roles (README.md, "Layout"): infrastructure modules here, one
concept each; ``topics/``, one helper module per notebook, named after it; ``models/``,
generated from the notebooks' ``#@save`` cells; plus ``benchmarks/`` and ``tools/``, which
no notebook imports. The most used names are re-exported below.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up chatter

from .checkpoints import Checkpoint, checkpoint_dir  # noqa: E402
from .data import (  # noqa: E402
    DataError,
    ImageData,
    PokemonSprites,
    fetch,
    load_fashion_mnist,
    load_mnist,
    load_pokemon,
    make_pipeline,
)
from .device import DEFAULT_SEED, current_seed, rng, seed_for, setup  # noqa: E402
from .gradients import apply_loss, for_precision  # noqa: E402
from .profiles import Budget, ProfileError, active_profile  # noqa: E402
from .recorders import Recorder, SampleGrid  # noqa: E402
from .training import ProgressLogger, fit_resumable  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_SEED",
    "apply_loss",
    "current_seed",
    "for_precision",
    "rng",
    "seed_for",
    "Budget",
    "Checkpoint",
    "Recorder",
    "ProgressLogger",
    "SampleGrid",
    "checkpoint_dir",
    "fit_resumable",
    "DataError",
    "ImageData",
    "PokemonSprites",
    "ProfileError",
    "active_profile",
    "fetch",
    "load_fashion_mnist",
    "load_mnist",
    "load_pokemon",
    "make_pipeline",
    "setup",
]
