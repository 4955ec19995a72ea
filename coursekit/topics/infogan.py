"""Infrastructure for notebook 04_infogan: its budget and the measurements of its codes.

The InfoGAN itself (the latent specification, the networks with Q sharing D's body, the
information loss, the ``InfoGAN`` subclass of 03's ``AdversarialModel``) is written
in the notebook's ``#@save`` cells and exported to ``coursekit.models.infogan``. Here: the
sizes of each profile, matching categories to digits (Hungarian algorithm), the
principal-axis angle and the ink width of digit images, and a recorder of the
mutual-information estimates over training. Introduced in 04_infogan.
"""

from __future__ import annotations

import numpy as np

from ..profiles import Budget

# digit_checks: whether the generator has trained long enough to draw digits, so that the
# notebook can assert digit-level claims (smoke: 400 updates, it draws blobs; the code is
# already readable and Q already sorts real digits better than chance). The ablations
# (section 6) are asserted only with digit_checks, so smoke trains them one epoch: enough to
# run their code.
BUDGET = Budget(
    smoke=dict(batch=64, epochs=4, steps_per_epoch=100, width=16, dense=256,
               ablation_epochs=1, eval_per_category=100, fid_samples=1000, test_images=2000,
               digit_checks=False),
    cpu=dict(batch=64, epochs=12, steps_per_epoch=500, width=32, dense=512,
             ablation_epochs=6, eval_per_category=500, fid_samples=10_000, test_images=10_000,
             digit_checks=True),
    gpu=dict(batch=64, epochs=50, steps_per_epoch=937, width=64, dense=1024,
             ablation_epochs=20, eval_per_category=1000, fid_samples=10_000,
             test_images=10_000, digit_checks=True),
)


def confusion(assigned, labels, n_categories: int = 10, n_classes: int = 10) -> np.ndarray:
    """Counts[i, j] of items put in category i whose label is j."""
    counts = np.zeros((n_categories, n_classes), np.int64)
    np.add.at(counts, (np.asarray(assigned), np.asarray(labels)), 1)
    return counts


def matched_accuracy(assigned, labels, n_categories: int = 10) -> tuple[float, np.ndarray]:
    """Accuracy under the best one-to-one map from categories to labels (the Hungarian
    algorithm, ``scipy.optimize.linear_sum_assignment``), and the map itself
    (``mapping[category] = label``). Introduced in 04_infogan, section 5."""
    from scipy.optimize import linear_sum_assignment

    counts = confusion(assigned, labels, n_categories, n_categories)
    rows, cols = linear_sum_assignment(-counts)
    mapping = np.empty(n_categories, np.int64)
    mapping[rows] = cols
    return float(counts[rows, cols].sum() / counts.sum()), mapping


def _moments(images):
    images = np.asarray(images, np.float64).reshape(len(images), 28, 28)
    ys, xs = np.mgrid[0:28, 0:28]
    mass = images.sum(axis=(1, 2)) + 1e-9
    mx = (images * xs).sum(axis=(1, 2)) / mass
    my = (images * ys).sum(axis=(1, 2)) / mass
    dx, dy = xs[None] - mx[:, None, None], ys[None] - my[:, None, None]
    cxx = (images * dx * dx).sum(axis=(1, 2)) / mass
    cyy = (images * dy * dy).sum(axis=(1, 2)) / mass
    cxy = (images * dx * dy).sum(axis=(1, 2)) / mass
    return cxx, cyy, cxy


def slant(images) -> np.ndarray:
    """The principal axis's angle from the vertical, in degrees (positive: leaning right),
    from the image's second moments. Introduced in 04_infogan, section 5."""
    cxx, cyy, cxy = _moments(images)
    # angle φ of the axis of largest variance from the downward vertical:
    # tan 2φ = 2 cov(x, y) / (var y − var x). Rows grow downwards, so a digit leaning right
    # ("/": lower ink further left) has cov(x, y) < 0; its slant is −φ.
    return -0.5 * np.degrees(np.arctan2(2 * cxy, cyy - cxx))


def ink_width(images) -> np.ndarray:
    """Horizontal spread of the ink: twice the standard deviation of x, in pixels."""
    cxx, _, _ = _moments(images)
    return 2 * np.sqrt(cxx)
