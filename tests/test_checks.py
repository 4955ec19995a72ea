"""``ck.check``: a claim printed with its value, bound and margin, failing by name, and
recorded for the seed sweep."""

import json

import numpy as np
import pytest

import coursekit as ck
from coursekit import checks


def test_a_claim_that_holds_is_printed_with_its_margin(capsys):
    assert ck.check(np.float32(11.15), "<", 13.87, "the AE beats PCA") == pytest.approx(11.15)
    out = capsys.readouterr().out
    assert out.startswith("✓ the AE beats PCA: 11.15 < 13.87 (margin 2.72")
    assert "19.6%" in out
    ck.check(0.41, "≈", 0.4, "PCA reproduces the paper", tol=0.05)
    assert "0.41 ≈ 0.4 ± 0.05 (margin 0.04, 80.0%)" in capsys.readouterr().out
    ck.check((15, 5), "==", (15, 5), "k = 3: 15 D updates, 5 G updates")
    assert "(15, 5) == (15, 5)" in capsys.readouterr().out


def test_a_claim_that_fails_names_itself():
    with pytest.raises(ck.ClaimFailed, match=r"the denoiser beats the plain AE: 50 < 47.4 "
                                             r"does not hold \(margin -2.6, -5.5%\)"):
        ck.check(50, "<", 47.4, "the denoiser beats the plain AE")
    with pytest.raises(AssertionError):  # nbval and a plain run stop on it
        ck.check(float("nan"), ">", 0.0, "R² of the fit is positive")
    with pytest.raises(ck.ClaimFailed, match="0.6 ≈ 0.4 ± 0.1"):
        ck.check(0.6, "≈", 0.4, "reproduced", tol=0.1)


def test_bad_calls_get_clear_errors():
    with pytest.raises(ValueError, match="op must be one of"):
        ck.check(1, "=>", 0, "x")
    with pytest.raises(ValueError, match="needs tol"):
        ck.check(1, "≈", 1, "x")
    with pytest.raises(ValueError, match="say what is claimed"):
        ck.check(1, ">", 0, "")


def test_margins_are_relative_to_the_bound():
    assert checks.margins(3.0, ">", 2.0) == (1.0, 0.5)
    assert checks.margins(1.5, "<=", 2.0) == (0.5, 0.25)
    assert checks.margins(1.0, ">", 0.0) == (1.0, None)  # no scale: absolute only
    assert checks.margins(7, "==", 7) == (0, 0.0)


def test_every_check_is_recorded_for_the_sweep(tmp_path, monkeypatch):
    record = tmp_path / "checks.jsonl"
    monkeypatch.setenv(checks.CHECKS_ENV, str(record))
    ck.check(0.3, ">", 0.2, "above chance")
    with pytest.raises(ck.ClaimFailed):
        ck.check(0.1, ">", 0.2, "above chance, again")
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(e["claim"], e["passed"]) for e in lines] == [("above chance", True),
                                                          ("above chance, again", False)]
    assert lines[0]["relative_margin"] == pytest.approx(0.5)
    assert lines[1]["margin"] == pytest.approx(-0.1)
