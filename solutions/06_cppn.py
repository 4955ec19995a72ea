"""Worked solutions of the exercises of notebooks/06_cppn.ipynb.

Each ``Solution`` edits the notebook's own cells (``Edit``: an exact piece of text replaced
in the cell with that id) and names the cells to re-run; ``python -m
coursekit.tools.exercises --solve 06_cppn all`` writes the solved notebook.
"""

from coursekit.tools.exercises import Edit, Solution

SOLUTIONS = [
    Solution(
        exercise=1,
        explanation=(
            "Multiplying the coordinates by 8 shows the network on a window of the plane 8 "
            "times wider: the same function, zoomed out, so the features that filled the "
            "image become eight times smaller and many more of them fit in. The 64×64 image "
            "changes several times faster from one pixel to the next (a 64-pixel image can "
            "barely resolve the new detail; the 1024×1024 render shows it). The subsampling "
            "checks still hold: the image is still a function of continuous coordinates, "
            "only of a wider window of them."),
        edits=(Edit(cell="resolution", old="    return net(x, y, d, z_fixed)",
                    new="    return net(8 * x, 8 * y, 8 * d, z_fixed)"),),
        rerun=("resolution",),
        check="check-06-1",
    ),
    Solution(
        exercise=2,
        explanation=(
            "With independent N(0, I) keys, z = w_a z_a + w_b z_b has variance w_a² + w_b² "
            "times the prior's. On the straight line that is (1 - s)² + s², which falls to "
            "1/2 halfway: the frames between two keys are drawn from a z about 0.7 times as "
            "long as a typical one, a region the prior rarely visits. Here z only shifts the "
            "first layer's biases, so the GIF still moves smoothly; for a trained generator "
            "(notebooks 02-04), whose z's come from the prior, such atypical z's give "
            "atypical samples (White 2016). The cos/sin weights keep cos² + sin² = 1 on every "
            "frame."),
        edits=(Edit(cell="animation",
                    old="        wa, wb = np.cos(t), np.sin(t)  # the weights of the two keys",
                    new="        wa, wb = 1 - t / (np.pi / 2), t / (np.pi / 2)  # the straight "
                        "line"),),
        rerun=("animation",),
        check="check-06-2",
    ),
    Solution(
        exercise=3,
        explanation=(
            "The Gaussian of x takes the same value at x and -x, and y and d = √(x² + y²) do "
            "too, so every input of the first layer, and therefore everything the network "
            "computes from them, is the same at (x, y) and (-x, y): all six images become "
            "mirror-symmetric about the vertical axis x = 0, whatever the activation of the "
            "later layers. This is how a Gaussian node on x gives Picbreeder's images their "
            "bilateral symmetry: composed functions compose their regularities."),
        edits=(Edit(cell="activations", old="v=variant: v(x, y, d, z)",
                    new="v=variant: v(cppn.activation(\"gaussian\")(x), y, d, z)"),),
        rerun=("activations",),
        check="check-06-3",
    ),
    Solution(
        exercise=4,
        explanation=(
            "The first child is now a copy of the first selected parent, so a generation "
            "always contains what the user picked, as the GA's elite does. A user who breeds "
            "one image repeatedly never loses it to fourteen worse variations and needs Undo "
            "less; the price is one child fewer that explores."),
        edits=(Edit(cell="crossover-breed",
                    old="    children = []\n    for _ in range(n):",
                    new="    children = [parents[0].copy()]  # elitism: the first parent, "
                        "unchanged\n    for _ in range(n - 1):"),),
        rerun=("crossover-breed",),
        check="check-06-4",
    ),
    Solution(
        exercise=5,
        explanation=(
            "A split replaces the connection a -> b (weight w) by a -> new (weight 1) and "
            "new -> b (weight w). With the identity activation the new node passes its input "
            "on unchanged, so b receives w·a as before and the image is the same: the "
            "mutation only adds structure that later mutations (a new activation, new "
            "weights) can use. NEAT's sigmoid nodes only approximate this. For a breeder it "
            "would waste children: an add-node child looks exactly like its parent, so a "
            "person sees fewer new pictures per generation."),
        edits=(Edit(cell="mutations",
                    old="genome.nodes[node] = NodeGene(node, \"hidden\", "
                        "str(rng.choice(EVOLVED_ACTIVATIONS)))",
                    new="genome.nodes[node] = NodeGene(node, \"hidden\", \"identity\")"),),
        rerun=("mutations",),
        check="check-06-5",
    ),
]
