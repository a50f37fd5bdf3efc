"""Projects, membership and the access rules every endpoint relies on."""
from __future__ import annotations

import secrets
from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.lookup import get_or_404
from lunglab.db.models import Assignment, Membership, Project, Study, User
from lunglab.domain.labels import DEFAULT_LABEL_SCHEMA
from lunglab.services.access import audit
from lunglab.services.errors import Conflict, Forbidden, InvalidInput, NotFound

ROLES = ("admin", "annotator", "reviewer")
DEFAULT_SETTINGS = {"auto_segment_on_import": False, "reader_start": "ai"}


def create_project(db: Session, name: str, description: str = "", *, actor: User | None,
                   settings: dict | None = None) -> Project:
    """Create a project with the default label schema; its creator becomes its admin."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("project name must have 1-100 characters")
    if db.scalar(select(Project).where(Project.name == name)):
        raise Conflict(f"project {name!r} already exists")
    project = Project(
        name=name, description=description,
        label_schema=[asdict(s) for s in DEFAULT_LABEL_SCHEMA],
        settings={**DEFAULT_SETTINGS, **(settings or {})},
        pseudonym_secret=secrets.token_hex(32),
    )
    db.add(project)
    db.flush()
    if actor is not None:
        db.add(Membership(project_id=project.id, user_id=actor.id, role="admin"))
    audit.record(db, actor, "project.create", "project", project.id, name=name)
    return project


def get_or_create_project(db: Session, name: str, actor: User | None) -> Project:
    project = db.scalar(select(Project).where(Project.name == name))
    return project or create_project(db, name, actor=actor)


SETTING_TYPES = {"auto_segment_on_import": bool, "reader_start": str}


def update_settings(db: Session, actor: User, project_id: int, changes: dict) -> Project:
    """Change project settings (project admins). Unknown keys or wrong types are refused."""
    project = require_role(db, actor, project_id, "admin")
    for key, value in changes.items():
        kind = SETTING_TYPES.get(key)
        if kind is None and key != "dicomweb":
            raise InvalidInput(f"unknown project setting {key!r}")
        if kind is not None and not isinstance(value, kind):
            raise InvalidInput(f"setting {key!r} must be {kind.__name__}")
    if changes.get("reader_start", "ai") not in ("ai", "empty"):
        raise InvalidInput("reader_start must be 'ai' or 'empty'")
    project.settings = {**(project.settings or {}), **changes}
    audit.record(db, actor, "project.settings", "project", project_id, keys=sorted(changes))
    return project


def role_in(db: Session, user: User, project_id: int) -> str | None:
    """The user's role in the project; site admins count as project admins."""
    if user.is_admin:
        return "admin"
    return db.scalar(select(Membership.role).where(Membership.project_id == project_id,
                                                   Membership.user_id == user.id))


def get_project(db: Session, user: User, project_id: int) -> tuple[Project, str]:
    """The project and the user's role. Non-members get NotFound (no existence leak)."""
    project = db.get(Project, project_id)
    role = role_in(db, user, project_id) if project else None
    if project is None or role is None:
        raise NotFound(f"project {project_id} not found")
    return project, role


def require_role(db: Session, user: User, project_id: int, *roles: str) -> Project:
    project, role = get_project(db, user, project_id)
    if role not in roles:
        raise Forbidden(f"this needs the role {' or '.join(roles)} in the project")
    return project


def list_projects(db: Session, user: User) -> list[tuple[Project, str]]:
    projects = db.scalars(select(Project).order_by(Project.id)).all()
    out = []
    for p in projects:
        role = role_in(db, user, p.id)
        if role:
            out.append((p, role))
    return out


def add_member(db: Session, actor: User, project_id: int, username: str, role: str) -> Membership:
    require_role(db, actor, project_id, "admin")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} not found")
    m = db.scalar(select(Membership).where(Membership.project_id == project_id,
                                           Membership.user_id == user.id))
    previous = m.role if m is not None else None
    if m is None:
        m = Membership(project_id=project_id, user_id=user.id, role=role)
        db.add(m)
    else:
        m.role = role
    db.flush()
    audit.record(db, actor, "project.member_set", "project", project_id, user=username, role=role,
                 previous_role=previous)
    return m


def list_members(db: Session, actor: User, project_id: int) -> list[Membership]:
    get_project(db, actor, project_id)
    return list(db.scalars(select(Membership).where(Membership.project_id == project_id)).all())


def can_see_study(db: Session, user: User, study: Study) -> str:
    """Return the user's role if they may open the study, else raise NotFound.

    Admins and reviewers see every study of their project; annotators only assigned ones.
    """
    role = role_in(db, user, study.project_id)
    if role in ("admin", "reviewer"):
        return role
    if role == "annotator" and db.scalar(
        select(Assignment.id).where(Assignment.study_id == study.id,
                                    Assignment.user_id == user.id)
    ) is not None:
        return role
    raise NotFound(f"study {study.id} not found")


def get_study(db: Session, user: User, study_id: int) -> tuple[Study, str]:
    study = get_or_404(db, Study, study_id, "study")
    return study, can_see_study(db, user, study)


def assign(db: Session, actor: User, study_id: int, username: str,
           project_id: int | None = None) -> Assignment:
    """Give a study to a project member (the collaboration workflow builds on this)."""
    study = get_or_404(db, Study, study_id, "study",
                       where=lambda s: project_id is None or s.project_id == project_id)
    require_role(db, actor, study.project_id, "admin")
    user = db.scalar(select(User).where(User.username == username))
    if user is None or role_in(db, user, study.project_id) is None:
        raise InvalidInput(f"{username!r} is not a member of the project")
    a = db.scalar(select(Assignment).where(Assignment.study_id == study_id,
                                           Assignment.user_id == user.id))
    if a is None:
        a = Assignment(study_id=study_id, user_id=user.id)
        db.add(a)
        db.flush()
        audit.record(db, actor, "study.assign", "study", study_id, user=username)
    return a
