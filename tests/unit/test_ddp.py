"""DDP on CPU with gloo and two processes: the ranks' gradients agree after the all-reduce and
the result matches single-process training on the whole batch."""
from __future__ import annotations

import numpy as np
import pytest
import torch


def _data(n: int = 8, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.random((n, 1, size, size), dtype=np.float32)
    labels = np.zeros((n, 1, size, size), np.int64)
    labels[:, :, 8:24, 4:14] = 1
    labels[:, :, 12:18, 6:10] = 2
    labels[:, :, 8:24, 18:28] = 1
    labels[::2, :, 14:20, 20:24] = 3
    images[labels > 0] -= 0.3
    return images, labels


@pytest.mark.timeout(120)
def test_ddp_two_gloo_ranks_match_single_process():
    from lunglab.ml.distributed import DistConfig, ddp_fit, single_fit

    images, labels = _data()
    cfg = DistConfig(arch="unet2d-small", norm="instance", steps=3, batch_size=4, lr=0.05)
    torch.set_num_threads(1)
    ddp = ddp_fit(images, labels, world_size=2, cfg=cfg)
    ref = single_fit(images, labels, cfg)
    assert len(ddp["grad_diffs"]) == 3 and ddp["max_grad_diff"] == 0.0
    np.testing.assert_allclose(ddp["losses"], ref["losses"], rtol=1e-4, atol=1e-5)
    moved = 0.0
    torch.manual_seed(cfg.seed)
    from lunglab.ml.distributed import build_network

    init = build_network(cfg.arch, cfg.norm).state_dict()
    for k, v in ref["state_dict"].items():
        assert torch.allclose(ddp["state_dict"][k], v, atol=1e-5, rtol=1e-4), k
        moved = max(moved, float((v - init[k]).abs().max()))
    assert moved > 1e-4  # training changed the weights: the comparison is not vacuous


def test_ddp_refuses_unequal_shards():
    from lunglab.ml.distributed import ddp_fit

    images, labels = _data()
    with pytest.raises(ValueError, match="multiple of world_size"):
        ddp_fit(images, labels, world_size=2, batch_size=3)
