"""Applying a loss to an optimizer, correctly under mixed precision and several replicas.

Introduced in 01_autoencoders, section 2; every ``train_step`` of the course ends with
``apply_loss(optimizer, tape, loss, weights)`` instead of ``tape.gradient`` +
``optimizer.apply``, because two things are easy to get silently wrong:

- **mixed precision** (``mixed_float16``): small float16 gradients underflow to zero, so the
  loss is multiplied by a scale before back-propagation and the gradients divided by it
  before the update. Keras's ``LossScaleOptimizer`` does the dividing in ``apply``; the
  multiplying is ours. Forgetting it makes every update ~2^15 times too small.
- **several replicas** (``tf.distribute.MirroredStrategy``): each replica computes the loss
  on its share of the global batch and the optimizer *sums* the replicas' gradients, so a
  per-replica mean must be divided by the number of replicas (making it a mean over the
  global batch), or the effective learning rate grows with the replica count.

Both scales enter as the seed of back-propagation (``output_gradients``), which multiplies
every gradient exactly as scaling the loss inside the tape would.
"""

from __future__ import annotations

import keras


def for_precision(optimizer):
    """Wrap ``optimizer`` in a ``LossScaleOptimizer`` when the global policy is
    ``mixed_float16`` (what ``Model.compile`` does for ``model.optimizer``; a model with
    several optimizers, such as a GAN, wraps the others with this)."""
    if optimizer is None:
        return None
    mixed = keras.mixed_precision.dtype_policy().name == "mixed_float16"
    if mixed and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def replicas_in_sync() -> int:
    """How many replicas train in step (1 without a distribution strategy)."""
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def gradients(optimizer, tape, loss, variables):
    """∇ ``loss`` w.r.t. ``variables``, scaled as ``optimizer.apply`` expects (see above)."""
    import tensorflow as tf

    scale = 1.0 / replicas_in_sync()
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        scale = optimizer.scale_loss(scale)
    seed = tf.cast(scale, loss.dtype) * tf.ones_like(loss)
    return tape.gradient(loss, variables, output_gradients=seed)


def apply_loss(optimizer, tape, loss, variables) -> None:
    """One update of ``variables`` that descends ``loss`` (a per-replica mean, recorded by
    ``tape``), correct in float32 and mixed precision, on one replica or several."""
    optimizer.apply(gradients(optimizer, tape, loss, variables), variables)
