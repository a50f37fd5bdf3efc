"""Export a model version: MONAI Bundle (configs + weights), TorchScript, ONNX.

The bundle loads with MONAI's own tools, e.g.::

    from monai.bundle import load
    net = load("lunglab-p1-v2", bundle_dir="exports", workflow_type="inference")

Input to every export: one windowed HU slice ``[n, 1, y, x]`` in 0..1 at ``model_mm`` pixels,
``y`` and ``x`` multiples of ``size_divisor``; output: logits of the four LungLab labels.
"""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import torch

from lunglab.domain.labels import DEFAULT_LABEL_SCHEMA
from lunglab.imaging.hu import MODEL_WINDOW

FORMATS = ("bundle", "torchscript", "onnx")


def network_def(arch: str) -> dict[str, Any]:
    """The MONAI ``network_def`` config of a LungLab architecture (mirrors ``build_model``)."""
    from lunglab.ml import ARCHITECTURES

    cfg = ARCHITECTURES[arch]
    if arch.startswith("unet"):
        return {"_target_": "monai.networks.nets.UNet", "spatial_dims": 2, "in_channels": 1,
                "out_channels": 4, "channels": list(cfg["channels"]),
                "strides": list(cfg["strides"]), "num_res_units": cfg["num_res_units"],
                "norm": "batch"}
    return {"_target_": "monai.networks.nets.SegResNet", "spatial_dims": 2, "in_channels": 1,
            "out_channels": 4, "init_filters": cfg["init_filters"],
            "blocks_down": list(cfg["blocks_down"]), "blocks_up": list(cfg["blocks_up"]),
            "norm": "batch"}


def _load(weights: Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    from lunglab.ml import build_model

    ckpt = torch.load(weights, map_location="cpu", weights_only=True)
    meta = json.loads(ckpt["meta_json"])
    net = build_model(meta["config"]["arch"])
    net.load_state_dict({k: v.float() if v.is_floating_point() else v
                         for k, v in ckpt["state_dict"].items()})
    return net.eval(), meta


def _example(arch: str) -> torch.Tensor:
    from lunglab.ml.models import size_divisor

    side = max(64, size_divisor(arch) * 4)
    return torch.rand(1, 1, side, side, generator=torch.Generator().manual_seed(0))


def export_torchscript(weights: Path, out: Path) -> Path:
    """Traced TorchScript module (``torch.jit.load`` runs it without LungLab)."""
    net, meta = _load(weights)
    ts = torch.jit.trace(net, _example(meta["config"]["arch"]))
    ts.save(str(out))  # type: ignore[no-untyped-call]
    return out


def export_onnx(weights: Path, out: Path) -> Path:
    """ONNX model (opset 17) with dynamic batch and spatial size."""
    net, meta = _load(weights)
    axes = {0: "batch", 2: "height", 3: "width"}
    torch.onnx.export(net, (_example(meta["config"]["arch"]),), str(out), dynamo=False,
                      input_names=["image"], output_names=["logits"], opset_version=17,
                      dynamic_axes={"image": axes, "logits": axes})
    return out


def write_bundle(weights: Path, folder: Path, name: str, extra: dict[str, Any]) -> Path:
    """Write ``folder/name`` as a MONAI Bundle: ``configs/{metadata,inference}.json``,
    ``models/model.pt`` (state dict) and ``models/model.ts`` (TorchScript with the metadata,
    as ``monai.bundle.load(..., load_ts_module=True)`` reads it)."""
    from lunglab.ml.models import size_divisor

    net, meta = _load(weights)
    cfg = meta["config"]
    root = folder / name
    (root / "configs").mkdir(parents=True, exist_ok=True)
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "docs").mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), root / "models" / "model.pt")
    labels = {"0": "background", **{str(s.value): s.name for s in DEFAULT_LABEL_SCHEMA}}
    metadata = {
        "version": str(meta.get("version", "1")), "name": name,
        "monai_version": __import__("monai").__version__,
        "pytorch_version": torch.__version__.split("+")[0],
        "task": "COVID-19 lung, ground-glass opacity and consolidation segmentation (2D slices)",
        "description": "LungLab model for research use only, not for diagnosis.",
        "authors": "LungLab", "copyright": "see the training data's licences",
        "network_data_format": {
            "inputs": {"image": {"type": "image", "format": "hounsfield", "num_channels": 1,
                                 "spatial_shape": [f"{size_divisor(cfg['arch'])}*n"] * 2,
                                 "dtype": "float32", "value_range": [0, 1],
                                 "is_patch_data": False, "channel_def": {"0": "CT"}}},
            "outputs": {"pred": {"type": "image", "format": "segmentation", "num_channels": 4,
                                 "spatial_shape": [f"{size_divisor(cfg['arch'])}*n"] * 2,
                                 "dtype": "float32", "value_range": [],
                                 "is_patch_data": False, "channel_def": labels}},
        },
        "preprocessing": {"hu_window": list(MODEL_WINDOW), "model_mm": cfg["model_mm"]},
        "lunglab": extra,
    }
    inference = {
        "imports": ["$import torch"],
        "bundle_root": ".",
        "device": "$torch.device('cpu')",
        "network_def": network_def(cfg["arch"]),
        "network": "$@network_def.to(@device)",
        "checkpoint": "$@bundle_root + '/models/model.pt'",
        "hu_window": list(MODEL_WINDOW),
        "model_mm": cfg["model_mm"],
    }
    (root / "configs" / "metadata.json").write_text(json.dumps(metadata, indent=2))
    ts = torch.jit.trace(net, _example(cfg["arch"]))
    torch.jit.save(ts, str(root / "models" / "model.ts"),  # type: ignore[no-untyped-call]
                   _extra_files={"metadata.json": json.dumps(metadata)})
    (root / "configs" / "inference.json").write_text(json.dumps(inference, indent=2))
    (root / "docs" / "README.md").write_text(
        f"# {name}\n\nLungLab {cfg['arch']} at {cfg['model_mm']} mm. Input: HU windowed to "
        f"{list(MODEL_WINDOW)} and scaled to 0..1. Output: logits of background, lung, GGO, "
        "consolidation. Research use only.\n")
    return root


def export_model(weights: Path, fmt: str, out_dir: Path, name: str,
                 extra: dict[str, Any] | None = None) -> Path:
    """Export to ``out_dir``; returns the file (a ``.zip`` of the bundle folder for ``bundle``).

    Raises:
        ValueError: unknown format.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if fmt == "torchscript":
        return export_torchscript(weights, out_dir / f"{name}.ts")
    if fmt == "onnx":
        return export_onnx(weights, out_dir / f"{name}.onnx")
    if fmt != "bundle":
        raise ValueError(f"format must be one of {FORMATS}")
    root = write_bundle(weights, out_dir, name, extra or {})
    archive = out_dir / f"{name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(out_dir))
    shutil.rmtree(root)
    return archive


def export_version(db: Any, user: Any, store: Any, data_dir: Path, version_id: int,
                   fmt: str) -> Path:
    """Export a registered version (project admins; audited). Files go to
    ``<data_dir>/exports/<version id>/`` and are reused on the next request.

    Raises:
        InvalidInput: unknown format. NotFound/Forbidden: no access.
    """
    from lunglab.services.access import audit
    from lunglab.services.errors import InvalidInput
    from lunglab.services.training.model_versions import get_version, lineage, weights_path

    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {FORMATS}")
    mv = get_version(db, user, version_id, roles=("admin",))
    out_dir = Path(data_dir) / "exports" / str(mv.id)
    suffix = {"bundle": ".zip", "torchscript": ".ts", "onnx": ".onnx"}[fmt]
    target = out_dir / f"{mv.name}{suffix}"
    if not target.is_file():
        extra = {"model_version_id": mv.id, "lineage": lineage(db, mv), "seed": mv.seed,
                 "data_snapshot": mv.data_snapshot, "val_study_ids": mv.val_study_ids,
                 "metrics": {k: v for k, v in mv.metrics.items() if k != "history"}}
        export_model(Path(weights_path(store, mv)), fmt, out_dir, mv.name, extra)
    audit.record(db, user, "model.export", "model_version", mv.id, format=fmt)
    db.commit()
    return target
