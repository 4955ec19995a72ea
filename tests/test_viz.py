"""Figure helpers: output shapes and input checks."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from coursekit import viz  # noqa: E402


def test_tile_images_shape_and_placement():
    images = np.zeros((5, 28, 28, 1), np.float32)
    images[4] = 1.0
    grid = viz.tile_images(images, ncols=3, pad=2, pad_value=0.5)
    assert grid.shape == (2 * 30 - 2, 3 * 30 - 2, 1)
    assert grid[30:58, 30:58].max() == 1.0 and grid[0:28, 0:28].max() == 0.0
    assert grid[28, 0, 0] == 0.5


def test_tile_images_accepts_uint8_rgb_and_rejects_bad_shapes():
    rgb = np.full((4, 20, 20, 3), 255, np.uint8)
    assert viz.tile_images(rgb).shape == (41, 41, 3)
    assert viz.tile_images(rgb).max() == 1.0
    with pytest.raises(ValueError, match="expected images"):
        viz.tile_images(np.zeros((4, 20)))


def test_latent_grid_and_interpolation():
    grid = viz.latent_grid((-1, -2), (1, 2), 5)
    assert grid.shape == (25, 2)
    np.testing.assert_allclose(grid[0], [-1, 2])  # top-left: low x, high y
    np.testing.assert_allclose(grid[-1], [1, -2])
    path = viz.interpolate([0, 0, 0], [1, 2, 3], steps=4)
    assert path.shape == (4, 3)
    np.testing.assert_allclose(path[-1], [1, 2, 3])


def test_decode_manifold_and_figures():
    decode = lambda z: np.repeat(z[:, :1, None, None], 28, 1).repeat(28, 2) * 0 + 0.5  # noqa: E731
    images = viz.decode_manifold(decode, (-1, -1), (1, 1), n=4)
    assert images.shape == (16, 28, 28, 1)
    assert viz.show_images(images, ncols=4).axes
    assert len(viz.show_rows([images[:3], images[:2]], ["a", "b"]).axes) == 6
    assert viz.latent_scatter(np.zeros((10, 2)), np.arange(10)).axes
    assert viz.plot_history({"loss": [3, 2, 1], "_throughput": 5.0}).axes
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        viz.latent_scatter(np.zeros((10, 3)))
