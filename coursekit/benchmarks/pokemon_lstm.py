"""Benchmark of 05_pokemon_lstm: ``python -m coursekit.tools.bench pokemon_lstm --profile cpu``.

Trains the notebook's exported model code (``coursekit.models.pokemon_lstm``: the lecture's
LSTM and the variant that also sees the pixel above) from scratch under a profile, and
measures on the fixed test sprites what the notebook asserts: test NLL and accuracy of both
models and of every baseline, how often the LSTM and the previous-pixel baseline pick the
same colour (and the NLL gain there), the greedy sprite against the plainest test sprite,
training throughput and sampling speed. Sampled and completed sprites are saved as RGB uint8
arrays (.npy) in ``out_dir``. Every random choice follows the run's seed (``--seed``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..data import load_pokemon
from ..device import seed_for
from ..models.pokemon_lstm import build_model, complete, sample, train
from ..tools.bench import save_array
from ..topics.pokemon_lstm import (
    BUDGET,
    as_sequences,
    evaluate,
    fit_baselines,
    log_probs,
    split_sprites,
)


def _picked_nll(log_p: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return -np.take_along_axis(log_p, targets[..., None].astype(np.int64), -1)[..., 0]


def likelihood_vs_accuracy(model, baseline, test_s: np.ndarray) -> dict:
    """Where the model and ``baseline`` pick the same most likely colour (so their accuracy
    there is the same), and the model's NLL gain on those positions and overall (nats)."""
    model_lp, base_lp = log_probs(model, test_s), baseline.log_probs(test_s)
    same = model_lp.argmax(-1) == base_lp.argmax(-1)
    model_nll, base_nll = _picked_nll(model_lp, test_s), _picked_nll(base_lp, test_s)
    return {"same_pick": float(same.mean()),
            "nll_gain_where_same": float(base_nll[same].mean() - model_nll[same].mean()),
            "nll_gain": float(base_nll.mean() - model_nll.mean())}


def benchmark(profile: str, out_dir: Path) -> dict:
    """Train both LSTMs under ``profile``; report test quality, speed and the greedy sprite."""
    sizes = BUDGET.get(profile)
    data = load_pokemon()
    split = split_sprites(len(data.sprites))  # fixed: part of the data (see SPLIT_SEED)
    seqs = as_sequences(data.sprites)
    train_s, val_s, test_s = seqs[split.train], seqs[split.val], seqs[split.test]
    report: dict = {"n_train": len(train_s), "n_val": len(val_s), "n_test": len(test_s)}

    baselines = fit_baselines(train_s, val_s)
    report["baselines"] = {name: evaluate(b, test_s) for name, b in baselines.items()}

    models = {}
    for key, see_above, units, epochs in (
        ("lstm", False, sizes.units, sizes.epochs),
        ("lstm_above", True, sizes.above_units, sizes.above_epochs),
    ):
        model = build_model(units, see_above)  # initial weights from the run's seed
        start = time.perf_counter()
        history = train(model, train_s, val_s, epochs=epochs, batch=sizes.batch,
                        learning_rate=sizes.learning_rate, name=None)
        report[key] = {
            "units": units, "epochs": epochs,
            "train_seconds": round(time.perf_counter() - start, 1),
            "train_sequences_per_s": history.get("_throughput"),
            "final_val_loss": history["val_loss"][-1],
            "test": evaluate(model, test_s),
        }
        models[key] = model
    main = models["lstm"]
    report["lstm"]["vs_previous_pixel"] = likelihood_vs_accuracy(
        main, baselines["previous pixel"], test_s)

    greedy = sample(main, 4, temperature=0.0)  # also traces the step loop
    background = int(np.bincount(seqs.ravel()).argmax())
    test_colours = [len(np.unique(s)) for s in test_s]
    report["greedy"] = {
        "identical": bool(all(np.array_equal(greedy[0], g) for g in greedy)),
        "colours": len(np.unique(greedy[0])),
        "background_share": float((greedy[0] == background).mean()),
        "fewest_colours_of_a_test_sprite": int(min(test_colours)),
    }
    save_array(data.palette[greedy], out_dir, "pokemon-samples-t0.0", profile)
    start = time.perf_counter()
    samples = sample(main, sizes.n_samples, temperature=1.0, seed=seed_for("bench samples"))
    seconds = time.perf_counter() - start
    report["lstm"]["sample_sprites_per_s"] = round(sizes.n_samples / seconds, 2)
    save_array(data.palette[samples], out_dir, "pokemon-samples-t1.0", profile)
    for covered in (0.5, 0.75):
        prompts = np.repeat(test_s[:4], sizes.n_completions, axis=0)
        done = complete(main, prompts, covered=covered, temperature=1.0,
                        seed=seed_for(f"bench completions {covered}"))
        save_array(data.palette[done], out_dir, f"pokemon-completions-{int(covered * 100)}",
                   profile)

    best = min(report["baselines"].items(), key=lambda kv: kv[1]["nll_nats"])
    report["best_baseline"] = best[0]
    report["lstm_gain_over_best_baseline_nats"] = best[1]["nll_nats"] - (
        report["lstm"]["test"]["nll_nats"])
    report["above_gain_nats"] = (
        report["lstm"]["test"]["nll_nats"] - report["lstm_above"]["test"]["nll_nats"])
    return report
