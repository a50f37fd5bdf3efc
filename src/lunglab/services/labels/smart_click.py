"""Smart click: the interactive model redraws the lesions around a reader's click (issue 18).

The client sends the slices of its current label map around the clicked slice (its unsaved
edits included) and the clicks of this slice; the answer is the slices that changed, in the
same raw ``[k, y, x]`` form a slice save uses. Nothing is stored: the reader saves as usual, and
the save records how many clicks it took (``edit_counts``).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from lunglab.db.models import User
from lunglab.io.store import VolumeStore
from lunglab.services.access import projects
from lunglab.services.access.studies import load_volume
from lunglab.services.errors import InvalidInput
from lunglab.services.labels.formats import SliceEdit

MAX_CLICKS = 50
LUNG_HU = -500.0
"""A pixel a negative click takes out of a lesion becomes lung below this HU, else background."""

_Entry = tuple[np.ndarray, tuple[float, float, float]]
_volumes: OrderedDict[tuple[int, str], _Entry] = OrderedDict()
_volumes_lock = threading.Lock()


@dataclass(frozen=True)
class ClickIn:
    """One click in voxel indices of the study (x column, y row, z slice)."""

    x: int
    y: int
    z: int
    positive: bool = True


@lru_cache(maxsize=4)
def click_model(path: str | None = None) -> Any:
    """The interactive model (``path``: fine-tuned weights; None: the shipped ones), loaded once
    per process."""
    import torch

    from lunglab.ml.interactive import ClickModel

    torch.set_num_threads(1)
    model = ClickModel.load(path)
    model.meta.setdefault("name", f"fine-tuned ({Path(path).name})" if path else
                          "lunglab-smartclick2d-v1")
    return model


def weights_for(db: Session, store: VolumeStore, study: Any) -> str | None:
    """The Smart click weights fine-tuned with the project's active model, if there are any."""
    from lunglab.services.training.model_versions import active_version
    from lunglab.services.training.smartclick_tune import smartclick_key

    mv = active_version(db, study.project_id)
    if mv is None or not store.exists(smartclick_key(mv.weights_key)):
        return None
    return str(store.local_path(smartclick_key(mv.weights_key)))


def _hu(store: VolumeStore, study: Any) -> tuple[np.ndarray, tuple[float, float, float]]:
    """The study's HU array ``[z, y, x]`` and spacing ``(z, y, x)``, the last two studies cached."""
    key = (int(study.id), str(study.volume_key))
    with _volumes_lock:
        if key in _volumes:
            _volumes.move_to_end(key)
            return _volumes[key]
    vol = load_volume(store, study)
    sx, sy, sz = vol.spacing
    entry = (vol.array, (float(sz), float(sy), float(sx)))
    with _volumes_lock:
        _volumes[key] = entry
        while len(_volumes) > 2:
            _volumes.popitem(last=False)
    return entry


def relabel(hu: np.ndarray, before: np.ndarray, lesion: np.ndarray) -> np.ndarray:
    """Label planes after a smart click: new lesions get GGO/consolidation by HU, removed ones lung
    (or background where dense), everything else as it was."""
    from lunglab.ml.interactive import lesion_classes

    was = np.isin(before, (2, 3))
    out = before.copy()
    cls = lesion_classes(hu, before, lesion)
    out[lesion] = cls[lesion]
    gone = was & ~lesion
    out[gone] = np.where(hu[gone] < LUNG_HU, 1, 0).astype(np.uint8)
    return out


def warm(db: Session, store: VolumeStore, user: User, study_id: int) -> dict[str, Any]:
    """Load the network and the study's CT ahead of the first click (the client asks when the
    reader picks the tool), so the first click answers as fast as the next ones.

    Raises:
        NotFound / Forbidden: study unknown or not the user's.
    """
    t0 = time.perf_counter()
    study, _ = projects.get_study(db, user, study_id)
    path = weights_for(db, store, study)
    model = click_model(path) if path else click_model()
    _hu(store, study)
    return {"model": model.meta.get("name"), "ms": round((time.perf_counter() - t0) * 1000, 1)}


def smart_click(db: Session, store: VolumeStore, user: User, study_id: int, edit: SliceEdit,
                clicks: list[ClickIn], *, three_d: bool = True) -> tuple[SliceEdit, dict[str, Any]]:
    """Run the interactive model on the latest click.

    Args:
        edit: the client's current label slices (a contiguous run of z that holds the click).
        clicks: this slice's clicks, the latest last; they must all lie on the latest's slice.
        three_d: carry the change to the neighbouring slices of ``edit``.

    Returns:
        ``(changed, info)``: the slices whose labels changed and timing/model facts.

    Raises:
        InvalidInput: no clicks, too many, off the slices sent, or slices not contiguous.
        NotFound / Forbidden: study unknown or not the user's.
    """
    from lunglab.ml.interactive import Click
    from lunglab.ml.interactive_3d import correct_3d

    t0 = time.perf_counter()
    study, _ = projects.get_study(db, user, study_id)
    if not clicks or len(clicks) > MAX_CLICKS:
        raise InvalidInput(f"give 1 to {MAX_CLICKS} clicks")
    zs = list(edit.z)
    if zs != list(range(zs[0], zs[0] + len(zs))):
        raise InvalidInput("the label slices sent must be consecutive (z ascending)")
    _, ny, nx = (int(v) for v in study.shape)
    z = clicks[-1].z
    if z not in zs or any(c.z != z for c in clicks):
        raise InvalidInput("every click must lie on the clicked slice, among the slices sent")
    if any(not (0 <= c.x < nx and 0 <= c.y < ny) for c in clicks):
        raise InvalidInput("a click lies outside the image")
    hu_all, spacing = _hu(store, study)
    hu = hu_all[zs[0]:zs[-1] + 1].astype(np.float32)
    before = edit.planes
    lesion = np.isin(before, (2, 3))
    path = weights_for(db, store, study)
    model = click_model(path) if path else click_model()
    k0 = zs.index(z)
    own = [Click(c.y, c.x, c.positive) for c in clicks]
    if three_d:
        after = correct_3d(model, hu, lesion, k0, spacing, own)
    else:
        after = lesion.copy()
        after[k0] = model.correct(hu[k0], lesion[k0], spacing[1:], own)
    changed_z, planes = [], []
    for k, zz in enumerate(zs):
        if (after[k] != lesion[k]).any():
            new = relabel(hu[k], before[k], after[k])
            if (new != before[k]).any():
                changed_z.append(zz)
                planes.append(new)
    out = SliceEdit(tuple(changed_z), np.stack(planes) if planes else
                    np.zeros((0, ny, nx), np.uint8))
    info = {"model": model.meta.get("name"),
            "ms": round((time.perf_counter() - t0) * 1000, 1), "slices": list(changed_z)}
    return out, info
