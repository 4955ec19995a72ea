"""Recorders: measure something before training and every ``every`` epochs, and keep it.

One class for every curve a notebook draws over training (sample grids, the FID, the
critic's estimate, Q's accuracy...). ``fit_resumable`` saves what a recorder holds with the
checkpoint and restores it when the checkpoint is reused, so a re-run redraws the same
figures without training. Introduced in 01_autoencoders, section 2.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np


class Recorder(keras.callbacks.Callback):
    """Call ``measure()`` before training and after every ``every`` epochs.

    ``measure()`` returns a dict of named values (numbers or arrays); each name becomes a
    list attribute holding one value per recording (``Recorder(lambda: {"fids": ...}).fids``),
    beside ``epochs``, the epoch of each recording (0: before training). A resumed ``fit``
    does not record epoch 0 again. The source of ``measure`` is part of the checkpoint's
    fingerprint: edit the measurement and the model is retrained with it.
    """

    def __init__(self, measure, every: int = 1):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be a positive number of epochs, not {every}")
        self.measure, self.every = measure, every
        self.epochs: list[int] = []
        self.values: dict[str, list] = {}

    def __getattr__(self, name: str):
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__} has recorded no {name!r} "
                             f"(recorded: {', '.join(values) or 'nothing yet'})")

    def measurement(self) -> dict:
        """One recording: ``measure()``, checked to be a dict."""
        measured = self.measure()
        if not isinstance(measured, dict):
            raise TypeError(f"measure() must return a dict of named values, got "
                            f"{type(measured).__name__}")
        return measured

    def record(self, epoch: int) -> None:
        measured = self.measurement()
        for key, value in measured.items():
            self.values.setdefault(key, []).append(value)
        self.epochs.append(epoch)

    def get_state(self) -> dict:
        """What the checkpoint keeps: ``epochs`` and every recorded list, as arrays."""
        return {"epochs": np.asarray(self.epochs),
                **{key: np.asarray(value) for key, value in self.values.items()}}

    def set_state(self, state: dict) -> None:
        self.epochs = [int(e) for e in state["epochs"]]
        self.values = {key: list(value) for key, value in state.items() if key != "epochs"}

    def on_train_begin(self, logs=None):
        if not self.epochs:
            self.record(0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.record(epoch + 1)


def tile_frames(images: np.ndarray, ncols: int) -> np.ndarray:
    """Images (N, H, W, C) in [0, 1] as one uint8 grid of ``ncols`` columns."""
    from .viz import tile_images

    return (np.clip(tile_images(images, ncols=ncols), 0, 1) * 255).astype(np.uint8)


class SampleGrid(Recorder):
    """A recorder of sample grids, for a figure or an animation.

    ``sample_fn()`` returns images (N, H, W, C) in [0, 1] (e.g. a generator applied to a
    fixed batch of noise); the grids are kept in ``frames`` as uint8 images, and
    ``save_animation`` writes them as a GIF.
    """

    def __init__(self, sample_fn, every: int = 1, ncols: int = 8):
        super().__init__(sample_fn, every)
        self.ncols = ncols

    def measurement(self) -> dict:
        return {"frames": tile_frames(np.asarray(self.measure()), self.ncols)}

    def save_animation(self, path, seconds_per_frame: float = 0.5) -> Path:
        import imageio.v3 as iio

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        frames = [f[..., 0] if f.shape[-1] == 1 else f for f in self.frames]
        iio.imwrite(path, frames, duration=int(seconds_per_frame * 1000), loop=0)
        return path
