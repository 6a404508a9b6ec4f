"""LoRA: our LoRALinear/add_lora must compute exactly what the PEFT library computes."""

from __future__ import annotations

import copy
import math
import warnings

import pytest
import torch
from torch import nn

from course_lib.lora import (
    LoRALinear,
    LoRASpec,
    add_lora,
    lora_layers,
    lora_spec,
    merge_lora,
    remove_lora,
    unmerge_lora,
)
from course_lib.surgery import registry

TARGETS = ("query", "value")


def _peft_model(model: nn.Module, r: int = 4, alpha: int = 8) -> nn.Module:
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=r, lora_alpha=alpha, target_modules=list(TARGETS), lora_dropout=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # a transformers deprecation inside PEFT
        return get_peft_model(copy.deepcopy(model), config).eval()


def _peft_lora_modules(peft_model: nn.Module) -> dict[str, nn.Module]:
    """PEFT's LoRA layers keyed by the path they have in the unwrapped model."""
    found = {}
    for name, module in peft_model.named_modules():
        if isinstance(getattr(module, "lora_A", None), nn.ModuleDict) and "default" in module.lora_A:
            found[name.removeprefix("base_model.model.")] = module
    return found


def _randomize_b(model: nn.Module, seed: int = 3) -> None:
    """B starts at zero (LoRA is a no-op at init); make it random so the comparison means something."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in lora_layers(model).values():
            layer.lora_B.copy_(torch.randn(layer.lora_B.shape, generator=g) * 0.5)


def test_lora_matches_peft(tiny_classifier, tiny_batch):
    peft_model = _peft_model(tiny_classifier, r=4, alpha=8)
    ours = add_lora(tiny_classifier, target_modules=TARGETS, r=4, alpha=8).eval()
    _randomize_b(ours)

    peft_layers = _peft_lora_modules(peft_model)
    our_layers = lora_layers(ours)
    assert sorted(peft_layers) == sorted(our_layers) and len(our_layers) == 4
    with torch.no_grad():
        for name, layer in our_layers.items():
            assert peft_layers[name].scaling["default"] == layer.scale == 2.0
            peft_layers[name].lora_A["default"].weight.copy_(layer.lora_A)
            peft_layers[name].lora_B["default"].weight.copy_(layer.lora_B)
        expected = peft_model(**tiny_batch).logits
        got = ours(**tiny_batch).logits
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)


def test_lora_is_identity_at_init(tiny_classifier, tiny_batch):
    with torch.no_grad():
        before = tiny_classifier(**tiny_batch).logits
        after = add_lora(tiny_classifier, r=4, alpha=8)(**tiny_batch).logits
    assert torch.equal(before, after)


def test_lora_init_matches_peft_distribution():
    torch.manual_seed(0)
    layer = LoRALinear(nn.Linear(64, 48), r=8, alpha=16)
    assert layer.lora_A.shape == (8, 64) and layer.lora_B.shape == (48, 8)
    assert torch.count_nonzero(layer.lora_B) == 0
    bound = 1 / math.sqrt(64)  # kaiming_uniform(a=sqrt(5)) on fan_in=64
    assert layer.lora_A.abs().max() <= bound and layer.lora_A.abs().max() > 0.5 * bound
    assert layer.scale == 2.0


def test_forward_formula():
    torch.manual_seed(0)
    base = nn.Linear(6, 5)
    layer = LoRALinear(base, r=2, alpha=3)
    with torch.no_grad():
        layer.lora_B.normal_()
    x = torch.randn(4, 6)
    expected = base(x) + 1.5 * x @ (layer.lora_B @ layer.lora_A).T
    torch.testing.assert_close(layer(x), expected)


def test_base_frozen_and_trainable_counts(tiny_classifier):
    add_lora(tiny_classifier, r=4, alpha=8)
    layers = lora_layers(tiny_classifier)
    for layer in layers.values():
        assert not any(p.requires_grad for p in layer.base.parameters())
        assert layer.lora_A.requires_grad and layer.lora_B.requires_grad
    lora_params = sum(p.numel() for n, p in tiny_classifier.named_parameters() if "lora_" in n)
    # r * (in + out) per adapted matrix: 2 layers x (query, value), each 32 -> 32
    assert lora_params == sum(4 * (layer.in_features + layer.out_features) for layer in layers.values())
    assert lora_params == 4 * 4 * (32 + 32)


def test_merge_unmerge(tiny_classifier, tiny_batch):
    original = {k: v.clone() for k, v in tiny_classifier.state_dict().items()}
    add_lora(tiny_classifier, r=4, alpha=8).eval()
    _randomize_b(tiny_classifier)
    with torch.no_grad():
        unmerged = tiny_classifier(**tiny_batch).logits
        merge_lora(tiny_classifier)
        merged = tiny_classifier(**tiny_batch).logits
        merge_lora(tiny_classifier)  # a second merge must not add the update twice
        merged_twice = tiny_classifier(**tiny_batch).logits
    torch.testing.assert_close(merged, unmerged, atol=1e-5, rtol=1e-5)
    assert torch.equal(merged, merged_twice)
    assert all(layer.merged for layer in lora_layers(tiny_classifier).values())

    # After merging, forward is the base linear alone: zeroing A changes nothing.
    layer = next(iter(lora_layers(tiny_classifier).values()))
    x = torch.randn(2, layer.in_features)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), layer.base(x), atol=0, rtol=0)

    unmerge_lora(tiny_classifier)
    unmerge_lora(tiny_classifier)  # no-op
    for name, layer in lora_layers(tiny_classifier).items():
        torch.testing.assert_close(layer.base.weight, original[f"{name}.weight"], atol=1e-6, rtol=0)


def test_remove_lora_restores_model(tiny_classifier, tiny_batch):
    keys = list(tiny_classifier.state_dict())
    flags = {n: p.requires_grad for n, p in tiny_classifier.named_parameters()}
    with torch.no_grad():
        before = tiny_classifier(**tiny_batch).logits
    add_lora(tiny_classifier, r=4, alpha=8)
    _randomize_b(tiny_classifier)
    merge_lora(tiny_classifier)
    remove_lora(tiny_classifier)
    assert list(tiny_classifier.state_dict()) == keys
    assert {n: p.requires_grad for n, p in tiny_classifier.named_parameters()} == flags
    assert isinstance(tiny_classifier.bert.encoder.layer[0].attention.self.query, nn.Linear)
    assert lora_spec(tiny_classifier) is None
    with torch.no_grad():
        torch.testing.assert_close(tiny_classifier(**tiny_batch).logits, before, atol=1e-5, rtol=1e-5)


def test_lora_trains_with_dropout():
    torch.manual_seed(0)
    layer = LoRALinear(nn.Linear(8, 8), r=2, alpha=4, dropout=0.1).train()
    layer(torch.randn(3, 8)).sum().backward()
    assert layer.lora_B.grad is not None and layer.base.weight.grad is None


def test_add_lora_records_config(tiny_classifier):
    add_lora(tiny_classifier, target_modules="query", r=2, alpha=4)
    assert lora_spec(tiny_classifier) == LoRASpec(("query",), r=2, alpha=4)
    assert len(registry(tiny_classifier).lora_modules) == 2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(r=0, alpha=8), "r must be"),
        (dict(r=2.5, alpha=8), "r must be"),
        (dict(r=4, alpha=0), "alpha must be"),
        (dict(r=4, alpha=8, dropout=1.5), "dropout must be"),
    ],
)
def test_lora_linear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LoRALinear(nn.Linear(4, 4), **kwargs)


def test_lora_linear_rejects_non_linear():
    with pytest.raises(ValueError, match="base_linear must be an nn.Linear"):
        LoRALinear(nn.Conv1d(4, 4, 1), r=2, alpha=2)


def test_add_lora_errors(tiny_classifier):
    state = {k: v.clone() for k, v in tiny_classifier.state_dict().items()}
    with pytest.raises(ValueError, match="matched no nn.Linear.*query"):
        add_lora(tiny_classifier, target_modules=("nope",))
    with pytest.raises(ValueError, match="r must be"):
        add_lora(tiny_classifier, r=-1)
    assert not lora_layers(tiny_classifier)  # a failed call leaves the model untouched
    assert all(torch.equal(state[k], v) for k, v in tiny_classifier.state_dict().items())
    with pytest.raises(ValueError, match="no LoRA layers"):
        merge_lora(tiny_classifier)
    with pytest.raises(ValueError, match="no LoRA layers"):
        remove_lora(tiny_classifier)
    add_lora(tiny_classifier)
    with pytest.raises(ValueError, match="already has LoRA"):
        add_lora(tiny_classifier)
