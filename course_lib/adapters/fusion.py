"""The AdapterFusion layer (Pfeiffer et al. 2021), notebook 05: attention over several adapters' outputs.

* the **query** comes from what the adapters read (the sub-layer's output),
* the **keys** and **values** come from each adapter's delta ``z_n = up_n(act(down_n(x)))``,
* ``w = softmax_n( (Q x) · (K z_n) / sqrt(d) )`` - one weight per adapter, summing to 1,
* the mix ``Σ_n w_n · V z_n`` is added to the sub-layer output (a single residual).

``V`` starts as the identity, so at the start the fusion is a weighted average of the adapters'
corrections. We divide the scores by ``sqrt(d)`` as in Transformer attention so the softmax does not
saturate at initialisation (``score_scale="sqrt_d"``, the course's default); AdapterHub's ``Fuse`` leaves
them unscaled (``score_scale="none"``: with it and Pfeiffer adapters the course computes AdapterHub's
output exactly, tests/test_adapterhub_parity.py). AdapterHub's value layer has no bias; ours starts at
zero, which gives the same output.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .bottleneck import check_size

#: How the query-key scores are scaled before the softmax.
SCORE_SCALES = ("sqrt_d", "none")

#: Standard deviation of the random query/key weights (BERT's own ``initializer_range``).
QK_INIT_STD = 0.02


class AdapterFusion(nn.Module):
    """Attention over ``n_adapters`` adapter outputs, queried by the sub-layer output.

    ``forward(h, adapter_outputs)`` takes ``h`` of shape ``(..., d_model)`` and the adapters' deltas
    stacked as ``(..., n_adapters, d_model)``; it returns ``(out, weights)`` with ``out`` like ``h``
    and ``weights`` of shape ``(..., n_adapters)``. The last weights are kept (detached) in
    ``self.last_weights`` for plotting.
    """

    def __init__(self, d_model: int, n_adapters: int, init_std: float = QK_INIT_STD, score_scale: str = "sqrt_d"):
        super().__init__()
        self.d_model = check_size("d_model", d_model)
        self.n_adapters = check_size("n_adapters", n_adapters)
        if score_scale not in SCORE_SCALES:
            raise ValueError(f"score_scale must be one of {list(SCORE_SCALES)}, got {score_scale!r}")
        self.score_scale = score_scale
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        with torch.no_grad():
            for layer in (self.query, self.key):
                nn.init.normal_(layer.weight, std=init_std)
                layer.bias.zero_()
            self.value.weight.copy_(torch.eye(d_model))
            self.value.bias.zero_()
        self.last_weights: torch.Tensor | None = None

    def forward(self, h: torch.Tensor, adapter_outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mix, weights = self.mix(h, adapter_outputs)
        return h + mix, weights  # one residual

    def mix(self, query: torch.Tensor, adapter_outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(Σ_n w_n · V z_n, w)`` without the residual: the part a model adds to its sub-layer output."""
        h = query
        if h.shape[-1] != self.d_model:
            raise ValueError(f"expected h's last dimension to be d_model={self.d_model}, got shape {tuple(h.shape)}")
        expected = (*h.shape[:-1], self.n_adapters, self.d_model)
        if tuple(adapter_outputs.shape) != expected:
            raise ValueError(
                f"expected adapter_outputs of shape (..., n_adapters={self.n_adapters}, d_model={self.d_model}) "
                f"= {expected}, got {tuple(adapter_outputs.shape)}"
            )
        q = self.query(h).unsqueeze(-1)  # (..., d, 1)
        k = self.key(adapter_outputs)  # (..., n, d)
        v = self.value(adapter_outputs)  # (..., n, d)
        scores = (k @ q).squeeze(-1)  # (..., n)
        if self.score_scale == "sqrt_d":
            scores = scores / math.sqrt(self.d_model)
        weights = scores.softmax(dim=-1)
        self.last_weights = weights.detach()
        return (weights.unsqueeze(-1) * v).sum(dim=-2), weights

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, n_adapters={self.n_adapters}, score_scale={self.score_scale!r}"


__all__ = ["AdapterFusion", "SCORE_SCALES", "QK_INIT_STD"]
