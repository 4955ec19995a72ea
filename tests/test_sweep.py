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
