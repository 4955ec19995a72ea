"""Checks that a model's ``train_step`` is right in mixed precision, under XLA and on several
replicas.

Used by the tests of every model (``tests/test_<topic>.py``). A model is
described by a *factory* ``make(optimizer_fn) -> (model, batch)``: it builds and compiles
a small instance of the notebook's model with optimizers from ``optimizer_fn()`` (the
checks pass plain SGD, whose update is proportional to the gradient, so a wrong loss scale
shows as a wrong step size) and returns one global training batch. Factories must avoid
dropout (its masks differ between runs) and may use batch norm only with
``synchronized=True``.

- ``mixed_precision_step``: one step under ``mixed_float16`` moves the weights by the same
  amount as the float32 step from the same start (a missing loss scale makes the float16
  step ~2^15 times too small; a missing unscale, ~2^15 times too large).
- ``xla_step``: one step compiled by XLA (``jit_compile=True``, a GPU's default) updates the
  weights as the step without XLA does.
- ``two_replica_steps``: one step under ``MirroredStrategy`` on two logical CPU devices
  gives the same weights as one step on one device with the same global batch (run in a
  fresh process, one for several factories: logical devices must be configured before
  TensorFlow starts).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import keras
import numpy as np


def sgd():
    """Plain SGD; under mixed precision already wrapped with a modest initial loss scale
    (2^8 instead of Keras's 2^15), so that the single compared step is not skipped as an
    overflow — which dynamic loss scaling does in the first steps of real training (a summed
    loss over 784 pixels times 2^15 overflows float16), and which would make the comparison
    meaningless. A missing scale still shows, as a step 2^8 times too small."""
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    if keras.mixed_precision.dtype_policy().name == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer, initial_scale=2.0 ** 8)
    return optimizer


def _weights(model) -> list[np.ndarray]:
    return [np.array(keras.ops.convert_to_numpy(v), np.float64) for v in model.trainable_variables]


def global_index(m):
    """The global row numbers (int32, shape (m,)) of this replica's m rows (see global_rows)."""
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    replica = context.replica_id_in_sync_group if context is not None else 0
    return tf.range(m) + replica * m


def global_rows(m, dim: int):
    """Deterministic (m, dim) float32 inputs (e.g. a test model's latents): on replica r of
    R they are rows r·m … (r+1)·m − 1 of one global array, so one replica with the global
    batch and two replicas with half each see the same inputs."""
    import tensorflow as tf

    rows = tf.cast(global_index(m), "float32")[:, None]
    return tf.sin(0.7 * rows + tf.range(dim, dtype="float32")[None, :])


def one_step(make, seed: int = 0, jit_compile: bool | None = None):
    """Build with ``make`` (seeded), take one ``fit`` step; return (before, after) weights.
    ``jit_compile``: True or False sets the model's XLA setting first (None: Keras's own)."""
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    model, batch = make(sgd)
    if jit_compile is not None:
        model.jit_compile = jit_compile
        if model.jit_compile != jit_compile:  # Keras turns it off for models it cannot compile
            raise RuntimeError(f"{model.name}: Keras refused jit_compile={jit_compile}")
    before = _weights(model)
    model.fit(tf.data.Dataset.from_tensors(batch).repeat(), steps_per_epoch=1, epochs=1,
              verbose=0, shuffle=False)
    return before, _weights(model)


def relative_difference(a: list, b: list) -> float:
    """‖a − b‖ / ‖b‖ over all arrays together."""
    num = sum(float(np.sum((x - y) ** 2)) for x, y in zip(a, b, strict=True))
    den = sum(float(np.sum(y ** 2)) for y in b)
    return float(np.sqrt(num / max(den, 1e-30)))


def _updates_in_both_precisions(make, seed: int):
    policy = keras.mixed_precision.dtype_policy().name
    try:
        keras.mixed_precision.set_global_policy("float32")
        start32, end32 = one_step(make, seed)
        keras.mixed_precision.set_global_policy("mixed_float16")
        start16, end16 = one_step(make, seed)
    finally:
        keras.mixed_precision.set_global_policy(policy)
    assert relative_difference(start16, start32) < 1e-6, "the two runs started apart"
    delta32 = [b - a for a, b in zip(start32, end32, strict=True)]
    delta16 = [b - a for a, b in zip(start16, end16, strict=True)]
    assert sum(float(np.abs(d).sum()) for d in delta32) > 0, "the float32 step changed nothing"
    return delta16, delta32


def mixed_precision_step(make, seed: int = 0) -> float:
    """Relative difference between the float16-policy and float32 weight updates."""
    return relative_difference(*_updates_in_both_precisions(make, seed))


def mixed_precision_update_ratios(make, seed: int = 0) -> tuple[float, float]:
    """The smallest and largest ratio ‖Δw₁₆‖ / ‖Δw₃₂‖ over the variables that carry the step
    (an update norm of at least 5% of the largest): how far each moves in mixed precision
    compared with float32. Robust where float16 rounding flips ReLUs and so changes the
    update's direction (small networks with batch norm), and it ignores small sums of
    cancelling gradients such as an output bias; a missing loss scale gives ratios of
    ~2^-8, a missing unscale ~2^8."""
    delta16, delta32 = _updates_in_both_precisions(make, seed)
    largest = max(np.linalg.norm(b) for b in delta32)
    ratios = [np.linalg.norm(a) / np.linalg.norm(b) for a, b in zip(delta16, delta32,
                                                                     strict=True)
              if np.linalg.norm(b) >= 0.05 * largest]
    return float(min(ratios)), float(max(ratios))


def xla_step(make, seed: int = 0) -> float:
    """Relative difference between the one-step weight updates with XLA
    (``jit_compile=True``: Keras's default on a GPU) and without (its default on a CPU).
    Keras refuses XLA while TensorFlow's op determinism is on (``coursekit.device.setup``
    turns it on), so it is off for the two steps and restored after them."""
    from ..device import op_determinism

    with op_determinism(False):
        start_xla, end_xla = one_step(make, seed, jit_compile=True)
        start, end = one_step(make, seed, jit_compile=False)
    assert relative_difference(start_xla, start) < 1e-6, "the two runs started apart"
    return relative_difference([b - a for a, b in zip(start_xla, end_xla, strict=True)],
                               [b - a for a, b in zip(start, end, strict=True)])


def _two_replica_main(targets: list[str]) -> None:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    for target in targets:
        module, name = target.split(":")
        make = getattr(importlib.import_module(module), name)
        start1, end1 = one_step(make)
        with strategy.scope():
            start2, end2 = one_step(make)
        delta1 = [b - a for a, b in zip(start1, end1, strict=True)]
        delta2 = [b - a for a, b in zip(start2, end2, strict=True)]
        print(json.dumps({"target": target, "replicas": strategy.num_replicas_in_sync,
                          "start": relative_difference(start2, start1),
                          "update": relative_difference(delta2, delta1)}), flush=True)


def two_replica_steps(*targets: str) -> dict[str, dict]:
    """Run the two-replica comparison for each ``"module:factory"`` in one fresh process
    (TensorFlow starts once for all of them: tests/test_two_replicas.py passes every one).

    Returns ``{target: {"replicas": 2, "start": ..., "update": ...}}``: the relative
    differences of the starting weights and of the one-step updates (two replicas against
    one)."""
    result = subprocess.run([sys.executable, "-m", "coursekit.tools.testing", *targets],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"two-replica check of {', '.join(targets)} failed:\n"
                           f"{result.stderr[-4000:]}")
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    found = {row.pop("target"): row for row in rows}
    missing = [t for t in targets if t not in found]
    if missing:
        raise RuntimeError(f"two-replica check printed no result for {missing}:\n"
                           f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return found


if __name__ == "__main__":
    _two_replica_main(sys.argv[1:])
