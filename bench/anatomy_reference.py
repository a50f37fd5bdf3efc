"""A 3D reference lung mask and test volumes for the anatomy bench (bench/anatomy.py).

The reference is built on purpose differently from the product's mask
(:mod:`lunglab.imaging.anatomy`): full in-plane resolution, a lower air threshold (-400 HU),
a body mask from the skin outline, the trachea and main bronchi tracked slice by slice from the
top, the two largest 3D components, each closed per slice with a 5 mm disc (so vessels and
bronchi entering the lung are sealed in) and its holes filled per slice. No large closing, no
convex hull: it is the air-in-body lung a reader would outline, vessels included, hilum out.
Check it by eye (``bench/anatomy.py`` writes overlays to ``bench/out/``).

Test volumes made from the demo series:

- :func:`with_abdomen`: the series padded below with an abdomen-like region (the lowest
  slice's body outline, fat rim, soft tissue, a stomach, colon loops and small-bowel gas), plus a
  stomach gas bubble put into the real upper abdomen under the left dome;
- :func:`thick_slices`: slices averaged in groups (e.g. 3 x 2 mm -> 6 mm);
- :func:`prone`: the volume flipped front to back.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

REF_AIR_HU = -400.0
"""Air-in-body threshold of the reference."""
SEAL_MM = 5.0
"""Per-slice closing radius of each reference lung: seals vessels and bronchi that enter the lung
(channels up to 10 mm wide); the hilum and the mediastinum stay out."""
TRACHEA_HU = -900.0
"""Airway lumen threshold for the trachea tracking."""


def body_mask(hu: np.ndarray) -> np.ndarray:
    """Per slice: the largest region above -500 HU with its holes filled (the patient)."""
    out = np.zeros(hu.shape, bool)
    for z in range(hu.shape[0]):
        lab, n = ndi.label(hu[z] > -500)
        if n == 0:
            continue
        big = lab == int(np.argmax(np.bincount(lab.ravel())[1:])) + 1
        out[z] = ndi.binary_fill_holes(big)
    return out


def track_airways(hu: np.ndarray, body: np.ndarray, spacing_yx: tuple[float, float],
                  up: int = 1) -> np.ndarray:
    """Trachea and main bronchi, tracked slice by slice from the top of the volume.

    The seed is the dark (< -900 HU, median-filtered) compact region nearest the body's
    left-right centre in the highest slice that has one (50-800 mm²). Going down, the airway
    of a slice is every dark region that overlaps the airway of the slice above; a region
    larger than 3x the trachea's area (the lung) ends that branch.
    """
    pix = spacing_yx[0] * spacing_yx[1]
    order = range(hu.shape[0] - 1, -1, -1) if up > 0 else range(hu.shape[0])
    out = np.zeros(hu.shape, bool)
    prev: np.ndarray | None = None
    ref_area = None
    for z in order:
        dark = ndi.binary_opening((ndi.median_filter(hu[z], size=3) < TRACHEA_HU) & body[z])
        lab, n = ndi.label(dark)
        if n == 0:
            if prev is not None:
                break
            continue
        areas = np.bincount(lab.ravel(), minlength=n + 1) * pix
        if prev is None:
            _ys, xs = np.nonzero(body[z])
            if xs.size == 0:
                continue
            cx = xs.mean()
            best, best_d = 0, np.inf
            for i, sl in enumerate(ndi.find_objects(lab), start=1):
                if not 50.0 <= areas[i] <= 800.0:
                    continue
                d = abs((sl[1].start + sl[1].stop) / 2 - cx) * spacing_yx[1]
                if d < best_d and d < 30.0:
                    best, best_d = i, d
            if best == 0:
                continue
            prev = lab == best
            ref_area = areas[best]
            out[z] = prev
            continue
        grown = ndi.binary_dilation(prev, iterations=2)
        hits = np.unique(lab[grown & dark])
        hits = [i for i in hits if i and areas[i] <= 3.0 * max(ref_area, 150.0)]
        if not hits:
            break
        prev = np.isin(lab, hits)
        out[z] = prev
    return ndi.binary_dilation(out, structure=np.ones((1, 3, 3), bool))


def reference_lung(hu: np.ndarray, spacing: tuple[float, float, float], up: int = 1
                   ) -> np.ndarray:
    """The 3D reference lung mask of a CT volume (``spacing`` is ``(x, y, z)`` mm)."""
    sx, sy, _ = spacing
    body = body_mask(hu)
    smooth = ndi.median_filter(hu, size=(1, 3, 3))
    air = (smooth < REF_AIR_HU) & ndi.binary_erosion(body, structure=np.ones((1, 3, 3), bool),
                                                     iterations=2)
    airways = track_airways(hu, body, (sy, sx), up)
    air &= ~airways
    lab, n = ndi.label(air)
    if n == 0:
        return air
    sizes = np.bincount(lab.ravel(), minlength=n + 1)[1:]
    order = np.argsort(sizes)[::-1]
    keep = [order[0] + 1]
    if n > 1 and sizes[order[1]] >= 0.2 * sizes[order[0]]:
        keep.append(order[1] + 1)
    out = np.zeros(hu.shape, bool)
    r = round(SEAL_MM / sx)
    disc = np.hypot(*np.mgrid[-r:r + 1, -r:r + 1]) <= r
    for i in keep:
        one = lab == i
        for z in np.nonzero(one.any(axis=(1, 2)))[0]:
            closed = ndi.binary_closing(np.pad(one[z], r, mode="edge"), structure=disc)[r:-r, r:-r]
            out[z] |= ndi.binary_fill_holes(closed | one[z])
    return out & ~airways


def with_abdomen(hu: np.ndarray, spacing: tuple[float, float, float], below_mm: float = 160.0,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The volume padded below with an abdomen-like region; returns ``(hu, gas)``.

    ``gas`` marks every gas voxel that was added (the padded bowel and stomach, and a stomach
    bubble in the real upper abdomen): none of it may be labelled lung. Slice 0 is the lowest.
    """
    rng = np.random.default_rng(seed)
    sx, sy, sz = spacing
    n_new = round(below_mm / sz)
    _z, h, w = hu.shape
    body0 = body_mask(hu[:1])[0]
    inner = ndi.binary_erosion(body0, iterations=round(12 / sx))  # 12 mm fat rim
    yy, xx = np.mgrid[:h, :w].astype(float)
    ys, xs = np.nonzero(body0)
    cy, cx = ys.mean(), xs.mean()
    ry, rx = (ys.max() - ys.min()) / 2, (xs.max() - xs.min()) / 2
    new = np.full((n_new, h, w), -1000.0)
    gas = np.zeros((n_new, h, w), bool)
    for k in range(n_new):
        new[k][body0] = -100.0
        new[k][inner] = 45.0
    zz = np.arange(n_new)[:, None, None] * sz  # mm from the bottom of the padding
    top = n_new * sz

    def blob(mz: float, my: float, mx: float, rz: float, r_y: float, r_x: float) -> np.ndarray:
        return (((zz - mz) / rz) ** 2 + ((yy[None] - my) * sy / r_y) ** 2
                + ((xx[None] - mx) * sx / r_x) ** 2) <= 1.0

    # stomach (left upper), transverse colon (front), descending/ascending colon, small bowel
    gas |= blob(top - 25, cy - 0.3 * ry, cx + 0.45 * rx, 25, 35, 40)
    for mz in np.arange(top - 70, top - 40, 6.0):
        gas |= blob(mz, cy - 0.55 * ry, cx + 0.5 * rx * np.sin(mz / 17), 10, 14, 60)
    for side in (-1, 1):
        gas |= blob(top / 2, cy + 0.2 * ry, cx + side * 0.7 * rx, top / 2.5, 14, 14)
    for _ in range(25):
        gas |= blob(rng.uniform(10, top - 60), cy + rng.uniform(-0.4, 0.4) * ry,
                    cx + rng.uniform(-0.45, 0.45) * rx, rng.uniform(5, 12), rng.uniform(5, 12),
                    rng.uniform(5, 12))
    gas &= inner[None]
    new[gas] = -1000.0
    new += rng.normal(0, 12, new.shape)
    out = np.concatenate([np.rint(new).astype(hu.dtype), hu])
    all_gas = np.concatenate([gas, np.zeros(hu.shape, bool)])
    # a stomach gas bubble in the real upper abdomen, under the left dome, in soft tissue
    real = out[n_new:n_new + 10]
    soft = (real > -200) & (real < 200)
    _bz, bh, bw = real.shape
    byy, bxx = np.mgrid[:bh, :bw]
    disc = ((byy - (cy - 0.45 * ry)) * sy) ** 2 + ((bxx - (cx + 0.35 * rx)) * sx) ** 2 <= 20.0 ** 2
    bubble = soft & disc[None]
    bubble = ndi.binary_erosion(bubble, iterations=2)
    real[bubble] = -1000
    all_gas[n_new:n_new + 10] |= bubble
    return out, all_gas


def thick_slices(hu: np.ndarray, group: int) -> np.ndarray:
    """Average ``group`` consecutive slices (the remainder is dropped)."""
    n = hu.shape[0] // group * group
    return np.rint(hu[:n].reshape(-1, group, *hu.shape[1:]).mean(axis=1)).astype(hu.dtype)


def thick_mask(mask: np.ndarray, group: int) -> np.ndarray:
    """A mask at :func:`thick_slices` geometry: majority over each group."""
    n = mask.shape[0] // group * group
    return mask[:n].reshape(-1, group, *mask.shape[1:]).mean(axis=1) >= 0.5


def prone(arr: np.ndarray) -> np.ndarray:
    """Front to back (rows reversed), as a prone scan is displayed."""
    return np.ascontiguousarray(arr[:, ::-1])
