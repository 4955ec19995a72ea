"""Notebook 08's denoising diffusion (exported to coursekit.models.diffusion) and its measuring
helpers: the schedules, the closed forms of the forward process and its posterior, the ELBO
term as a weighted noise error, the DDPM and DDIM samplers (DDIM with η = 1 over every step
is DDPM; a perfect noise predictor gives x_0 back), classifier-free guidance, label dropout,
the toy's exact score, the energy distance, mixed precision and two replicas."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from coursekit.models import diffusion as models
from coursekit.tools import testing
from coursekit.topics import diffusion as topic


def test_the_linear_schedule_is_the_papers():
    s = models.Schedule(models.linear_betas())
    assert len(s) == 1000
    assert s.betas[0] == pytest.approx(1e-4) and s.betas[-1] == pytest.approx(0.02)
    assert s.alpha_bars[-1] == pytest.approx(4.04e-5, rel=0.01)  # x_T is nearly pure noise
    assert s.posterior_variance[0] == 0  # t = 1: x_0 is known given x_1 and x_0


def test_the_cosine_schedule_follows_its_formula():
    T, offset = 1000, 0.008
    s = models.Schedule(models.cosine_betas(T, offset))
    f = np.cos((np.arange(T + 1) / T + offset) / (1 + offset) * np.pi / 2) ** 2
    unclipped = s.betas < 0.999
    np.testing.assert_allclose(s.alpha_bars[unclipped], (f[1:] / f[0])[unclipped], rtol=1e-9)
    assert unclipped.sum() >= T - 1  # only the last step is clipped


@pytest.mark.parametrize("betas", [[0.5, 1.2], [0.0, 0.1], [[0.1, 0.2]]])
def test_a_bad_schedule_is_named(betas):
    with pytest.raises(ValueError, match="betas must be a 1-D array of noise variances"):
        models.Schedule(betas)


def test_the_closed_form_is_the_composed_steps():
    """Mean factor and variance of x_t given x_0, step by step: √ᾱ_t and 1 − ᾱ_t."""
    s = models.Schedule(models.linear_betas())
    factor, variance = 1.0, 0.0
    for t in range(len(s)):
        factor, variance = math.sqrt(s.alphas[t]) * factor, s.alphas[t] * variance + s.betas[t]
        assert factor == pytest.approx(math.sqrt(s.alpha_bars[t]), rel=1e-9)
        assert variance == pytest.approx(1 - s.alpha_bars[t], rel=1e-9)


def test_the_posterior_is_the_conditional_of_the_joint_gaussian():
    s = models.Schedule(models.linear_betas())
    x0, x_t = 0.7, np.array([-1.3, 0.0, 0.4, 2.0])
    for t in (1, 10, 500, 999):
        m_prev, v_prev = math.sqrt(s.alpha_bars[t - 1]) * x0, 1 - s.alpha_bars[t - 1]
        m_now, v_now = math.sqrt(s.alpha_bars[t]) * x0, 1 - s.alpha_bars[t]
        cov = math.sqrt(s.alphas[t]) * v_prev
        mean, variance = s.posterior(x_t, x0, t)
        np.testing.assert_allclose(mean, m_prev + cov / v_now * (x_t - m_now), rtol=1e-9)
        assert variance == pytest.approx(v_prev - cov ** 2 / v_now, rel=1e-9)


def test_gaussian_kl_by_hand():
    # KL(N(0, 1) || N(1, 4)) = log 2 + (1 + 1) / 8 − 1/2, per dimension
    assert models.gaussian_kl(np.zeros(3), 1.0, np.ones(3), 4.0) == pytest.approx(
        3 * (math.log(2) + 0.25 - 0.5))
    assert models.gaussian_kl(np.ones(5), 2.0, np.ones(5), 2.0) == 0


def test_each_elbo_term_is_a_weighted_noise_error():
    s = models.Schedule(models.linear_betas())
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, 784)
    for t in (1, 7, 300, 999):
        eps = rng.standard_normal(784)
        eps_hat = eps + 0.2 * rng.standard_normal(784)
        x_t = s.q_sample(x0, t, eps)
        mean, variance = s.posterior(x_t, x0, t)
        kl = models.gaussian_kl(mean, variance, s.mean_from_noise(x_t, t, eps_hat), variance)
        assert kl == pytest.approx(s.elbo_weight(t, variance) * np.sum((eps - eps_hat) ** 2),
                                   rel=1e-9)


class FakeModel:
    """A stand-in with a schedule and a fixed noise predictor (no network)."""

    def __init__(self, T=50, predict=None):
        self.schedule = models.Schedule(models.linear_betas(T, 1e-3, 0.2))
        self.predict = predict or (lambda x, t: 0.3 * np.tanh(x) + 0.001 * t)
        self.calls = []

    def predict_noise(self, x, t, labels=None, guidance=0.0):
        self.calls.append(int(t))
        return self.predict(x, t)


def test_ddim_with_eta_1_over_every_step_is_ddpm_with_the_posterior_variance():
    model, start = FakeModel(), np.random.default_rng(1).standard_normal((6, 3))
    ddpm, _ = models.ddpm_sample(model, start, np.random.default_rng(2), variance="posterior")
    ddim, _ = models.ddim_sample(model, start, 50, eta=1.0, rng=np.random.default_rng(2),
                                 clip=False)
    np.testing.assert_allclose(ddim, ddpm, rtol=1e-5, atol=1e-6)
    beta, _ = models.ddpm_sample(model, start, np.random.default_rng(2), variance="beta")
    assert np.abs(beta - ddpm).max() > 1e-3  # Algorithm 2's sigma_t^2 = beta_t differs


def test_ddim_visits_s_steps_from_the_last_to_the_first():
    model = FakeModel()
    models.ddim_sample(model, np.zeros((2, 3)), 7)
    assert len(model.calls) == 7 and model.calls[0] == 49 and model.calls[-1] == 0
    assert model.calls == sorted(model.calls, reverse=True)
    for bad in (0, 51):
        with pytest.raises(ValueError, match="steps must be between 1 and T"):
            models.ddim_steps(50, bad)


def test_a_perfect_noise_predictor_gives_x0_back_deterministically():
    """η = 0 and a predictor that knows x_0: every step's guess is x_0, whatever S."""
    rng = np.random.default_rng(3)
    x0 = rng.uniform(-1, 1, (4, 5))
    model = FakeModel()
    ab = model.schedule.alpha_bars
    model.predict = lambda x, t: (x - math.sqrt(ab[t]) * x0) / math.sqrt(1 - ab[t])
    start = model.schedule.q_sample(x0, 49, rng.standard_normal(x0.shape))
    for steps in (1, 3, 50):
        out, guesses = models.ddim_sample(model, start, steps, keep=True)
        np.testing.assert_allclose(out, x0, atol=1e-5)
        assert len(guesses) == steps


def test_ddim_can_start_part_way_down_the_chain():
    model = FakeModel()
    models.ddim_sample(model, np.zeros((2, 3)), 5, start=20)
    assert model.calls == [20, 15, 10, 5, 0]


def test_the_clipped_guess_stays_in_the_data_range_and_the_update_follows_it():
    rng = np.random.default_rng(4)
    far = FakeModel(predict=lambda x, t: -3.0 * np.ones_like(x))  # guesses far outside [-1, 1]
    start = rng.standard_normal((6, 3))
    out, guesses = models.ddim_sample(far, start, 10, keep=True)
    assert max(np.abs(g).max() for g in guesses) <= 1 and np.abs(out).max() <= 1
    unclipped, _ = models.ddim_sample(far, start, 10, clip=False)
    assert np.abs(unclipped).max() > 2
    x, eps = 3 * rng.standard_normal((2, 50))
    x_next, x0 = models.ddim_step(x, eps, 0.3, 0.6, 0.0, 0.0, clip=True)
    assert np.abs(x0).max() == 1.0  # some guesses were clipped
    eps_clipped = (x - math.sqrt(0.3) * x0) / math.sqrt(0.7)  # the noise the clipped guess implies
    np.testing.assert_allclose(x_next, math.sqrt(0.6) * x0 + math.sqrt(0.4) * eps_clipped)
    inside = np.abs((x - math.sqrt(0.7) * eps) / math.sqrt(0.3)) < 1
    same, _ = models.ddim_step(x, eps, 0.3, 0.6, 0.0, 0.0)
    np.testing.assert_allclose(x_next[inside], same[inside])  # in range, the clip changes nothing


def test_the_sampler_comparison_names_the_run_it_needs(tmp_path):
    from coursekit.benchmarks import diffusion_samplers
    from coursekit.device import current_seed

    with pytest.raises(SystemExit, match=f"make bench NAME=diffusion PROFILE=smoke "
                                         f"SEED={current_seed()}"):
        diffusion_samplers.benchmark("smoke", tmp_path)


def test_the_guidance_comparison_scores_every_scale_against_the_requested_digits(
        tmp_path, monkeypatch):
    """On a saved (untrained) smoke-width network, with the classifier faked: a classifier that
    always answers 3 is right on a tenth of the requests, wrong on every other digit."""
    from coursekit import metrics
    from coursekit.benchmarks import diffusion_guidance
    from coursekit.data import sha256_of
    from coursekit.device import current_seed

    with pytest.raises(SystemExit, match="make bench NAME=diffusion PROFILE=smoke"):
        diffusion_guidance.benchmark("smoke", tmp_path)
    b = topic.BUDGET.get("smoke")
    network, rng = models.unet(b.width), np.random.default_rng(0)
    for weight in network.weights:  # the U-Net's output layer starts at zero: perturb it all
        weight.assign(rng.normal(0, 0.05, weight.shape).astype("float32"))
    weights = tmp_path / f"diffusion-weights-smoke-seed{current_seed()}.weights.h5"
    network.save_weights(weights)

    class FakeScorer:
        def score(self, samples):
            return {"fid": float(np.mean(samples)), "histogram": np.full(10, 0.1),
                    "min_class": 0.1}

    def always_three(images):
        return None, np.tile(np.eye(10)[3], (len(images), 1))

    monkeypatch.setattr(metrics, "SampleScorer", FakeScorer)
    monkeypatch.setattr(metrics, "features_and_logits", always_three)
    monkeypatch.setattr(metrics, "fid_floor", lambda scorer, n: 0.5)
    report = diffusion_guidance.benchmark("smoke", tmp_path)
    assert report["weights_sha256"] == sha256_of(weights)  # names the network it scored
    assert report["sampler"] == {"method": "DDIM", "eta": b.bench_eta, "steps": b.bench_steps,
                                 "clip_x0": True}
    assert report["schedule"] == "cosine" and report["n_samples"] == b.fid_samples // 5
    for w in diffusion_guidance.SCALES:
        row = report[diffusion_guidance.scale_key(w)]
        assert row["guidance"] == w and row["accuracy"] == pytest.approx(0.1)
        assert row["accuracy_per_digit"][3] == 1 and row["worst_digit_accuracy"] == 0
        assert row["n_samples"] == b.fid_samples // 5
    # the scales differ, so the samples do
    assert report["w_0"]["fid"] != report["w_8"]["fid"]
    assert diffusion_guidance.scale_key(0.5) == "w_0_5"


def tiny_unet():
    return models.DenoisingDiffusion(models.unet(width=4, embed=8),
                                     models.Schedule(models.linear_betas()), label_dropout=0.2)


def test_guidance_combines_the_conditional_and_unconditional_predictions():
    model = tiny_unet()
    rng = np.random.default_rng(4)
    for w in model.network.trainable_variables:  # the last conv starts at zero: move it
        w.assign(rng.normal(0, 0.2, w.shape).astype("float32"))
    x, labels = rng.standard_normal((3, 28, 28, 1)), np.array([1, 5, 9])
    cond, uncond = model.predict_noise(x, 400, labels), model.predict_noise(x, 400)
    assert np.abs(cond - uncond).max() > 1e-4  # the label reaches the network
    np.testing.assert_allclose(model.predict_noise(x, 400, labels, guidance=1.5),
                               2.5 * cond - 1.5 * uncond, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(model.predict_noise(x, 400, labels, guidance=0.0), cond)
    chunked = model.predict_noise(x, 400, labels, guidance=1.5, batch=2)  # chunks agree
    np.testing.assert_allclose(chunked, 2.5 * cond - 1.5 * uncond, rtol=1e-4, atol=1e-5)


def test_label_dropout_hides_its_share_of_the_labels():
    model = tiny_unet()
    _, _, keep = model.draws(np.zeros((20_000, 1), np.float32))
    kept = float(np.mean(keras.ops.convert_to_numpy(keep)))
    assert abs(kept - 0.8) < 4 * math.sqrt(0.2 * 0.8 / 20_000)
    with pytest.raises(ValueError, match="label_dropout"):
        models.DenoisingDiffusion(models.toy_denoiser(), models.Schedule(models.linear_betas()),
                                  label_dropout=1.0)


def test_min_snr_weights_cap_the_nearly_clean_steps():
    schedule = models.Schedule(models.linear_betas())
    plain = models.DenoisingDiffusion(models.toy_denoiser(), schedule, label_dropout=0.0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(plain.step_weights), 1.0)
    capped = models.DenoisingDiffusion(models.toy_denoiser(), schedule, label_dropout=0.0,
                                       min_snr_gamma=5.0)
    weights, snr = keras.ops.convert_to_numpy(capped.step_weights), schedule.snr()
    np.testing.assert_allclose(weights, np.minimum(snr, 5.0) / snr, rtol=1e-6)
    assert np.all(weights[snr <= 5] == 1.0) and np.all(weights[snr > 5] < 1.0)
    assert weights[0] < 1e-3  # t = 1: SNR near 10,000
    assert capped.get_config()["min_snr_gamma"] == 5.0
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="min_snr_gamma"):
            models.DenoisingDiffusion(models.toy_denoiser(), schedule, min_snr_gamma=bad)


def test_the_loss_weighs_each_examples_error_by_its_step():
    keras.utils.set_random_seed(3)
    model = models.DenoisingDiffusion(models.toy_denoiser(hidden=8, depth=1),
                                      models.Schedule(models.linear_betas()), label_dropout=0.0,
                                      min_snr_gamma=2.0)
    rng = np.random.default_rng(3)
    x0, eps = rng.normal(size=(6, 2)).astype("float32"), rng.normal(size=(6, 2)).astype("float32")
    t = np.array([0, 10, 100, 300, 600, 999], np.int32)
    labels = np.full(6, models.NULL_LABEL, np.int32)
    loss = float(models.simple_loss(model, *map(keras.ops.convert_to_tensor,
                                                (x0, labels, t, eps, np.ones(6, bool)))))
    ab = model.schedule.alpha_bars[t][:, None]
    eps_hat = model.network.predict([np.sqrt(ab) * x0 + np.sqrt(1 - ab) * eps, t], verbose=0)
    snr = model.schedule.snr()[t]
    expected = np.mean(np.minimum(snr, 2.0) / snr * np.mean((eps - eps_hat) ** 2, axis=1))
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_the_toy_model_learns_the_noise():
    keras.utils.set_random_seed(0)
    points = topic.GaussianMixture2D.three_blobs().sample(8192, np.random.default_rng(0))
    model = models.DenoisingDiffusion(models.toy_denoiser(hidden=64, depth=2),
                                      models.Schedule(models.linear_betas()), label_dropout=0.0)
    assert not model.conditional
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    history = model.fit(points.astype(np.float32), batch_size=256, epochs=8, verbose=0)
    assert history.history["loss"][0] > 1.5 * history.history["loss"][-1]
    assert history.history["loss"][-1] < 0.5  # predicting zero scores 1


def _toy_with_ema():
    keras.backend.clear_session()  # the same layer names each time: the checkpoint's key
    keras.utils.set_random_seed(1)
    model = models.DenoisingDiffusion(models.toy_denoiser(hidden=16, depth=1),
                                      models.Schedule(models.linear_betas()), label_dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2, use_ema=True, ema_momentum=0.5))
    return model


def test_a_reused_checkpoint_samples_from_the_same_moving_average(cache, capsys):
    """The notebook samples from the optimizer's weight average (``finalize_variable_values``
    after training). Keras's ``fit`` copies the average in when it ends, but the checkpoint
    holds the last iterate and the optimizer's average: the reused model, finalized too, must
    end with the same weights as the freshly trained one."""
    from coursekit import training

    points = topic.GaussianMixture2D.three_blobs().sample(256, np.random.default_rng(8))
    data = lambda: tf.data.Dataset.from_tensor_slices(points.astype(np.float32)).batch(64)  # noqa: E731
    fresh = _toy_with_ema()
    training.fit_resumable(fresh, data(), epochs=2, name="toy")
    fresh.optimizer.finalize_variable_values(fresh.network.trainable_variables)  # no change
    reused = _toy_with_ema()
    training.fit_resumable(reused, data(), epochs=2, name="toy")
    assert "reusing checkpoint" in capsys.readouterr().out
    pairs = list(zip(fresh.network.weights, reused.network.weights, strict=True))
    # restored: the last iterate, not the average (else the check below would be empty)
    assert max(np.abs(np.asarray(a) - np.asarray(b)).max() for a, b in pairs) > 1e-4
    reused.optimizer.finalize_variable_values(reused.network.trainable_variables)
    for a, b in pairs:
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)


def test_the_mixture_score_is_the_gradient_of_its_log_density():
    mixture = topic.GaussianMixture2D.three_blobs()
    x = mixture.sample(50, np.random.default_rng(5))
    for a in (0.99, 0.5, 0.01):
        h = 1e-5
        numeric = np.stack([(mixture.log_density(x + h * e, a) - mixture.log_density(x - h * e, a))
                            / (2 * h) for e in np.eye(2)], axis=1)
        np.testing.assert_allclose(mixture.score(x, a), numeric, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(mixture.responsibilities(x, a).sum(1), 1.0)
    # at alpha_bar = 1 the noised density is the data's: integrates to 1 on a grid
    g = np.linspace(-3, 3, 301)
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    assert np.exp(mixture.log_density(grid, 1.0)).sum() * (g[1] - g[0]) ** 2 == pytest.approx(
        1.0, abs=1e-3)


def test_energy_distance_is_zero_for_one_set_and_grows_with_a_shift():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((400, 2))
    assert topic.energy_distance(a, a) == pytest.approx(0.0, abs=1e-12)
    shifted = [topic.energy_distance(a, a + [d, 0]) for d in (0.1, 0.5, 2.0)]
    assert 0 < shifted[0] < shifted[1] < shifted[2]
    # two samples of one distribution: far below a shift of half a standard deviation
    assert topic.energy_distance(a, rng.standard_normal((400, 2))) < shifted[1] / 3


def test_the_budget_has_every_profile():
    for profile in ("smoke", "cpu", "gpu"):
        sizes = topic.BUDGET.get(profile)
        assert sizes.bench_guidance in sizes.guidance
        assert sizes.guided_samples % 10 == 0 and sizes.bench_steps >= 1  # equal per digit
        assert all(1 <= s <= 1000 for s in sizes.curve_steps)


class RowsDiffusion(models.DenoisingDiffusion):
    """Draws from ``testing.global_rows``: the same on one replica with the global batch as
    on two replicas with half each."""

    def draws(self, x0):
        import tensorflow as tf

        n = keras.ops.shape(x0)[0]
        index = testing.global_index(n)
        t = (index * 97) % len(self.schedule)
        eps = tf.reshape(testing.global_rows(n, 784), (-1, 28, 28, 1))
        return t, eps, index % 3 != 0


def make(optimizer_fn):
    model = RowsDiffusion(models.unet(width=8, embed=16),
                          models.Schedule(models.linear_betas()), label_dropout=0.3,
                          min_snr_gamma=5.0)
    rng = np.random.default_rng(7)
    images = rng.uniform(-1, 1, (8, 28, 28, 1)).astype(np.float32)
    labels = np.arange(8, dtype=np.int32)
    model.compile(optimizer=optimizer_fn())
    model(images[:1])
    return model, (images, labels)


def test_mixed_precision_step_matches_float32():
    assert testing.mixed_precision_step(make) < 0.02


def test_the_network_answers_in_float32_under_mixed_precision():
    policy = keras.mixed_precision.dtype_policy().name
    try:
        keras.mixed_precision.set_global_policy("mixed_float16")
        out = models.unet(width=8, embed=16)([np.zeros((2, 28, 28, 1)), np.zeros(2, "int32"),
                                               np.zeros(2, "int32")])
        assert out.dtype == "float32" and tuple(out.shape) == (2, 28, 28, 1)
    finally:
        keras.mixed_precision.set_global_policy(policy)


# checked on two replicas by tests/test_two_replicas.py
REPLICA_TARGETS = ["tests.test_diffusion:make"]
