"""The check a student runs after an exercise: ``exercise(number, value, op, bound, goal)``.

Introduced in 01_autoencoders, Exercises. Each exercise of a notebook ends with a check cell
(tagged ``exercise-check``) that computes a number from the notebook's state and compares
it with what the solved exercise gives::

    ck.exercise(1, test_bce, "<", test_sse, "cross-entropy training lowers the test BCE")
    # · exercise 1 not done yet: cross-entropy training lowers the test BCE: 0.312 < 0.301 …

Unlike a claim (``ck.check``), an unmet exercise does not stop the notebook: the check prints
where the number stands and records the verdict in ``RESULTS``. The course's tests run every
check twice, before and after its worked solution (``solutions/``, applied by
``python -m coursekit.tools.exercises``), and require it to fail the first time and pass
the second.
"""

from __future__ import annotations

import math

from .checks import OPERATORS, _fmt, _number, holds

RESULTS: dict[int, bool] = {}  # exercise number → did its last check pass (this kernel)


def exercise(number: int, value, op: str, bound, goal: str, tol: float | None = None) -> bool:
    """Check exercise ``number``: does ``value op bound`` hold (``|value − bound| <= tol``
    for ``op="≈"``)? Prints the verdict with both numbers, records it in ``RESULTS`` and
    returns it."""
    if op not in OPERATORS:
        raise ValueError(f"op must be one of {OPERATORS}, got {op!r}")
    if op == "≈" and (tol is None or tol < 0):
        raise ValueError("op '≈' needs tol >= 0")
    value, bound = _number(value), _number(bound)
    done = not (isinstance(value, float) and math.isnan(value)) and bool(
        holds(value, op, bound, tol))
    shown = f"{_fmt(value)} {op} {_fmt(bound)}" + (f" ± {_fmt(tol)}" if op == "≈" else "")
    RESULTS[number] = done
    if done:
        print(f"✓ exercise {number} done: {goal}: {shown}")
    else:
        print(f"· exercise {number} not done yet: {goal}: needs {shown}, which does not "
              "hold on this notebook's state (edit the cells the exercise names, re-run "
              "them, then this check)")
    return done


def require(number: int, done: bool) -> None:
    """Fail unless exercise ``number``'s last check gave ``done`` (the tests' harness)."""
    if number not in RESULTS:
        raise AssertionError(f"exercise {number}'s check cell has not run")
    if RESULTS[number] is not done:
        raise AssertionError(
            f"exercise {number}'s check fails with its worked solution applied" if done else
            f"exercise {number}'s check passes without its solution: it tests nothing")
