"""The seed sweep: every notebook on several seeds, each claim's value and margin on each.

``python -m coursekit.tools.sweep --seeds 1234 7 11 12 13 [--profile smoke] [notebooks...]``
(``make seeds SEEDS="1234 7 11 12 13"``) executes each notebook top to bottom on each seed,
every seed in a fresh cache of its own (``data/sweeps/<time>/seed<seed>/``: nothing trained
on one seed is reused on another; the MNIST classifier that scores samples is the one
thing copied in, since it is deliberately the same on every seed). The notebooks and the
``coursekit`` package are copied into the work folder when the sweep starts and run from
there, so that an edit made during a sweep (``make export`` included) does not reach its
later runs. Each ``ck.check`` of a
run appends its claim, value, bound and margin to the run's file (``$COURSEKIT_CHECKS``);
a plain ``assert`` that fails, or any other error, is recorded with its cell.

The report, a new JSON file in ``results/reports/`` (``sweep-<profile>-<time>.json``),
lists every run (notebook, seed, seconds, errors, checks) and every claim with its value
on each seed and its smallest relative margin across them; the results page shows it.
``--update REPORT`` re-runs only the named notebooks and keeps the earlier report's other
runs, each with its own commit. Not part of ``make test``: it costs one notebook stage per
seed. Run it before resolving
an issue that changes a notebook's code or sizes, and whenever a claim changes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from ..checks import CHECKS_ENV
from ..profiles import check_profile
from .bench import default_report_path, git_commit, load_average, machine, utc_now

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
PACKAGE = ROOT / "coursekit"
STARTED = "sweep-started.json"  # in the work folder: the commit and date a sweep started at
CLASSIFIER = Path("models") / "mnist_classifier_v2.keras"  # seed-independent by design
# producers first: 02 reuses 01's models, 03 02's VAE, 04-07 03's classifier checks
ORDER = ("01_autoencoders", "06_cppn", "08_diffusion", "02_vae", "03_gan", "05_pokemon_lstm",
         "07_wgan_conditional", "04_infogan")


def run_one(notebook: Path, seed: int, profile: str, cache: Path, out: Path,
            timeout: int, cwd: Path | None = None, code: Path | None = None) -> dict:
    """Execute ``notebook`` on ``seed`` into ``out`` (cache ``cache``), in ``cwd`` (default:
    the notebook's folder), importing ``coursekit`` from the folder ``code`` when given (the
    sweep's snapshot of the package): its checks and errors."""
    checks = out / f"{notebook.stem}-seed{seed}.checks.jsonl"
    checks.unlink(missing_ok=True)
    env = {**os.environ, "COURSEKIT_SEED": str(seed), "COURSEKIT_PROFILE": profile,
           "COURSEKIT_DATA_DIR": str(cache), "COURSEKIT_STATIC_WIDGETS": "1",
           CHECKS_ENV: str(checks)}
    if code:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    executed = out / f"{notebook.stem}-seed{seed}.ipynb"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--allow-errors", f"--ExecutePreprocessor.timeout={timeout}",
         "--output-dir", str(out), "--output", executed.name, str(notebook)],
        cwd=cwd or notebook.parent, env=env, capture_output=True, text=True)
    seconds = round(time.perf_counter() - start, 1)
    failure = done.stderr[-500:] if done.returncode else None
    return finished_run(out, notebook.stem, seed, seconds, failure)


def finished_run(out: Path, stem: str, seed: int, seconds: float | None = None,
                 failure: str | None = None) -> dict:
    """One run's result from the files it left in ``out``: the executed notebook's errors
    and the checks it recorded. ``seconds`` defaults to the span of its cells' execution."""
    executed = out / f"{stem}-seed{seed}.ipynb"
    checks = out / f"{stem}-seed{seed}.checks.jsonl"
    errors = []
    if executed.exists():
        cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
        errors = [{"cell": i, "error": o["ename"], "message": o["evalue"][:500]}
                  for i, cell in enumerate(cells) for o in cell.get("outputs", [])
                  if o.get("output_type") == "error"]
        if seconds is None:
            seconds = _execution_seconds(cells)
    if failure and not errors:
        errors = [{"cell": None, "error": "nbconvert", "message": failure}]
    found = [json.loads(line) for line in checks.read_text(encoding="utf-8").splitlines()
             if line.strip()] if checks.exists() else []
    return {"notebook": stem, "seed": seed, "seconds": seconds,
            "passed": not errors and all(c["passed"] for c in found),
            "errors": errors, "checks": found}


def _execution_seconds(cells: list[dict]) -> float | None:
    times = [cell.get("metadata", {}).get("execution", {}) for cell in cells]
    starts = [t["iopub.execute_input"] for t in times if "iopub.execute_input" in t]
    ends = [t["shell.execute_reply"] for t in times if "shell.execute_reply" in t]
    if not starts or not ends:
        return None
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return round((parse(max(ends)) - parse(min(starts))).total_seconds(), 1)


def _started(work: Path) -> dict:
    path = Path(work) / STARTED
    if not path.is_file():
        raise SystemExit(f"{path} is missing: it records the commit and date the sweep started "
                         "at; without it the runs cannot be attributed")
    return json.loads(path.read_text(encoding="utf-8"))


def collected_runs(work: Path) -> list[dict]:
    """The finished runs of an interrupted sweep's work folder (those whose executed
    notebook was written; nbconvert writes it when the run ends)."""
    runs = []
    for executed in sorted(Path(work).glob("*-seed*.ipynb")):
        stem, _, seed = executed.stem.rpartition("-seed")
        runs.append(finished_run(Path(work), stem, int(seed)))
    if not runs:
        raise SystemExit(f"{work}: no finished run (no <notebook>-seed<seed>.ipynb) to collect")
    return runs


def claims(runs: list[dict]) -> list[dict]:
    """Every claim, by notebook, with its value and relative margin on each seed."""
    table: dict[tuple, dict] = {}
    for run in runs:
        for n, check in enumerate(run["checks"]):
            key = (run["notebook"], check["claim"])
            entry = table.setdefault(key, {"notebook": run["notebook"], "claim": check["claim"],
                                           "op": check["op"], "order": n, "seeds": {}})
            entry["seeds"][str(run["seed"])] = {k: check[k] for k in
                                                ("value", "bound", "tol", "passed", "margin",
                                                 "relative_margin")}
    rows = []
    for entry in sorted(table.values(), key=lambda e: (ORDER.index(e["notebook"])
                                                       if e["notebook"] in ORDER else 99,
                                                       e["order"])):
        relative = [s["relative_margin"] for s in entry["seeds"].values()
                    if s["relative_margin"] is not None]
        entry["min_relative_margin"] = min(relative) if relative else None
        entry["passed_on_every_seed"] = all(s["passed"] for s in entry["seeds"].values())
        rows.append({k: v for k, v in entry.items() if k != "order"})
    return rows


def sweep(notebooks: list[Path], seeds: list[int], profile: str, jobs: int = 2,
          timeout: int = 1800, work: Path | None = None, classifier_from: Path | None = None,
          report: Path | None = None, update: Path | None = None,
          collect: Path | None = None) -> dict:
    """Run ``notebooks`` on ``seeds`` and write the report. With ``update`` (an earlier
    sweep's report), the new runs replace that report's runs of the same notebook and seed
    and its other runs are kept, each with the commit and date it ran at: after a fix to
    one notebook, re-run that one and the report still covers every notebook. With
    ``collect`` (the work folder of an interrupted sweep), nothing runs: the report holds
    that folder's finished runs."""
    earlier = json.loads(Path(update).read_text(encoding="utf-8")) if update else None
    if earlier and earlier.get("profile") != profile:
        raise SystemExit(f"{update} is a sweep of the {earlier.get('profile')!r} profile, not "
                         f"{profile!r}: update a sweep of the same profile")
    started = utc_now()
    work = Path(work or ROOT / "data" / "sweeps" / f"{started:%Y%m%dT%H%M%SZ}")
    source = Path(classifier_from or os.environ.get("COURSEKIT_DATA_DIR") or ROOT / "data")
    tasks = []
    for seed in [] if collect else seeds:
        cache = work / f"seed{seed}"
        (cache / CLASSIFIER.parent).mkdir(parents=True, exist_ok=True)
        if (source / CLASSIFIER).is_file():
            shutil.copy2(source / CLASSIFIER, cache / CLASSIFIER)
        order = sorted(notebooks, key=lambda p: ORDER.index(p.stem) if p.stem in ORDER else 99)
        tasks += [(notebook, seed, cache) for notebook in order]
    # the notebooks and the package as they are now: an edit during the sweep (a notebook,
    # `make export`, a coursekit module) must not change what later runs execute, since the
    # report names the commit the sweep started at
    snapshot, code = work / "notebooks", work / "code"
    if tasks:
        snapshot.mkdir(parents=True, exist_ok=True)
        for notebook in notebooks:
            shutil.copy2(notebook, snapshot / notebook.name)
        shutil.copytree(PACKAGE, code / PACKAGE.name, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    load_at_start, commit = load_average(), git_commit()
    if collect:
        begun = _started(collect)
        commit, started = begun["commit"], datetime.fromisoformat(begun["date"])
        runs = collected_runs(collect)
        ran = {r["seed"] for r in runs}
        seeds = [seed for seed in begun.get("seeds", sorted(ran)) if seed in ran]
        runs.sort(key=lambda r: (seeds.index(r["seed"]),
                                 ORDER.index(r["notebook"]) if r["notebook"] in ORDER else 99))
        notebooks = [Path(n) for n in dict.fromkeys(r["notebook"] for r in runs)]
    else:
        work.mkdir(parents=True, exist_ok=True)
        (work / STARTED).write_text(json.dumps(
            {"commit": commit, "date": started.isoformat(), "profile": profile,
             "seeds": seeds, "notebooks": [p.stem for p in notebooks]}, indent=1) + "\n")
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            runs = list(pool.map(lambda t: run_one(snapshot / t[0].name, t[1], profile, t[2],
                                                   work, timeout, cwd=t[0].parent,
                                                   code=code), tasks))
    for run in runs:
        run.update(commit=commit, date=started.isoformat())
    names, all_seeds = [p.stem for p in notebooks], list(seeds)
    if earlier:
        rerun = {(r["notebook"], r["seed"]) for r in runs}
        kept = [{**r, "commit": r.get("commit", earlier.get("commit")),
                 "date": r.get("date", earlier.get("date"))}
                for r in earlier.get("runs", []) if (r["notebook"], r["seed"]) not in rerun]
        all_seeds = list(dict.fromkeys([*earlier.get("seeds", []), *seeds]))
        names = list(dict.fromkeys([*earlier.get("notebooks", []), *names]))
        runs = sorted(kept + runs, key=lambda r: (all_seeds.index(r["seed"]),
                                                  ORDER.index(r["notebook"])
                                                  if r["notebook"] in ORDER else 99))
    for run in runs:
        state = "passed" if run["passed"] else f"FAILED {run['errors'][:1] or ''}"
        print(f"{run['notebook']} seed {run['seed']}: {run['seconds']} s, "
              f"{len(run['checks'])} checks, {state}")
    result = {"benchmark": "sweep", "profile": profile, "seed": None,
              "seed_note": "one run per seed of `seeds`", "seeds": all_seeds,
              "notebooks": names, "date": started.isoformat(),
              "commit": commit, "load_average": {"start": load_at_start, "end": load_average()},
              "wall_seconds": round((utc_now() - started).total_seconds(), 1),
              "passed": all(r["passed"] for r in runs), "claims": claims(runs), "runs": runs,
              "machine": machine()}
    if earlier:
        result["updated_from"] = Path(update).name
    if collect:
        result["collected_from"] = str(collect)
        result.update(wall_seconds=None, load_average={"start": None, "end": None},
                      wall_seconds_note="interrupted: each run has its own seconds")
        result["seed_note"] += ("; collected from an interrupted sweep's finished runs, "
                                "at the commit it was started from")
    out = Path(report) if report else default_report_path("sweep", profile, "s", started)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1, default=str, ensure_ascii=False) + "\n")
    os.replace(tmp, out)
    print(f"report written to {out}")
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m coursekit.tools.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every notebook)")
    parser.add_argument("--seeds", nargs="+", type=int, required=True)
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run side by side")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--report", type=Path, help="where to write the report")
    parser.add_argument("--update", type=Path, metavar="REPORT",
                        help="an earlier sweep's report: keep its runs of other notebooks "
                             "and seeds, replace those run again")
    parser.add_argument("--collect", type=Path, metavar="WORK",
                        help="an interrupted sweep's work folder: report its finished runs, "
                             "run nothing (with --seeds naming the seeds it was given)")
    args = parser.parse_args(argv)
    check_profile(args.profile)
    notebooks = ([p.resolve() for p in args.notebooks]
                 or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        raise SystemExit(f"no such notebook: {', '.join(missing)}")
    result = sweep(notebooks, args.seeds, args.profile, args.jobs, args.timeout,
                   report=args.report, update=args.update, collect=args.collect)
    raise SystemExit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
