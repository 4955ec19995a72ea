"""The benchmark command: discovery, report layout, the seed, profile handling, errors."""

import json
import sys

import pytest

from coursekit import bench


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
    assert report["quality"] == 1.5 and report["wall_time_s"] >= 0
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


def test_every_saved_sample_file_carries_profile_and_seed():
    """Runs of several seeds into one folder must not overwrite each other's samples."""
    import ast
    from pathlib import Path

    for path in sorted(Path(bench.BENCHMARKS_DIR).glob("*.py")):
        source = path.read_text()
        tree = ast.parse(source)
        assigned = {node.targets[0].id: ast.get_source_segment(source, node.value)
                    for node in ast.walk(tree) if isinstance(node, ast.Assign)
                    and isinstance(node.targets[0], ast.Name)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "save"):
                target = ast.get_source_segment(source, node.args[0])
                expanded = target + "".join(v for k, v in assigned.items() if k in target)
                assert "current_seed()" in expanded and "profile" in expanded, (path.name, target)
