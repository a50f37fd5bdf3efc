"""The model registry: versions with lineage, gated promotion, rollback, the active model.

Weights live in the ``VolumeStore`` (``models/<project>/<version>/<name>.pt``, the checkpoint
format of :func:`lunglab.ml.train.save_checkpoint`); rows live in ``model_versions``.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lunglab.db.lookup import get_or_404
from lunglab.db.base import utcnow
from lunglab.db.models import Study, User
from lunglab.db.models_training import MODALITIES, ModelVersion, TrainingRun
from lunglab.io.store import VolumeStore
from lunglab.services.access import audit
from lunglab.services.errors import Conflict, InvalidInput, NotFound
from lunglab.services.access.projects import require_role

MIN_REASON = 10
"""Characters an override reason needs at least."""


def model_name(project_id: int, number: int) -> str:
    """Name of a project's model version (also the stem of its weights file)."""
    return f"lunglab-p{project_id}-v{number}"


def get_version(db: Session, user: User | None, version_id: int,
                roles: tuple[str, ...] = ("admin", "reviewer")) -> ModelVersion:
    """A model version the user may see (project admins and reviewers; ``roles`` to tighten).

    Raises:
        NotFound: unknown version. Forbidden: not allowed.
    """
    mv = get_or_404(db, ModelVersion, version_id, "model version")
    if user is not None:
        require_role(db, user, mv.project_id, *roles)
    return mv


def list_versions(db: Session, user: User, project_id: int) -> list[ModelVersion]:
    """Versions of a project, newest first."""
    require_role(db, user, project_id, "admin", "reviewer")
    return list(db.scalars(select(ModelVersion).where(ModelVersion.project_id == project_id)
                           .order_by(ModelVersion.id.desc())))


@dataclass(frozen=True)
class ShippedModel:
    """Version 0 of every project: the model shipped with LungLab (``lunglab.ml`` weights).

    It is active whenever no trained version of the project is; ``rollback(..., 0)`` returns
    to it. It has no row in ``model_versions``: the rows are the project's trained versions.
    """

    project_id: int
    active: bool
    id: int = 0
    number: int = 0

    @property
    def name(self) -> str:
        from lunglab.ml.checkpoints import DEFAULT_MODEL

        return DEFAULT_MODEL

    @property
    def state(self) -> str:
        return "active" if self.active else "retired"

    @property
    def card(self) -> str:
        """The model card (markdown) shipped beside the weights."""
        from lunglab.ml.checkpoints import WEIGHTS_DIR

        path = WEIGHTS_DIR / f"{self.name}.md"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    @property
    def arch(self) -> str:
        from lunglab.ml.checkpoints import WEIGHTS_DIR

        manifest = WEIGHTS_DIR / f"{self.name}.json"
        if manifest.exists():
            members = json.loads(manifest.read_text(encoding="utf-8")).get("members", [])
            return "ensemble of " + " + ".join(members)
        return "2D"


def shipped_version(db: Session, project_id: int) -> ShippedModel:
    """Version 0 of the project: the shipped CT model, active unless a trained CT version is."""
    return ShippedModel(project_id=project_id, active=active_version(db, project_id) is None)


def active_version(db: Session, project_id: int, modality: str = "ct") -> ModelVersion | None:
    """The project's active version for ``modality`` (``ct`` or ``xr``).

    None: for CT the shipped default model is used; for radiographs there is no model (none
    is shipped, :mod:`lunglab.ml.radiograph`).
    """
    return db.scalar(select(ModelVersion).where(ModelVersion.project_id == project_id,
                                                ModelVersion.modality == modality,
                                                ModelVersion.state == "active"))


def weights_path(store: VolumeStore, mv: ModelVersion) -> str:
    """Local ``.pt`` path of a version's weights, as ``lunglab.ml.load_model`` accepts it."""
    return str(store.local_path(mv.weights_key))


def study_modality(study: Study | None) -> str:
    """``xr`` for a radiograph study, else ``ct``."""
    from lunglab.domain.radiograph import is_radiograph

    return "xr" if study is not None and is_radiograph(study.modality) else "ct"


def active_model_for_study(db: Session, store: VolumeStore, study_id: int) -> str | None:
    """Model that pre-annotation of a study uses: the project's active version of the study's
    modality, or None (CT: the shipped default; radiographs: no model)."""
    study = db.get(Study, study_id)
    mv = active_version(db, study.project_id, study_modality(study)) if study else None
    return weights_path(store, mv) if mv is not None else None


def model_by_name(db: Session, store: VolumeStore, project_id: int, name: str) -> str:
    """The weights to load for a model *name* asked for by a job: one of the project's model
    versions (its stored weights) or a model shipped with LungLab (its name).

    Raises:
        ValueError: when the name is neither; a job never opens a file path it was given.
    """
    mv = db.scalar(select(ModelVersion).where(ModelVersion.project_id == project_id,
                                              ModelVersion.name == name))
    if mv is not None:
        return weights_path(store, mv)
    if name in shipped_model_names():
        return name
    raise ValueError(f"unknown model {name!r}: not a model version of project {project_id} "
                     f"nor a shipped model ({', '.join(sorted(shipped_model_names()))})")


def shipped_model_names() -> set[str]:
    """Names of the models shipped in ``lunglab/ml/weights`` (manifests and checkpoints)."""
    from lunglab.ml.checkpoints import WEIGHTS_DIR

    return {p.stem for p in WEIGHTS_DIR.iterdir() if p.suffix in (".json", ".pt")}


def register(db: Session, store: VolumeStore, run: TrainingRun, network: torch.nn.Module,
             meta: dict[str, Any], *, base_version_id: int | None, base_model: str | None,
             metrics: dict[str, Any]) -> ModelVersion:
    """Store the weights and add a ``candidate`` version for a finished run (idempotent:
    a run registers one version; a second call returns the first).
    """
    from lunglab.ml.checkpoints import export_onnx
    from lunglab.ml.train import save_checkpoint

    existing = db.scalar(select(ModelVersion).where(ModelVersion.run_id == run.id))
    if existing is not None:
        return existing
    number = (db.scalar(select(func.max(ModelVersion.number))
                        .where(ModelVersion.project_id == run.project_id)) or 0) + 1
    name = model_name(run.project_id, number)
    meta = {**meta, "version": str(number), "name": name}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.pt"
        save_checkpoint(network, meta, path)
        key = f"models/{run.project_id}/run{run.id}/{name}.pt"
        # the ONNX copy beside the weights is what inference runs on CPU (lunglab.ml.load_model)
        store.put_file(key.removesuffix(".pt") + ".onnx", export_onnx(path))
        checksum = store.put_file(key, path)
    cfg = meta["config"]
    mv = ModelVersion(project_id=run.project_id, number=number, name=name, state="candidate",
                      modality=str(meta.get("modality") or "ct"),
                      base_version_id=base_version_id, base_model=base_model, arch=cfg["arch"],
                      config=cfg, seed=int(cfg.get("seed", 0)), data_snapshot=run.data_snapshot,
                      val_study_ids=run.val_study_ids, metrics=metrics, weights_key=key,
                      weights_checksum=checksum, run_id=run.id, created_by_id=run.created_by_id)
    db.add(mv)
    db.flush()
    audit.record(db, None, "model.register", "model_version", mv.id, project=run.project_id,
                 run=run.id, name=name)
    return mv


def _activate(db: Session, mv: ModelVersion, user: User, reason: str | None) -> ModelVersion:
    current = active_version(db, mv.project_id, mv.modality)
    if current is not None and current.id != mv.id:
        current.state = "retired"
        db.flush()
    mv.state, mv.promoted_at, mv.promoted_by_id = "active", utcnow(), user.id
    mv.promotion_reason = reason
    db.flush()
    return mv


def promote(db: Session, user: User, version_id: int, *, override: bool = False,
            reason: str | None = None) -> ModelVersion:
    """Make a candidate the project's active model, if it is not worse than the active one.

    Args:
        override: promote although the gate failed; needs ``reason``.
        reason: the admin's written reason (required with ``override``), audited.

    Raises:
        Conflict: the gate failed and no override, or the version is already active.
        InvalidInput: override without a reason of at least :data:`MIN_REASON` characters.
    """
    mv = get_version(db, user, version_id, roles=("admin",))
    if mv.state == "active":
        raise Conflict(f"{mv.name} is already active")
    gate = (mv.comparison or {}).get("gate", {"passed": False, "reasons": ["not evaluated"]})
    reason = (reason or "").strip() or None
    if not gate["passed"]:
        if not override:
            raise Conflict(f"{mv.name} is worse than the active model on the frozen validation "
                           "set; an admin may override with a written reason",
                           gate=gate)
        if reason is None or len(reason) < MIN_REASON:
            raise InvalidInput(f"an override needs a written reason ({MIN_REASON}+ characters)")
    previous = active_version(db, mv.project_id, mv.modality)
    _activate(db, mv, user, reason)
    audit.record(db, user, "model.promote", "model_version", mv.id, project=mv.project_id,
                 name=mv.name, modality=mv.modality, previous=previous.id if previous else None,
                 gate_passed=bool(gate["passed"]), override=bool(override and not gate["passed"]),
                 reason=reason)
    db.commit()
    return mv


def rollback(db: Session, user: User, project_id: int,
             version_id: int | None = None, modality: str = "ct") -> ModelVersion | None:
    """Make an earlier version active again (default: the one promoted before the current).

    ``version_id=0`` deactivates every version of ``modality``: for CT the shipped default
    model is used again, for radiographs no model. A named version rolls back its own
    modality.

    Raises:
        NotFound: no earlier version. Conflict: the version is already active.
    """
    require_role(db, user, project_id, "admin")
    if modality not in MODALITIES:
        raise InvalidInput(f"modality must be one of {', '.join(MODALITIES)}, not {modality!r}")
    if version_id:
        modality = get_version(db, user, version_id, roles=("admin",)).modality
    current = active_version(db, project_id, modality)
    if version_id is None:
        q = select(ModelVersion).where(ModelVersion.project_id == project_id,
                                       ModelVersion.modality == modality,
                                       ModelVersion.promoted_at.isnot(None),
                                       ModelVersion.state == "retired")
        if current is not None and current.promoted_at is not None:
            q = q.where(ModelVersion.promoted_at < current.promoted_at)
        target = db.scalar(q.order_by(ModelVersion.promoted_at.desc()).limit(1))
        if target is None:
            raise NotFound("no earlier promoted version to roll back to")
    elif version_id == 0:
        target = None
    else:
        target = get_version(db, user, version_id, roles=("admin",))
        if target.project_id != project_id:
            raise NotFound(f"model version {version_id} not found in project {project_id}")
    if target is not None and current is not None and target.id == current.id:
        raise Conflict(f"{target.name} is already active")
    if target is None:
        if current is not None:
            current.state = "retired"
    else:
        _activate(db, target, user, "rollback")
    audit.record(db, user, "model.rollback", "project", project_id, modality=modality,
                 previous=current.id if current else None,
                 active=target.id if target else None)
    db.commit()
    return target


def lineage(db: Session, mv: ModelVersion) -> list[dict[str, Any]]:
    """The chain of base versions, newest first (ends with the shipped or scratch base)."""
    chain: list[dict[str, Any]] = []
    seen: set[int] = set()
    cur: ModelVersion | None = mv
    while cur is not None and cur.id not in seen:
        seen.add(cur.id)
        chain.append({"id": cur.id, "name": cur.name, "base_model": cur.base_model})
        cur = db.get(ModelVersion, cur.base_version_id) if cur.base_version_id else None
    return chain
