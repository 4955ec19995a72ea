"""The seed sweep (coursekit.tools.sweep) on two tiny notebooks: every notebook runs on every
seed in a cache of its own, each claim is reported with its value and margin per seed, a
failed plain assert is seen too, and the results page shows the sweep."""

import json

import nbformat

from coursekit.tools import results, sweep


def _notebook(path, *sources):
    cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "coursekit", "display_name": "Python (coursekit)",
                       "language": "python"}})
    nbformat.write(notebook, path)
    return path


def test_a_sweep_reports_each_claim_on_each_seed(tmp_path):
    seed = "import os\nseed = int(os.environ['COURSEKIT_SEED'])\nimport coursekit as ck"
    first = _notebook(tmp_path / "91_first.ipynb", seed,
                      "ck.check(seed % 10, '<', 5, 'the seed ends in a digit below 5')",
                      "cache = os.environ['COURSEKIT_DATA_DIR']\n"
                      "open(os.path.join(cache, 'mine'), 'a').write('x')\n"
                      "ck.check(len(open(os.path.join(cache, 'mine')).read()), '==', 1, "
                      "'the cache is this seed\\'s own')")
    second = _notebook(tmp_path / "92_second.ipynb", seed,
                       "assert seed != 7, 'a plain assert that fails on seed 7'")
    report = tmp_path / "sweep.json"
    result = sweep.sweep([first, second], [1234, 7], "smoke", jobs=2, timeout=120,
                         work=tmp_path / "work", classifier_from=tmp_path, report=report)
    assert json.loads(report.read_text()) == json.loads(json.dumps(result, default=str))
    assert not result["passed"] and result["date"] and "commit" in result
    runs = {(r["notebook"], r["seed"]): r for r in result["runs"]}
    assert runs[("91_first", 1234)]["passed"] and runs[("92_second", 1234)]["passed"]
    assert not runs[("91_first", 7)]["passed"]
    assert runs[("91_first", 7)]["errors"][0]["error"] == "ClaimFailed"
    assert runs[("92_second", 7)]["errors"][0]["error"] == "AssertionError"
    claim = next(c for c in result["claims"] if c["claim"].startswith("the seed ends"))
    assert claim["seeds"]["1234"]["value"] == 4 and claim["seeds"]["7"]["passed"] is False
    assert claim["min_relative_margin"] == -0.4 and not claim["passed_on_every_seed"]
    own = next(c for c in result["claims"] if c["claim"].startswith("the cache"))
    assert own["passed_on_every_seed"]  # each seed wrote into a fresh cache

    page = results.render([(report, result)], tmp_path / "README.md")
    assert "## sweep" in page and "**failed: 91_first seed 7, 92_second seed 7**" in page
    assert "| 91 | the seed ends in a digit below 5 | < | 5 | 4 | **7 ✗** | -40.0% |" in page
    assert "a plain assert that fails on seed 7" in page
    assert results.problems(result) == []


def test_an_update_reruns_one_notebook_and_keeps_the_others_runs(tmp_path):
    seed = "import os\nseed = int(os.environ['COURSEKIT_SEED'])\nimport coursekit as ck"
    first = _notebook(tmp_path / "91_first.ipynb", seed,
                      "ck.check(seed, '>', 0, 'the seed is positive')")
    second = _notebook(tmp_path / "92_second.ipynb", seed,
                       "ck.check(seed % 10, '<', 5, 'the seed ends in a digit below 5')")
    earlier = tmp_path / "earlier.json"
    before = sweep.sweep([first, second], [1234, 7], "smoke", jobs=2, timeout=120,
                         work=tmp_path / "w1", classifier_from=tmp_path, report=earlier)
    assert not before["passed"]
    # the fix: the claim of 92 made true on every seed; only 92 runs again
    _notebook(second, seed, "ck.check(seed % 10, '<', 10, 'the seed ends in a digit')")
    after = sweep.sweep([second], [1234, 7], "smoke", jobs=2, timeout=120,
                        work=tmp_path / "w2", classifier_from=tmp_path,
                        report=tmp_path / "after.json", update=earlier)
    assert after["passed"] and after["updated_from"] == "earlier.json"
    assert after["notebooks"] == ["91_first", "92_second"] and after["seeds"] == [1234, 7]
    runs = {(r["notebook"], r["seed"]): r for r in after["runs"]}
    assert len(after["runs"]) == 4
    kept = {(r["notebook"], r["seed"]): r for r in before["runs"]}
    assert runs[("91_first", 7)]["checks"] == kept[("91_first", 7)]["checks"]
    assert runs[("91_first", 7)]["date"] == before["date"]
    assert runs[("92_second", 7)]["date"] == after["date"]
    assert [c["claim"] for c in after["claims"]] == ["the seed is positive",
                                                     "the seed ends in a digit"]
    page = results.render([(tmp_path / "after.json", after)], tmp_path / "README.md")
    assert "Updates earlier.json; runs by commit:" in page and "every run passed (4 runs)" in page


def test_an_update_of_another_profile_is_refused(tmp_path):
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({"profile": "cpu", "runs": [], "seeds": []}))
    try:
        sweep.sweep([], [1], "smoke", work=tmp_path / "w", update=earlier)
    except SystemExit as error:
        assert "the 'cpu' profile" in str(error)
    else:
        raise AssertionError("an update across profiles was accepted")


def test_an_interrupted_sweep_is_collected_from_its_work_folder(tmp_path):
    seed = "import os\nseed = int(os.environ['COURSEKIT_SEED'])\nimport coursekit as ck"
    first = _notebook(tmp_path / "91_first.ipynb", seed,
                      "ck.check(seed % 10, '<', 5, 'the seed ends in a digit below 5')")
    work = tmp_path / "work"
    ran = sweep.sweep([first], [1234, 7], "smoke", jobs=2, timeout=120, work=work,
                      classifier_from=tmp_path, report=tmp_path / "ran.json")
    (work / "91_first-seed7.ipynb").unlink()  # as if seed 7 was still running when stopped
    got = sweep.sweep([], [1234, 7], "smoke", work=tmp_path / "unused", collect=work,
                      report=tmp_path / "collected.json")
    assert [(r["notebook"], r["seed"]) for r in got["runs"]] == [("91_first", 1234)]
    assert got["seeds"] == [1234] and got["commit"] == ran["commit"]
    assert got["date"] == ran["date"] and got["collected_from"] == str(work)
    kept = next(r for r in ran["runs"] if r["seed"] == 1234)
    assert got["runs"][0]["checks"] == kept["checks"]
    assert got["runs"][0]["seconds"] >= 0  # from the cells' execution times (None without)
    assert results.problems(got) == []
    (work / sweep.STARTED).unlink()
    try:
        sweep.sweep([], [1234], "smoke", collect=work, report=tmp_path / "again.json")
    except SystemExit as error:
        assert "sweep-started.json is missing" in str(error)
    else:
        raise AssertionError("runs of an unknown commit were collected")


def test_a_sweep_runs_the_notebooks_as_they_were_when_it_started(tmp_path):
    path = tmp_path / "91_first.ipynb"
    edited = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import coursekit as ck\nck.check(0, '==', 1, 'the edited notebook')")])
    edit = ("import nbformat\n"
            f"nbformat.write(nbformat.reads({nbformat.writes(edited)!r}, as_version=4), "
            f"{str(path)!r})")
    _notebook(path, "import coursekit as ck", "ck.check(1, '==', 1, 'the original notebook')",
              edit)  # the first run edits the notebook's file, as a person might mid-sweep
    result = sweep.sweep([path], [1234, 7], "smoke", jobs=1, timeout=120,
                         work=tmp_path / "work", classifier_from=tmp_path,
                         report=tmp_path / "sweep.json")
    assert "the edited notebook" in path.read_text()
    assert result["passed"], [r["errors"] for r in result["runs"]]
    assert [c["claim"] for c in result["claims"]] == ["the original notebook"]


def test_a_sweep_runs_its_own_copy_of_the_package(tmp_path):
    # an edit of coursekit during a sweep (a `make export`, a renamed helper) broke the runs
    # that started after it, while the report named the commit the sweep started at
    work = tmp_path / "work"
    path = _notebook(tmp_path / "91_first.ipynb",
                     "import coursekit as ck\nfrom pathlib import Path",
                     f"ck.check(str(Path(ck.__file__).parent.parent), '==', "
                     f"{str(work / 'code')!r}, 'coursekit is the sweep\\'s copy')")
    result = sweep.sweep([path], [1234], "smoke", jobs=1, timeout=120, work=work,
                         classifier_from=tmp_path, report=tmp_path / "sweep.json")
    assert result["passed"], [r["errors"] for r in result["runs"]]
    assert (work / "code" / "coursekit" / "tools" / "sweep.py").is_file()
