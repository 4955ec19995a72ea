"""Generative adversarial nets as Goodfellow et al. (2014) write them: Algorithm 1, literally.

Introduced in 03_gan. ``GAN.train_step`` performs one iteration of Algorithm 1:

- k times: sample m noise vectors and m data examples (a fresh slice of the batch), and
  update D by ascending (1/m) Σ [log D(x) + log(1 − D(G(z)))];
- once: sample m fresh noise vectors and update G by descending (1/m) Σ log(1 − D(G(z)))
  (``generator_loss="saturating"``, the minimax game) or by ascending (1/m) Σ log D(G(z))
  (``"non_saturating"``, the paper's section 3 recommendation, the default).

D outputs logits, so log D = log σ(l) and log(1 − D) = log σ(−l) are computed stably.
The data pipeline (``gan_pipeline``) hands each step a batch of k·m images, one fresh
minibatch per discriminator update. Also here: the MLP (paper) and DCGAN (TensorFlow
DCGAN tutorial) networks, the 1-D toy problem of the paper's Figure 1, a bare
``tf.function`` loop for the throughput comparison, and ``benchmark``.
"""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

from .data import load_mnist, make_pipeline
from .profiles import Budget
from .training import EveryEpochs, fit_resumable

NOISE_DIM = 100
GENERATOR_LOSSES = ("saturating", "non_saturating")

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


# --------------------------------------------------------------------------- losses


def _logits(x):
    return ops.cast(ops.reshape(x, (-1,)), "float32")  # losses in float32 (mixed precision)


def discriminator_loss(real_logits, fake_logits):
    """−(1/m) Σ [log D(x) + log(1 − D(G(z)))]: D *descends* this, i.e. ascends V(D, G).

    With D = σ(l): log D = log σ(l) and log(1 − D) = log σ(−l), exact and stable for any
    logit. Introduced in 03_gan, section 1.
    """
    real, fake = _logits(real_logits), _logits(fake_logits)
    return -(ops.mean(ops.log_sigmoid(real)) + ops.mean(ops.log_sigmoid(-fake)))


def generator_loss(fake_logits, kind: str = "non_saturating"):
    """The quantity G descends: (1/m) Σ log(1 − D(G(z))) (``"saturating"``, the minimax
    game) or −(1/m) Σ log D(G(z)) (``"non_saturating"``). Introduced in 03_gan, section 1."""
    fake = _logits(fake_logits)
    if kind == "saturating":
        return ops.mean(ops.log_sigmoid(-fake))
    if kind == "non_saturating":
        return -ops.mean(ops.log_sigmoid(fake))
    raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}, got {kind!r}")


def value_function(real_logits, fake_logits):
    """Monte Carlo estimate of V(D, G) = E log D(x) + E log(1 − D(G(z)))."""
    return -discriminator_loss(real_logits, fake_logits)


# --------------------------------------------------------------------------- the model


def paper_sgd(learning_rate: float = 0.05, momentum: float = 0.5):
    """SGD with momentum, the paper's optimiser (its MNIST runs used momentum 0.5 → 0.7)."""
    return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)


def dcgan_adam(learning_rate: float = 2e-4):
    """Adam(2e-4, β1 = 0.5), the DCGAN paper's optimiser (Radford et al. 2016)."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.5)


class GAN(keras.Model):
    """Goodfellow et al. 2014, Algorithm 1: k discriminator updates per generator update.

    ``call(z)`` is the generator. ``train_step`` takes a batch of k·m data examples and
    splits it into k minibatches of m, one per discriminator update, each with m fresh
    noise samples; then it updates the generator once on m fresh noise samples.
    Trackers: ``d_loss``, ``g_loss``, ``d_real`` (mean D(x)), ``d_fake`` (mean D(G(z))).
    Build it (``build_all()``) before ``fit_resumable``: its ``call`` takes noise, not
    images. Introduced in 03_gan, section 1.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, noise_dim: int,
                 k: int = 1, generator_loss: str = "non_saturating", seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k (discriminator updates per generator update) must be an "
                             f"integer >= 1, got {k!r}")
        if generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}, "
                             f"got {generator_loss!r}")
        self.generator, self.discriminator = generator, discriminator
        self.noise_dim, self.k, self.generator_loss = int(noise_dim), int(k), generator_loss
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Set the two optimisers (default: the paper's SGD with momentum for both)."""
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer or paper_sgd()
        self.g_optimizer = g_optimizer or paper_sgd()

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker,
                self.d_fake_tracker]

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def build_all(self) -> GAN:
        """Create every variable (G, D, both optimisers' slots) so a checkpoint can restore."""
        z = ops.zeros((2, self.noise_dim))
        self.discriminator(self(z))
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)
        return self

    def sample_noise(self, m):
        """m noise vectors z ~ N(0, I) (inside ``train_step``; seeded and checkpointed)."""
        return keras.random.normal((m, self.noise_dim), seed=self.seed_generator)

    def train_step(self, data):
        import tensorflow as tf

        x = data[0] if isinstance(data, (tuple, list)) else data
        batch = x.shape[0]
        if batch is not None and batch % self.k:
            raise ValueError(f"a training batch of {batch} examples cannot be split into k={self.k}"
                             f" minibatches; build the data with gan_pipeline(images, m, k).")
        minibatches = tf.split(x, self.k, axis=0)
        m = tf.shape(minibatches[0])[0]
        for real in minibatches:  # k discriminator updates, each on fresh data and noise
            fake = self.generator(self.sample_noise(m), training=True)
            with tf.GradientTape() as tape:
                real_logits = self.discriminator(real, training=True)
                fake_logits = self.discriminator(fake, training=True)
                d_loss = discriminator_loss(real_logits, fake_logits)
            weights = self.discriminator.trainable_variables
            self.d_optimizer.apply(tape.gradient(d_loss, weights), weights)
            self.d_loss_tracker.update_state(d_loss)
            self.d_real_tracker.update_state(ops.mean(ops.sigmoid(_logits(real_logits))))
            self.d_fake_tracker.update_state(ops.mean(ops.sigmoid(_logits(fake_logits))))
        with tf.GradientTape() as tape:  # one generator update on fresh noise
            fake_logits = self.discriminator(self.generator(self.sample_noise(m), training=True),
                                             training=True)
            g_loss = generator_loss(fake_logits, self.generator_loss)
        weights = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(g_loss, weights), weights)
        self.g_loss_tracker.update_state(g_loss)
        return {t.name: t.result() for t in self.metrics}

    def generate(self, n: int = None, noise=None, seed: int = 0, batch_size: int = 1000):
        """Images (float32 numpy, generator outputs) for given ``noise`` or n seeded draws."""
        if noise is None:
            if n is None:
                raise ValueError("pass n (number of samples) or noise (an (n, noise_dim) array)")
            noise = fixed_noise(n, self.noise_dim, seed)
        noise = np.asarray(noise, np.float32)
        if noise.ndim != 2 or noise.shape[1] != self.noise_dim:
            raise ValueError(f"noise must have shape (n, {self.noise_dim}), got {noise.shape}")
        out = [np.asarray(self.generator(noise[i:i + batch_size], training=False), np.float32)
               for i in range(0, len(noise), batch_size)]
        return np.concatenate(out)


def fixed_noise(n: int, noise_dim: int = NOISE_DIM, seed: int = 0) -> np.ndarray:
    """n reproducible noise vectors z ~ N(0, I), e.g. for the fixed grid during training."""
    return np.random.default_rng(seed).standard_normal((n, noise_dim)).astype(np.float32)


def gan_pipeline(samples, m: int, k: int = 1, seed: int = 0):
    """Batches of k·m examples (one fresh minibatch of m per discriminator update), shuffled
    each epoch and repeated forever; use with ``steps_per_epoch``."""
    if m < 1 or k < 1:
        raise ValueError(f"m (minibatch size) and k must be >= 1, got m={m}, k={k}")
    if len(samples) < m * k:
        raise ValueError(f"{len(samples)} examples are fewer than one step's k*m = {k * m}")
    return make_pipeline(samples, m * k, shuffle=True, seed=seed, drop_remainder=True).repeat()


def generator_gradient_norms(gan: GAN, m: int = 256, seed: int = 0) -> dict:
    """Norms of ∇_θg of both generator losses on the same noise batch, and mean D(G(z)).

    Shows why the non-saturating loss is used: early on D(G(z)) ≈ 0 and log(1 − D(G(z)))
    is flat there. Introduced in 03_gan, section 2.
    """
    import tensorflow as tf

    z = fixed_noise(m, gan.noise_dim, seed)
    result = {}
    for kind in GENERATOR_LOSSES:
        with tf.GradientTape() as tape:
            logits = gan.discriminator(gan.generator(z, training=False), training=False)
            loss = generator_loss(logits, kind)
        grads = tape.gradient(loss, gan.generator.trainable_variables)
        result[kind] = float(tf.linalg.global_norm(grads))
    result["d_fake"] = float(ops.mean(ops.sigmoid(_logits(logits))))
    return result


# --------------------------------------------------------------------------- networks


@keras.saving.register_keras_serializable(package="coursekit")
class Maxout(keras.layers.Layer):
    """Maxout units (Goodfellow et al. 2013), the paper's discriminator nonlinearity:
    ``units`` outputs, each the max over ``pieces`` linear pieces."""

    def __init__(self, units: int, pieces: int = 5, **kwargs):
        super().__init__(**kwargs)
        self.units, self.pieces = units, pieces
        self.linear = keras.layers.Dense(units * pieces)

    def build(self, input_shape):
        self.linear.build(input_shape)

    def call(self, x):
        y = self.linear(x)
        return ops.max(ops.reshape(y, (-1, self.units, self.pieces)), axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "pieces": self.pieces}


def mlp_generator(noise_dim: int = NOISE_DIM, hidden=(1200, 1200)) -> keras.Model:
    """The paper's MNIST generator: ReLU layers, sigmoid output pixels in [0, 1]."""
    return keras.Sequential(
        [keras.Input((noise_dim,))]
        + [keras.layers.Dense(units, activation="relu") for units in hidden]
        + [keras.layers.Dense(28 * 28, activation="sigmoid", dtype="float32"),
           keras.layers.Reshape((28, 28, 1))],
        name="mlp_generator",
    )


def mlp_discriminator(hidden=(240, 240), pieces: int = 5, dropout: float = 0.5) -> keras.Model:
    """The paper's MNIST discriminator: maxout layers with dropout, one logit out."""
    layers = [keras.Input((28, 28, 1)), keras.layers.Flatten()]
    for units in hidden:
        layers += [Maxout(units, pieces), keras.layers.Dropout(dropout)]
    layers.append(keras.layers.Dense(1, dtype="float32"))
    return keras.Sequential(layers, name="mlp_discriminator")


def dcgan_generator(noise_dim: int = NOISE_DIM, width: int = 64) -> keras.Model:
    """The TensorFlow DCGAN tutorial's generator (``width=64`` gives its 256/128/64 channels).

    Dense → 7×7×4w, then 5×5 transposed convolutions (4w, stride 1; 2w, stride 2; 1,
    stride 2) with batch norm and leaky ReLU; tanh output, mapped to [0, 1] by a fixed
    affine layer (the tutorial scales the data to [−1, 1] instead: equivalent).
    """
    L = keras.layers
    return keras.Sequential([
        keras.Input((noise_dim,)),
        L.Dense(7 * 7 * 4 * width, use_bias=False), L.BatchNormalization(), L.LeakyReLU(0.3),
        L.Reshape((7, 7, 4 * width)),
        L.Conv2DTranspose(2 * width, 5, strides=1, padding="same", use_bias=False),
        L.BatchNormalization(), L.LeakyReLU(0.3),
        L.Conv2DTranspose(width, 5, strides=2, padding="same", use_bias=False),
        L.BatchNormalization(), L.LeakyReLU(0.3),
        L.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh",
                          dtype="float32"),
        L.Rescaling(0.5, offset=0.5, dtype="float32"),
    ], name="dcgan_generator")


def dcgan_discriminator(width: int = 64) -> keras.Model:
    """The TensorFlow DCGAN tutorial's discriminator (``width=64``: 64 and 128 channels)."""
    L = keras.layers
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(width, 5, strides=2, padding="same"), L.LeakyReLU(0.3), L.Dropout(0.3),
        L.Conv2D(2 * width, 5, strides=2, padding="same"), L.LeakyReLU(0.3), L.Dropout(0.3),
        L.Flatten(), L.Dense(1, dtype="float32"),
    ], name="dcgan_discriminator")


def build_gan(architecture: str = "dcgan", *, k: int = 1, loss: str = "non_saturating",
              width: int = 64, d_optimizer=None, g_optimizer=None, seed: int = 0) -> GAN:
    """A compiled, built GAN on MNIST: ``"mlp"`` (paper, SGD + momentum by default) or
    ``"dcgan"`` (tutorial networks, Adam(2e-4, 0.5) by default as in the DCGAN paper)."""
    keras.utils.set_random_seed(seed)
    if architecture == "mlp":
        generator, discriminator, default = mlp_generator(), mlp_discriminator(), paper_sgd
    elif architecture == "dcgan":
        generator, discriminator = dcgan_generator(width=width), dcgan_discriminator(width)
        default = dcgan_adam
    else:
        raise ValueError(f"architecture must be 'mlp' or 'dcgan', got {architecture!r}")
    gan = GAN(generator, discriminator, NOISE_DIM, k=k, generator_loss=loss, seed=seed)
    gan.compile(d_optimizer=d_optimizer or default(), g_optimizer=g_optimizer or default())
    return gan.build_all()


def train_gan(gan: GAN, images, *, epochs: int, steps_per_epoch: int, m: int, name: str | None,
              config: dict | None = None, callbacks=(), seed: int = 0) -> dict:
    """Train with ``fit_resumable`` on ``gan_pipeline(images, m, gan.k)``; an 'epoch' is
    ``steps_per_epoch`` iterations of Algorithm 1. Shared by the notebook and the benchmark."""
    data = gan_pipeline(images, m, gan.k, seed)
    config = {"m": m, "k": gan.k, "loss": gan.generator_loss, "steps": steps_per_epoch,
              **(config or {})}
    return fit_resumable(gan, data, epochs=epochs, name=name, config=config,
                         callbacks=list(callbacks), examples_per_step=m * gan.k,
                         steps_per_epoch=steps_per_epoch)


def nearest_training_images(samples, train_images, batch_size: int = 500):
    """For each sample, the index of and the L2 pixel distance to its nearest training image
    (is the generator copying?). Introduced in 03_gan, section 4."""
    a = np.asarray(samples, np.float32).reshape(len(samples), -1)
    b = np.asarray(train_images, np.float32).reshape(len(train_images), -1)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"samples have {a.shape[1]} pixels, training images {b.shape[1]}")
    b_sq = (b ** 2).sum(1)
    index, dist = np.empty(len(a), np.int64), np.empty(len(a), np.float32)
    for i in range(0, len(a), batch_size):
        d2 = (a[i:i + batch_size] ** 2).sum(1)[:, None] - 2 * a[i:i + batch_size] @ b.T + b_sq
        index[i:i + batch_size] = d2.argmin(1)
        dist[i:i + batch_size] = np.sqrt(np.maximum(d2.min(1), 0))
    return index, dist


# --------------------------------------------------------------------------- the 1-D toy


def toy_generator(hidden: int = 16, seed: int = 0) -> keras.Model:
    """A small MLP G: 1-D noise → 1-D sample (Figure 1's mapping x = G(z))."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((1,)), keras.layers.Dense(hidden, activation="tanh"),
                             keras.layers.Dense(hidden, activation="tanh"),
                             keras.layers.Dense(1, dtype="float32")], name="toy_generator")


def toy_discriminator(hidden: int = 32, seed: int = 1) -> keras.Model:
    """A small MLP D: 1-D sample → logit."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((1,)), keras.layers.Dense(hidden, activation="tanh"),
                             keras.layers.Dense(hidden, activation="tanh"),
                             keras.layers.Dense(1, dtype="float32")], name="toy_discriminator")


def normal_pdf(x, mean: float, std: float):
    return np.exp(-0.5 * ((np.asarray(x) - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def optimal_discriminator(p_data, p_g):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Proposition 1), from density values."""
    p_data, p_g = np.asarray(p_data, np.float64), np.asarray(p_g, np.float64)
    return p_data / np.maximum(p_data + p_g, 1e-300)


def d_of_x(discriminator, x) -> np.ndarray:
    """D(x) = σ(logit) on 1-D points x (a grid), as a numpy vector."""
    x = np.asarray(x, np.float32).reshape(-1, 1)
    return np.asarray(ops.sigmoid(_logits(discriminator(x, training=False))))


def train_discriminator(discriminator, sample_data, sample_fake, steps: int, m: int = 512,
                        learning_rate: float = 3e-3) -> list[float]:
    """Algorithm 1's inner loop with G frozen: ``steps`` D updates, each on fresh samples.

    ``sample_data(m)`` and ``sample_fake(m)`` return (m, 1) arrays. Adam is used here only
    to reach the optimum D* quickly. Returns the D loss every 100 steps.
    """
    import tensorflow as tf

    optimizer = keras.optimizers.Adam(learning_rate)
    weights = discriminator.trainable_variables

    @tf.function
    def step(real, fake):
        with tf.GradientTape() as tape:
            loss = discriminator_loss(discriminator(real, training=True),
                                      discriminator(fake, training=True))
        optimizer.apply(tape.gradient(loss, weights), weights)
        return loss

    losses = []
    for i in range(steps):
        loss = step(np.asarray(sample_data(m), np.float32), np.asarray(sample_fake(m), np.float32))
        if i % 100 == 0:
            losses.append(float(loss))
    return losses


class ToySnapshots(EveryEpochs):
    """Records D(x) on ``grid`` and ``n`` generator samples every ``every`` epochs (and at the
    start): the material for Figure 1's panels. Introduced in 03_gan, section 3."""

    def __init__(self, grid, every: int, n: int = 20_000, seed: int = 0):
        super().__init__(every)
        self.grid = np.asarray(grid, np.float32)
        self.noise = fixed_noise(n, 1, seed)
        self.d_values, self.samples = [], []

    def record(self, epoch):
        self.epochs.append(epoch)
        self.d_values.append(d_of_x(self.model.discriminator, self.grid))
        self.samples.append(self.model.generate(noise=self.noise)[:, 0])


# --------------------------------------------------------------------------- benchmark


def bare_train_images_per_second(images, *, width: int, m: int, steps: int,
                                 seed: int = 0) -> float:
    """Images/s of a bare ``tf.function`` loop (no Keras ``fit``, trackers or callbacks)
    training the same DCGAN networks with the same algorithm (k = 1, Adam(2e-4, 0.5)),
    in the style of the TensorFlow DCGAN tutorial. The first step (tracing) is not timed."""
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    generator, discriminator = dcgan_generator(width=width), dcgan_discriminator(width)
    d_opt, g_opt = dcgan_adam(), dcgan_adam()

    @tf.function
    def train_step(real):
        fake = generator(tf.random.normal([m, NOISE_DIM]), training=True)
        with tf.GradientTape() as tape:
            d_loss = discriminator_loss(discriminator(real, training=True),
                                        discriminator(fake, training=True))
        grads = tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt.apply(grads, discriminator.trainable_variables)
        with tf.GradientTape() as tape:
            fake_logits = discriminator(generator(tf.random.normal([m, NOISE_DIM]),
                                                  training=True), training=True)
            g_loss = generator_loss(fake_logits)
        grads = tape.gradient(g_loss, generator.trainable_variables)
        g_opt.apply(grads, generator.trainable_variables)
        return d_loss, g_loss

    data = iter(gan_pipeline(images, m, 1, seed))
    train_step(next(data))
    start = time.perf_counter()
    for _ in range(steps):
        d_loss, _ = train_step(next(data))
    float(d_loss)  # wait for the last step
    return steps * m / (time.perf_counter() - start)


def coursekit_images_per_second(images, *, width: int, m: int, steps: int,
                                seed: int = 0) -> float:
    """Images/s of ``train_gan`` (fit + trackers + progress logger) on the same networks."""
    gan = build_gan("dcgan", width=width, seed=seed)
    history = train_gan(gan, images, epochs=1, steps_per_epoch=steps + 1, m=m, name=None)
    return history["_throughput"]


def _vae_samples(n: int, profile: str):
    try:
        from . import vae
    except ImportError as exc:
        return None, f"coursekit.vae not importable: {exc}"
    if not hasattr(vae, "prior_samples"):
        return None, "coursekit.vae has no prior_samples"
    return np.asarray(vae.prior_samples(n, profile=profile, seed=0)), None


def benchmark(profile: str, out_dir: Path) -> dict:
    """Train the notebook's DCGAN from scratch, score 10,000 samples, time the loop."""
    from .metrics import SampleScorer, fid_floor, to_uint8

    b = BUDGET.get(profile)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train = load_mnist("train").images
    gan = build_gan("dcgan", k=b.k, width=b.dcgan_width)
    start = time.perf_counter()
    history = train_gan(gan, train, epochs=b.dcgan_epochs, steps_per_epoch=b.steps_per_epoch,
                        m=b.batch, name=None)
    train_seconds = time.perf_counter() - start
    samples = to_uint8(gan.generate(b.fid_samples, seed=1))
    samples_path = out_dir / f"gan-samples-{profile}.npy"
    np.save(samples_path, samples)

    scorer = SampleScorer()
    result = scorer.score(samples)
    report = {
        "fid": round(result["fid"], 3),
        "fid_floor_train10k_vs_test": round(fid_floor(scorer), 3),
        "class_histogram": [round(float(v), 4) for v in result["histogram"]],
        "min_class_fraction": round(result["min_class"], 4),
        "train_seconds": round(train_seconds, 1),
        "train_images_per_s": round(history.get("_throughput", 0.0), 1),
        "d_real_final": round(history["d_real"][-1], 4),
        "d_fake_final": round(history["d_fake"][-1], 4),
        "samples_file": str(samples_path),
        "n_samples": int(len(samples)),
        "dcgan_width": b.dcgan_width,
        "steps": b.dcgan_epochs * b.steps_per_epoch,
        "batch": b.batch,
        "k": b.k,
    }
    start = time.perf_counter()
    vae_samples, why = _vae_samples(b.fid_samples, profile)
    report["vae_fid"] = round(scorer.fid(vae_samples), 3) if vae_samples is not None else why
    report["vae_seconds_incl_training_if_not_cached"] = round(time.perf_counter() - start, 1)
    if vae_samples is not None:
        report["vae_class_histogram"] = [
            round(float(v), 4) for v in scorer.score(vae_samples)["histogram"]]

    # Throughput against a bare tf.function loop, measured back to back (twice each,
    # alternating, best of two) because other processes may share the machine.
    bare, ours = [], []
    for _ in range(2):
        bare.append(bare_train_images_per_second(train, width=b.dcgan_width, m=b.batch,
                                                 steps=b.throughput_steps))
        ours.append(coursekit_images_per_second(train, width=b.dcgan_width, m=b.batch,
                                                steps=b.throughput_steps))
    report["bare_loop_images_per_s"] = round(max(bare), 1)
    report["coursekit_images_per_s"] = round(max(ours), 1)
    report["coursekit_relative_to_bare"] = round(max(ours) / max(bare), 3)
    return report
