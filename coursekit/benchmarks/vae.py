"""Benchmark of notebook 02_vae: ``python -m coursekit.tools.bench vae``.

Trains the notebook's exported section-5 VAE (``coursekit.models.vae``) from scratch (no
checkpoint) and reports the test NLL (IWAE), the ELBO and its terms, and the speed.
"""

from __future__ import annotations

from pathlib import Path

from ..tools.bench import stopwatch, training_report


def benchmark(profile: str, out_dir: Path) -> dict:
    from coursekit.data import load_mnist
    from coursekit.models import vae as models
    from coursekit.topics.vae import BUDGET, binarize

    sizes = BUDGET.get(profile)
    train = load_mnist("train").images[: sizes.train_size]
    test = binarize(load_mnist("test").images[: sizes.test_size])
    with stopwatch() as training:
        model, history = models.train_vae(train, latent_dim=sizes.latent_dim,
                                          epochs=sizes.epochs, batch=sizes.batch,
                                          learning_rate=sizes.learning_rate)
    with stopwatch() as evaluation:
        bound = models.elbo(model, test)
        nll = models.iwae_nll(model, test[: sizes.iwae_images], sizes.iwae_k)
    return {
        "test_nll_iwae_nats": round(float(nll.mean()), 2),
        "iwae_k": sizes.iwae_k,
        "iwae_test_images": int(len(nll)),
        "test_elbo_nats": round(bound["elbo"], 2),
        "test_reconstruction_nats": round(bound["reconstruction"], 2),
        "test_kl_nats": round(bound["kl"], 2),
        "elbo_test_images": int(len(test)),
        "anchor_burda_2015_vae_nll": 86.76,
        "epochs": sizes.epochs,
        "train_images": int(len(train)),
        **training_report(history, training),
        "eval_seconds": round(evaluation["seconds"], 1),
        "final_train_loss": round(history["loss"][-1], 2),
    }
