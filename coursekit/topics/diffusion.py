"""Infrastructure for notebook 08_diffusion: its budget and its measurements.

The model itself (the noise schedules, the forward process and its posterior, the
ε-prediction loss, the U-Net, ``DenoisingDiffusion`` with its ``train_step``, the DDPM and
DDIM samplers, classifier-free guidance) is written in the notebook's ``#@save`` cells and
exported to ``coursekit.models.diffusion``. Here: the sizes of each profile, the 2-D mixture
of Gaussians whose noised density (and so its score) is exact, and the energy distance that
compares two point clouds. Introduced in 08_diffusion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..profiles import Budget

# width: the U-Net's channels at 14×14 (twice that at 7×7); curve_steps: the DDIM step
# counts of the speed/quality curve; sample_steps: the DDIM steps of every other sample;
# guidance: the classifier-free guidance scales w of section 6 (w = 0 is the plain
# conditional model), bench_guidance the one the benchmark reports; check_samples: trained
# long enough for claims about sample quality (smoke draws blobs: it checks the mechanics).
# Every measurement behind the choices below is a report on results/README.md (diffusion,
# diffusion_samplers, diffusion_guidance; the experiments as variants).
# label_dropout: Ho & Salimans' p_uncond (0.1 or 0.2 in their experiments, which scored guided
# samples only). The benchmark scores the unconditional model too: at 0.2 its FID was 35-36 on
# three seeds, at 0.5 18.5-20.0 (linear schedule); at 0.65 (seed 42) the unconditional model
# gained 1.8 FID and the conditional one lost 3.7 points of guided accuracy (the 5s drawn as 3s).
# bench_eta, bench_steps: the sampler of the benchmark's samples, unconditional and guided
# (guided_samples of them, an equal number per digit), and of its guidance comparison. Fresh
# noise at each step (η = 1) lets later steps correct the network's errors (Karras et al. 2022,
# section 4): on the same networks it cut the unconditional FID by a third against η = 0.
# The schedule (section 4; benchmarks.diffusion.SCHEDULE): cosine since 2026-12-07. On the linear
# one a digit is decided while ᾱ runs from about 0.03 to 0.9 (seed 42: a label given only for
# τ ≥ 700 was followed by 10.9% of samples, for every τ by 68%), and 41% of its steps lie above
# that window (cosine: 11%). Seed 42, linear → cosine: unconditional FID 18.54 → 16.76, guided
# accuracy at w = 4 98.0 → 98.9% (the 5s 81 → 93%), guided FID 22.4 → 15.8 (n = 5,000); the
# smallest class 6.3% (4s) → 5.9% (1s), the 2s 16.9 → 16.4%: the schedule is not what
# over-draws the 2s.
# ema: the decay of the weights' moving average the samples come from (Ho et al.: 0.9999 over
# 800,000 updates; a short run needs a memory of a sixth of its updates or less: on seed 1234,
# 6,000 updates at 0.999 scored FID 44.2, 3,000 at 0.995 54.6). min_snr_gamma: Hang et al.'s
# Min-SNR-γ weighting, their γ = 5 (seed 1234, 6,000 updates: unconditional FID 44.2 → 36.8,
# guided accuracy at w = 2 90.6% → 99.3% against the unweighted loss, DDIM η = 0, 20 steps).
# latent_steps: updates of section 7's denoiser of 02's VAE codes (an MLP: seconds per
# thousand updates).
BUDGET = Budget(
    smoke=dict(width=8, batch=64, epochs=2, steps_per_epoch=60, learning_rate=3e-3,
               label_dropout=0.5, min_snr_gamma=5.0, ema=0.9, toy_steps=1500, toy_samples=2000,
               ddpm_samples=16,
               curve_samples=200, curve_steps=(5, 10), fid_samples=500, per_digit=20,
               guidance=(0.0, 2.0), sample_steps=10, bench_guidance=2.0, bench_eta=1.0,
               bench_steps=10, guided_samples=250, latent_steps=1500,
               check_samples=False),
    cpu=dict(width=32, batch=128, epochs=24, steps_per_epoch=250, learning_rate=1e-3,
             label_dropout=0.5, min_snr_gamma=5.0, ema=0.999, toy_steps=3000, toy_samples=4000,
             ddpm_samples=64,
             curve_samples=1000, curve_steps=(10, 20, 50, 100), fid_samples=10_000,
             per_digit=200, guidance=(0.0, 0.5, 1.0, 2.0, 4.0), sample_steps=20,
             bench_guidance=4.0, bench_eta=1.0, bench_steps=50, guided_samples=5000,
             latent_steps=6000,
             check_samples=True),
    gpu=dict(width=64, batch=128, epochs=30, steps_per_epoch=469, learning_rate=2e-4,
             label_dropout=0.5, min_snr_gamma=5.0, ema=0.9995, toy_steps=5000, toy_samples=5000,
             ddpm_samples=256,
             curve_samples=2000, curve_steps=(10, 20, 50, 100), fid_samples=10_000,
             per_digit=500, guidance=(0.0, 0.5, 1.0, 2.0, 4.0), sample_steps=50,
             bench_guidance=4.0, bench_eta=1.0, bench_steps=100, guided_samples=5000,
             latent_steps=20_000, check_samples=True),
)


@dataclass(frozen=True)
class GaussianMixture2D:
    """A mixture of isotropic 2-D Gaussians: weights (K,), means (K, 2), stds (K,).

    Noised by the forward process, x_t = √ᾱ x_0 + √(1 − ᾱ) ε, it stays a mixture with the
    same weights, means √ᾱ μ_k and variances ᾱ s_k² + 1 − ᾱ: its density and score are exact
    at every noise level. Introduced in 08_diffusion, section 3."""

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray

    @classmethod
    def three_blobs(cls) -> GaussianMixture2D:
        """The notebook's toy: three blobs of unequal weight and width."""
        return cls(weights=np.array([0.5, 0.3, 0.2]),
                   means=np.array([[-1.0, -0.5], [1.0, -0.5], [0.0, 1.0]]),
                   stds=np.array([0.15, 0.3, 0.2]))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        return self.means[k] + self.stds[k, None] * rng.standard_normal((n, 2))

    def noised(self, alpha_bar: float) -> tuple[np.ndarray, np.ndarray]:
        """Means and variances of the components of q(x_t) at ᾱ_t = ``alpha_bar``."""
        return (np.sqrt(alpha_bar) * self.means,
                alpha_bar * self.stds ** 2 + (1.0 - alpha_bar))

    def responsibilities(self, x, alpha_bar: float) -> np.ndarray:
        """p(k | x_t): each component's share of q(x_t) at each point, shape (n, K)."""
        means, variances = self.noised(alpha_bar)
        d2 = np.sum((np.asarray(x, np.float64)[:, None, :] - means[None]) ** 2, axis=-1)
        log = np.log(self.weights) - np.log(2 * np.pi * variances) - 0.5 * d2 / variances
        log -= log.max(axis=1, keepdims=True)
        r = np.exp(log)
        return r / r.sum(axis=1, keepdims=True)

    def log_density(self, x, alpha_bar: float) -> np.ndarray:
        """log q(x_t) at each point (n,)."""
        means, variances = self.noised(alpha_bar)
        d2 = np.sum((np.asarray(x, np.float64)[:, None, :] - means[None]) ** 2, axis=-1)
        log = np.log(self.weights) - np.log(2 * np.pi * variances) - 0.5 * d2 / variances
        top = log.max(axis=1)
        return top + np.log(np.exp(log - top[:, None]).sum(axis=1))

    def score(self, x, alpha_bar: float) -> np.ndarray:
        """∇ log q(x_t), the exact score, (n, 2): Σ_k p(k | x) (m_k − x) / v_k."""
        means, variances = self.noised(alpha_bar)
        x = np.asarray(x, np.float64)
        r = self.responsibilities(x, alpha_bar)
        return np.einsum("nk,nkd->nd", r / variances[None],
                         means[None] - x[:, None, :])


def energy_distance(a, b) -> float:
    """The energy distance 2 E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖ between two point clouds
    (rows), with the V-statistic's means over all pairs: zero only when the two
    distributions are equal (Székely & Rizzo 2013). Introduced in 08_diffusion, section 3."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)

    def mean_distance(u, v):
        total = 0.0
        for start in range(0, len(u), 1000):
            block = u[start:start + 1000]
            total += np.sqrt(((block[:, None, :] - v[None]) ** 2).sum(-1)).sum()
        return total / (len(u) * len(v))

    return 2 * mean_distance(a, b) - mean_distance(a, a) - mean_distance(b, b)
