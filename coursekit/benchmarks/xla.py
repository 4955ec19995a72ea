"""``make bench NAME=xla``: every notebook's model trained with and without XLA, and the share
of the machine's arithmetic peak its training reaches.

For each model at the profile's sizes (its notebook's ``BUDGET``), two copies built from the
same seed take ``fit`` steps on one fixed batch of the right shape (the data's values do not
change the arithmetic): one with ``jit_compile=False`` (Keras's choice on a CPU), one with
``jit_compile=True`` (Keras's choice on a GPU, where the model allows it). The first call of
each is timed apart (tracing, and for XLA compiling); then the two alternate, ``ROUNDS`` times
each, and the best round gives the images/s (the fastest round is the one least disturbed by
anything else on the machine). TensorFlow's op determinism, which ``ck.setup()`` turns on and
under which Keras refuses XLA, is off for the whole measurement, for both copies.

Share of peak: the floating-point operations of one training step, counted by TensorFlow's
graph profiler on the traced ``train_step`` (matrix products and convolutions, forward and
backward; the LSTM's recurrence, which the profiler counts once per loop rather than per
pixel, from its layer sizes), over the best step time, against the best rate of a dense
float32 matrix product measured with TensorFlow's ``tf.linalg.matmul`` (and numpy's, as the
cppn benchmark does) in the same process. Introduced for the course's XLA measurements.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

ROUNDS = 3
ROUND_SECONDS = 6.0  # wall time of one timed round: enough steps to average over


def _images(rng, n):
    return rng.uniform(size=(n, 28, 28, 1)).astype(np.float32)


def _labels(rng, n):
    return rng.integers(0, 10, n).astype(np.int32)


def _adam():
    import keras
    return keras.optimizers.Adam(1e-3)


def _autoencoder(kind):
    def build(profile, rng):
        from ..models import autoencoders as m
        from ..topics.autoencoders import BUDGET
        b = BUDGET.get(profile)
        model = m.dense_autoencoder(30) if kind == "dense" else m.conv_autoencoder(30)
        model.compile(optimizer=_adam())
        return model, _images(rng, b.batch), b.batch
    return build


def _vae(mixture):
    def build(profile, rng):
        from ..models import vae as m
        from ..topics.vae import BUDGET
        b = BUDGET.get(profile)
        model = (m.MixturePriorVAE(latent_dim=b.latent_dim, components=b.components)
                 if mixture else m.VAE(latent_dim=b.latent_dim))
        model.compile(optimizer=_adam())
        return model, (_images(rng, b.batch) > 0.5).astype(np.float32), b.batch
    return build


def _dcgan(profile, rng):
    from ..models import gan as m
    from ..topics.gan import BUDGET
    b = BUDGET.get(profile)
    model = m.build_gan(k=b.k, width=b.dcgan_width)
    return model, _images(rng, b.batch * b.k), b.batch * b.k


def _infogan(profile, rng):
    from ..models import infogan as m
    from ..topics.infogan import BUDGET
    b = BUDGET.get(profile)
    model = m.build_infogan(width=b.width, dense=b.dense)
    return model, _images(rng, b.batch), b.batch


def _pixel_lstm(profile, rng):
    import keras

    from ..models import pokemon_lstm as m
    from ..topics.pokemon_lstm import BUDGET, N_COLOURS, N_PIXELS
    b = BUDGET.get(profile)
    model = m.build_model(b.units)
    model.compile(optimizer=keras.optimizers.Adam(b.learning_rate, clipnorm=1.0))
    return model, rng.integers(0, N_COLOURS, (b.batch, N_PIXELS)).astype(np.int32), b.batch


def _cppn_gan(profile, rng):
    from ..models import cppn as m
    from ..topics.cppn import BUDGET
    b = BUDGET.get(profile)
    model = m.build_cppn_gan(hidden=b.gan_hidden, width=b.gan_width, g_rate=1e-3)
    return model, _images(rng, b.gan_batch * model.k), b.gan_batch * model.k


def _wgan(conditional):
    def build(profile, rng):
        from ..models import wgan_conditional as m
        from ..topics.wgan_conditional import BUDGET
        b = BUDGET.get(profile)
        model = m.build_wgan_gp(width=b.width, k=b.n_critic, conditional=conditional,
                                learning_rate=b.learning_rate)
        n = b.batch * b.n_critic
        data = (_images(rng, n), _labels(rng, n)) if conditional else _images(rng, n)
        return model, data, n
    return build


def _diffusion(profile, rng):
    import keras

    from ..models import diffusion as m
    from ..topics.diffusion import BUDGET
    b = BUDGET.get(profile)
    model = m.DenoisingDiffusion(m.unet(b.width), m.Schedule(m.linear_betas()),
                                 label_dropout=b.label_dropout, min_snr_gamma=b.min_snr_gamma)
    model.compile(optimizer=keras.optimizers.Adam(b.learning_rate, use_ema=True,
                                                  ema_momentum=b.ema))
    return model, (_images(rng, b.batch) * 2 - 1, _labels(rng, b.batch)), b.batch


# name: (notebook, builder(profile, rng) -> (compiled model, one step's data, examples per step))
MODELS = {
    "dense_autoencoder": ("01", _autoencoder("dense")),
    "conv_autoencoder": ("01", _autoencoder("conv")),
    "vae": ("02", _vae(mixture=False)),
    "mixture_vae": ("02", _vae(mixture=True)),
    "dcgan": ("03", _dcgan),
    "infogan": ("04", _infogan),
    "pixel_lstm": ("05", _pixel_lstm),
    "cppn_gan": ("06", _cppn_gan),
    "wgan_gp": ("07", _wgan(conditional=False)),
    "conditional_wgan_gp": ("07", _wgan(conditional=True)),
    "diffusion_unet": ("08", _diffusion),
}


def tf_matmul_peak_gflops(n: int = 2048, repeats: int = 10) -> float:
    """Best float32 GFLOP/s of an n×n product with ``tf.linalg.matmul`` (TensorFlow's own
    threads and kernels: the rate its models' dense layers can reach)."""
    import tensorflow as tf

    a = tf.random.stateless_normal((n, n), seed=(1, 2))
    b = tf.random.stateless_normal((n, n), seed=(3, 4))
    product = tf.function(lambda: tf.reduce_sum(tf.linalg.matmul(a, b)))
    product()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        product().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def step_flops(model, data) -> float:
    """Floating-point operations of one ``train_step`` on ``data``, counted by TensorFlow's
    graph profiler on the traced step (the model must have taken a step already, so that its
    optimizer's variables exist). Loops count once, so the pixel LSTM adds its recurrence."""
    import tensorflow as tf
    from tensorflow.python.profiler import model_analyzer, option_builder

    spec = tf.nest.map_structure(lambda a: tf.TensorSpec(a.shape, tf.as_dtype(a.dtype)), data)
    graph = tf.function(model.train_step).get_concrete_function(spec).graph
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    counted = float(model_analyzer.profile(graph, options=options).total_float_ops)
    lstm = getattr(model, "lstm", None)
    if lstm is not None:  # forward 2·4u(in + u) per pixel, backward twice that
        inputs = int(lstm.cell.kernel.shape[0])
        batch, pixels = np.asarray(data).shape
        counted += 3 * 2 * 4 * lstm.units * (inputs + lstm.units) * batch * pixels
    return counted


def _timed_fit(model, dataset, steps) -> float:
    start = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    return time.perf_counter() - start


def measure(name, profile, rounds=ROUNDS, round_seconds=ROUND_SECONDS) -> dict:
    """One model's row: images/s without and with XLA, first-call seconds, FLOPs per step."""
    import keras
    import tensorflow as tf

    from ..device import seed_for

    notebook, build = MODELS[name]
    copies = {}
    for xla in (False, True):
        keras.utils.set_random_seed(seed_for(f"xla {name}"))
        model, data, examples = build(profile, np.random.default_rng(seed_for(f"xla {name} data")))
        model.jit_compile = xla
        if model.jit_compile != xla:
            raise RuntimeError(f"{name}: Keras refused jit_compile={xla}")
        dataset = tf.data.Dataset.from_tensors(data).repeat()
        first = _timed_fit(model, dataset, 1)  # tracing (and compiling) plus one step
        step = _timed_fit(model, dataset, 3) / 3
        copies[xla] = dict(model=model, dataset=dataset, first=first, step=step,
                           steps=max(3, int(round_seconds / step)), best=float("inf"))
    for _ in range(rounds):  # alternate, so that both see the same machine
        for copy in copies.values():
            copy["best"] = min(copy["best"], _timed_fit(copy["model"], copy["dataset"],
                                                        copy["steps"]) / copy["steps"])
    flops = step_flops(copies[False]["model"], data)
    row = {"notebook": notebook, "examples_per_step": examples,
           "flops_per_image": round(flops / examples)}
    for xla, key in ((False, "without_xla"), (True, "with_xla")):
        copy = copies[xla]
        row[key] = {"train_images_per_s": round(examples / copy["best"], 1),
                    "first_call_seconds": round(copy["first"], 2),
                    "gflops_per_s": round(flops / copy["best"] / 1e9, 2)}
    # the compile time: what XLA's first call costs beyond the plain first call
    row["compile_seconds"] = round(copies[True]["first"] - copies[False]["first"], 2)
    row["speedup"] = round(copies[False]["best"] / copies[True]["best"], 3)
    return row


def benchmark(profile: str, out_dir: Path) -> dict:
    from tensorflow.python.framework import config  # the public API can only turn it on

    from .cppn import matmul_peak_gflops

    deterministic = config.is_op_determinism_enabled()
    config.disable_op_determinism()
    try:
        report: dict = {"peak_gflops_per_s": {"tf_matmul": round(tf_matmul_peak_gflops(), 1),
                                              "numpy_matmul": round(matmul_peak_gflops(), 1)},
                        "rounds": ROUNDS, "models": {}}
        print("peak:", report["peak_gflops_per_s"], flush=True)
        for name in MODELS:
            row = measure(name, profile)
            peak = report["peak_gflops_per_s"]["tf_matmul"]
            for key in ("without_xla", "with_xla"):
                row[key]["share_of_peak"] = round(row[key]["gflops_per_s"] / peak, 4)
            report["models"][name] = row
            print(name, row, flush=True)
    finally:
        if deterministic:
            config.enable_op_determinism()
    return report
