"""coursekit: the helpers the generative deep learning course notebooks import.

Modules, one concept each: ``data`` (verified data sets), ``profiles`` (compute budgets),
``device`` (the seed, devices, precision), ``gradients`` (applying a loss in any precision
on any number of replicas), ``training`` (callbacks, checkpoint-and-resume),
``adversarial`` (Algorithm 1's loop with hooks, for every GAN), ``metrics`` (classifier,
FID, class histogram), ``viz`` (figures), ``widgets`` (live explorers), ``export`` (the
notebooks' ``#@save`` cells → ``coursekit.models``), ``slides`` (slideshow metadata
and the lecture decks), ``testing`` (mixed-precision and
two-replica checks), ``bench`` (benchmarks in ``coursekit.benchmarks``), and one module of
sizes and helpers per notebook topic (``autoencoder``, ``vae``, ``gan``, ``infogan``,
``pokemon``, ``cppn``, ``wgan``).
The model code itself is written in the notebooks and exported to ``coursekit.models``.
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
from .device import DEFAULT_SEED, current_seed, rng, seed_for, setup  # noqa: E402
from .gradients import apply_loss, for_precision  # noqa: E402
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
    "apply_loss",
    "current_seed",
    "for_precision",
    "rng",
    "seed_for",
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
