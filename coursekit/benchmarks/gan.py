"""``python -m coursekit.bench gan``: notebook 03's DCGAN trained from scratch, scored, timed.

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
from ..device import current_seed
from ..gan import BUDGET

THROUGHPUT_ROUNDS = 8


def bare_loop(images, *, width: int, m: int):
    """A bare ``tf.function`` loop (no Keras ``fit``, trackers or callbacks) training the
    same DCGAN networks with the same losses and algorithm (k = 1), in the style of the
    TensorFlow DCGAN tutorial. Returns ``run(steps) -> seconds``; the first step (tracing)
    is taken here, untimed."""
    import tensorflow as tf

    from ..models import gan

    generator, discriminator = gan.dcgan_generator(width=width), gan.dcgan_discriminator(width)
    d_opt, g_opt = gan.dcgan_adam(), gan.dcgan_adam()

    @tf.function
    def train_step(real):
        fake = generator(tf.random.normal([m, gan.NOISE_DIM]), training=True)
        with tf.GradientTape() as tape:
            d_loss = gan.discriminator_loss(discriminator(real, training=True),
                                            discriminator(fake, training=True))
        grads = tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt.apply(grads, discriminator.trainable_variables)
        with tf.GradientTape() as tape:
            fake_logits = discriminator(generator(tf.random.normal([m, gan.NOISE_DIM]),
                                                  training=True), training=True)
            g_loss = gan.generator_loss(fake_logits)
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
    from ..models import gan

    run_bare = bare_loop(images, width=width, m=m)
    timer = _BareLoopBetweenEpochs(run_bare, steps)
    model = gan.build_gan(width=width)
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
    from ..metrics import SampleScorer, fid_floor, to_uint8
    from ..models import gan

    b = BUDGET.get(profile)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train = load_mnist("train").images
    model = gan.build_gan(k=b.k, width=b.dcgan_width)
    start = time.perf_counter()
    history = fit_adversarial(model, train, epochs=b.dcgan_epochs,
                              steps_per_epoch=b.steps_per_epoch, m=b.batch, name=None)
    train_seconds = time.perf_counter() - start
    samples = to_uint8(model.generate(b.fid_samples, stream="final samples"))
    samples_path = out_dir / f"gan-samples-{profile}-seed{current_seed()}.npy"
    np.save(samples_path, samples)

    scorer = SampleScorer()
    result = scorer.score(samples)
    report = {
        "fid": round(result["fid"], 3),
        "fid_real_data_same_n": round(fid_floor(scorer, n=b.fid_samples), 3),
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
    vae_samples = zoo.vae_samples(b.fid_samples, profile=profile)
    vae_score = scorer.score(vae_samples)
    report["vae_fid"] = round(vae_score["fid"], 3)
    report["vae_class_histogram"] = [round(float(v), 4) for v in vae_score["histogram"]]
    report["vae_seconds_incl_training_if_not_cached"] = round(time.perf_counter() - start, 1)

    # Throughput against a bare tf.function loop, interleaved in one process (see
    # trainer_overhead) because other processes may share the machine.
    report.update(trainer_overhead(train, width=b.dcgan_width, m=b.batch,
                                   steps=b.throughput_steps, rounds=THROUGHPUT_ROUNDS))
    return report
