"""The results page, ``results/README.md``, built from the committed benchmark reports.

    python -m coursekit.tools.results           # or: make results   (writes the page)
    python -m coursekit.tools.results --check   # exit 1 when the page or a report is stale

Results are data: each measurement is one JSON file in ``results/reports/``, written by the
benchmark command (``coursekit.tools.bench``: machine, ``date``, ``commit``, seed, profile,
load average, the benchmark's metrics under its key convention), so a new measurement is a new
file and never an edit of a page. This module reads every report and writes one page: per
benchmark, a table with one row per report (date, commit, seed, profile, machine and load,
the headline quality figures, wall time, throughput, a link to the JSON), and, for reports of
the same code and profile on several seeds (same ``commit``, or same ``series`` for reports
transcribed from the README's history), the mean ± sample standard deviation over the seeds.
Above the benchmarks, a chart (``fid-vs-training-cpu.svg``, drawn by ``svg_chart``) and its
table put the sample-quality of 03's DCGAN, 07's WGAN-GPs and 08's diffusion model against
the CPU time of their training, from the newest code's reports. ``make test`` runs
``--check``, which fails, naming the file, when the committed page or chart differs from
what the reports give, or when a report lacks what makes it comparable (``problems``).

Reports transcribed from the README's history (measured before reports were kept) say so in
``source``; their ``commit`` is null where the measured commit is unknown, and
``recorded_in`` names the commit (and its date) that first recorded the figures, so their date
shows as "≤ that date". Columns: ``HEADLINES``; a benchmark without an entry gets a column for
every number it reports.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

from ..benchmarks.diffusion_guidance import scale_key
from ..topics.diffusion import BUDGET as DIFFUSION_BUDGET

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "results" / "reports"
PAGE = ROOT / "results" / "README.md"
CHART = "fid-vs-training-cpu.svg"  # next to the page
XLA_PAYS = 1.05  # XLA counts as faster from this speedup on (rounds differ by a few percent)

# The chart "FID against training CPU time": per model (legend label, benchmark, FID key path,
# training CPU-seconds key path), every cpu-profile report that has both.
CHART_SERIES = [
    ("DCGAN (03)", "gan", ("fid",), ("train_cpu_seconds",)),
    ("WGAN-GP (07)", "wgan_conditional", ("wgan_gp", "fid"), ("wgan_gp", "train_cpu_seconds")),
    ("conditional WGAN-GP (07)", "wgan_conditional", ("conditional", "fid"),
     ("conditional", "train_cpu_seconds")),
    ("diffusion (08)", "diffusion", ("unconditional", "fid"), ("train_cpu_seconds",)),
    ("diffusion, guided (08)", "diffusion", ("guided", "fid"), ("train_cpu_seconds",)),
]

# Per benchmark: the quality columns and the throughput columns, each (label, key path, format).
HEADLINES: dict[str, tuple[list, list]] = {
    "autoencoders": ([("30-D AE test error", ("dense_30", "test_sse"), "f2"),
                      ("PCA", ("pca_30_sse",), "f2"),
                      ("conv AE", ("conv_30", "test_sse"), "f2"),
                      ("100 labels: codes", ("few_label_accuracy", "codes_30d"), "pct"),
                      ("pixels", ("few_label_accuracy", "pixels"), "pct")],
                     [("dense images/s", ("dense_30", "train_images_per_s"), "int"),
                      ("conv images/s", ("conv_30", "train_images_per_s"), "int")]),
    "vae": ([("test NLL (IWAE), nats", ("test_nll_iwae_nats",), "f2"),
             ("K", ("iwae_k",), "int"),
             ("ELBO", ("test_elbo_nats",), "f2"),
             ("KL", ("test_kl_nats",), "f2")],
            [("images/s", ("train_images_per_s",), "int")]),
    "gan": ([("DCGAN FID", ("fid",), "f1"),
             ("VAE FID", ("vae", "fid"), "f1"),
             ("real data, same n", ("fid_real_data_same_n",), "f2"),
             ("smallest class", ("min_class_fraction",), "pct"),
             ("fit / bare loop", ("coursekit_relative_to_bare",), "f3")],
            [("images/s", ("train_images_per_s",), "int")]),
    "infogan": ([("Q accuracy, real digits", ("q_test_accuracy",), "pct"),
                 ("Q accuracy change", ("q_test_accuracy_gain",), "pp"),
                 ("generated, per category", ("generated_accuracy",), "pct"),
                 ("categorical MI bound, nats", ("mi_estimates_final", "categorical"), "f3"),
                 ("FID", ("fid",), "f2"),
                 ("real data, same n", ("fid_real_data_same_n",), "f2"),
                 ("steps", ("steps",), "int"), ("batch", ("batch",), "int")],
                [("images/s", ("train_images_per_s",), "int")]),
    "pokemon_lstm": ([("test NLL, nats/pixel", ("lstm", "test", "nll_nats"), "f3"),
                      ("accuracy", ("lstm", "test", "accuracy"), "pct"),
                      ("with the pixel above", ("lstm_above", "test", "nll_nats"), "f3"),
                      ("previous pixel", ("baselines", "previous pixel", "nll_nats"), "f2"),
                      ("units", ("lstm", "units"), "int")],
                     [("sequences/s", ("lstm", "train_sequences_per_s"), "f1")]),
    "cppn": ([("CPPN-GAN FID", ("gan", "fid"), "f1"),
              ("untrained", ("gan", "fid_untrained"), "f1"),
              ("GAN steps", ("gan", "steps"), "int"),
              ("1024² render, s", ("render_1024_seconds",), "f2"),
              ("share of sgemm peak", ("share_of_peak",), "pct"),
              ("breeder generation, ms", ("breeder_generation_ms_median",), "f0"),
              ("GA genomes/s", ("ga_genomes_per_s",), "f0")],
             [("render Mpx/s", ("render_megapixels_per_s",), "f2")]),
    "wgan_conditional": ([("WGAN-GP FID", ("wgan_gp", "fid"), "f1"),
                          ("smallest class", ("wgan_gp", "min_class_fraction"), "pct"),
                          ("Spearman W vs FID", ("wgan_gp", "spearman_w_vs_fid_after_epoch_1"),
                           "f3"),
                          ("train − held-out W, max", ("wgan_gp",
                                                       "max_relative_train_heldout_gap"), "pct"),
                          ("conditional accuracy", ("conditional", "accuracy"), "pct"),
                          ("conditional FID", ("conditional", "fid"), "f2"),
                          ("real data, same n", ("fid_real_data_same_n",), "f2")],
                         [("WGAN-GP images/s", ("wgan_gp", "train_images_per_s"), "int"),
                          ("conditional images/s", ("conditional", "train_images_per_s"),
                           "int")]),
    "diffusion": ([("schedule", ("schedule",), "schedule"),
                   ("unconditional FID", ("unconditional", "fid"), "f1"),
                   ("smallest class", ("unconditional", "min_class_fraction"), "pct"),
                   ("guided accuracy", ("guided", "accuracy"), "pct"),
                   ("guided FID", ("guided", "fid"), "f2"),
                   ("real data, guided n", ("guided", "fid_real_data_same_n"), "f2"),
                   ("w", ("guided", "guidance"), "f1"),
                   ("guided: η", ("sampler", "eta"), "f1"),
                   ("steps", ("sampler", "steps"), "int"),
                   ("unconditional: η", ("unconditional_sampler", "eta"), "f1"),
                   ("steps", ("unconditional_sampler", "steps"), "int"),
                   ("label dropout", ("label_dropout",), "f2"),
                   ("real data, same n", ("fid_real_data_same_n",), "f2"),
                   ("train CPU-s", ("train_cpu_seconds",), "f0")],
                  [("train images/s", ("train_images_per_s",), "int"),
                   ("sampled images/s", ("unconditional", "sample_images_per_s"), "f1")]),
    "diffusion_samplers": ([("schedule", ("schedule",), "schedule"),
                            ("S = 10", ("ddim_10", "fid"), "f1"),
                            ("S = 20", ("ddim_20", "fid"), "f1"),
                            ("S = 50", ("ddim_50", "fid"), "f1"),
                            ("S = 100", ("ddim_100", "fid"), "f1"),
                            ("20, x̂₀ clipped", ("ddim_20_clipped", "fid"), "f1"),
                            ("50, x̂₀ clipped", ("ddim_50_clipped", "fid"), "f1"),
                            ("20, unclipped", ("ddim_20_unclipped", "fid"), "f1"),
                            ("50, unclipped", ("ddim_50_unclipped", "fid"), "f1"),
                            ("η = 1, 50", ("eta_1_50", "fid"), "f1"),
                            ("η = 1, 100", ("eta_1_100", "fid"), "f1"),
                            ("η = 1, 200", ("eta_1_200", "fid"), "f1"),
                            ("labels, w = 0, 20", ("labels_w0_ddim_20", "fid"), "f1"),
                            ("smallest class, S = 20", ("ddim_20", "min_class_fraction"), "pct"),
                            ("smallest class, η = 1, 200", ("eta_1_200", "min_class_fraction"),
                             "pct"),
                            ("with labels", ("labels_w0_ddim_20", "min_class_fraction"), "pct"),
                            ("real data, same n", ("fid_real_data_same_n",), "f2"),
                            ("n", ("n_samples",), "int")],
                           [("sampled images/s, S = 20", ("ddim_20", "sample_images_per_s"),
                             "f1")]),
    "diffusion_guidance": ([("schedule", ("schedule",), "schedule")]
                           + [(f"w = {w:g}: accuracy" if w == 0 else f"{w:g}",
                             (scale_key(w), "accuracy"), "pct") for w in (0, 1, 2, 3, 4, 6, 8)]
                           + [(f"worst digit, w = {w:g}" if w == 2 else f"{w:g}",
                               (scale_key(w), "worst_digit_accuracy"), "pct") for w in (2, 4, 6, 8)]
                           + [(f"FID, w = {w:g}" if w == 0 else f"{w:g}", (scale_key(w), "fid"),
                               "f1") for w in (0, 2, 4, 6, 8)]
                           + [("real data, same n", ("fid_real_data_same_n",), "f2"),
                              ("n", ("n_samples",), "int"), ("η", ("sampler", "eta"), "f1"),
                              ("DDIM steps", ("sampler", "steps"), "int")],
                           [("sampled images/s, w = 4", ("w_4", "sample_images_per_s"), "f1")]),
    "notebooks": ([("notebook", ("notebook",), "str"),
                   ("from an empty cache", ("from_empty_cache",), "bool"),
                   ("asserts", ("asserts_passed",), "passed")], []),
}
ABOUT = {
    "sweep": "The seed sweep (`make seeds SEEDS=\"...\"`, `python -m coursekit.tools.sweep`): "
             "every notebook on each seed in a fresh cache; each `ck.check` claim with its "
             "value on each seed (✗: failed) and its smallest relative margin across the "
             "seeds (how far inside its bound, as a share of the bound).",
    "autoencoders": "01_autoencoders: test error, the squared error summed over an image's "
                    "pixels, averaged over the test images (Hinton & Salakhutdinov 2006: PCA "
                    "13.87, logistic PCA 8.01, deep AE 3.00).",
    "vae": "02_vae: importance-sampled NLL on the binarised MNIST test set (Burda et al. 86.76 "
           "after 3,280 passes).",
    "gan": "03_gan: Fréchet distance on the course classifier's features; the VAE's samples "
           "scored alike; `fit` against a bare `tf.function` loop on the same networks.",
    "infogan": "04_infogan: Q's matched accuracy on the 10,000 real test digits (paper: 95%); "
               "variants are diagnostics, each changing one thing. From commit e4a3295 the "
               "benchmark trains the official code's continuous codes (Q's standard "
               "deviation 1, λ = 1: `official_latent`); the rows before it, the paper's "
               "learned standard deviation with λ_cont = 0.1 (`paper_latent`).",
    "pokemon_lstm": "05_pokemon_lstm: held-out NLL per pixel against the baselines (uniform "
                    "5.12 nats).",
    "cppn": "06_cppn: rendering speed, the breeder's click-to-screen time, and the CPPN as a "
            "GAN generator.",
    "wgan_conditional": "07_wgan_conditional: WGAN-GP and the conditional WGAN-GP.",
    "diffusion": "08_diffusion: DDIM samples of the U-Net trained with the simple loss on the "
                 "noise schedule given (with the cosine one, from 2026-12-07, each guess x̂₀ is "
                 "clipped to [−1, 1]): "
                 "guided (classifier-free) at scale w and unconditional (the label hidden), "
                 "each with the η and DDIM steps given (where the unconditional ones are "
                 "missing, as the guided ones); the guided FID against real data at its own "
                 "n (5,000 in the cpu profile since 2026-12-07, 10,000 before).",
    "diffusion_samplers": "08_diffusion: samplers compared on the network one `diffusion` "
                          "run trained (same profile and seed), from the same x_T: FID of "
                          "the unconditional model by DDIM step count S (η = 0 unless "
                          "stated; x̂₀ clipped to [−1, 1] on the cosine schedule unless "
                          "stated, unclipped on the linear one unless stated), and the "
                          "conditional model "
                          "at w = 0 with labels drawn from the training frequencies.",
    "diffusion_guidance": "08_diffusion: the guidance scale w on the network one "
                          "`diffusion` run trained (same profile and seed), from the same x_T "
                          "and requested digits: the classifier's accuracy against the "
                          "request, overall and for the worst digit, and the FID of the "
                          "guided samples (DDIM with the η and steps given).",
    "xla": "Every notebook's model trained with Keras's `jit_compile=True` (XLA) and without, "
           "at the profile's sizes, alternating, best of the rounds, under TensorFlow's op "
           "determinism as the notebooks run (`ck.setup()`), and without it (the last three "
           "columns; determinism's time ×: how much longer a step takes with it); compile: "
           "XLA's first call beyond the plain first call; share of peak: the training step's "
           "floating-point operations (TensorFlow's profiler) per second over TensorFlow's "
           "float32 matmul rate; `auto` on a CPU: what `$COURSEKIT_XLA=auto` chooses "
           "(`coursekit.device.XLA_PAYS_ON_CPU`). Then the notebooks' other hot loops, each "
           "one `tf.function` without and with `jit_compile=True`; they stay without XLA: "
           "the two it speeds up take seconds of a cpu run of their notebook (05: about 36 "
           "sampler calls, 300 sprites, in a run of 10–40 minutes; 06: a dozen CPPN-GAN "
           "renders), and XLA's sampler draws other sprites than TensorFlow's from one seed.",
    "notebooks": "Notebooks executed top to bottom (`make notebooks`, or in JupyterLab): wall "
                 "time, and whether every assert passed.",
}
# What every report must say to be comparable; a null needs a ``<field>_note`` saying why.
REQUIRED = ("benchmark", "profile", "seed", "machine")
COMMON = {"benchmark", "variant", "profile", "profile_note", "seed", "seed_note", "date",
          "commit", "recorded_in", "series", "source", "as_written", "load_average", "machine",
          "notes", "precision", "wall_seconds", "wall_seconds_note", "wall_seconds_range",
          "method"}


def problems(report: dict) -> list[str]:
    """What a report lacks to be comparable (empty: nothing): machine, seed and profile (a
    null one with a ``<field>_note`` saying why), a date (``date``, or ``recorded_in.date``),
    a ``commit`` key (null outside a git checkout; a transcribed report with a null one names
    the commit that recorded it, ``recorded_in.commit``) and the load average."""
    found = [f"no {field!r}" for field in REQUIRED if field not in report]
    found += [f"{field!r} is null without a {field + '_note'!r}" for field in ("seed", "profile")
              if field in report and report[field] is None and not report.get(field + "_note")]
    recorded = report.get("recorded_in") or {}
    if not report.get("date") and not recorded.get("date"):
        found.append("no 'date' (nor 'recorded_in.date')")
    if "commit" not in report:
        found.append("no 'commit' (null where the commit is not known)")
    elif report["commit"] is None and not recorded.get("commit") and "source" in report:
        found.append("'commit' is null and no 'recorded_in.commit' says where it was recorded")
    if "load_average" not in report:
        found.append("no 'load_average'")
    return found


def load_reports(folder: Path = REPORTS) -> list[tuple[Path, dict]]:
    reports = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            reports.append((path, json.loads(path.read_text(encoding="utf-8"))))
        except json.JSONDecodeError as error:
            raise SystemExit(f"{path}: not valid JSON ({error}); fix or remove it") from None
    return reports


def value(report: dict, path: tuple):
    for key in path:
        if not isinstance(report, dict) or key not in report:
            return None
        report = report[key]
    return report


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def fmt(v, kind: str) -> str:
    if kind == "schedule":  # 08's reports before the cosine schedule do not name theirs
        return "linear" if v is None else str(v)
    if v is None:
        return "–"
    if kind == "bool":
        return "yes" if v else "no"
    if kind == "passed":
        return "passed" if v else "failed"
    if kind == "str" or not _number(v):
        return str(v)
    if kind == "pct":
        return f"{100 * v:.1f}%"
    if kind == "pp":
        return f"{100 * v:+.1f} points"
    if kind == "int":
        return f"{v:,.0f}"
    return f"{v:,.{int(kind[1:])}f}"


def fmt_spread(values: list, kind: str) -> str:
    """``mean ± sd`` (sample standard deviation) in the column's format; the value alone
    when every seed gave the same."""
    if len(set(values)) == 1:
        return fmt(values[0], kind)
    mean, sd = statistics.mean(values), statistics.stdev(values)
    if kind == "pct":
        return f"{100 * mean:.1f} ± {100 * sd:.1f}%"
    if kind == "pp":
        return f"{100 * mean:+.1f} ± {100 * sd:.1f} points"
    decimals = 0 if kind == "int" else int(kind[1:])
    return f"{mean:,.{decimals}f} ± {sd:,.{decimals}f}"


def _seconds(v) -> str:
    return f"{v:,.1f} s" if v < 10 else f"{v:,.0f} s"


def wall(report: dict) -> str:
    if _number(report.get("wall_seconds")):
        return _seconds(report["wall_seconds"])
    if report.get("wall_seconds_range"):
        low, high = report["wall_seconds_range"]
        return f"{low:,.0f}–{high:,.0f} s"
    return "–"


def machine_label(machine: dict) -> str:
    gpus = machine.get("gpus") or []
    cpu = machine.get("cpu_model") or machine.get("processor", "?")
    if "cpu_vector_flags" in machine:
        cpu += " (" + ("AVX-512" if "avx512f" in machine["cpu_vector_flags"] else
                       "AVX2" if "avx2" in machine["cpu_vector_flags"] else "no AVX2") + ")"
    parts = [f"{machine.get('cpu_count', '?')} cores {cpu}",
             ", ".join(map(str, gpus)) if gpus else "no GPU"]
    if machine.get("tensorflow"):
        parts.append(f"TF {str(machine['tensorflow']).split()[0]}")
    return ", ".join(parts)


def load_label(report: dict) -> str:
    load = report.get("load_average") or {}
    if "start" in load or "end" in load:
        ends = [f"{v[0]:.1f}" if v else "?" for v in (load.get("start"), load.get("end"))]
        return " → ".join(ends)
    return str(load.get("reported", "–"))


def date_label(report: dict) -> str:
    if report.get("date"):
        return str(report["date"])[:16].replace("T", " ")
    recorded = (report.get("recorded_in") or {}).get("date")
    return f"≤ {recorded[:10]}" if recorded else "?"


def commit_label(report: dict) -> str:
    commit = report.get("commit")
    if not commit:
        return "?"
    return commit[:7] + ("-dirty" if commit.endswith("-dirty") else "")


def note(report: dict) -> str:
    """What a reader must know about a row that its cells do not say."""
    parts = []
    if report.get("method"):
        parts.append(report["method"])
    for key in ("notes", "seed_note", "profile_note", "wall_seconds_note"):
        if report.get(key):
            parts.append(report[key] if key == "notes" else f"{key.split('_')[0]}: {report[key]}")
    parts += [f"{key}: {sub['notes']}" for key, sub in report.items()
              if isinstance(sub, dict) and sub.get("notes")]
    load = report.get("load_average") or {}
    if load.get("note"):
        parts.append(f"load: {load['note']}")
    if report.get("source"):
        recorded = (report.get("recorded_in") or {}).get("commit", "")
        parts.append(f"transcribed from README.md at {recorded[:7]}"
                     + ("" if report.get("commit") else "; measured commit unknown"))
    return "; ".join(parts)


def _generic_columns(reports: list[dict]) -> list:
    """A column for every number (or list of numbers) below the common fields."""
    paths: list[tuple] = []

    def walk(node, path):
        for key, v in node.items():
            if not path and key in COMMON:
                continue
            if isinstance(v, dict) and len(path) < 2:
                walk(v, (*path, key))
            elif (_number(v) or (isinstance(v, list) and v and all(map(_number, v)))) and (
                    (*path, key) not in paths):
                paths.append((*path, key))

    for report in reports:
        walk(report, ())
    return [(" ".join(p).replace("_", " "), p, "g") for p in paths]


def cell(report: dict, path: tuple, kind: str) -> str:
    v = value(report, path)
    if kind == "g":
        if isinstance(v, list):
            return " / ".join(f"{x:g}" for x in v)
        return "–" if v is None else f"{v:g}" if _number(v) else str(v)
    return fmt(v, kind)


def group_key(report: dict) -> tuple:
    """Reports of one code and profile: the same ``commit``, else (transcribed reports) the
    same ``series``, else the same commit that recorded them."""
    if report.get("series"):
        code = report["series"]
    elif report.get("commit"):
        code = f"commit {commit_label(report)}"  # a dirty tree is not its HEAD's code
    else:
        code = f"recorded in {(report.get('recorded_in') or {}).get('commit', '?')[:7]}"
    return (report.get("profile"), report.get("variant"), report.get("notebook"), code)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *map(line, rows)]


def benchmark_section(name: str, entries: list[tuple[Path, dict]], page_dir: Path) -> list[str]:
    reports = [r for _, r in entries]
    quality, speed = HEADLINES.get(name) or (_generic_columns(reports), [])
    columns = quality + speed
    variants = any(r.get("variant") for r in reports)
    header = ([*(["variant"] if variants else []), "date", "commit", "seed", "profile",
               "machine", "load"] + [label for label, _, _ in quality] + ["wall"]
              + [label for label, _, _ in speed] + ["report", "notes"])
    rows, notes = [], []
    for path, report in entries:
        text = note(report)
        if text and text not in notes:
            notes.append(text)
        link = os.path.relpath(path, page_dir).replace(os.sep, "/")
        rows.append([*([report.get("variant") or "–"] if variants else []), date_label(report),
                     commit_label(report), str(report.get("seed", "?")).replace("None", "–"),
                     str(report.get("profile")).replace("None", "–"),
                     machine_label(report.get("machine") or {}), load_label(report)]
                    + [cell(report, p, k) for _, p, k in quality] + [wall(report)]
                    + [cell(report, p, k) for _, p, k in speed]
                    + [f"[json]({link})", f"[{notes.index(text) + 1}]" if text else ""])
    lines = [f"## {name}", "", ABOUT.get(name, f"`{name}`: every number it reports."), "",
             *_table(header, rows), ""]
    lines += [f"{i}. {text}" for i, text in enumerate(notes, 1)] + ([""] if notes else [])

    groups: dict[tuple, list[dict]] = {}
    for report in reports:
        groups.setdefault(group_key(report), []).append(report)
    summary = []
    for (profile, variant, _notebook, code), members in groups.items():
        seeds = [m.get("seed") for m in members if m.get("seed") is not None]
        if len(set(seeds)) < 2:
            continue
        spread = []
        for _, path, kind in columns:
            values = [value(m, path) for m in members]
            if kind in ("str", "schedule"):  # a setting the seeds share, else –
                texts = {fmt(v, kind) for v in values}
                spread.append(texts.pop() if len(texts) == 1 else "–")
                continue
            values = [v for v in values if _number(v)]
            spread.append(fmt_spread(values, kind) if len(values) >= 2 and kind != "g"
                          else "–")
        walls = [m["wall_seconds"] for m in members if _number(m.get("wall_seconds"))]
        measured = [c for c, (_, _, kind) in zip(spread, columns, strict=True)
                    if kind not in ("str", "schedule")]
        if len(walls) < 2 and all(cell == "–" for cell in measured):
            continue  # nothing measured twice (e.g. asserts passed on several seeds)
        summary.append([*([variant or "–"] if variants else []), code, str(profile),
                        " / ".join(map(str, seeds))] + spread[:len(quality)]
                       + [fmt_spread(walls, "f0") + " s" if len(walls) >= 2 else "–"]
                       + spread[len(quality):])
    if summary:
        lines += ["Over seeds (same code and profile): mean ± sample standard deviation.", "",
                  *_table([*(["variant"] if variants else []), "code", "profile", "seeds"]
                          + [label for label, _, _ in quality] + ["wall"]
                          + [label for label, _, _ in speed], summary), ""]
    return lines


def _claim_value(seed: dict) -> str:
    value = seed.get("value")
    text = f"{value:.4g}" if _number(value) else str(value)
    return text if seed.get("passed") else f"**{text} ✗**"


def _runs_by_commit(report: dict) -> str:
    """An updated sweep (``sweep --update``): which notebooks ran at which commit."""
    by_commit: dict[str, list[str]] = {}
    for run in report.get("runs", []):
        names = by_commit.setdefault(commit_label(run), [])
        if run["notebook"][:2] not in names:
            names.append(run["notebook"][:2])
    return ("Updates " + str(report["updated_from"]) + "; runs by commit: " + "; ".join(
        f"{commit} ({', '.join(names)})" for commit, names in by_commit.items()) + ".")


def newest_per_profile(entries) -> tuple[dict[str, tuple[Path, dict]], list]:
    """(profile → newest (path, report), the older entries): the sections that show the
    newest report of each profile in full and link the rest."""
    newest: dict[str, tuple[Path, dict]] = {}
    for path, report in sorted(entries, key=lambda e: str(e[1].get("date"))):
        newest[str(report.get("profile"))] = (path, report)
    return newest, [(p, r) for p, r in entries if (p, r) not in newest.values()]


def earlier_links(label: str, older, page_dir: Path) -> list[str]:
    """One line linking the older reports (none: no line)."""
    if not older:
        return []
    return [f"{label}: " + ", ".join(
        f"[{date_label(r)} {r.get('profile')}]"
        f"({os.path.relpath(p, page_dir).replace(os.sep, '/')})" for p, r in older), ""]


def sweep_section(name: str, entries: list[tuple[Path, dict]], page_dir: Path) -> list[str]:
    """The seed sweeps (``coursekit.tools.sweep``): the newest one of each profile in full,
    every claim with its value on each seed and its smallest relative margin; older ones
    linked."""
    newest, older = newest_per_profile(entries)
    lines = ["## sweep", "", ABOUT.get(name, ""), ""]
    for profile, (path, report) in sorted(newest.items()):
        seeds = [str(s) for s in report.get("seeds", [])]
        link = os.path.relpath(path, page_dir).replace(os.sep, "/")
        runs = report.get("runs", [])
        failed = [f"{r['notebook']} seed {r['seed']}" for r in runs if not r["passed"]]
        lines += [f"### {profile} profile, seeds {', '.join(seeds)}", "",
                  f"{date_label(report)} · commit {commit_label(report)} · "
                  f"{machine_label(report.get('machine') or {})} · load {load_label(report)} · "
                  f"{wall(report)} · [json]({link}) · "
                  + (f"**failed: {', '.join(failed)}**" if failed else
                     f"every run passed ({len(runs)} runs)"), ""]
        if report.get("updated_from"):
            lines += [_runs_by_commit(report), ""]
        rows = []
        for claim in report.get("claims", []):
            by_seed = claim.get("seeds", {})
            relative = claim.get("min_relative_margin")
            bounds = {str(v.get("bound")) for v in by_seed.values()}
            rows.append([claim["notebook"][:2], claim["claim"], claim["op"],
                         bounds.pop() if len(bounds) == 1 else "varies",
                         *[_claim_value(by_seed[s]) if s in by_seed else "–" for s in seeds],
                         f"{100 * relative:.1f}%" if _number(relative) else "–"])
        lines += _table(["nb", "claim", "op", "bound", *[f"seed {s}" for s in seeds],
                         "smallest margin"], rows) + [""]
        errors = [f"- {r['notebook']} seed {r['seed']}, cell {e['cell']}: {e['error']}: "
                  f"{e['message'][:200]}" for r in runs for e in r.get("errors", [])]
        lines += (["Errors (a failed plain `assert` shows here):", "", *errors, ""]
                  if errors else [])
    return lines + earlier_links("Earlier sweeps", older, page_dir)


def _xla_choice(model: str) -> str:
    """What ``$COURSEKIT_XLA=auto`` does for ``model`` on a CPU."""
    from coursekit.device import XLA_PAYS_ON_CPU

    return "**XLA**" if model in XLA_PAYS_ON_CPU else "off"


def xla_section(name: str, entries: list[tuple[Path, dict]], page_dir: Path) -> list[str]:
    """The XLA measurements (``make bench NAME=xla``): the newest report of each profile in
    full, a row per model and per hot loop; older ones linked."""
    newest, older = newest_per_profile(entries)
    lines = [f"## {name}", "", ABOUT.get(name, ""), ""]
    for profile, (path, report) in sorted(newest.items()):
        peak = report.get("peak_gflops_per_s") or {}
        link = os.path.relpath(path, page_dir).replace(os.sep, "/")
        lines += [f"### {profile} profile, seed {report.get('seed')}", "",
                  f"{date_label(report)} · commit {commit_label(report)} · "
                  f"{machine_label(report.get('machine') or {})} · load {load_label(report)} · "
                  f"{wall(report)} · [json]({link}) · float32 matmul peak: TensorFlow "
                  f"{fmt(peak.get('tf_matmul'), 'f0')}, numpy {fmt(peak.get('numpy_matmul'), 'f0')}"
                  " GFLOP/s", ""]
        rows = []
        for model, row in (report.get("models") or {}).items():
            plain, xla = row.get("without_xla") or {}, row.get("with_xla") or {}
            fast = row.get("without_xla_nondeterministic") or {}
            fast_xla = row.get("with_xla_nondeterministic") or {}
            speedup = row.get("speedup")
            rows.append([str(row.get("notebook", "?")), model,
                         fmt(row.get("flops_per_image", 0) / 1e6, "f1"),
                         fmt(plain.get("train_images_per_s"), "int"),
                         fmt(xla.get("train_images_per_s"), "int"), fmt(speedup, "f2"),
                         fmt(row.get("compile_seconds"), "f1"),
                         fmt(plain.get("share_of_peak"), "pct"),
                         fmt(xla.get("share_of_peak"), "pct"),
                         "–" if not _number(speedup) else
                         "yes" if speedup >= XLA_PAYS else "no",
                         _xla_choice(model),
                         fmt(fast.get("train_images_per_s"), "int"),
                         fmt(fast_xla.get("train_images_per_s"), "int"),
                         fmt(row.get("determinism_cost"), "f2")])
        lines += _table(["nb", "model", "MFLOP per image", "images/s", "with XLA",
                         "speedup", "compile, s", "share of peak", "with XLA",
                         f"XLA ≥ {XLA_PAYS:g}× faster", "`auto` on a CPU",
                         "without determinism: images/s", "with XLA",
                         "determinism's time ×"], rows) + [""]
        loops = [[str(row.get("notebook", "?")), loop,
                  fmt(row.get("images_per_call"), "int"),
                  fmt((row.get("without_xla") or {}).get("loop_images_per_s"), "int"),
                  fmt((row.get("with_xla") or {}).get("loop_images_per_s"), "int"),
                  fmt(row.get("speedup"), "f2"), fmt(row.get("compile_seconds"), "f1")]
                 for loop, row in (report.get("loops") or {}).items()]
        if loops:
            lines += _table(["nb", "hot loop", "images per call", "images/s", "with XLA",
                             "speedup", "compile, s"], loops) + [""]
    return lines + earlier_links("Earlier measurements", older, page_dir)


def chart_points(reports: list[tuple[Path, dict]]) -> list[tuple[str, Path, dict, float, float]]:
    """(series label, report path, report, training CPU-minutes, FID) per ``CHART_SERIES``
    model: its cpu-profile reports that have both numbers, of the newest code measured (the
    ``group_key`` of the newest such report), one per seed, in page order."""
    points = []
    for label, name, fid_path, cpu_path in CHART_SERIES:
        found = [(path, report) for path, report in sorted(reports, key=_order)
                 if report.get("benchmark") == name and report.get("profile") == "cpu"
                 and not report.get("variant") and _number(value(report, fid_path))
                 and _number(value(report, cpu_path))]
        if not found:
            continue
        newest = group_key(max(found, key=lambda e: str(e[1].get("date")))[1])
        points += [(label, path, report, value(report, cpu_path) / 60,
                    float(value(report, fid_path)))
                   for path, report in found if group_key(report) == newest]
    return points


def chart_svg(reports: list[tuple[Path, dict]]) -> str | None:
    """The chart of ``chart_points`` as SVG text (None: no report has the numbers)."""
    from .svg_chart import scatter_svg

    points = chart_points(reports)
    if not points:
        return None
    series: dict[str, list] = {}
    for label, _, _, minutes, fid in points:
        series.setdefault(label, []).append((minutes, fid))
    return scatter_svg(series, "training CPU-minutes (all cores of the process)",
                       "FID (lower is better)",
                       "FID against training CPU time, cpu profile")


def chart_section(reports: list[tuple[Path, dict]], page_dir: Path) -> list[str]:
    points = chart_points(reports)
    if not points:
        return []
    steps = DIFFUSION_BUDGET.get("cpu").bench_steps
    rows = [[label, date_label(r), commit_label(r), str(r.get("seed")),
             machine_label(r.get("machine") or {}), load_label(r), f"{minutes:.1f}",
             f"{fid:.2f}", f"[json]({os.path.relpath(p, page_dir).replace(os.sep, '/')})"]
            for label, p, r, minutes, fid in points]
    return ["## FID against training CPU time", "",
            "The cpu-profile reports of each model's newest measured code, one point per "
            "seed: the Fréchet distance of its samples on the course classifier's features "
            "(10,000; 08's guided set: an equal number per digit, see its table), against the "
            "CPU time of the training alone (all the process's threads; about twice the wall "
            "time on 2 busy cores, more when other jobs shared them: see the load). Sampling "
            "is not counted: a GAN draws a sample in one network evaluation, 08's DDIM in "
            f"{steps} ({2 * steps} guided). Conditional models are scored with every digit "
            "requested equally often; the WGAN-GP's training time includes its per-epoch "
            "scoring. CPU time depends on the kind of CPU (the machine column; reports "
            "before 2026-12-07 name none): 08's U-Net took twice the CPU time on an AVX2 "
            "AMD EPYC as on the machine of 2026-12-06, so compare points of one kind.", "",
            f"![FID against training CPU time]({CHART})", "",
            *_table(["model", "date", "commit", "seed", "machine", "load",
                     "training CPU-min", "FID", "report"], rows), ""]


def _order(item: tuple[Path, dict]) -> tuple:
    path, report = item
    when = report.get("date") or (report.get("recorded_in") or {}).get("date") or ""
    seed = report.get("seed")
    return (str(report.get("notebook", "")), str(report.get("profile")), str(when)[:10],
            str(report.get("variant") or ""), -1 if seed is None else seed, path.name)


def render(reports: list[tuple[Path, dict]], page: Path = PAGE) -> str:
    """The page for ``reports``: a pure function of them (no clock), so ``--check`` can
    compare it with the committed one."""
    by_name: dict[str, list] = {}
    for path, report in reports:
        by_name.setdefault(str(report.get("benchmark")), []).append((path, report))
    known = [n for n in HEADLINES if n in by_name and n != "notebooks"]
    names = known + sorted(n for n in by_name if n not in HEADLINES) + (
        ["notebooks"] if "notebooks" in by_name else [])
    lines = [
        "# Results", "",
        f"GENERATED by `make results` (`python -m coursekit.tools.results`) from the "
        f"{len(reports)} JSON reports in [`reports/`](reports/): do not edit. A new "
        "measurement is a new report: `make bench NAME=gan PROFILE=cpu SEED=7` writes one "
        "there; commit it with this page rebuilt (`make test` fails while the page is stale).",
        "",
        "Each row is one report: its date (UTC; \"≤\" for figures transcribed from the "
        "README's history, measured on or before the commit that recorded them), the commit "
        "measured (\"?\": not known), seed, profile, machine and load average (1 minute, at "
        "the start → end of the run; other jobs on the cores make times upper bounds, not "
        "quality figures). Quality does not depend on the load; times do.", "",
        "Benchmarks: " + ", ".join(f"[{n}](#{n})" for n in names) + ".", "",
    ]
    lines += chart_section(reports, page.parent)
    for name in names:
        section = {"sweep": sweep_section, "xla": xla_section}.get(name, benchmark_section)
        lines += section(name, sorted(by_name[name], key=_order), page.parent)
    return "\n".join(lines).rstrip() + "\n"


def stale(reports_dir: Path = REPORTS, page: Path = PAGE) -> list[str]:
    """Problems: reports that lack what makes them comparable, and a page that differs from
    what the reports give (empty: all is well)."""
    reports = load_reports(reports_dir)
    found = [f"{_shown(path)}: {problem}" for path, report in reports
             for problem in problems(report)]
    chart, svg = page.parent / CHART, chart_svg(reports)
    for path, expected in ((page, render(reports, page)), (chart, svg)):
        if expected is not None and (not path.exists()
                                     or path.read_text(encoding="utf-8") != expected):
            found.append(f"{_shown(path)} is stale: run `make results` (python -m "
                         "coursekit.tools.results) and commit it")
    return found


def _shown(path: Path) -> str:
    """``path`` relative to the project where it lies inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m coursekit.tools.results", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="fail (exit 1) when the page or a report is stale; write nothing")
    parser.add_argument("--reports", type=Path, default=REPORTS, help="the reports' folder")
    parser.add_argument("--page", type=Path, default=PAGE, help="the page to write or check")
    args = parser.parse_args(argv)
    if args.check:
        found = stale(args.reports, args.page)
        for problem in found:
            print(problem, file=sys.stderr)
        raise SystemExit(1 if found else 0)
    reports = load_reports(args.reports)
    args.page.parent.mkdir(parents=True, exist_ok=True)
    args.page.write_text(render(reports, args.page), encoding="utf-8")
    svg = chart_svg(reports)
    if svg is not None:
        (args.page.parent / CHART).write_text(svg, encoding="utf-8")
    print(f"{args.page}: {len(reports)} reports")


if __name__ == "__main__":
    main(sys.argv[1:])
