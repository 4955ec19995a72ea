"""``make bench NAME=diffusion_guidance SEED=S``: the guidance scale w on one trained network of 08.

Loads the network that ``make bench NAME=diffusion`` trained under the same profile and seed
(``diffusion-weights-<profile>-seed<seed>.weights.h5``, beside the samples) and samples it
with classifier-free guidance (Ho & Salimans 2022, eq. 6) at every scale of ``SCALES``, from
the same starting points x_T, the same requested digits (an equal number of each) and the
same fresh noise, with the ``diffusion`` benchmark's sampler (DDIM, the profile's
``bench_eta`` and ``bench_steps``). For each w: the course
classifier's accuracy against the requested digit, overall and for the worst digit, and the
Fréchet distance of the samples: section 6's quality/diversity trade-off, on the benchmark's
network, so that ``bench_guidance`` is chosen from measurements on several seeds. A fifth of
the profile's ``fid_samples`` per scale (n = 2,000 in the cpu profile: the FID is biased up
against n = 10,000; real data at the same n is given).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import sha256_of
from ..tools.bench import sample_report, stopwatch
from ..topics.diffusion import BUDGET

SCALES = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0)


def scale_key(w: float) -> str:
    """The report's key for scale w: ``w_4``, ``w_0_5``."""
    return "w_" + f"{w:g}".replace(".", "_")


def benchmark(profile: str, out_dir: Path) -> dict:
    from ..device import rng
    from ..metrics import SampleScorer, features_and_logits, fid_floor, to_uint8
    from ..models import diffusion as models
    from .diffusion import SCHEDULE
    from .diffusion_samplers import load_trained_model

    b = BUDGET.get(profile)
    model, weights = load_trained_model(profile, out_dir)
    n = b.fid_samples // 5
    requested = np.repeat(np.arange(10, dtype=np.int32), n // 10)
    start = rng("guidance comparison start").standard_normal((len(requested), 28, 28, 1))
    scorer = SampleScorer()
    report: dict = {"weights_file": str(weights), "weights_sha256": sha256_of(weights),
                    "n_samples": len(requested), "schedule": SCHEDULE, "width": b.width,
                    "label_dropout": b.label_dropout, "bench_guidance": b.bench_guidance,
                    "sampler": {"method": "DDIM", "eta": b.bench_eta, "steps": b.bench_steps,
                                "clip_x0": True}}
    for w in SCALES:
        with stopwatch() as clock:
            x, _ = models.ddim_sample(model, start, b.bench_steps, eta=b.bench_eta,
                                      rng=rng("guidance comparison noise"), labels=requested,
                                      guidance=w)
        images = models.to_images(x)
        predicted = features_and_logits(to_uint8(images))[1].argmax(1)
        per_digit = [float((predicted[requested == d] == d).mean()) for d in range(10)]
        report[scale_key(w)] = {
            **sample_report(images, out_dir, f"diffusion-guidance-{scale_key(w)}", profile,
                            scorer, floor=False),
            "guidance": w,
            "accuracy": round(float((predicted == requested).mean()), 4),
            "worst_digit_accuracy": round(min(per_digit), 4),
            "worst_digit": int(np.argmin(per_digit)),
            "accuracy_per_digit": [round(a, 4) for a in per_digit],
            "sample_images_per_s": round(len(requested) / clock["seconds"], 1)}
        print(scale_key(w), {k: report[scale_key(w)][k]
                             for k in ("accuracy", "worst_digit_accuracy", "fid")}, flush=True)
    report["fid_real_data_same_n"] = round(fid_floor(scorer, n=len(requested)), 3)
    return report
