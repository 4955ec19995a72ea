"""Notebook 05_pokemon_lstm: the helpers of ``coursekit.topics.pokemon_lstm`` (split, baselines,
measurement, input checks) and its exported model code (``coursekit.models.pokemon_lstm``):
causality of teacher forcing, the one-pixel step loop, seeded sampling and temperature,
completion; one training step under mixed precision and on two replicas for both LSTM
variants (``coursekit.tools.testing``); a resumed training run equal to a straight one."""

import keras
import numpy as np
import pytest

from coursekit import gradients, recorders
from coursekit.models import pokemon_lstm as models
from coursekit.tools import testing
from coursekit.topics import pokemon_lstm as topic


def constant_sprites(*colours):
    """One 400-pixel sequence per colour, every pixel that colour."""
    return np.stack([np.full(topic.N_PIXELS, c, np.int32) for c in colours])


# --------------------------------------------------------------------------- split


def test_split_is_disjoint_complete_and_fixed():
    split = topic.split_sprites(792)
    assert (len(split.train), len(split.val), len(split.test)) == (634, 79, 79)
    together = np.concatenate(split)
    assert sorted(together.tolist()) == list(range(792))  # complete and disjoint
    again = topic.split_sprites(792)
    assert all(np.array_equal(a, b) for a, b in zip(split, again, strict=True))
    other = topic.split_sprites(792, seed=topic.SPLIT_SEED + 1)
    assert not np.array_equal(split.test, other.test)


def test_split_does_not_follow_the_run_seed(monkeypatch):
    # the split is data (see topic.SPLIT_SEED): another run seed, the same test sprites
    monkeypatch.setenv("COURSEKIT_SEED", "7")
    first = topic.split_sprites(792)
    monkeypatch.setenv("COURSEKIT_SEED", "8")
    assert np.array_equal(first.test, topic.split_sprites(792).test)


def test_split_rejects_bad_fractions():
    with pytest.raises(ValueError, match="leave some sprites"):
        topic.split_sprites(100, val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match="test_fraction"):
        topic.split_sprites(100, test_fraction=0)


# --------------------------------------------------------------------------- contexts and input


def test_contexts_use_start_where_no_neighbour_exists():
    seq = np.arange(topic.N_PIXELS)[None] % topic.N_COLOURS
    prev, above = topic.previous_pixels(seq), topic.above_pixels(seq)
    assert prev[0, 0] == topic.START and prev[0, 1] == seq[0, 0] and prev[0, 57] == seq[0, 56]
    assert (above[0, :20] == topic.START).all() and above[0, 45] == seq[0, 25]


def test_as_sequences_accepts_both_shapes_and_rejects_bad_input():
    sprites = np.zeros((2, 20, 20), np.int64)
    assert topic.as_sequences(sprites).shape == (2, 400)
    assert topic.as_sequences(sprites.reshape(2, 400)).dtype == np.int32
    with pytest.raises(ValueError, match="sprites\\[None\\]"):
        topic.as_sequences(np.zeros((20, 20), int))
    with pytest.raises(ValueError, match="outside the palette"):
        topic.as_sequences(np.full((1, 400), 167))
    with pytest.raises(ValueError, match="integer"):
        topic.as_sequences(np.zeros((1, 400), np.float32))


def test_visible_pixels_and_bad_covered_fraction():
    assert topic.visible_pixels(0.5) == 200
    assert topic.visible_pixels(0.75) == 100
    assert topic.visible_pixels(1.0) == 0 and topic.visible_pixels(0) == 400
    with pytest.raises(ValueError, match="75% is 0.75"):
        topic.visible_pixels(75)
    with pytest.raises(ValueError, match="fraction in \\[0, 1\\]"):
        topic.visible_pixels(-0.1)
    with pytest.raises(ValueError, match="fraction"):
        topic.visible_pixels("half")


# --------------------------------------------------------------------------- measurement


def test_nll_and_accuracy_on_a_hand_computed_case():
    log_p = np.full((2, topic.N_COLOURS), np.log(1e-6))
    log_p[0, 3] = np.log(0.5)  # true colour 3 gets 0.5 and is the argmax
    log_p[1, 7] = np.log(0.9)  # argmax is 7 ...
    log_p[1, 2] = np.log(0.1)  # ... but the true colour is 2, with 0.1
    result = topic.nll_and_accuracy(log_p, np.array([3, 2]))
    expected = -(np.log(0.5) + np.log(0.1)) / 2
    assert result["nll_nats"] == pytest.approx(expected)
    assert result["bits_per_pixel"] == pytest.approx(expected / np.log(2))
    assert result["accuracy"] == 0.5
    with pytest.raises(ValueError, match="shape"):
        topic.nll_and_accuracy(log_p[:, :10], np.array([3, 2]))


# --------------------------------------------------------------------------- baselines


def test_uniform_baseline_is_ln_167():
    seqs = constant_sprites(0, 5)
    assert topic.evaluate(topic.Uniform().fit(seqs), seqs)["nll_nats"] == pytest.approx(np.log(167))


def test_colour_frequency_baseline_hand_computed():
    train = constant_sprites(0, 1)  # 400 pixels of colour 0, 400 of colour 1
    model = topic.ColourFrequency(alpha=1.0).fit(train)
    lp = model.log_probs(constant_sprites(0))
    assert np.exp(lp[0, 0, 0]) == pytest.approx(401 / (800 + 167))
    assert np.exp(lp[0, 0, 2]) == pytest.approx(1 / (800 + 167))
    assert np.exp(lp[0, 0]).sum() == pytest.approx(1.0)


def test_previous_and_above_baselines_hand_computed():
    train = constant_sprites(0, 1)
    prev = topic.Neighbour("previous", alpha=1.0).fit(train)
    lp = prev.log_probs(constant_sprites(0))[0]
    # START -> 0 once and START -> 1 once, plus alpha=1 on all 167 colours
    assert np.exp(lp[0, 0]) == pytest.approx(2 / (2 + 167))
    # 0 -> 0 seen 399 times, nothing else after 0
    assert np.exp(lp[1, 0]) == pytest.approx(400 / (399 + 167))
    above = topic.Neighbour("above", alpha=1.0).fit(train)
    lp = above.log_probs(constant_sprites(1))[0]
    # top row: START -> 0 twenty times and START -> 1 twenty times
    assert np.exp(lp[5, 1]) == pytest.approx(21 / (40 + 167))
    # below the top row: 1 -> 1 seen 380 times
    assert np.exp(lp[25, 1]) == pytest.approx(381 / (380 + 167))
    with pytest.raises(ValueError, match="neighbour must be one of"):
        topic.Neighbour("left")


def test_fit_baselines_chooses_smoothing_on_validation():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 3, (20, 400))
    val = rng.integers(0, 3, (5, 400))
    fitted = topic.fit_baselines(train, val, alphas=(0.01, 100.0))
    assert set(fitted) == {"uniform", "colour frequency", "previous pixel", "above pixel"}
    # only colours 0..2 occur, so little smoothing is better than a lot
    assert fitted["colour frequency"].alpha == 0.01


# --------------------------------------------------------------------------- precision and replicas


def _batch(n: int = 4) -> np.ndarray:
    """A fixed global batch of ``n`` sprites with varied colours (the same on every replica
    count)."""
    rows, cols = np.arange(n)[:, None], np.arange(topic.N_PIXELS)[None]
    return ((rows * 37 + (cols // 7) * 11 + cols % 3) % topic.N_COLOURS).astype(np.int32)


def make(optimizer_fn, see_above: bool = False):
    """The factory of coursekit.tools.testing: a small PixelLSTM (no dropout, no batch norm)."""
    model = models.build_model(units=8, see_above=see_above)
    model.compile(optimizer=optimizer_fn())
    return model, _batch()


def make_above(optimizer_fn):
    return make(optimizer_fn, see_above=True)


@pytest.mark.parametrize("factory", [make, make_above], ids=["lstm", "lstm_above"])
def test_mixed_precision_step_matches_float32(factory):
    assert testing.mixed_precision_step(factory) < 0.02


def test_the_precision_check_fails_without_loss_scaling(monkeypatch):
    # without scaling the loss, the LossScaleOptimizer's unscaling makes the float16 step
    # ~2^15 times too small: the relative difference is ~1, far above the 0.02 allowed
    monkeypatch.setattr(gradients, "gradients",
                        lambda optimizer, tape, loss, variables: tape.gradient(loss, variables))
    assert testing.mixed_precision_step(make) > 0.9


# checked on two replicas by tests/test_two_replicas.py
REPLICA_TARGETS = ["tests.test_pokemon_lstm:make", "tests.test_pokemon_lstm:make_above"]


# --------------------------------------------------------------------------- resume


def _weights(model):
    return [np.asarray(v) for v in model.weights]


def test_resume_continues_exactly_where_it_stopped(cache, capsys):
    # one minibatch per epoch (batch = all 8 training sprites), so the shuffled order inside
    # an epoch cannot matter: resuming must give exactly the straight run's weights
    train_s, val_s = _batch(8), _batch(4)[:, ::-1].copy()
    sizes = dict(batch=8, learning_rate=1e-2)

    def fresh():
        keras.utils.set_random_seed(3)  # the same initial weights for every run of the test
        return models.build_model(units=8, see_above=True)

    straight = fresh()
    models.train(straight, train_s, val_s, epochs=2, name=None, **sizes)

    first = fresh()
    grid = recorders.SampleGrid(lambda: np.zeros((2, 4, 4, 3)), ncols=2)
    h1 = models.train(first, train_s, val_s, epochs=1, name="pokemon-resume", callbacks=[grid],
                 **sizes)
    resumed = fresh()  # a new kernel: fresh weights, fresh optimizer, fresh recorder
    grid = recorders.SampleGrid(lambda: np.zeros((2, 4, 4, 3)), ncols=2)
    h2 = models.train(resumed, train_s, val_s, epochs=2, name="pokemon-resume", callbacks=[grid],
                 **sizes)
    out = capsys.readouterr().out
    assert "resuming checkpoint" in out, out
    assert h2["loss"][:1] == h1["loss"] and len(h2["val_loss"]) == 2
    assert int(resumed.optimizer.iterations.numpy()) == 2
    assert grid.epochs == [0, 1, 2] and len(grid.frames) == 3  # the recorder was restored
    for a, b in zip(_weights(straight), _weights(resumed), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    reused = fresh()  # a re-run with everything trained: reuse, and the figures come back
    grid = recorders.SampleGrid(lambda: np.zeros((2, 4, 4, 3)), ncols=2)
    models.train(reused, train_s, val_s, epochs=2, name="pokemon-resume", callbacks=[grid], **sizes)
    assert "reusing checkpoint" in capsys.readouterr().out
    assert grid.epochs == [0, 1, 2] and len(grid.frames) == 3


@pytest.fixture(scope="module")
def tiny_model():
    import keras

    keras.utils.set_random_seed(0)
    return models.build_model(units=8, see_above=True)


def test_model_outputs_and_teacher_forcing_are_causal(tiny_model):
    seqs = constant_sprites(3, 4)
    logits = np.asarray(tiny_model(seqs))
    assert logits.shape == (2, 400, 167) and logits.dtype == np.float32
    changed = seqs.copy()
    changed[:, 250] = 9  # pixels after 250 may change, pixels up to 250 may not
    new = np.asarray(tiny_model(changed))
    np.testing.assert_allclose(new[:, :251], logits[:, :251], atol=1e-6)
    assert not np.allclose(new[:, 251], logits[:, 251])


def test_step_loop_matches_the_full_sequence(tiny_model):
    # greedy completion of a fully visible sprite reproduces it; the step logits then
    # equal the teacher-forced logits, so check one step by hand against call()
    import tensorflow as tf

    seq = np.random.default_rng(1).integers(0, 167, (1, 400)).astype(np.int32)
    full = np.asarray(tiny_model(seq))
    state = [tf.zeros((1, 8))] * 2
    previous, above = topic.previous_pixels(seq)[0], topic.above_pixels(seq)[0]
    for t in range(25):
        logits, state = tiny_model.step(previous[t:t + 1], above[t:t + 1], state)
    np.testing.assert_allclose(np.asarray(logits)[0], full[0, 24], atol=1e-5)


def test_sampling_shapes_seeds_and_temperature(tiny_model):
    samples = models.sample(tiny_model, 3, temperature=1.0, seed=0)
    assert samples.shape == (3, 20, 20) and samples.dtype == np.int32
    assert samples.min() >= 0 and samples.max() < 167
    np.testing.assert_array_equal(samples, models.sample(tiny_model, 3, 1.0, seed=0))
    assert not np.array_equal(samples, models.sample(tiny_model, 3, 1.0, seed=1))
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        models.sample(tiny_model, 2, temperature=-1)
    with pytest.raises(ValueError, match="positive whole number"):
        models.sample(tiny_model, 0)


def test_temperature_reshapes_a_known_distribution():
    # readout weights zero, bias = log(0.6, 0.3, 0.1, ~0...): every pixel's distribution is
    # known, so sample frequencies at each temperature can be computed by hand
    model = models.build_model(units=4)
    kernel, bias = model.readout.get_weights()
    log_p = np.full(topic.N_COLOURS, -40.0, np.float32)
    log_p[:3] = np.log([0.6, 0.3, 0.1])
    model.readout.set_weights([np.zeros_like(kernel), log_p])
    greedy = models.sample(model, 3, temperature=0.0)
    assert (greedy == 0).all()
    share = [(models.sample(model, 5, temperature=t, seed=4) == 0).mean() for t in (1.0, 0.5)]
    assert share[0] == pytest.approx(0.6, abs=0.04)  # T = 1: the model's own p
    assert share[1] == pytest.approx(0.36 / 0.46, abs=0.04)  # T = 0.5: p^2 renormalised
    hot = models.sample(model, 5, temperature=100.0, seed=4)
    assert len(np.unique(hot)) > 100  # a very high temperature is near uniform


def test_completion_keeps_the_visible_part(tiny_model):
    sprites = np.random.default_rng(2).integers(0, 167, (2, 20, 20))
    done = models.complete(tiny_model, sprites, covered=0.75, temperature=1.0, seed=3)
    assert done.shape == (2, 20, 20)
    np.testing.assert_array_equal(done.reshape(2, 400)[:, :100], sprites.reshape(2, 400)[:, :100])
    assert not np.array_equal(done[:, 5:], sprites[:, 5:])
    with pytest.raises(ValueError, match="covered"):
        models.complete(tiny_model, sprites, covered=1.5)
    palette = np.arange(167 * 3).reshape(167, 3).astype(np.uint8)
    view = topic.covered_view(sprites, 0.5, palette)
    assert view.shape == (2, 20, 20, 3)
    np.testing.assert_array_equal(view[:, :10], palette[sprites[:, :10]])
    assert (view[:, 10:, :, 0] >= 150).all() and (view[:, 10:, :, 2] >= 200).all()


def test_default_sampling_seed_follows_the_run_seed(tiny_model, monkeypatch):
    from coursekit import device

    def draw(run_seed):
        monkeypatch.setattr(device, "_current_seed", run_seed)
        return models.sample(tiny_model, 3), models.complete(tiny_model, _batch(3), covered=0.5)

    first = draw(7)
    assert all(np.array_equal(a, b) for a, b in zip(first, draw(7), strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(first, draw(8), strict=True))
