"""Freezing the pretrained model and counting parameters.

Adapter training changes *which* parameters the optimiser sees: the pretrained weights are
frozen (``requires_grad = False``) and only the small new modules are trained. This module

* sorts every parameter of a model into one of six groups (``parameter_groups``):

  - ``adapters``: inside a ``BottleneckAdapter``, ``ParallelAdapter`` or ``CompacterAdapter``;
  - ``fusion``:   inside an ``AdapterFusion`` (``course_lib.fusion``);
  - ``lora``:     a LoRA factor: ``lora_A`` / ``lora_B`` of a LoRA layer (``course_lib.adapters.lora``);
  - ``prompt``:   a soft prompt or prefix (``SoftPrompt`` / ``PrefixEncoder``, ``course_lib.prompting``);
  - ``head``:     outside ``model.base_model``, e.g. the ``classifier`` of a
                  ``BertForSequenceClassification`` (a bare ``BertModel`` has no head);
  - ``base``:     everything else, the pretrained weights;

* freezes the base (``freeze_base``) and counts what is left (``count_parameters``);
* gives the closed-form counts you can check those numbers against (``adapter_parameter_count`` ...).

Every kind is recognised by its module class (``course_lib.adapters``); a LoRA layer is a ``LoRALinear`` or any
module with ``lora_A`` and ``lora_B`` parameters (PEFT's convention), so a learner's own LoRA layer counts too.
"""

from __future__ import annotations

from typing import cast

from torch import nn

from .adapters.bottleneck import BottleneckAdapter, check_size
from .adapters.compacter import CompacterAdapter, check_divisible, check_phm_rank
from .adapters.fusion import AdapterFusion
from .adapters.lora import is_lora_layer
from .adapters.prompt import PrefixEncoder, SoftPrompt
from .specs import PLACEMENT_LOCATIONS

GROUPS = ("base", "adapters", "fusion", "lora", "prompt", "head")
ADAPTER_TYPES = (BottleneckAdapter, CompacterAdapter)  # ParallelAdapter is a BottleneckAdapter
PROMPT_TYPES = (SoftPrompt, PrefixEncoder)
#: Adapters per transformer layer for each placement (``course_lib.model.add_adapters``).
ADAPTERS_PER_LAYER = {placement: len(locations) for placement, locations in PLACEMENT_LOCATIONS.items()}


def _group_parameters(module: nn.Module) -> tuple[str, list[nn.Parameter]] | None:
    """The group and parameters a parameter-efficient module contributes, or ``None`` for other modules."""
    if isinstance(module, ADAPTER_TYPES):
        return "adapters", list(module.parameters())
    if isinstance(module, AdapterFusion):
        return "fusion", list(module.parameters())
    if is_lora_layer(module):  # only the factors: the wrapped linear stays in the base
        return "lora", [cast(nn.Parameter, module.lora_A), cast(nn.Parameter, module.lora_B)]
    if isinstance(module, PROMPT_TYPES):
        return "prompt", list(module.parameters())
    return None


def _head_parameter_ids(model: nn.Module) -> set[int]:
    """Ids of the parameters outside ``model.base_model`` (empty when the model is its own base)."""
    base = getattr(model, "base_model", None)
    if not isinstance(base, nn.Module) or base is model:
        return set()
    inside = {id(p) for p in base.parameters()}
    return {id(p) for p in model.parameters() if id(p) not in inside}


def parameter_groups(model: nn.Module) -> dict[str, str]:
    """Map every (unique) parameter name of ``model`` to its group, one of ``GROUPS``.

    Precedence when several rules match: adapters, fusion, lora, prompt, head, base.
    A parameter shared by several modules (e.g. Compacter's shared ``A``) appears once.
    """
    group_of: dict[int, str] = {}
    for module in model.modules():
        found = _group_parameters(module)
        if found is not None:
            group, parameters = found
            for p in parameters:
                group_of.setdefault(id(p), group)
    head = _head_parameter_ids(model)

    groups = {}
    for name, p in model.named_parameters():
        if id(p) in group_of:
            groups[name] = group_of[id(p)]
        elif id(p) in head:
            groups[name] = "head"
        else:
            groups[name] = "base"
    return groups


def freeze_base(model: nn.Module, train_head: bool = True, train_adapters: bool = True) -> nn.Module:
    """Freeze the pretrained weights; make the parameter-efficient modules trainable. Returns ``model``.

    Sets ``requires_grad`` on every parameter according to its group (see ``parameter_groups``):

    * ``base``: frozen;
    * ``adapters``: trainable if ``train_adapters`` (every adapter in the model, active or not);
      ``train_adapters=False`` freezes them, which is what AdapterFusion's second stage wants;
    * ``fusion``, ``lora`` and ``prompt``: trainable;
    * ``head``: trainable if ``train_head`` (a new task head starts random, so it usually must learn).

    Calling it again re-applies the rule, so it also undoes an earlier call with other flags.
    """
    trainable = {
        "base": False,
        "adapters": train_adapters,
        "fusion": True,
        "lora": True,
        "prompt": True,
        "head": train_head,
    }
    groups = parameter_groups(model)
    for name, p in model.named_parameters():
        p.requires_grad_(bool(trainable[groups[name]]))
    return model


def count_parameters(model: nn.Module) -> dict:
    """Count the parameters of ``model``, in total and per group.

    Returns ``{"total", "trainable", "trainable_percent", "groups", "trainable_groups"}`` where
    ``groups`` counts *all* parameters of each group in ``GROUPS`` and ``trainable_groups`` only those
    with ``requires_grad``. Shared parameters are counted once.
    """
    groups = parameter_groups(model)
    counts = dict.fromkeys(GROUPS, 0)
    trainable_counts = dict.fromkeys(GROUPS, 0)
    for name, p in model.named_parameters():
        counts[groups[name]] += p.numel()
        if p.requires_grad:
            trainable_counts[groups[name]] += p.numel()
    total = sum(counts.values())
    trainable = sum(trainable_counts.values())
    return {
        "total": total,
        "trainable": trainable,
        "trainable_percent": 100.0 * trainable / total if total else 0.0,
        "groups": counts,
        "trainable_groups": trainable_counts,
    }


# ---------------------------------------------------------------------------------------------
# Closed forms: what the counts above should be, worked out on paper.
# ---------------------------------------------------------------------------------------------


def adapter_parameter_count(d_model: int, bottleneck: int, bias: bool = True) -> int:
    """Parameters of one bottleneck (or parallel) adapter.

    ``W_down`` is ``r×d`` and ``W_up`` is ``d×r``: ``2·d·r`` weights, plus ``r + d`` biases.
    BERT-base (``d=768``) with ``r=64``: ``2·768·64 + 768 + 64 = 99,136``.
    """
    d, r = check_size("d_model", d_model), check_size("bottleneck", bottleneck)
    return 2 * d * r + (d + r if bias else 0)


def placement_parameter_count(d_model: int, n_layers: int, bottleneck: int, placement: str, bias: bool = True) -> int:
    """Adapter parameters added to a whole ``n_layers``-layer encoder by one ``add_adapters`` call.

    ``houlsby`` puts two adapters in every layer (after attention and after the FFN),
    ``pfeiffer``, ``houlsby-ffn`` and ``parallel`` one. BERT-base, ``r=64``: Houlsby ``24 × 99,136 = 2,379,264``,
    Pfeiffer ``12 × 99,136 = 1,189,632``.
    """
    check_size("n_layers", n_layers)
    if placement not in ADAPTERS_PER_LAYER:
        raise ValueError(f"placement must be one of {sorted(ADAPTERS_PER_LAYER)}, got {placement!r}")
    return ADAPTERS_PER_LAYER[placement] * n_layers * adapter_parameter_count(d_model, bottleneck, bias)


def lora_parameter_count(d_in: int, d_out: int, r: int) -> int:
    """Parameters of one LoRA pair ``A ∈ R^{r×d_in}``, ``B ∈ R^{d_out×r}``: ``r·(d_in + d_out)``."""
    d_in, d_out, r = check_size("d_in", d_in), check_size("d_out", d_out), check_size("r", r)
    return r * (d_in + d_out)


def compacter_parameter_count(
    d_model: int,
    bottleneck: int,
    n: int = 4,
    phm_rank: int | None = 1,
    bias: bool = True,
    include_A: bool = True,
) -> int:
    """Parameters of one ``CompacterAdapter`` (its ``down`` and ``up`` share one ``A``).

    * ``A``: ``n³`` (leave it out with ``include_A=False`` when ``A`` is shared with other adapters
      and you count it elsewhere);
    * low rank ``k``: each PHM layer stores ``s`` and ``t``, ``n·k·(out/n + in/n) = k·(d + r)``,
      so ``2·k·(d + r)`` for the pair; full rank (``phm_rank=None``): ``2·d·r/n``;
    * biases: ``d + r``.
    """
    d, r, n = check_size("d_model", d_model), check_size("bottleneck", bottleneck), check_size("n", n)
    check_divisible("d_model", d, n)
    check_divisible("bottleneck", r, n)
    k = check_phm_rank(phm_rank)
    factors = 2 * d * r // n if k is None else 2 * k * (d + r)
    return (n**3 if include_A else 0) + factors + (d + r if bias else 0)


def prompt_parameter_count(n_tokens: int, d_model: int) -> int:
    """Parameters of a soft prompt (prompt tuning): ``n`` virtual tokens of width ``d``, ``n·d``."""
    return check_size("n_tokens", n_tokens) * check_size("d_model", d_model)


def prefix_parameter_count(n_tokens: int, n_layers: int, d_model: int, projection_hidden: int | None = None) -> int:
    """Parameters of a prefix (prefix tuning): a key and a value of width ``d`` per virtual token and layer,
    ``n·L·2·d``; with Li & Liang's reparametrisation (``projection_hidden=h``) what is trained is an ``(n, d)``
    matrix and the MLP ``d → h → 2Ld``: ``n·d + (d·h + h) + (h·2Ld + 2Ld)``."""
    n, layers, d = check_size("n_tokens", n_tokens), check_size("n_layers", n_layers), check_size("d_model", d_model)
    width = layers * 2 * d
    if projection_hidden is None:
        return n * width
    h = check_size("projection_hidden", projection_hidden)
    return n * d + (d * h + h) + (h * width + width)
