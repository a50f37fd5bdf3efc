"""Projects, members and assignments."""
from __future__ import annotations

from fastapi import APIRouter

from lunglab.api.deps import AdminUser, CurrentUser, SessionDep
from lunglab.api.schemas.fields import IdParam
from lunglab.api.schemas.resources import (
    AssignmentIn,
    AssignmentPublic,
    MemberIn,
    MemberPublic,
    MembersPublic,
    ProjectCreate,
    ProjectPublic,
    ProjectsPublic,
    ProjectUpdate,
)
from lunglab.services.access import projects as svc

router = APIRouter(prefix="/projects", tags=["projects"])


def _public(p, role: str) -> ProjectPublic:  # type: ignore[no-untyped-def]
    return ProjectPublic(id=p.id, name=p.name, description=p.description,
                         label_schema=p.label_schema, settings=p.settings or {}, my_role=role,
                         created_at=p.created_at)


@router.get("", response_model=ProjectsPublic)
def list_projects(db: SessionDep, user: CurrentUser) -> ProjectsPublic:
    rows = svc.list_projects(db, user)
    return ProjectsPublic(data=[_public(p, r) for p, r in rows], count=len(rows))


@router.post("", response_model=ProjectPublic, status_code=201)
def create_project(body: ProjectCreate, db: SessionDep, admin: AdminUser) -> ProjectPublic:
    p = svc.create_project(db, body.name, body.description, actor=admin, settings=body.settings)
    return _public(p, "admin")


@router.get("/{project_id}", response_model=ProjectPublic)
def get_project(project_id: IdParam, db: SessionDep, user: CurrentUser) -> ProjectPublic:
    p, role = svc.get_project(db, user, project_id)
    return _public(p, role)


@router.patch("/{project_id}", response_model=ProjectPublic)
def update_project(project_id: IdParam, body: ProjectUpdate, db: SessionDep,
                   user: CurrentUser) -> ProjectPublic:
    p = svc.update_settings(db, user, project_id, body.settings)
    return _public(p, "admin")


@router.get("/{project_id}/members", response_model=MembersPublic)
def list_members(project_id: IdParam, db: SessionDep, user: CurrentUser) -> MembersPublic:
    rows = svc.list_members(db, user, project_id)
    data = [MemberPublic(user_id=m.user_id, username=m.user.username, role=m.role) for m in rows]
    return MembersPublic(data=data, count=len(data))


@router.post("/{project_id}/members", response_model=MemberPublic, status_code=201)
def add_member(project_id: IdParam, body: MemberIn, db: SessionDep,
               user: CurrentUser) -> MemberPublic:
    m = svc.add_member(db, user, project_id, body.username, body.role)
    return MemberPublic(user_id=m.user_id, username=body.username, role=m.role)


@router.post("/{project_id}/assignments", response_model=AssignmentPublic, status_code=201)
def assign(project_id: IdParam, body: AssignmentIn, db: SessionDep,
           user: CurrentUser) -> AssignmentPublic:
    a = svc.assign(db, user, body.study_id, body.username, project_id=project_id)
    return AssignmentPublic.model_validate(a)
