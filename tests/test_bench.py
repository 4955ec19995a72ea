"""The benchmark command: report layout, profile handling, clear errors."""

import json
import sys

import pytest

from coursekit import bench


@pytest.fixture
def fake_benchmark(tmp_path, monkeypatch):
    module = tmp_path / "fake_topic.py"
    module.write_text(
        "import os\n"
        "def benchmark(profile, out_dir):\n"
        "    return {'quality': 1.5, 'seen_profile': os.environ['COURSEKIT_PROFILE'],\n"
        "            'out_dir': str(out_dir)}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(bench.BENCHMARKS, "fake", "fake_topic")
    monkeypatch.delitem(sys.modules, "fake_topic", raising=False)
    monkeypatch.delenv("COURSEKIT_PROFILE", raising=False)
    return tmp_path


def test_report_has_metrics_time_and_machine(fake_benchmark, capsys):
    out = fake_benchmark / "reports" / "fake.json"
    bench.main(["fake", "--profile", "smoke", "--out", str(out)])
    report = json.loads(out.read_text())
    assert report["benchmark"] == "fake" and report["profile"] == "smoke"
    assert report["seen_profile"] == "smoke"  # the module ran under the requested profile
    assert report["quality"] == 1.5 and report["wall_time_s"] >= 0
    assert report["out_dir"] == str(out.parent)
    assert report["machine"]["cpu_count"] >= 1 and "tensorflow" in report["machine"]
    assert not list(out.parent.glob("*.tmp"))
    assert "report written to" in capsys.readouterr().out


def test_unknown_names_are_clear_errors(fake_benchmark):
    with pytest.raises(SystemExit, match="Unknown benchmark 'nope'"):
        bench.run("nope", "smoke", fake_benchmark / "x.json")
    with pytest.raises(ValueError, match="Unknown profile 'fast'"):
        bench.run("fake", "fast", fake_benchmark / "x.json")


def test_every_registered_benchmark_module_exists():
    import importlib

    for name, module in bench.BENCHMARKS.items():
        assert callable(importlib.import_module(module).benchmark), name
