"""Model surgery: where the new modules go in a Hugging Face BERT model, and the one helper that swaps a
module for another (adapters and LoRA both use it).

Every ``BertLayer`` ends its two sub-layers the same way. ``attention.output`` (a ``BertSelfOutput``)
and ``output`` (a ``BertOutput``, the end of the feed-forward block) both compute::

    LayerNorm(dropout(dense(x)) + input_tensor)

Adapters go *inside* that line, so we swap such a sub-layer for an :class:`AdapterSubLayer` that keeps the
original module (unchanged, its weights shared) and recomputes the same line with the active adapter
spliced in, where its spec's placement says (``course_lib.specs``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, cast

import torch
from torch import nn

from .specs import AdapterRegistry, AdapterSpec, FusionSpec

LOCATIONS = ("attention_output", "output")
#: The attribute of a model that holds its ``AdapterRegistry``.
REGISTRY_ATTRIBUTE = "course_registry"


# ----------------------------------------------------------------------------- swapping modules


def replace_module(model: nn.Module, name: str, new: nn.Module) -> nn.Module:
    """Put ``new`` where the submodule called ``name`` (dotted, e.g. ``bert.encoder.layer.0.output``) is;
    return the module that was there."""
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    old = getattr(parent, attr)
    setattr(parent, attr, new)
    return old


def registry(model: nn.Module) -> AdapterRegistry:
    """The model's ``AdapterRegistry`` (``model.course_registry``), created empty the first time."""
    found = getattr(model, REGISTRY_ATTRIBUTE, None)
    if not isinstance(found, AdapterRegistry):
        found = AdapterRegistry()
        setattr(model, REGISTRY_ATTRIBUTE, found)
    return found


def hidden_size(model: nn.Module) -> int:
    """``model.config.hidden_size``: the width ``d`` every adapter of the model reads and writes."""
    size = getattr(getattr(model, "config", None), "hidden_size", None)
    if not isinstance(size, int):
        raise ValueError(
            f"unsupported model {type(model).__name__}: expected a Hugging Face model with config.hidden_size"
        )
    return size


class _Corrects(Protocol):
    """What an adapter in a wrapper offers: its correction of an input (``delta``)."""

    def delta(self, x: torch.Tensor) -> torch.Tensor: ...


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


def location_parent(layer: nn.Module, location: str) -> tuple[nn.Module, str]:
    """The module that owns the sub-layer at ``location`` and the attribute name it is stored under."""
    if location == "attention_output":
        return cast(nn.Module, layer.attention), "output"
    if location == "output":
        return layer, "output"
    raise ValueError(f"location must be one of {list(LOCATIONS)}, got {location!r}")


def sublayer_name(model: nn.Module, index: int, location: str) -> str:
    """The dotted name of a sub-layer inside ``model`` (for ``replace_module``)."""
    layers = get_layers(model)
    prefix = next(name for name, module in model.named_modules() if module is layers)
    return f"{prefix}.{index}." + ("attention.output" if location == "attention_output" else "output")


def iter_sublayers(model: nn.Module) -> Iterator[tuple[int, str, nn.Module]]:
    """Yield ``(layer_index, location, module)`` for both sub-layers of every layer, wrapped or not."""
    for i, layer in enumerate(get_layers(model)):
        for location in LOCATIONS:
            parent, attr = location_parent(layer, location)
            yield i, location, getattr(parent, attr)


def iter_wrappers(model: nn.Module) -> Iterator[tuple[int, str, AdapterSubLayer]]:
    """Yield ``(layer_index, location, wrapper)`` for every ``AdapterSubLayer`` in the model."""
    for i, location, module in iter_sublayers(model):
        if isinstance(module, AdapterSubLayer):
            yield i, location, module


def wrap(model: nn.Module, index: int, location: str) -> AdapterSubLayer:
    """The wrapper of sub-layer ``location`` of layer ``index``, swapped in the first time it is needed."""
    parent, attr = location_parent(get_layers(model)[index], location)
    module = getattr(parent, attr)
    if isinstance(module, AdapterSubLayer):
        return module
    wrapper = AdapterSubLayer(module)
    replace_module(model, sublayer_name(model, index, location), wrapper)
    return wrapper


def unwrap(model: nn.Module, index: int, location: str) -> None:
    """Put the original sub-layer back in place of its wrapper (a no-op if it is not wrapped)."""
    parent, attr = location_parent(get_layers(model)[index], location)
    module = getattr(parent, attr)
    if isinstance(module, AdapterSubLayer):
        replace_module(model, sublayer_name(model, index, location), module.sublayer)


# ----------------------------------------------------------------------------- the wrapper


class AdapterSubLayer(nn.Module):
    """A ``BertSelfOutput`` / ``BertOutput`` with adapters spliced in before its residual + LayerNorm.

    ``sublayer`` is the original module, kept as is (its ``dense``, ``dropout`` and ``LayerNorm`` are
    reused, not copied). ``adapters`` holds serial adapters, ``parallel`` parallel ones and ``fusions``
    ``AdapterFusion`` modules, all keyed by name; ``specs`` says how each adapter and fusion is wired.
    ``active`` is the name of the one in use here, or ``None`` for the original behaviour.
    """

    sublayer: Any  # a Hugging Face BertSelfOutput / BertOutput: dense, dropout, LayerNorm
    adapters: nn.ModuleDict
    parallel: nn.ModuleDict
    fusions: nn.ModuleDict

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
        self.specs: dict[str, AdapterSpec | FusionSpec] = {}
        self.active: str | None = None

    # The original sub-layer's parts, so code that reads ``layer.output.dense`` keeps working.
    @property
    def dense(self) -> Any:
        return self.sublayer.dense

    @property
    def dropout(self) -> Any:
        return self.sublayer.dropout

    @property
    def LayerNorm(self) -> Any:  # noqa: N802 (Hugging Face's name)
        return self.sublayer.LayerNorm

    @property
    def fusion_adapters(self) -> dict[str, list[str]]:
        """Fusion name -> the names of the adapters it mixes."""
        return {name: list(spec.adapters) for name, spec in self.specs.items() if isinstance(spec, FusionSpec)}

    def add(self, name: str, module: nn.Module, spec: AdapterSpec | FusionSpec) -> None:
        store = self.fusions if isinstance(spec, FusionSpec) else self.parallel if spec.is_parallel else self.adapters
        store[name] = module
        self.specs[name] = spec

    def remove(self, name: str) -> None:
        for store in (self.adapters, self.parallel, self.fusions):
            if name in store:
                del store[name]
        self.specs.pop(name, None)
        if self.active == name:
            self.active = None

    def names(self) -> list[str]:
        """Every adapter and fusion name held here."""
        return [*self.adapters.keys(), *self.parallel.keys(), *self.fusions.keys()]

    def is_empty(self) -> bool:
        return not self.names()

    def _adapter_input(self, name: str, h: torch.Tensor, input_tensor: torch.Tensor) -> torch.Tensor:
        """What adapter ``name`` reads: ``LN(h + r)`` for Pfeiffer, else ``h`` (also for a module put into
        ``adapters`` by hand, without a spec, as notebook 04 does)."""
        spec = self.specs.get(name)
        return self.sublayer.LayerNorm(h + input_tensor) if getattr(spec, "reads_normed_output", False) else h

    def _correction(self, name: str, x: torch.Tensor) -> torch.Tensor:
        return cast(_Corrects, self.adapters[name]).delta(x)

    def forward(self, hidden_states: torch.Tensor, input_tensor: torch.Tensor) -> torch.Tensor:
        h = self.sublayer.dropout(self.sublayer.dense(hidden_states))
        name = self.active
        if name is None:
            pass
        elif name in self.adapters:  # serial: the adapter's correction of h (or of LN(h + r), Pfeiffer)
            h = h + self._correction(name, self._adapter_input(name, h, input_tensor))
        elif name in self.parallel:  # parallel: reads the sub-layer's input, added beside it
            h = h + self.parallel[name](input_tensor)
        elif name in self.fusions:  # AdapterFusion mixes the adapters' corrections (one residual)
            names = cast(FusionSpec, self.specs[name]).adapters
            x = self._adapter_input(names[0], h, input_tensor)
            deltas = torch.stack([self._correction(n, x) for n in names], dim=-2)
            mix, _ = cast(Any, self.fusions[name]).mix(x, deltas)
            h = h + mix
        return self.sublayer.LayerNorm(h + input_tensor)

    def extra_repr(self) -> str:
        return f"active={self.active!r}"


__all__ = [
    "AdapterSubLayer",
    "replace_module",
    "registry",
    "hidden_size",
    "get_layers",
    "location_parent",
    "iter_sublayers",
    "iter_wrappers",
    "wrap",
    "unwrap",
    "LOCATIONS",
]
