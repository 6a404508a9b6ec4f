"""LoRA, low-rank adaptation (Hu et al. 2021), for comparison with bottleneck adapters (notebook 06):
putting ``LoRALinear`` layers (``course_lib.adapters.lora``) into a model, merging and removing them.

Instead of adding a new module *after* a sub-layer, LoRA changes the weights of existing linear
layers: ``W' = W + (alpha / r) * B @ A``. Because the update is just another matrix of the same shape
as ``W``, it can be *merged* into ``W`` after training: inference then costs nothing extra, which is
LoRA's main selling point over serial adapters. The settings are a ``LoRASpec`` in the model's registry.
"""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn

from .adapters.lora import LoRALinear, is_linear_like, is_lora_layer
from .specs import LoRASpec
from .surgery import registry, replace_module


def lora_layers(model: nn.Module) -> dict[str, LoRALinear]:
    """All ``LoRALinear`` modules of ``model``, keyed by their dotted name."""
    return {name: module for name, module in model.named_modules() if isinstance(module, LoRALinear)}


def add_lora(
    model: nn.Module,
    target_modules: str | Iterable[str] = ("query", "value"),
    r: int = 8,
    alpha: float = 16,
    dropout: float = 0.0,
) -> nn.Module:
    """Wrap every ``nn.Linear`` (or GPT-2 ``Conv1D``) whose attribute name is in ``target_modules`` in a
    ``LoRALinear``.

    Matching is on the last component of the module name, like PEFT's ``target_modules``: with the
    default ``("query", "value")`` every ``...attention.self.query`` and ``...attention.self.value``
    of a BERT model is adapted (Hu et al. adapt W_q and W_v). GPT-2 computes queries, keys and values in one
    ``Conv1D``, ``c_attn`` (PEFT's default for GPT-2): pass ``target_modules=("c_attn",)``. Only the wrapped linears are frozen;
    call ``freeze_base(model)`` to freeze everything else except LoRA (and the head).
    Modifies ``model`` in place and returns it. The settings are recorded in the model's registry
    (``lora_spec(model)``).
    """
    spec = LoRASpec((target_modules,) if isinstance(target_modules, str) else tuple(target_modules), r, alpha, dropout)
    targets = spec.target_modules
    if lora_layers(model):
        raise ValueError("model already has LoRA layers; call remove_lora(model) before adding new ones")

    linears = {
        name: module
        for name, module in model.named_modules()
        if is_linear_like(module) and name.rpartition(".")[2] in targets
    }
    names = list(linears)
    if not names:
        linear_names = sorted({n.rpartition(".")[2] for n, m in model.named_modules() if is_linear_like(m)})
        raise ValueError(
            f"target_modules={list(targets)} matched no nn.Linear (or GPT-2 Conv1D) in {type(model).__name__}; "
            f"its linear layers are called {linear_names}"
        )
    # Build every wrapper first: a bad r/alpha/dropout then fails before the model is touched.
    wrappers = {name: LoRALinear(linear, r, alpha, dropout) for name, linear in linears.items()}
    for name, wrapper in wrappers.items():
        replace_module(model, name, wrapper)
    reg = registry(model)
    reg.lora, reg.lora_modules = spec, tuple(names)
    return model


def lora_spec(model: nn.Module) -> LoRASpec | None:
    """The ``LoRASpec`` of ``add_lora`` (``None`` when the model has no LoRA layers)."""
    return registry(model).lora


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
        replace_module(model, name, layer.base)
    reg = registry(model)
    reg.lora, reg.lora_modules = None, ()
    return model


__all__ = [
    "LoRALinear",
    "LoRASpec",
    "add_lora",
    "merge_lora",
    "unmerge_lora",
    "remove_lora",
    "lora_layers",
    "lora_spec",
    "is_lora_layer",
]
