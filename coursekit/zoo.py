"""Models a notebook trains and another reuses: the one documented place for them.

- ``autoencoder_2d(profile)``: the 2-D-code autoencoder of 01_autoencoders, section 2, which
  02_vae, section 9 compares with the VAE;
- ``vae_samples(n, profile)``: decoded prior samples of the VAE of 02_vae, section 5, which
  03_gan compares with the GAN (FID).

Each is built and trained by the notebook's own exported code (``coursekit.models``),
with the notebook's settings for ``profile`` and under the notebook's checkpoint name, so
a run of the notebook makes the reuse free, and a model trained here is the one the
notebook would have trained (and reuses). If there is no checkpoint yet, it is trained now:
the notebook that asks says how long that takes. The profile is passed explicitly (it
chooses the sizes and the checkpoint folder); nothing here changes the environment.
"""

from __future__ import annotations

import numpy as np

_TRAINED: dict = {}


def _profile(profile: str | None) -> str:
    from .profiles import active_profile, check_profile

    return check_profile(profile) if profile else active_profile()


def autoencoder_2d(profile: str | None = None):
    """The trained 2-D autoencoder of 01_autoencoders, section 2 (an ``Autoencoder`` of
    ``coursekit.models.autoencoders``), for ``profile`` (default: the active one):
    reused from notebook 01's checkpoint, or trained now with its settings."""
    from .data import load_mnist
    from .models import autoencoders
    from .topics.autoencoders import BUDGET

    profile = _profile(profile)
    key = ("autoencoder_2d", profile)
    if key not in _TRAINED:
        sizes = BUDGET.get(profile)
        images = load_mnist("train").images[: sizes.train_subset]
        model, _ = autoencoders.train_2d_autoencoder(images, epochs=sizes.epochs_2d,
                                                     batch_size=sizes.batch, profile=profile)
        _TRAINED[key] = model
    return _TRAINED[key]


def vae(profile: str | None = None):
    """The trained VAE of 02_vae, section 5 (a ``VAE`` of ``coursekit.models.vae``), for
    ``profile``: reused from notebook 02's checkpoint, or trained now with its settings."""
    from .data import load_mnist
    from .models import vae as models
    from .topics.vae import BUDGET

    profile = _profile(profile)
    key = ("vae", profile)
    if key not in _TRAINED:
        sizes = BUDGET.get(profile)
        images = load_mnist("train").images[: sizes.train_size]
        model, _, _ = models.train_section5_vae(
            images, latent_dim=sizes.latent_dim, epochs=sizes.epochs, batch=sizes.batch,
            learning_rate=sizes.learning_rate, profile=profile)
        _TRAINED[key] = model
    return _TRAINED[key]


def vae_samples(n: int, profile: str | None = None, stream: str = "vae samples") -> np.ndarray:
    """``n`` images decoded from z ~ N(0, I) by the VAE of 02_vae, section 5: float32
    (n, 28, 28, 1) Bernoulli means in [0, 1]. The draws come from the run seed's
    ``stream`` (``coursekit.device.rng``)."""
    from .device import rng

    if int(n) != n or n < 1:
        raise ValueError(f"n (number of samples) must be a positive integer, got {n!r}.")
    model = vae(profile)
    z = rng(stream).standard_normal((int(n), model.latent_dim)).astype(np.float32)
    return model.decode(z).astype(np.float32)
