"""Worked solutions of the exercises of notebooks/01_autoencoders.ipynb (solutions/README.md)."""

from coursekit.tools.exercises import Edit, Solution

SOLUTIONS = [
    Solution(
        exercise=1,
        explanation=(
            "With one neighbour the vote is a single training code, and in a 2-D code the "
            "digits' clusters overlap: wherever two classes meet, the nearest code is often "
            "of the wrong digit. Ten neighbours average that noise away, so the 1-NN accuracy "
            "falls by several points (and so does PCA's, whose code overlaps even more)."),
        edits=(Edit(cell="ae2-codes", old="KNeighborsClassifier(10)",
                    new="KNeighborsClassifier(1)"),),
        rerun=("ae2-codes",),
        check="ex1-check",
    ),
    Solution(
        exercise=2,
        explanation=(
            "A Gaussian fitted to the codes puts its draws where the codes are dense, instead "
            "of spreading them over the empty corners and gaps of the box, so far fewer "
            "decode to smudges. It is still not a model of the codes: the classes form arms "
            "and clusters that one Gaussian cannot follow, and nothing in training made the "
            "codes Gaussian. The VAE (notebook 02) trains the encoder so that they are."),
        edits=(Edit(
            cell="random-codes",
            old=('    """n codes drawn uniformly from the box that contains the test codes."""\n'
                 '    return rng.uniform(codes_2d.min(0), codes_2d.max(0), size=(n, 2))'
                 '.astype("float32")'),
            new=('    """n codes drawn from a Gaussian fitted to the test codes."""\n'
                 '    return rng.multivariate_normal(codes_2d.mean(0), np.cov(codes_2d.T),\n'
                 '                                   size=n).astype("float32")')),),
        rerun=("random-codes",),
        check="ex2-check",
    ),
    Solution(
        exercise=3,
        explanation=(
            "Blur is what the squared error does with uncertainty: it averages the plausible "
            "images. A decoder that is less uncertain about where the strokes are, here the "
            "convolutional one with half the error, averages over fewer of them, so fewer "
            "pixels are grey. It is still blurrier than the originals: the loss is the same."),
        edits=(Edit(cell="blur", old="recon_30 = ae30.predict(x_test",
                    new="recon_30 = conv.predict(x_test"),),
        rerun=("blur",),
        check="ex3-check",
    ),
    Solution(
        exercise=4,
        explanation=(
            "The noise's own error nearly doubles from 0.5 to 0.8, and the denoiser's grows too "
            "(by about half here): it learnt what digits look like, so it still maps most "
            "noisy images back onto clean digits, but noise it never saw leaves more behind. "
            "The plain autoencoder, which never saw noise at all, stays far behind it (the "
            "cell's assertion)."),
        edits=(Edit(cell="conv-denoising", old='normal(0, 0.5, x_test.shape)',
                    new='normal(0, 0.8, x_test.shape)'),),
        rerun=("conv-denoising",),
        check="ex4-check",
    ),
]
