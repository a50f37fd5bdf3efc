"""Semi-supervised training pieces: a mean teacher with FixMatch-style confidence targets.

The unlabelled slices (the images of the pseudo-labelled set, their labels ignored) go through
the same geometric augmentation as the expert slices; the teacher, an exponential moving average
of the student, labels the weak view, and the student learns those labels on a strongly
perturbed view (gamma, contrast, noise, blur, cut-out) wherever the teacher is confident.

Example:
    >>> teacher = MeanTeacher(student, decay=0.99)  # doctest: +SKIP
    >>> loss = teacher.consistency(student, x_unlabelled, threshold=0.9)  # doctest: +SKIP
    >>> teacher.update(student)  # doctest: +SKIP
"""
from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F


def strong_view(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A strongly perturbed copy of a batch ``[b, 1, y, x]`` of images in [0, 1].

    Per image: gamma 0.6-1.6, contrast x0.75-1.25 about the mean, brightness +-0.08, Gaussian
    noise (sd up to 0.04), a 3x3 blur half the time, and one cut-out box (8-25 % of a side)."""
    b = x.shape[0]
    u = torch.rand(b, 6, generator=gen).to(x.device)
    out = x.clamp(0, 1) ** (0.6 + u[:, 0] * 1.0).view(b, 1, 1, 1)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = (out - mean) * (0.75 + 0.5 * u[:, 1]).view(b, 1, 1, 1) + mean
    out = out + ((u[:, 2] - 0.5) * 0.16).view(b, 1, 1, 1)
    noise = torch.randn(x.shape, generator=gen).to(x.device)
    out = out + noise * (u[:, 3] * 0.04).view(b, 1, 1, 1)
    blurred = F.avg_pool2d(out, 3, stride=1, padding=1, count_include_pad=False)
    out = torch.where((u[:, 4] < 0.5).view(b, 1, 1, 1), blurred, out)
    h, w = x.shape[-2:]
    box = torch.rand(b, 3, generator=gen)
    for i in range(b):
        side = int((0.08 + 0.17 * float(box[i, 0])) * min(h, w))
        y0 = int(float(box[i, 1]) * (h - side))
        x0 = int(float(box[i, 2]) * (w - side))
        out[i, :, y0:y0 + side, x0:x0 + side] = 0.0
    return out.clamp(0, 1)


def ramp(it: int, total: int, fraction: float = 0.2) -> float:
    """Sigmoid ramp-up of the unlabelled weight over the first ``fraction`` of training."""
    length = max(1, int(total * fraction))
    t = min(1.0, it / length)
    return math.exp(-5.0 * (1.0 - t) ** 2)


class MeanTeacher:
    """An exponential-moving-average copy of a student network that labels unlabelled images."""

    def __init__(self, student: torch.nn.Module, decay: float = 0.99) -> None:
        self.decay = decay
        self.net = copy.deepcopy(student)
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.net.eval()

    @torch.no_grad()
    def update(self, student: torch.nn.Module) -> None:
        """Move the teacher's weights towards the student's (buffers are copied)."""
        for t, s in zip(self.net.parameters(), student.parameters(), strict=True):
            t.mul_(self.decay).add_(s.detach(), alpha=1.0 - self.decay)
        for tb, sb in zip(self.net.buffers(), student.buffers(), strict=True):
            tb.copy_(sb)

    def consistency(self, student: torch.nn.Module, weak: torch.Tensor,
                    gen: torch.Generator, threshold: float = 0.9) -> tuple[torch.Tensor, float]:
        """Cross-entropy of the student on the strong view against the teacher's confident
        labels of the weak view.

        Returns:
            ``(loss, share of pixels the teacher was confident about)``.
        """
        with torch.no_grad():
            prob = torch.softmax(self.net(weak), dim=1)
            conf, target = prob.max(dim=1)
            mask = (conf >= threshold).float()
        logits = student(strong_view(weak, gen))
        ce = F.cross_entropy(logits, target, reduction="none")
        return (ce * mask).sum() / mask.numel(), float(mask.mean())
