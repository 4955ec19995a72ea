"""The variational autoencoder of notebook 02_vae: model, binarised MNIST, ELBO and IWAE.

Introduced in 02_vae. Section numbers below refer to that notebook:

- section 3: ``gaussian_kl``, ``lecture_penalty`` (the closed-form KL and the lecture's penalty);
- section 4: ``Sampling`` (the reparameterisation trick);
- section 5: ``binarize``, ``binarizer``, ``train_pipeline`` (stochastically binarised MNIST,
  as in Burda et al. 2015), ``VAE``, ``train_vae``;
- section 6: ``elbo``, ``iwae_nll`` (test ELBO and importance-sampled negative log-likelihood);
- section 9 reuses notebook 01's 2-D autoencoder (``autoencoder.trained_2d_autoencoder``);
- section 10: ``beta_sweep``;
- ``prior_samples``: decoded draws from the prior of the section-5 VAE (notebook 03 compares
  its samples with the GAN's); ``benchmark``: what ``python -m coursekit.bench vae`` runs.

Every likelihood here is in nats per image (natural log, summed over the 784 pixels).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

from .profiles import PROFILE_ENV, Budget

LATENT_DIM = 32  # the MNIST VAE of section 5 (and of prior_samples)
HIDDEN = (512, 256)  # encoder layer widths; the decoder mirrors them
CHECKPOINT = "02_vae/vae"  # fit_resumable name of the section-5 VAE
TEST_SEED = 2015  # the test set is binarised once, with this seed (Burda et al. 2015)
LOG_2PI = math.log(2.0 * math.pi)

BUDGET = Budget(
    smoke=dict(
        batch=100, learning_rate=1e-3, train_size=10_000, epochs=4, test_size=1_000,
        iwae_k=50, iwae_images=300, nll_target=140.0,
        epochs_2d=3, beta_train_size=5_000, beta_epochs=3,
    ),
    cpu=dict(
        batch=100, learning_rate=1e-3, train_size=60_000, epochs=40, test_size=10_000,
        iwae_k=1_000, iwae_images=10_000, nll_target=95.0,
        epochs_2d=10, beta_train_size=20_000, beta_epochs=8,
    ),
    gpu=dict(
        batch=100, learning_rate=1e-3, train_size=60_000, epochs=300, test_size=10_000,
        iwae_k=5_000, iwae_images=10_000, nll_target=92.0,
        epochs_2d=50, beta_train_size=60_000, beta_epochs=30,
    ),
)
BETAS = (0.1, 0.3, 1.0, 3.0, 10.0)  # the beta knob of section 10


# --------------------------------------------------------------------------- closed forms


def gaussian_kl(mean, log_var):
    """KL(N(mean, diag(exp(log_var))) || N(0, I)) summed over the last axis, in nats.

    Introduced in 02_vae, section 3: 0.5 * sum(exp(log_var) - (1 + log_var) + mean^2).
    """
    return 0.5 * ops.sum(ops.exp(log_var) - 1.0 - log_var + ops.square(mean), axis=-1)


def lecture_penalty(mean, log_var):
    """The lecture's penalty sum_i (exp(s_i) - (1 + s_i) + m_i^2), s_i a log-variance.

    Equal to 2 * ``gaussian_kl`` (introduced in 02_vae, section 3).
    """
    return ops.sum(ops.exp(log_var) - (1.0 + log_var) + ops.square(mean), axis=-1)


def gaussian_log_density(x, mean, log_var):
    """log N(x; mean, diag(exp(log_var))) summed over the last axis."""
    return -0.5 * ops.sum(
        LOG_2PI + log_var + ops.square(x - mean) * ops.exp(-log_var), axis=-1
    )


def bernoulli_log_likelihood(x, logits):
    """log p(x | logits) for binary images x, summed over every pixel (one value per image)."""
    x = ops.cast(x, "float32")
    logits = ops.cast(logits, "float32")
    # log sigmoid(l) for x=1 and log sigmoid(-l) for x=0, computed stably
    per_pixel = x * logits - ops.softplus(logits)
    return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=-1)


# --------------------------------------------------------------------------- data


def _check_images(images, what: str = "images") -> np.ndarray:
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
    images = _check_images(images)
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


def train_pipeline(images, batch: int, seed: int = 0):
    """Shuffled batches of ``images`` binarised afresh each epoch (see ``binarizer``).

    The binarising map runs after ``make_pipeline`` in a single thread: the generator is
    stateful, so one thread is what makes a seed give the same draws on every run.
    """
    import tensorflow as tf

    from .data import make_pipeline

    images = _check_images(images)
    ds = make_pipeline(images, batch, shuffle=True, seed=seed)
    return ds.map(binarizer(seed)).prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------- model


@keras.saving.register_keras_serializable(package="coursekit")
class Sampling(keras.layers.Layer):
    """The reparameterisation trick: z = mean + exp(log_var / 2) * eps, eps ~ N(0, I).

    The randomness enters through eps only, so gradients flow to mean and log_var.
    Introduced in 02_vae, section 4.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mean, log_var = inputs
        eps = keras.random.normal(ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * eps

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def make_encoder(latent_dim: int = LATENT_DIM, hidden=HIDDEN) -> keras.Model:
    """MLP encoder: images (N, 28, 28, 1) -> (mean, log_var), each (N, latent_dim), float32."""
    x = inputs = keras.Input((28, 28, 1))
    x = keras.layers.Flatten()(x)
    for width in hidden:
        x = keras.layers.Dense(width, activation="relu")(x)
    mean = keras.layers.Dense(latent_dim, dtype="float32", name="mean")(x)
    log_var = keras.layers.Dense(latent_dim, dtype="float32", name="log_var")(x)
    return keras.Model(inputs, [mean, log_var], name="encoder")


def make_decoder(latent_dim: int = LATENT_DIM, hidden=HIDDEN) -> keras.Model:
    """MLP decoder: codes (N, latent_dim) -> Bernoulli logits (N, 28, 28, 1), float32."""
    x = inputs = keras.Input((latent_dim,))
    for width in reversed(hidden):
        x = keras.layers.Dense(width, activation="relu")(x)
    x = keras.layers.Dense(28 * 28, dtype="float32", name="logits")(x)
    logits = keras.layers.Reshape((28, 28, 1), dtype="float32")(x)
    return keras.Model(inputs, logits, name="decoder")


def _batched(function, array, batch: int) -> np.ndarray:
    """Apply a network to ``array`` in batches (eagerly: no retracing per new size)."""
    return np.concatenate([ops.convert_to_numpy(function(array[s : s + batch]))
                           for s in range(0, len(array), batch)])


@keras.saving.register_keras_serializable(package="coursekit")
class VAE(keras.Model):
    """Variational autoencoder with a Bernoulli likelihood, trained on -ELBO.

    loss = reconstruction + beta * kl per image, where reconstruction = -log p(x|z) for
    one z ~ q(z|x) and kl = KL(q(z|x) || N(0, I)) in closed form; beta = 1 is the VAE of
    Kingma & Welling, other values the beta-VAE knob. ``call`` returns the decoder's
    logits for a sampled code. Introduced in 02_vae, section 5.
    """

    def __init__(self, latent_dim: int = LATENT_DIM, hidden=HIDDEN, beta: float = 1.0,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim}.")
        if beta < 0:
            raise ValueError(f"beta weighs the KL term and must be >= 0, got {beta}.")
        self.latent_dim, self.hidden, self.beta, self.seed = latent_dim, tuple(hidden), beta, seed
        self.encoder = make_encoder(latent_dim, hidden)
        self.decoder = make_decoder(latent_dim, hidden)
        self.sampling = Sampling(seed, name="sampling")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, images, training=False):
        mean, log_var = self.encoder(images, training=training)
        return self.decoder(self.sampling([mean, log_var]), training=training)

    def terms(self, images, training=False):
        """Per-image (reconstruction, kl) in nats: the two parts of -ELBO."""
        mean, log_var = self.encoder(images, training=training)
        z = self.sampling([mean, log_var])
        logits = self.decoder(z, training=training)
        reconstruction = -bernoulli_log_likelihood(images, logits)
        return reconstruction, gaussian_kl(mean, log_var)

    def _update(self, reconstruction, kl):
        loss = ops.mean(reconstruction + self.beta * kl)
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(ops.mean(reconstruction))
        self.kl_tracker.update_state(ops.mean(kl))
        return loss

    def train_step(self, data):
        import tensorflow as tf

        images = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            reconstruction, kl = self.terms(images, training=True)
            loss = ops.mean(reconstruction + self.beta * kl)
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        self._update(reconstruction, kl)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        images = data[0] if isinstance(data, tuple) else data
        self._update(*self.terms(images))
        return {m.name: m.result() for m in self.metrics}

    def decode(self, z, batch: int = 1000) -> np.ndarray:
        """Bernoulli means (pixel probabilities) (N, 28, 28, 1) for codes z (N, latent_dim)."""
        z = np.asarray(z, np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"codes must have shape (N, {self.latent_dim}), got {z.shape}.")
        return _batched(lambda b: ops.sigmoid(self.decoder(b)), z, batch)

    def encode(self, images, batch: int = 1000) -> np.ndarray:
        """Posterior means (N, latent_dim) of q(z|x)."""
        return _batched(lambda b: self.encoder(b)[0], _check_images(images), batch)

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim,
                "hidden": list(self.hidden), "beta": self.beta, "seed": self.seed}


def train_vae(
    images,
    budget=None,
    *,
    latent_dim: int = LATENT_DIM,
    beta: float = 1.0,
    epochs: int | None = None,
    name: str | None = CHECKPOINT,
    seed: int = 0,
    callbacks=(),
):
    """Build a ``VAE`` and train it on ``images`` (binarised afresh each epoch).

    Sizes come from ``budget`` (default: the active profile of ``BUDGET``). Training goes
    through ``fit_resumable``: with a ``name`` a re-run reuses the checkpoint. Returns
    (model, history). Introduced in 02_vae, section 5.
    """
    from .training import fit_resumable

    budget = budget or BUDGET.get()
    images = _check_images(images)
    epochs = budget.epochs if epochs is None else epochs
    model = VAE(latent_dim=latent_dim, beta=beta, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(budget.learning_rate))
    config = dict(kind="vae", latent_dim=latent_dim, hidden=HIDDEN, beta=beta, seed=seed,
                  n=len(images), batch=budget.batch, learning_rate=budget.learning_rate)
    history = fit_resumable(
        model, train_pipeline(images, budget.batch, seed), epochs=epochs, name=name,
        config=config, callbacks=callbacks, examples_per_step=budget.batch,
    )
    return model, history


def beta_sweep(images, binary_test, betas=BETAS, budget=None, latent_dim: int = LATENT_DIM):
    """Train one VAE per beta (checkpointed) and measure test reconstruction and KL.

    Returns a list of dicts (beta, model, reconstruction, kl), in the order of ``betas``.
    Introduced in 02_vae, section 10 (the beta knob, Higgins et al. 2017).
    """
    budget = budget or BUDGET.get()
    images = _check_images(images)[: budget.beta_train_size]
    results = []
    for beta in betas:
        model, _ = train_vae(images, budget, latent_dim=latent_dim, beta=float(beta),
                             epochs=budget.beta_epochs, name=f"02_vae/beta-{beta:g}")
        bound = elbo(model, binary_test)
        results.append(dict(beta=float(beta), model=model,
                            reconstruction=bound["reconstruction"], kl=bound["kl"]))
    return results


# --------------------------------------------------------------------------- evaluation


def elbo(model: VAE, binary_images, batch: int = 500) -> dict:
    """Test-set ELBO with one posterior sample per image, in nats.

    Returns the mean ``elbo``, ``reconstruction`` (-E_q log p(x|z)) and ``kl``, and the
    per-image ``elbo_per_image``. Introduced in 02_vae, section 6.
    """
    images = _check_images(binary_images, "binary_images")
    recs, kls = [], []
    for start in range(0, len(images), batch):
        reconstruction, kl = model.terms(images[start : start + batch])
        recs.append(ops.convert_to_numpy(reconstruction))
        kls.append(ops.convert_to_numpy(kl))
    rec, kl = np.concatenate(recs), np.concatenate(kls)
    return {"elbo": float(np.mean(-rec - kl)), "reconstruction": float(rec.mean()),
            "kl": float(kl.mean()), "elbo_per_image": -rec - kl}


def iwae_log_weights(model: VAE, images, k: int):
    """log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x) for k draws z_k ~ q(z|x).

    Shape (N, k). Introduced in 02_vae, section 6.
    """
    mean, log_var = model.encoder(images)
    n, d = ops.shape(mean)[0], model.latent_dim
    eps = keras.random.normal((n, k, d), seed=model.sampling.seed_generator)
    z = mean[:, None] + ops.exp(0.5 * log_var)[:, None] * eps  # (N, k, d)
    logits = model.decoder(ops.reshape(z, (-1, d)))
    repeated = ops.repeat(images, k, axis=0)
    log_px_z = ops.reshape(bernoulli_log_likelihood(repeated, logits), (n, k))
    log_pz = -0.5 * ops.sum(LOG_2PI + ops.square(z), axis=-1)
    log_qz = gaussian_log_density(z, mean[:, None], log_var[:, None])
    return log_px_z + log_pz - log_qz


def iwae_nll(model: VAE, binary_images, k: int, chunk: int = 20_000) -> np.ndarray:
    """Per-image -log p(x) estimated with the IWAE bound: -log (1/k) sum_k w_k.

    The bound tightens as k grows (Burda et al. 2015); k = 1 is the ELBO. ``chunk`` caps
    images * k per decoder call. Returns an array (N,) in nats. Introduced in 02_vae,
    section 6.
    """
    import tensorflow as tf

    if k < 1:
        raise ValueError(f"k (importance samples per image) must be >= 1, got {k}.")
    images = _check_images(binary_images, "binary_images")
    per_call = max(1, chunk // k)

    @tf.function(autograph=False)
    def bound(x):
        log_w = iwae_log_weights(model, x, k)
        return -(tf.reduce_logsumexp(log_w, axis=1) - math.log(k))

    out = [bound(tf.constant(images[s : s + per_call])).numpy()
           for s in range(0, len(images), per_call)]
    return np.concatenate(out)


# --------------------------------------------------------------------------- prior samples

_TRAINED: dict = {}


@contextlib.contextmanager
def _profile(name: str):
    """Temporarily make ``name`` the active profile (checkpoints live under the profile)."""
    old = os.environ.get(PROFILE_ENV)
    os.environ[PROFILE_ENV] = name
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(PROFILE_ENV, None)
        else:
            os.environ[PROFILE_ENV] = old


def trained_vae(profile: str | None = None) -> VAE:
    """The section-5 VAE of notebook 02 for ``profile``: its checkpoint, or trained now.

    Uses the same ``train_vae`` call (and checkpoint name) as the notebook, so a model the
    notebook trained is reused, and one trained here is reused by the notebook.
    """
    from .data import load_mnist

    budget = BUDGET.get(profile)
    if budget.profile not in _TRAINED:
        with _profile(budget.profile):
            train = load_mnist("train").images[: budget.train_size]
            model, _ = train_vae(train, budget)
        _TRAINED[budget.profile] = model
    return _TRAINED[budget.profile]


def prior_samples(n: int, profile: str | None = None, seed: int = 0) -> np.ndarray:
    """``n`` images decoded from z ~ N(0, I) by notebook 02's MNIST VAE, uint8 (n, 28, 28).

    Pixels are the Bernoulli means times 255, rounded. The VAE is loaded from the
    notebook's checkpoint for ``profile`` (default: the active profile) or trained through
    ``fit_resumable`` if there is none. Notebook 03 compares these with GAN samples.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n (number of samples) must be a positive integer, got {n!r}.")
    model = trained_vae(profile)
    z = np.random.default_rng(seed).standard_normal((int(n), model.latent_dim)).astype(np.float32)
    return np.rint(model.decode(z)[..., 0] * 255.0).astype(np.uint8)


# --------------------------------------------------------------------------- benchmark


def benchmark(profile: str, out_dir: Path) -> dict:
    """Train the section-5 VAE from scratch and report test NLL (IWAE), ELBO, KL and speed."""
    from .data import load_mnist

    budget = BUDGET.get(profile)
    train = load_mnist("train").images[: budget.train_size]
    test = binarize(load_mnist("test").images[: budget.test_size])
    start = time.perf_counter()
    model, history = train_vae(train, budget, name=None)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    bound = elbo(model, test)
    nll = iwae_nll(model, test[: budget.iwae_images], budget.iwae_k)
    eval_seconds = time.perf_counter() - start
    return {
        "test_nll_iwae_nats": round(float(nll.mean()), 2),
        "iwae_k": budget.iwae_k,
        "iwae_test_images": int(len(nll)),
        "test_elbo_nats": round(bound["elbo"], 2),
        "test_reconstruction_nats": round(bound["reconstruction"], 2),
        "test_kl_nats": round(bound["kl"], 2),
        "elbo_test_images": int(len(test)),
        "anchor_burda_2015_vae_nll": 86.76,
        "epochs": budget.epochs,
        "train_images": int(len(train)),
        "train_time_s": round(train_seconds, 1),
        "eval_time_s": round(eval_seconds, 1),
        "train_images_per_s": round(float(history.get("_throughput") or 0.0), 1),
        "final_train_loss": round(history["loss"][-1], 2),
    }
