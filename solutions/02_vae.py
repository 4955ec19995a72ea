"""Worked solutions of the exercises of notebooks/02_vae.ipynb (see solutions/README.md)."""

from coursekit.tools.exercises import Edit, Solution

SOLUTIONS = [
    Solution(
        exercise=1,
        explanation=(
            "Thresholding removes the speckle that a Bernoulli draw puts in and around every "
            "stroke: the images become cleaner and more alike, so the same model finds them "
            "more likely. The number measures an easier data set, not a better model, which "
            "is why it must never sit beside Burda et al.'s 86.76 nats, measured on drawn "
            "images."),
        edits=(Edit(cell="test-nll", old="subset = x_test_bin[:IWAE_IMAGES]",
                    new="subset = (x_test[:IWAE_IMAGES] > 0.5).astype(np.float32)"),),
        rerun=("test-nll",),
        check="ex1-check",
    ),
    Solution(
        exercise=2,
        explanation=(
            "The loss reconstruction + β·KL trades the two terms smoothly: doubling the KL's "
            "price from β = 1 makes the encoder buy fewer nats of code, and β = 3 fewer "
            "still, so β = 2 lands between them on the curve, with a worse reconstruction "
            "than β = 1. The lecture's penalty is therefore not the ELBO but a β-VAE."),
        edits=(Edit(cell="beta-sweep", old="BETAS = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0)",
                    new="BETAS = (0.0, 0.1, 0.3, 1.0, 2.0, 3.0, 10.0)"),),
        rerun=("beta-sweep",),
        check="ex2-check",
    ),
    Solution(
        exercise=3,
        explanation=(
            "Subtracting the mean of f centres the factor that multiplies the score "
            "∇ log q, so the large constant part of log p(x|z) no longer swings each "
            "sample's gradient; the expectation is unchanged because the score has mean 0. "
            "The variance falls to well under half, yet the reparameterised estimator, which "
            "uses f's gradient, still has a lower variance in every coordinate."),
        edits=(Edit(cell="score-vs-reparam", old='"score function": log_lik(zs)[:, None]',
                    new='"score function": (log_lik(zs) - log_lik(zs).mean())[:, None]'),),
        rerun=("score-vs-reparam",),
        check="ex3-check",
    ),
    Solution(
        exercise=4,
        explanation=(
            "A dimension whose posterior mean is the same for every image carries no "
            "information: its q(z|x) sits on the prior and costs no KL. A large β makes "
            "every nat of code expensive, so the encoder keeps only the few dimensions that "
            "pay for themselves and lets the rest collapse onto the prior (posterior "
            "collapse); the decoder learns to ignore them."),
        edits=(
            Edit(cell="beta-sweep",
                 old="confidence=float(confidence(net.decode(z))[0].mean())))",
                 new=("confidence=float(confidence(net.decode(z))[0].mean()),\n"
                      "                         active=int(np.sum(np.var(net.encode(x_test_bin),"
                      " axis=0) > 0.01))))")),
            Edit(cell="beta-sweep", old="sample confidence {row['confidence']:.2f}\")",
                 new="sample confidence {row['confidence']:.2f}; active units {row['active']}\")"),
        ),
        rerun=("beta-sweep",),
        check="ex4-check",
    ),
]
