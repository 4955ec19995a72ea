"""Benchmarks: train a notebook's models under a profile and report quality and speed.

    python -m coursekit.tools.bench autoencoders --profile cpu --seed 7   # or: make bench ...

Each module ``coursekit/benchmarks/<name>.py`` (named after its notebook) provides
``benchmark(profile, out_dir)``, which trains the notebook's exported model
(``coursekit.models``) from scratch (no checkpoint reuse) and returns a dict of metrics; this
module finds them, seeds the run (``--seed``, default ``$COURSEKIT_SEED`` or the course's
default), adds what makes a measurement comparable (``date`` in UTC, ISO 8601; ``commit``,
the project's git HEAD with ``-dirty`` when tracked files differ from it, null outside a
checkout; ``load_average`` at ``start`` and ``end``, 1/5/15 minutes, which says whether the
machine was idle; wall time; the machine) and writes JSON. Speed and quality are measured
here, never asserted as wall-clock limits in the tests.

Results are data: every run writes a new report, ``results/reports/<name>-<profile>-
seed<seed>-<UTC time>.json`` (``$COURSEKIT_RESULTS_DIR`` names another folder: the tests
use it, so they never write into the committed one), and ``python -m coursekit.tools.results``
builds the results page from all of them. The committed folder holds JSON only: the
generated samples (``.npy``, ``.gif``) go to the ignored ``reports/`` (with ``--out``: next
to the report).

The benchmarks share ``stopwatch``, ``training_report``, ``save_array`` and
``sample_report``, and their reports follow one key convention (``KEYS``, ``RENAMED``,
``convention_problems``; a test checks every benchmark against it): a quantity has one name
in every report, durations end in ``_seconds`` (``_ms`` for interactive latencies), rates in
``_per_s``, and the results of one model of several are nested under its name
(``{"vae": {"fid": ...}}``, not ``vae_fid``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ..profiles import PROFILE_ENV, PROFILES, check_profile

BENCHMARKS_DIR = Path(__file__).resolve().parents[1] / "benchmarks"
ROOT = Path(__file__).resolve().parents[2]
# The project's folders; from an installed wheel (no checkout around it), the current one's.
PROJECT = ROOT if (ROOT / "pyproject.toml").is_file() else Path(".")
RESULTS_ENV = "COURSEKIT_RESULTS_DIR"
RESULTS_DIR = PROJECT / "results" / "reports"  # committed: one JSON file per measurement
SAMPLES_DIR = PROJECT / "reports"  # ignored: the samples of runs reported into RESULTS_DIR

KEYS = {
    "fid": "Fréchet distance of the samples to the 10,000 MNIST test images (classifier features)",
    "fid_untrained": "the same for the untrained generator",
    "fid_real_data_same_n": "real training images scored at the same n: the finite-sample floor",
    "class_histogram": "fraction of the samples the course's classifier puts in each class",
    "min_class_fraction": "the smallest entry of class_histogram",
    "n_samples": "number of samples scored",
    "samples_file": "the samples, uint8 .npy (profile and seed in the name)",
    "train_seconds": "wall time of the training",
    "train_cpu_seconds": "CPU time of the training, all of the process's threads together",
    "train_images_per_s": "training throughput after the first (tracing) step",
    "train_sequences_per_s": "the same, for sequence models",
    "epochs": "training epochs", "steps": "training steps (updates)", "batch": "minibatch size",
    "wall_seconds": "wall time of the whole benchmark (added by the command)",
    "xla_setting": "what $COURSEKIT_XLA did in the run, as ck.setup()'s line says it (added "
                   "by the command; a forced on/off also sets variant 'xla-on'/'xla-off')",
    "date": "when the run started, UTC, ISO 8601 (added by the command)",
    "commit": "git HEAD of the project, '-dirty' if tracked files differed; null outside a "
              "checkout (added by the command)",
    "load_average": "the machine's 1/5/15-minute load at 'start' and 'end' (added by the command)",
}
# Names the convention replaces, with the name to use instead.
RENAMED = {"train_time_s": "train_seconds", "train_s": "train_seconds",
           "images_per_s": "train_images_per_s", "examples_per_s": "train_images_per_s",
           "min_class": "min_class_fraction", "wall_time_s": "wall_seconds",
           "samples": "n_samples", "train_loss_last_epoch": "final_train_loss"}


def convention_problems(keys) -> list[str]:
    """What is wrong with report keys under the convention (empty: nothing)."""
    problems = []
    for key in keys:
        if key in RENAMED:
            problems.append(f"{key!r}: call it {RENAMED[key]!r}")
        elif key.endswith("_s") and not key.endswith("_per_s"):
            problems.append(f"{key!r}: durations end in '_seconds'")
        elif key != key.lower() or not key.replace("_", "").isalnum():
            problems.append(f"{key!r}: keys are lower_snake_case")
        else:
            problems += [f"{key!r}: nest it, {{{key[:-len(std) - 1]!r}: {{{std!r}: ...}}}}"
                         for std in KEYS if key.endswith("_" + std)]
    return problems


@contextmanager
def stopwatch():
    """``with stopwatch() as t: ...`` then ``t["seconds"]``: wall time of the block, and
    ``t["cpu_seconds"]``: the CPU time this process spent in it, all its threads together
    (on 2 busy cores about twice the wall time)."""
    timing = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing["seconds"] = time.perf_counter() - start
        timing["cpu_seconds"] = time.process_time() - cpu_start


def training_report(history: dict, clock, rate: str = "train_images_per_s") -> dict:
    """``train_seconds``, ``train_cpu_seconds`` (from the ``stopwatch`` dict ``clock``; a
    number is taken as wall seconds alone) and the throughput ``fit_resumable`` measured,
    under the convention."""
    if not isinstance(clock, dict):
        clock = {"seconds": clock}
    report = {"train_seconds": round(clock["seconds"], 1)}
    if "cpu_seconds" in clock:
        report["train_cpu_seconds"] = round(clock["cpu_seconds"], 1)
    return {**report, rate: round(float(history.get("_throughput") or 0.0), 1)}


def save_array(array, out_dir: Path, stem: str, profile: str) -> Path:
    """Save ``array`` as ``out_dir/<stem>-<profile>-seed<seed>.npy`` (runs of several seeds
    and profiles into one folder never overwrite each other) and return the path."""
    import numpy as np

    from ..device import current_seed

    path = Path(out_dir) / f"{stem}-{profile}-seed{current_seed()}.npy"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, array)
    return path


def sample_report(samples, out_dir: Path, stem: str, profile: str, scorer=None,
                  floor: bool = True) -> dict:
    """Save generated images (uint8) and score them: ``fid``, ``class_histogram``,
    ``min_class_fraction``, ``n_samples``, ``samples_file`` and, with ``floor``, real data
    at the same n (``fid_real_data_same_n``)."""
    from ..metrics import SampleScorer, fid_floor, to_uint8

    scorer = scorer or SampleScorer()
    samples = to_uint8(samples)
    path = save_array(samples, out_dir, f"{stem}-samples", profile)
    score = scorer.score(samples)
    report = {"fid": round(score["fid"], 3),
              "class_histogram": [round(float(v), 4) for v in score["histogram"]],
              "min_class_fraction": round(score["min_class"], 4),
              "n_samples": int(len(samples)), "samples_file": str(path)}
    if floor:
        report["fid_real_data_same_n"] = round(fid_floor(scorer, n=len(samples)), 3)
    return report


def available() -> list[str]:
    """The benchmark names: one per module in ``coursekit/benchmarks``."""
    return sorted(p.stem for p in BENCHMARKS_DIR.glob("*.py") if not p.stem.startswith("_"))


# The vector instructions that decide which kernels oneDNN and numpy pick: two machines
# that differ here round differently, so a run is bit-identical only on the same set.
VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str | None, list[str]]:
    """(the CPU's model name, which of ``VECTOR_FLAGS`` it has), from ``/proc/cpuinfo``;
    (None, []) where that file is missing (not Linux)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None, []
    fields = {}
    for line in text.splitlines():
        key, sep, val = line.partition(":")
        if sep and key.strip() not in fields:   # the first core's entry
            fields[key.strip()] = val.strip()
    flags = set(fields.get("flags", "").split())
    return fields.get("model name"), [f for f in VECTOR_FLAGS if f in flags]


def machine() -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    gpus = [
        tf.config.experimental.get_device_details(g).get("device_name", g.name)
        for g in tf.config.list_physical_devices("GPU")
    ]
    model, flags = cpu_model()
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_model": model,
        "cpu_vector_flags": flags,
        "cpu_count": os.cpu_count(),
        "gpus": gpus,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def git_commit(root: Path = PROJECT) -> str | None:
    """``root``'s git HEAD, with ``-dirty`` appended when a tracked file differs from it;
    None when ``root`` is not the top of a git checkout (an installed wheel) or git is
    missing."""
    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=30)

    try:
        top = git("rev-parse", "--show-toplevel")
        if top.returncode or Path(top.stdout.strip()).resolve() != Path(root).resolve():
            return None
        head = git("rev-parse", "HEAD")
        if head.returncode:
            return None  # a repository without commits
        changes = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("-dirty" if changes.stdout.strip() else "")


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (None where the platform has none)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def results_dir() -> Path:
    """Where new reports go: ``$COURSEKIT_RESULTS_DIR``, else the committed ``results/reports``."""
    return Path(os.environ.get(RESULTS_ENV) or RESULTS_DIR)


def default_report_path(name: str, profile: str, seed: int, started: datetime) -> Path:
    """A new file per run: ``<results>/<name>-<profile>-seed<seed>-<YYYYMMDDTHHMMSSZ>.json``
    (``-2``, ``-3``, ... before ``.json`` if a run of the same second is there already)."""
    stem = f"{name}-{profile}-seed{seed}-{started:%Y%m%dT%H%M%SZ}"
    path, n = results_dir() / f"{stem}.json", 1
    while path.exists():
        n += 1
        path = results_dir() / f"{stem}-{n}.json"
    return path


def samples_dir(out: Path) -> Path:
    """Where a run's arrays go: next to its report, except in the committed folder (JSON
    only), whose runs put them in the ignored ``reports/``."""
    out = Path(out)
    return SAMPLES_DIR if out.parent.resolve() == RESULTS_DIR.resolve() else out.parent


def run(name: str, profile: str, out: Path | None = None, seed: int | None = None) -> dict:
    """Run benchmark ``name`` under ``profile`` and ``seed``; write the report to ``out``
    (default: a new file in ``results_dir()``) and return it."""
    if name not in available():
        raise SystemExit(f"Unknown benchmark {name!r}; choose one of {', '.join(available())}.")
    check_profile(profile)
    os.environ[PROFILE_ENV] = profile  # so every Budget in the run reads this profile
    from ..device import setup, xla_setting

    info = setup(seed=seed)
    started, load_at_start, commit = utc_now(), load_average(), git_commit()
    # a forced XLA setting is a variant of the run: its own file name and results group
    variant = None if xla_setting() == "auto" else f"xla-{xla_setting()}"
    out = Path(out) if out else default_report_path(
        f"{name}-{variant}" if variant else name, profile, info.seed, started)
    module = importlib.import_module(f"coursekit.benchmarks.{name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    metrics = module.benchmark(profile, samples_dir(out))
    report = {
        "benchmark": name,
        "profile": profile,
        "seed": info.seed,
        **({"variant": variant} if variant else {}),
        "precision": info.precision,
        "xla_setting": info.xla,
        "date": started.isoformat(),
        "commit": commit,
        "wall_seconds": round(time.perf_counter() - start, 1),
        "load_average": {"start": load_at_start, "end": load_average()},
        **metrics,
        "machine": machine(),
    }
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=float))
    os.replace(tmp, out)
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=2, default=float))
    print(f"report written to {out}")
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m coursekit.tools.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=available())
    parser.add_argument("--profile", default="cpu", choices=PROFILES)
    parser.add_argument("--seed", type=int, default=None,
                        help="the run's seed (default $COURSEKIT_SEED, else the course's)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON report path (default: a new file in results/reports, or in "
                             f"${RESULTS_ENV}: NAME-PROFILE-seedS-UTCTIME.json)")
    args = parser.parse_args(argv)
    from ..device import seed_from_environment

    seed = seed_from_environment() if args.seed is None else args.seed
    run(args.name, args.profile, args.out, seed)


if __name__ == "__main__":
    main(sys.argv[1:])
