"""Shipped and local model checkpoints: find by name or path, load once per process."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lunglab.ml.models import build_model

WEIGHTS_DIR = Path(__file__).parent / "weights"
DEFAULT_MODEL = "lunglab-lesion2d-v2"
"""Name of the shipped default model (``weights/<name>.json`` ensemble manifest or ``.pt``)."""


def compact_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The state to save: learned weights in fp16 (half the file), buffers in fp32.

    Buffers are BatchNorm's running statistics: in a wide network a running variance passes
    fp16's largest value (65,504) and would load as ``inf``, which zeroes that channel at
    inference (the wide UNet's k-fold lost folds 0 and 1 to it; docs/models.md, stop 32). A
    weight outside the fp16 range stays fp32 too. Loading casts everything to float32.
    """
    limit = torch.finfo(torch.float16).max
    params = {name for name, _ in module.named_parameters()}
    out: dict[str, torch.Tensor] = {}
    for key, value in module.state_dict().items():
        half = (value.is_floating_point() and key in params
                and bool(value.detach().abs().max() <= limit if value.numel() else True))
        out[key] = value.detach().half() if half else value.detach().clone()
    return out


@dataclass(frozen=True)
class LoadedModel:
    """A network ready for inference with the metadata saved by training."""

    name: str
    network: torch.nn.Module | None
    meta: dict[str, Any]
    device: str
    onnx_session: Any = None
    """ONNX Runtime session of the same weights (CPU only), used instead of ``network``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a ``[n, 1, y, x]`` batch (ONNX Runtime when available on CPU)."""
        if self.onnx_session is not None:
            out = self.onnx_session.run(None, {"image": x.numpy()})[0]
            return torch.from_numpy(out)
        if self.network is None:
            raise RuntimeError(f"model {self.name} was loaded for ONNX Runtime only")
        return self.network(x)

    @property
    def model_mm(self) -> float:
        """In-plane pixel size the network was trained at."""
        return float(self.meta["config"]["model_mm"])

    @property
    def arch(self) -> str:
        return str(self.meta["config"]["arch"])


def resolve_device(device: str = "auto") -> str:
    """``auto`` becomes ``cuda`` when available, else ``cpu``.

    Raises:
        ValueError: for an unknown device or ``cuda`` without a GPU.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but no CUDA GPU is available")
    return device


def manifest_members(manifest: Path) -> list[str]:
    """Member model names of an ensemble manifest (``weights/<name>.json``), in their order; the
    first one is the network used alone for volumes and as the base of fine-tuning."""
    return [str(m) for m in json.loads(manifest.read_text()).get("members", [])]


def model_path(model: str | None) -> Path:
    """Checkpoint file of a shipped model name or an explicit ``.pt`` path.

    For an ensemble manifest (``weights/<name>.json``, e.g. the default) this is the first
    member's checkpoint, so callers that need one network (fine-tuning, uncertainty) get one.

    Raises:
        FileNotFoundError: if neither exists.
    """
    name = model or DEFAULT_MODEL
    candidate = Path(name)
    if candidate.suffix == ".pt" and candidate.is_file():
        return candidate
    shipped = WEIGHTS_DIR / f"{name}.pt"
    if shipped.is_file():
        return shipped
    manifest = WEIGHTS_DIR / f"{name}.json"
    if manifest.is_file():  # an ensemble: a single network means its first member
        members = manifest_members(manifest)
        if members:
            return model_path(members[0])
    available = sorted(p.stem for p in [*WEIGHTS_DIR.glob("*.pt"), *WEIGHTS_DIR.glob("*.json")])
    raise FileNotFoundError(f"model {name!r} not found; shipped models: {available}")


def export_onnx(checkpoint: Path, out: Path | None = None) -> Path:
    """Export a checkpoint to ONNX (fp32, dynamic batch and size) next to it.

    Returns:
        The ``.onnx`` path.
    """
    loaded = load_model(str(checkpoint), "cpu", use_onnx=False)
    assert loaded.network is not None  # use_onnx=False always loads the torch network
    out = out or checkpoint.with_suffix(".onnx")
    x = torch.zeros(2, 1, 64, 64)
    axes = {0: "n", 2: "h", 3: "w"}
    torch.onnx.export(loaded.network, (x,), str(out), input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": axes, "logits": axes},
                      opset_version=17, dynamo=False)
    return out


def _onnx_session(path: Path) -> Any:
    import os

    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = os.cpu_count() or 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=4)
def load_model(model: str | None = None, device: str = "cpu", use_onnx: bool = True
               ) -> LoadedModel:
    """Load a checkpoint written by :func:`lunglab.ml.train.save_checkpoint` (cached).

    On CPU, a ``.onnx`` file beside the checkpoint (see :func:`export_onnx`) is run with ONNX
    Runtime, which is about 3x faster than eager PyTorch here (see docs/models.md).

    Args:
        model: shipped name (default :data:`DEFAULT_MODEL`) or a path to a ``.pt`` file.
        device: ``cpu`` or ``cuda``.
        use_onnx: allow the ONNX Runtime path.

    Returns:
        The network in eval mode, float32, on ``device``.
    """
    path = model_path(model)
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    meta = json.loads(ckpt["meta_json"])
    onnx_path = path.with_suffix(".onnx")
    if use_onnx and device == "cpu" and onnx_path.is_file():
        return LoadedModel(name=path.stem, network=None, meta=meta, device=device,
                           onnx_session=_onnx_session(onnx_path))
    net = build_model(meta["config"]["arch"], out_channels=int(meta.get("num_classes", 4)))
    net.load_state_dict({k: v.float() if v.is_floating_point() else v
                         for k, v in ckpt["state_dict"].items()})
    net.eval().to(device)
    session = None
    return LoadedModel(name=path.stem, network=net, meta=meta, device=device,
                       onnx_session=session)
