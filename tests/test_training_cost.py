"""course_lib.training_cost: backward depth per placement, optimizer-state bytes, phase timing."""

from __future__ import annotations

import pytest
import torch
from conftest import tiny_bert_config

from course_lib.api import add_adapters, freeze_base, get_layers
from course_lib.training_cost import layers_backward, measured_state_bytes, optimizer_state_bytes, time_step_phases


def test_layers_backward_counts_from_the_lowest_trainable_layer():
    assert layers_backward(6, None) == 6
    assert layers_backward(6, []) == 0
    assert layers_backward(6, range(6)) == 6
    assert layers_backward(6, [5]) == 1
    assert layers_backward(12, [9, 11, 10]) == 3
    assert layers_backward(6, [2, 5]) == 4  # a gap does not matter: backward reaches the lowest one
    with pytest.raises(ValueError, match="0..5"):
        layers_backward(6, [6])
    with pytest.raises(ValueError, match="num_layers"):
        layers_backward(0, [])


def test_layers_backward_agrees_with_autograd(tiny_batch):
    """Count the layers whose output needs a gradient, as tests/test_adapter_layers.py does."""
    from transformers import BertForSequenceClassification

    for layers in ([3], [1, 3], [0, 1, 2, 3]):
        torch.manual_seed(0)
        model = BertForSequenceClassification(tiny_bert_config(num_hidden_layers=4))
        freeze_base(add_adapters(model, "pfeiffer", bottleneck=4, layers=layers))
        seen = []
        hooks = [
            layer.register_forward_hook(lambda _m, _i, out, seen=seen: seen.append(bool(out[0].requires_grad)))
            for layer in get_layers(model)
        ]
        model(**tiny_batch).logits.sum().backward()
        for hook in hooks:
            hook.remove()
        assert sum(seen) == layers_backward(4, layers)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_optimizer_state_bytes_matches_a_real_adamw_and_sgd(tiny_classifier, tiny_batch, dtype):
    model = freeze_base(add_adapters(tiny_classifier.to(dtype), "pfeiffer", bottleneck=4))
    for name, make in (
        ("adamw", lambda ps: torch.optim.AdamW(ps, lr=1e-3)),
        ("sgd-momentum", lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.9)),
        ("sgd", lambda ps: torch.optim.SGD(ps, lr=1e-3)),
    ):
        optimizer = make([p for p in model.parameters() if p.requires_grad])
        model(**tiny_batch).logits.sum().backward()
        optimizer.step()
        optimizer.zero_grad()
        assert measured_state_bytes(optimizer) == optimizer_state_bytes(model, name), name
    with pytest.raises(ValueError, match="unknown optimizer 'lion'"):
        optimizer_state_bytes(model, "lion")


def test_time_step_phases_reports_three_phases_and_trains(tiny_classifier, tiny_batch):
    batch = {**tiny_batch, "labels": torch.zeros(tiny_batch["input_ids"].shape[0], dtype=torch.long)}
    before = tiny_classifier.classifier.weight.detach().clone()
    optimizer = torch.optim.SGD(tiny_classifier.parameters(), lr=0.1)
    times = time_step_phases(tiny_classifier, batch, optimizer, repeats=2)
    assert set(times) == {"forward", "backward", "optimizer", "step"}
    assert all(t > 0 for t in times.values())
    assert times["step"] == pytest.approx(times["forward"] + times["backward"] + times["optimizer"])
    assert not torch.equal(before, tiny_classifier.classifier.weight)
    with pytest.raises(ValueError, match="labels"):
        time_step_phases(tiny_classifier, tiny_batch, optimizer)
