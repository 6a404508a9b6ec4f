"""LoRA, low-rank adaptation (Hu et al. 2021), for comparison with bottleneck adapters:
the layer. ``course_lib.lora`` puts it into a model.

Instead of adding a new module *after* a sub-layer, LoRA changes the weights of existing linear
layers. A frozen weight ``W`` (shape ``out x in``) gets a trainable low-rank update::

    W' = W + (alpha / r) * B @ A        A: (r, in),  B: (out, r),  r << min(in, out)

so ``y = W x + b + (alpha / r) * B (A x)``. ``A`` starts random and ``B`` starts at zero, so a
freshly wrapped layer computes exactly what the original did. Because the update is just another
matrix of the same shape as ``W``, it can be *merged* into ``W`` after training: inference then
costs nothing extra, which is LoRA's main selling point over serial adapters.

The initialisation matches the PEFT library (``peft.LoraConfig``): ``A`` is Kaiming-uniform with
``a = sqrt(5)`` (the default ``nn.Linear`` init), ``B`` is zero and the scale is ``alpha / r``.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update ``(alpha / r) * B @ A``.

    Args:
        base_linear: the layer to adapt. It is kept as ``self.base`` and frozen.
        r: rank of the update (a positive int).
        alpha: scaling numerator; the update is multiplied by ``alpha / r``.
        dropout: dropout probability applied to the input of the LoRA branch only.
    """

    def __init__(self, base_linear: nn.Linear, r: int, alpha: float, dropout: float = 0.0):
        super().__init__()
        if not isinstance(base_linear, nn.Linear):
            raise ValueError(f"base_linear must be an nn.Linear, got {type(base_linear).__name__}")
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
        weight = base_linear.weight
        self.lora_A = nn.Parameter(torch.empty(r, base_linear.in_features, device=weight.device, dtype=weight.dtype))
        self.lora_B = nn.Parameter(torch.zeros(base_linear.out_features, r, device=weight.device, dtype=weight.dtype))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.merged = False

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def delta_weight(self) -> torch.Tensor:
        """The update ``(alpha / r) * B @ A`` as a full ``(out, in)`` matrix."""
        return self.scale * (self.lora_B @ self.lora_A)

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
        self.base.weight += self.delta_weight().to(self.base.weight.dtype)
        self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Subtract the update again (exact up to float rounding). Does nothing if not merged."""
        if not self.merged:
            return
        self.base.weight -= self.delta_weight().to(self.base.weight.dtype)
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


__all__ = ["LoRALinear", "is_lora_layer"]
