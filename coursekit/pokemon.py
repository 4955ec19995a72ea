"""Pokémon sprites pixel by pixel: an LSTM over raster order, baselines, sampling, completion.

Introduced in 05_pokemon_lstm. A sprite is 20x20 pixels, each an index into a 167-colour
palette; read in raster order it is a sequence of 400 colour classes. The lecture's model
(NTU ML 2016, "component-by-component" generation) reads that sequence with one LSTM layer
and predicts every next pixel with a softmax over the 167 colours, trained with teacher
forcing. Everything the notebook measures lives here, so that ``benchmark`` measures
exactly what the notebook does:

- ``split_sprites``: a seeded split by sprite into train / validation / test (section 1);
- ``Uniform``, ``ColourFrequency``, ``Neighbour`` and ``fit_baselines``: the counting
  baselines the LSTM must beat (section 5);
- ``PixelLSTM``: the model, with a dedicated START input class so that the first pixel is
  predicted too, and optionally a second input channel with the pixel above (section 6);
- ``train``: the training run the notebook and the benchmark share (section 2);
- ``sample`` and ``complete``: a stateful one-pixel-per-step loop inside ``tf.function``
  (sections 3 and 4);
- ``log_probs``, ``evaluate``, ``nll_and_accuracy``: held-out negative log-likelihood and
  next-pixel accuracy (section 5);
- ``benchmark``: ``python -m coursekit.bench pokemon --profile cpu``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np

from .data import POKEMON_COLOURS, POKEMON_SIDE
from .profiles import Budget

N_COLOURS = POKEMON_COLOURS  # 167 output classes
SIDE = POKEMON_SIDE  # 20
N_PIXELS = SIDE * SIDE  # 400 steps per sprite
START = N_COLOURS  # extra input class meaning "no pixel here" (before the first, above row 0)
N_INPUTS = N_COLOURS + 1  # one-hot width of an input pixel

BUDGET = Budget(
    smoke=dict(units=64, epochs=8, batch=16, learning_rate=1e-2, above_units=64,
               above_epochs=8, n_samples=8, n_completions=4,
               sweep_temperatures=(0.0, 0.5, 1.0, 1.5)),
    cpu=dict(units=512, epochs=20, batch=16, learning_rate=5e-3, above_units=256,
             above_epochs=10, n_samples=16, n_completions=6,
             sweep_temperatures=(0.0, 0.5, 0.8, 1.0, 1.3)),
    gpu=dict(units=512, epochs=60, batch=32, learning_rate=2e-3, above_units=512,
             above_epochs=60, n_samples=32, n_completions=8,
             sweep_temperatures=(0.0, 0.5, 0.8, 1.0, 1.3)),
)
"""Every size of 05_pokemon_lstm, per profile (``BUDGET.get()`` for the active one)."""

SPLIT_SEED = 2016  # the lecture's year; fixed so every run tests on the same sprites


# --------------------------------------------------------------------------- input checks


def as_sequences(sprites, name: str = "sprites") -> np.ndarray:
    """Sprites (N, 20, 20) or sequences (N, 400) of colour indices -> int32 (N, 400).

    Raises ``ValueError`` for any other shape, for non-integers and for indices outside
    0..166. Introduced in 05_pokemon_lstm, section 1.
    """
    array = np.asarray(sprites)
    if array.ndim == 3 and array.shape[1:] == (SIDE, SIDE):
        array = array.reshape(len(array), N_PIXELS)
    if array.ndim != 2 or array.shape[1] != N_PIXELS:
        raise ValueError(
            f"{name} must have shape (N, {SIDE}, {SIDE}) or (N, {N_PIXELS}), got {array.shape}; "
            f"for one sprite use sprites[None]."
        )
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integer colour indices, got dtype {array.dtype}.")
    if array.size and (array.min() < 0 or array.max() >= N_COLOURS):
        raise ValueError(
            f"{name} holds colour index {array.min() if array.min() < 0 else array.max()}, "
            f"outside the palette 0..{N_COLOURS - 1}."
        )
    return array.astype(np.int32)


def _check_temperature(temperature) -> float:
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}.") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(
            f"temperature must be >= 0 (0 means greedy: always the most likely colour), "
            f"got {temperature!r}."
        )
    return value


def visible_pixels(covered: float) -> int:
    """How many pixels (from the top, raster order) stay visible when ``covered`` is hidden.

    ``covered`` is the fraction of the sprite hidden from the bottom, in [0, 1]; 0.5 hides
    the lower half, 0.75 the lower three quarters. Introduced in 05_pokemon_lstm, section 4.
    """
    try:
        value = float(covered)
    except (TypeError, ValueError):
        raise ValueError(f"covered must be a fraction in [0, 1], got {covered!r}.") from None
    if not 0.0 <= value <= 1.0:
        hint = " (a fraction, not a percentage: 75% is 0.75)" if 1 < value <= 100 else ""
        raise ValueError(f"covered must be a fraction in [0, 1], got {covered!r}{hint}.")
    return int(round(N_PIXELS * (1.0 - value)))


# --------------------------------------------------------------------------- split


class Split(NamedTuple):
    """Sprite indices of the train, validation and test sets (disjoint, covering all)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def split_sprites(n: int, val_fraction: float = 0.1, test_fraction: float = 0.1,
                  seed: int = SPLIT_SEED) -> Split:
    """Shuffle ``range(n)`` with ``seed`` and cut it into train / validation / test indices.

    The split is by sprite, so no pixel of a test sprite is ever seen in training.
    Introduced in 05_pokemon_lstm, section 1.
    """
    if n < 3:
        raise ValueError(f"need at least 3 sprites to split three ways, got n={n}.")
    for label, fraction in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < fraction < 1:
            raise ValueError(f"{label} must be in (0, 1), got {fraction!r}.")
    if val_fraction + test_fraction >= 1:
        raise ValueError("val_fraction + test_fraction must leave some sprites for training.")
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_fraction)))
    n_val = max(1, int(round(n * val_fraction)))
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return Split(np.sort(train), np.sort(val), np.sort(test))


# --------------------------------------------------------------------------- contexts


def previous_pixels(sequences: np.ndarray) -> np.ndarray:
    """For each position, the pixel before it in raster order (START for the first)."""
    seqs = as_sequences(sequences)
    return np.concatenate([np.full((len(seqs), 1), START, np.int32), seqs[:, :-1]], axis=1)


def above_pixels(sequences: np.ndarray) -> np.ndarray:
    """For each position, the pixel directly above it (START in the top row)."""
    seqs = as_sequences(sequences)
    return np.concatenate([np.full((len(seqs), SIDE), START, np.int32), seqs[:, :-SIDE]], axis=1)


# --------------------------------------------------------------------------- measurement


def nll_and_accuracy(log_p: np.ndarray, targets: np.ndarray) -> dict:
    """Mean negative log-likelihood per pixel (nats and bits) and next-pixel accuracy.

    ``log_p`` holds natural-log probabilities (..., 167) for each position, ``targets`` the
    true colours (...). Accuracy counts positions where the most likely colour is the true
    one. Introduced in 05_pokemon_lstm, section 5.
    """
    log_p = np.asarray(log_p, dtype=np.float64)
    targets = np.asarray(targets)
    if log_p.shape[:-1] != targets.shape or log_p.shape[-1] != N_COLOURS:
        raise ValueError(
            f"log_p must have shape targets.shape + ({N_COLOURS},); got log_p {log_p.shape} "
            f"and targets {targets.shape}."
        )
    picked = np.take_along_axis(log_p, targets[..., None].astype(np.int64), axis=-1)[..., 0]
    nats = float(-picked.mean())
    accuracy = float((log_p.argmax(-1) == targets).mean())
    return {"nll_nats": nats, "bits_per_pixel": nats / np.log(2), "accuracy": accuracy}


# --------------------------------------------------------------------------- baselines


class Uniform:
    """Every colour equally likely: ln 167 ≈ 5.12 nats per pixel whatever the data."""

    name = "uniform"

    def fit(self, train_sequences):
        return self

    def log_probs(self, sequences) -> np.ndarray:
        seqs = as_sequences(sequences)
        return np.full(seqs.shape + (N_COLOURS,), -np.log(N_COLOURS))


class ColourFrequency:
    """The training colour frequencies with add-``alpha`` smoothing, ignoring all context."""

    name = "colour frequency"

    def __init__(self, alpha: float = 1.0):
        if alpha <= 0:
            raise ValueError(f"alpha must be > 0 so unseen colours keep some probability, "
                             f"got {alpha}.")
        self.alpha = alpha

    def fit(self, train_sequences):
        counts = np.bincount(as_sequences(train_sequences).ravel(), minlength=N_COLOURS)
        self.log_p = np.log((counts + self.alpha) / (counts.sum() + self.alpha * N_COLOURS))
        return self

    def log_probs(self, sequences) -> np.ndarray:
        seqs = as_sequences(sequences)
        return np.broadcast_to(self.log_p, seqs.shape + (N_COLOURS,))


class Neighbour:
    """p(pixel | one neighbour) from add-``alpha`` smoothed counts over the training sprites.

    ``neighbour="previous"`` is the first-order Markov chain in raster order (the pixel to
    the left, or the last pixel of the row before); ``neighbour="above"`` conditions on the
    pixel directly above. The START class stands for "no neighbour".
    """

    CONTEXTS = {"previous": previous_pixels, "above": above_pixels}

    def __init__(self, neighbour: str = "previous", alpha: float = 1.0):
        if neighbour not in self.CONTEXTS:
            raise ValueError(f"neighbour must be one of {sorted(self.CONTEXTS)}, "
                             f"got {neighbour!r}.")
        if alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {alpha}.")
        self.neighbour, self.alpha = neighbour, alpha
        self.name = f"{neighbour} pixel"

    def fit(self, train_sequences):
        seqs = as_sequences(train_sequences)
        counts = np.zeros((N_INPUTS, N_COLOURS))
        np.add.at(counts, (self.CONTEXTS[self.neighbour](seqs).ravel(), seqs.ravel()), 1)
        counts += self.alpha
        self.table = np.log(counts / counts.sum(axis=1, keepdims=True))
        return self

    def log_probs(self, sequences) -> np.ndarray:
        return self.table[self.CONTEXTS[self.neighbour](sequences)]


ALPHAS = (0.01, 0.03, 0.1, 0.3, 1.0)


def fit_baselines(train_sequences, val_sequences, alphas=ALPHAS) -> dict:
    """The four baselines fitted on the training sprites, smoothing chosen on validation.

    For each smoothed baseline the ``alpha`` with the lowest validation NLL is kept (the
    test sprites are never used to choose anything). Returns name -> fitted baseline.
    Introduced in 05_pokemon_lstm, section 5.
    """
    val = as_sequences(val_sequences)
    fitted = {"uniform": Uniform().fit(train_sequences)}
    makers = {"colour frequency": ColourFrequency,
              "previous pixel": lambda a: Neighbour("previous", a),
              "above pixel": lambda a: Neighbour("above", a)}
    for name, make in makers.items():
        candidates = [make(a).fit(train_sequences) for a in alphas]
        scores = [nll_and_accuracy(c.log_probs(val), val)["nll_nats"] for c in candidates]
        fitted[name] = candidates[int(np.argmin(scores))]
    return fitted


# --------------------------------------------------------------------------- the model


@keras.saving.register_keras_serializable(package="coursekit")
class PixelLSTM(keras.Model):
    """One LSTM layer over the 400 pixels in raster order, softmax over 167 colours.

    Input at step t: the previous pixel as a 1-of-168 vector (167 colours + START, which
    stands in front of the first pixel, so the first pixel is predicted too). With
    ``see_above=True`` a second 1-of-168 vector holds the pixel directly above the one
    being predicted (START in the top row): already drawn in raster order, so the model
    stays autoregressive. Output at step t: logits of the colour of pixel t.

    ``call(sequences)`` takes whole sprites (N, 400) and does the teacher-forcing shift
    itself; ``step`` advances the LSTM by one pixel for sampling. Introduced in
    05_pokemon_lstm, sections 2 and 6.
    """

    def __init__(self, units: int = 512, see_above: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.units, self.see_above = units, see_above
        self.lstm = keras.layers.LSTM(units, return_sequences=True, name="lstm")
        self.readout = keras.layers.Dense(N_COLOURS, dtype="float32", name="readout")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def get_config(self):
        return {**super().get_config(), "units": self.units, "see_above": self.see_above}

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def _inputs(self, previous, above):
        """One-hot input vectors (N, T, 168 or 336) from context indices."""
        from keras import ops

        x = ops.one_hot(previous, N_INPUTS, dtype=self.compute_dtype)
        if self.see_above:
            x = ops.concatenate([x, ops.one_hot(above, N_INPUTS, dtype=self.compute_dtype)], -1)
        return x

    def call(self, sequences, training=False):
        from keras import ops

        seqs = ops.cast(sequences, "int32")
        batch = ops.shape(seqs)[0]
        previous = ops.concatenate([ops.full((batch, 1), START, "int32"), seqs[:, :-1]], 1)
        above = ops.concatenate([ops.full((batch, SIDE), START, "int32"), seqs[:, :-SIDE]], 1)
        hidden = self.lstm(self._inputs(previous, above), training=training)
        return self.readout(hidden)

    def _loss(self, sequences, logits):
        from keras import ops

        return ops.mean(keras.losses.sparse_categorical_crossentropy(
            sequences, ops.cast(logits, "float32"), from_logits=True))

    def train_step(self, data):
        import tensorflow as tf

        sequences = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            logits = self(sequences, training=True)
            loss = self._loss(sequences, logits)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(sequences, logits)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        sequences = data[0] if isinstance(data, tuple) else data
        logits = self(sequences, training=False)
        self.loss_tracker.update_state(self._loss(sequences, logits))
        self.accuracy_tracker.update_state(sequences, logits)
        return {m.name: m.result() for m in self.metrics}

    def step(self, previous, above, state):
        """One pixel: context indices (N,), LSTM state [h, c] -> (logits (N, 167), state)."""
        x = self._inputs(previous[:, None], above[:, None])[:, 0]
        hidden, state = self.lstm.cell(x, state)
        return self.readout(hidden), state


def build_model(units: int, see_above: bool = False) -> PixelLSTM:
    """A built ``PixelLSTM`` (called once on a dummy sprite), ready to restore or train."""
    model = PixelLSTM(units=units, see_above=see_above)
    model(np.zeros((1, N_PIXELS), np.int32))
    return model


def train(model: PixelLSTM, train_sequences, val_sequences, *, epochs: int, batch: int,
          learning_rate: float, name: str | None, seed: int = 0, callbacks=()) -> dict:
    """Train with teacher forcing (Adam, gradient norm clipped at 1) via ``fit_resumable``.

    ``name`` is the checkpoint name (``None`` trains from scratch without checkpoints, as
    the benchmark does). Returns the history, with ``val_loss`` per epoch. Shared by the
    notebook (section 2) and ``benchmark``.
    """
    from .data import make_pipeline
    from .training import fit_resumable

    train_seqs, val_seqs = as_sequences(train_sequences), as_sequences(val_sequences)
    if not model.built:
        model(train_seqs[:1])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0))
    data = make_pipeline(train_seqs, batch, shuffle=True, seed=seed)
    val = make_pipeline(val_seqs, batch, shuffle=False)
    config = {"units": model.units, "see_above": model.see_above, "batch": batch,
              "learning_rate": learning_rate, "n_train": len(train_seqs), "seed": seed}
    return fit_resumable(model, data, epochs=epochs, name=name, config=config,
                         validation_data=val, examples_per_step=batch, callbacks=callbacks)


def log_probs(model: PixelLSTM, sequences, batch: int = 128) -> np.ndarray:
    """Natural-log probabilities (N, 400, 167) the model gives each pixel given the past."""
    import tensorflow as tf

    seqs = as_sequences(sequences)
    out = [tf.nn.log_softmax(model(seqs[i:i + batch])).numpy()
           for i in range(0, len(seqs), batch)]
    return np.concatenate(out, axis=0)


def evaluate(model_or_baseline, sequences) -> dict:
    """``nll_and_accuracy`` of a ``PixelLSTM`` or a baseline on ``sequences``."""
    seqs = as_sequences(sequences)
    if isinstance(model_or_baseline, keras.Model):
        lp = log_probs(model_or_baseline, seqs)
    else:
        lp = model_or_baseline.log_probs(seqs)
    return nll_and_accuracy(lp, seqs)


# --------------------------------------------------------------------------- sampling


def _sampler(model: PixelLSTM):
    """A ``tf.function`` drawing all 400 pixels, one LSTM step per pixel, cached per model."""
    import tensorflow as tf

    if getattr(model, "_sample_fn", None) is not None:
        return model._sample_fn

    @tf.function(reduce_retracing=True)
    def run(prefix, n_visible, temperature, seed):
        batch = tf.shape(prefix)[0]
        state = [tf.zeros((batch, model.units), model.compute_dtype)] * 2
        previous = tf.fill([batch], START)
        row_above = tf.fill([batch, SIDE], START)  # the last 20 pixels: [:, 0] is "above"
        pixels = tf.TensorArray(tf.int32, size=N_PIXELS)
        for t in tf.range(N_PIXELS):
            logits, state = model.step(previous, row_above[:, 0], state)
            logits = tf.cast(logits, tf.float32)
            if temperature > 0:
                drawn = tf.random.stateless_categorical(
                    logits / temperature, 1, seed=tf.stack([seed, t]), dtype=tf.int32)[:, 0]
            else:
                drawn = tf.argmax(logits, axis=-1, output_type=tf.int32)
            pixel = tf.where(t < n_visible, prefix[:, t], drawn)
            pixels = pixels.write(t, pixel)
            previous = pixel
            row_above = tf.concat([row_above[:, 1:], pixel[:, None]], axis=1)
        return tf.transpose(pixels.stack())

    model._sample_fn = run
    return run


def _run_sampler(model, prefix, n_visible, temperature, seed):
    import tensorflow as tf

    out = _sampler(model)(tf.constant(prefix, tf.int32), tf.constant(n_visible, tf.int32),
                          tf.constant(temperature, tf.float32), tf.constant(seed, tf.int32))
    return out.numpy().reshape(-1, SIDE, SIDE)


def sample(model: PixelLSTM, n: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
    """Draw ``n`` sprites from scratch: int32 (n, 20, 20) colour indices.

    Each pixel is drawn from softmax(logits / temperature); temperature 0 is greedy
    decoding (always the most likely colour). Seeded: the same seed gives the same
    sprites. Introduced in 05_pokemon_lstm, section 3.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive whole number of sprites, got {n!r}.")
    t = _check_temperature(temperature)
    return _run_sampler(model, np.zeros((int(n), N_PIXELS), np.int32), 0, t, seed)


def complete(model: PixelLSTM, sprites, covered: float = 0.5, temperature: float = 1.0,
             seed: int = 0) -> np.ndarray:
    """Keep the top ``1 - covered`` of each sprite (raster order) and sample the rest.

    ``sprites`` (N, 20, 20) or (N, 400); returns int32 (N, 20, 20) whose visible pixels
    equal the input's. To get several completions of one sprite, repeat it
    (``np.repeat(sprite[None], k, 0)``). Introduced in 05_pokemon_lstm, section 4.
    """
    seqs = as_sequences(sprites)
    n_visible = visible_pixels(covered)
    t = _check_temperature(temperature)
    return _run_sampler(model, seqs, n_visible, t, seed)


def covered_view(sprites, covered: float, palette: np.ndarray,
                 fill=((200, 200, 235), (150, 150, 200))) -> np.ndarray:
    """RGB uint8 (N, 20, 20, 3) of the visible part; hidden pixels a checkerboard of ``fill``.

    A checkerboard reads as "hidden" and cannot be mistaken for a palette colour.
    Introduced in 05_pokemon_lstm, section 4.
    """
    seqs = as_sequences(sprites)
    rgb = np.asarray(palette, np.uint8)[seqs].copy()
    hidden = np.arange(N_PIXELS) >= visible_pixels(covered)
    checker = (np.arange(N_PIXELS) // SIDE + np.arange(N_PIXELS) % SIDE) % 2
    rgb[:, hidden] = np.asarray(fill, np.uint8)[checker[hidden]]
    return rgb.reshape(-1, SIDE, SIDE, 3)


# --------------------------------------------------------------------------- benchmark


def benchmark(profile: str, out_dir: Path) -> dict:
    """Train the lecture's LSTM (and the see-above variant) under ``profile``; measure on test.

    Reports test NLL (nats, bits/pixel) and accuracy of both models and every baseline,
    training throughput (sequences/s) and sampling speed; saves sampled and completed
    sprites as RGB uint8 arrays (.npy) in ``out_dir``.
    """
    from .data import load_pokemon

    sizes = BUDGET.get(profile)
    data = load_pokemon()
    split = split_sprites(len(data.sprites))
    seqs = as_sequences(data.sprites)
    train_s, val_s, test_s = seqs[split.train], seqs[split.val], seqs[split.test]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict = {"n_train": len(train_s), "n_val": len(val_s), "n_test": len(test_s)}

    baselines = fit_baselines(train_s, val_s)
    report["baselines"] = {name: evaluate(b, test_s) for name, b in baselines.items()}

    for key, see_above, units, epochs in (
        ("lstm", False, sizes.units, sizes.epochs),
        ("lstm_above", True, sizes.above_units, sizes.above_epochs),
    ):
        keras.utils.set_random_seed(0)
        model = build_model(units, see_above)
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
        if key == "lstm":
            main = model

    sample(main, sizes.n_samples, temperature=1.0, seed=0)  # trace the step loop first
    start = time.perf_counter()
    samples = sample(main, sizes.n_samples, temperature=1.0, seed=1)
    seconds = time.perf_counter() - start
    report["lstm"]["sample_sprites_per_s"] = round(sizes.n_samples / seconds, 2)
    np.save(out_dir / "pokemon-samples-t1.0.npy", data.palette[samples])
    np.save(out_dir / "pokemon-samples-t0.0.npy", data.palette[sample(main, 4, 0.0)])
    for covered in (0.5, 0.75):
        prompts = np.repeat(test_s[:4], sizes.n_completions, axis=0)
        done = complete(main, prompts, covered=covered, temperature=1.0, seed=2)
        np.save(out_dir / f"pokemon-completions-{int(covered * 100)}.npy", data.palette[done])

    best = min(report["baselines"].items(), key=lambda kv: kv[1]["nll_nats"])
    report["best_baseline"] = best[0]
    report["lstm_gain_over_best_baseline_nats"] = best[1]["nll_nats"] - (
        report["lstm"]["test"]["nll_nats"])
    report["above_gain_nats"] = (
        report["lstm"]["test"]["nll_nats"] - report["lstm_above"]["test"]["nll_nats"])
    return report
