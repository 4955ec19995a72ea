"""``make bench NAME=diffusion_samplers SEED=S``: samplers compared on one trained network of 08.

Loads the network that ``make bench NAME=diffusion`` trained under the same profile and seed
(its averaged weights, ``diffusion-weights-<profile>-seed<seed>.weights.h5``, beside the
samples) and scores, from the same starting points x_T, the unconditional model sampled by
DDIM (η = 0, each guess x̂_0 clipped to the data range, as 08 samples) in 10, 20, 50 and 100
steps, 20 and 50 steps unclipped (section 5: on the cosine schedule the first guess is off by
orders of magnitude), η = 1 in 50, 100 and 200 steps, and the conditional model at w = 0
with labels drawn from the training set's frequencies: the model's p(x) = Σ_y p(y) p_θ(x | y),
which a GAN without labels cannot use. A fifth of the profile's ``fid_samples`` each
(n = 2,000 in the cpu profile: the FID is biased up against n = 10,000; real data at the
same n is given).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import load_mnist, sha256_of
from ..tools.bench import sample_report, stopwatch
from ..topics.diffusion import BUDGET
from .diffusion import SCHEDULE

# (name, DDIM steps, η, clip x̂_0, labels from the training frequencies)
SAMPLERS = [("ddim_10", 10, 0.0, True, False), ("ddim_20", 20, 0.0, True, False),
            ("ddim_50", 50, 0.0, True, False), ("ddim_100", 100, 0.0, True, False),
            ("ddim_20_unclipped", 20, 0.0, False, False),
            ("ddim_50_unclipped", 50, 0.0, False, False),
            ("eta_1_50", 50, 1.0, True, False), ("eta_1_100", 100, 1.0, True, False),
            ("eta_1_200", 200, 1.0, True, False), ("labels_w0_ddim_20", 20, 0.0, True, True)]


def load_trained_model(profile: str, out_dir: Path):
    """(08's model with the network that ``make bench NAME=diffusion`` saved under this
    profile and seed, its weights file); a clear error naming that command when missing."""
    from ..device import current_seed
    from .diffusion import build_model

    weights = Path(out_dir) / f"diffusion-weights-{profile}-seed{current_seed()}.weights.h5"
    if not weights.is_file():
        raise SystemExit(f"{weights} is missing: this benchmark scores the network that "
                         f"`make bench NAME=diffusion PROFILE={profile} SEED={current_seed()}` "
                         "trains and saves there; run that first.")
    model = build_model(BUDGET.get(profile))
    model.network.load_weights(weights)
    return model, weights


def benchmark(profile: str, out_dir: Path) -> dict:
    from ..device import rng
    from ..metrics import SampleScorer, fid_floor
    from ..models import diffusion as models

    b = BUDGET.get(profile)
    model, weights = load_trained_model(profile, out_dir)
    n = b.fid_samples // 5
    start = rng("sampler comparison start").standard_normal((n, 28, 28, 1))
    train_labels = load_mnist("train").labels
    frequencies = np.bincount(train_labels, minlength=10) / len(train_labels)
    labels = rng("sampler comparison labels").choice(10, size=n, p=frequencies).astype(np.int32)
    scorer = SampleScorer()
    report: dict = {"weights_file": str(weights), "weights_sha256": sha256_of(weights),
                    "n_samples": n, "schedule": SCHEDULE, "width": b.width,
                    "min_snr_gamma": b.min_snr_gamma, "label_dropout": b.label_dropout}
    for name, steps, eta, clip, with_labels in SAMPLERS:
        with stopwatch() as clock:
            x, _ = models.ddim_sample(model, start, steps, eta, rng(f"sampler {name} noise"),
                                      labels if with_labels else None, clip=clip)
        report[name] = {**sample_report(models.to_images(x), out_dir,
                                        f"diffusion-sampler-{name}", profile, scorer,
                                        floor=False),
                        "steps": steps, "eta": eta, "clipped": clip, "labels": with_labels,
                        "sample_images_per_s": round(n / clock["seconds"], 1)}
        print(name, {k: report[name][k] for k in ("fid", "min_class_fraction")}, flush=True)
    report["fid_real_data_same_n"] = round(fid_floor(scorer, n=n), 3)
    return report
