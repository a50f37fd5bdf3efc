"""User administration (site admins)."""
from __future__ import annotations

from fastapi import APIRouter

from lunglab.api.deps import AdminUser, SessionDep
from lunglab.api.schemas.page import Page
from lunglab.api.schemas.resources import UserCreate, UserPublic
from lunglab.services.access import accounts

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=Page[UserPublic])
def list_users(db: SessionDep, admin: AdminUser) -> Page[UserPublic]:
    users = accounts.list_users(db)
    return Page[UserPublic](data=[UserPublic.model_validate(u) for u in users], count=len(users))


@router.post("", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, db: SessionDep, admin: AdminUser) -> UserPublic:
    user = accounts.create_user(db, body.username, body.password, is_admin=body.is_admin,
                                actor=admin)
    return UserPublic.model_validate(user)
