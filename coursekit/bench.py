"""Benchmarks: train a notebook's models under a profile and report quality and speed.

    python -m coursekit.bench autoencoder --profile cpu --out reports/autoencoder-cpu.json

Each module ``coursekit/benchmarks/<name>.py`` provides ``benchmark(profile, out_dir)``,
which trains the notebook's exported model (``coursekit.models``) from scratch (no
checkpoint reuse) and returns a dict of metrics; this module finds them, seeds the run
(``--seed``, default ``$COURSEKIT_SEED`` or the course's default), adds wall time and the
machine description and writes JSON. Speed and quality
are measured here, never asserted as wall-clock limits in the tests.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

from .profiles import PROFILE_ENV, PROFILES, check_profile

BENCHMARKS_DIR = Path(__file__).resolve().parent / "benchmarks"


def available() -> list[str]:
    """The benchmark names: one per module in ``coursekit/benchmarks``."""
    return sorted(p.stem for p in BENCHMARKS_DIR.glob("*.py") if not p.stem.startswith("_"))


def machine() -> dict:
    import keras
    import tensorflow as tf

    gpus = [
        tf.config.experimental.get_device_details(g).get("device_name", g.name)
        for g in tf.config.list_physical_devices("GPU")
    ]
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpus": gpus,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def run(name: str, profile: str, out: Path, seed: int | None = None) -> dict:
    """Run benchmark ``name`` under ``profile`` and ``seed``; write and return the report."""
    if name not in available():
        raise SystemExit(f"Unknown benchmark {name!r}; choose one of {', '.join(available())}.")
    check_profile(profile)
    os.environ[PROFILE_ENV] = profile  # so every Budget in the run reads this profile
    from .device import setup

    info = setup(seed=seed)
    module = importlib.import_module(f"coursekit.benchmarks.{name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    metrics = module.benchmark(profile, out.parent)
    report = {
        "benchmark": name,
        "profile": profile,
        "seed": info.seed,
        "precision": info.precision,
        "wall_time_s": round(time.perf_counter() - start, 1),
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
    parser = argparse.ArgumentParser(prog="python -m coursekit.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=available())
    parser.add_argument("--profile", default="cpu", choices=PROFILES)
    parser.add_argument("--seed", type=int, default=None,
                        help="the run's seed (default $COURSEKIT_SEED, else the course's)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON report path (default reports/NAME-PROFILE-seedS.json)")
    args = parser.parse_args(argv)
    from .device import seed_from_environment

    seed = seed_from_environment() if args.seed is None else args.seed
    out = args.out or Path("reports") / f"{args.name}-{args.profile}-seed{seed}.json"
    run(args.name, args.profile, out, seed)


if __name__ == "__main__":
    main(sys.argv[1:])
