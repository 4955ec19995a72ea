"""The exercises and their worked solutions (coursekit.exercises, coursekit.tools.exercises).

`make notebooks` runs every notebook followed by its exercise harness; these tests check the
pieces: the student's check, the solutions against the notebooks, the harness built from
them (and that it catches a check which passes without its solution), and the decks'
solution notes."""

from __future__ import annotations

import json

import nbformat
import pytest

from coursekit import exercises
from coursekit.tools import exercises as tool
from coursekit.tools.exercises import Edit, Solution


@pytest.fixture(autouse=True)
def fresh_results():
    exercises.RESULTS.clear()
    yield
    exercises.RESULTS.clear()


def test_exercise_reports_and_records_without_raising(capsys):
    assert not exercises.exercise(3, 0.7, "<", 0.5, "the error halves")
    assert "exercise 3 not done yet" in capsys.readouterr().out
    assert exercises.exercise(3, 0.4, "<", 0.5, "the error halves")
    assert "✓ exercise 3 done" in capsys.readouterr().out
    assert exercises.RESULTS == {3: True}
    assert not exercises.exercise(4, float("nan"), "<", 1, "a nan never passes")
    with pytest.raises(ValueError, match="op must be one of"):
        exercises.exercise(1, 1, "<<", 2, "bad operator")


def test_require_names_what_went_wrong():
    with pytest.raises(AssertionError, match="has not run"):
        exercises.require(1, done=False)
    exercises.exercise(1, 1, "<", 2, "passes as the notebook stands")
    with pytest.raises(AssertionError, match="passes without its solution: it tests nothing"):
        exercises.require(1, done=False)
    exercises.exercise(1, 3, "<", 2, "fails")
    with pytest.raises(AssertionError, match="fails with its worked solution applied"):
        exercises.require(1, done=True)


def _notebook(extra_checks=0):
    cells = [nbformat.v4.new_code_cell("import coursekit as ck\nlimit = 10", id="setup"),
             nbformat.v4.new_code_cell("def score():\n    return 3\nvalue = score()", id="model"),
             nbformat.v4.new_markdown_cell("## Exercises", id="exercises")]
    for n in range(1, 5 + extra_checks):
        check = nbformat.v4.new_code_cell(
            f'ck.exercise({n}, value, ">", {n + 3}, "the score beats {n + 3}")', id=f"check-{n}")
        check.metadata["tags"] = ["exercise-check", "skip"]
        cells.append(check)
    return json.loads(nbformat.writes(nbformat.v4.new_notebook(cells=cells)))


def _solution(n, new="return 9"):
    return Solution(exercise=n, explanation="Return more.",
                    edits=(Edit(cell="model", old="return 3", new=new),),
                    rerun=("model", f"check-{n}"), check=f"check-{n}")


def test_solutions_that_fit_have_no_problems():
    assert tool.problems(_notebook(), [_solution(n) for n in range(1, 5)], "nb") == []


@pytest.mark.parametrize("broken, message", [
    (lambda s: [*s[:3]], "3 exercises with solutions; at least 4"),
    (lambda s: [*s, s[0]], "two solutions for one exercise"),
    (lambda s: [Solution(1, "x", (Edit("nowhere", "a", "b"),), ("model", "check-1"), "check-1"),
                *s[1:]], "no cell with id 'nowhere'"),
    (lambda s: [Solution(1, "x", (Edit("model", "return 4", "b"),), ("model", "check-1"),
                         "check-1"), *s[1:]], "occurs 0 times"),
    (lambda s: [Solution(1, "x", (Edit("model", "return 3", "b"),), ("check-1",), "check-1"),
                *s[1:]], "edited cell 'model' is not re-run"),
    (lambda s: [Solution(1, "x", (Edit("model", "return 3", "b"),), ("check-1", "model"),
                         "check-1"), *s[1:]], "not in notebook order"),
    (lambda s: [Solution(1, "x", (Edit("model", "return 3", "b"),), ("model",), "check-2"),
                *s[1:]], "is not the cell tagged exercise-check that calls exercise(1"),
])
def test_problems_name_each_misfit(broken, message):
    found = tool.problems(_notebook(), broken([_solution(n) for n in range(1, 5)]), "nb")
    assert any(message in line for line in found), found


def test_a_check_without_solution_is_reported():
    found = tool.problems(_notebook(extra_checks=1), [_solution(n) for n in range(1, 5)], "nb")
    assert "nb: exercise 5 has a check cell but no solution" in found


def test_the_harness_follows_the_whole_notebook_unchanged():
    notebook = _notebook()
    harnessed = tool.exercised(notebook, [_solution(n) for n in range(1, 5)])
    assert harnessed["cells"][:len(notebook["cells"])] == notebook["cells"]
    added = [tool._source(c) for c in harnessed["cells"][len(notebook["cells"]):]]
    assert "require(_n, done=False)" in added[0] and "(1, 2, 3, 4)" in added[0]
    assert added.count("def score():\n    return 9\nvalue = score()") == 4   # solved
    assert added.count("def score():\n    return 3\nvalue = score()") == 3   # restored
    assert sum("done=True" in a for a in added) == 4
    assert len({c["id"] for c in harnessed["cells"]}) == len(harnessed["cells"])


def _run(notebook):
    from nbclient import NotebookClient

    node = nbformat.reads(json.dumps(notebook), as_version=4)
    NotebookClient(node, timeout=120, kernel_name="python3").execute()
    return node


def test_the_harness_passes_real_solutions_and_fails_a_check_that_tests_nothing():
    notebook = _notebook()
    _run(tool.exercised(notebook, [_solution(n) for n in range(1, 5)]))   # no error
    # exercise 1's bound is 4: a "solution" that leaves the score at 3 does not solve it ...
    from nbclient.exceptions import CellExecutionError

    lazy = [_solution(1, new="return 3  # unchanged"), *[_solution(n) for n in range(2, 5)]]
    with pytest.raises(CellExecutionError, match="fails with its worked solution applied"):
        _run(tool.exercised(notebook, lazy))
    # ... and a check that already passes as the notebook stands is caught before any solution
    notebook["cells"][1]["source"] = "def score():\n    return 5\nvalue = score()"
    with pytest.raises(CellExecutionError, match="passes without its solution: it tests nothing"):
        _run(tool.exercised(notebook, [_solution(n) for n in range(1, 5)]))


def test_solved_notebook_works_each_solution_in_before_its_check():
    notebook = _notebook()
    result = tool.solved(notebook, [_solution(2), _solution(3)])
    ids = [c["id"] for c in result["cells"]]
    sources = {c["id"]: tool._source(c) for c in result["cells"]}
    at = ids.index("check-2")
    assert ids[at - 2:at + 2] == ["solution-2", "solution-2-0", "check-2", "solution-2-restore-0"]
    assert sources["solution-2"].startswith("**Worked solution of exercise 2.** Return more.")
    assert sources["solution-2-0"] == "def score():\n    return 9\nvalue = score()"
    assert sources["solution-2-restore-0"] == sources["model"]  # the notebook's own cell again
    assert sources["model"] == tool._source(notebook["cells"][1])  # left as it was
    assert "solution-3-0" in ids and len(set(ids)) == len(ids)


def test_a_solved_notebook_runs_top_to_bottom_with_every_check_done():
    node = _run(tool.solved(_notebook(), [_solution(n) for n in range(1, 5)]))
    checks = [c for c in node.cells if c.get("id", "").startswith("check-")]
    assert all("✓ exercise" in c.outputs[0]["text"] for c in checks), checks


def test_every_notebook_has_at_least_four_exercises_whose_solutions_apply():
    for stem in tool.stems():
        notebook = json.loads((tool.NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
        solutions = tool.solutions_of(stem)
        assert tool.problems(notebook, solutions, stem) == []
        assert len(solutions) >= tool.MIN_EXERCISES
        for s in solutions:  # the student is told where to look, and how to tell success
            text = next(tool._source(c) for c in notebook["cells"]
                        if c.get("id") == f"exercise-{s.exercise}" or
                        tool._source(c).startswith(f"### Exercise {s.exercise} "))
            assert "Done when" in " ".join(text.split()), (stem, s.exercise)


def test_cli_writes_solved_and_harnessed_notebooks(tmp_path, capsys):
    assert tool.main(["--check"]) == 0
    assert tool.main(["--exercised", str(tmp_path), "08_diffusion"]) == 0
    written = json.loads((tmp_path / "08_diffusion.ipynb").read_text(encoding="utf-8"))
    assert written["cells"][-1]["source"].startswith("_exercises.require(")
    assert tool.main(["--solve", "08_diffusion", "99"]) == 1
    assert "has no exercise 99" in capsys.readouterr().err


def test_decks_carry_each_solution_in_the_speaker_notes():
    from coursekit.tools.slides import with_solution_notes

    node = nbformat.read(tool.NOTEBOOKS / "08_diffusion.ipynb", as_version=4)
    with_solution_notes(node, "08_diffusion")
    ids = [c.get("id") for c in node.cells]
    for s in tool.solutions_of("08_diffusion"):
        note = node.cells[ids.index(s.check) - 1]
        assert note.metadata["slideshow"]["slide_type"] == "notes"
        assert note.source.startswith(f"Solution of exercise {s.exercise}: ")
