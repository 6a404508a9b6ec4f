"""AdapterFusion (Pfeiffer et al. 2021, "AdapterFusion: Non-Destructive Task Composition for
Transfer Learning"), notebook 05.

Stage one trains one adapter per task, independently. Stage two freezes the model *and* those
adapters and learns, in every layer, a small attention that decides, token by token, how much of
each adapter's correction to use:

* the **query** comes from the sub-layer's output ``h`` (what the layer computed),
* the **keys** and **values** come from each adapter's delta ``z_n = up_n(act(down_n(h)))``,
* ``w = softmax_n( (Q h) · (K z_n) / sqrt(d) )`` - one weight per adapter, summing to 1,
* ``out = h + sum_n w_n · V z_n`` - a single residual, then the usual residual + LayerNorm.

``V`` starts as the identity, so at the start the fusion is a weighted average of the adapters'
corrections. We divide the scores by ``sqrt(d)`` as in Transformer attention so the softmax does not
saturate at initialisation; AdapterHub leaves the scores unscaled and can add a temperature
instead. Like the paper we fuse the adapters that sit after the feed-forward block (the
``BertOutput`` sub-layer, Pfeiffer placement). For Houlsby adapters the halves after attention are
switched off while a fusion is active.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from .adapters.bottleneck import check_size
from .inject import (
    _fusion_registry,
    get_active_adapter,
    get_layers,
    iter_wrappers,
    list_adapters,
    set_active_adapter,
)
from .params import freeze_base

#: Standard deviation of the random query/key weights (BERT's own ``initializer_range``).
QK_INIT_STD = 0.02


class AdapterFusion(nn.Module):
    """Attention over ``n_adapters`` adapter outputs, queried by the sub-layer output.

    ``forward(h, adapter_outputs)`` takes ``h`` of shape ``(..., d_model)`` and the adapters' deltas
    stacked as ``(..., n_adapters, d_model)``; it returns ``(out, weights)`` with ``out`` like ``h``
    and ``weights`` of shape ``(..., n_adapters)``. The last weights are kept (detached) in
    ``self.last_weights`` for plotting.
    """

    def __init__(self, d_model: int, n_adapters: int, init_std: float = QK_INIT_STD):
        super().__init__()
        self.d_model = check_size("d_model", d_model)
        self.n_adapters = check_size("n_adapters", n_adapters)
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
        scores = (k @ q).squeeze(-1) / math.sqrt(self.d_model)  # (..., n)
        weights = scores.softmax(dim=-1)
        out = h + (weights.unsqueeze(-1) * v).sum(dim=-2)  # one residual
        self.last_weights = weights.detach()
        return out, weights

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, n_adapters={self.n_adapters}"


def add_fusion(
    model: nn.Module, adapter_names: Sequence[str], name: str = "fusion", set_active: bool = True
) -> nn.Module:
    """Add an ``AdapterFusion`` called ``name`` over ``adapter_names`` to every layer; returns ``model``.

    The fusion sits in each ``BertOutput`` sub-layer (after the feed-forward block), where every
    listed adapter must be present, so they must be ``houlsby`` or ``pfeiffer`` adapters (a parallel
    adapter reads another input and cannot be fused this way). It is activated unless
    ``set_active=False``; switch with ``set_active_adapter(model, name)``.
    """
    if isinstance(adapter_names, str) or not isinstance(adapter_names, Sequence) or len(adapter_names) == 0:
        raise ValueError(f"adapter_names must be a non-empty list of adapter names, got {adapter_names!r}")
    adapter_names = list(adapter_names)
    if len(set(adapter_names)) != len(adapter_names):
        raise ValueError(f"adapter_names must not repeat a name, got {adapter_names}")
    known = list_adapters(model)
    for a in adapter_names:
        if a not in known:
            raise ValueError(f"unknown adapter {a!r} in adapter_names; known adapters: {known}")
        if model.course_adapters[a]["placement"] == "parallel":
            raise ValueError(f"adapter {a!r} is a parallel adapter; AdapterFusion needs houlsby or pfeiffer adapters")
    fusions = _fusion_registry(model)
    if not isinstance(name, str) or not name or "." in name:
        raise ValueError(f"name must be a non-empty string without '.', got {name!r}")
    if name in fusions or name in known:
        raise ValueError(f"name {name!r} is already used by an adapter or fusion")

    d_model = model.config.hidden_size
    for _, location, wrapper in iter_wrappers(model):
        if location != "output":
            continue
        weight = wrapper.dense.weight
        fusion = AdapterFusion(d_model, len(adapter_names)).to(device=weight.device, dtype=weight.dtype)
        wrapper.fusions[name] = fusion
        wrapper.fusion_adapters[name] = adapter_names
    fusions[name] = {"adapters": adapter_names, "location": "output"}
    if set_active:
        set_active_adapter(model, name)
    return model


def set_active_fusion(model: nn.Module, name: str | None) -> nn.Module:
    """Activate fusion ``name`` (``None`` = base model); like ``set_active_adapter`` but only for fusions."""
    fusions = _fusion_registry(model)
    if name is not None and name not in fusions:
        raise ValueError(f"unknown fusion {name!r}; known fusions: {list(fusions)}")
    return set_active_adapter(model, name)


def list_fusions(model: nn.Module) -> list[str]:
    """Names of the fusions in ``model``."""
    return list(_fusion_registry(model))


def fusion_weights(
    model: nn.Module, name: str | None = None, attention_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean fusion weights of the last forward pass, shape ``(num_layers, n_adapters)`` (for a heatmap).

    ``name`` defaults to the active fusion. The mean is over all tokens of the batch; pass the
    batch's ``attention_mask`` (batch, seq) to leave padding tokens out.
    """
    fusions = _fusion_registry(model)
    name = get_active_adapter(model) if name is None else name
    if name not in fusions:
        raise ValueError(f"unknown fusion {name!r}; known fusions: {list(fusions)}")
    rows = [None] * len(get_layers(model))
    for i, location, wrapper in iter_wrappers(model):
        if location == "output" and name in wrapper.fusions:
            weights = wrapper.fusions[name].last_weights
            if weights is None:
                raise RuntimeError(f"fusion {name!r} has no weights yet: run a forward pass with it active first")
            weights = weights.float().reshape(-1, weights.shape[-1])
            if attention_mask is not None:
                keep = attention_mask.reshape(-1).to(weights.device).bool()
                weights = weights[keep]
            rows[i] = weights.mean(dim=0).cpu()
    return torch.stack(rows)


def freeze_for_fusion(model: nn.Module, train_head: bool = True) -> nn.Module:
    """AdapterFusion's second stage: only the fusion layers (and the head) train; the base model and
    the adapters being fused stay frozen. Returns ``model``."""
    return freeze_base(model, train_head=train_head, train_adapters=False)


__all__ = [
    "AdapterFusion",
    "add_fusion",
    "set_active_fusion",
    "set_active_adapter",
    "list_fusions",
    "fusion_weights",
    "freeze_for_fusion",
]
