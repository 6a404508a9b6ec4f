"""Putting adapters into a Hugging Face model (BERT or GPT-2, see ``course_lib.surgery``), switching between them and taking them out (notebook 04).

A model can hold several named adapters of any kind (``course_lib.specs``); exactly one of them (or one
fusion, see ``course_lib.fusion``, or none) is *active* at a time. What the model holds is recorded in one
``AdapterRegistry`` on it (``course_lib.surgery.registry``), which saving, loading and counting read.
"""

from __future__ import annotations

from torch import nn

from .specs import AdapterSpec, check_name, spec_from_arguments
from .surgery import architecture, get_layers, hidden_size, iter_wrappers, location_parent, registry, unwrap, wrap


def add_adapters(
    model: nn.Module,
    placement: str | AdapterSpec = "houlsby",
    bottleneck: int = 64,
    name: str = "default",
    activation: str | None = None,
    init: str = "near_identity",
    set_active: bool = True,
    spec: AdapterSpec | None = None,
    **adapter_settings,
) -> nn.Module:
    """Insert a new adapter called ``name`` into every layer of ``model`` (in place) and return the model.

    Either describe a bottleneck or parallel adapter with plain arguments, ``placement`` (``"houlsby"``,
    ``"pfeiffer"``, ``"houlsby-ffn"`` or ``"parallel"``, see ``course_lib.specs``; a GPT-2 model takes
    ``"houlsby"`` and ``"houlsby-ffn"``, see ``course_lib.surgery``), ``bottleneck``,
    ``activation`` (default ``"relu"``), ``init`` and ``adapter_settings`` (``bias``, ``init_std``, ``layers``:
    which layers get the adapter, all by default, and ``scale`` for the parallel adapter); or pass a spec of any kind, ``add_adapters(model, CompacterSpec(...))``
    or ``spec=...``. New adapters live on the same device and dtype as the layer they sit in. With the
    default ``near_identity`` init the model's outputs do not change until the adapter is trained.
    """
    if isinstance(placement, AdapterSpec):
        if spec is not None:
            raise ValueError("pass the spec once: as the second argument or as spec=, not both")
        spec, placement = placement, "houlsby"
    if spec is not None:
        if not isinstance(spec, AdapterSpec):
            raise ValueError(f"spec must be a BottleneckSpec, ParallelSpec or CompacterSpec, got {type(spec).__name__}")
        if placement != "houlsby" or adapter_settings or activation is not None:
            raise ValueError("pass either a spec or plain adapter arguments (placement, activation, ...), not both")
    else:
        spec = spec_from_arguments(placement, bottleneck, activation, init, **adapter_settings)
    check_name(name)
    reg = registry(model)
    if name in reg.names():
        raise ValueError(f"name {name!r} is already used by an adapter or fusion; known: {reg.names()}")
    arch = architecture(model)
    arch.check_placement(spec.placement, model)
    layers = get_layers(model)

    # Build every module first, so that a bad setting raises before the model is touched.
    slots = [(i, location) for i in spec.layer_indices(len(layers)) for location in spec.locations]
    modules = spec.build(hidden_size(model), len(slots))
    for (i, location), module in zip(slots, modules, strict=False):
        parent, attr = location_parent(layers[i], location, arch)
        weight = next(getattr(parent, attr).parameters())  # dense.weight (BERT), c_proj.weight (GPT-2)
        module.to(device=weight.device, dtype=weight.dtype)
    for (i, location), module in zip(slots, modules, strict=False):
        wrap(model, i, location).add(name, module, spec)
    reg.adapters[name] = spec
    if set_active:
        set_active_adapter(model, name)
    return model


def adapter_spec(model: nn.Module, name: str) -> AdapterSpec:
    """The spec adapter ``name`` was added with."""
    adapters = registry(model).adapters
    if name not in adapters:
        raise ValueError(f"unknown adapter name {name!r}; known adapters: {list(adapters)}")
    return adapters[name]


def set_active_adapter(model: nn.Module, name: str | None) -> nn.Module:
    """Use adapter (or fusion) ``name`` in every sub-layer that holds it; ``None`` = the base model."""
    reg = registry(model)
    if name is not None and name not in reg.names():
        raise ValueError(f"unknown adapter name {name!r}; known adapters and fusions: {reg.names()}")
    for _, _, wrapper in iter_wrappers(model):
        wrapper.active = name if name in wrapper.names() else None
    reg.active = name
    return model


def get_active_adapter(model: nn.Module) -> str | None:
    """The name of the active adapter or fusion, or ``None``."""
    return registry(model).active


def list_adapters(model: nn.Module) -> list[str]:
    """Names of the adapters in ``model``, in the order they were added (fusions not included)."""
    return list(registry(model).adapters)


def remove_adapters(model: nn.Module, name: str | None = None) -> nn.Module:
    """Remove adapter or fusion ``name`` (``None`` = everything) and return the model.

    Removing an adapter also removes the fusions that mix it. A sub-layer left with no adapter is
    unwrapped: the original module is put back, so once everything is removed the model has exactly
    the original modules, ``state_dict`` keys and outputs.
    """
    reg = registry(model)
    if name is None:
        doomed = reg.names()
    elif name in reg.adapters:
        doomed = [name, *(f for f, spec in reg.fusions.items() if name in spec.adapters)]
    elif name in reg.fusions:
        doomed = [name]
    else:
        raise ValueError(f"unknown adapter name {name!r}; known adapters and fusions: {reg.names()}")
    for i, location, wrapper in list(iter_wrappers(model)):
        for doomed_name in doomed:
            wrapper.remove(doomed_name)
        if name is None or wrapper.is_empty():
            unwrap(model, i, location)
    for doomed_name in doomed:
        reg.adapters.pop(doomed_name, None)
        reg.fusions.pop(doomed_name, None)
    if reg.active in doomed:
        reg.active = None
    return model


__all__ = [
    "add_adapters",
    "adapter_spec",
    "set_active_adapter",
    "get_active_adapter",
    "list_adapters",
    "remove_adapters",
]
