"""Measuring inference latency, e.g. to show that a merged LoRA model is as fast as the base model
while serial adapters add a little time to every forward pass.

GPUs run asynchronously: a forward call returns before the kernels finish, so we call
``torch.cuda.synchronize()`` before reading the clock. The first calls are slower (memory
allocation, kernel selection), so ``warmup`` runs are discarded. The median is robust to the odd
slow run caused by other programs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping

import torch
from torch import nn

from .device import get_device


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def measure_latency(
    model: nn.Module,
    batch: Mapping,
    repeats: int = 20,
    warmup: int = 3,
    device: str | torch.device | None = None,
) -> dict:
    """Time ``model(**batch)`` in eval mode without gradients.

    Returns ``{"median_ms", "mean_ms", "p90_ms", "min_ms", "batch_size", "repeats", "device"}``.
    ``batch`` is a dict of tensors such as one batch of ``make_loader`` (``labels`` are dropped).
    ``device=None`` uses the device the model is already on.
    """
    if not isinstance(batch, Mapping) or "input_ids" not in batch:
        raise ValueError(f"batch must be a dict of tensors with 'input_ids', got {type(batch).__name__}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats <= 0:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative integer, got {warmup!r}")
    if device is None:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
    else:
        device = get_device(device)
        model.to(device)
    inputs = {k: v.to(device) for k, v in batch.items() if k not in ("labels", "label")}

    was_training = model.training
    model.eval()
    times_ms = []
    try:
        with torch.inference_mode():
            for i in range(warmup + repeats):
                _sync(device)
                start = time.perf_counter()
                model(**inputs)
                _sync(device)
                if i >= warmup:
                    times_ms.append((time.perf_counter() - start) * 1000)
    finally:
        model.train(was_training)
    ordered = sorted(times_ms)
    p90_index = min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))
    return {
        "median_ms": statistics.median(ordered),
        "mean_ms": statistics.fmean(ordered),
        "p90_ms": ordered[p90_index],
        "min_ms": ordered[0],
        "batch_size": int(inputs["input_ids"].shape[0]),
        "repeats": repeats,
        "device": str(device),
    }


__all__ = ["measure_latency"]
