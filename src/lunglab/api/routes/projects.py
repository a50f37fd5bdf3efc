"""Projects, members and assignments."""
from __future__ import annotations

from fastapi import APIRouter

from lunglab.api.deps import AdminUser, CurrentUser, SessionDep
from lunglab.api.presenters import member_public, project_public
from lunglab.api.schemas.page import Page
from lunglab.api.schemas.fields import IdParam
from lunglab.api.schemas.resources import (
    AssignmentIn,
    AssignmentPublic,
    MemberIn,
    MemberPublic,
    ProjectCreate,
    ProjectPublic,
    ProjectUpdate,
)
from lunglab.services.access import projects as svc

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("", response_model=Page[ProjectPublic])
def list_projects(db: SessionDep, user: CurrentUser) -> Page[ProjectPublic]:
    rows = svc.list_projects(db, user)
    return Page[ProjectPublic](data=[project_public(p, r) for p, r in rows], count=len(rows))


@router.post("", response_model=ProjectPublic, status_code=201)
def create_project(body: ProjectCreate, db: SessionDep, admin: AdminUser) -> ProjectPublic:
    p = svc.create_project(db, body.name, body.description, actor=admin, settings=body.settings)
    return project_public(p, "admin")


@router.get("/{project_id}", response_model=ProjectPublic)
def get_project(project_id: IdParam, db: SessionDep, user: CurrentUser) -> ProjectPublic:
    p, role = svc.get_project(db, user, project_id)
    return project_public(p, role)


@router.patch("/{project_id}", response_model=ProjectPublic)
def update_project(project_id: IdParam, body: ProjectUpdate, db: SessionDep,
                   user: CurrentUser) -> ProjectPublic:
    p = svc.update_settings(db, user, project_id, body.settings)
    return project_public(p, "admin")


@router.get("/{project_id}/members", response_model=Page[MemberPublic])
def list_members(project_id: IdParam, db: SessionDep, user: CurrentUser) -> Page[MemberPublic]:
    rows = svc.list_members(db, user, project_id)
    return Page[MemberPublic](data=[member_public(m) for m in rows], count=len(rows))


@router.post("/{project_id}/members", response_model=MemberPublic, status_code=201)
def add_member(project_id: IdParam, body: MemberIn, db: SessionDep,
               user: CurrentUser) -> MemberPublic:
    m = svc.add_member(db, user, project_id, body.username, body.role)
    return member_public(m, body.username)


@router.post("/{project_id}/assignments", response_model=AssignmentPublic, status_code=201)
def assign(project_id: IdParam, body: AssignmentIn, db: SessionDep,
           user: CurrentUser) -> AssignmentPublic:
    a = svc.assign(db, user, body.study_id, body.username, project_id=project_id)
    return AssignmentPublic.model_validate(a)
