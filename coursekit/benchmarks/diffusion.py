"""``make bench NAME=diffusion``: notebook 08's denoising diffusion model, measured.

Trains the exported notebook code (``coursekit.models.diffusion``: Ho et al.'s simple loss on
the cosine schedule, T = 1000, weighted by Min-SNR-γ, with Ho & Salimans' label dropout, on
the notebook's U-Net)
from scratch under the profile's sizes; samples come from the moving average of its
weights. With DDIM (the profile's ``bench_eta`` and ``bench_steps``: η = 1, 50 steps in the
cpu profile): ``fid_samples`` unconditional samples (no label) scored on the course
classifier's features (Fréchet distance, class histogram), and ``guided_samples``, an equal
number per requested digit, at the guidance scale ``bench_guidance`` (classifier accuracy
against the request, per digit, and FID); real data at each n as the reference.
Training wall and CPU time (the process's, all cores), training images/s, sampling
images/s. The samples are saved as uint8 ``.npy``, and the trained network (its averaged
weights) as ``diffusion-weights-<profile>-seed<seed>.weights.h5``, so that other samplers
can be scored on the same model without training it again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import load_mnist, make_pipeline, sha256_of
from ..tools.bench import sample_report, save_array, stopwatch, training_report
from ..topics.diffusion import BUDGET


def _sample(model, n, steps, seed_stream, labels=None, guidance=0.0, eta=0.0):
    from ..device import rng
    from ..models.diffusion import ddim_sample, to_images

    start = rng(seed_stream).standard_normal((n, 28, 28, 1))
    with stopwatch() as clock:
        x, _ = ddim_sample(model, start, steps, eta=eta, rng=rng(f"{seed_stream} noise"),
                           labels=labels, guidance=guidance)
    return to_images(x), n / clock["seconds"]


SCHEDULE = "cosine"  # the noise schedule of 08's U-Net (section 4), recorded in every report


def build_model(b):
    """08's model under budget ``b``, as section 4 builds it: the U-Net of width ``b.width`` on
    the cosine schedule, with the profile's label dropout and Min-SNR-γ (uncompiled)."""
    from ..models import diffusion as models

    return models.DenoisingDiffusion(models.unet(b.width), models.Schedule(models.cosine_betas()),
                                     label_dropout=b.label_dropout, min_snr_gamma=b.min_snr_gamma)


def benchmark(profile: str, out_dir: Path) -> dict:
    import keras

    from ..device import current_seed, seed_for
    from ..metrics import SampleScorer, features_and_logits, fid_floor, to_uint8
    from ..training import fit_resumable

    b = BUDGET.get(profile)
    train = load_mnist("train")
    x, y = train.images * 2 - 1, train.labels.astype(np.int32)
    model = build_model(b)
    model.compile(optimizer=keras.optimizers.Adam(b.learning_rate, use_ema=True,
                                                  ema_momentum=b.ema))
    pipeline = make_pipeline((x, y), b.batch, seed=seed_for("mnist batches"),
                             drop_remainder=True).repeat()
    with stopwatch() as training:
        history = fit_resumable(model, pipeline, epochs=b.epochs, steps_per_epoch=b.steps_per_epoch,
                                name=None, examples_per_step=b.batch)
    model.optimizer.finalize_variable_values(model.network.trainable_variables)
    weights = Path(out_dir) / f"diffusion-weights-{profile}-seed{current_seed()}.weights.h5"
    weights.parent.mkdir(parents=True, exist_ok=True)
    model.network.save_weights(weights)
    report: dict = {
        "schedule": SCHEDULE, "width": b.width, "batch": b.batch,
        "learning_rate": b.learning_rate,
        "label_dropout": b.label_dropout, "min_snr_gamma": b.min_snr_gamma, "ema": b.ema,
        "steps": b.epochs * b.steps_per_epoch,
        "parameters": int(model.network.count_params()),
        **training_report(history, training),
        "final_train_loss": round(float(history["loss"][-1]), 5),
        "sampler": {"method": "DDIM", "eta": b.bench_eta, "steps": b.bench_steps,
                    "clip_x0": True},
        "unconditional_sampler": {"method": "DDIM", "eta": b.bench_eta, "steps": b.bench_steps,
                                  "clip_x0": True},
        "weights_file": str(weights),
        "weights_sha256": sha256_of(weights),  # the scoring benchmarks record it too
    }
    scorer = SampleScorer()

    unconditional, rate = _sample(model, b.fid_samples, b.bench_steps, "bench unconditional",
                                  eta=b.bench_eta)
    report["unconditional"] = {
        **sample_report(unconditional, out_dir, "diffusion-unconditional", profile, scorer,
                        floor=False),
        "sample_images_per_s": round(rate, 1)}
    print("unconditional:", report["unconditional"], flush=True)

    requested = np.repeat(np.arange(10, dtype=np.int32), b.guided_samples // 10)
    guided, rate = _sample(model, len(requested), b.bench_steps, "bench guided",
                           labels=requested, guidance=b.bench_guidance, eta=b.bench_eta)
    save_array(requested.astype(np.uint8), out_dir, "diffusion-guided-labels", profile)
    _, logits = features_and_logits(to_uint8(guided))
    predicted = logits.argmax(1)
    report["guided"] = {
        **sample_report(guided, out_dir, "diffusion-guided", profile, scorer, floor=False),
        "guidance": b.bench_guidance,
        "accuracy": round(float((predicted == requested).mean()), 4),
        "accuracy_per_digit": [round(float((predicted[requested == d] == d).mean()), 4)
                               for d in range(10)],
        "sample_images_per_s": round(rate, 1),
        "fid_real_data_same_n": round(fid_floor(scorer, n=len(requested)), 3)}
    report["fid_real_data_same_n"] = round(fid_floor(scorer, n=b.fid_samples), 3)
    return report
