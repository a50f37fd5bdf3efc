"""Agreement across readers on a project's radiographs: kappa for the RSNA category, ICC for
the Brixia and RALE scores (maths in :mod:`lunglab.imaging.rater_agreement`).

Only studies with at least two readings count. Categories: Fleiss' kappa over every such
study (any number of readers), and Cohen's kappa (unweighted and quadratic-weighted, the
categories taken in :data:`~lunglab.domain.radiograph.CATEGORIES` order) for each pair of
readers on the studies both read. Scores: ICC(2,1) (two-way random, absolute agreement,
single reader) on the complete ``studies x readers`` table, dropping the reader with the fewest
scores until every kept study has a score from every kept reader.
"""
from __future__ import annotations

from collections import defaultdict
from itertools import combinations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.models import Study, User
from lunglab.db.models_radiograph import RadiographReading
from lunglab.domain.radiograph import CATEGORIES, RADIOGRAPH_MODALITIES
from lunglab.imaging.rater_agreement import cohen_kappa, fleiss_kappa, icc
from lunglab.services.access import projects


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _complete_table(scores: dict[int, dict[str, int]]) -> tuple[np.ndarray, list[str], list[int]]:
    """The largest ``studies x readers`` table without holes, greedily."""
    readers = sorted({r for by in scores.values() for r in by})
    while len(readers) >= 2:
        rows = [sid for sid, by in sorted(scores.items()) if all(r in by for r in readers)]
        if len(rows) >= 2:
            return (np.array([[scores[s][r] for r in readers] for s in rows], float),
                    readers, rows)
        counts = {r: sum(r in by for by in scores.values()) for r in readers}
        readers.remove(min(readers, key=lambda r: (counts[r], r)))
    return np.zeros((0, 0)), [], []


def _score_agreement(scores: dict[int, dict[str, int]]) -> dict:
    table, readers, rows = _complete_table(scores)
    return {"icc": _rounded(icc(table)) if rows else None,
            "icc_consistency": _rounded(icc(table, "consistency")) if rows else None,
            "studies": len(rows), "readers": readers,
            "mean_by_reader": {r: _rounded(float(table[:, i].mean()))
                               for i, r in enumerate(readers)} if rows else {}}


def project_agreement(db: Session, user: User, project_id: int) -> dict:
    """Kappa and ICC over the project's radiographs (reviewers and admins).

    Returns:
        ``{"project_id", "studies_read", "studies_compared", "category": {"fleiss_kappa",
        "pairs": [{"reader_a", "reader_b", "studies", "cohen_kappa", "weighted_kappa"}],
        "counts": {category: n}}, "brixia": {...}, "rale": {...}, "per_study": [...]}``;
        a statistic is None where it is undefined (too few studies, no variation).

    Raises:
        Forbidden: the user is not a reviewer or admin of the project.
    """
    projects.require_role(db, user, project_id, "admin", "reviewer")
    rows = db.execute(
        select(RadiographReading, Study.name).join(Study, Study.id == RadiographReading.study_id)
        .where(Study.project_id == project_id, Study.modality.in_(RADIOGRAPH_MODALITIES))
        .order_by(RadiographReading.study_id, RadiographReading.id)).unique().all()
    by_study: dict[int, dict[str, RadiographReading]] = defaultdict(dict)
    names: dict[int, str] = {}
    for reading, name in rows:
        by_study[reading.study_id][reading.user.username] = reading
        names[reading.study_id] = name
    compared = {sid: by for sid, by in by_study.items() if len(by) >= 2}
    index = {c: i for i, c in enumerate(CATEGORIES)}
    counts = np.array([[sum(r.category == c for r in by.values()) for c in CATEGORIES]
                       for by in compared.values()]).reshape(-1, len(CATEGORIES))
    readers = sorted({u for by in compared.values() for u in by})
    pairs = []
    for a, b in combinations(readers, 2):
        both = [by for by in compared.values() if a in by and b in by]
        if not both:
            continue
        ca = [index[by[a].category] for by in both]
        cb = [index[by[b].category] for by in both]
        pairs.append({"reader_a": a, "reader_b": b, "studies": len(both),
                      "cohen_kappa": _rounded(cohen_kappa(ca, cb, len(CATEGORIES))),
                      "weighted_kappa": _rounded(cohen_kappa(ca, cb, len(CATEGORIES),
                                                             "quadratic")),
                      "agreement": round(sum(x == y for x, y in zip(ca, cb, strict=True))
                                         / len(both), 4)})
    brixia = {sid: {u: sum(r.brixia) for u, r in by.items() if r.brixia is not None}
              for sid, by in compared.items()}
    rale = {sid: {u: sum(r.rale) for u, r in by.items() if r.rale is not None}
            for sid, by in compared.items()}
    per_study = [{"study_id": sid, "study_name": names[sid],
                  "readers": {u: {"category": r.category,
                                  "brixia": sum(r.brixia) if r.brixia is not None else None,
                                  "rale": sum(r.rale) if r.rale is not None else None}
                              for u, r in sorted(by.items())}}
                 for sid, by in sorted(by_study.items())]
    return {
        "project_id": project_id, "studies_read": len(by_study),
        "studies_compared": len(compared),
        "category": {"fleiss_kappa": _rounded(fleiss_kappa(counts)) if len(compared) else None,
                     "pairs": pairs,
                     "counts": {c: int(counts[:, i].sum()) for i, c in enumerate(CATEGORIES)}},
        "brixia": _score_agreement(brixia), "rale": _score_agreement(rale),
        "per_study": per_study,
    }
