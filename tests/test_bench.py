"""The benchmark command: discovery, report layout, the seed, profile handling, errors."""

import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from coursekit.tools import bench


@pytest.fixture
def fake_benchmark(tmp_path, monkeypatch):
    folder = tmp_path / "benchmarks"
    folder.mkdir()
    (folder / "fake.py").write_text(
        "import os\n"
        "from coursekit.device import current_seed\n"
        "def benchmark(profile, out_dir):\n"
        "    return {'quality': 1.5, 'seen_profile': os.environ['COURSEKIT_PROFILE'],\n"
        "            'seen_seed': current_seed(), 'out_dir': str(out_dir)}\n"
    )
    monkeypatch.setattr(bench, "BENCHMARKS_DIR", folder)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib.util

    spec = importlib.util.spec_from_file_location("coursekit.benchmarks.fake", folder / "fake.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "coursekit.benchmarks.fake", module)
    monkeypatch.delenv("COURSEKIT_PROFILE", raising=False)
    monkeypatch.delenv("COURSEKIT_SEED", raising=False)
    monkeypatch.setenv(bench.RESULTS_ENV, str(tmp_path / "results"))
    return tmp_path


def test_report_has_metrics_seed_time_and_machine(fake_benchmark, capsys):
    out = fake_benchmark / "reports" / "fake.json"
    before = datetime.now(UTC).replace(microsecond=0)
    bench.main(["fake", "--profile", "smoke", "--seed", "7", "--out", str(out)])
    report = json.loads(out.read_text())
    assert report["benchmark"] == "fake" and report["profile"] == "smoke"
    assert report["seen_profile"] == "smoke"  # the module ran under the requested profile
    assert report["seed"] == 7 and report["seen_seed"] == 7  # ... and the requested seed
    assert report["quality"] == 1.5 and report["wall_seconds"] >= 0
    assert report["out_dir"] == str(out.parent)
    assert report["machine"]["cpu_count"] >= 1 and "tensorflow" in report["machine"]
    assert "numpy" in report["machine"] and "cpu_vector_flags" in report["machine"]
    # when, which code, how busy: what makes two reports comparable
    date = datetime.fromisoformat(report["date"])
    assert date.utcoffset() == timedelta(0) and before <= date <= datetime.now(UTC)
    if (bench.PROJECT / ".git").exists():  # a checkout (CI's clone): its HEAD, maybe dirty
        assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", report["commit"]), report["commit"]
        assert report["commit"].split("-")[0] == _git("rev-parse", "HEAD")
    else:
        assert report["commit"] is None
    for when in ("start", "end"):
        load = report["load_average"][when]
        assert len(load) == 3 and all(v >= 0 for v in load), report["load_average"]
    assert not bench.convention_problems(report)
    assert not list(out.parent.glob("*.tmp"))
    assert "report written to" in capsys.readouterr().out


def test_each_run_is_a_new_report_outside_the_committed_folder(fake_benchmark, monkeypatch):
    """Without --out a run writes a new file named by seed and UTC time into
    $COURSEKIT_RESULTS_DIR (the tests' folder: never the committed results/reports)."""
    monkeypatch.setenv("COURSEKIT_SEED", "11")
    bench.main(["fake", "--profile", "smoke"])
    bench.main(["fake", "--profile", "smoke"])
    reports = sorted((fake_benchmark / "results").glob("*.json"))
    assert len(reports) == 2, reports
    for path in reports:
        assert re.fullmatch(r"fake-smoke-seed11-\d{8}T\d{6}Z(-2)?\.json", path.name), path.name
        assert json.loads(path.read_text())["seed"] == 11
    assert json.loads(reports[0].read_text())["out_dir"] == str(fake_benchmark / "results")



def test_a_forced_xla_setting_is_a_variant_of_the_run(fake_benchmark, monkeypatch):
    monkeypatch.delenv("COURSEKIT_XLA", raising=False)
    bench.main(["fake", "--profile", "smoke", "--seed", "3"])
    monkeypatch.setenv("COURSEKIT_XLA", "off")
    bench.main(["fake", "--profile", "smoke", "--seed", "3"])
    plain, forced = (json.loads(p.read_text()) for p in sorted(
        (fake_benchmark / "results").glob("*.json"), key=lambda p: "xla-off" in p.name))
    assert "variant" not in plain and plain["xla_setting"].startswith("auto (on for")
    assert forced["variant"] == "xla-off" and forced["xla_setting"] == "off (COURSEKIT_XLA)"
    assert list((fake_benchmark / "results").glob("fake-xla-off-smoke-seed3-*.json"))

def test_runs_reported_into_the_committed_folder_keep_their_samples_out_of_it(tmp_path):
    assert bench.samples_dir(bench.RESULTS_DIR / "gan-cpu-seed1-x.json") == bench.SAMPLES_DIR
    assert bench.samples_dir(tmp_path / "gan.json") == tmp_path


def _git(*args, cwd=bench.PROJECT):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid",
                           "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def test_commit_is_head_marked_dirty_by_tracked_changes_only(tmp_path):
    assert bench.git_commit(tmp_path) is None  # not a checkout
    _git("init", "-q", cwd=tmp_path)
    assert bench.git_commit(tmp_path) is None  # no commit yet
    (tmp_path / "a.txt").write_text("1")
    _git("add", "a.txt", cwd=tmp_path)
    _git("commit", "-q", "-m", "a", cwd=tmp_path)
    head = _git("rev-parse", "HEAD", cwd=tmp_path)
    (tmp_path / "new.json").write_text("{}")  # untracked, e.g. the run's own new report
    assert bench.git_commit(tmp_path) == head
    (tmp_path / "a.txt").write_text("2")
    assert bench.git_commit(tmp_path) == head + "-dirty"
    (tmp_path / "sub").mkdir()
    assert bench.git_commit(tmp_path / "sub") is None  # inside a checkout, not its top


def test_unknown_names_are_clear_errors(fake_benchmark):
    with pytest.raises(SystemExit, match="Unknown benchmark 'nope'"):
        bench.run("nope", "smoke", fake_benchmark / "x.json")
    with pytest.raises(ValueError, match="Unknown profile 'fast'"):
        bench.run("fake", "fast", fake_benchmark / "x.json")


def test_every_benchmark_module_is_found_and_callable():
    import importlib

    names = bench.available()
    assert {"gan"} <= set(names)
    for name in names:
        assert callable(importlib.import_module(f"coursekit.benchmarks.{name}").benchmark), name


def _benchmark_sources():
    import ast
    from pathlib import Path

    for path in sorted(Path(bench.BENCHMARKS_DIR).glob("*.py")):
        source = path.read_text()
        yield path.name, source, ast.parse(source)


def _report_keys(tree) -> set[str]:
    """The literal keys of every dict display and ``report["key"] = ...`` in a module."""
    import ast

    keys = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys |= {k.value for k in node.keys
                     if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            index = node.targets[0].slice
            if isinstance(index, ast.Constant) and isinstance(index.value, str):
                keys.add(index.value)
    return keys


def test_every_benchmark_follows_the_key_convention():
    """One quantity, one name, in every report (see the convention in coursekit/tools/bench.py)."""
    seen = set()
    for name, _, tree in _benchmark_sources():
        keys = _report_keys(tree)
        assert not bench.convention_problems(keys), (name, bench.convention_problems(keys))
        seen |= keys
    assert {"train_seconds", "steps", "batch"} <= seen  # the scan reads the modules' keys


def test_the_convention_names_what_is_wrong():
    problems = bench.convention_problems(
        ["fid", "train_time_s", "render_s", "vae_fid", "FID", "train_images_per_s"])
    assert problems == ["'train_time_s': call it 'train_seconds'",
                        "'render_s': durations end in '_seconds'",
                        "'vae_fid': nest it, {'vae': {'fid': ...}}",
                        "'FID': keys are lower_snake_case"]


def test_benchmarks_save_arrays_only_through_save_array():
    """Runs of several seeds and profiles into one folder must not overwrite each other."""
    import ast

    for name, source, tree in _benchmark_sources():
        saves = [ast.get_source_segment(source, node) for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                 and node.func.attr in {"save", "savez", "savez_compressed"}]
        assert not saves, (name, saves)


def test_save_array_and_sample_report_name_files_by_profile_and_seed(tmp_path):
    import numpy as np

    from coursekit.device import setup

    setup(seed=5)
    path = bench.save_array(np.zeros(3), tmp_path / "new", "codes", "smoke")
    assert path == tmp_path / "new" / "codes-smoke-seed5.npy" and path.exists()

    class FakeScorer:
        def score(self, samples):
            assert samples.dtype == np.uint8  # scored as saved
            return {"fid": 12.34567, "histogram": np.full(10, 0.1), "min_class": 0.1}

    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    report = bench.sample_report(images, tmp_path, "gan", "cpu", FakeScorer(), floor=False)
    assert report["fid"] == 12.346 and report["n_samples"] == 4
    assert report["min_class_fraction"] == 0.1 and len(report["class_histogram"]) == 10
    saved = np.load(report["samples_file"])
    assert report["samples_file"].endswith("gan-samples-cpu-seed5.npy")
    assert saved.dtype == np.uint8 and saved.shape == (4, 28, 28)  # the saved format
    assert not bench.convention_problems(report)
    assert bench.training_report({"_throughput": 1234.56}, 7.04) == {
        "train_seconds": 7.0, "train_images_per_s": 1234.6}
    clock = {"seconds": 7.04, "cpu_seconds": 13.96}  # a stopwatch's
    assert bench.training_report({"_throughput": 10.0}, clock) == {
        "train_seconds": 7.0, "train_cpu_seconds": 14.0, "train_images_per_s": 10.0}


def test_the_stopwatch_measures_wall_and_cpu_time():
    with bench.stopwatch() as idle:
        time.sleep(0.2)
    with bench.stopwatch() as busy:
        sum(i * i for i in range(2_000_000))  # about 0.1-0.2 CPU seconds, whatever the load
    assert idle["seconds"] >= 0.2 and idle["cpu_seconds"] < 0.05  # sleeping costs no CPU
    assert busy["cpu_seconds"] > 0.05


def test_cpu_model_reads_the_first_core_and_its_vector_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9B14\n"
                       "flags\t\t: fpu sse2 avx2 fma avx512f avx512_bf16\n\n"
                       "processor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n")
    assert bench.cpu_model(cpuinfo) == ("AMD EPYC 9B14", ["avx2", "fma", "avx512f",
                                                          "avx512_bf16"])
    assert bench.cpu_model(tmp_path / "missing") == (None, [])
