"""``make bench NAME=wgan_conditional``: notebook 07's WGAN-GP and conditional WGAN-GP, measured.

Trains the exported notebook code (``coursekit.models.wgan_conditional``: Gulrajani et al.'s
Algorithm 1 with n_critic = 5, λ = 10, ε ~ U[0, 1]) from scratch, twice: unconditional and
conditional on the digit. For each, 10,000 samples (the conditional ones 1,000 per requested
digit) are scored on the course classifier's features (Fréchet distance, class histogram)
and saved as uint8 ``.npy``; real data at the same n gives the reference; the conditional
model's classifier accuracy against the requested digit is reported, and for the
unconditional model the critic's W estimate per epoch (training and held-out real images)
with the FID per epoch and their rank correlation. Wall time and training images/s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..adversarial import fit_adversarial
from ..data import load_mnist
from ..recorders import Recorder
from ..tools.bench import sample_report, save_array, stopwatch, training_report
from ..topics.wgan_conditional import BUDGET, spearman


def _mean_score(model, images, labels=None, batch=1000) -> float:
    from keras import ops

    total = 0.0
    for i in range(0, len(images), batch):
        part = None if labels is None else labels[i:i + batch]
        total += float(ops.sum(model.scores(images[i:i + batch], part, training=False)))
    return total / len(images)


def benchmark(profile: str, out_dir: Path) -> dict:
    from ..metrics import SampleScorer, features_and_logits, fid_floor, to_uint8
    from ..models import wgan_conditional as models

    b = BUDGET.get(profile)
    train, test = load_mnist("train"), load_mnist("test")
    scorer = SampleScorer()
    report: dict = {"n_critic": b.n_critic, "batch": b.batch, "width": b.width,
                    "learning_rate": b.learning_rate}

    # --- WGAN-GP, with the critic's estimate and the FID recorded every epoch
    model = models.build_wgan_gp(width=b.width, k=b.n_critic, learning_rate=b.learning_rate)
    fixed = model.fixed_latent(b.eval_samples, "critic estimate")
    eval_train, eval_test = train.images[:b.eval_samples], test.images[:b.eval_samples]

    def estimate():
        d_fake = _mean_score(model, model.generate(latent=fixed))
        return {"w_train": _mean_score(model, eval_train) - d_fake,
                "w_heldout": _mean_score(model, eval_test) - d_fake}

    tracker = Recorder(lambda: {**estimate(), "fids": scorer.fid(model.generate(latent=fixed))})
    with stopwatch() as training:
        history = fit_adversarial(model, train.images, epochs=b.epochs,
                                  steps_per_epoch=b.steps_per_epoch, m=b.batch, name=None,
                                  callbacks=[tracker])
    gaps = np.array(tracker.w_train[1:]) - np.array(tracker.w_heldout[1:])
    report["wgan_gp"] = {
        **sample_report(model.generate(b.fid_samples, stream="fid samples"), out_dir,
                        "wgan-gp", profile, scorer, floor=False),
        **training_report(history, training),
        "train_seconds_include_per_epoch_scoring": True,
        "w_estimate_heldout_by_epoch": [round(v, 4) for v in tracker.w_heldout],
        "w_estimate_train_by_epoch": [round(v, 4) for v in tracker.w_train],
        "fid_by_epoch": [round(v, 2) for v in tracker.fids],
        "fid_by_epoch_n": b.eval_samples,
        "spearman_w_vs_fid_after_epoch_1": round(spearman(tracker.w_heldout[1:],
                                                          tracker.fids[1:]), 3),
        "max_relative_train_heldout_gap": round(float(np.max(
            np.abs(gaps) / np.abs(np.array(tracker.w_heldout[1:])))), 4),
        "generator_updates": b.epochs * b.steps_per_epoch,
    }

    print("wgan_gp:", report["wgan_gp"], flush=True)  # the first half, in the log already

    # --- conditional WGAN-GP
    cond = models.build_wgan_gp(width=b.width, k=b.n_critic, conditional=True,
                           learning_rate=b.learning_rate)
    with stopwatch() as cond_training:
        cond_history = fit_adversarial(cond, train.images, labels=train.labels.astype(np.int32),
                                       epochs=b.cond_epochs,
                                       steps_per_epoch=b.cond_steps_per_epoch,
                                       m=b.batch, name=None)
    requested = np.repeat(np.arange(10, dtype=np.int32), b.fid_samples // 10)
    cond_samples = to_uint8(cond.generate(latent=cond.fixed_latent(len(requested), "by digit"),
                                          labels=requested))
    save_array(requested.astype(np.uint8), out_dir, "wgan-conditional-labels", profile)
    _, logits = features_and_logits(cond_samples)
    predicted = logits.argmax(1)
    report["conditional"] = {
        **sample_report(cond_samples, out_dir, "wgan-conditional", profile, scorer,
                        floor=False),
        **training_report(cond_history, cond_training),
        "accuracy": round(float((predicted == requested).mean()), 4),
        "accuracy_per_digit": [round(float((predicted[requested == d] == d).mean()), 4)
                               for d in range(10)],
        "generator_updates": b.cond_epochs * b.cond_steps_per_epoch,
    }
    report["fid_real_data_same_n"] = round(fid_floor(scorer, n=b.fid_samples), 3)
    return report
