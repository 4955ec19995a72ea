"""A notebook's claims, checked in view: ``check(value, op, bound, claim)``.

Introduced in 01_autoencoders, section 0. Every claim a notebook makes about its numbers
("the autoencoder beats PCA") is a ``check``: it prints the claim, the computed value, the
bound and by how much it held, and raises ``ClaimFailed`` (an ``AssertionError``, so nbval
and a plain run stop there) naming the claim when it does not hold::

    ck.check(sse_ae30, "<", sse_pca, "the 30-D autoencoder beats PCA at equal code size")
    # ✓ the 30-D autoencoder beats PCA at equal code size: 11.15 < 13.87 (margin 2.72, 19.6%)

``op`` is one of ``<``, ``<=``, ``>``, ``>=``, ``==`` (exact: counts, shapes, flags) or
``≈`` (``abs(value - bound) <= tol``: a reproduced figure, with ``tol`` its tolerance).
The margin is how far the value is inside its bound (for ``≈``: ``tol - |value - bound|``),
and the relative margin divides it by ``|bound|`` (by ``tol`` for ``≈``): the seed sweep
(``python -m coursekit.tools.sweep``) collects them to show which claims hold with room
and which barely. When ``$COURSEKIT_CHECKS`` names a file, each check appends one JSON line
to it (the sweep sets it for every notebook and seed).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

CHECKS_ENV = "COURSEKIT_CHECKS"
OPERATORS = ("<", "<=", ">", ">=", "==", "≈")


class ClaimFailed(AssertionError):
    """A claim of the notebook that its numbers do not support (on this run)."""


def _number(x):
    """A plain Python number (or the value unchanged) from numpy / tensor scalars."""
    if hasattr(x, "numpy"):
        x = x.numpy()
    if hasattr(x, "item") and getattr(x, "size", 1) == 1:
        x = x.item()
    return x


def margins(value, op: str, bound, tol: float | None = None) -> tuple[float | None, float | None]:
    """How far ``value`` lies inside ``op bound``: (margin, relative margin); negative when
    the claim fails, None where no distance makes sense (``==`` on non-numbers)."""
    if op == "≈":
        margin = tol - abs(value - bound)
        return margin, margin / tol if tol else None
    if op == "==":
        if isinstance(value, (int, float)) and isinstance(bound, (int, float)):
            margin = -abs(value - bound)
            return margin, (margin / abs(bound) if bound else None)
        return None, None
    margin = (bound - value) if op in ("<", "<=") else (value - bound)
    return margin, (margin / abs(bound) if bound else None)


def holds(value, op: str, bound, tol: float | None = None) -> bool:
    if op == "<":
        return value < bound
    if op == "<=":
        return value <= bound
    if op == ">":
        return value > bound
    if op == ">=":
        return value >= bound
    if op == "==":
        return value == bound
    return abs(value - bound) <= tol


def _fmt(x) -> str:
    if isinstance(x, bool) or not isinstance(x, float):
        return repr(x) if isinstance(x, str) else str(x)
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.4g}"
    return f"{x:.3e}"


def check(value, op: str, bound, claim: str, tol: float | None = None):
    """Check ``value op bound`` (or ``|value - bound| <= tol`` for ``op="≈"``); print the
    claim, the value, the bound and the margin; raise ``ClaimFailed`` if it does not hold.
    Returns ``value``. Introduced in 01_autoencoders, section 0."""
    if op not in OPERATORS:
        raise ValueError(f"op must be one of {OPERATORS}, got {op!r}")
    if op == "≈" and (tol is None or tol < 0):
        raise ValueError("op '≈' needs tol >= 0: the tolerance of the reproduced value")
    if not claim or not isinstance(claim, str):
        raise ValueError("say what is claimed: check(value, op, bound, 'the claim')")
    value, bound = _number(value), _number(bound)
    if isinstance(value, float) and math.isnan(value):
        ok, margin, relative = False, None, None
    else:
        ok = bool(holds(value, op, bound, tol))
        margin, relative = margins(value, op, bound, tol) if ok or op != "==" else (None, None)
    shown = f"{_fmt(value)} {op} {_fmt(bound)}" + (f" ± {_fmt(tol)}" if op == "≈" else "")
    room = ""
    if margin is not None and op != "==":
        room = f" (margin {_fmt(margin)}" + (f", {relative:.1%})" if relative is not None
                                             else ")")
    _record(claim, value, op, bound, tol, ok, margin, relative)
    if not ok:
        raise ClaimFailed(f"claim failed: {claim}: {shown} does not hold{room}")
    print(f"✓ {claim}: {shown}{room}")
    return value


def _record(claim, value, op, bound, tol, ok, margin, relative) -> None:
    path = os.environ.get(CHECKS_ENV)
    if not path:
        return
    entry = {"claim": claim, "value": value, "op": op, "bound": bound, "tol": tol,
             "passed": ok, "margin": margin, "relative_margin": relative}
    with Path(path).open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, default=str, ensure_ascii=False) + "\n")
