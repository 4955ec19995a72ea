"""The exercises' worked solutions, applied to the notebooks' own cells.

Each notebook's Exercises section holds, per exercise, its text (a markdown cell that names
the cells to edit) and a check cell (tag ``exercise-check``) calling
``ck.exercise(n, value, op, bound, goal)``, which reports "done" or "not done yet" without
stopping the notebook. The worked solution of exercise n is a ``Solution`` in
``solutions/<notebook>.py``: the explanation, the edits (an exact piece of text replaced in
a cell named by its id) and the cells to re-run after them, in order. A solution is the edit
itself, never a copy of the code it changes, so it cannot drift from the notebook: if the
notebook changes under it, ``--check`` (run by ``make test``) names the edit that no longer
applies.

``python -m coursekit.tools.exercises``
    ``--check``            every solution applies to its notebook and every check has one
    ``--solve 02_vae 3``   ``solutions/build/02_vae-exercise-3.ipynb``: the notebook with
                           exercise 3 worked in (its edited cells re-run before its check),
                           to run top to bottom in JupyterLab (``--solve 02_vae all``)
    ``--exercised DIR``    the notebooks as ``make notebooks`` runs them: each notebook,
                           whole, then for each exercise: its check must have failed, the
                           edited cells are re-run, the check must pass, and the original
                           cells are re-run so that the next exercise starts clean
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = ROOT / "solutions"
CHECK_TAG = "exercise-check"
MIN_EXERCISES = 4


class ExerciseError(RuntimeError):
    """A solution does not fit its notebook; the message says which and how."""


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` (an exact piece of text that occurs once) by ``new`` in the cell whose
    id is ``cell``."""

    cell: str
    old: str
    new: str


@dataclass(frozen=True)
class Solution:
    """The worked solution of exercise ``exercise``: why it works (``explanation``, markdown),
    the ``edits``, the cells to ``rerun`` after them (ids, in notebook order, the edited ones
    included) and the ``check`` cell that must pass afterwards."""

    exercise: int
    explanation: str
    edits: tuple[Edit, ...]
    rerun: tuple[str, ...]
    check: str


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def solutions_of(stem: str) -> list[Solution]:
    """The solutions of notebook ``stem`` (``solutions/<stem>.py``'s ``SOLUTIONS``)."""
    path = SOLUTIONS / f"{stem}.py"
    if not path.exists():
        raise ExerciseError(f"{path.relative_to(ROOT)} is missing: every notebook's exercises "
                            "need their worked solutions there")
    spec = importlib.util.spec_from_file_location(f"solutions_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.SOLUTIONS)


def _cells(notebook: dict) -> dict[str, dict]:
    return {cell.get("id"): cell for cell in notebook["cells"]}


def check_number(cell) -> int | None:
    """The exercise number a check cell reports (its ``exercise(n, ...)`` call)."""
    import re

    found = re.findall(r"\bexercise\(\s*(\d+)\s*,", _source(cell))
    return int(found[0]) if len(found) == 1 else None


def problems(notebook: dict, solutions: list[Solution], name: str) -> list[str]:
    """Why ``solutions`` do not fit ``notebook`` (empty if they do)."""
    cells, found = _cells(notebook), []
    checks = {check_number(c): c.get("id") for c in notebook["cells"]
              if CHECK_TAG in c.get("metadata", {}).get("tags", [])}
    if None in checks:
        found.append(f"{name}: a cell tagged {CHECK_TAG} (id {checks[None]}) must call "
                     "ck.exercise(n, ...) exactly once")
    numbers = [s.exercise for s in solutions]
    if len(numbers) != len(set(numbers)):
        found.append(f"{name}: two solutions for one exercise: {sorted(numbers)}")
    if len(set(numbers)) < MIN_EXERCISES:
        found.append(f"{name}: {len(set(numbers))} exercises with solutions; at least "
                     f"{MIN_EXERCISES} are needed")
    for number in sorted(set(checks) - set(numbers) - {None}):
        found.append(f"{name}: exercise {number} has a check cell but no solution")
    order = {cell.get("id"): i for i, cell in enumerate(notebook["cells"])}
    for s in solutions:
        where = f"{name}, exercise {s.exercise}"
        if checks.get(s.exercise) != s.check:
            found.append(f"{where}: check cell {s.check!r} is not the cell tagged {CHECK_TAG} "
                         f"that calls exercise({s.exercise}, ...)")
        if not s.edits:
            found.append(f"{where}: a solution edits at least one cell")
        for edit in s.edits:
            cell = cells.get(edit.cell)
            if cell is None:
                found.append(f"{where}: no cell with id {edit.cell!r} to edit")
                continue
            count = _source(cell).count(edit.old)
            if count != 1:
                found.append(f"{where}: the text to replace occurs {count} times in cell "
                             f"{edit.cell!r} (it must occur once): {edit.old[:60]!r}")
            if edit.cell not in s.rerun:
                found.append(f"{where}: edited cell {edit.cell!r} is not re-run")
        missing = [c for c in s.rerun if c not in cells]
        if missing:
            found.append(f"{where}: no cells with ids {missing} to re-run")
        elif [order[c] for c in s.rerun] != sorted(order[c] for c in s.rerun):
            found.append(f"{where}: the cells to re-run are not in notebook order")
        elif s.check in s.rerun and s.rerun[-1] != s.check:
            found.append(f"{where}: the check cell, re-run, must come last")
        elif any(cells[c]["cell_type"] != "code" for c in s.rerun):
            found.append(f"{where}: only code cells can be re-run")
    return found


def _edited_sources(notebook: dict, solution: Solution) -> dict[str, str]:
    """The source of every cell ``solution`` re-runs, with its edits applied."""
    cells = _cells(notebook)
    sources = {c: _source(cells[c]) for c in solution.rerun}
    for edit in solution.edits:
        sources[edit.cell] = sources[edit.cell].replace(edit.old, edit.new, 1)
    return sources


def solved(notebook: dict, solutions: list[Solution]) -> dict:
    """``notebook`` with ``solutions`` worked in, for a student or instructor to run top to
    bottom: before each solved exercise's check, its explanation and the cells it re-runs,
    edited (the check cell itself edited where the solution edits it); after the check, the
    notebook's own cells again, as the next exercise expects them."""
    result = copy.deepcopy(notebook)
    cells = _cells(notebook)
    for s in solutions:
        edited = _edited_sources(notebook, s)
        n = s.exercise
        before = [{"cell_type": "markdown", "id": f"solution-{n}", "metadata": {},
                   "source": f"**Worked solution of exercise {n}.** {s.explanation}\n\n"
                             "The cells below are the notebook's cells "
                             f"{', '.join(f'`{c}`' for c in s.rerun)} with the solution's "
                             "edits, re-run in order."}]
        before += [_code(f"solution-{n}-{i}", edited[c])
                   for i, c in enumerate(s.rerun) if c != s.check]
        after = [_code(f"solution-{n}-restore-{i}", _source(cells[c]))
                 for i, c in enumerate(s.rerun) if c != s.check]
        at = [c.get("id") for c in result["cells"]].index(s.check)
        check = result["cells"][at]
        check["source"] = edited.get(s.check, _source(check))
        result["cells"][at:at + 1] = [*before, check, *after]
    return result


def _code(cell_id: str, source: str) -> dict:
    return {"cell_type": "code", "id": cell_id, "metadata": {}, "execution_count": None,
            "outputs": [], "source": source}


def exercised(notebook: dict, solutions: list[Solution]) -> dict:
    """``notebook`` followed by the harness: each exercise's check must have failed; then,
    per exercise, its edited cells re-run, its check, which must pass, and the original
    cells re-run (the state the next exercise expects)."""
    result = copy.deepcopy(notebook)
    cells = _cells(notebook)
    numbers = sorted(s.exercise for s in solutions)
    added = [_code("harness-unsolved", "import coursekit.exercises as _exercises\n"
                   f"for _n in {tuple(numbers)}:\n    _exercises.require(_n, done=False)")]
    for k, s in enumerate(sorted(solutions, key=lambda s: s.exercise)):
        edited, n = _edited_sources(notebook, s), s.exercise
        added += [_code(f"harness-{n}-solve-{i}", edited[c]) for i, c in enumerate(s.rerun)]
        if s.check not in s.rerun:  # (a check cell that the solution edits has just run)
            added.append(_code(f"harness-{n}-check", _source(cells[s.check])))
        added.append(_code(f"harness-{n}-done", f"_exercises.require({n}, done=True)"))
        if k + 1 < len(solutions):
            added += [_code(f"harness-{n}-restore-{i}", _source(cells[c]))
                      for i, c in enumerate(s.rerun)]
    result["cells"] += added
    return result


def _read(stem: str) -> dict:
    path = NOTEBOOKS / f"{stem}.ipynb"
    if not path.exists():
        raise ExerciseError(f"no notebook {path.relative_to(ROOT)}")
    return json.loads(path.read_text(encoding="utf-8"))


def _write(notebook: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def stems() -> list[str]:
    return [p.stem for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.tools.exercises",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="the solutions fit the notebooks")
    action.add_argument("--solve", nargs=2, metavar=("NOTEBOOK", "N"),
                        help="write the notebook with exercise N (or all) solved")
    action.add_argument("--exercised", type=Path, metavar="DIR",
                        help="write the notebooks with their exercise harness to DIR")
    parser.add_argument("notebooks", nargs="*",
                        help="with --check or --exercised: these notebooks only (default: all)")
    args = parser.parse_args(argv)
    try:
        if args.solve:
            stem, which = args.solve
            stem = stem.removesuffix(".ipynb").rsplit("/", 1)[-1]
            chosen = [s for s in solutions_of(stem) if which == "all" or str(s.exercise) == which]
            if not chosen:
                raise ExerciseError(f"{stem} has no exercise {which}")
            out = SOLUTIONS / "build" / f"{stem}-exercise-{which}.ipynb"
            _write(solved(_read(stem), chosen), out)
            print(out.relative_to(ROOT))
            return 0
        bad = []
        chosen = [n.removesuffix(".ipynb").rsplit("/", 1)[-1] for n in args.notebooks]
        for stem in chosen or stems():
            notebook = _read(stem)
            solutions = solutions_of(stem)
            bad += problems(notebook, solutions, stem)
            if args.exercised and not bad:
                _write(exercised(notebook, solutions), args.exercised / f"{stem}.ipynb")
        if bad:
            print("\n".join(bad), file=sys.stderr)
            return 1
    except ExerciseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
