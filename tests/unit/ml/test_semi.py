"""Mean teacher pieces: the strong view, the EMA update and the confidence-masked loss."""
from __future__ import annotations

import torch

from lunglab.ml.semi import MeanTeacher, ramp, strong_view


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4))


def test_strong_view_stays_in_range_changes_the_image_and_is_seeded() -> None:
    x = torch.rand(4, 1, 32, 32)
    a = strong_view(x, torch.Generator().manual_seed(3))
    b = strong_view(x, torch.Generator().manual_seed(3))
    c = strong_view(x, torch.Generator().manual_seed(4))
    assert a.shape == x.shape and float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert float((a - x).abs().mean()) > 0.01
    assert bool((a == 0).flatten(1).any(dim=1).all())  # every image has its cut-out box


def test_ramp_rises_from_near_zero_to_one() -> None:
    assert ramp(0, 1000) < 0.01
    assert ramp(100, 1000) < ramp(150, 1000) < 1.0
    assert ramp(200, 1000) == 1.0 and ramp(900, 1000) == 1.0


def test_teacher_moves_towards_the_student_by_the_decay() -> None:
    student = _net()
    teacher = MeanTeacher(student, decay=0.9)
    before = [p.clone() for p in teacher.net.parameters()]
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    teacher.update(student)
    for old, new in zip(before, teacher.net.parameters(), strict=True):
        assert torch.allclose(new, old + 0.1, atol=1e-6)
    assert not any(p.requires_grad for p in teacher.net.parameters())


def test_consistency_loss_is_zero_where_the_teacher_is_unsure() -> None:
    student = _net()
    teacher = MeanTeacher(student)
    x = torch.rand(2, 1, 16, 16)
    gen = torch.Generator().manual_seed(0)
    loss, share = teacher.consistency(student, x, gen, threshold=1.01)  # never confident
    assert share == 0.0 and float(loss) == 0.0
    loss, share = teacher.consistency(student, x, gen, threshold=0.0)  # always confident
    assert share == 1.0 and float(loss) > 0.0
    loss.backward()
    assert all(p.grad is not None for p in student.parameters())
