"""Which queue a job waits in: the one rule both runners and the queue view follow.

``interactive`` for pre-annotating one study (a reader is waiting for it), ``batch`` for
everything else; on Celery, a job that asked for CUDA goes to ``gpu``, where GPU workers
listen. The local runner has no GPU queue: it runs every job on the machine it is on.
"""
from __future__ import annotations

INTERACTIVE_KINDS = ("ai-segment",)
"""Job kinds a user waits for at the screen."""


def queue_for(kind: str, device: str | None = None) -> str:
    """The queue of a job of ``kind``.

    Args:
        kind: the job kind.
        device: the ``device`` parameter of the job, where the runner has a GPU queue
            (Celery); None for the local runner and for the queue view.

    Returns:
        ``"gpu"``, ``"interactive"`` or ``"batch"``.
    """
    if device == "cuda":
        return "gpu"
    return "interactive" if kind in INTERACTIVE_KINDS else "batch"
