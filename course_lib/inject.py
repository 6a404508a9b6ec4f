"""Putting adapters into a Hugging Face BERT model (notebook 04).

Every ``BertLayer`` ends its two sub-layers the same way. ``attention.output`` (a ``BertSelfOutput``)
and ``output`` (a ``BertOutput``, the end of the feed-forward block) both compute::

    LayerNorm(dropout(dense(hidden_states)) + input_tensor)

An adapter goes *inside* that line, after ``dropout(dense(...))`` and *before* the residual and the
LayerNorm, exactly as in Houlsby et al. (2019, figure 2) and AdapterHub's ``DoubleSeqBn`` /
``SeqBnConfig``. We do that by swapping the sub-layer for an :class:`AdapterSubLayer` that keeps the
original module (unchanged, its weights shared) and recomputes the same line with the adapter
spliced in.

Placements (where adapters go in every layer):

* ``"houlsby"``  - a ``BottleneckAdapter`` in ``attention.output`` *and* in ``output`` (2 per layer).
* ``"pfeiffer"`` - a ``BottleneckAdapter`` in ``output`` only (Pfeiffer et al. 2021: one adapter
  after the feed-forward block is almost as good as two, at half the parameters and latency).
* ``"parallel"`` - a ``ParallelAdapter`` beside the feed-forward block (He et al. 2021): it reads
  the FFN's *input* (``input_tensor`` of ``BertOutput``) and its scaled output is added to the
  FFN's output.

The default activation is ``"relu"`` for every placement: AdapterHub's ``SeqBnConfig`` (Pfeiffer),
``DoubleSeqBnConfig`` (Houlsby) and ``ParBnConfig`` (parallel) all default to
``non_linearity="relu"``, so checkpoints and numbers stay comparable with theirs. Pass
``activation="gelu"`` (or ``"silu"``, ``"identity"``) to change it.

A model can hold several named adapters; exactly one of them (or one fusion, see
``course_lib.fusion``, or none) is *active* at a time. The configuration of every adapter is kept in
the plain dict ``model.course_adapters`` so that saving, loading and counting can read it.
"""

from __future__ import annotations

import importlib
from typing import Iterator

import torch
from torch import nn

from .adapters.bottleneck import BottleneckAdapter
from .adapters.parallel import ParallelAdapter

PLACEMENTS = ("houlsby", "pfeiffer", "parallel")

#: Which sub-layers of a BertLayer each placement touches. "attention_output" is
#: ``layer.attention.output`` (BertSelfOutput), "output" is ``layer.output`` (BertOutput).
PLACEMENT_LOCATIONS: dict[str, tuple[str, ...]] = {
    "houlsby": ("attention_output", "output"),
    "pfeiffer": ("output",),
    "parallel": ("output",),
}

#: AdapterHub's default non-linearity for all three placements (see the module docstring).
DEFAULT_ACTIVATION = "relu"


class AdapterSubLayer(nn.Module):
    """A ``BertSelfOutput`` / ``BertOutput`` with adapters spliced in before its residual + LayerNorm.

    ``sublayer`` is the original module, kept as is (its ``dense``, ``dropout`` and ``LayerNorm`` are
    reused, not copied). ``adapters`` holds serial ``BottleneckAdapter``s, ``parallel`` holds
    ``ParallelAdapter``s and ``fusions`` holds ``AdapterFusion`` modules, all keyed by name.
    ``active`` is the name of the one in use here, or ``None`` for the original behaviour.
    """

    def __init__(self, sublayer: nn.Module):
        super().__init__()
        for part in ("dense", "dropout", "LayerNorm"):
            if not hasattr(sublayer, part):
                raise ValueError(
                    f"sublayer must have dense, dropout and LayerNorm like BertOutput, "
                    f"got {type(sublayer).__name__} without {part!r}"
                )
        self.sublayer = sublayer
        self.adapters = nn.ModuleDict()
        self.parallel = nn.ModuleDict()
        self.fusions = nn.ModuleDict()
        self.fusion_adapters: dict[str, list[str]] = {}  # fusion name -> names of the adapters it mixes
        self.active: str | None = None

    # The original sub-layer's parts, so code that reads ``layer.output.dense`` keeps working.
    @property
    def dense(self) -> nn.Module:
        return self.sublayer.dense

    @property
    def dropout(self) -> nn.Module:
        return self.sublayer.dropout

    @property
    def LayerNorm(self) -> nn.Module:  # noqa: N802 (Hugging Face's name)
        return self.sublayer.LayerNorm

    def names(self) -> list[str]:
        """Every adapter and fusion name held here."""
        return [*self.adapters.keys(), *self.parallel.keys(), *self.fusions.keys()]

    def is_empty(self) -> bool:
        return not self.names()

    def forward(self, hidden_states: torch.Tensor, input_tensor: torch.Tensor) -> torch.Tensor:
        h = self.sublayer.dropout(self.sublayer.dense(hidden_states))
        name = self.active
        if name in self.adapters:  # serial: h + up(act(down(h)))
            h = self.adapters[name](h)
        elif name in self.parallel:  # parallel: reads the sub-layer's input, added beside it
            h = h + self.parallel[name](input_tensor)
        elif name in self.fusions:  # AdapterFusion mixes the adapters' deltas (one residual inside)
            deltas = torch.stack([self.adapters[n].delta(h) for n in self.fusion_adapters[name]], dim=-2)
            h, _ = self.fusions[name](h, deltas)
        return self.sublayer.LayerNorm(h + input_tensor)

    def extra_repr(self) -> str:
        return f"active={self.active!r}"


# ----------------------------------------------------------------------------- finding the sub-layers


def get_layers(model: nn.Module) -> nn.ModuleList:
    """The list of ``BertLayer``s: ``model.base_model.encoder.layer``."""
    base = getattr(model, "base_model", None)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if not isinstance(layers, nn.ModuleList):
        raise ValueError(
            f"unsupported model {type(model).__name__}: expected a BERT-style model with "
            f"model.base_model.encoder.layer (BertModel, BertForSequenceClassification, MiniLM, ...)"
        )
    return layers


def _location_parent(layer: nn.Module, location: str) -> tuple[nn.Module, str]:
    """The module that owns the sub-layer at ``location`` and the attribute name it is stored under."""
    if location == "attention_output":
        return layer.attention, "output"
    if location == "output":
        return layer, "output"
    raise ValueError(f"location must be 'attention_output' or 'output', got {location!r}")


def iter_sublayers(model: nn.Module) -> Iterator[tuple[int, str, nn.Module]]:
    """Yield ``(layer_index, location, module)`` for both sub-layers of every layer, wrapped or not."""
    for i, layer in enumerate(get_layers(model)):
        for location in ("attention_output", "output"):
            parent, attr = _location_parent(layer, location)
            yield i, location, getattr(parent, attr)


def iter_wrappers(model: nn.Module) -> Iterator[tuple[int, str, AdapterSubLayer]]:
    """Yield ``(layer_index, location, wrapper)`` for every ``AdapterSubLayer`` in the model."""
    for i, location, module in iter_sublayers(model):
        if isinstance(module, AdapterSubLayer):
            yield i, location, module


def _wrap(layer: nn.Module, location: str) -> AdapterSubLayer:
    """Return the wrapper at ``location``, creating it (in place) the first time."""
    parent, attr = _location_parent(layer, location)
    module = getattr(parent, attr)
    if isinstance(module, AdapterSubLayer):
        return module
    wrapper = AdapterSubLayer(module)
    setattr(parent, attr, wrapper)
    return wrapper


def _adapter_registry(model: nn.Module) -> dict[str, dict]:
    if not isinstance(getattr(model, "course_adapters", None), dict):
        model.course_adapters = {}
    return model.course_adapters


def _fusion_registry(model: nn.Module) -> dict[str, dict]:
    if not isinstance(getattr(model, "course_fusions", None), dict):
        model.course_fusions = {}
    return model.course_fusions


# ----------------------------------------------------------------------------- public API


def add_adapters(
    model: nn.Module,
    placement: str = "houlsby",
    bottleneck: int = 64,
    name: str = "default",
    activation: str | None = None,
    init: str = "near_identity",
    set_active: bool = True,
    **adapter_kwargs,
) -> nn.Module:
    """Insert a new adapter called ``name`` into every layer of ``model`` (in place) and return the model.

    ``placement`` is ``"houlsby"``, ``"pfeiffer"`` or ``"parallel"`` (see the module docstring).
    ``activation`` defaults to ``"relu"`` (AdapterHub's default). ``adapter_kwargs`` go to the adapter
    constructor (``bias``, ``init_std``, and ``scale`` for the parallel adapter). New adapters live on
    the same device and dtype as the layer they sit in. With the default ``near_identity`` init the
    model's outputs do not change until the adapter is trained.
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {list(PLACEMENTS)}, got {placement!r}")
    if not isinstance(name, str) or not name or "." in name:
        raise ValueError(f"name must be a non-empty string without '.', got {name!r}")
    adapters, fusions = _adapter_registry(model), _fusion_registry(model)
    if name in adapters or name in fusions:
        known = list(adapters) + list(fusions)
        raise ValueError(f"name {name!r} is already used by an adapter or fusion; known: {known}")
    activation = DEFAULT_ACTIVATION if activation is None else activation
    layers = get_layers(model)
    d_model = model.config.hidden_size

    # Build every adapter first, so a bad argument raises before the model is touched.
    cls = ParallelAdapter if placement == "parallel" else BottleneckAdapter
    new: list[tuple[int, str, nn.Module]] = []
    for i, layer in enumerate(layers):
        for location in PLACEMENT_LOCATIONS[placement]:
            adapter = cls(d_model, bottleneck, activation=activation, init=init, **adapter_kwargs)
            parent, attr = _location_parent(layer, location)
            weight = getattr(parent, attr).dense.weight
            new.append((i, location, adapter.to(device=weight.device, dtype=weight.dtype)))

    for i, location, adapter in new:
        wrapper = _wrap(layers[i], location)
        (wrapper.parallel if placement == "parallel" else wrapper.adapters)[name] = adapter

    first = new[0][2]
    adapters[name] = {
        "placement": placement,
        "bottleneck": first.bottleneck,
        "activation": activation,
        "init": init,
        "bias": first.has_bias,
        "hidden_size": d_model,
        "num_hidden_layers": len(layers),
        **({"scale": first.scale} if placement == "parallel" else {}),
    }
    if set_active:
        set_active_adapter(model, name)
    return model


def set_active_adapter(model: nn.Module, name: str | None) -> nn.Module:
    """Use adapter (or fusion) ``name`` in every sub-layer that holds it; ``None`` = the base model."""
    known = list_adapters(model) + sorted(_fusion_registry(model))
    if name is not None and name not in known:
        raise ValueError(f"unknown adapter name {name!r}; known adapters and fusions: {known}")
    for _, _, wrapper in iter_wrappers(model):
        wrapper.active = name if name in wrapper.names() else None
    model.course_active_adapter = name
    return model


def get_active_adapter(model: nn.Module) -> str | None:
    """The name of the active adapter or fusion, or ``None``."""
    return getattr(model, "course_active_adapter", None)


def list_adapters(model: nn.Module) -> list[str]:
    """Names of the adapters in ``model``, in the order they were added (fusions not included)."""
    return list(_adapter_registry(model))


def remove_adapters(model: nn.Module, name: str | None = None) -> nn.Module:
    """Remove adapter or fusion ``name`` (``None`` = everything) and return the model.

    Removing an adapter also removes the fusions that mix it. A sub-layer left with no adapter is
    unwrapped: the original module is put back, so once everything is removed the model has exactly
    the original modules, ``state_dict`` keys and outputs.
    """
    adapters, fusions = _adapter_registry(model), _fusion_registry(model)
    if name is None:
        doomed_adapters, doomed_fusions = list(adapters), list(fusions)
    elif name in adapters:
        doomed_adapters = [name]
        doomed_fusions = [f for f, cfg in fusions.items() if name in cfg["adapters"]]
    elif name in fusions:
        doomed_adapters, doomed_fusions = [], [name]
    else:
        raise ValueError(f"unknown adapter name {name!r}; known adapters and fusions: {list(adapters) + list(fusions)}")

    layers = get_layers(model)
    for i, location, wrapper in list(iter_wrappers(model)):
        for f in doomed_fusions:
            if f in wrapper.fusions:
                del wrapper.fusions[f]
                wrapper.fusion_adapters.pop(f)
        for a in doomed_adapters:
            for store in (wrapper.adapters, wrapper.parallel):
                if a in store:
                    del store[a]
        if wrapper.active in doomed_adapters or wrapper.active in doomed_fusions:
            wrapper.active = None
        if name is None or wrapper.is_empty():
            parent, attr = _location_parent(layers[i], location)
            setattr(parent, attr, wrapper.sublayer)
    for a in doomed_adapters:
        adapters.pop(a)
    for f in doomed_fusions:
        fusions.pop(f)
    if get_active_adapter(model) in doomed_adapters + doomed_fusions:
        model.course_active_adapter = None
    return model


# Re-exports, so a notebook can import the whole workflow from one place:
#     from course_lib.inject import add_adapters, freeze_base, count_parameters, save_adapters, load_adapters
# They are looked up lazily (PEP 562 module __getattr__) because checkpoint.py, fusion.py and params.py
# themselves use the functions above: importing them here at the top would create an import cycle.
_REEXPORTS = {
    "freeze_base": "params",
    "count_parameters": "params",
    "save_adapters": "checkpoint",
    "load_adapters": "checkpoint",
}


def __getattr__(attribute: str):
    if attribute in _REEXPORTS:
        module = importlib.import_module(f".{_REEXPORTS[attribute]}", __package__)
        return getattr(module, attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


__all__ = [
    "PLACEMENTS",
    "AdapterSubLayer",
    "add_adapters",
    "set_active_adapter",
    "get_active_adapter",
    "list_adapters",
    "remove_adapters",
    "get_layers",
    "iter_wrappers",
    "freeze_base",
    "count_parameters",
    "save_adapters",
    "load_adapters",
]
