"""Notebook 02_vae's infrastructure: sizes and the stochastically binarised MNIST data.

The VAE itself (the KL, the likelihood, the reparameterised sampling, the model and its
``train_step``, the ELBO and IWAE evaluations) is written in the notebook's ``#@save``
cells and exported to ``coursekit.models.vae``. This module holds what the notebook uses
but does not teach:

- ``BUDGET``: the sizes of every profile;
- ``binarize``: the fixed binarised test set (02_vae, section 5);
- ``binarizer`` and ``train_pipeline``: training images binarised afresh every epoch
  (02_vae, section 5), as in Burda et al. 2015.

Every likelihood in the notebook is in nats per image (natural log, summed over the 784
pixels). The trained VAE that notebook 03 compares with the GAN comes from
``coursekit.zoo.vae_samples``.
"""

from __future__ import annotations

import numpy as np

from ..device import seed_for
from ..profiles import Budget

# The test set is data, not a random choice of the run: it is binarised once with this fixed
# seed, so every run and every seed evaluates on the same binary images (Burda et al. 2015).
TEST_SEED = 2015

BUDGET = Budget(
    smoke=dict(
        batch=100, learning_rate=1e-3, latent_dim=32, train_size=10_000, epochs=4,
        test_size=1_000, iwae_k=50, iwae_images=300, nll_target=140.0,
        epochs_2d=8, beta_train_size=5_000, beta_epochs=3, components=10, mixture_epochs=2,
    ),
    cpu=dict(
        batch=100, learning_rate=1e-3, latent_dim=32, train_size=60_000, epochs=40,
        test_size=10_000, iwae_k=1_000, iwae_images=10_000, nll_target=95.0,
        epochs_2d=10, beta_train_size=20_000, beta_epochs=8, components=10,
        mixture_epochs=10,
    ),
    gpu=dict(
        batch=100, learning_rate=1e-3, latent_dim=32, train_size=60_000, epochs=300,
        test_size=10_000, iwae_k=5_000, iwae_images=10_000, nll_target=92.0,
        epochs_2d=50, beta_train_size=60_000, beta_epochs=30, components=10,
        mixture_epochs=50,
    ),
)


def check_images(images, what: str = "images") -> np.ndarray:
    """``images`` as float32 (N, 28, 28, 1) intensities in [0, 1], or a ValueError that says
    what was wrong."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1):
        raise ValueError(
            f"{what} must have shape (N, 28, 28, 1) as returned by ck.load_mnist(), "
            f"got {images.shape}."
        )
    if images.size and (images.min() < 0 or images.max() > 1):
        raise ValueError(
            f"{what} must be intensities in [0, 1], got values in "
            f"[{images.min():.3g}, {images.max():.3g}]; divide uint8 pixels by 255."
        )
    return images.astype(np.float32, copy=False)


def binarize(images, seed: int = TEST_SEED) -> np.ndarray:
    """Draw every pixel once as Bernoulli(intensity): the fixed binarised test set.

    Introduced in 02_vae, section 5. Thresholding at 0.5 instead gives a different, much
    easier data set whose likelihoods cannot be compared with the literature's.
    """
    images = check_images(images)
    rng = np.random.default_rng(seed)
    return (rng.random(images.shape, dtype=np.float32) < images).astype(np.float32)


def binarizer(seed: int):
    """A tf.data ``map_fn`` that binarises each batch afresh: new pixels every epoch.

    The draws come from a ``tf.random.Generator`` seeded with ``seed``; its state lives
    outside the data set, so a new epoch (a new iterator) continues the random stream
    instead of repeating it. Introduced in 02_vae, section 5.
    """
    import tensorflow as tf

    generator = tf.random.Generator.from_seed(seed)

    def binarize_batch(images):
        noise = generator.uniform(tf.shape(images), dtype=images.dtype)
        return tf.cast(noise < images, tf.float32)

    binarize_batch.generator = generator  # keep it alive with the data set
    return binarize_batch


def train_pipeline(images, batch: int, stream: str = "vae data"):
    """Shuffled batches of ``images`` binarised afresh each epoch (see ``binarizer``); the
    shuffling and the draws come from the run seed's ``stream``. Introduced in 02_vae,
    section 5.

    The binarising map runs after ``make_pipeline`` in a single thread: the generator is
    stateful, so one thread is what makes a seed give the same draws on every run.
    """
    import tensorflow as tf

    from ..data import make_pipeline

    images = check_images(images)
    seed = seed_for(stream)
    ds = make_pipeline(images, batch, shuffle=True, seed=seed)
    return ds.map(binarizer(seed)).prefetch(tf.data.AUTOTUNE)
