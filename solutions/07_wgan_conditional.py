"""Worked solutions of the exercises of notebooks/07_wgan_conditional.ipynb.

Each ``Solution`` edits the notebook's own cells (``Edit``: an exact piece of text replaced
in the cell with that id) and names the cells to re-run; ``python -m
coursekit.tools.exercises --solve 07_wgan_conditional all`` writes the solved notebook.
"""

from coursekit.tools.exercises import Edit, Solution

SOLUTIONS = [
    Solution(
        exercise=1,
        explanation=(
            "At theta = 4 the supports are still disjoint, so the JSD is still log 2 and the "
            "trained GAN discriminator still separates them perfectly: D(G(z)) stays near 0 "
            "and the minimax gradient near 0, as at theta = 2. The critic's estimate follows "
            "W1 = theta and doubles, while its gradient stays near dW1/dtheta = 1: the "
            "critic's loss says how far the generator is, and its gradient keeps pointing "
            "the generator towards the data however far away it starts."),
        edits=(Edit(cell="toy-gradients", old="THETA = 2.0", new="THETA = 4.0"),),
        rerun=("toy-gradients",),
        check="check-07-1",
    ),
    Solution(
        exercise=2,
        explanation=(
            "A standard normal lands in [0, 1] with probability Φ(1) - Φ(0) ≈ 0.34, so about "
            "two thirds of the points where the penalty is taken are not between the real "
            "and the generated image but beyond one of them (about 16% beyond the real image, "
            "50% beyond the fake one). The penalty then constrains the critic's slope away "
            "from the lines between the two distributions, where Proposition 1 says the "
            "optimal critic has unit gradient. The loop check of section 2 fails at once."),
        edits=(Edit(cell="wgan-gp-model",
                    old="return tf.random.stateless_uniform((m,), seed, 0.0, 1.0)",
                    new="return tf.random.stateless_normal((m,), seed)"),),
        rerun=("wgan-gp-model",),
        check="check-07-2",
    ),
    Solution(
        exercise=3,
        explanation=(
            "In training mode batch norm normalises each feature with the mean and variance "
            "of the whole minibatch, so the critic's output for one example, and its gradient "
            "with respect to that example, depend on every other example of the batch. The "
            "penalty is meant to constrain the gradient of D at each point on its own "
            "(Gulrajani et al.: 'we penalize the norm of the critic's gradient with respect "
            "to each input independently'); with batch norm it penalises a batch-dependent "
            "quantity instead. Hence no batch norm in the critic (layer norm, which normalises "
            "within one example, is the paper's replacement)."),
        edits=(Edit(cell="train-critic",
                    old="keras.Input((inputs,)), L.Dense(hidden), L.LeakyReLU(0.2),",
                    new="keras.Input((inputs,)), L.Dense(hidden), L.BatchNormalization(),\n"
                        "                             L.LeakyReLU(0.2),"),),
        rerun=("train-critic",),
        check="check-07-3",
    ),
    Solution(
        exercise=4,
        explanation=(
            "Layer normalisation computes its mean and variance over the features of one "
            "example, not over the batch, so each example's score, and its gradient with "
            "respect to its own input, is the same whatever else is in the minibatch: the "
            "penalty constrains the critic at each point on its own again, as the paper "
            "requires, while the critic keeps a normalisation layer."),
        edits=(Edit(cell="train-critic",
                    old="keras.Input((inputs,)), L.Dense(hidden), L.LeakyReLU(0.2),",
                    new="keras.Input((inputs,)), L.Dense(hidden), L.LayerNormalization(),\n"
                        "                             L.LeakyReLU(0.2),"),),
        rerun=("train-critic",),
        check="check-07-4",
    ),
    Solution(
        exercise=5,
        explanation=(
            "Clipping the deviation at 0 with max(0, ‖∇D‖ - 1) leaves slopes below 1 free and "
            "penalises steeper ones exactly as before: a linear critic of slope 0.5 now pays "
            "nothing (the two-sided penalty charged it 10 · (0.5 - 1)² = 2.5) and one of slope 3 "
            "still pays 40. A 1-Lipschitz critic only needs ‖∇D‖ ≤ 1; the two-sided version "
            "also pushes the norm up towards 1 wherever it is sampled. Gulrajani et al. found "
            "that this costs little: the optimal critic has gradient norm 1 almost everywhere "
            "under both distributions and in much of the region between them anyway."),
        edits=(Edit(cell="gradient-penalty",
                    old="return weight * ops.mean(ops.square(norms - 1.0))",
                    new="return weight * ops.mean(ops.square(ops.maximum(norms - 1.0, 0.0)))"),),
        rerun=("gradient-penalty",),
        check="check-07-5",
    ),
]
