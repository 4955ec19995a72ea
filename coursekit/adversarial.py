"""One base for every adversarial model of the course: Algorithm 1's loop, with hooks.

Introduced in 03_gan, section 2 (Goodfellow et al. 2014, Algorithm 1); 04_infogan and
07_wgan_conditional subclass it too. ``AdversarialModel.train_step`` is one iteration:

- k times: take the next fresh minibatch of m real examples (the data pipeline hands each
  step k·m examples, ``adversarial_pipeline``), sample m fresh latents, and update the
  discriminator (or critic) on ``discriminator_loss``;
- once: sample m fresh latents and update the generator on ``generator_loss``.

A subclass, written in its notebook, supplies the lesson through hooks:

- ``discriminator_loss(real, fake, latent, labels)`` — computed inside D's tape, so
  anything extra that needs gradients (a gradient penalty, an InfoGAN Q term) goes here;
- ``generator_loss(fake, latent, labels)`` — inside G's tape (e.g. plus a mutual-information
  term);
- ``sample_latent(m, seed)`` — the latent batch, a *stateless* function of ``seed`` (a
  length-2 int tensor): structured codes go here, and the same hook gives reproducible
  fixed latents for figures (``fixed_latent``);
- ``sample_labels(m, seed)`` and ``generator_inputs`` / ``discriminator_inputs`` —
  conditioning: with a ``(images, labels)`` pipeline the real labels reach D with the real
  images and with the D step's fakes; the G step asks ``sample_labels`` for its labels.

Each hook returns a loss, or ``(loss, {name: value})`` with extra values for trackers named
in ``extra_metrics``. Both updates go through ``gradients.apply_loss`` (mixed precision and
several replicas handled), and each replica draws its own latents.
"""

from __future__ import annotations

import keras
from keras import ops

from .device import seed_for
from .gradients import apply_loss, for_precision


def _loss_and_logs(result):
    return result if isinstance(result, tuple) else (result, {})


class AdversarialModel(keras.Model):
    """Generator ``G``, discriminator ``D``, k D-updates per G-update (Algorithm 1).

    ``call(latent)`` is the generator. Build it with ``build_all()`` before training (its
    ``call`` takes latents, not images). Trackers: ``d_loss``, ``g_loss`` and every name in
    ``extra_metrics``. Introduced in 03_gan, section 2.
    """

    extra_metrics: tuple[str, ...] = ()

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int,
                 k: int = 1, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k (discriminator updates per generator update) must be an "
                             f"integer >= 1, got {k!r}")
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.k = int(latent_dim), k
        self.seed_generator = keras.random.SeedGenerator(
            seed if seed is not None else seed_for(type(self).__name__))
        names = ("d_loss", "g_loss", *self.extra_metrics)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    # ------------------------------------------------------------------ hooks

    def discriminator_loss(self, real, fake, latent, labels):
        raise NotImplementedError("a subclass defines the discriminator's loss")

    def generator_loss(self, fake, latent, labels):
        raise NotImplementedError("a subclass defines the generator's loss")

    def sample_latent(self, m, seed):
        """m latent vectors z ~ N(0, I), stateless in ``seed``."""
        import tensorflow as tf

        return tf.random.stateless_normal((m, self.latent_dim), seed=seed)

    def sample_labels(self, m, seed):
        """Labels for the generator step of a conditional model (None: unconditional)."""
        return None

    def generator_inputs(self, latent, labels):
        return latent if labels is None else (latent, labels)

    def discriminator_inputs(self, images, labels):
        return images if labels is None else (images, labels)

    # ------------------------------------------------------------------ plumbing

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        """Set the two optimisers (wrapped for loss scaling under mixed precision)."""
        super().compile(**kwargs)
        self.d_optimizer = for_precision(d_optimizer)
        self.g_optimizer = for_precision(g_optimizer)

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def discriminator_variables(self):
        return self.discriminator.trainable_variables

    @property
    def generator_variables(self):
        return self.generator.trainable_variables

    def call(self, latent, labels=None, training=False):
        return self.generate_from(latent, labels, training=training)

    def generate_from(self, latent, labels=None, training=False):
        return self.generator(self.generator_inputs(latent, labels), training=training)

    def discriminate(self, images, labels=None, training=False):
        return self.discriminator(self.discriminator_inputs(images, labels), training=training)

    def checkpoint_objects(self) -> dict:
        """What a checkpoint saves, by name: both networks, both optimisers, the RNG state."""
        return {"generator": self.generator, "discriminator": self.discriminator,
                "d_optimizer": self.d_optimizer, "g_optimizer": self.g_optimizer,
                "seed_state": self.seed_generator.state}

    def build_all(self):
        """Create every variable (G, D, both optimisers' slots) so a checkpoint can restore."""
        seed = ops.convert_to_tensor([0, 0], "int32")
        latent, labels = self.sample_latent(2, seed), self.sample_labels(2, seed)
        self.discriminate(self.generate_from(latent, labels), labels)
        self.d_optimizer.build(self.discriminator_variables)
        self.g_optimizer.build(self.generator_variables)
        self.built = True  # call() takes latents: Keras must not build it from the images
        return self

    def next_seed(self):
        """A fresh stateless seed: the model's RNG stream, different on every replica."""
        import tensorflow as tf

        seed = tf.cast(self.seed_generator.next(), tf.int32)
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            seed += tf.stack([tf.cast(context.replica_id_in_sync_group, tf.int32) * 7919, 0])
        return seed

    def fixed_latent(self, n: int, stream: str = "fixed latent"):
        """n reproducible latents (numpy) from the named stream of the run's seed."""
        seed = ops.convert_to_tensor([seed_for(stream), 0], "int32")
        return ops.convert_to_numpy(self.sample_latent(n, seed))

    def train_step(self, data):
        import tensorflow as tf

        images, labels = (data[0], data[1]) if isinstance(data, (tuple, list)) else (data, None)
        if images.shape[0] is not None and images.shape[0] % self.k:
            raise ValueError(f"a training batch of {images.shape[0]} examples cannot be split "
                             f"into k={self.k} minibatches; build the data with "
                             f"adversarial_pipeline(images, m, k).")
        real_batches = tf.split(images, self.k, axis=0)
        label_batches = tf.split(labels, self.k, axis=0) if labels is not None else [None] * self.k
        m = tf.shape(real_batches[0])[0]
        for real, real_labels in zip(real_batches, label_batches, strict=True):
            latent = self.sample_latent(m, self.next_seed())  # fresh noise for every D update
            fake = self.generate_from(latent, real_labels, training=True)
            with tf.GradientTape() as tape:
                d_loss, logs = _loss_and_logs(
                    self.discriminator_loss(real, fake, latent, real_labels))
            apply_loss(self.d_optimizer, tape, d_loss, self.discriminator_variables)
            self._track(d_loss=d_loss, **logs)
        latent = self.sample_latent(m, self.next_seed())
        fake_labels = self.sample_labels(m, self.next_seed())
        with tf.GradientTape() as tape:
            fake = self.generate_from(latent, fake_labels, training=True)
            g_loss, logs = _loss_and_logs(self.generator_loss(fake, latent, fake_labels))
        apply_loss(self.g_optimizer, tape, g_loss, self.generator_variables)
        self._track(g_loss=g_loss, **logs)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def _track(self, **values):
        for name, value in values.items():
            if name not in self.trackers:
                raise KeyError(f"{type(self).__name__} logs {name!r}; add it to extra_metrics")
            self.trackers[name].update_state(ops.cast(value, "float32"))

    def generate(self, n: int | None = None, latent=None, labels=None, stream: str = "samples",
                 batch_size: int = 1000):
        """Generator outputs (float32 numpy) for ``latent`` (and ``labels``), or for n
        reproducible latents from the named stream of the run's seed."""
        import numpy as np

        if latent is None:
            if n is None:
                raise ValueError("pass n (number of samples) or latent (an (n, dim) array)")
            latent = self.fixed_latent(n, stream)
        latent = np.asarray(latent, np.float32)
        if latent.ndim != 2 or latent.shape[1] != self.latent_dim:
            raise ValueError(f"latent must have shape (n, {self.latent_dim}), got {latent.shape}")
        out = []
        for i in range(0, len(latent), batch_size):
            part = None if labels is None else np.asarray(labels)[i:i + batch_size]
            out.append(ops.convert_to_numpy(
                self.generate_from(latent[i:i + batch_size], part)).astype(np.float32))
        return np.concatenate(out)


def adversarial_pipeline(samples, m: int, k: int = 1, labels=None, stream: str = "pipeline"):
    """Batches of k·m examples (one fresh minibatch of m per discriminator update), with
    their labels if given, shuffled each epoch (seeded by the run's seed) and repeated
    forever; use with ``steps_per_epoch``. Introduced in 03_gan, section 2."""
    from .data import make_pipeline

    if m < 1 or k < 1:
        raise ValueError(f"m (minibatch size) and k must be >= 1, got m={m}, k={k}")
    if len(samples) < m * k:
        raise ValueError(f"{len(samples)} examples are fewer than one step's k*m = {k * m}")
    data = samples if labels is None else (samples, labels)
    return make_pipeline(data, m * k, shuffle=True, seed=seed_for(stream),
                         drop_remainder=True).repeat()


def fit_adversarial(model: AdversarialModel, images, *, epochs: int, steps_per_epoch: int, m: int,
                    name: str | None, labels=None, config: dict | None = None, code=(),
                    callbacks=()) -> dict:
    """Train with ``fit_resumable`` on ``adversarial_pipeline(images, m, model.k, labels)``;
    an 'epoch' is ``steps_per_epoch`` iterations of Algorithm 1. Shared by the notebooks and
    the benchmarks. Introduced in 03_gan, section 2."""
    from .training import fit_resumable

    data = adversarial_pipeline(images, m, model.k, labels)
    config = {"m": m, "steps_per_epoch": steps_per_epoch, **(config or {})}
    return fit_resumable(model, data, epochs=epochs, name=name, config=config, code=code,
                         callbacks=list(callbacks), examples_per_step=m * model.k,
                         steps_per_epoch=steps_per_epoch)
