"""Pictures of a report as PNG bytes: key images with overlay, a 3-D snapshot, zone bars.

Drawn with matplotlib's object API (no pyplot state, safe in worker threads).
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lunglab.domain.labels import SHORT_NAMES, Label
from lunglab.imaging.quantify import slice_involvement

COLOURS = {1: (0.24, 0.55, 0.87), 2: (0.95, 0.76, 0.18), 3: (0.88, 0.25, 0.23)}
LUNG_WINDOW = (-1350.0, 150.0)


def _png(fig: Figure, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor=fig.get_facecolor())
    return buf.getvalue()


def key_slices(labels: np.ndarray, n: int = 3) -> list[int]:
    """The ``n`` axial slices with the most lesion voxels, at least a few slices apart.

    Without lesions: slices at 25, 50 and 75 % of the lung's extent.
    """
    per_slice = slice_involvement(labels)
    gap = max(3, labels.shape[0] // 12)
    chosen: list[int] = []
    if per_slice.any():
        for k in np.argsort(per_slice)[::-1]:
            if per_slice[k] == 0 or len(chosen) == n:
                break
            if all(abs(int(k) - c) >= gap for c in chosen):
                chosen.append(int(k))
        return sorted(chosen)
    zs = np.nonzero((labels > 0).any(axis=(1, 2)))[0]
    if zs.size == 0:
        return [labels.shape[0] // 2]
    return sorted({int(np.percentile(zs, p)) for p in (25, 50, 75)})


def _display(array2d: np.ndarray, direction: Sequence[float]) -> np.ndarray:
    """Orient an axial slice radiologically: anterior up, patient's left on the right."""
    d = np.asarray(direction, float).reshape(3, 3)
    out = array2d
    if d[0, 0] < 0:  # columns run towards the patient's right
        out = out[:, ::-1]
    if d[1, 1] < 0:  # rows run towards anterior
        out = out[::-1, :]
    return out


def key_images(labels: np.ndarray, hu: np.ndarray | None, slices: list[int],
               spacing: Sequence[float], direction: Sequence[float]) -> bytes:
    """The chosen axial slices side by side, CT in a lung window with the label overlay."""
    fig = Figure(figsize=(4.2 * len(slices), 4.6), facecolor="black")
    aspect = float(spacing[1]) / float(spacing[0])
    for i, k in enumerate(slices):
        ax = fig.add_subplot(1, len(slices), i + 1)
        if hu is not None:
            ax.imshow(_display(hu[k], direction), cmap="gray", vmin=LUNG_WINDOW[0],
                      vmax=LUNG_WINDOW[1], aspect=aspect, interpolation="bilinear")
        rgba = np.zeros((*labels.shape[1:], 4), np.float32)
        for value, rgb in COLOURS.items():
            sel = labels[k] == value
            rgba[sel, :3] = rgb
            rgba[sel, 3] = 0.18 if value == 1 else 0.55
        ax.imshow(_display(rgba, direction), aspect=aspect, interpolation="nearest")
        n = int((labels[k] >= 2).sum())
        ax.set_title(f"slice {k + 1}: {n} lesion voxels", color="white", fontsize=10)
        ax.text(0.02, 0.5, "R", color="white", transform=ax.transAxes, fontsize=11)
        ax.text(0.95, 0.5, "L", color="white", transform=ax.transAxes, fontsize=11)
        ax.set_axis_off()
    return _png(fig)


def _mesh(mask: np.ndarray, spacing_zyx: tuple[float, float, float], step: int
          ) -> tuple[np.ndarray, np.ndarray] | None:
    from skimage.measure import marching_cubes

    if mask.sum() < 8 or min(mask.shape) < 2:
        return None
    padded = np.pad(mask.astype(np.float32), 1)
    verts, faces, _, _ = marching_cubes(padded, 0.5, spacing=spacing_zyx, step_size=step)
    return verts - np.asarray(spacing_zyx), faces


def snapshot_3d(labels: np.ndarray, spacing: Sequence[float], direction: Sequence[float],
                max_size: int = 96) -> bytes:
    """A surface rendering seen from the front: lungs translucent blue, lesions red/yellow."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    f_yx = max(1, int(np.ceil(max(labels.shape[1:]) / max_size)))
    f_z = max(1, int(np.ceil(labels.shape[0] / max_size)))
    small = labels[::f_z, ::f_yx, ::f_yx]
    sp = (float(spacing[2]) * f_z, float(spacing[1]) * f_yx, float(spacing[0]) * f_yx)
    d = np.asarray(direction, float).reshape(3, 3)
    fig = Figure(figsize=(5.5, 5.5), facecolor="white")
    ax = fig.add_subplot(111, projection="3d")
    bounds = []
    for mask, colour, alpha, step in ((small > 0, COLOURS[1], 0.12, 2),
                                      (small == 2, COLOURS[2], 0.7, 1),
                                      (small == 3, COLOURS[3], 0.85, 1)):
        mesh = _mesh(mask, sp, step)
        if mesh is None:
            continue
        verts, faces = mesh
        world = verts[:, ::-1] @ d.T  # (x, y, z) index mm -> LPS directions
        bounds.append(world)
        ax.add_collection3d(Poly3DCollection(world[faces], facecolor=colour, alpha=alpha,
                                             edgecolor="none"))
    if bounds:
        pts = np.concatenate(bounds)
        lo, hi = pts.min(0), pts.max(0)
        centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2
        for setter, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), centre, strict=True):
            setter(c - half, c + half)
    ax.view_init(elev=8, azim=-90)  # from the front (LPS -y), patient's left on the right
    ax.set_box_aspect((1, 1, 1), zoom=1.35)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=0.95)
    ax.set_axis_off()
    ax.set_title("3-D view from the front (R on the left)", fontsize=10)
    return _png(fig)


def zone_bars(zones: list[dict[str, Any]]) -> bytes:
    """Stacked bars of GGO and consolidation % per zone, with each zone's score."""
    fig = Figure(figsize=(7.5, 3.4), facecolor="white")
    ax = fig.add_subplot(111)
    names = [f"{z['side'][0].upper()} {z['zone']}" for z in zones]
    ggo = [100 * z["ggo_ml"] / z["lung_ml"] if z["lung_ml"] else 0 for z in zones]
    cons = [100 * z["consolidation_ml"] / z["lung_ml"] if z["lung_ml"] else 0 for z in zones]
    x = np.arange(len(zones))
    ax.bar(x, ggo, color=COLOURS[2], label=SHORT_NAMES[Label.GGO])
    ax.bar(x, cons, bottom=ggo, color=COLOURS[3], label=SHORT_NAMES[Label.CONSOLIDATION])
    for i, z in enumerate(zones):
        ax.text(i, ggo[i] + cons[i] + 2, f"score {z['score']}", ha="center", fontsize=8)
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylabel("% of zone involved")
    ax.set_ylim(0, max(10.0, max(g + c for g, c in zip(ggo, cons, strict=True)) * 1.25))
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def summary_charts(rows: list[dict[str, Any]]) -> bytes:
    """Project summary: involvement per study and the distribution of severity scores."""
    fig = Figure(figsize=(9, 3.4), facecolor="white")
    done = [r for r in rows if r.get("involvement_pct") not in (None, "")]
    ax1 = fig.add_subplot(121)
    ax1.bar([str(r["study_id"]) for r in done], [float(r["involvement_pct"]) for r in done],
            color=COLOURS[3])
    ax1.set_xlabel("study")
    ax1.set_ylabel("% of lungs involved")
    ax1.tick_params(axis="x", labelsize=7, rotation=90)
    ax2 = fig.add_subplot(122)
    scores = [int(r["severity_score"]) for r in done]
    ax2.hist(scores, bins=[b - 0.5 for b in range(32)], color=COLOURS[1])
    ax2.set_xlabel("severity score (0-30)")
    ax2.set_ylabel("studies")
    for ax in (ax1, ax2):
        ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
