"""Benchmark of notebook 06_cppn: rendering speed, share of the machine's peak, breeder speed.

    python -m coursekit.tools.bench cppn --profile cpu --seed 1234

Runs the notebook's exported code (``coursekit.models.cppn``) on ``coursekit.topics.cppn``'s
renderer:

- **rendering**: a fixed architecture (inputs x, y, d and z ∈ R^8; 4 hidden layers of 32
  tanh units; 3 sigmoid outputs), random weights from the run's seed; the warmed-up time to
  render 1024×1024 (median of ``repeats``) and the throughput in megapixels per second;
- **share of the peak**: the matrix-product FLOPs of that render per second, divided by
  the machine's float32 peak *as numpy sees it*: the best GFLOP/s of a 2048×2048 float32
  matrix product (BLAS on every core). The share is low on purpose of the definition: the
  tanh evaluations (128 per pixel) are not FLOPs in this count and cost more than the
  products, and 32-wide products cannot run at the speed of a 2048-wide one;
- **breeder**: the time for one generation of 15 children at 128×128, click to screen
  (one mutation or crossover per child, rendering, PNG encoding), over a scripted session;
- **GA**: genomes rendered and scored per second at the notebook's GA size.

Timings are wall-clock on a shared machine: the report's ``load_average`` (recorded by the
command at the start and the end of the run) says how busy the cores were, since other
processes on them slow every number down (the share of the peak less so, as the peak is
measured under the same load).

- **CPPN-GAN** (section 7): trained from scratch at the profile's sizes (no checkpoint);
  FID and class histogram of 10,000 samples (the budget's ``gan_eval`` in smoke) against
  the MNIST test set with the course's cached classifier; the samples are saved at 28×28 as
  uint8 ``cppn-gan-samples-<profile>-seed<S>.npy``; plus the time to render 512×512.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..device import rng
from ..tools.bench import sample_report, stopwatch, training_report
from ..topics import cppn as topic
from ..topics.cppn_breeder import Breeder

HIDDEN = (32, 32, 32, 32)
Z_DIM = 8
CHANNELS = 3
SIDE = 1024


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best float32 GFLOP/s of an n×n matrix product with numpy (the peak estimate)."""
    generator = np.random.default_rng(0)
    a = generator.standard_normal((n, n), dtype=np.float32)
    b = generator.standard_normal((n, n), dtype=np.float32)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def flops_per_pixel(hidden=HIDDEN, channels=CHANNELS) -> int:
    """Multiply-adds of the matrix products per pixel, ×2 (z's term is folded per image)."""
    sizes = [3, *hidden, channels]
    return 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def benchmark(profile: str, out_dir: Path) -> dict:
    from ..models import cppn as models

    sizes = topic.BUDGET.get(profile)
    repeats = 5 if profile == "smoke" else 9
    net = models.random_cppn(rng("06_cppn/bench/net"), hidden=HIDDEN, z_dim=Z_DIM,
                            channels=CHANNELS)
    z = rng("06_cppn/bench/z").normal(size=Z_DIM)

    def fn(x, y, d):
        return net(x, y, d, z)

    topic.render(fn, SIDE, SIDE)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        image = topic.render(fn, SIDE, SIDE)
        times.append(time.perf_counter() - start)
    render_s = float(np.median(times))
    pixels = SIDE * SIDE
    achieved = flops_per_pixel() * pixels / render_s / 1e9
    peak = matmul_peak_gflops()

    tracker = models.InnovationTracker()
    first = [models.random_genome(tracker, rng(f"06_cppn/bench/start/{i}")) for i in range(15)]
    breeder = Breeder(first, lambda p, n, s, r: models.breed(p, n, s, r, tracker),
                           size=128, rng=rng("06_cppn/bench/breeder"))
    choices = rng("06_cppn/bench/choices")
    generations = 10 if profile == "smoke" else 30
    click_s, render_only_s = [], []
    for g in range(generations):
        breeder.select(*choices.choice(15, size=1 + g % 2, replace=False))
        start = time.perf_counter()
        breeder.breed_button.click()
        click_s.append(time.perf_counter() - start)
        render_only_s.append(breeder.last_render_s)
    nodes = np.mean([len(genome.nodes) for genome in breeder.genomes])

    ga_tracker = models.InnovationTracker(topic.GREY_OUTPUTS)
    start_rng = rng("06_cppn/bench/ga")
    population = [models.random_genome(ga_tracker, start_rng) for _ in range(sizes.ga_population)]
    novelty = models.NoveltyScore(k=sizes.novelty_k)
    ga_generations = min(sizes.ga_generations, 30)
    start = time.perf_counter()
    models.evolve(population, novelty, ga_generations, sizes.ga_size, start_rng, ga_tracker)
    ga_s = time.perf_counter() - start

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    topic.save_gif(image[None, ::4, ::4], out_dir / "cppn-1024-preview.gif")
    gan = _cppn_gan(models, sizes, profile, out_dir)
    return {
        "architecture": f"x,y,d + z[{Z_DIM}] -> {'x'.join(map(str, HIDDEN))} tanh -> "
                        f"{CHANNELS} sigmoid",
        "render_1024_seconds": round(render_s, 3),
        "render_1024_seconds_all": [round(t, 3) for t in times],
        "render_megapixels_per_s": round(pixels / render_s / 1e6, 2),
        "matmul_flops_per_pixel": flops_per_pixel(),
        "render_matmul_gflops": round(achieved, 2),
        "peak_gflops_numpy_sgemm_2048": round(peak, 1),
        "share_of_peak": round(achieved / peak, 4),
        "breeder_generation_ms_median": round(1000 * float(np.median(click_s)), 1),
        "breeder_generation_ms_max": round(1000 * float(np.max(click_s)), 1),
        "breeder_render_15_ms_median": round(1000 * float(np.median(render_only_s)), 1),
        "breeder_generations": generations,
        "breeder_mean_nodes_last_generation": round(float(nodes), 1),
        "ga_genomes_per_s": round(sizes.ga_population * (ga_generations + 1) / ga_s, 1),
        "ga_image_size": sizes.ga_size,
        "gan": gan,
    }


def _cppn_gan(models, sizes, profile: str, out_dir: Path) -> dict:
    from ..adversarial import fit_adversarial
    from ..data import load_mnist
    from ..metrics import SampleScorer

    x_train = load_mnist("train").images
    gan = models.build_cppn_gan(hidden=sizes.gan_hidden, width=sizes.gan_width, g_rate=1e-3)
    scorer = SampleScorer()
    n = sizes.gan_eval if profile == "smoke" else 10_000
    untrained = scorer.fid(gan.generate(n, stream="06_cppn/bench/gan"))
    with stopwatch() as training:
        history = fit_adversarial(gan, x_train, epochs=sizes.gan_epochs,
                                  steps_per_epoch=sizes.gan_steps, m=sizes.gan_batch, name=None)
    samples = gan.generate(n, stream="06_cppn/bench/gan")
    latent = gan.fixed_latent(4, "06_cppn/bench/large")
    gan.render(latent[:1], 512)
    with stopwatch() as rendering:
        gan.render(latent, 512)
    return {
        "generator": f"x,y,d (×4) + z[{gan.latent_dim}] -> {sizes.gan_hidden} tanh -> "
                     f"sigmoid; D: 03's DCGAN discriminator, width {sizes.gan_width}",
        "steps": sizes.gan_epochs * sizes.gan_steps,
        **training_report(history, training),
        "final_d_real": round(float(history["d_real"][-1]), 3),
        "final_d_fake": round(float(history["d_fake"][-1]), 3),
        "fid_untrained": round(untrained, 2),
        **sample_report(samples, out_dir, "cppn-gan", profile, scorer, floor=False),
        "render_512_seconds_per_image": round(rendering["seconds"] / len(latent), 3),
    }
