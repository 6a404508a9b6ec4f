"""LoRA, low-rank adaptation (Hu et al. 2021), for comparison with bottleneck adapters.

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
from collections.abc import Iterable

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


def lora_layers(model: nn.Module) -> dict[str, LoRALinear]:
    """All ``LoRALinear`` modules of ``model``, keyed by their dotted name."""
    return {name: module for name, module in model.named_modules() if isinstance(module, LoRALinear)}


def _parent_and_attr(model: nn.Module, name: str) -> tuple[nn.Module, str]:
    """Split ``"a.b.c"`` into the module ``model.a.b`` and the attribute name ``"c"``."""
    parent_name, _, attr = name.rpartition(".")
    return (model.get_submodule(parent_name) if parent_name else model), attr


def add_lora(
    model: nn.Module,
    target_modules: str | Iterable[str] = ("query", "value"),
    r: int = 8,
    alpha: float = 16,
    dropout: float = 0.0,
) -> nn.Module:
    """Wrap every ``nn.Linear`` whose attribute name is in ``target_modules`` in a ``LoRALinear``.

    Matching is on the last component of the module name, like PEFT's ``target_modules``: with the
    default ``("query", "value")`` every ``...attention.self.query`` and ``...attention.self.value``
    of a BERT model is adapted (Hu et al. adapt W_q and W_v). Only the wrapped linears are frozen;
    call ``freeze_base(model)`` to freeze everything else except LoRA (and the head).
    Modifies ``model`` in place and returns it. The settings are recorded in ``model.course_lora``.
    """
    if isinstance(target_modules, str):
        target_modules = (target_modules,)
    targets = tuple(target_modules)
    if not targets or not all(isinstance(t, str) and t for t in targets):
        raise ValueError(f"target_modules must be a non-empty list of module names, got {target_modules!r}")
    if lora_layers(model):
        raise ValueError("model already has LoRA layers; call remove_lora(model) before adding new ones")

    names = [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and name.rpartition(".")[2] in targets
    ]
    if not names:
        linear_names = sorted({n.rpartition(".")[2] for n, m in model.named_modules() if isinstance(m, nn.Linear)})
        raise ValueError(
            f"target_modules={list(targets)} matched no nn.Linear in {type(model).__name__}; "
            f"its linear layers are called {linear_names}"
        )
    # Build every wrapper first: a bad r/alpha/dropout then fails before the model is touched.
    wrappers = {name: LoRALinear(model.get_submodule(name), r, alpha, dropout) for name in names}
    for name, wrapper in wrappers.items():
        parent, attr = _parent_and_attr(model, name)
        setattr(parent, attr, wrapper)
    model.course_lora = {"target_modules": list(targets), "r": r, "alpha": alpha, "dropout": dropout, "modules": names}
    return model


def _require_lora(model: nn.Module) -> dict[str, LoRALinear]:
    layers = lora_layers(model)
    if not layers:
        raise ValueError(f"{type(model).__name__} has no LoRA layers: call add_lora(model) first")
    return layers


def merge_lora(model: nn.Module) -> nn.Module:
    """Merge every LoRA update into its base weight (see ``LoRALinear.merge``). Returns ``model``."""
    for layer in _require_lora(model).values():
        layer.merge()
    return model


def unmerge_lora(model: nn.Module) -> nn.Module:
    """Undo ``merge_lora``: take the updates out of the base weights again. Returns ``model``."""
    for layer in _require_lora(model).values():
        layer.unmerge()
    return model


def remove_lora(model: nn.Module) -> nn.Module:
    """Put the original ``nn.Linear`` layers back (un-merging first), discarding the LoRA weights.

    The base weights end up as they were before ``add_lora`` (up to float rounding if the model had
    been merged), with their original ``requires_grad`` flags. Returns ``model``.
    """
    for name, layer in _require_lora(model).items():
        layer.unmerge()
        for pname, p in layer.base.named_parameters():
            p.requires_grad_(layer.base_requires_grad.get(pname, True))
        parent, attr = _parent_and_attr(model, name)
        setattr(parent, attr, layer.base)
    if hasattr(model, "course_lora"):
        del model.course_lora
    return model


__all__ = ["LoRALinear", "add_lora", "merge_lora", "unmerge_lora", "remove_lora", "lora_layers"]
