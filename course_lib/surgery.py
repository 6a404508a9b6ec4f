"""Model surgery: where the new modules go in a Hugging Face model, and the one helper that swaps a module for
another (adapters and LoRA both use it).

Each supported architecture is one small :class:`Architecture` description: where its list of layers is and, for
each *location* (``"attention_output"``, after the attention block; ``"output"``, after the feed-forward block),
which sub-module of a layer an adapter wraps. Everything else (adding, switching, saving, counting) reads it.

* BERT (encoders: ``BertModel``, ``BertForSequenceClassification``, MiniLM, ...), a post-LayerNorm block.
  ``attention.output`` (a ``BertSelfOutput``) and ``output`` (a ``BertOutput``, the end of the feed-forward block)
  both compute ``LayerNorm(dropout(dense(x)) + input_tensor)``. Adapters go *inside* that line: the sub-layer is
  swapped for an :class:`AdapterSubLayer` that keeps the original module (unchanged, its weights shared) and
  recomputes the same line with the active adapter spliced in, where its spec's placement says
  (``course_lib.specs``).
* GPT-2 (decoders: ``GPT2Model``, ``GPT2LMHeadModel``), a pre-LayerNorm block::

      h = h + dropout(attn.c_proj(attention(ln_1(h))))
      h = h + dropout(mlp.c_proj(act(mlp.c_fc(ln_2(h)))))

  There is no LayerNorm after the residual add, so a serial adapter goes right after each output projection,
  before the residual add: the projection (a ``Conv1D``) is swapped for an :class:`AdapterAfterProjection`
  computing ``y + f(y)`` with ``y = c_proj(x)``. ``"houlsby"`` puts one after ``attn.c_proj`` and one after
  ``mlp.c_proj`` (Houlsby et al.'s two adapters per block), ``"houlsby-ffn"`` only the second. The sub-layer's
  residual dropout then acts on ``y + f(y)``; in evaluation mode that is exactly AdapterHub's placement (after the
  dropout, before the residual). ``"pfeiffer"`` (it reads ``LN(h + r)``, a LayerNorm a pre-LN block does not have
  there) and ``"parallel"`` (defined here beside a post-LN FFN) are rejected for GPT-2 with an error naming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol, cast

import torch
from torch import nn

from .specs import PLACEMENTS, AdapterRegistry, AdapterSpec, FusionSpec

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


def _resolve(module: Any, path: str) -> Any:
    """The attribute at dotted ``path`` below ``module``, or ``None`` where a step is missing."""
    for step in path.split("."):
        module = getattr(module, step, None)
    return module


def architecture(model: nn.Module) -> Architecture:
    """The description of ``model``'s architecture (``ARCHITECTURES``); a clear error for any other model."""
    base = getattr(model, "base_model", None)
    for arch in ARCHITECTURES:
        layers = _resolve(base, arch.layers)
        if (
            isinstance(layers, nn.ModuleList)
            and len(layers) > 0
            and all(isinstance(_resolve(layers[0], path), nn.Module) for path in arch.sublayers.values())
        ):
            return arch
    expected = "; or ".join(
        f"a {arch.name}-style model with model.base_model.{arch.layers} ({arch.examples})" for arch in ARCHITECTURES
    )
    raise ValueError(f"unsupported model {type(model).__name__}: expected {expected}")


def get_layers(model: nn.Module) -> nn.ModuleList:
    """The list of transformer layers: ``model.base_model.encoder.layer`` (BERT) or ``model.base_model.h`` (GPT-2)."""
    return cast(nn.ModuleList, _resolve(model.base_model, architecture(model).layers))


def location_parent(layer: nn.Module, location: str, arch: Architecture | None = None) -> tuple[nn.Module, str]:
    """The module that owns the sub-layer at ``location`` and the attribute name it is stored under
    (``arch`` defaults to the architecture whose sub-layers ``layer`` has)."""
    if location not in LOCATIONS:
        raise ValueError(f"location must be one of {list(LOCATIONS)}, got {location!r}")
    if arch is None:
        arch = next(
            (a for a in ARCHITECTURES if all(isinstance(_resolve(layer, p), nn.Module) for p in a.sublayers.values())),
            BERT,
        )
    parent_path, _, attr = arch.sublayers[location].rpartition(".")
    return (cast(nn.Module, _resolve(layer, parent_path)) if parent_path else layer), attr


def sublayer_name(model: nn.Module, index: int, location: str) -> str:
    """The dotted name of a sub-layer inside ``model`` (for ``replace_module``)."""
    layers = get_layers(model)
    prefix = next(name for name, module in model.named_modules() if module is layers)
    return f"{prefix}.{index}.{architecture(model).sublayers[location]}"


def iter_sublayers(model: nn.Module) -> Iterator[tuple[int, str, nn.Module]]:
    """Yield ``(layer_index, location, module)`` for both sub-layers of every layer, wrapped or not."""
    arch = architecture(model)
    for i, layer in enumerate(get_layers(model)):
        for location in LOCATIONS:
            parent, attr = location_parent(layer, location, arch)
            yield i, location, getattr(parent, attr)


def iter_wrappers(model: nn.Module) -> Iterator[tuple[int, str, AdapterSlot]]:
    """Yield ``(layer_index, location, wrapper)`` for every adapter wrapper (``AdapterSlot``) in the model."""
    for i, location, module in iter_sublayers(model):
        if isinstance(module, AdapterSlot):
            yield i, location, module


def wrap(model: nn.Module, index: int, location: str) -> AdapterSlot:
    """The wrapper of sub-layer ``location`` of layer ``index``, swapped in the first time it is needed."""
    arch = architecture(model)
    parent, attr = location_parent(get_layers(model)[index], location, arch)
    module = getattr(parent, attr)
    if isinstance(module, AdapterSlot):
        return module
    wrapper = arch.wrapper(module)
    replace_module(model, sublayer_name(model, index, location), wrapper)
    return wrapper


def unwrap(model: nn.Module, index: int, location: str) -> None:
    """Put the original sub-layer back in place of its wrapper (a no-op if it is not wrapped)."""
    parent, attr = location_parent(get_layers(model)[index], location, architecture(model))
    module = getattr(parent, attr)
    if isinstance(module, AdapterSlot):
        replace_module(model, sublayer_name(model, index, location), module.sublayer)


# ----------------------------------------------------------------------------- the wrappers


class AdapterSlot(nn.Module):
    """What every adapter wrapper holds: the original sub-layer (``sublayer``, kept as is, its weights shared) and
    the adapters put there, keyed by name: ``adapters`` serial ones, ``parallel`` parallel ones and ``fusions``
    ``AdapterFusion`` modules; ``specs`` says how each is wired. ``active`` is the name of the one in use here,
    or ``None`` for the original behaviour. Subclasses say where in the sub-layer's computation they go."""

    sublayer: Any
    adapters: nn.ModuleDict
    parallel: nn.ModuleDict
    fusions: nn.ModuleDict

    def __init__(self, sublayer: nn.Module):
        super().__init__()
        self.sublayer = sublayer
        self.adapters = nn.ModuleDict()
        self.parallel = nn.ModuleDict()
        self.fusions = nn.ModuleDict()
        self.specs: dict[str, AdapterSpec | FusionSpec] = {}
        self.active: str | None = None

    @property
    def weight(self) -> torch.Tensor:
        """The wrapped projection's weight (new modules take its device and dtype)."""
        raise NotImplementedError

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

    def _adapter_input(self, name: str, h: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """What serial adapter ``name`` reads: ``h`` (``AdapterSubLayer`` changes this for Pfeiffer)."""
        return h

    def _correction(self, name: str, x: torch.Tensor) -> torch.Tensor:
        return cast(_Corrects, self.adapters[name]).delta(x)

    def _adapted(self, h: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """``h`` (the sub-layer's projection output) with the active adapter's correction added."""
        name = self.active
        if name is None:
            return h
        if name in self.adapters:  # serial: the adapter's correction of h (or of LN(h + r), Pfeiffer)
            return h + self._correction(name, self._adapter_input(name, h, residual))
        if name in self.parallel:  # parallel: reads the sub-layer's input, added beside it
            return h + self.parallel[name](residual)
        if name in self.fusions:  # AdapterFusion mixes the adapters' corrections (one residual)
            names = cast(FusionSpec, self.specs[name]).adapters
            x = self._adapter_input(names[0], h, residual)
            deltas = torch.stack([self._correction(n, x) for n in names], dim=-2)
            mix, _ = cast(Any, self.fusions[name]).mix(x, deltas)
            return h + mix
        return h

    def extra_repr(self) -> str:
        return f"active={self.active!r}"


class AdapterSubLayer(AdapterSlot):
    """A ``BertSelfOutput`` / ``BertOutput`` with adapters spliced in before its residual + LayerNorm.

    ``sublayer`` is the original module (its ``dense``, ``dropout`` and ``LayerNorm`` are reused, not copied).
    """

    def __init__(self, sublayer: nn.Module):
        for part in ("dense", "dropout", "LayerNorm"):
            if not hasattr(sublayer, part):
                raise ValueError(
                    f"sublayer must have dense, dropout and LayerNorm like BertOutput, "
                    f"got {type(sublayer).__name__} without {part!r}"
                )
        super().__init__(sublayer)

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
    def weight(self) -> torch.Tensor:
        return self.sublayer.dense.weight

    def _adapter_input(self, name: str, h: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """What adapter ``name`` reads: ``LN(h + r)`` for Pfeiffer, else ``h`` (also for a module put into
        ``adapters`` by hand, without a spec, as notebook 04 does)."""
        spec = self.specs.get(name)
        return self.sublayer.LayerNorm(h + residual) if getattr(spec, "reads_normed_output", False) else h

    def forward(self, hidden_states: torch.Tensor, input_tensor: torch.Tensor) -> torch.Tensor:
        h = self.sublayer.dropout(self.sublayer.dense(hidden_states))
        return self.sublayer.LayerNorm(self._adapted(h, input_tensor) + input_tensor)


class AdapterAfterProjection(AdapterSlot):
    """An output projection (GPT-2's ``attn.c_proj`` / ``mlp.c_proj``, a ``Conv1D``) followed by a serial
    adapter: ``y + f(y)`` with ``y = sublayer(x)``, before the block's dropout and residual add."""

    def __init__(self, sublayer: nn.Module):
        if not isinstance(getattr(sublayer, "weight", None), torch.Tensor):
            raise ValueError(f"sublayer must be a projection with a weight, got {type(sublayer).__name__}")
        super().__init__(sublayer)

    @property
    def weight(self) -> torch.Tensor:
        return self.sublayer.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._adapted(self.sublayer(x), x)


# ----------------------------------------------------------------------------- the architectures


@dataclass(frozen=True)
class Architecture:
    """Where adapters go in one family of models.

    ``layers`` is the path of the layer list below ``model.base_model``; ``sublayers`` maps each location
    (``LOCATIONS``) to the path, inside one layer, of the module an adapter wrapper replaces; ``wrapper`` is that
    wrapper's class and ``placements`` the placements (``course_lib.specs``) that mean something there.
    """

    name: str
    layers: str
    sublayers: dict[str, str]
    wrapper: type[AdapterSlot]
    placements: tuple[str, ...]
    examples: str
    #: Why the other placements are not offered, for the error message.
    why_not: str = ""

    def check_placement(self, placement: str, model: nn.Module) -> None:
        """Raise a ``ValueError`` naming the architecture if ``placement`` has no meaning in it."""
        if placement not in self.placements:
            raise ValueError(
                f"placement {placement!r} is not supported for {self.name} models ({type(model).__name__}): "
                f"{self.why_not} Supported placements for {self.name}: {list(self.placements)}"
            )


BERT = Architecture(
    name="BERT",
    layers="encoder.layer",
    sublayers={"attention_output": "attention.output", "output": "output"},
    wrapper=AdapterSubLayer,
    placements=PLACEMENTS,
    examples="BertModel, BertForSequenceClassification, MiniLM, ...",
)
GPT2 = Architecture(
    name="GPT-2",
    layers="h",
    sublayers={"attention_output": "attn.c_proj", "output": "mlp.c_proj"},
    wrapper=AdapterAfterProjection,
    placements=("houlsby", "houlsby-ffn"),
    examples="GPT2Model, GPT2LMHeadModel",
    why_not=(
        "its blocks are pre-LayerNorm, so there is no LayerNorm after the residual add for a Pfeiffer adapter to "
        "read, and the course defines its parallel adapter beside a post-LayerNorm feed-forward block."
    ),
)
#: The architectures course_lib knows, tried in this order.
ARCHITECTURES: tuple[Architecture, ...] = (BERT, GPT2)


__all__ = [
    "AdapterSlot",
    "AdapterSubLayer",
    "AdapterAfterProjection",
    "Architecture",
    "ARCHITECTURES",
    "BERT",
    "GPT2",
    "architecture",
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
