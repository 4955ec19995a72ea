"""The figures every notebook needs, one function each.

Introduced in 01_autoencoders. Images are arrays (N, H, W) or (N, H, W, C) with values in
[0, 1] (floats) or 0..255 (uint8); C is 1 (grey) or 3 (RGB).
"""

from __future__ import annotations

import numpy as np


def as_float_images(images) -> np.ndarray:
    """Images as float32 (N, H, W, C): adds the channel axis to (N, H, W) and scales uint8
    0..255 to [0, 1]; floats are taken as they are. The one place images are normalised
    (``viz`` draws them, ``metrics`` scores them)."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"expected images (N, H, W) or (N, H, W, 1|3), got shape {images.shape}")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return images.astype(np.float32)


def tile_images(images, ncols: int | None = None, pad: int = 1, pad_value: float = 1.0):
    """Tile N images into one (rows*(H+pad)-pad, ncols*(W+pad)-pad, C) float array."""
    images = as_float_images(images)
    n, h, w, c = images.shape
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad, c), pad_value, np.float32)
    for i, image in enumerate(images):
        r, col = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, col * (w + pad) : col * (w + pad) + w] = image
    return out


def _imshow(ax, image):
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(np.clip(image, 0, 1))
    ax.set_xticks([])
    ax.set_yticks([])


def show_images(images, ncols: int | None = None, title: str | None = None, scale: float = 0.6):
    """A grid of images in one figure; returns the figure."""
    import matplotlib.pyplot as plt

    grid = tile_images(images, ncols)
    n = len(images)
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    fig, ax = plt.subplots(figsize=(max(2.0, ncols * scale), max(2.0, nrows * scale)))
    _imshow(ax, grid)
    if title:
        ax.set_title(title)
    return fig


def show_rows(rows, row_labels=(), title: str | None = None, scale: float = 0.8):
    """Several rows of images (e.g. original / noisy / reconstructed); returns the figure."""
    import matplotlib.pyplot as plt

    rows = [as_float_images(r) for r in rows]
    ncols = max(len(r) for r in rows)
    fig, axes = plt.subplots(
        len(rows), ncols, figsize=(ncols * scale, len(rows) * scale), squeeze=False
    )
    for i, row in enumerate(rows):
        for j in range(ncols):
            ax = axes[i, j]
            if j < len(row):
                _imshow(ax, row[j])
            else:
                ax.axis("off")
        if i < len(row_labels):
            axes[i, 0].set_ylabel(row_labels[i], rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return fig


def latent_scatter(codes, labels=None, title: str | None = None, ax=None):
    """Scatter of 2-D codes coloured by label (e.g. digit class); returns the figure."""
    import matplotlib.pyplot as plt

    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"latent_scatter needs codes of shape (N, 2), got {codes.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=3, alpha=0.7)
    if labels is not None:
        ax.figure.colorbar(points, ax=ax, ticks=range(int(np.max(labels)) + 1))
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title)
    return ax.figure


def latent_grid(low, high, n: int) -> np.ndarray:
    """An n x n grid of 2-D codes covering [low, high] on both axes, row-major, top row first."""
    xs = np.linspace(low[0], high[0], n)
    ys = np.linspace(high[1], low[1], n)
    return np.array([[x, y] for y in ys for x in xs], dtype=np.float32)


def decode_manifold(decode, low, high, n: int = 15) -> np.ndarray:
    """Decode an n x n grid of 2-D codes; returns images (n*n, H, W, C) in grid order."""
    return np.asarray(decode(latent_grid(low, high, n)))


def interpolate(z0, z1, steps: int = 10) -> np.ndarray:
    """Codes on the straight line from z0 to z1 inclusive, shape (steps, dim)."""
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return (1 - t) * np.asarray(z0, np.float32)[None] + t * np.asarray(z1, np.float32)[None]


def plot_history(history: dict, keys=None, title: str | None = None, logy: bool = False):
    """Training curves from a history dict (per-epoch lists); returns the figure."""
    import matplotlib.pyplot as plt

    keys = keys or [k for k in history if not k.startswith("_")]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key in keys:
        ax.plot(range(1, len(history[key]) + 1), history[key], label=key)
    ax.set_xlabel("epoch")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return fig
