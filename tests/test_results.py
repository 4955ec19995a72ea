"""The results page and the committed reports it is built from (coursekit/tools/results.py)."""

import json
import re
import shutil
import subprocess
from xml.etree import ElementTree

import pytest

from coursekit.tools import results
from coursekit.tools.svg_chart import nice_ticks, scatter_svg

ROOT = results.ROOT


def test_the_committed_page_is_up_to_date_with_the_reports():
    reports = results.load_reports()
    assert len(reports) >= 7, "the committed reports are missing"
    assert results.PAGE.read_text(encoding="utf-8") == results.render(reports), (
        "results/README.md is stale: run `make results`")
    assert results.stale() == []
    assert (results.PAGE.parent / results.CHART).read_text(encoding="utf-8") == (
        results.chart_svg(reports))


def _git(*args):
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


def test_every_committed_report_says_machine_date_commit_seed_and_profile():
    commits = set()
    for path, report in results.load_reports():
        assert results.problems(report) == [], (path.name, results.problems(report))
        assert report["machine"].get("cpu_count") and "gpus" in report["machine"], path.name
        assert report["benchmark"] == path.name.split("-")[0], path.name  # named after it
        commit = report["commit"]
        assert commit is None or re.fullmatch(r"[0-9a-f]{40}(-dirty)?", commit), path.name
        if "source" in report:  # transcribed from the README's history
            recorded = report["recorded_in"]
            assert "README.md" in report["source"] and report["as_written"], path.name
            assert re.fullmatch(r"[0-9a-f]{40}", recorded["commit"]), path.name
            assert recorded["date"].startswith("2026-"), path.name
            commits |= {recorded["commit"], *([commit] if commit else [])}
    # the commits named are real ones of this history (where the clone has it)
    if _git("rev-parse", "--is-shallow-repository").stdout.strip() == "false":
        missing = [c for c in sorted(commits) if _git("cat-file", "-e", f"{c}^{{commit}}")
                   .returncode]
        assert not missing, missing


def test_readme_is_at_most_10_kb():
    size = len((ROOT / "README.md").read_bytes())
    assert size <= 10 * 1024, f"README.md is {size} bytes: move details to CONTRIBUTING.md"


def _report(seed, fid, **extra):
    return {"benchmark": "gan", "profile": "cpu", "seed": seed, "precision": "float32",
            "date": f"2027-01-0{seed}T10:00:00+00:00", "commit": "a" * 40, "wall_seconds": 100.0,
            "load_average": {"start": [0.5, 0.4, 0.3], "end": [1.25, 0.6, 0.4]}, "fid": fid,
            "train_images_per_s": 900.0, "vae": {"fid": 30.0},
            "machine": {"cpu_count": 2, "processor": "x86_64", "gpus": [],
                        "tensorflow": "2.21.0"}, **extra}


def _write(folder, name, report):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(report))


def test_a_row_per_report_and_the_spread_over_seeds(tmp_path):
    reports = tmp_path / "results" / "reports"
    for seed, fid in ((1, 3.68), (2, 3.81), (3, 3.80)):
        _write(reports, f"gan-cpu-seed{seed}-x.json", _report(seed, fid))
    page = tmp_path / "results" / "README.md"
    results.main(["--reports", str(reports), "--page", str(page)])
    text = page.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| 2027-01-0")]
    assert len(rows) == 3
    assert "| aaaaaaa | 1 | cpu | 2 cores x86_64, no GPU, TF 2.21.0 | 0.5 → 1.2 | 3.7 |" in rows[0]
    assert "[json](reports/gan-cpu-seed1-x.json)" in rows[0]
    assert "| commit aaaaaaa | cpu | 1 / 2 / 3 | 3.8 ± 0.1 | 30.0 |" in text  # mean ± sd
    assert "100 s" in text and "900" in text


def test_a_diffusion_report_without_a_schedule_was_on_the_linear_one(tmp_path):
    reports = tmp_path / "results" / "reports"
    for seed, schedule in ((1, None), (2, "cosine"), (3, "cosine")):
        extra = {"benchmark": "diffusion", "commit": ("b" if schedule else "a") * 40,
                 "unconditional": {"fid": 16.0 + seed}, **({"schedule": schedule}
                                                           if schedule else {})}
        _write(reports, f"diffusion-cpu-seed{seed}-x.json", _report(seed, 0.0, **extra))
    page = tmp_path / "results" / "README.md"
    results.main(["--reports", str(reports), "--page", str(page)])
    rows = [line for line in page.read_text().splitlines() if line.startswith("| 2027-01-0")]
    assert "| linear | 17.0 |" in rows[0] and "| cosine | 18.0 |" in rows[1]
    # the spread over seeds names the schedule the seeds share
    assert "| commit bbbbbbb | cpu | 2 / 3 | cosine | 18.5 ± 0.7 |" in page.read_text()


def test_a_stale_page_fails_the_check_and_names_it(tmp_path, capsys):
    reports, page = tmp_path / "reports", tmp_path / "page" / "README.md"
    _write(reports, "gan-cpu-seed1-x.json", _report(1, 20.0))
    results.main(["--reports", str(reports), "--page", str(page)])
    with pytest.raises(SystemExit) as done:
        results.main(["--check", "--reports", str(reports), "--page", str(page)])
    assert done.value.code == 0

    _write(reports, "gan-cpu-seed2-y.json", _report(2, 21.0))  # a new report, page not rebuilt
    with pytest.raises(SystemExit) as done:
        results.main(["--check", "--reports", str(reports), "--page", str(page)])
    assert done.value.code == 1
    assert f"{page} is stale: run `make results`" in capsys.readouterr().err


def test_the_check_names_a_report_that_is_not_comparable(tmp_path, capsys):
    reports, page = tmp_path / "reports", tmp_path / "README.md"
    incomplete = _report(1, 20.0)
    del incomplete["date"], incomplete["load_average"]
    incomplete["seed"] = None
    _write(reports, "gan-cpu-seed1-x.json", incomplete)
    results.main(["--reports", str(reports), "--page", str(page)])
    with pytest.raises(SystemExit) as done:
        results.main(["--check", "--reports", str(reports), "--page", str(page)])
    assert done.value.code == 1
    err = capsys.readouterr().err
    for problem in ("no 'date'", "no 'load_average'", "'seed' is null without a 'seed_note'"):
        assert f"gan-cpu-seed1-x.json: {problem}" in err, err


def test_the_committed_page_goes_stale_when_a_report_is_added(tmp_path):
    """The real page and reports, copied: one more report makes `--check` fail."""
    reports = tmp_path / "results" / "reports"
    shutil.copytree(results.REPORTS, reports)
    page = tmp_path / "results" / "README.md"
    shutil.copy(results.PAGE, page)
    shutil.copy(results.PAGE.parent / results.CHART, page.parent / results.CHART)
    assert results.stale(reports, page) == []
    _write(reports, "gan-cpu-seed9-new.json", _report(9, 19.0))
    assert results.stale(reports, page) == [f"{page} is stale: run `make results` (python -m "
                                            "coursekit.tools.results) and commit it"]


def test_the_chart_plots_fid_against_training_cpu_minutes_of_the_newest_code(tmp_path):
    reports = tmp_path / "results" / "reports"
    for seed, fid, cpu in ((1, 24.0, 1200.0), (2, 26.0, 1260.0)):
        _write(reports, f"gan-cpu-seed{seed}-x.json", _report(seed, fid, train_cpu_seconds=cpu))
    older = _report(3, 40.0, train_cpu_seconds=600.0, commit="b" * 40)
    older["date"] = "2026-12-01T10:00:00+00:00"
    _write(reports, "gan-cpu-seed3-old.json", older)  # older code: not on the chart
    _write(reports, "gan-cpu-seed4-nocpu.json", _report(4, 30.0))  # no CPU time: not plotted
    smoke = _report(5, 90.0, train_cpu_seconds=30.0, profile="smoke")
    _write(reports, "gan-smoke-seed5-x.json", smoke)
    page = tmp_path / "results" / "README.md"
    results.main(["--reports", str(reports), "--page", str(page)])

    points = results.chart_points(results.load_reports(reports))
    assert [(label, r["seed"], minutes, fid) for label, _, r, minutes, fid in points] == [
        ("DCGAN (03)", 1, 20.0, 24.0), ("DCGAN (03)", 2, 21.0, 26.0)]
    svg = ElementTree.parse(page.parent / results.CHART).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    markers = [c for c in svg.iter(f"{ns}circle") if c.find(f"{ns}title") is not None]
    assert [m.find(f"{ns}title").text for m in markers] == ["DCGAN (03): 20, 24",
                                                           "DCGAN (03): 21, 26"]
    text = page.read_text()
    assert "![FID against training CPU time](fid-vs-training-cpu.svg)" in text
    assert "| DCGAN (03) | 2027-01-01 10:00 | aaaaaaa | 1 |" in text
    assert "| 20.0 | 24.00 | [json](reports/gan-cpu-seed1-x.json) |" in text


def test_a_stale_chart_fails_the_check_and_no_chart_without_cpu_times(tmp_path, capsys):
    reports, page = tmp_path / "reports", tmp_path / "page" / "README.md"
    _write(reports, "gan-cpu-seed1-x.json", _report(1, 20.0))  # no train_cpu_seconds
    results.main(["--reports", str(reports), "--page", str(page)])
    assert not (page.parent / results.CHART).exists()
    assert "FID against training CPU time" not in page.read_text()

    _write(reports, "gan-cpu-seed2-x.json", _report(2, 21.0, train_cpu_seconds=900.0))
    results.main(["--reports", str(reports), "--page", str(page)])
    chart = page.parent / results.CHART
    chart.write_text(chart.read_text().replace("21", "12"))
    with pytest.raises(SystemExit) as done:
        results.main(["--check", "--reports", str(reports), "--page", str(page)])
    assert done.value.code == 1
    assert f"{chart} is stale: run `make results`" in capsys.readouterr().err


def test_chart_ticks_and_bad_input():
    assert nice_ticks(36.7) == [0, 10, 20, 30, 40]
    assert nice_ticks(0.9) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(100) == [0, 20, 40, 60, 80, 100]
    with pytest.raises(ValueError, match="positive extent"):
        nice_ticks(0)
    with pytest.raises(ValueError, match="every series is empty"):
        scatter_svg({"a": []}, "x", "y", "t")


def test_the_xla_section_has_a_row_per_model_of_the_newest_measurement(tmp_path):
    row = {"notebook": "03", "examples_per_step": 64, "flops_per_image": 154_000_000,
           "without_xla": {"train_images_per_s": 700.0, "share_of_peak": 0.6},
           "with_xla": {"train_images_per_s": 480.0, "share_of_peak": 0.41},
           "without_xla_nondeterministic": {"train_images_per_s": 900.0},
           "with_xla_nondeterministic": {"train_images_per_s": 600.0},
           "compile_seconds": 3.4, "speedup": 0.686, "determinism_cost": 1.29}
    faster = {**row, "notebook": "01", "speedup": 1.86}
    loop = {"notebook": "05", "images_per_call": 64, "without_xla": {"loop_images_per_s": 80.0},
            "with_xla": {"loop_images_per_s": 88.0}, "speedup": 1.1, "compile_seconds": 0.1}
    old = _report(1, None, benchmark="xla", models={"dcgan": row})
    new = _report(2, None, benchmark="xla", peak_gflops_per_s={"tf_matmul": 180.0,
                                                               "numpy_matmul": 150.0},
                  models={"dcgan": row, "dense_autoencoder": faster},
                  loops={"lstm_sampling": loop})
    page = results.render([(tmp_path / "old.json", old), (tmp_path / "new.json", new)],
                          tmp_path / "README.md")
    section = page[page.index("## xla"):]
    assert ("| 03 | dcgan | 154.0 | 700 | 480 | 0.69 | 3.4 | 60.0% | 41.0% | no | off | 900 | "
            "600 | 1.29 |") in section
    assert "| 01 | dense_autoencoder |" in section and "| 1.86 | 3.4 |" in section
    assert "| yes | **XLA** |" in section  # what auto chooses (XLA_PAYS_ON_CPU)
    assert "| 05 | lstm_sampling | 64 | 80 | 88 | 1.10 | 0.1 |" in section
    assert "TensorFlow 180, numpy 150 GFLOP/s" in section
    assert "Earlier measurements: [" in section and "(old.json)" in section


def test_the_machine_column_names_the_cpu_and_its_vector_width():
    epyc = {"cpu_count": 2, "processor": "x86_64", "cpu_model": "AMD EPYC",
            "cpu_vector_flags": ["avx2", "fma"], "gpus": [], "tensorflow": "2.21.0"}
    assert results.machine_label(epyc) == "2 cores AMD EPYC (AVX2), no GPU, TF 2.21.0"
    wide = {**epyc, "cpu_vector_flags": ["avx2", "avx512f"]}
    assert "(AVX-512)" in results.machine_label(wide)
    older = {"cpu_count": 2, "processor": "x86_64", "gpus": []}  # reports before the model
    assert results.machine_label(older) == "2 cores x86_64, no GPU"
