"""``python -m coursekit.bench infogan``: notebook 04's InfoGAN trained from scratch, measured.

Trains the exported notebook code (``coursekit.models.infogan``, the paper's version: learned
standard deviations, λ = 1 for the categorical code and 0.1 for the continuous ones) and
reports both accuracies (Q on real test digits; the classifier on images generated per
category; each under the best one-to-one map), the MI estimates per code, Q's accuracy per
epoch, the Fréchet distance and class histogram of 10,000 samples (saved as uint8 ``.npy``
with their sampled codes), wall time and images/s.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..adversarial import fit_adversarial
from ..data import load_mnist
from ..device import current_seed
from ..infogan import BUDGET, InformationTracker, matched_accuracy


def benchmark(profile: str, out_dir: Path) -> dict:
    from ..metrics import SampleScorer, features_and_logits, fid_floor, to_uint8
    from ..models import infogan as I

    b = BUDGET.get(profile)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train, test = load_mnist("train"), load_mnist("test")
    model = I.build_infogan(width=b.width, dense=b.dense)

    def q_accuracy():
        return matched_accuracy(model.q_outputs(test.images)[:, :10].argmax(1), test.labels)[0]

    def estimates():
        latent = model.fixed_latent(1000, "mi estimate")
        q = model.q_outputs(model.generate(latent=latent))
        return [float(mi) for _, _, mi in model.spec.information(latent, q)]

    tracker = InformationTracker(estimates, q_accuracy)
    start = time.perf_counter()
    history = fit_adversarial(model, train.images, epochs=b.epochs,
                              steps_per_epoch=b.steps_per_epoch, m=b.batch, name=None,
                              callbacks=[tracker])
    train_seconds = time.perf_counter() - start

    per_category = b.eval_per_category
    latent = model.fixed_latent(10 * per_category, "by category").copy()
    latent[:, :10] = np.repeat(np.eye(10, dtype=np.float32), per_category, axis=0)
    _, logits = features_and_logits(model.generate(latent=latent))
    generated_accuracy, _ = matched_accuracy(np.repeat(np.arange(10), per_category),
                                             logits.argmax(1))

    codes = model.fixed_latent(b.fid_samples, "fid samples")
    samples = to_uint8(model.generate(latent=codes))
    samples_path = out_dir / f"infogan-samples-{profile}-seed{current_seed()}.npy"
    np.save(samples_path, samples)
    np.save(out_dir / f"infogan-codes-{profile}-seed{current_seed()}.npy", codes[:, :12])
    scorer = SampleScorer()
    score = scorer.score(samples)
    return {
        "q_test_accuracy": round(tracker.accuracies[-1], 4),
        "generated_accuracy": round(generated_accuracy, 4),
        "q_test_accuracy_by_epoch": [round(a, 4) for a in tracker.accuracies],
        "mi_estimates_final": {"categorical": round(tracker.estimates[-1][0], 4),
                               "c2": round(tracker.estimates[-1][1], 4),
                               "c3": round(tracker.estimates[-1][2], 4)},
        "categorical_entropy": round(float(np.log(10)), 4),
        "fid": round(score["fid"], 3),
        "fid_real_data_same_n": round(fid_floor(scorer, n=b.fid_samples), 3),
        "class_histogram": [round(float(v), 4) for v in score["histogram"]],
        "samples_file": str(samples_path),
        "n_samples": int(len(samples)),
        "train_seconds": round(train_seconds, 1),
        "train_images_per_s": round(history.get("_throughput", 0.0), 1),
        "steps": b.epochs * b.steps_per_epoch, "batch": b.batch, "width": b.width,
        "dense": b.dense,
    }
