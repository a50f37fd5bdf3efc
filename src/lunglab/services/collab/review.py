"""Review: a reviewer sees every submitted version of a study, approves one (a reader's, an edited
copy, or a consensus), or returns a reader's work with comments anchored to a slice/position.

Comments and decisions are kept; the reader sees those about their own assignment.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.lookup import get_or_404
from lunglab.db.base import utcnow
from lunglab.db.models import Assignment, LabelMapVersion, Study, User
from lunglab.db.models_collab import AssignmentProgress, ReviewComment, ReviewDecision
from lunglab.io.store import VolumeStore
from lunglab.services.access import audit
from lunglab.services.labels import labelmaps
from lunglab.services.collab.assignments import aware, get_assignment
from lunglab.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from lunglab.services.access.projects import get_study

REVIEW_ROLES = ("admin", "reviewer")
MAX_COMMENT = 5000


def review_study(db: Session, user: User, study_id: int) -> Study:
    """The study, if the caller reviews it (project admin or reviewer).

    Raises:
        NotFound: the caller may not see the study. Forbidden: an annotator.
    """
    study, role = get_study(db, user, study_id)
    if role not in REVIEW_ROLES:
        raise Forbidden("only a reviewer or a project admin can review")
    return study


def submitted(db: Session, study_id: int) -> list[tuple[Assignment, AssignmentProgress]]:
    """Assignments of the study with a submitted version (submitted or approved), by id."""
    rows = db.execute(
        select(Assignment, AssignmentProgress)
        .join(AssignmentProgress, AssignmentProgress.assignment_id == Assignment.id)
        .where(Assignment.study_id == study_id,
               Assignment.state.in_(("submitted", "approved")),
               AssignmentProgress.submitted_version_id.is_not(None))
        .order_by(Assignment.id)).all()
    return [(a, p) for a, p in rows]


def comment_facts(c: ReviewComment) -> dict[str, Any]:
    return {"id": c.id, "study_id": c.study_id, "assignment_id": c.assignment_id,
            "version_id": c.version_id, "author": c.author.username if c.author else None,
            "text": c.text, "slice_index": c.slice_index, "position": c.position,
            "created_at": aware(c.created_at)}


def decision_facts(d: ReviewDecision) -> dict[str, Any]:
    return {"id": d.id, "study_id": d.study_id, "assignment_id": d.assignment_id,
            "version_id": d.version_id, "decision": d.decision, "comment": d.comment,
            "reviewer": d.reviewer.username if d.reviewer else None,
            "created_at": aware(d.created_at), "same_person": same_person(d)}


def same_person(d: ReviewDecision) -> bool:
    """Did the reviewer approve their own reading (one person read and reviewed)?"""
    if d.decision != "approve" or d.version_id is None:
        return False
    from sqlalchemy.orm import object_session

    db = object_session(d)
    v = db.get(LabelMapVersion, d.version_id) if db is not None else None
    return v is not None and v.author_id is not None and v.author_id == d.reviewer_id


def submit_own_reading(db: Session, user: User, study_id: int,
                       version_id: int | None = None) -> Assignment:
    """A project admin or reviewer who works alone reads a study and submits it for review.

    The caller becomes the study's reader (an assignment of their own, which the blinding
    rules of annotators do not need: nobody else reads), and their newest version (or
    ``version_id``) is submitted. They may then approve it themselves; the approval records
    that reader and reviewer were the same person.

    Raises:
        Forbidden: an annotator (they submit their assignment). Conflict: nothing saved yet,
        or the reading is already submitted or approved.
    """
    from lunglab.services.collab.assignments import progress_of, submit

    study = review_study(db, user, study_id)
    a = db.scalar(select(Assignment).where(Assignment.study_id == study.id,
                                           Assignment.user_id == user.id))
    if a is None:
        if db.scalar(select(LabelMapVersion.id).where(LabelMapVersion.study_id == study.id,
                                                      LabelMapVersion.author_id == user.id)
                     .limit(1)) is None:
            raise Conflict("save your label map before submitting it")
        a = Assignment(study_id=study.id, user_id=user.id, state="in_progress")
        db.add(a)
        db.flush()
        p = progress_of(db, a)
        p.start_from, p.started_at = "other", utcnow()
        audit.record(db, user, "assignment.self", "study", study.id, assignment=a.id,
                     note="the reviewer reads the study themself")
    return submit(db, user, a.id, version_id)


def final_version_id(db: Session, study_id: int) -> int | None:
    """The version of the newest ``approve`` decision of the study."""
    return db.scalar(select(ReviewDecision.version_id).where(
        ReviewDecision.study_id == study_id, ReviewDecision.decision == "approve")
        .order_by(ReviewDecision.id.desc()).limit(1))


def feedback(db: Session, assignment_id: int) -> dict[str, list[dict[str, Any]]]:
    """Comments and decisions about one assignment (what its reader is shown)."""
    comments = db.scalars(select(ReviewComment).where(
        ReviewComment.assignment_id == assignment_id).order_by(ReviewComment.id))
    decisions = db.scalars(select(ReviewDecision).where(
        ReviewDecision.assignment_id == assignment_id).order_by(ReviewDecision.id))
    return {"comments": [comment_facts(c) for c in comments],
            "decisions": [decision_facts(d) for d in decisions]}


def overview(db: Session, user: User, study_id: int) -> dict[str, Any]:
    """What the review screen shows: each submitted version with its reader, consensus and
    review-copy versions, the decisions and comments so far, and the approved version."""
    study = review_study(db, user, study_id)
    readers = [{"assignment_id": a.id, "username": a_user.username if a_user else None,
                "state": a.state, "version_id": p.submitted_version_id,
                "active_seconds": round(p.active_seconds or 0.0, 1),
                "submitted_at": aware(p.submitted_at), "start_from": p.start_from}
               for a, p in submitted(db, study.id)
               for a_user in [db.get(User, a.user_id)]]
    versions = labelmaps.visible_versions(db, user, study, "admin")
    extra = [v for v in versions if v.kind == "consensus" or "review_copy_of" in (v.details or {})]
    comments = db.scalars(select(ReviewComment).where(ReviewComment.study_id == study.id)
                          .order_by(ReviewComment.id))
    decisions = db.scalars(select(ReviewDecision).where(ReviewDecision.study_id == study.id)
                           .order_by(ReviewDecision.id))
    audit.record(db, user, "review.view", "study", study.id)
    return {"study": study, "readers": readers, "other_versions": extra,
            "comments": [comment_facts(c) for c in comments],
            "decisions": [decision_facts(d) for d in decisions],
            "final_version_id": final_version_id(db, study.id)}


def _check_anchor(study: Study, slice_index: int | None, position: list[float] | None) -> None:
    if slice_index is not None and not 0 <= slice_index < study.shape[0]:
        raise InvalidInput(f"slice_index must be 0..{study.shape[0] - 1}")
    if position is not None:
        if len(position) != 2:
            raise InvalidInput("position is [x, y] in voxels of the slice")
        if not (0 <= position[0] < study.shape[2] and 0 <= position[1] < study.shape[1]):
            raise InvalidInput("position lies outside the slice")


def add_comment(db: Session, user: User, study_id: int, text: str, *,
                assignment_id: int | None = None, version_id: int | None = None,
                slice_index: int | None = None,
                position: list[float] | None = None) -> ReviewComment:
    """Add a comment. Reviewers/admins comment on anything of the study; a reader only on
    (and in reply to) their own assignment.

    Raises:
        InvalidInput: empty text, bad anchor, assignment/version not of this study.
    """
    study, role = get_study(db, user, study_id)
    text = text.strip()
    if not text or len(text) > MAX_COMMENT:
        raise InvalidInput(f"comment text must have 1-{MAX_COMMENT} characters")
    if assignment_id is not None:
        a, _ = get_assignment(db, user, assignment_id)
        if a.study_id != study.id:
            raise InvalidInput(f"assignment {assignment_id} is not on study {study.id}")
    elif role not in REVIEW_ROLES:
        raise Forbidden("readers comment on their own assignment (give assignment_id)")
    if version_id is not None:
        visible = {v.id for v in labelmaps.visible_versions(db, user, study, role)}
        if version_id not in visible:
            raise NotFound(f"version {version_id} not found for this study")
    _check_anchor(study, slice_index, position)
    c = ReviewComment(study_id=study.id, assignment_id=assignment_id, version_id=version_id,
                      author_id=user.id, text=text, slice_index=slice_index,
                      position=list(position) if position is not None else None)
    db.add(c)
    db.flush()
    audit.record(db, user, "review.comment", "study", study.id, comment=c.id,
                 assignment=assignment_id)
    return c


def return_to_reader(db: Session, user: User, assignment_id: int, comment: str,
                     anchors: list[dict[str, Any]] | None = None) -> Assignment:
    """Return a submitted assignment to its reader with a comment and optional anchored notes.

    Each anchor is ``{"text", "slice_index", "position"}``. The reader may edit again.

    Raises:
        Conflict: the assignment is not submitted. Forbidden: not a reviewer/project admin.
    """
    a, rel = get_assignment(db, user, assignment_id)
    if rel not in REVIEW_ROLES:
        raise Forbidden("only a reviewer or a project admin can return work")
    if a.state != "submitted":
        raise Conflict(f"assignment {a.id} is {a.state}; only submitted work can be returned",
                       assignment_state=a.state)
    if not comment.strip():
        raise InvalidInput("say why the work is returned (comment)")
    p = db.get(AssignmentProgress, a.id)
    version_id = p.submitted_version_id if p else None
    for note in anchors or []:
        add_comment(db, user, a.study_id, str(note.get("text", "")), assignment_id=a.id,
                    version_id=version_id, slice_index=note.get("slice_index"),
                    position=note.get("position"))
    db.add(ReviewDecision(study_id=a.study_id, assignment_id=a.id, version_id=version_id,
                          reviewer_id=user.id, decision="return", comment=comment.strip()))
    a.state = "returned"
    if p is not None:
        p.decided_at = utcnow()
    audit.record(db, user, "review.return", "study", a.study_id, assignment=a.id,
                 version=version_id)
    db.flush()
    return a


def approve(db: Session, user: User, study_id: int, version_id: int,
            comment: str = "") -> ReviewDecision:
    """Approve a version as the study's result and mark submitted assignments ``approved``.

    The version may be a reader's submitted version, a consensus, or a reviewer's copy.

    Raises:
        NotFound: the version is not of this study. Conflict: a reader's unsubmitted draft.
    """
    study = review_study(db, user, study_id)
    v = get_or_404(db, LabelMapVersion, version_id, "version",
                   where=lambda v: v.study_id == study.id,
                   context=" for this study")
    subs = submitted(db, study.id)
    drafters = set(db.scalars(select(Assignment.user_id).where(Assignment.study_id == study.id)))
    if v.author_id in drafters and v.id not in {p.submitted_version_id for _, p in subs}:
        raise Conflict(f"version {v.id} is a reader's draft; only submitted versions, "
                       "consensus versions and review copies can be approved")
    now = utcnow()
    approved_ids = []
    for a, p in subs:
        if a.state == "submitted":
            a.state = "approved"
            p.decided_at = now
            approved_ids.append(a.id)
    d = ReviewDecision(study_id=study.id, version_id=v.id, reviewer_id=user.id,
                       decision="approve", comment=comment.strip()[:MAX_COMMENT])
    db.add(d)
    for aid in approved_ids:
        db.add(ReviewDecision(study_id=study.id, assignment_id=aid, version_id=v.id,
                              reviewer_id=user.id, decision="approve",
                              comment=comment.strip()[:MAX_COMMENT]))
    db.flush()
    audit.record(db, user, "review.approve", "study", study.id, version=v.id, kind=v.kind,
                 assignments=approved_ids, same_person=v.author_id == user.id)
    return d


def save_review_copy(db: Session, store: VolumeStore, user: User, study_id: int,
                     labels: np.ndarray, base_version_id: int, message: str = "",
                     approve_it: bool = False) -> LabelMapVersion:
    """Store the reviewer's edited copy of a version (its parent), optionally approving it."""
    study = review_study(db, user, study_id)
    base = get_or_404(db, LabelMapVersion, base_version_id, "base version",
                      where=lambda base: base.study_id == study.id,
                      context=" for this study")
    v = labelmaps.save_version(db, store, user, study.id, labels, base_version_id=base.id,
                               kind="human", message=message or f"review copy of {base.id}",
                               details={"review_copy_of": base.id}, check_base=False)
    audit.record(db, user, "review.copy", "study", study.id, version=v.id, base=base.id)
    if approve_it:
        approve(db, user, study.id, v.id, message)
    return v
