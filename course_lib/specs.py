"""What an adapter, a fusion or a LoRA setup *is*, as frozen, validated settings (after AdapterHub's ``BnConfig``
and PEFT's ``LoraConfig``).

One spec per adapter kind, each validated once when it is made, and read by everything else: ``add_adapters``
builds the modules from it, ``save_adapters`` writes ``to_dict()``, ``load_adapters`` rebuilds it with
``AdapterSpec.from_dict``, ``placement_parameter_count`` counts from it.

* ``BottleneckSpec``: a serial bottleneck adapter, ``h + W_up σ(W_down x)`` (notebooks 01-04);
* ``ParallelSpec``: a scaled parallel adapter beside the feed-forward block (07);
* ``CompacterSpec``: a serial adapter whose projections are PHM layers sharing one ``A`` (07);
* ``FusionSpec``: AdapterFusion over named serial adapters (05);
* ``LoRASpec``: low-rank updates of named linear layers (06).

Where an adapter goes in a BERT layer (``placement``), with ``h = dropout(dense(x))`` the sub-layer's
projection and ``r`` its input (the residual), every sub-layer ending in ``LN(h + r)``:

* ``"houlsby"``: in both sub-layers (after attention and after the FFN), ``LN(h + f(h) + r)``; this is
  AdapterHub's ``double_seq_bn`` (Houlsby et al. 2019, figure 2);
* ``"pfeiffer"``: after the FFN only, reading the sub-layer's output after its residual and LayerNorm,
  ``LN(h + f(LN(h + r)) + r)``; this is AdapterHub's ``seq_bn`` (Pfeiffer et al. 2021);
* ``"houlsby-ffn"``: after the FFN only, placed like Houlsby's second adapter, ``LN(h + f(h) + r)``
  (AdapterHub has no name for it: ``seq_bn`` with ``original_ln_before=False``);
* ``"parallel"``: beside the FFN, ``LN(h + s·f(r) + r)``; AdapterHub's ``par_bn`` (He et al. 2022).

With ``f`` near zero (the ``near_identity`` init) every placement computes exactly the original
``LN(h + r)``. tests/test_adapterhub_parity.py checks each against AdapterHub's own outputs.

In a GPT-2 (pre-LayerNorm) block the same two locations are the outputs of ``attn.c_proj`` and ``mlp.c_proj``,
before each residual add: ``"houlsby"`` and ``"houlsby-ffn"`` mean the same there, ``"pfeiffer"`` and
``"parallel"`` are rejected (``course_lib.surgery`` says why).

Defaults, and where they differ from AdapterHub 1.3: every bottleneck and parallel adapter uses ``relu``
(AdapterHub: ``relu`` for ``seq_bn`` and ``par_bn``, but ``swish``, i.e. SiLU, for ``double_seq_bn``; pass
``activation="silu"`` for its Houlsby default); Compacter uses ``gelu`` as AdapterHub does. The course's
``near_identity`` init (``W_down`` ~ N(0, 0.01²), ``W_up`` and biases zero) is an exact identity at step 0;
AdapterHub's ``"bert"`` init draws both weights from N(0, 0.02²), its parallel ``"mam_adapter"`` init zeroes
``W_up`` like ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from torch import nn

from .adapters.bottleneck import ACTIVATIONS, INITS, NEAR_ZERO_STD, BottleneckAdapter, check_size
from .adapters.compacter import CompacterAdapter, check_divisible, check_phm_rank, make_shared_A
from .adapters.fusion import SCORE_SCALES
from .adapters.parallel import ParallelAdapter, check_scale

#: Placement -> the sub-layers of a BertLayer it puts an adapter in. "attention_output" is
#: ``layer.attention.output`` (BertSelfOutput), "output" is ``layer.output`` (BertOutput).
PLACEMENT_LOCATIONS: dict[str, tuple[str, ...]] = {
    "houlsby": ("attention_output", "output"),
    "pfeiffer": ("output",),
    "houlsby-ffn": ("output",),
    "parallel": ("output",),
}
PLACEMENTS = tuple(PLACEMENT_LOCATIONS)
SERIAL_PLACEMENTS = ("houlsby", "pfeiffer", "houlsby-ffn")
#: Serial placements whose adapter reads ``LN(h + r)`` instead of ``h`` (AdapterHub's ``original_ln_before``).
READS_NORMED_OUTPUT = frozenset({"pfeiffer"})
#: The course's default non-linearity for bottleneck and parallel adapters (see the module docstring).
DEFAULT_ACTIVATION = "relu"


def check_name(name) -> str:
    """An adapter or fusion name: a non-empty string without '.' (it becomes part of state_dict keys)."""
    if not isinstance(name, str) or not name or "." in name:
        raise ValueError(f"name must be a non-empty string without '.', got {name!r}")
    return name


def _check_choice(what: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{what} must be one of {list(choices)}, got {value!r}")


def _check_bool(what: str, value) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be True or False, got {value!r}")


def _check_layers(layers) -> tuple[int, ...] | None:
    """``None`` (every layer) or the layer indices as a sorted tuple of distinct non-negative integers."""
    if layers is None:
        return None
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise ValueError(f"layers must be None (every layer) or a list of layer indices, got {layers!r}")
    indices = list(layers)
    if not indices or any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in indices):
        raise ValueError(f"layers must be a non-empty list of layer indices (integers >= 0), got {layers!r}")
    if len(set(indices)) != len(indices):
        raise ValueError(f"layers lists a layer twice: {layers!r}")
    return tuple(sorted(indices))


def _check_positive_number(what: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{what} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class AdapterSpec:
    """Settings shared by every adapter kind. Use a subclass: ``BottleneckSpec``, ``ParallelSpec``, ``CompacterSpec``."""

    placement: str = "houlsby"
    bottleneck: int = 64
    activation: str = DEFAULT_ACTIVATION
    bias: bool = True
    init: str = "near_identity"
    init_std: float = NEAR_ZERO_STD
    #: Which layers get the adapter (``None``: all). AdapterDrop (Rücklé et al. 2021) keeps adapters in the top
    #: layers only: below the lowest adapter nothing trains, so backward stops there.
    layers: tuple[int, ...] | None = None

    kind: ClassVar[str] = ""
    allowed_placements: ClassVar[tuple[str, ...]] = SERIAL_PLACEMENTS

    def __post_init__(self):
        if type(self) is AdapterSpec:
            raise TypeError("AdapterSpec is abstract: use BottleneckSpec, ParallelSpec or CompacterSpec")
        _check_choice("placement", self.placement, self.allowed_placements)
        check_size("bottleneck", self.bottleneck)
        _check_choice("activation", self.activation, sorted(ACTIVATIONS))
        _check_bool("bias", self.bias)
        _check_choice("init", self.init, INITS)
        _check_positive_number("init_std", self.init_std)
        object.__setattr__(self, "layers", _check_layers(self.layers))  # frozen: normalised once, here

    @property
    def locations(self) -> tuple[str, ...]:
        """The sub-layers of every BertLayer that get one adapter."""
        return PLACEMENT_LOCATIONS[self.placement]

    def layer_indices(self, num_layers: int) -> list[int]:
        """The layers of a ``num_layers``-layer model that get this adapter; a layer it lacks is an error."""
        if self.layers is None:
            return list(range(num_layers))
        missing = [i for i in self.layers if i >= num_layers]
        if missing:
            raise ValueError(
                f"layers {missing} do not exist: the model has {num_layers} layers, numbered 0 to {num_layers - 1}"
            )
        return list(self.layers)

    @property
    def reads_normed_output(self) -> bool:
        """True when the adapter reads ``LN(h + r)`` (Pfeiffer), False when it reads ``h`` (or ``r``, parallel)."""
        return self.placement in READS_NORMED_OUTPUT

    @property
    def is_parallel(self) -> bool:
        return self.placement == "parallel"

    def build(self, d_model: int, count: int) -> list[nn.Module]:
        """``count`` fresh adapter modules of this spec for hidden size ``d_model`` (one per sub-layer)."""
        return [self._build_one(d_model) for _ in range(check_size("count", count))]

    def _build_one(self, d_model: int) -> nn.Module:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings, with ``kind`` first; ``AdapterSpec.from_dict`` reads them back."""
        return {"kind": self.kind, **asdict(self)}

    @staticmethod
    def from_dict(settings: dict[str, Any]) -> AdapterSpec:
        """The spec ``to_dict`` wrote (unknown kinds and keys, and bad values, raise ``ValueError``)."""
        if not isinstance(settings, dict):
            raise ValueError(f"adapter settings must be a dict, got {type(settings).__name__}")
        settings = dict(settings)
        kind = settings.pop("kind", None)
        if kind not in SPEC_KINDS:
            raise ValueError(f"kind must be one of {list(SPEC_KINDS)}, got {kind!r}")
        cls = SPEC_KINDS[kind]
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(f"unknown settings {unknown} for a {kind!r} adapter; known: {sorted(known)}")
        return cls(**settings)


@dataclass(frozen=True)
class BottleneckSpec(AdapterSpec):
    """A serial bottleneck adapter ``h + W_up σ(W_down x)`` (``BottleneckAdapter``) at a serial placement."""

    kind: ClassVar[str] = "bottleneck"

    def _build_one(self, d_model: int) -> nn.Module:
        return BottleneckAdapter(
            d_model, self.bottleneck, activation=self.activation, bias=self.bias, init=self.init, init_std=self.init_std
        )


@dataclass(frozen=True)
class ParallelSpec(AdapterSpec):
    """A parallel adapter ``s · W_up σ(W_down r)`` beside the feed-forward block (``ParallelAdapter``)."""

    placement: str = "parallel"
    scale: float = 4.0

    kind: ClassVar[str] = "parallel"
    allowed_placements: ClassVar[tuple[str, ...]] = ("parallel",)

    def __post_init__(self):
        super().__post_init__()
        check_scale(self.scale)

    def _build_one(self, d_model: int) -> nn.Module:
        return ParallelAdapter(
            d_model,
            self.bottleneck,
            scale=self.scale,
            activation=self.activation,
            bias=self.bias,
            init=self.init,
            init_std=self.init_std,
        )


@dataclass(frozen=True)
class CompacterSpec(AdapterSpec):
    """A Compacter adapter (``CompacterAdapter``): PHM projections with ``n`` Kronecker terms of rank
    ``phm_rank``; with ``shared_A`` one ``A`` (``n × n × n``) serves every adapter of the model, as in the
    paper and AdapterHub's ``compacter`` (``shared_phm_rule``). Defaults follow AdapterHub's ``CompacterConfig``:
    Houlsby placement, ``gelu``, ``n = 4``, rank 1. ``placement="pfeiffer"`` gives its ``compacter++``."""

    activation: str = "gelu"
    n: int = 4
    phm_rank: int | None = 1
    shared_A: bool = True

    kind: ClassVar[str] = "compacter"

    def __post_init__(self):
        super().__post_init__()
        check_size("n", self.n)
        check_divisible("bottleneck", self.bottleneck, self.n)
        check_phm_rank(self.phm_rank)
        _check_bool("shared_A", self.shared_A)

    def build(self, d_model: int, count: int) -> list[nn.Module]:
        check_divisible("d_model", check_size("d_model", d_model), self.n)
        shared = make_shared_A(self.n) if self.shared_A else None
        return [
            CompacterAdapter(
                d_model,
                self.bottleneck,
                n=self.n,
                phm_rank=self.phm_rank,
                activation=self.activation,
                bias=self.bias,
                init=self.init,
                init_std=self.init_std,
                shared_A=shared,
            )
            for _ in range(check_size("count", count))
        ]


#: ``kind`` -> spec class, for ``AdapterSpec.from_dict``.
SPEC_KINDS: dict[str, type[AdapterSpec]] = {cls.kind: cls for cls in (BottleneckSpec, ParallelSpec, CompacterSpec)}


def spec_from_arguments(
    placement: str = "houlsby",
    bottleneck: int = 64,
    activation: str | None = None,
    init: str = "near_identity",
    **settings,
) -> AdapterSpec:
    """The spec that ``add_adapters(model, placement, bottleneck, ...)``'s plain arguments describe:
    ``ParallelSpec`` for ``placement="parallel"``, else ``BottleneckSpec``."""
    _check_choice("placement", placement, PLACEMENTS)
    cls = ParallelSpec if placement == "parallel" else BottleneckSpec
    known = set(cls.__dataclass_fields__) - {"placement", "bottleneck", "activation", "init"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise TypeError(f"unexpected adapter settings {unknown} for placement {placement!r}; known: {sorted(known)}")
    return cls(
        placement=placement,
        bottleneck=bottleneck,
        activation=DEFAULT_ACTIVATION if activation is None else activation,
        init=init,
        **settings,
    )


@dataclass(frozen=True)
class FusionSpec:
    """AdapterFusion over ``adapters`` (names of serial adapters the model holds) after the FFN."""

    adapters: Sequence[str]  # stored as a tuple
    score_scale: str = "sqrt_d"
    location: str = "output"

    def __post_init__(self):
        if isinstance(self.adapters, str) or not isinstance(self.adapters, (list, tuple)) or not self.adapters:
            raise ValueError(f"adapter_names must be a non-empty list of adapter names, got {self.adapters!r}")
        object.__setattr__(self, "adapters", tuple(self.adapters))
        if len(set(self.adapters)) != len(self.adapters):
            raise ValueError(f"adapter_names must not repeat a name, got {list(self.adapters)}")
        for name in self.adapters:
            check_name(name)
        _check_choice("score_scale", self.score_scale, SCORE_SCALES)
        _check_choice("location", self.location, ("output",))

    def to_dict(self) -> dict[str, Any]:
        return {"adapters": list(self.adapters), "score_scale": self.score_scale, "location": self.location}


@dataclass(frozen=True)
class LoRASpec:
    """LoRA updates ``(alpha / r) · B A`` of every ``nn.Linear`` whose attribute name is in ``target_modules``."""

    target_modules: tuple[str, ...] = ("query", "value")
    r: int = 8
    alpha: float = 16
    dropout: float = 0.0

    def __post_init__(self):
        targets = (self.target_modules,) if isinstance(self.target_modules, str) else self.target_modules
        try:
            targets = tuple(targets)
        except TypeError:
            targets = ()
        if not targets or not all(isinstance(t, str) and t for t in targets):
            raise ValueError(f"target_modules must be a non-empty list of module names, got {self.target_modules!r}")
        object.__setattr__(self, "target_modules", targets)
        check_size("r", self.r)
        _check_positive_number("alpha", self.alpha)
        if (
            isinstance(self.dropout, bool)
            or not isinstance(self.dropout, (int, float))
            or not 0.0 <= self.dropout < 1.0
        ):
            raise ValueError(f"dropout must be a number in [0, 1), got {self.dropout!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"target_modules": list(self.target_modules), "r": self.r, "alpha": self.alpha, "dropout": self.dropout}


@dataclass
class AdapterRegistry:
    """What a model holds, kept on it as ``model.course_registry`` (the one place every function reads):
    its adapters and fusions by name, in the order they were added, its LoRA setup and the active name."""

    adapters: dict[str, AdapterSpec] = field(default_factory=dict)
    fusions: dict[str, FusionSpec] = field(default_factory=dict)
    lora: LoRASpec | None = None
    lora_modules: tuple[str, ...] = ()
    active: str | None = None

    def names(self) -> list[str]:
        """Every adapter and fusion name."""
        return [*self.adapters, *self.fusions]


__all__ = [
    "AdapterSpec",
    "BottleneckSpec",
    "ParallelSpec",
    "CompacterSpec",
    "FusionSpec",
    "LoRASpec",
    "AdapterRegistry",
    "PLACEMENTS",
    "SERIAL_PLACEMENTS",
    "PLACEMENT_LOCATIONS",
    "DEFAULT_ACTIVATION",
    "SPEC_KINDS",
    "spec_from_arguments",
    "check_name",
]
