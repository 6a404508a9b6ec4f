"""AdapterFusion (Pfeiffer et al. 2021, "AdapterFusion: Non-Destructive Task Composition for
Transfer Learning"), notebook 05: putting the fusion layer (``course_lib.adapters.fusion.AdapterFusion``)
into a model.

Stage one trains one adapter per task, independently. Stage two freezes the model *and* those
adapters and learns, in every layer, a small attention that decides, token by token, how much of
each adapter's correction to use. Like the paper we fuse the adapters that sit after the feed-forward
block (the ``BertOutput`` sub-layer); the query and the adapters read what those adapters read (``LN(h + r)``
for Pfeiffer adapters, as in AdapterHub; ``h`` for Houlsby ones), and the mix is added to ``h`` before the
sub-layer's residual and LayerNorm. For Houlsby adapters the halves after attention are switched off while a
fusion is active. With Pfeiffer adapters and ``score_scale="none"`` this is AdapterHub's ``Fuse`` exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

from .adapters.fusion import QK_INIT_STD, SCORE_SCALES, AdapterFusion
from .model import adapter_spec, get_active_adapter, list_adapters, set_active_adapter
from .params import freeze_base
from .specs import FusionSpec, check_name
from .surgery import hidden_size, iter_wrappers, registry


def add_fusion(
    model: nn.Module,
    adapter_names: Sequence[str],
    name: str = "fusion",
    set_active: bool = True,
    score_scale: str = "sqrt_d",
) -> nn.Module:
    """Add an ``AdapterFusion`` called ``name`` over ``adapter_names`` to every layer; returns ``model``.

    The fusion sits in each ``BertOutput`` sub-layer (after the feed-forward block), where every
    listed adapter must be present, so they must be serial adapters (``houlsby``, ``pfeiffer`` or
    ``houlsby-ffn``) that all read the same input (a parallel adapter reads another input and cannot be
    fused this way). ``score_scale`` is ``"sqrt_d"`` (the course's default) or ``"none"`` (AdapterHub).
    It is activated unless ``set_active=False``; switch with ``set_active_adapter(model, name)``.
    """
    spec = FusionSpec(adapter_names, score_scale=score_scale)
    known = list_adapters(model)
    for a in spec.adapters:
        if a not in known:
            raise ValueError(f"unknown adapter {a!r} in adapter_names; known adapters: {known}")
        if adapter_spec(model, a).is_parallel:
            raise ValueError(
                f"adapter {a!r} is a parallel adapter; AdapterFusion needs serial (houlsby, pfeiffer "
                "or houlsby-ffn) adapters"
            )
    reads = {a: adapter_spec(model, a).reads_normed_output for a in spec.adapters}
    if len(set(reads.values())) > 1:
        raise ValueError(
            f"the adapters of one fusion must read the same input: {reads} (True: LN(h + r), "
            "Pfeiffer; False: h, Houlsby)"
        )
    placed = {a: adapter_spec(model, a).layers for a in spec.adapters}
    if len(set(placed.values())) > 1:
        raise ValueError(f"the adapters of one fusion must sit in the same layers: {placed} (None: every layer)")
    check_name(name)
    if name in registry(model).names():
        raise ValueError(f"name {name!r} is already used by an adapter or fusion")

    d_model = hidden_size(model)
    for _, location, wrapper in iter_wrappers(model):
        if location != spec.location:
            continue
        weight = wrapper.weight
        fusion = AdapterFusion(d_model, len(spec.adapters), score_scale=spec.score_scale)
        wrapper.add(name, fusion.to(device=weight.device, dtype=weight.dtype), spec)
    registry(model).fusions[name] = spec
    if set_active:
        set_active_adapter(model, name)
    return model


def set_active_fusion(model: nn.Module, name: str | None) -> nn.Module:
    """Activate fusion ``name`` (``None`` = base model); like ``set_active_adapter`` but only for fusions."""
    fusions = registry(model).fusions
    if name is not None and name not in fusions:
        raise ValueError(f"unknown fusion {name!r}; known fusions: {list(fusions)}")
    return set_active_adapter(model, name)


def list_fusions(model: nn.Module) -> list[str]:
    """Names of the fusions in ``model``."""
    return list(registry(model).fusions)


def fusion_weights(
    model: nn.Module, name: str | None = None, attention_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean fusion weights of the last forward pass, shape ``(num_layers, n_adapters)`` (for a heatmap).

    ``name`` defaults to the active fusion. The mean is over all tokens of the batch; pass the
    batch's ``attention_mask`` (batch, seq) to leave padding tokens out.
    """
    fusions = registry(model).fusions
    name = get_active_adapter(model) if name is None else name
    if name not in fusions:
        raise ValueError(f"unknown fusion {name!r}; known fusions: {list(fusions)}")
    rows: list[torch.Tensor] = []
    for _, location, wrapper in iter_wrappers(model):
        if location == "output" and name in wrapper.fusions:
            weights: torch.Tensor | None = cast(AdapterFusion, wrapper.fusions[name]).last_weights
            if weights is None:
                raise RuntimeError(f"fusion {name!r} has no weights yet: run a forward pass with it active first")
            weights = weights.float().reshape(-1, weights.shape[-1])
            if attention_mask is not None:
                keep = attention_mask.reshape(-1).to(weights.device).bool()
                weights = weights[keep]
            rows.append(weights.mean(dim=0).cpu())
    return torch.stack(rows)


def freeze_for_fusion(model: nn.Module, train_head: bool = True) -> nn.Module:
    """AdapterFusion's second stage: only the fusion layers (and the head) train; the base model and
    the adapters being fused stay frozen. Returns ``model``."""
    return freeze_base(model, train_head=train_head, train_adapters=False)


__all__ = [
    "AdapterFusion",
    "QK_INIT_STD",
    "SCORE_SCALES",
    "add_fusion",
    "set_active_fusion",
    "set_active_adapter",
    "list_fusions",
    "fusion_weights",
    "freeze_for_fusion",
]
