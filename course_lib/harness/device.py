"""Devices, seeds and mixed precision.

``get_device()`` picks the best accelerator (CUDA, then Apple's MPS, then the CPU); set the
environment variable ``COURSE_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) to force one.

Mixed precision only pays off on CUDA GPUs. There, ``autocast`` runs matmuls in bfloat16 when the
GPU supports it natively (Ampere and newer) and in float16 otherwise (e.g. a T4). float16 has a
small exponent range, so small gradients underflow to zero unless the loss is scaled up first,
which is what the ``GradScaler`` from ``make_grad_scaler`` does. bfloat16 has float32's range and needs no scaler.
On the CPU and MPS everything stays in float32.
"""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

DEVICE_ENV = "COURSE_DEVICE"


def _check_available(device: torch.device, requested: str) -> torch.device:
    """Raise a ValueError naming ``requested`` if ``device`` cannot be used on this machine."""
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {requested!r} requested but CUDA is not available on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {requested!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
        return device
    if device.type == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise ValueError(f"device {requested!r} requested but MPS is not available on this machine")
        return device
    raise ValueError(f"device {requested!r} is not supported: use 'cpu', 'cuda', 'cuda:N' or 'mps'")


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """The device to run on.

    ``prefer`` (or else the ``COURSE_DEVICE`` environment variable) names a device explicitly;
    ``"auto"`` or nothing means CUDA if available, then MPS, then CPU. An unknown or unavailable
    device raises a ValueError naming it (and where the request came from).
    """
    source = "the prefer argument"
    if prefer is None:
        prefer = os.environ.get(DEVICE_ENV, "").strip() or None
        source = DEVICE_ENV
    if prefer is None or prefer == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    requested = str(prefer)
    try:
        device = torch.device(prefer)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"unknown device {requested!r} (from {source}): use 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto'"
        ) from exc
    try:
        return _check_available(device, requested)
    except ValueError as exc:
        raise ValueError(f"{exc} (from {source})") from None


def seed_everything(seed: int) -> int:
    """Seed Python's ``random``, NumPy and PyTorch (all CUDA devices too). Returns ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return seed


def _as_device(device: str | torch.device | None) -> torch.device:
    return get_device(device) if device is None or isinstance(device, str) else torch.device(device)


def amp_dtype(device: str | torch.device | None) -> torch.dtype | None:
    """The autocast dtype used on ``device``: bfloat16 or float16 on CUDA, ``None`` (no autocast) elsewhere."""
    device = _as_device(device)
    if device.type != "cuda":
        return None
    return torch.bfloat16 if _native_bf16() else torch.float16


def _native_bf16() -> bool:
    """True if the GPU does bfloat16 in hardware (Ampere and newer). A T4 (Colab's free GPU) only
    emulates it, slowly, so there we ask PyTorch not to count emulation."""
    try:
        return torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:  # PyTorch < 2.3 has no including_emulation argument
        return torch.cuda.is_bf16_supported()


def autocast(device: str | torch.device | None, enabled: bool = True):
    """A context manager for mixed precision on ``device`` (a no-op on CPU/MPS or when disabled)."""
    dtype = amp_dtype(device)
    if not enabled or dtype is None:
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=dtype)


def make_grad_scaler(device: str | torch.device | None, enabled: bool = True) -> torch.amp.GradScaler:
    """A ``GradScaler`` that is active only for CUDA + float16; otherwise a disabled pass-through.

    A disabled scaler returns the loss unchanged from ``scale`` and just calls ``optimizer.step()``,
    so the training loop can use the same code on every device.
    """
    use = enabled and amp_dtype(device) == torch.float16
    return torch.amp.GradScaler("cuda" if use else "cpu", enabled=use)


__all__ = ["get_device", "seed_everything", "autocast", "amp_dtype", "make_grad_scaler", "DEVICE_ENV"]
