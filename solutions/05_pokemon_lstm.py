"""Worked solutions of the exercises of notebooks/05_pokemon_lstm.ipynb.

Each ``Solution`` edits the notebook's own cells (``Edit``: an exact piece of text replaced
in the cell with that id) and names the cells to re-run; ``python -m
coursekit.tools.exercises --solve 05_pokemon_lstm all`` writes the solved notebook.
"""

from coursekit.tools.exercises import Edit, Solution

SOLUTIONS = [
    Solution(
        exercise=1,
        explanation=(
            "The NLL in bits is the length of the code an arithmetic coder driven by the model "
            "would write (to within a couple of bits per sprite): about 400 × NLL / ln 2 bits "
            "per sprite. Storing the 400 palette indices plainly costs 400 · log2 167 ≈ 2,950 "
            "bits; gzip, which finds repeated byte strings (runs of background, repeated "
            "rows), does much better, and the LSTM, which predicts each pixel from all the "
            "pixels before it, better still. A better likelihood is a shorter file: that is "
            "why the likelihood is the honest score of such a model."),
        edits=(
            Edit(cell="nll-map", old="lstm_map = lstm_nll\n",
                 new="import gzip\n\nlstm_map = lstm_nll\n"),
            Edit(cell="nll-map", old="names = list(results)\n",
                 new="gzip_bits = 8 * len(gzip.compress(test_seqs.astype(np.uint8).tobytes())) "
                     "/ test_seqs.size\n"
                     "results[\"gzip\"] = {\"nll_nats\": gzip_bits * np.log(2), "
                     "\"bits_per_pixel\": gzip_bits}\n"
                     "print(f\"bits per test sprite: LSTM "
                     "{400 * results['LSTM']['bits_per_pixel']:.0f}, gzip \"\n"
                     "      f\"{400 * gzip_bits:.0f}, 400 indices of log2 167 bits "
                     "{400 * np.log2(167):.0f}\")\n"
                     "names = list(results)\n"),
        ),
        rerun=("nll-map",),
        check="check-05-1",
    ),
    Solution(
        exercise=2,
        explanation=(
            "The colour count climbs steeply between T = 0.5 (a few colours, nearly all "
            "background) and T = 1 (confetti after a short training): a temperature a little "
            "below 1 draws as many colours per sprite as the test sprites have. Yet at that "
            "temperature the background share is still far above the test sprites', so no "
            "single temperature matches both. The likelihood itself is best near T = 1 (with "
            "the logits divided by 0.9 or 1.1 the validation NLL is higher): per pixel the "
            "model is calibrated, and the mismatch comes from drawing 400 pixels in a row, "
            "each one conditioned on the model's own earlier draws rather than on real "
            "pixels."),
        edits=(Edit(
            cell="temperature-sweep",
            old="sweep = {t: sample(model, N_SAMPLES, temperature=t, seed=sweep_seed) "
                "for t in SWEEP_TEMPERATURES}",
            new="temperatures = sorted({*SWEEP_TEMPERATURES,\n"
                "                       *(round(0.6 + 0.025 * k, 3) for k in range(16))})\n"
                "sweep = {t: sample(model, N_SAMPLES, temperature=t, seed=sweep_seed) "
                "for t in temperatures}"),),
        rerun=("temperature-sweep",),
        check="check-05-2",
    ),
    Solution(
        exercise=3,
        explanation=(
            "Dividing the logits by 0.7 sharpens every next-pixel distribution, so the most "
            "likely colour wins more often, and after a white pixel that is white again: the "
            "completions fill far more of the hidden part with background than the real "
            "sprites have there. They become plainer, not closer to the real sprite; as T "
            "goes to 0 they tend to the single greedy continuation, as empty as section 5's "
            "greedy sprite. Sharpening each step does not give a more typical whole image."),
        edits=(Edit(cell="completions",
                    old="done = complete(model, prompts, covered=covered, temperature=1.0,",
                    new="done = complete(model, prompts, covered=covered, temperature=0.7,"),),
        rerun=("completions",),
        check="check-05-3",
    ),
    Solution(
        exercise=4,
        explanation=(
            "A counting model without smoothing gives a transition it never saw in training a "
            "probability of about 1e-9 / (count of the context), which costs over 20 nats: "
            "several such pixels per sprite outweigh everything the counts got right. Smoothing "
            "(add-alpha, alpha chosen on the validation sprites) keeps some probability for "
            "every colour; the LSTM's softmax never gives exactly zero either."),
        edits=(Edit(cell="test-likelihood",
                    old="baselines = pokemon_lstm.fit_baselines(train_seqs, val_seqs)",
                    new="baselines = pokemon_lstm.fit_baselines(train_seqs, val_seqs, "
                        "alphas=(1e-9,))"),),
        rerun=("test-likelihood",),
        check="check-05-4",
    ),
    Solution(
        exercise=5,
        explanation=(
            "The LSTM sees the pixel above only as something 20 steps back in its state; the "
            "above-pixel baseline sees it directly. A mixture keeps the LSTM's prediction and "
            "moves a little probability to the colours that sit under the pixel above, which "
            "is cheap insurance wherever the LSTM is confidently wrong. The weight is chosen "
            "on the validation sprites (w = 0 is among the candidates, so the mixture cannot "
            "be chosen worse than the LSTM there); the test sprites only score it."),
        edits=(Edit(
            cell="test-likelihood",
            old="lstm_lp = pokemon_lstm.log_probs(model, test_seqs)\n",
            new="lstm_lp = pokemon_lstm.log_probs(model, test_seqs)\n"
                "\n\n"
                "def mixture(lp_lstm, lp_above, w):\n"
                "    # log((1 - w) p_LSTM + w p_above), computed in logs\n"
                "    return np.logaddexp(np.log1p(-w) + lp_lstm, np.log(w) + lp_above) if w "
                "else lp_lstm\n"
                "\n\n"
                "above_baseline = baselines[\"above pixel\"]\n"
                "val_lstm, val_above = (pokemon_lstm.log_probs(model, val_seqs),\n"
                "                       above_baseline.log_probs(val_seqs))\n"
                "w_mix = min((0.0, 0.05, 0.1, 0.2, 0.3), key=lambda w: pokemon_lstm."
                "nll_and_accuracy(\n"
                "    mixture(val_lstm, val_above, w), val_seqs)[\"nll_nats\"])\n"
                "results[\"LSTM + above mixture\"] = pokemon_lstm.nll_and_accuracy(\n"
                "    mixture(lstm_lp, above_baseline.log_probs(test_seqs), w_mix), test_seqs)\n"
                "print(f\"mixture with the above-pixel baseline, w = {w_mix} (chosen on "
                "validation): \"\n"
                "      f\"{results['LSTM + above mixture']['nll_nats']:.3f} nats/pixel\")\n"),),
        rerun=("test-likelihood",),
        check="check-05-5",
    ),
]
