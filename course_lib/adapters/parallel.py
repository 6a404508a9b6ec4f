"""The scaled parallel adapter of He et al. (2021), "Towards a Unified View of Parameter-Efficient
Transfer Learning": ``Δh = s · W_up σ(W_down x)``.

A serial (Houlsby/Pfeiffer) adapter sits *after* a sub-layer and rewrites its output. A parallel
adapter instead sits *beside* the sub-layer: it reads the same input ``x`` as the feed-forward
block and its output is *added* to the feed-forward output::

    h = FFN(x) + s · W_up σ(W_down x)

So the module below returns only the correction ``Δh`` (there is no residual inside it); the code
that wires it into the model (``course_lib.inject``) does the addition. He et al. found a scale
``s = 4`` and a ReLU to work best for the parallel adapter on the FFN, hence the defaults.

With the ``near_identity`` init ``W_up`` and the biases are zero, so ``Δh`` is exactly zero and
the model with the adapter computes exactly what it computed before.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .bottleneck import NEAR_ZERO_STD, check_init, check_size, init_projections, make_activation


def check_scale(scale) -> float:
    """Return ``scale`` as a float if it is a positive, finite number, else raise a ValueError."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    return float(scale)


class ParallelAdapter(nn.Module):
    """``s · W_up σ(W_down x)``: the delta a parallel adapter adds beside a sub-layer (no residual).

    Same building blocks as ``BottleneckAdapter`` (``down``, ``act``, ``up``), same inits and the
    same validation; the differences are the fixed scale ``s`` and the missing ``x +``.
    """

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
        super().__init__()
        self.d_model = check_size("d_model", d_model)
        self.bottleneck = check_size("bottleneck", bottleneck)
        self.scale = check_scale(scale)
        self.act = make_activation(activation)
        self.activation_name = activation
        self.init_name = check_init(init)
        self.has_bias = bool(bias)
        self.down = nn.Linear(d_model, bottleneck, bias=bias)
        self.up = nn.Linear(bottleneck, d_model, bias=bias)
        init_projections(self.down, self.up, init, init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.d_model:
            raise ValueError(
                f"expected the last dimension to be d_model={self.d_model}, got shape {tuple(x.shape)}"
            )
        return self.scale * self.up(self.act(self.down(x)))

    def delta(self, x: torch.Tensor) -> torch.Tensor:
        """Same as ``forward``: a parallel adapter's output already *is* the correction."""
        return self.forward(x)

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model}, bottleneck={self.bottleneck}, scale={self.scale}, "
            f"activation={self.activation_name!r}, bias={self.has_bias}, init={self.init_name!r}"
        )
