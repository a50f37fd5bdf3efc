"""Kappa and ICC against published worked examples."""
from __future__ import annotations

import numpy as np
import pytest

from lunglab.imaging.rater_agreement import cohen_kappa, fleiss_kappa, icc

SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6],
                          [10, 5, 6, 9], [6, 2, 4, 7]])


def test_icc_matches_shrout_and_fleiss_1979() -> None:
    assert icc(SHROUT_FLEISS) == pytest.approx(0.2898, abs=1e-3)  # ICC(2,1)
    assert icc(SHROUT_FLEISS, "consistency") == pytest.approx(0.7148, abs=1e-3)  # ICC(3,1)


def test_icc_perfect_and_undefined() -> None:
    x = np.array([[1, 1], [5, 5], [9, 9]])
    assert icc(x) == pytest.approx(1.0)
    assert icc(np.array([[3, 4]])) is None  # one study
    assert icc(np.full((3, 2), 4)) is None  # no variance at all
    with pytest.raises(ValueError):
        icc(x, "other")


def test_fleiss_kappa_matches_the_wikipedia_worked_example() -> None:
    table = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
                      [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
                      [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    assert fleiss_kappa(table) == pytest.approx(0.210, abs=1e-3)


def test_fleiss_equals_scotts_pi_style_for_two_readers_and_edge_cases() -> None:
    assert fleiss_kappa(np.array([[2, 0], [0, 2]])) == pytest.approx(1.0)
    assert fleiss_kappa(np.array([[2, 0], [2, 0]])) is None  # one category only
    with pytest.raises(ValueError):
        fleiss_kappa(np.array([[1, 0]]))


def test_cohen_kappa_worked_example() -> None:
    # 50 studies: both yes 20, both no 15, a yes b no 5, a no b yes 10 -> kappa 0.4
    a = [1] * 20 + [0] * 15 + [1] * 5 + [0] * 10
    b = [1] * 20 + [0] * 15 + [0] * 5 + [1] * 10
    assert cohen_kappa(a, b, 2) == pytest.approx(0.4)
    assert cohen_kappa([0, 1, 2], [0, 1, 2], 4, "quadratic") == pytest.approx(1.0)
    assert cohen_kappa([0, 0], [0, 0], 4) is None
    assert cohen_kappa([], [], 4) is None
