"""Quantification on synthetic label maps whose volumes are known exactly (voxel counts)."""
from __future__ import annotations

import numpy as np
import pytest

from lunglab.imaging.quantify import SCORE_MAX, compare, quantify, zone_score
from lunglab.imaging.zones import LEFT, RIGHT, split_lungs

SPACING = (0.8, 0.8, 2.5)  # x, y, z mm
VOXEL_ML = 0.8 * 0.8 * 2.5 / 1000
FLIP_X = (-1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
FLIP_Z = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def two_lungs(z: int = 30, bridge: bool = False) -> np.ndarray:
    """Box lungs: columns 4..27 are the low-x lung, 36..59 the high-x lung (LPS: left)."""
    lm = np.zeros((z, 40, 64), np.uint8)
    lm[:, 5:35, 4:28] = 1
    lm[:, 5:35, 36:60] = 1
    if bridge:  # the lungs touch across the midline (anterior junction)
        lm[:, 5:9, 28:36] = 1
    return lm


def test_volumes_and_sides_exact() -> None:
    lm = two_lungs()
    lm[:, 10:20, 30 - 20:30 - 10] = 2  # GGO 30 x 10 x 10 in the low-x (right) lung
    lm[0:6, 10:14, 40:45] = 3  # consolidation 6 x 4 x 5 in the high-x (left) lung
    q = quantify(lm, SPACING)
    per_lung = 30 * 30 * 24
    assert q["split_method"] == "components"
    assert q["lungs"]["right"]["lung_ml"] == pytest.approx(per_lung * VOXEL_ML, abs=1e-3)
    assert q["lungs"]["left"]["lung_ml"] == pytest.approx(per_lung * VOXEL_ML, abs=1e-3)
    assert q["lungs"]["right"]["ggo_ml"] == pytest.approx(3000 * VOXEL_ML, abs=1e-3)
    assert q["lungs"]["right"]["consolidation_ml"] == 0
    assert q["lungs"]["left"]["consolidation_ml"] == pytest.approx(120 * VOXEL_ML, abs=1e-3)
    assert q["lungs"]["right"]["involvement_pct"] == pytest.approx(100 * 3000 / per_lung, abs=0.01)
    total = q["lungs"]["total"]
    assert total["lesion_ml"] == pytest.approx(3120 * VOXEL_ML, abs=1e-3)
    assert total["ggo_share_pct"] == pytest.approx(100 * 3000 / 3120, abs=0.01)
    assert total["ggo_share_pct"] + total["consolidation_share_pct"] == pytest.approx(100, abs=0.02)
    assert q["lesions"]["count"] == 2
    assert [les["side"] for les in q["lesions"]["lesions"]] == ["right", "left"]
    assert q["lesions"]["lesions"][0]["volume_ml"] == pytest.approx(3000 * VOXEL_ML, abs=1e-3)


def test_left_right_follow_the_direction_matrix() -> None:
    lm = two_lungs()
    lm[:, 10:20, 10:20] = 2  # lesion in the low-x lung
    assert quantify(lm, SPACING)["lungs"]["right"]["lesion_ml"] > 0
    flipped = quantify(lm, SPACING, FLIP_X)  # columns now run towards the patient's right
    assert flipped["lungs"]["left"]["lesion_ml"] > 0
    assert flipped["lungs"]["right"]["lesion_ml"] == 0


def test_zones_are_craniocaudal_thirds_and_follow_slice_direction() -> None:
    lm = two_lungs(z=30)
    lm[20:30, 5:35, 4:28] = 2  # highest slice indices of the right lung: the upper third (+z up)
    q = quantify(lm, SPACING)
    zones = {(z["side"], z["zone"]): z for z in q["zones"]}
    assert zones[("right", "upper")]["involvement_pct"] == 100.0
    assert zones[("right", "upper")]["slices"] == [20, 29]
    assert zones[("right", "middle")]["involvement_pct"] == 0.0
    assert zones[("right", "upper")]["score"] == 5
    assert q["severity_score"] == 5 and q["severity_score_max"] == SCORE_MAX == 30
    q2 = quantify(lm, SPACING, FLIP_Z)  # slice index grows towards the feet: same slices are lower
    zones2 = {(z["side"], z["zone"]): z for z in q2["zones"]}
    assert zones2[("right", "lower")]["involvement_pct"] == 100.0
    assert zones2[("right", "upper")]["involvement_pct"] == 0.0
    lung_ml = [z["lung_ml"] for z in q["zones"]]
    assert sum(lung_ml) == pytest.approx(q["lungs"]["total"]["lung_ml"], abs=1e-2)


def test_zone_of_a_shorter_lung_uses_its_own_extent() -> None:
    lm = two_lungs(z=30)
    lm[:15, :, 36:60] = 0  # left lung only in slices 15..29
    lm[25:30, 5:35, 36:60] = 3  # its top five slices: upper third is 25..29
    q = quantify(lm, SPACING)
    left_upper = next(z for z in q["zones"] if z["side"] == "left" and z["zone"] == "upper")
    assert left_upper["slices"] == [25, 29]
    assert left_upper["involvement_pct"] == 100.0


@pytest.mark.parametrize(("pct", "score"), [
    (0, 0), (1e-6, 1), (4.99, 1), (5, 2), (25, 2), (25.01, 3), (49.9, 3), (50, 4), (75, 4),
    (75.1, 5), (100, 5)])
def test_score_bands(pct: float, score: int) -> None:
    assert zone_score(pct) == score


def test_severity_score_is_sum_of_six_zones() -> None:
    lm = two_lungs(z=30)
    # right lower third (slices 0..9): involve 30 % ; left middle (10..19): 3 %
    lm[0:10, 5:14, 4:28] = 2  # 9/30 rows = 30 %
    lm[10:20, 5:35, 36:37] = 3  # 1/24 columns ~ 4.2 %
    q = quantify(lm, SPACING)
    scores = {(z["side"], z["zone"]): z["score"] for z in q["zones"]}
    assert scores[("right", "lower")] == 3
    assert scores[("left", "middle")] == 1
    assert q["severity_score"] == 4


def test_touching_lungs_are_split_by_erosion() -> None:
    lm = two_lungs(bridge=True)
    sides, method = split_lungs(lm > 0, SPACING)
    assert method == "erosion"
    right, left = (sides == RIGHT).sum(), (sides == LEFT).sum()
    expected = 30 * 30 * 24 + 30 * 4 * 4  # each lung gets half of the bridge
    assert abs(int(right) - expected) <= 30 * 4 and abs(int(left) - expected) <= 30 * 4
    assert (sides[:, :, :28][lm[:, :, :28] > 0] == RIGHT).all()
    assert (sides[:, :, 36:][lm[:, :, 36:] > 0] == LEFT).all()


def test_lungs_fused_over_a_wide_front_use_the_valley() -> None:
    lm = two_lungs()
    lm[:, 5:35, 28:36] = 1  # one block: no erosion separates it; cut at the middle column
    sides, method = split_lungs(lm > 0, SPACING)
    assert method == "valley"
    assert (sides[:, :, :28][lm[:, :, :28] > 0] == RIGHT).all()
    assert (sides[:, :, 36:][lm[:, :, 36:] > 0] == LEFT).all()


def test_single_lung_and_empty() -> None:
    lm = two_lungs()
    lm[:, :, 32:] = 0
    q = quantify(lm, SPACING)
    assert q["split_method"] == "single"
    assert q["lungs"]["left"]["lung_ml"] == 0 and q["lungs"]["right"]["lung_ml"] > 0
    empty = quantify(np.zeros((3, 8, 8), np.uint8), SPACING)
    assert empty["lungs"]["total"]["involvement_pct"] == 0 and empty["severity_score"] == 0
    assert empty["lesions"]["count"] == 0


def test_density_with_ct() -> None:
    lm = two_lungs()
    lm[:, 10:20, 10:20] = 2
    lm[:, 25:30, 40:50] = 3
    hu = np.full(lm.shape, -1000, np.int16)
    hu[lm == 1] = -850
    odd_slice = np.arange(30)[:, None, None] % 2 == 1
    hu[(lm == 2) & odd_slice] = -600
    hu[(lm == 2) & ~odd_slice] = -500
    hu[lm == 3] = 20
    q = quantify(lm, SPACING, hu=hu)
    assert q["density"]["lung"]["mean_hu"] == -850
    assert q["density"]["ggo"]["mean_hu"] == pytest.approx(-550, abs=0.1)
    assert q["density"]["ggo"]["p5_hu"] == -600 and q["density"]["ggo"]["p95_hu"] == -500
    assert q["density"]["consolidation"]["p50_hu"] == 20
    assert quantify(lm, SPACING)["density"] is None


def test_lesion_count_and_sizes() -> None:
    lm = two_lungs()
    lm[2:4, 10:12, 10:12] = 2  # 8 voxels
    lm[10:13, 10:13, 10:13] = 3  # 27 voxels
    lm[13, 13, 13] = 2  # touches the previous one diagonally: same lesion (26-connectivity)
    lm[20:25, 20:25, 40:45] = 2  # 125 voxels, left
    les = quantify(lm, SPACING)["lesions"]
    assert les["count"] == 3
    assert [x["volume_ml"] for x in les["lesions"]] == pytest.approx(
        [125 * VOXEL_ML, 28 * VOXEL_ML, 8 * VOXEL_ML], abs=1e-4)
    assert les["lesions"][1]["consolidation_ml"] == pytest.approx(27 * VOXEL_ML, abs=1e-4)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="3-D"):
        quantify(np.zeros((4, 4), np.uint8), SPACING)
    with pytest.raises(ValueError, match=r"0\.\.3"):
        quantify(np.full((2, 4, 4), 7, np.uint8), SPACING)
    with pytest.raises(ValueError, match="CT shape"):
        quantify(np.zeros((2, 4, 4), np.uint8), SPACING, hu=np.zeros((2, 4, 5)))


def test_change_over_time() -> None:
    before = two_lungs()
    before[:, 10:20, 10:20] = 2
    after = two_lungs()
    after[:, 10:30, 10:20] = 2
    after[:, 10:20, 40:50] = 3
    delta = compare(quantify(before, SPACING), quantify(after, SPACING))
    assert delta["direction"] == "more"
    assert delta["lungs"]["right"]["ggo_ml"]["change"] == pytest.approx(3000 * VOXEL_ML, abs=1e-3)
    assert delta["lungs"]["left"]["consolidation_ml"]["change"] == pytest.approx(
        3000 * VOXEL_ML, abs=1e-3)
    assert delta["lesion_count"] == {"before": 1, "after": 2, "change": 1}
    assert compare(quantify(after, SPACING), quantify(before, SPACING))["direction"] == "less"
    assert compare(quantify(before, SPACING), quantify(before, SPACING))["direction"] == "same"


def test_sphere_volume_within_discretisation() -> None:
    """A 20 mm radius spherical lesion: the voxel count matches 4/3 pi r^3 within 3 %."""
    sp = (1.0, 1.0, 1.0)
    zz, yy, xx = np.mgrid[:50, :60, :100]
    lm = np.zeros((50, 60, 100), np.uint8)
    lm[2:48, 2:58, 2:45] = 1
    lm[2:48, 2:58, 55:98] = 1
    ball = (zz - 25) ** 2 + (yy - 30) ** 2 + (xx - 24) ** 2 <= 20**2
    lm[ball & (lm == 1)] = 2
    q = quantify(lm, sp)
    assert q["lungs"]["right"]["ggo_ml"] == pytest.approx(4 / 3 * np.pi * 20**3 / 1000, rel=0.03)
