"""The scaled parallel adapter of He et al. (2021), "Towards a Unified View of Parameter-Efficient
Transfer Learning": ``Δh = s · W_up σ(W_down x)``.

A serial (Houlsby/Pfeiffer) adapter sits *after* a sub-layer and rewrites its output. A parallel
adapter instead sits *beside* the sub-layer: it reads the same input ``x`` as the feed-forward
block and its output is *added* to the feed-forward output::

    h = FFN(x) + s · W_up σ(W_down x)

So the module below returns only the correction ``Δh`` (there is no residual inside it); the code
that wires it into the model (``course_lib.model``) does the addition. He et al. found a scale
``s = 4`` and a ReLU to work best for the parallel adapter on the FFN, hence the defaults (AdapterHub's
``ParBnConfig`` uses the same two).

It *is* a ``BottleneckAdapter`` (same ``down``, ``act``, ``up``, inits and validation) with two changes:
the delta is multiplied by ``s``, and ``forward`` returns the delta alone. With the ``near_identity``
init ``W_up`` and the biases are zero, so ``Δh`` is exactly zero at the start.
"""

from __future__ import annotations

import math

import torch

from .bottleneck import NEAR_ZERO_STD, BottleneckAdapter


def check_scale(scale) -> float:
    """Return ``scale`` as a float if it is a positive, finite number, else raise a ValueError."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    return float(scale)


class ParallelAdapter(BottleneckAdapter):
    """``s · W_up σ(W_down x)``: the delta a parallel adapter adds beside a sub-layer (no residual)."""

    def __init__(
        self,
        d_model: int,
        bottleneck: int,
        scale: float = 4.0,
        activation: str = "relu",
        bias: bool = True,
        init: str = "near_identity",
        init_std: float = NEAR_ZERO_STD,
    ):
        self_scale = check_scale(scale)  # validate before building anything
        super().__init__(d_model, bottleneck, activation=activation, bias=bias, init=init, init_std=init_std)
        self.scale = self_scale

    def delta(self, x: torch.Tensor) -> torch.Tensor:
        """The scaled correction ``s · W_up σ(W_down x)``."""
        return self.scale * super().delta(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.delta(x)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, scale={self.scale}"
