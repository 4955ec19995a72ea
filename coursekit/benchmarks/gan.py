"""``python -m coursekit.tools.bench gan``: notebook 03's DCGAN trained from scratch, scored, timed.

Trains the exported notebook code (``coursekit.models.gan``), scores ``fid_samples``
samples against the test set (Fréchet distance on the course classifier's features, class
histogram) next to real data and notebook 02's VAE at the same n, saves the samples as
uint8 ``.npy``, and compares training throughput with a bare ``tf.function`` loop running
the same networks, losses and algorithm.
"""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np

from ..adversarial import adversarial_pipeline, fit_adversarial
from ..data import load_mnist
from ..tools.bench import sample_report, stopwatch, training_report
from ..topics.gan import BUDGET

THROUGHPUT_ROUNDS = 8


def bare_loop(images, *, width: int, m: int):
    """A bare ``tf.function`` loop (no Keras ``fit``, trackers or callbacks) training the
    same DCGAN networks with the same losses and algorithm (k = 1), in the style of the
    TensorFlow DCGAN tutorial. Returns ``run(steps) -> seconds``; the first step (tracing)
    is taken here, untimed."""
    import tensorflow as tf

    from ..models import gan as models

    generator = models.dcgan_generator(width=width)
    discriminator = models.dcgan_discriminator(width)
    d_opt, g_opt = models.dcgan_adam(), models.dcgan_adam()

    @tf.function
    def train_step(real):
        fake = generator(tf.random.normal([m, models.NOISE_DIM]), training=True)
        with tf.GradientTape() as tape:
            d_loss = models.discriminator_loss(discriminator(real, training=True),
                                            discriminator(fake, training=True))
        grads = tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt.apply(grads, discriminator.trainable_variables)
        with tf.GradientTape() as tape:
            fake_logits = discriminator(generator(tf.random.normal([m, models.NOISE_DIM]),
                                                  training=True), training=True)
            g_loss = models.generator_loss(fake_logits)
        grads = tape.gradient(g_loss, generator.trainable_variables)
        g_opt.apply(grads, generator.trainable_variables)
        return d_loss, g_loss

    data = iter(adversarial_pipeline(images, m, 1))
    train_step(next(data))

    def run(steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            d_loss, _ = train_step(next(data))
        float(d_loss)  # wait for the last step
        return time.perf_counter() - start

    return run


class _BareLoopBetweenEpochs(keras.callbacks.Callback):
    """Times each epoch of ``fit`` and, right after it, as many steps of the bare loop, so
    the two are measured in alternation under the same load. The first epoch (tracing) is
    not counted."""

    def __init__(self, run_bare, steps: int):
        super().__init__()
        self.run_bare, self.steps = run_bare, steps
        self.fit_seconds, self.bare_seconds = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        bare = self.run_bare(self.steps)
        if epoch > 0:
            self.fit_seconds.append(elapsed)
            self.bare_seconds.append(bare)


def trainer_overhead(images, *, width: int, m: int, steps: int, rounds: int) -> dict:
    """Throughput of ``fit_adversarial`` (Keras ``fit`` + trackers + progress logger + the
    base's loop) against the bare loop on the same networks, in ``rounds`` alternations of
    ``steps`` steps each inside one process (fit's epochs interleaved with bare chunks):
    the ratio of the summed times, and its spread over the rounds."""
    from ..models import gan as models

    run_bare = bare_loop(images, width=width, m=m)
    timer = _BareLoopBetweenEpochs(run_bare, steps)
    model = models.build_gan(width=width)
    fit_adversarial(model, images, epochs=rounds + 1, steps_per_epoch=steps, m=m, name=None,
                    callbacks=[timer])
    fit_s, bare_s = np.array(timer.fit_seconds), np.array(timer.bare_seconds)
    per_round = bare_s / fit_s  # > 1: fit is slower
    return {
        "bare_loop_images_per_s": round(float(steps * m * rounds / bare_s.sum()), 1),
        "coursekit_images_per_s": round(float(steps * m * rounds / fit_s.sum()), 1),
        "coursekit_relative_to_bare": round(float(bare_s.sum() / fit_s.sum()), 3),
        "coursekit_relative_to_bare_per_round": [round(float(v), 3) for v in per_round],
        "overhead_rounds": rounds,
        "overhead_steps_per_round": steps,
    }


def benchmark(profile: str, out_dir: Path) -> dict:
    """Train the notebook's DCGAN from scratch, score its samples, time the loop."""
    from .. import zoo
    from ..metrics import SampleScorer
    from ..models import gan as models

    b = BUDGET.get(profile)
    train = load_mnist("train").images
    model = models.build_gan(k=b.k, width=b.dcgan_width)
    with stopwatch() as training:
        history = fit_adversarial(model, train, epochs=b.dcgan_epochs,
                                  steps_per_epoch=b.steps_per_epoch, m=b.batch, name=None)
    scorer = SampleScorer()
    report = {
        **sample_report(model.generate(b.fid_samples, stream="final samples"), out_dir,
                        "gan", profile, scorer),
        **training_report(history, training),
        "final_d_real": round(history["d_real"][-1], 4),
        "final_d_fake": round(history["d_fake"][-1], 4),
        "dcgan_width": b.dcgan_width,
        "steps": b.dcgan_epochs * b.steps_per_epoch,
        "batch": b.batch,
        "k": b.k,
    }
    with stopwatch() as vae_time:
        vae_samples = zoo.vae_samples(b.fid_samples, profile=profile)
    report["vae"] = {**sample_report(vae_samples, out_dir, "gan-vae", profile, scorer,
                                     floor=False),
                     "seconds_incl_training_if_not_cached": round(vae_time["seconds"], 1)}

    # Throughput against a bare tf.function loop, interleaved in one process (see
    # trainer_overhead) because other processes may share the machine.
    report.update(trainer_overhead(train, width=b.dcgan_width, m=b.batch,
                                   steps=b.throughput_steps, rounds=THROUGHPUT_ROUNDS))
    return report
