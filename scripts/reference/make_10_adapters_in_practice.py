"""Reference outputs of notebook 10 (adapters in practice: a routed hub, forgetting, training costs).

JSON values only, all from course_lib with fixed seeds:

* ``ex1_traces``: ``[capacity, sequence of names, names held at the end]`` for ``course_lib.adapter_cache``'s
  ``LRUAdapterCache`` (least recently used first), sequences with hits, misses and evictions;
* ``ex4_cases``: ``[num_layers, adapter layers or None, layers backward goes through]``, each count also checked
  against autograd on a tiny BERT with those adapters (the layers whose output needs a gradient);
* ``ex5_cases``: ``[seed, settings, optimizer, bytes]``: the bytes a real torch optimizer holds in its state after one
  step on a tiny BERT (``load_model("tiny-bert")``), with adapters in some layers or none, frozen or not, float32 or
  float64, cross-checked against ``optimizer_state_bytes``.
"""

from __future__ import annotations

import torch

from course_lib.adapter_cache import LRUAdapterCache
from course_lib.api import add_adapters, freeze_base, get_layers, load_model
from course_lib.training_cost import layers_backward, measured_state_bytes, optimizer_state_bytes

TRACES = (
    (1, "a b a b b c"),
    (2, "a b c a d b a"),
    (3, "a b c a d e b a f"),
    (3, "x y x y x z w x"),
    (4, "a b c d a e f b g a"),
)


def ex1_traces() -> list:
    cases = []
    for capacity, text in TRACES:
        sequence = text.split()
        cache = LRUAdapterCache(capacity, load=str.upper)
        for name in sequence:
            cache.get(name)
        cases.append([capacity, sequence, cache.names()])
    return cases


def backward_by_autograd(num_layers: int, layers) -> int:
    torch.manual_seed(0)
    from transformers import BertForSequenceClassification

    from course_lib.api import tiny_bert_config

    model = BertForSequenceClassification(tiny_bert_config(num_hidden_layers=num_layers, vocab_size=200))
    if layers is None:
        model.requires_grad_(True)
    else:
        if layers:
            add_adapters(model, "pfeiffer", bottleneck=4, layers=layers)
        freeze_base(model, train_adapters=bool(layers))
    seen = []
    hooks = [
        layer.register_forward_hook(lambda _m, _i, out: seen.append(bool(out[0].requires_grad)))
        for layer in get_layers(model)
    ]
    model(input_ids=torch.tensor([[1, 5, 7, 2]])).logits.sum().backward()
    for hook in hooks:
        hook.remove()
    return sum(seen)


def ex4_cases() -> list:
    cases = []
    for num_layers, layers in [
        (6, None),
        (6, []),
        (6, [0]),
        (6, [1, 5]),
        (6, [4, 5]),
        (8, [7]),
        (8, [6, 2, 7]),
        (12, list(range(6, 12))),
        (12, None),
        (3, [1]),
    ]:
        count = layers_backward(num_layers, layers)
        by_autograd = backward_by_autograd(num_layers, layers)
        if count != by_autograd:
            raise AssertionError(f"layers_backward({num_layers}, {layers}) = {count}, autograd: {by_autograd}")
        cases.append([num_layers, layers, count])
    return cases


OPTIMIZERS = {
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=1e-3),
    "sgd-momentum": lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.9),
    "sgd": lambda ps: torch.optim.SGD(ps, lr=1e-3),
}


def ex5_cases() -> list:
    cases = []
    for seed, settings, optimizer in [
        (0, {"adapters": True, "bottleneck": 8, "layers": None, "freeze": True, "dtype": "float32"}, "adamw"),
        (1, {"adapters": True, "bottleneck": 4, "layers": [1], "freeze": True, "dtype": "float64"}, "adamw"),
        (2, {"adapters": False, "bottleneck": 0, "layers": None, "freeze": False, "dtype": "float32"}, "adamw"),
        (3, {"adapters": False, "bottleneck": 0, "layers": None, "freeze": True, "dtype": "float64"}, "sgd-momentum"),
        (4, {"adapters": True, "bottleneck": 16, "layers": [0], "freeze": True, "dtype": "float32"}, "sgd-momentum"),
        (5, {"adapters": True, "bottleneck": 4, "layers": None, "freeze": True, "dtype": "float32"}, "sgd"),
    ]:
        model, _ = load_model("tiny-bert", seed=seed)
        if settings["adapters"]:
            add_adapters(model, "pfeiffer", bottleneck=settings["bottleneck"], layers=settings["layers"])
        if settings["freeze"]:
            freeze_base(model, train_adapters=settings["adapters"])
        model = model.to(getattr(torch, settings["dtype"]))
        opt = OPTIMIZERS[optimizer]([p for p in model.parameters() if p.requires_grad])
        model(input_ids=torch.tensor([[101, 2023, 102]])).logits.sum().backward()
        opt.step()
        measured = measured_state_bytes(opt)
        if measured != optimizer_state_bytes(model, optimizer):
            raise AssertionError(
                f"case {seed}: optimizer holds {measured} bytes, formula {optimizer_state_bytes(model, optimizer)}"
            )
        cases.append([seed, settings, optimizer, measured])
    return cases


def build() -> tuple[dict[str, torch.Tensor], dict]:
    return {}, {"ex1_traces": ex1_traces(), "ex4_cases": ex4_cases(), "ex5_cases": ex5_cases()}


if __name__ == "__main__":
    print(build()[1])
