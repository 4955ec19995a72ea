"""The benchmark command: discovery, report layout, the seed, profile handling, errors."""

import json
import sys

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
    return tmp_path


def test_report_has_metrics_seed_time_and_machine(fake_benchmark, capsys):
    out = fake_benchmark / "reports" / "fake.json"
    bench.main(["fake", "--profile", "smoke", "--seed", "7", "--out", str(out)])
    report = json.loads(out.read_text())
    assert report["benchmark"] == "fake" and report["profile"] == "smoke"
    assert report["seen_profile"] == "smoke"  # the module ran under the requested profile
    assert report["seed"] == 7 and report["seen_seed"] == 7  # ... and the requested seed
    assert report["quality"] == 1.5 and report["wall_seconds"] >= 0
    assert report["out_dir"] == str(out.parent)
    assert report["machine"]["cpu_count"] >= 1 and "tensorflow" in report["machine"]
    assert not list(out.parent.glob("*.tmp"))
    assert "report written to" in capsys.readouterr().out


def test_default_report_name_carries_the_seed(fake_benchmark, monkeypatch):
    monkeypatch.chdir(fake_benchmark)
    monkeypatch.setenv("COURSEKIT_SEED", "11")
    bench.main(["fake", "--profile", "smoke"])
    assert json.loads((fake_benchmark / "reports" / "fake-smoke-seed11.json").read_text())[
        "seed"] == 11


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
