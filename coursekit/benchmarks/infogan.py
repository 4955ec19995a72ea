"""``make bench NAME=infogan``: notebook 04's InfoGAN trained from scratch, measured.

Trains the exported notebook code (``coursekit.models.infogan``, the model of sections 4–5:
the paper's codes as the official code models them, Q's Gaussians with standard deviation 1
and λ = 1 for every code) and
reports both accuracies (Q on real test digits; the classifier on images generated per
category; each under the best one-to-one map), the MI estimates per code, Q's accuracy per
epoch, the Fréchet distance and class histogram of 10,000 samples (saved as uint8 ``.npy``
with their sampled codes), wall time and images/s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..adversarial import fit_adversarial
from ..data import load_mnist
from ..recorders import Recorder
from ..tools.bench import sample_report, save_array, stopwatch, training_report
from ..topics.infogan import BUDGET, matched_accuracy


def benchmark(profile: str, out_dir: Path) -> dict:
    from ..metrics import features_and_logits
    from ..models import infogan as models

    b = BUDGET.get(profile)
    train, test = load_mnist("train"), load_mnist("test")
    model = models.build_infogan(width=b.width, dense=b.dense)

    def q_accuracy():
        return matched_accuracy(model.q_outputs(test.images)[:, :10].argmax(1), test.labels)[0]

    def estimates():
        latent = model.fixed_latent(1000, "mi estimate")
        q = model.q_outputs(model.generate(latent=latent))
        return [float(mi) for _, _, mi in model.spec.information(latent, q)]

    tracker = Recorder(lambda: {"estimates": estimates(), "accuracies": q_accuracy()})
    with stopwatch() as training:
        history = fit_adversarial(model, train.images, epochs=b.epochs,
                                  steps_per_epoch=b.steps_per_epoch, m=b.batch, name=None,
                                  callbacks=[tracker])

    per_category = b.eval_per_category
    latent = model.fixed_latent(10 * per_category, "by category").copy()
    latent[:, :10] = np.repeat(np.eye(10, dtype=np.float32), per_category, axis=0)
    _, logits = features_and_logits(model.generate(latent=latent))
    generated_accuracy, _ = matched_accuracy(np.repeat(np.arange(10), per_category),
                                             logits.argmax(1))

    codes = model.fixed_latent(b.fid_samples, "fid samples")
    save_array(codes[:, :12], out_dir, "infogan-codes", profile)
    return {
        **sample_report(model.generate(latent=codes), out_dir, "infogan", profile),
        "q_test_accuracy": round(tracker.accuracies[-1], 4),
        "generated_accuracy": round(generated_accuracy, 4),
        "q_test_accuracy_by_epoch": [round(a, 4) for a in tracker.accuracies],
        "mi_estimates_final": {"categorical": round(tracker.estimates[-1][0], 4),
                               "c2": round(tracker.estimates[-1][1], 4),
                               "c3": round(tracker.estimates[-1][2], 4)},
        "categorical_entropy": round(float(np.log(10)), 4),
        **training_report(history, training),
        "steps": b.epochs * b.steps_per_epoch, "batch": b.batch, "width": b.width,
        "dense": b.dense,
    }
