"""coursekit: what the generative deep learning course notebooks import.

The package has three roles (CONTRIBUTING.md, "Layout"): infrastructure modules here, one
concept each; ``topics/``, one helper module per notebook, named after it; ``models/``,
generated from the notebooks' ``#@save`` cells; plus ``benchmarks/`` and ``tools/``, which
no notebook imports. The most used names are re-exported below.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up chatter

# The most used names, imported on first use (PEP 562), so that tools which need none of
# them (``python -m coursekit.tools.export --check``, ``... slides --check``) do not wait
# seconds for TensorFlow and Keras.
_EXPORTS = {
    "checkpoints": ("Checkpoint", "checkpoint_dir"),
    "checks": ("ClaimFailed", "check"),
    "data": ("DataError", "ImageData", "PokemonSprites", "fetch", "load_fashion_mnist",
             "load_mnist", "load_pokemon", "make_pipeline"),
    "exercises": ("exercise",),
    "device": ("DEFAULT_SEED", "current_seed", "rng", "seed_for", "setup"),
    "gradients": ("apply_loss", "for_precision"),
    "profiles": ("Budget", "ProfileError", "active_profile"),
    "recorders": ("Recorder", "SampleGrid"),
    "training": ("ProgressLogger", "fit_resumable"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name):
    if name in _MODULE_OF:
        import importlib

        value = getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_MODULE_OF))


__version__ = "0.1.0"

__all__ = sorted(_MODULE_OF)
