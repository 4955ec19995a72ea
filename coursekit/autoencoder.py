"""Autoencoders: dense and convolutional, plain and denoising, with the PCA baseline.

Taught in 01_autoencoders. An autoencoder is an encoder x -> z (the code, a bottleneck)
and a decoder z -> x', trained without labels to make x' close to x under the L2
(summed squared error) reconstruction loss. The denoising variant corrupts the input
and keeps the clean image as the target.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from .data import load_mnist, make_pipeline
from .device import DEFAULT_SEED
from .profiles import Budget
from .training import fit_resumable

BUDGET = Budget(
    smoke=dict(batch=128, epochs_2d=2, epochs_30d=2, epochs_conv=1, epochs_denoise=1,
               train_subset=60000, tsne_points=500, labelled=100, features_repeats=5),
    cpu=dict(batch=128, epochs_2d=10, epochs_30d=20, epochs_conv=5, epochs_denoise=5,
             train_subset=60000, tsne_points=2000, labelled=100, features_repeats=20),
    gpu=dict(batch=256, epochs_2d=30, epochs_30d=100, epochs_conv=30, epochs_denoise=30,
             train_subset=60000, tsne_points=5000, labelled=100, features_repeats=50),
)

IMAGE_SHAPE = (28, 28, 1)
HINTON_2006 = {"pca_30": 13.87, "logistic_pca_30": 8.01, "deep_autoencoder_30": 3.00}
"""Average summed squared error per MNIST test image, Hinton & Salakhutdinov 2006 (Science)."""


def summed_squared_error(target, reconstruction):
    """The L2 reconstruction loss per image: sum over pixels of (x - x')^2.

    Summed (not averaged) over pixels so its value is the measure Hinton & Salakhutdinov
    report. Introduced in 01_autoencoders, section 2.
    """
    target = keras.ops.cast(target, "float32")
    reconstruction = keras.ops.cast(reconstruction, "float32")
    return keras.ops.sum(keras.ops.square(target - reconstruction), axis=(1, 2, 3))


def dense_encoder(code_dim: int, hidden=(1000, 500, 250)) -> keras.Sequential:
    """784 -> hidden -> code_dim (linear code), the architecture of Hinton & Salakhutdinov."""
    layers = [keras.Input(IMAGE_SHAPE), keras.layers.Flatten()]
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden]
    layers.append(keras.layers.Dense(code_dim, name="code"))
    return keras.Sequential(layers, name="encoder")


def dense_decoder(code_dim: int, hidden=(250, 500, 1000)) -> keras.Sequential:
    """code_dim -> hidden -> 784 sigmoid pixels, reshaped to 28x28x1."""
    layers = [keras.Input((code_dim,))]
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden]
    layers += [keras.layers.Dense(784, activation="sigmoid", dtype="float32"),
               keras.layers.Reshape(IMAGE_SHAPE)]
    return keras.Sequential(layers, name="decoder")


def conv_encoder(code_dim: int) -> keras.Sequential:
    """Two stride-2 convolutions (28 -> 14 -> 7) then a dense code. Taught in section 5."""
    return keras.Sequential([
        keras.Input(IMAGE_SHAPE),
        keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(code_dim, name="code"),
    ], name="encoder")


def conv_decoder(code_dim: int) -> keras.Sequential:
    """The mirror of ``conv_encoder``: dense to 7x7x64, two stride-2 transposed convolutions."""
    return keras.Sequential([
        keras.Input((code_dim,)),
        keras.layers.Dense(7 * 7 * 64, activation="relu"),
        keras.layers.Reshape((7, 7, 64)),
        keras.layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid", dtype="float32"),
    ], name="decoder")


class Autoencoder(keras.Model):
    """Encoder -> code z -> decoder, trained on unlabelled images with the summed squared error.

    With ``noise_std > 0`` it is a denoising autoencoder: ``train_step`` adds fresh Gaussian
    noise to each input batch (clipped to [0, 1]) and still reconstructs the clean image.
    Introduced in 01_autoencoders, section 2 (denoising: section 5).
    """

    def __init__(self, encoder, decoder, noise_std: float = 0.0, seed: int = DEFAULT_SEED,
                 **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.noise_std = noise_std
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, images, training=False):
        return self.decoder(self.encoder(images, training=training), training=training)

    def encode(self, images, batch_size: int = 1000) -> np.ndarray:
        return self.encoder.predict(images, batch_size=batch_size, verbose=0)

    def decode(self, codes, batch_size: int = 1000) -> np.ndarray:
        return self.decoder.predict(np.asarray(codes, np.float32), batch_size=batch_size,
                                    verbose=0)

    def corrupt(self, images):
        """Gaussian noise of standard deviation ``noise_std``, clipped to the pixel range."""
        noise = keras.random.normal(keras.ops.shape(images), stddev=self.noise_std,
                                    seed=self.seed_generator)
        return keras.ops.clip(images + keras.ops.cast(noise, images.dtype), 0.0, 1.0)

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, images):
        import tensorflow as tf

        inputs = self.corrupt(images) if self.noise_std > 0 else images
        with tf.GradientTape() as tape:
            loss = keras.ops.mean(summed_squared_error(images, self(inputs, training=True)))
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, images):
        inputs = self.corrupt(images) if self.noise_std > 0 else images
        self.loss_tracker.update_state(
            keras.ops.mean(summed_squared_error(images, self(inputs)))
        )
        return {"loss": self.loss_tracker.result()}


def build_autoencoder(architecture: str, code_dim: int, noise_std: float = 0.0) -> Autoencoder:
    """``architecture`` is "dense" (784-1000-500-250-code), "dense-small" (784-512-256-code,
    for the 2-D code) or "conv"."""
    if architecture == "dense":
        encoder, decoder = dense_encoder(code_dim), dense_decoder(code_dim)
    elif architecture == "dense-small":
        encoder = dense_encoder(code_dim, hidden=(512, 256))
        decoder = dense_decoder(code_dim, hidden=(256, 512))
    elif architecture == "conv":
        encoder, decoder = conv_encoder(code_dim), conv_decoder(code_dim)
    else:
        raise ValueError(f"unknown architecture {architecture!r}; use 'dense', "
                         "'dense-small' or 'conv'")
    return Autoencoder(encoder, decoder, noise_std=noise_std, name=f"{architecture}_ae")


def train_autoencoder(model: Autoencoder, images: np.ndarray, *, epochs: int, batch_size: int,
                      name: str | None, learning_rate: float = 1e-3) -> dict:
    """Train with Adam and a cosine-decayed learning rate; checkpointed under ``name``.

    Returns the history (per-epoch ``loss``; ``_throughput`` in images/s).
    """
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"expected images of shape (N, 28, 28, 1), got {images.shape}")
    steps = int(np.ceil(len(images) / batch_size)) * epochs
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    config = {"arch": model.name, "code": model.encoder.output_shape[-1], "n": len(images),
              "noise": model.noise_std, "batch": batch_size, "lr": learning_rate,
              "epochs": epochs}
    data = make_pipeline(images, batch_size, seed=DEFAULT_SEED)
    return fit_resumable(model, data, epochs=epochs, name=name, config=config,
                         examples_per_step=batch_size)


def trained_2d_autoencoder(images: np.ndarray | None = None):
    """The 2-D-code autoencoder of 01_autoencoders, section 2: (model, history).

    Reuses its checkpoint when present, else trains it with the notebook's settings on
    ``images`` (default: the profile's MNIST training subset). Notebook 02 (section 9)
    decodes random codes with this very model, next to the VAE's prior samples.
    """
    sizes = BUDGET.get()
    if images is None:
        images = load_mnist("train").images[: sizes.train_subset]
    model = build_autoencoder("dense-small", code_dim=2)
    history = train_autoencoder(model, images, epochs=sizes.epochs_2d, batch_size=sizes.batch,
                                name="01_autoencoders/dense_2d")
    return model, history


def reconstruction_error(model: keras.Model, images: np.ndarray, batch_size: int = 1000) -> float:
    """Average summed squared error per image, on [0, 1] pixels (Hinton & Salakhutdinov)."""
    reconstructions = model.predict(images, batch_size=batch_size, verbose=0)
    return float(np.mean(np.sum((reconstructions - images) ** 2, axis=(1, 2, 3))))


def pca_reconstruction(train: np.ndarray, test: np.ndarray, n_components: int):
    """Fit PCA on the training images; return (reconstructed test images, the PCA object)."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components, random_state=DEFAULT_SEED).fit(train.reshape(len(train), -1))
    flat = pca.inverse_transform(pca.transform(test.reshape(len(test), -1)))
    return flat.reshape(test.shape).astype(np.float32), pca


def labelled_subset(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` training examples, balanced over the classes, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    if n % len(classes):
        raise ValueError(f"n={n} must be a multiple of the {len(classes)} classes")
    per_class = n // len(classes)
    return np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
                           for c in classes])


def few_label_accuracy(train_features, train_labels, test_features, test_labels, *,
                       n_labelled: int = 100, repeats: int = 5) -> tuple[float, float]:
    """Mean and standard deviation of test accuracy of a logistic-regression classifier
    trained on ``n_labelled`` labelled examples, over ``repeats`` random labelled subsets.

    Features are standardised with statistics of the labelled examples only. Introduced in
    01_autoencoders, section 4 (codes as features for semi-supervised learning).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline as sk_pipeline
    from sklearn.preprocessing import StandardScaler

    train_features = np.asarray(train_features).reshape(len(train_features), -1)
    test_features = np.asarray(test_features).reshape(len(test_features), -1)
    scores = []
    for repeat in range(repeats):
        idx = labelled_subset(train_labels, n_labelled, seed=DEFAULT_SEED + repeat)
        classifier = sk_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
        classifier.fit(train_features[idx], train_labels[idx])
        scores.append(classifier.score(test_features, test_labels))
    return float(np.mean(scores)), float(np.std(scores))


def benchmark(profile: str, out_dir: Path) -> dict:
    """Train notebook 01's 30-D dense and convolutional autoencoders from scratch; compare
    with PCA at the same code size and with raw pixels as few-label features."""
    sizes = BUDGET.get(profile)
    train, test = load_mnist("train"), load_mnist("test")
    images = train.images[: sizes.train_subset]
    report = {"train_images": len(images), "test_images": len(test.images),
              "hinton_2006": HINTON_2006}

    pca_test, _ = pca_reconstruction(images, test.images, 30)
    report["pca_30_sse"] = float(np.mean(np.sum((pca_test - test.images) ** 2, axis=(1, 2, 3))))

    models = {}
    for key, architecture, epochs in (("dense_30", "dense", sizes.epochs_30d),
                                      ("conv_30", "conv", sizes.epochs_conv)):
        model = models[key] = build_autoencoder(architecture, 30)
        history = train_autoencoder(model, images, epochs=epochs, batch_size=sizes.batch,
                                    name=None)
        report[key] = {
            "epochs": epochs,
            "test_sse": reconstruction_error(model, test.images),
            "train_loss_last_epoch": history["loss"][-1],
            "images_per_s": history["_throughput"],
        }

    dense = models["dense_30"]
    codes = few_label_accuracy(dense.encode(train.images), train.labels,
                               dense.encode(test.images), test.labels,
                               n_labelled=sizes.labelled, repeats=sizes.features_repeats)
    pixels = few_label_accuracy(train.images, train.labels, test.images, test.labels,
                                n_labelled=sizes.labelled, repeats=sizes.features_repeats)
    report["few_label_accuracy"] = {"labelled": sizes.labelled,
                                    "repeats": sizes.features_repeats,
                                    "codes_30d": codes[0], "codes_30d_std": codes[1],
                                    "pixels": pixels[0], "pixels_std": pixels[1]}
    report["images_per_s"] = report["dense_30"]["images_per_s"]
    return report
