"""Worked solutions of 03_gan's exercises (``python -m coursekit.tools.exercises``)."""

from coursekit.tools.exercises import Edit, Solution

SLERP = '''def slerp(z0, z1, steps=10):
    """Codes on the great circle from z0 to z1 (White 2016), norms kept."""
    cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    t = np.linspace(0.0, 1.0, steps)[:, None]
    path = (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
    return path.astype(np.float32)


paths = [slerp(z_ends[2 * i], z_ends[2 * i + 1], 10) for i in range(4)]
'''

SOLUTIONS = [
    Solution(
        exercise=1,
        explanation=(
            "With $p_g = \\mathcal{N}(2, 1.5^2)$ both densities peak at $x = 2$, where "
            "$D^* = p_\\text{data} / (p_\\text{data} + p_g) \\approx 0.75$; away from it the "
            "narrow data density falls much faster than $p_g$, so $D^* \\to 0$ on *both* "
            "sides. The optimal discriminator is not a threshold on $x$: it is a ratio of "
            "densities, and the trained $D$ follows it."),
        edits=(Edit(cell="proposition-1", old="G_MEAN, G_STD = 1.0, 0.8",
                    new="G_MEAN, G_STD = 2.0, 1.5"),),
        rerun=("proposition-1",),
        check="exercise-1-check",
    ),
    Solution(
        exercise=2,
        explanation=(
            "G's minimax loss $\\log(1 - D(G(z)))$ has slope $-D(G(z))$ in $D$'s logit. At the "
            "start $D$ (trained $k = 5$ times per $G$ step) rejects $G$'s samples: $D(G(z))$ "
            "is small, and so is $G$'s gradient, where the non-saturating loss's slope "
            "$1 - D(G(z))$ is near 1. After the first epoch $p_g$'s mean is still near 0.7, "
            "against about 1.7 with the non-saturating loss. Once $G$'s samples "
            "overlap the data, $D(G(z))$ grows, the gradient with it, and both losses reach "
            "the same fixed point, as the paper says."),
        edits=(Edit(cell="toy-gan", old="noise_dim=1, k=5)",
                    new='noise_dim=1, k=5, generator_loss="saturating")'),
               Edit(cell="toy-gan", old='name="03_gan/toy"', new='name="03_gan/toy-saturating"')),
        rerun=("toy-gan",),
        check="exercise-2-check",
    ),
    Solution(
        exercise=3,
        explanation=(
            "In 100 dimensions two noise vectors are nearly orthogonal, so the straight "
            "line's midpoint has norm about $1/\\sqrt 2$ of theirs. Spherical interpolation "
            "moves along the great circle: with $\\Omega \\approx 90°$ the norm at $t$ is about "
            "$\\sqrt{\\cos^2(t\\Omega)\\lVert z_0\\rVert^2 "
            "+ \\sin^2(t\\Omega)\\lVert z_1\\rVert^2}$, "
            "between the two ends' norms, so every code on the path looks like a draw "
            "of $p_z$."),
        edits=(Edit(cell="interpolation",
                    old="paths = [viz.interpolate(z_ends[2 * i], z_ends[2 * i + 1], 10) "
                        "for i in range(4)]\n",
                    new=SLERP),),
        rerun=("interpolation",),
        check="exercise-3-check",
    ),
    Solution(
        exercise=4,
        explanation=(
            "Pointwise, $D$ now maximises $a\\,(0.9 \\log y + 0.1 \\log(1 - y)) + b \\log(1 - y)$ "
            "with $a = p_\\text{data}(x)$, $b = p_g(x)$; setting the derivative "
            "$0.9a/y - (0.1a + b)/(1 - y)$ to zero gives $y = 0.9\\,a / (a + b)$. The smoothed "
            "$D$ never exceeds 0.9, so it cannot become extremely confident on real data, "
            "which is the point of the trick."),
        edits=(
            Edit(cell="gan-losses",
                 old="    return -(ops.mean(ops.log_sigmoid(real)) + "
                     "ops.mean(ops.log_sigmoid(-fake)))",
                 new="    real_term = 0.9 * ops.log_sigmoid(real) + 0.1 * ops.log_sigmoid(-real)\n"
                     "    return -(ops.mean(real_term) + ops.mean(ops.log_sigmoid(-fake)))"),
            Edit(cell="proposition-1",
                 old="    return p_data / np.maximum(p_data + p_g, 1e-300)",
                 new="    return 0.9 * p_data / np.maximum(p_data + p_g, 1e-300)"),
        ),
        rerun=("gan-losses", "proposition-1"),
        check="exercise-4-check",
    ),
]
