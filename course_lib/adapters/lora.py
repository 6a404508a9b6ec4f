"""LoRA, low-rank adaptation (Hu et al. 2021), for comparison with bottleneck adapters:
the layer. ``course_lib.lora`` puts it into a model.

Instead of adding a new module *after* a sub-layer, LoRA changes the weights of existing linear
layers. A frozen weight ``W`` (shape ``out x in``) gets a trainable low-rank update::

    W' = W + (alpha / r) * B @ A        A: (r, in),  B: (out, r),  r << min(in, out)

so ``y = W x + b + (alpha / r) * B (A x)``. ``A`` starts random and ``B`` starts at zero, so a
freshly wrapped layer computes exactly what the original did. Because the update is just another
matrix of the same shape as ``W``, it can be *merged* into ``W`` after training: inference then
costs nothing extra, which is LoRA's main selling point over serial adapters.

GPT-2 stores its projections as ``transformers.pytorch_utils.Conv1D``: a linear layer whose weight is
stored transposed, ``(in, out)``, computing ``x @ W + b``. ``LoRALinear`` wraps those too (PEFT's
``fan_in_fan_out=True``): ``A`` and ``B`` keep the shapes above, only merging adds ``(B @ A)ᵀ``.

The initialisation matches the PEFT library (``peft.LoraConfig``): ``A`` is Kaiming-uniform with
``a = sqrt(5)`` (the default ``nn.Linear`` init), ``B`` is zero and the scale is ``alpha / r``.
"""

from __future__ import annotations

import math
import sys

import torch
from torch import nn


def is_conv1d(module: nn.Module) -> bool:
    """True for a Hugging Face ``Conv1D`` (GPT-2's projections). Found without importing transformers: a model
    that has one has imported it already."""
    conv1d = getattr(sys.modules.get("transformers.pytorch_utils"), "Conv1D", None)
    return conv1d is not None and isinstance(module, conv1d)


def is_linear_like(module: nn.Module) -> bool:
    """An ``nn.Linear`` or a GPT-2 ``Conv1D``: what LoRA can adapt."""
    return isinstance(module, nn.Linear) or is_conv1d(module)


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` (or GPT-2 ``Conv1D``) plus a trainable low-rank update ``(alpha / r) * B @ A``.

    Args:
        base_linear: the layer to adapt, an ``nn.Linear`` or a ``Conv1D`` (weight ``(in, out)``,
            ``fan_in_fan_out``). It is kept as ``self.base`` and frozen.
        r: rank of the update (a positive int).
        alpha: scaling numerator; the update is multiplied by ``alpha / r``.
        dropout: dropout probability applied to the input of the LoRA branch only.
    """

    def __init__(self, base_linear: nn.Linear, r: int, alpha: float, dropout: float = 0.0):
        super().__init__()
        if not is_linear_like(base_linear):
            raise ValueError(f"base_linear must be an nn.Linear or a GPT-2 Conv1D, got {type(base_linear).__name__}")
        if isinstance(r, bool) or not isinstance(r, int) or r <= 0:
            raise ValueError(f"r must be a positive integer, got {r!r}")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
            raise ValueError(f"alpha must be a positive number, got {alpha!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")

        self.base = base_linear
        # Remember the original flags so remove_lora can give back the layer untouched.
        self.base_requires_grad = {name: p.requires_grad for name, p in base_linear.named_parameters()}
        for p in base_linear.parameters():
            p.requires_grad_(False)

        self.r = r
        self.alpha = alpha
        self.scale = alpha / r
        self.dropout_p = float(dropout)
        #: True for a Conv1D, whose weight is stored ``(in, out)`` (PEFT's ``fan_in_fan_out``).
        self.fan_in_fan_out = is_conv1d(base_linear)
        weight = base_linear.weight
        d_out, d_in = weight.shape[::-1] if self.fan_in_fan_out else weight.shape
        self.lora_A = nn.Parameter(torch.empty(r, d_in, device=weight.device, dtype=weight.dtype))
        self.lora_B = nn.Parameter(torch.zeros(d_out, r, device=weight.device, dtype=weight.dtype))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.merged = False

    @property
    def in_features(self) -> int:
        return self.lora_A.shape[1]

    @property
    def out_features(self) -> int:
        return self.lora_B.shape[0]

    def delta_weight(self) -> torch.Tensor:
        """The update ``(alpha / r) * B @ A`` as a full ``(out, in)`` matrix."""
        return self.scale * (self.lora_B @ self.lora_A)

    def _delta_as_stored(self) -> torch.Tensor:
        """``delta_weight`` laid out like ``base.weight``: transposed for a Conv1D."""
        delta = self.delta_weight()
        return (delta.T if self.fan_in_fan_out else delta).to(self.base.weight.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        if self.merged:  # the update already lives inside base.weight
            return out
        # Two thin matmuls (x A^T, then B^T) are much cheaper than building B @ A.
        update = (self.dropout(x) @ self.lora_A.T) @ self.lora_B.T
        return out + self.scale * update

    @torch.no_grad()
    def merge(self) -> None:
        """Add the update into ``base.weight`` so forward is a single matmul. A second call does nothing."""
        if self.merged:
            return
        self.base.weight += self._delta_as_stored()
        self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Subtract the update again (exact up to float rounding). Does nothing if not merged."""
        if not self.merged:
            return
        self.base.weight -= self._delta_as_stored()
        self.merged = False

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, r={self.r}, "
            f"alpha={self.alpha}, scale={self.scale:g}, dropout={self.dropout_p}, merged={self.merged}"
        )


def is_lora_layer(module: nn.Module) -> bool:
    """A LoRA layer: a ``LoRALinear``, or any module holding ``lora_A`` and ``lora_B`` parameters (PEFT's and
    the notebooks' convention, so that a learner's own LoRA layer is counted and frozen like ours)."""
    return isinstance(module, LoRALinear) or all(
        isinstance(getattr(module, name, None), nn.Parameter) for name in ("lora_A", "lora_B")
    )


__all__ = ["LoRALinear", "is_lora_layer", "is_conv1d", "is_linear_like"]
