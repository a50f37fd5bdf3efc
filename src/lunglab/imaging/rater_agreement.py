"""Agreement between readers on study-level answers: kappa for categories, ICC for scores.

Closed-form statistics on small tables (numpy only):

- :func:`cohen_kappa`: two readers, unweighted (Cohen 1960) or with linear/quadratic weights
  for ordinal categories;
- :func:`fleiss_kappa`: any number of readers per study (Fleiss 1971; studies may have
  different numbers of readers, each at least 2);
- :func:`icc`: intraclass correlation from the two-way ANOVA of a complete
  ``studies x readers`` table (Shrout & Fleiss 1979): ICC(2,1), two-way random effects,
  absolute agreement, single reader (the default, McGraw & Wong's ICC(A,1)), and ICC(3,1),
  consistency.

Each returns ``None`` where the statistic is undefined (too few studies, no variance).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def cohen_kappa(a: Sequence[int], b: Sequence[int], n_categories: int,
                weights: str | None = None) -> float | None:
    """Cohen's kappa of two readers' category indices (``0..n_categories-1``) on the same
    studies.

    Args:
        a, b: one category index per study, same order.
        n_categories: number of categories.
        weights: None (unweighted), ``"linear"`` or ``"quadratic"``.

    Returns:
        Kappa, or None when undefined (no studies, or chance agreement is 1).

    Example:
        >>> round(cohen_kappa([0, 1, 1, 0], [0, 1, 0, 0], 2), 3)
        0.5
    """
    if len(a) != len(b):
        raise ValueError("both readers must rate the same studies")
    if not len(a):
        return None
    table = np.zeros((n_categories, n_categories))
    np.add.at(table, (np.asarray(a), np.asarray(b)), 1.0)
    table /= table.sum()
    i, j = np.indices(table.shape)
    if weights is None:
        w = (i != j).astype(float)
    elif weights == "linear":
        w = np.abs(i - j) / max(1, n_categories - 1)
    elif weights == "quadratic":
        w = ((i - j) / max(1, n_categories - 1)) ** 2
    else:
        raise ValueError("weights must be None, 'linear' or 'quadratic'")
    expected = np.outer(table.sum(1), table.sum(0))
    disagreement_expected = float((w * expected).sum())
    if disagreement_expected <= 1e-12:
        return None
    return 1.0 - float((w * table).sum()) / disagreement_expected


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa from a ``studies x categories`` table of how many readers chose each.

    Args:
        counts: non-negative integers; every row sums to the number of readers of that study
            (at least 2; rows may differ).

    Returns:
        Kappa, or None when undefined (no studies, or all readers chose one category).

    Example (Fleiss 1971's layout; the Wikipedia example gives 0.210):
        >>> round(fleiss_kappa(np.array([[2, 0], [0, 2], [1, 1]])), 3)
        0.333
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.shape[0] == 0:
        return None
    n_i = counts.sum(1)
    if np.any(n_i < 2):
        raise ValueError("every study needs at least 2 readers")
    p_i = ((counts**2).sum(1) - n_i) / (n_i * (n_i - 1))
    p_j = counts.sum(0) / n_i.sum()
    p_bar, p_e = float(p_i.mean()), float((p_j**2).sum())
    if p_e >= 1.0 - 1e-12:
        return None
    return (p_bar - p_e) / (1.0 - p_e)


def icc(scores: np.ndarray, kind: str = "agreement") -> float | None:
    """Intraclass correlation of a complete ``studies x readers`` score table.

    Args:
        scores: one row per study, one column per reader, no missing values.
        kind: ``"agreement"`` for ICC(2,1) (absolute agreement, two-way random) or
            ``"consistency"`` for ICC(3,1).

    Returns:
        The ICC, or None with fewer than 2 studies or 2 readers, or no variance at all.

    Example (Shrout & Fleiss 1979, table 2: ICC(2,1) = 0.29, ICC(3,1) = 0.71):
        >>> x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6],
        ...               [10, 5, 6, 9], [6, 2, 4, 7]])
        >>> round(icc(x), 2), round(icc(x, "consistency"), 2)
        (0.29, 0.71)
    """
    x = np.asarray(scores, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2 or np.isnan(x).any():
        return None
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * float(((x.mean(1) - grand) ** 2).sum())
    ss_cols = n * float(((x.mean(0) - grand) ** 2).sum())
    ss_err = float(((x - grand) ** 2).sum()) - ss_rows - ss_cols
    msr, msc = ss_rows / (n - 1), ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    if kind == "agreement":
        denominator = msr + (k - 1) * mse + k * (msc - mse) / n
    elif kind == "consistency":
        denominator = msr + (k - 1) * mse
    else:
        raise ValueError("kind must be 'agreement' or 'consistency'")
    if abs(denominator) < 1e-12:
        return None
    return (msr - mse) / denominator
