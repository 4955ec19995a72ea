"""What every adversarial model of the course shares, except its loop: the plumbing around
Algorithm 1 (Goodfellow et al. 2014).

The loop itself, ``AdversarialModel.train_step``, is written in 03_gan, section 2, where the
student reads and edits it; it is exported to ``coursekit.models.gan`` and 04_infogan,
06_cppn and 07_wgan_conditional subclass it from there. This module holds the rest:

- ``AdversarialBase``: the two networks, k, both optimisers (wrapped for mixed precision),
  the trackers, the model's RNG stream (``next_seed``: different on every replica),
  ``minibatches`` (a step's k·m examples as k minibatches), checkpoints and ``generate``;
- the hooks' defaults: ``sample_latent(m, seed)`` (z ~ N(0, I), stateless in ``seed``),
  ``sample_labels`` (None: unconditional), ``generator_inputs`` / ``discriminator_inputs``
  (conditioning); ``discriminator_loss`` and ``generator_loss`` are the subclass's;
- ``adversarial_pipeline`` (k fresh minibatches of m per step) and ``fit_adversarial``.

A hook returns a loss, or ``(loss, {name: value})`` with extra values for trackers named in
``extra_metrics`` (``loss_and_logs``). Introduced in 03_gan, section 2.
"""

from __future__ import annotations

import keras
from keras import ops

from .device import seed_for
from .gradients import for_precision


def loss_and_logs(result):
    """A hook's result as ``(loss, {name: value})``: a hook may return the loss alone."""
    return result if isinstance(result, tuple) else (result, {})


class AdversarialBase(keras.Model):
    """Generator ``G``, discriminator ``D`` and k, without the loop: 03's ``AdversarialModel``
    adds Algorithm 1's ``train_step``.

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

    def minibatches(self, batch):
        """The k minibatches of m examples (or labels) that one training step receives
        (``adversarial_pipeline`` hands each step k·m), or k Nones for ``batch=None``."""
        import tensorflow as tf

        if batch is None:
            return [None] * self.k
        if batch.shape[0] is not None and batch.shape[0] % self.k:
            raise ValueError(f"a training batch of {batch.shape[0]} examples cannot be split "
                             f"into k={self.k} minibatches; build the data with "
                             f"adversarial_pipeline(images, m, k).")
        return tf.split(batch, self.k, axis=0)

    def track(self, **values):
        """Add the step's values to their trackers; returns every tracker's mean so far."""
        for name, value in values.items():
            if name not in self.trackers:
                raise KeyError(f"{type(self).__name__} logs {name!r}; add it to extra_metrics")
            self.trackers[name].update_state(ops.cast(value, "float32"))
        return {name: tracker.result() for name, tracker in self.trackers.items()}

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


def fit_adversarial(model: AdversarialBase, images, *, epochs: int, steps_per_epoch: int, m: int,
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
