"""Worked solutions of 04_infogan's exercises (``python -m coursekit.tools.exercises``)."""

from coursekit.tools.exercises import Edit, Solution

MONTE_CARLO = '''
# Lemma 5.1: score log Q on the code that produced x; no posterior sampling needed
mc_rng = ck.rng("lemma 5.1")
codes = mc_rng.choice(4, size=100_000, p=p_c)                       # c ~ P(c)
draws = mc_rng.random((100_000, 1))
observed = (channel[codes].cumsum(1) > draws).argmax(1)             # x ~ P(x | c)
mc_bound = float(np.log(posterior[codes, observed]).mean()) + entropy_c
print(f"Monte Carlo L_I {mc_bound:.4f}, exact I(c; x) {exact_mi:.4f}")
'''

READ_BACK = '''
given = np.repeat(np.arange(10), EVAL_PER_CATEGORY)
fed = model.generate(latent=category_latents(model, EVAL_PER_CATEGORY, "by category"))
read_back = float((model.q_outputs(fed)[:, :10].argmax(1) == given).mean())
print(f"Q reads back the category G was given for {read_back:.1%} of generated images")
'''

SOLUTIONS = [
    Solution(
        exercise=1,
        explanation=(
            "With a large Dirichlet concentration every row of $P(x \\mid c)$ is close to "
            "uniform, so $P(c \\mid x) \\approx P(c)$ for every $x$ and $I(c; x)$ drops to "
            "about 0.01 nats. The bound's two properties do not depend on the channel: it is "
            "still tight at the posterior and lower for every other $Q$."),
        edits=(Edit(cell="bound-check", old="np.full(6, 0.5)", new="np.full(6, 50.0)"),),
        rerun=("bound-check",),
        check="exercise-1-check",
    ),
    Solution(
        exercise=2,
        explanation=(
            "For a continuous code $-\\log Q$ is a Gaussian negative log-density, "
            "$\\tfrac12\\log 2\\pi + \\log\\sigma$ when the mean is exact: with "
            "$\\log\\sigma = -3$ that is about $-2.08$, and the bound is "
            "$\\ln 2 + 2.08 \\approx 2.77$ nats, far above $H(c_2) = \\ln 2$. A density can "
            "exceed 1, so the term has no ceiling: by narrowing its Gaussian $Q$ can make "
            "$\\lambda L_I$ dominate the GAN loss, which is why continuous codes get a "
            "smaller $\\lambda$."),
        edits=(Edit(cell="latent-demo",
                    old="perfect_q = np.concatenate([np.asarray(cat) * 50.0, np.zeros((6, 4))], 1)",
                    new="perfect_q = np.concatenate([np.asarray(cat) * 50.0, np.asarray(c2),\n"
                        + " " * 28 + "np.full((6, 1), -3.0), np.zeros((6, 2))], 1)"),),
        rerun=("latent-demo",),
        check="exercise-2-check",
    ),
    Solution(
        exercise=3,
        explanation=(
            "Drawing $c$ from the prior and $x$ from the channel gives pairs with the joint "
            "law $P(c, x)$, so the average of $\\log P(c \\mid x)$ over them estimates "
            "$\\mathbb{E}[\\log P(c \\mid x)] = -H(c \\mid x)$ without ever sampling the "
            "posterior; adding $H(c)$ gives $I(c; x)$ up to Monte Carlo noise (a few "
            "thousandths of a nat at $n = 100{,}000$). InfoGAN's training loss is this "
            "estimator, with $Q$ in place of the posterior."),
        edits=(Edit(cell="bound-check",
                    old='ck.check(exact_mi, "<=", entropy_c, "I(c; x) itself is at most H(c)")',
                    new='ck.check(exact_mi, "<=", entropy_c, "I(c; x) itself is at most H(c)")\n'
                        + MONTE_CARLO.rstrip("\n")),),
        rerun=("bound-check",),
        check="exercise-3-check",
    ),
    Solution(
        exercise=4,
        explanation=(
            "The information term trains $Q$ to recover, from $G$'s images, the category $G$ "
            "was given: that is what it does best, even after short training, when the images "
            "are still blobs and $Q$ sorts real digits barely better than chance. Reading "
            "real digits needs more: that $G$'s categories have become digit classes, and "
            "that $Q$ transfers from generated to real images."),
        edits=(Edit(cell="codes-learned",
                    old="(gen_acc, gen_map), gen_labels = generated_accuracy(model)\n",
                    new="(gen_acc, gen_map), gen_labels = generated_accuracy(model)" + READ_BACK),),
        rerun=("codes-learned",),
        check="exercise-4-check",
    ),
]
