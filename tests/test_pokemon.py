"""Tests for coursekit.pokemon: split, baselines, measurement and input checks.

The model, its training and sampling (the notebook's code) are tested in
tests/test_models_pokemon_lstm.py."""

import numpy as np
import pytest

from coursekit import pokemon as pk


def constant_sprites(*colours):
    """One 400-pixel sequence per colour, every pixel that colour."""
    return np.stack([np.full(pk.N_PIXELS, c, np.int32) for c in colours])


# --------------------------------------------------------------------------- split


def test_split_is_disjoint_complete_and_fixed():
    split = pk.split_sprites(792)
    assert (len(split.train), len(split.val), len(split.test)) == (634, 79, 79)
    together = np.concatenate(split)
    assert sorted(together.tolist()) == list(range(792))  # complete and disjoint
    again = pk.split_sprites(792)
    assert all(np.array_equal(a, b) for a, b in zip(split, again, strict=True))
    other = pk.split_sprites(792, seed=pk.SPLIT_SEED + 1)
    assert not np.array_equal(split.test, other.test)


def test_split_does_not_follow_the_run_seed(monkeypatch):
    # the split is data (see pk.SPLIT_SEED): another run seed, the same test sprites
    monkeypatch.setenv("COURSEKIT_SEED", "7")
    first = pk.split_sprites(792)
    monkeypatch.setenv("COURSEKIT_SEED", "8")
    assert np.array_equal(first.test, pk.split_sprites(792).test)


def test_split_rejects_bad_fractions():
    with pytest.raises(ValueError, match="leave some sprites"):
        pk.split_sprites(100, val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match="test_fraction"):
        pk.split_sprites(100, test_fraction=0)


# --------------------------------------------------------------------------- contexts and input


def test_contexts_use_start_where_no_neighbour_exists():
    seq = np.arange(pk.N_PIXELS)[None] % pk.N_COLOURS
    prev, above = pk.previous_pixels(seq), pk.above_pixels(seq)
    assert prev[0, 0] == pk.START and prev[0, 1] == seq[0, 0] and prev[0, 57] == seq[0, 56]
    assert (above[0, :20] == pk.START).all() and above[0, 45] == seq[0, 25]


def test_as_sequences_accepts_both_shapes_and_rejects_bad_input():
    sprites = np.zeros((2, 20, 20), np.int64)
    assert pk.as_sequences(sprites).shape == (2, 400)
    assert pk.as_sequences(sprites.reshape(2, 400)).dtype == np.int32
    with pytest.raises(ValueError, match="sprites\\[None\\]"):
        pk.as_sequences(np.zeros((20, 20), int))
    with pytest.raises(ValueError, match="outside the palette"):
        pk.as_sequences(np.full((1, 400), 167))
    with pytest.raises(ValueError, match="integer"):
        pk.as_sequences(np.zeros((1, 400), np.float32))


def test_visible_pixels_and_bad_covered_fraction():
    assert pk.visible_pixels(0.5) == 200
    assert pk.visible_pixels(0.75) == 100
    assert pk.visible_pixels(1.0) == 0 and pk.visible_pixels(0) == 400
    with pytest.raises(ValueError, match="75% is 0.75"):
        pk.visible_pixels(75)
    with pytest.raises(ValueError, match="fraction in \\[0, 1\\]"):
        pk.visible_pixels(-0.1)
    with pytest.raises(ValueError, match="fraction"):
        pk.visible_pixels("half")


# --------------------------------------------------------------------------- measurement


def test_nll_and_accuracy_on_a_hand_computed_case():
    log_p = np.full((2, pk.N_COLOURS), np.log(1e-6))
    log_p[0, 3] = np.log(0.5)  # true colour 3 gets 0.5 and is the argmax
    log_p[1, 7] = np.log(0.9)  # argmax is 7 ...
    log_p[1, 2] = np.log(0.1)  # ... but the true colour is 2, with 0.1
    result = pk.nll_and_accuracy(log_p, np.array([3, 2]))
    expected = -(np.log(0.5) + np.log(0.1)) / 2
    assert result["nll_nats"] == pytest.approx(expected)
    assert result["bits_per_pixel"] == pytest.approx(expected / np.log(2))
    assert result["accuracy"] == 0.5
    with pytest.raises(ValueError, match="shape"):
        pk.nll_and_accuracy(log_p[:, :10], np.array([3, 2]))


# --------------------------------------------------------------------------- baselines


def test_uniform_baseline_is_ln_167():
    seqs = constant_sprites(0, 5)
    assert pk.evaluate(pk.Uniform().fit(seqs), seqs)["nll_nats"] == pytest.approx(np.log(167))


def test_colour_frequency_baseline_hand_computed():
    train = constant_sprites(0, 1)  # 400 pixels of colour 0, 400 of colour 1
    model = pk.ColourFrequency(alpha=1.0).fit(train)
    lp = model.log_probs(constant_sprites(0))
    assert np.exp(lp[0, 0, 0]) == pytest.approx(401 / (800 + 167))
    assert np.exp(lp[0, 0, 2]) == pytest.approx(1 / (800 + 167))
    assert np.exp(lp[0, 0]).sum() == pytest.approx(1.0)


def test_previous_and_above_baselines_hand_computed():
    train = constant_sprites(0, 1)
    prev = pk.Neighbour("previous", alpha=1.0).fit(train)
    lp = prev.log_probs(constant_sprites(0))[0]
    # START -> 0 once and START -> 1 once, plus alpha=1 on all 167 colours
    assert np.exp(lp[0, 0]) == pytest.approx(2 / (2 + 167))
    # 0 -> 0 seen 399 times, nothing else after 0
    assert np.exp(lp[1, 0]) == pytest.approx(400 / (399 + 167))
    above = pk.Neighbour("above", alpha=1.0).fit(train)
    lp = above.log_probs(constant_sprites(1))[0]
    # top row: START -> 0 twenty times and START -> 1 twenty times
    assert np.exp(lp[5, 1]) == pytest.approx(21 / (40 + 167))
    # below the top row: 1 -> 1 seen 380 times
    assert np.exp(lp[25, 1]) == pytest.approx(381 / (380 + 167))
    with pytest.raises(ValueError, match="neighbour must be one of"):
        pk.Neighbour("left")


def test_fit_baselines_chooses_smoothing_on_validation():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 3, (20, 400))
    val = rng.integers(0, 3, (5, 400))
    fitted = pk.fit_baselines(train, val, alphas=(0.01, 100.0))
    assert set(fitted) == {"uniform", "colour frequency", "previous pixel", "above pixel"}
    # only colours 0..2 occur, so little smoothing is better than a lot
    assert fitted["colour frequency"].alpha == 0.01
