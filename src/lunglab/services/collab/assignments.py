"""Reader assignments: by hand or balanced auto-assignment, the reader's state machine,
where each reader started from, submission (which freezes the reader's version) and active time.

States: ``assigned -> in_progress -> submitted -> approved`` or ``submitted -> returned ->
in_progress -> submitted ...``. A reader's save is refused (409) while their assignment is
``submitted`` or ``approved``.

Example:
    >>> a = assign_many(db, admin, pid, [study_id], ["ann"])[0]  # doctest: +SKIP
    >>> start(db, ann, a.id).start_from  # doctest: +SKIP
    'ai'
"""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.base import utcnow
from lunglab.db.models import Assignment, LabelMapVersion, Membership, Project, Study, User
from lunglab.db.models_collab import ActivityHeartbeat, AssignmentProgress
from lunglab.services.access import audit
from lunglab.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from lunglab.services.access.projects import assign, require_role, role_in

STATES = ("assigned", "in_progress", "submitted", "returned", "approved")
EDITABLE = ("assigned", "in_progress", "returned")
MAX_READERS_PER_STUDY = 5
HEARTBEAT_MAX_SECONDS = 60.0
HEARTBEAT_SLACK_SECONDS = 2.0


def aware(dt: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; treat them as UTC."""
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt


def progress_of(db: Session, a: Assignment) -> AssignmentProgress:
    """The assignment's progress row, created on first use."""
    p = db.get(AssignmentProgress, a.id)
    if p is None:
        p = AssignmentProgress(assignment_id=a.id, active_seconds=0.0)
        db.add(p)
        db.flush()
    return p


def assign_many(db: Session, actor: User, project_id: int, study_ids: list[int],
                usernames: list[str]) -> list[Assignment]:
    """Give every listed study to every listed reader (existing assignments are kept).

    Raises:
        Forbidden: the actor is not a project admin. NotFound/InvalidInput: unknown study/user.
    """
    require_role(db, actor, project_id, "admin")
    if not study_ids or not usernames:
        raise InvalidInput("give at least one study and one reader")
    if len(study_ids) * len(usernames) > 10_000:
        raise InvalidInput("at most 10000 assignments at once")
    for name in dict.fromkeys(usernames):
        _reader(db, name, project_id)
    return [assign(db, actor, sid, name, project_id=project_id)
            for sid in dict.fromkeys(study_ids) for name in dict.fromkeys(usernames)]


def _reader(db: Session, username: str, project_id: int) -> User:
    """A project annotator. Readers must be annotators: only they are blinded."""
    u = db.scalar(select(User).where(User.username == username))
    role = role_in(db, u, project_id) if u is not None else None
    if u is None or role is None:
        raise InvalidInput(f"{username!r} is not a member of the project")
    if role != "annotator":
        raise InvalidInput(f"{username!r} is a project {role}; readers must be annotators "
                           "(only annotators are blinded to each other's work)")
    return u


def auto_assign(db: Session, actor: User, project_id: int, readers_per_study: int, *,
                usernames: list[str] | None = None, study_ids: list[int] | None = None,
                quota: int | None = None) -> dict[str, Any]:
    """Give each study N distinct readers, always picking the least-loaded eligible reader.

    Load counts every assignment the reader has in the project (existing ones too), so repeated
    runs stay balanced. A reader never gets more than ``quota`` assignments in the project.

    Args:
        readers_per_study: N, 1..5.
        usernames: the reader pool (default: every annotator of the project).
        study_ids: the studies to fill (default: every study of the project).
        quota: optional maximum number of assignments per reader in the project.

    Returns:
        ``{"created": [Assignment], "unfilled": [{"study_id", "missing"}]}``.
    """
    require_role(db, actor, project_id, "admin")
    if not 1 <= readers_per_study <= MAX_READERS_PER_STUDY:
        raise InvalidInput(f"readers_per_study must be 1..{MAX_READERS_PER_STUDY}")
    if quota is not None and quota < 1:
        raise InvalidInput("quota must be at least 1")
    if usernames is None:
        pool = list(db.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.project_id == project_id, Membership.role == "annotator")))
    else:
        pool = [_reader(db, name, project_id) for name in dict.fromkeys(usernames)]
    if not pool:
        raise InvalidInput("no readers: add annotators to the project first")
    q = select(Study).where(Study.project_id == project_id)
    if study_ids is not None:
        q = q.where(Study.id.in_(study_ids))
    studies = list(db.scalars(q.order_by(Study.id)))
    if study_ids is not None and len(studies) != len(set(study_ids)):
        raise NotFound("some studies are not in this project")
    existing = db.execute(select(Assignment.study_id, Assignment.user_id).join(
        Study, Study.id == Assignment.study_id).where(Study.project_id == project_id)).all()
    load = Counter(uid for _, uid in existing)
    readers_of: dict[int, set[int]] = {}
    for sid, uid in existing:
        readers_of.setdefault(sid, set()).add(uid)
    created, unfilled = [], []
    for study in studies:
        have = readers_of.setdefault(study.id, set())
        while len(have) < readers_per_study:
            eligible = [u for u in pool if u.id not in have
                        and (quota is None or load[u.id] < quota)]
            if not eligible:
                unfilled.append({"study_id": study.id, "missing": readers_per_study - len(have)})
                break
            reader = min(eligible, key=lambda u: (load[u.id], u.username))
            a = Assignment(study_id=study.id, user_id=reader.id)
            db.add(a)
            have.add(reader.id)
            load[reader.id] += 1
            created.append(a)
    db.flush()
    audit.record(db, actor, "assignment.auto", "project", project_id, created=len(created),
                 readers_per_study=readers_per_study, quota=quota,
                 unfilled=len(unfilled))
    return {"created": created, "unfilled": unfilled}


def get_assignment(db: Session, user: User, assignment_id: int) -> tuple[Assignment, str]:
    """The assignment and the caller's relation to it: ``reader``, ``admin`` or ``reviewer``.

    Raises:
        NotFound: unknown, or the caller is neither its reader nor a project admin/reviewer.
    """
    a = db.get(Assignment, assignment_id)
    if a is not None:
        if a.user_id == user.id:
            return a, "reader"
        study = db.get(Study, a.study_id)
        role = role_in(db, user, study.project_id) if study else None
        if role in ("admin", "reviewer"):
            return a, role
    raise NotFound(f"assignment {assignment_id} not found")


def _own(db: Session, user: User, assignment_id: int) -> Assignment:
    a, rel = get_assignment(db, user, assignment_id)
    if rel != "reader":
        raise Forbidden("only the assigned reader can do this")
    return a


def list_assignments(db: Session, user: User, project_id: int, *, state: str | None = None,
                     username: str | None = None, study_id: int | None = None) -> list[Assignment]:
    """Assignments of a project. Annotators only ever get their own (blinding)."""
    role = role_in(db, user, project_id)
    if role is None or db.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} not found")
    q = select(Assignment).join(Study, Study.id == Assignment.study_id).where(
        Study.project_id == project_id)
    if role == "annotator":
        q = q.where(Assignment.user_id == user.id)
    elif username:
        q = q.join(User, User.id == Assignment.user_id).where(User.username == username)
    if state:
        q = q.where(Assignment.state == state)
    if study_id is not None:
        q = q.where(Assignment.study_id == study_id)
    return list(db.scalars(q.order_by(Assignment.study_id, Assignment.id)))


def my_assignments(db: Session, user: User, state: str | None = None) -> list[Assignment]:
    """The caller's own worklist across projects."""
    q = select(Assignment).where(Assignment.user_id == user.id)
    if state:
        q = q.where(Assignment.state == state)
    return list(db.scalars(q.order_by(Assignment.id)))


def unassign(db: Session, actor: User, assignment_id: int) -> None:
    """Remove an assignment the reader has not started (project admins).

    Raises:
        Conflict: the reader already worked on it.
    """
    a, _ = get_assignment(db, actor, assignment_id)
    study = db.get(Study, a.study_id)
    assert study is not None
    require_role(db, actor, study.project_id, "admin")
    if a.state != "assigned" or db.scalar(select(LabelMapVersion.id).where(
            LabelMapVersion.study_id == a.study_id, LabelMapVersion.author_id == a.user_id)):
        raise Conflict(f"assignment {a.id} is {a.state} and has work; it cannot be removed")
    audit.record(db, actor, "assignment.remove", "study", a.study_id, assignment=a.id,
                 reader_id=a.user_id)
    db.delete(a)
    db.flush()


def newest_ai_version(db: Session, study_id: int) -> LabelMapVersion | None:
    return db.scalar(select(LabelMapVersion).where(
        LabelMapVersion.study_id == study_id, LabelMapVersion.kind == "ai")
        .order_by(LabelMapVersion.id.desc()).limit(1))


def start(db: Session, user: User, assignment_id: int) -> Assignment:
    """The reader opens the study: record where they start, per the project's ``reader_start``.

    ``ai`` starts from the newest AI proposal (or empty when there is none); ``empty`` from an
    empty label map. The choice is recorded once; calling again returns the same start.
    """
    a = _own(db, user, assignment_id)
    p = progress_of(db, a)
    if p.start_from is None:
        study = db.get(Study, a.study_id)
        project = db.get(Project, study.project_id) if study else None
        wanted = ((project.settings or {}) if project else {}).get("reader_start", "ai")
        ai = newest_ai_version(db, a.study_id) if wanted == "ai" else None
        p.start_from = "ai" if ai else "empty"
        p.start_version_id = ai.id if ai else None
        p.started_at = utcnow()
        audit.record(db, user, "assignment.start", "study", a.study_id, assignment=a.id,
                     start_from=p.start_from, start_version=p.start_version_id)
    if a.state == "assigned":
        a.state = "in_progress"
    db.flush()
    return a


def guard_reader_save(db: Session, user: User, study: Study) -> Assignment | None:
    """Called by ``labelmaps.save_version`` before a user's save; reads only.

    Refuses (409) a reader whose assignment is submitted or approved. Returns the user's
    assignment on the study (None for admins and reviewers without one).
    """
    # the progress row comes along, so ``note_reader_save`` finds it without a query
    row = db.execute(select(Assignment, AssignmentProgress)
                     .outerjoin(AssignmentProgress,
                                AssignmentProgress.assignment_id == Assignment.id)
                     .where(Assignment.study_id == study.id, Assignment.user_id == user.id)
                     ).first()
    a = row[0] if row is not None else None
    if a is not None and a.state not in EDITABLE:
        raise Conflict(
            f"your assignment on study {study.id} is {a.state}: the submitted version is frozen. "
            "You can edit again only if a reviewer returns it to you.",
            assignment_id=a.id, assignment_state=a.state)
    return a


def note_reader_save(db: Session, a: Assignment, base_version_id: int | None) -> None:
    """Called in the save's own transaction: the assignment is ``in_progress`` and, on the
    first save, what the reader started from is recorded."""
    p = progress_of(db, a)
    if p.start_from is None:
        base = db.get(LabelMapVersion, base_version_id) if base_version_id else None
        p.start_from = "empty" if base is None else ("ai" if base.kind == "ai" else "other")
        p.start_version_id = base.id if base else None
        p.started_at = utcnow()
    if a.state != "in_progress":
        a.state = "in_progress"


def submit(db: Session, user: User, assignment_id: int,
           version_id: int | None = None) -> Assignment:
    """Submit the reader's version (default: their newest) for review; it is frozen from now.

    Raises:
        Forbidden: not the reader. Conflict: wrong state or nothing saved yet.
        NotFound: the version is not one of the reader's versions of this study.
    """
    a = _own(db, user, assignment_id)
    if a.state not in EDITABLE:
        raise Conflict(f"assignment {a.id} is {a.state}; only work in progress can be submitted",
                       assignment_state=a.state)
    q = select(LabelMapVersion).where(LabelMapVersion.study_id == a.study_id,
                                      LabelMapVersion.author_id == user.id)
    if version_id is not None:
        version = db.scalar(q.where(LabelMapVersion.id == version_id))
        if version is None:
            raise NotFound(f"version {version_id} is not one of your versions of this study")
    else:
        version = db.scalar(q.order_by(LabelMapVersion.id.desc()).limit(1))
        if version is None:
            raise Conflict("save your label map before submitting it")
    p = progress_of(db, a)
    p.submitted_version_id = version.id
    p.submitted_at = utcnow()
    a.state = "submitted"
    audit.record(db, user, "assignment.submit", "study", a.study_id, assignment=a.id,
                 version=version.id)
    db.flush()
    return a


def heartbeat(db: Session, user: User, assignment_id: int, seconds: float) -> float:
    """Add active viewer time and return the assignment's total.

    Each heartbeat counts at most ``HEARTBEAT_MAX_SECONDS`` and never more than the wall-clock
    time since the previous heartbeat (plus a little slack), so a client cannot inflate time.

    Raises:
        Forbidden: not the reader. Conflict: the assignment is not being worked on.
        InvalidInput: negative or non-finite seconds.
    """
    if not 0 <= seconds < float("inf"):
        raise InvalidInput("seconds must be a non-negative number")
    a = _own(db, user, assignment_id)
    if a.state not in EDITABLE:
        raise Conflict(f"assignment {a.id} is {a.state}; time is only counted while editing",
                       assignment_state=a.state)
    p = progress_of(db, a)
    now = utcnow()
    counted = min(float(seconds), HEARTBEAT_MAX_SECONDS)
    last = aware(p.last_heartbeat_at)
    if last is not None:
        counted = min(counted, max(0.0, (now - last).total_seconds()) + HEARTBEAT_SLACK_SECONDS)
    p.active_seconds = float(p.active_seconds or 0.0) + counted
    p.last_heartbeat_at = now
    db.add(ActivityHeartbeat(assignment_id=a.id, seconds=counted, at=now))
    db.flush()
    return round(p.active_seconds, 1)


def assignment_facts(db: Session, a: Assignment) -> dict[str, Any]:
    """Plain facts about an assignment for the API layer."""
    p = db.get(AssignmentProgress, a.id)
    study = db.get(Study, a.study_id)
    user = db.get(User, a.user_id)
    return {
        "id": a.id, "study_id": a.study_id, "project_id": study.project_id if study else None,
        "study_name": study.name if study else "", "user_id": a.user_id,
        "username": user.username if user else None, "state": a.state,
        "created_at": aware(a.created_at),
        "start_from": p.start_from if p else None,
        "start_version_id": p.start_version_id if p else None,
        "submitted_version_id": p.submitted_version_id if p else None,
        "active_seconds": round(p.active_seconds, 1) if p else 0.0,
        "started_at": aware(p.started_at) if p else None,
        "submitted_at": aware(p.submitted_at) if p else None,
        "decided_at": aware(p.decided_at) if p else None,
    }
