"""Compute budgets: one setting (``$COURSEKIT_PROFILE``) chooses every size a notebook uses.

Introduced in 01_autoencoders, section 0. Profiles:

- ``smoke``: CI; seconds to a couple of minutes per notebook, just enough for the asserts.
- ``cpu``: a student's laptop; minutes, with results worth looking at.
- ``gpu``: the full run.

The default is ``gpu`` when TensorFlow sees a GPU, else ``cpu``. Each topic module defines
a ``Budget`` with the same keys in every profile, so the code path never changes: only sizes.
"""

from __future__ import annotations

import os
from types import MappingProxyType, SimpleNamespace

PROFILE_ENV = "COURSEKIT_PROFILE"
PROFILES = ("smoke", "cpu", "gpu")


class ProfileError(ValueError):
    """An unknown profile name, or a budget that does not cover every profile."""


def check_profile(name: str) -> str:
    """Return ``name`` if it is a known profile, else raise ``ProfileError`` explaining the fix."""
    if name not in PROFILES:
        raise ProfileError(
            f"Unknown profile {name!r}. Choose one of {', '.join(PROFILES)} "
            f"(set ${PROFILE_ENV}, e.g. `export {PROFILE_ENV}=cpu`, or pass --profile)."
        )
    return name


def _gpu_available() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def active_profile() -> str:
    """The profile named by ``$COURSEKIT_PROFILE``, or the default for this machine."""
    value = os.environ.get(PROFILE_ENV, "").strip()
    if value:
        return check_profile(value)
    return "gpu" if _gpu_available() else "cpu"


class Budget:
    """The sizes of one notebook in each profile.

    >>> AE = Budget(smoke=dict(epochs=1), cpu=dict(epochs=20), gpu=dict(epochs=100))
    >>> AE.get("smoke").epochs
    1

    Every profile must define the same keys; ``get()`` returns a read-only namespace for
    the active profile (or the one named).
    """

    def __init__(self, **by_profile: dict):
        missing = [p for p in PROFILES if p not in by_profile]
        extra = [p for p in by_profile if p not in PROFILES]
        if missing or extra:
            raise ProfileError(
                f"Budget needs exactly {PROFILES}; missing {missing}, extra {extra}."
            )
        keys = {p: set(sizes) for p, sizes in by_profile.items()}
        reference = keys["smoke"]
        for profile, names in keys.items():
            if names != reference:
                raise ProfileError(
                    f"Budget profile {profile!r} differs from 'smoke' in keys "
                    f"{sorted(names ^ reference)}; every profile must set the same sizes."
                )
        self._sizes = {p: MappingProxyType(dict(s)) for p, s in by_profile.items()}

    def get(self, profile: str | None = None) -> SimpleNamespace:
        name = check_profile(profile) if profile else active_profile()
        return SimpleNamespace(profile=name, **self._sizes[name])

    def table(self) -> dict[str, dict]:
        """All profiles' sizes, for the README and for printing in a notebook."""
        return {p: dict(s) for p, s in self._sizes.items()}
