"""Infrastructure for notebook 03_gan: its budget, the 1-D toy's helpers, a copying check.

The GAN itself (losses, Algorithm 1's loop ``AdversarialModel``, its ``GAN`` subclass, the MLP,
DCGAN and toy networks) is written in the notebook's ``#@save`` cells and exported to
``coursekit.models.gan``; the benchmark (``python -m coursekit.tools.bench gan``) trains that
code. Introduced in 03_gan.
"""

from __future__ import annotations

import numpy as np

from ..profiles import Budget

BUDGET = Budget(
    smoke=dict(toy_steps=600, dstar_steps=800, batch=64, k=1,
               mlp_epochs=2, dcgan_epochs=3, steps_per_epoch=100, collapse_epochs=2,
               dcgan_width=16, eval_samples=1000, fid_samples=2000, throughput_steps=20),
    cpu=dict(toy_steps=1000, dstar_steps=3000, batch=64, k=1,
             mlp_epochs=8, dcgan_epochs=24, steps_per_epoch=300, collapse_epochs=4,
             dcgan_width=32, eval_samples=2000, fid_samples=10_000, throughput_steps=100),
    gpu=dict(toy_steps=1500, dstar_steps=5000, batch=128, k=1,
             mlp_epochs=50, dcgan_epochs=50, steps_per_epoch=468, collapse_epochs=20,
             dcgan_width=64, eval_samples=5000, fid_samples=10_000, throughput_steps=300),
)


def normal_pdf(x, mean: float, std: float):
    """The density of N(mean, std²) at x (numpy). Introduced in 03_gan, section 3."""
    return np.exp(-0.5 * ((np.asarray(x) - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def d_of_x(discriminator, x) -> np.ndarray:
    """D(x) = σ(logit) on 1-D points x (a grid), as a numpy vector."""
    import keras

    x = np.asarray(x, np.float32).reshape(-1, 1)
    logits = keras.ops.convert_to_numpy(discriminator(x, training=False)).astype(np.float64)
    return 1.0 / (1.0 + np.exp(-logits.reshape(-1)))
