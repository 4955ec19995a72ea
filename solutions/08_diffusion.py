"""Worked solutions of notebook 08_diffusion's exercises (see solutions/README.md)."""

from coursekit.tools.exercises import Edit, Solution

SOLUTIONS = [
    Solution(
        exercise=1,
        explanation=(
            "With σ_t² = β_t the weight is λ_t = β_t / (2 α_t (1 − ᾱ_t)). The cosine schedule "
            "clips β_T at 0.999, so α_T = 0.001 and λ_T ≈ 500, while its first steps have tiny "
            "β_t: λ_2 / λ_T falls from the linear schedule's 26.7 to about 5e-4. L_simple sets "
            "every λ_t to 1, so it never sees that weight; a model trained on the true bound "
            "with this schedule would spend most of its effort on the last, almost pure-noise "
            "step."),
        edits=(Edit(cell="exercise-1-check", old="exercise_schedule = schedule",
                    new="exercise_schedule = cosine"),),
        rerun=("exercise-1-check",),
        check="exercise-1-check",
    ),
    Solution(
        exercise=2,
        explanation=(
            "At the top step the guess is mostly the network's error magnified 20,000-fold "
            "(section 5), so the fixed clip turns nearly every pixel into ±1: a binary image of "
            "noise. Dividing by the 99.5th percentile s keeps the pixels' relative values; only "
            "the 0.5% above s end at ±1. Lower down the guesses lie nearly in range, s = 1, and "
            "nothing changes. Saharia et al. need it for large guidance weights, which push the "
            "guess out of range at every step: compare section 6's rows at the largest w."),
        edits=(Edit(cell="ddim-step",
                    old="        x0 = np.clip(x0, -1.0, 1.0)\n",
                    new="        axes = tuple(range(1, x0.ndim))  # each image's own s\n"
                        "        s = np.maximum(np.percentile(np.abs(x0), 99.5, axis=axes, "
                        "keepdims=True), 1.0)\n"
                        "        x0 = np.clip(x0, -s, s) / s\n"),),
        rerun=("ddim-step", "exercise-2-check"),
        check="exercise-2-check",
    ),
    Solution(
        exercise=3,
        explanation=(
            "Square an even grid on [0, 1] before scaling it to [0, T − 1]: τ_i = (i / (S − 1))² "
            "(T − 1). Half of the grid lies below 1/2, so half of the steps land below "
            "(T − 1)/4. `np.unique` still removes repeats (none for S = 20, T = 1,000), and the "
            "order stays top-down."),
        edits=(Edit(cell="samplers",
                    old="np.round(np.linspace(0, T - 1, steps))",
                    new="np.round(np.linspace(0, 1, steps) ** 2 * (T - 1))"),),
        rerun=("samplers", "exercise-3-check"),
        check="exercise-3-check",
    ),
    Solution(
        exercise=4,
        explanation=(
            "Run eq. 12 with η = 0 upwards: from the current point (ᾱ = 1 for the image itself) "
            "take ε̂ at the current step, guess x̂_0, and jump to the next visited step. Each "
            "jump assumes ε̂ barely changes between neighbouring steps, the same approximation "
            "the sampler makes going down, so with 50 steps the round trip returns the digits "
            "almost exactly; the codes look like noise with a faint digit in it (ᾱ ≈ 0.09 at "
            "t = 800). Climbing on to T fails: the last jump multiplies the difference between "
            "two ε̂ by √(ᾱ_τ'/ᾱ_T) ≈ 600, and the way down cannot undo it."),
        edits=(Edit(cell="exercise-4-invert",
                    old="    # replace: climb ddim_steps(top + 1, steps) from t = 0 (its last "
                        "entry) to top\n"
                        "    return ck.rng(\"exercise 4 guess\").standard_normal(np.shape(x0))  "
                        "# a random code for now",
                    new="    ab = model.schedule.alpha_bars\n"
                        "    x, a, t = np.asarray(x0, np.float64), 1.0, 0\n"
                        "    for tau in ddim_steps(top + 1, steps)[::-1]:  # upwards: 0 ... top\n"
                        "        eps = model.predict_noise(x, t)\n"
                        "        x0_hat = (x - np.sqrt(1 - a) * eps) / np.sqrt(a)\n"
                        "        x = np.sqrt(ab[tau]) * x0_hat + np.sqrt(1 - ab[tau]) * eps\n"
                        "        a, t = ab[tau], tau\n"
                        "    return x"),),
        rerun=("exercise-4-invert", "exercise-4-check"),
        check="exercise-4-check",
    ),
]
