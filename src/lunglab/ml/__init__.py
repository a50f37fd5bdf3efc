"""Networks, training and inference for lung, GGO and consolidation segmentation.

Three lines for a data scientist::

    from lunglab.io.load import load_ct
    from lunglab.ml import segment_volume, summarize
    label_map, info = segment_volume(load_ct(path))

Public API (imported lazily, so ``import lunglab.ml`` stays cheap):

- inference: :func:`segment_volume`, :func:`segment`, :class:`Segmenter`, :func:`summarize`
- data: :class:`LabelledSlice`, :func:`list_ids`, :func:`load_slice`, :func:`load_all`,
  :func:`split_ids`, :func:`training_pair`
- training: :func:`train_transforms`, :func:`build_model`, :class:`TrainConfig`, :func:`train`,
  :func:`evaluate`
- models on disk: :data:`DEFAULT_MODEL`, :func:`load_model`
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "segment_volume": "lunglab.ml.inference",
    "segment": "lunglab.ml.inference",
    "Segmenter": "lunglab.ml.inference",
    "summarize": "lunglab.imaging.volumes",
    "LabelledSlice": "lunglab.ml.dataset",
    "list_ids": "lunglab.ml.dataset",
    "load_slice": "lunglab.ml.dataset",
    "load_all": "lunglab.ml.dataset",
    "split_ids": "lunglab.ml.dataset",
    "training_pair": "lunglab.ml.targets",
    "train_transforms": "lunglab.ml.transforms",
    "build_model": "lunglab.ml.models",
    "ARCHITECTURES": "lunglab.ml.models",
    "TrainConfig": "lunglab.ml.train",
    "train": "lunglab.ml.train",
    "evaluate": "lunglab.ml.evaluate",
    "DEFAULT_MODEL": "lunglab.ml.checkpoints",
    "load_model": "lunglab.ml.checkpoints",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lunglab.ml' has no attribute {name!r}")
