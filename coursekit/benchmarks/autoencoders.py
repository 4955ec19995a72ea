"""Benchmark of notebook 01_autoencoders: ``python -m coursekit.tools.bench autoencoders``.

Trains the notebook's exported 30-D dense and convolutional autoencoders
(``coursekit.models.autoencoders``) from scratch (no checkpoint) and compares them with PCA
at the same code size and with raw pixels as few-label features.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def benchmark(profile: str, out_dir: Path) -> dict:
    from coursekit.data import load_mnist
    from coursekit.models import autoencoders as models
    from coursekit.topics.autoencoders import (
        BUDGET,
        HINTON_2006,
        few_label_accuracy,
        pca_reconstruction,
        reconstruction_error,
    )

    sizes = BUDGET.get(profile)
    train, test = load_mnist("train"), load_mnist("test")
    images = train.images[: sizes.train_subset]
    report = {"train_images": len(images), "test_images": len(test.images),
              "hinton_2006": HINTON_2006}

    pca_test, _ = pca_reconstruction(images, test.images, 30)
    report["pca_30_sse"] = float(np.mean(np.sum((pca_test - test.images) ** 2, axis=(1, 2, 3))))

    trained = {}
    for key, build, epochs in (("dense_30", models.dense_autoencoder, sizes.epochs_30d),
                               ("conv_30", models.conv_autoencoder, sizes.epochs_conv)):
        model = trained[key] = build(30)
        history = models.train_autoencoder(model, images, epochs=epochs,
                                           batch_size=sizes.batch, name=None)
        report[key] = {
            "epochs": epochs,
            "test_sse": reconstruction_error(model, test.images),
            "final_train_loss": history["loss"][-1],
            "train_images_per_s": history["_throughput"],
        }

    dense = trained["dense_30"]
    codes = few_label_accuracy(dense.encode(train.images), train.labels,
                               dense.encode(test.images), test.labels,
                               n_labelled=sizes.labelled, repeats=sizes.features_repeats)
    pixels = few_label_accuracy(train.images, train.labels, test.images, test.labels,
                                n_labelled=sizes.labelled, repeats=sizes.features_repeats)
    report["few_label_accuracy"] = {"labelled": sizes.labelled,
                                    "repeats": sizes.features_repeats,
                                    "codes_30d": codes[0], "codes_30d_std": codes[1],
                                    "pixels": pixels[0], "pixels_std": pixels[1]}
    return report
