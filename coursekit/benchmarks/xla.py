"""``make bench NAME=xla``: every notebook's model trained with and without XLA, and the share
of the machine's arithmetic peak its training reaches.

For each model at the profile's sizes (its notebook's ``BUDGET``), four copies built from the
same seed take ``fit`` steps on one fixed batch of the right shape (the data's values do not
change the arithmetic), one per ``PATHS`` entry: without and with ``jit_compile=True`` (XLA;
Keras's choice on a GPU, off on a CPU), each under TensorFlow's op determinism (as
``ck.setup()`` runs every notebook) and without it (what determinism costs). The first call
of each is timed apart (tracing, and for XLA compiling); then the copies alternate, ``ROUNDS``
times each, and the best round gives the images/s (the fastest round is the one least
disturbed by anything else on the machine). The notebooks' other hot loops (``LOOPS``:
sampling, classifier features, the IWAE bound, CPPN rendering, the LSTM's pixel loop) are
timed alike as one ``tf.function`` without and with ``jit_compile=True``, under determinism.

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
ROUND_SECONDS = 5.0  # wall time of one timed round: enough steps to average over


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

    from ..topics.diffusion import BUDGET
    from .diffusion import build_model
    b = BUDGET.get(profile)
    model = build_model(b)
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


# ------------------------------------------------------------- the notebooks' other hot loops

def _diffusion_denoiser(profile, rng):
    """08's sampling: one guided denoiser call (conditional and unconditional halves of 500
    samples in one batch, as ``predict_noise``), at the profile's width."""
    from ..models import diffusion as m
    from ..topics.diffusion import BUDGET
    b = BUDGET.get(profile)
    network = m.unet(b.width)
    n = 1000
    x = rng.standard_normal((n, 28, 28, 1)).astype(np.float32)
    t = rng.integers(0, 1000, n).astype(np.int32)
    labels = rng.integers(0, 11, n).astype(np.int32)
    return (lambda x, t, y: network([x, t, y], training=False)), (x, t, labels), n


def _fid_features(profile, rng):
    """03/07/08's scoring: the course classifier's features and logits for 1,000 images (the
    batch of ``metrics.features_and_logits``; its weights do not change the arithmetic)."""
    import keras

    from ..metrics import FEATURE_LAYER, build_classifier
    model = build_classifier()
    both = keras.Model(model.input, [model.get_layer(FEATURE_LAYER).output, model.output])
    return (lambda x: both(x, training=False)), (_images(rng, 1000),), 1000


def _iwae_bound(profile, rng):
    """02's IWAE bound: one call of ``iwae_nll``'s inner function (k importance samples for
    20,000 / k images), at the profile's k and latent size."""
    import tensorflow as tf

    from ..models import vae as m
    from ..topics.vae import BUDGET
    b = BUDGET.get(profile)
    model = m.VAE(latent_dim=b.latent_dim)
    n = max(1, 20_000 // b.iwae_k)
    images = (_images(rng, n) > 0.5).astype(np.float32)
    model(images)

    def bound(x):
        return tf.reduce_logsumexp(m.iwae_log_weights(model, x, b.iwae_k), axis=1)
    return bound, (images,), n


def _cppn_render(profile, rng):
    """06's CPPN-GAN generator rendering 4 latents at the profile's high resolution (06's
    other renders are numpy, outside XLA's reach; the cppn benchmark measures them)."""
    from ..models import cppn as m
    from ..topics.cppn import BUDGET
    b = BUDGET.get(profile)
    generator = m.CPPNGenerator(32, b.gan_hidden)
    latent = rng.standard_normal((4, 32)).astype(np.float32)
    size = b.high_res // 4
    return (lambda z: generator.render(z, size)), (latent,), 4


def _lstm_sampling(profile, rng):
    """05's pixel-by-pixel sampling: ``sampler``'s loop drawing 64 whole sprites at
    temperature 1."""
    from ..models import pokemon_lstm as m
    from ..topics.pokemon_lstm import BUDGET, N_PIXELS
    b = BUDGET.get(profile)
    model = m.build_model(b.units)
    run = m.sampler(model).python_function
    prefix = np.zeros((64, N_PIXELS), np.int32)
    return run, (prefix, np.int32(0), np.float32(1.0), np.int32(7)), 64


# name: (notebook, builder(profile, rng) -> (function, its arguments, images per call))
LOOPS = {
    "diffusion_sampling": ("08", _diffusion_denoiser),
    "fid_features": ("03, 07, 08", _fid_features),
    "iwae_bound": ("02", _iwae_bound),
    "cppn_render": ("06", _cppn_render),
    "lstm_sampling": ("05", _lstm_sampling),
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


# key: (TensorFlow's op determinism, XLA). ``ck.setup()`` turns op determinism on, so the
# first two are what the notebooks run; the last two show what determinism costs.
PATHS = {
    "without_xla": (True, False),
    "with_xla": (True, True),
    "without_xla_nondeterministic": (False, False),
    "with_xla_nondeterministic": (False, True),
}


def _timed_fit(model, dataset, steps) -> float:
    start = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    return time.perf_counter() - start


def measure(name, profile, rounds=ROUNDS, round_seconds=ROUND_SECONDS) -> dict:
    """One model's row: for each of ``PATHS``, images/s and first-call seconds of one copy of
    the model; the copies alternate, each under its own determinism."""
    import keras
    import tensorflow as tf

    from ..device import op_determinism, seed_for, set_jit_compile

    notebook, build = MODELS[name]
    copies = {}
    for path, (deterministic, xla) in PATHS.items():
        keras.utils.set_random_seed(seed_for(f"xla {name}"))
        model, data, examples = build(profile, np.random.default_rng(seed_for(f"xla {name} data")))
        set_jit_compile(model, xla)
        dataset = tf.data.Dataset.from_tensors(data).repeat()
        with op_determinism(deterministic):
            first = _timed_fit(model, dataset, 1)  # tracing (and compiling) plus one step
            step = _timed_fit(model, dataset, 3) / 3
        copies[path] = dict(model=model, dataset=dataset, first=first, step=step,
                            steps=max(3, int(round_seconds / step)), best=float("inf"))
    for _ in range(rounds):  # alternate, so that all see the same machine
        for path, copy in copies.items():
            with op_determinism(PATHS[path][0]):
                copy["best"] = min(copy["best"], _timed_fit(copy["model"], copy["dataset"],
                                                            copy["steps"]) / copy["steps"])
    with op_determinism(False):
        flops = step_flops(copies["without_xla"]["model"], data)
    row = {"notebook": notebook, "examples_per_step": examples,
           "flops_per_image": round(flops / examples)}
    for path, copy in copies.items():
        row[path] = {"train_images_per_s": round(examples / copy["best"], 1),
                     "first_call_seconds": round(copy["first"], 2),
                     "gflops_per_s": round(flops / copy["best"] / 1e9, 2)}
    plain, xla = copies["without_xla"], copies["with_xla"]
    # the compile time: what XLA's first call costs beyond the plain first call
    row["compile_seconds"] = round(max(0.0, xla["first"] - plain["first"]), 2)
    row["speedup"] = round(plain["best"] / xla["best"], 3)
    row["determinism_cost"] = round(
        plain["best"] / copies["without_xla_nondeterministic"]["best"], 3)
    return row


def _timed_calls(function, args, calls) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        out = function(*args)
    np.asarray(out[0] if isinstance(out, (tuple, list)) else out)  # wait for the last call
    return (time.perf_counter() - start) / calls


def measure_loop(name, profile, rounds=ROUNDS, round_seconds=ROUND_SECONDS) -> dict:
    """One hot loop's row: images/s of its ``tf.function`` without and with
    ``jit_compile=True``, first-call seconds, alternating rounds as ``measure``."""
    import keras
    import tensorflow as tf

    from ..device import seed_for

    notebook, build = LOOPS[name]
    keras.utils.set_random_seed(seed_for(f"xla {name}"))
    function, args, images = build(profile, np.random.default_rng(seed_for(f"xla {name} data")))
    args = tuple(tf.constant(a) for a in args)
    copies = {}
    for xla in (False, True):
        compiled = tf.function(function, jit_compile=xla)
        first = _timed_calls(compiled, args, 1)
        once = _timed_calls(compiled, args, 1)
        copies[xla] = dict(function=compiled, first=first,
                           calls=max(1, int(round_seconds / once)), best=once)
    for _ in range(rounds):
        for copy in copies.values():
            copy["best"] = min(copy["best"], _timed_calls(copy["function"], args, copy["calls"]))
    row = {"notebook": notebook, "images_per_call": images}
    for xla, key in ((False, "without_xla"), (True, "with_xla")):
        copy = copies[xla]
        row[key] = {"loop_images_per_s": round(images / copy["best"], 1),
                    "first_call_seconds": round(copy["first"], 2)}
    row["compile_seconds"] = round(max(0.0, copies[True]["first"] - copies[False]["first"]), 2)
    row["speedup"] = round(copies[False]["best"] / copies[True]["best"], 3)
    return row


def benchmark(profile: str, out_dir: Path) -> dict:
    from ..device import op_determinism
    from .cppn import matmul_peak_gflops

    report: dict = {"peak_gflops_per_s": {"tf_matmul": round(tf_matmul_peak_gflops(), 1),
                                          "numpy_matmul": round(matmul_peak_gflops(), 1)},
                    "rounds": ROUNDS, "paths": {k: {"op_determinism": d, "xla": x}
                                                for k, (d, x) in PATHS.items()},
                    "models": {}, "loops": {}}
    print("peak:", report["peak_gflops_per_s"], flush=True)
    peak = report["peak_gflops_per_s"]["tf_matmul"]
    for name in MODELS:
        row = measure(name, profile)
        for path in PATHS:
            row[path]["share_of_peak"] = round(row[path]["gflops_per_s"] / peak, 4)
        report["models"][name] = row
        print(name, row, flush=True)
    with op_determinism(True):  # as ck.setup() leaves it
        for name in LOOPS:
            report["loops"][name] = row = measure_loop(name, profile)
            print(name, row, flush=True)
    return report
