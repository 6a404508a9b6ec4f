"""Adapters in some layers only (``add_adapters(..., layers=[...])``, AdapterDrop's top-k placement).

Below the lowest adapter nothing trains, so no activation there needs a gradient: backward stops at the
lowest adapter. These tests check the placement, that counts, save/load and fusion respect it, and that
stopping point in the autograd graph itself.
"""

from __future__ import annotations

import pytest
import torch
from conftest import tiny_bert_config

from course_lib.api import (
    BottleneckSpec,
    add_adapters,
    add_fusion,
    count_parameters,
    freeze_base,
    get_layers,
    iter_wrappers,
    load_adapters,
    remove_adapters,
    save_adapters,
)
from course_lib.params import placement_parameter_count


def four_layer_classifier():
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    return BertForSequenceClassification(tiny_bert_config(num_hidden_layers=4)).eval()


def test_adapters_go_only_into_the_listed_layers_and_start_as_the_identity(tiny_batch):
    model = four_layer_classifier()
    with torch.no_grad():
        before = model(**tiny_batch).logits
        add_adapters(model, "houlsby", bottleneck=4, name="top2", layers=[3, 2])
        assert torch.equal(model(**tiny_batch).logits, before)
    assert sorted({i for i, _, _ in iter_wrappers(model)}) == [2, 3]
    full = placement_parameter_count(32, 4, 4, "houlsby")
    assert count_parameters(model)["groups"]["adapters"] == full // 2
    assert BottleneckSpec(layers=[3, 2]).layers == (2, 3)  # normalised, so saved specs compare equal


def test_backward_stops_at_the_lowest_adapter(tiny_batch):
    """With the base frozen, the hidden states below the lowest adapter need no gradient: autograd never
    reaches those layers. With adapters everywhere it reaches layer 0."""

    def needs_grad_per_layer(model) -> list[bool]:
        seen: list[bool] = []
        hooks = [
            layer.register_forward_hook(lambda _m, _i, out: seen.append(bool(out[0].requires_grad)))
            for layer in get_layers(model)
        ]
        model(**tiny_batch).logits.sum().backward()
        for hook in hooks:
            hook.remove()
        return seen

    top = freeze_base(add_adapters(four_layer_classifier(), "houlsby", bottleneck=4, layers=[2, 3]))
    assert needs_grad_per_layer(top) == [False, False, True, True]
    every = freeze_base(add_adapters(four_layer_classifier(), "houlsby", bottleneck=4))
    assert needs_grad_per_layer(every) == [True, True, True, True]
    assert all(p.grad is None for p in get_layers(top)[0].parameters())


def test_saved_and_loaded_with_their_layers(tmp_path, tiny_batch):
    model = add_adapters(four_layer_classifier(), "pfeiffer", bottleneck=4, name="a", layers=[1, 3], init="random")
    with torch.no_grad():
        expected = model(**tiny_batch).logits
    save_adapters(model, tmp_path / "a", name="a")
    fresh = four_layer_classifier()
    load_adapters(fresh, tmp_path / "a")
    with torch.no_grad():
        assert torch.allclose(fresh(**tiny_batch).logits, expected, atol=1e-6)
    assert sorted({i for i, _, _ in iter_wrappers(fresh)}) == [1, 3]
    remove_adapters(fresh)
    assert list(iter_wrappers(fresh)) == []


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([], "non-empty list of layer indices"),
        ([1, 1], "lists a layer twice"),
        ([True], "non-empty list of layer indices"),
        ([-1], "non-empty list of layer indices"),
        ("3", "list of layer indices"),
    ],
)
def test_bad_layer_lists_are_refused(layers, message):
    with pytest.raises(ValueError, match=message):
        BottleneckSpec(layers=layers)


def test_a_layer_the_model_lacks_is_named_and_the_model_is_left_alone():
    model = four_layer_classifier()
    with pytest.raises(ValueError, match=r"layers \[4\] do not exist: the model has 4 layers, numbered 0 to 3"):
        add_adapters(model, "houlsby", bottleneck=4, layers=[3, 4])
    assert list(iter_wrappers(model)) == []


def test_a_fusion_needs_its_adapters_in_the_same_layers():
    model = four_layer_classifier()
    add_adapters(model, "houlsby", bottleneck=4, name="a", layers=[2, 3])
    add_adapters(model, "houlsby", bottleneck=4, name="b")
    with pytest.raises(ValueError, match="must sit in the same layers"):
        add_fusion(model, ["a", "b"])
    add_adapters(model, "houlsby", bottleneck=4, name="c", layers=[3, 2])
    add_fusion(model, ["a", "c"])
