"""coursekit: the helpers the generative deep learning course notebooks import.

Modules, one concept each: ``data`` (verified data sets), ``profiles`` (compute budgets),
``device`` (seeds and devices), ``training`` (callbacks, checkpoint-and-resume),
``viz`` (figures), ``widgets`` (live explorers), ``bench`` (benchmarks) and one module per
notebook topic: ``autoencoder`` (01), ``vae`` (02), ``gan`` and ``metrics`` (03),
``pokemon`` (05). Notebooks import a topic module as ``from coursekit import vae``.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up chatter

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
from .device import DEFAULT_SEED, setup  # noqa: E402
from .profiles import Budget, ProfileError, active_profile  # noqa: E402
from .training import (  # noqa: E402
    Checkpoint,
    EveryEpochs,
    ProgressLogger,
    SampleGrid,
    checkpoint_dir,
    fit_resumable,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_SEED",
    "Budget",
    "Checkpoint",
    "EveryEpochs",
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
