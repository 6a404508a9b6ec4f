"""Serving and training adapters in practice (notebook 10): a least-recently-used adapter cache, where
backward stops for a given adapter placement, what an optimizer keeps per trainable parameter, and a step
timed in its three phases.

* :class:`LRUAdapterCache` loads an adapter on its first use through a ``load(name)`` function and keeps at most
  ``capacity`` of them; past that it drops the one used longest ago through ``unload(name, value)``. It is the
  reference the notebook falls back to while the learner's own cache is not done.
* :func:`layers_backward` counts the transformer layers a backward pass goes through: from the top down to the
  lowest layer that holds something trainable (AdapterDrop, Rücklé et al. 2021, puts adapters in the top k layers
  only, so backward stops early).
* :func:`optimizer_state_bytes` is what an optimizer such as AdamW stores (its moment estimates) for the trainable
  parameters, and :func:`measured_state_bytes` reads the same from a real optimizer's ``state``.
* :func:`time_step_phases` times forward, backward and the optimizer step of one training step separately.
"""

from __future__ import annotations

import statistics
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import nn


class LRUAdapterCache:
    """At most ``capacity`` loaded adapters, the least recently used dropped first.

    ``get(name)`` returns the cached value when ``name`` is loaded (and makes it the most recently used);
    otherwise it calls ``load(name)`` (an error there propagates and leaves the cache as it was), stores the
    result and, when that makes more than ``capacity``, drops the least recently used entry, calling
    ``unload(name, value)`` for it when given. ``names()`` lists the loaded names from least to most recently
    used; ``loads`` and ``evictions`` count the calls of ``load`` and ``unload``.
    """

    def __init__(self, capacity: int, load: Callable[[str], Any], unload: Callable[[str, Any], None] | None = None):
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError(f"capacity must be an int, got {type(capacity).__name__} {capacity!r}")
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        if not callable(load):
            raise TypeError(f"load must be a function name -> adapter, got {type(load).__name__}")
        self.capacity, self.load, self.unload = capacity, load, unload
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self.loads = 0
        self.evictions = 0

    def get(self, name: str) -> Any:
        if name in self._entries:
            self._entries.move_to_end(name)
            return self._entries[name]
        value = self.load(name)
        self.loads += 1
        self._entries[name] = value
        while len(self._entries) > self.capacity:
            old, old_value = self._entries.popitem(last=False)
            self.evictions += 1
            if self.unload is not None:
                self.unload(old, old_value)
        return value

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"LRUAdapterCache(capacity={self.capacity}, loaded={self.names()}, loads={self.loads})"


def layers_backward(num_layers: int, trainable_layers: Iterable[int] | None) -> int:
    """How many of ``num_layers`` transformer layers backward goes through: ``num_layers - min(trainable_layers)``
    (layers are numbered 0 = next to the embeddings); ``None`` means the whole model trains (full fine-tuning,
    every layer); an empty placement (head only) gives 0. The embedding layer is not counted."""
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"num_layers must be a positive int, got {num_layers!r}")
    if trainable_layers is None:
        return num_layers
    layers = list(trainable_layers)
    bad = [i for i in layers if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < num_layers]
    if bad:
        raise ValueError(f"layer indices must be ints in 0..{num_layers - 1}, got {bad}")
    return num_layers - min(layers) if layers else 0


#: Tensors of optimizer state per trainable parameter (SGD with momentum keeps one buffer, Adam/AdamW two moments).
STATES_PER_PARAMETER = {"sgd": 0, "sgd-momentum": 1, "adam": 2, "adamw": 2}


def optimizer_state_bytes(model: nn.Module, optimizer: str = "adamw") -> int:
    """Bytes of optimizer state for the trainable parameters of ``model``: one tensor the size of each parameter
    (its dtype) per state, not counting the step counters."""
    if optimizer not in STATES_PER_PARAMETER:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {', '.join(STATES_PER_PARAMETER)}")
    per_parameter = sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)
    return STATES_PER_PARAMETER[optimizer] * per_parameter


def measured_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Bytes of the tensors in a real optimizer's ``state`` that have more than one element (the moments, the
    momentum buffers; not the scalar step counters)."""
    return sum(
        value.numel() * value.element_size()
        for state in optimizer.state.values()
        for value in state.values()
        if isinstance(value, torch.Tensor) and value.numel() > 1
    )


def time_step_phases(
    model: nn.Module,
    batch: Mapping[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    repeats: int = 3,
    warmup: int = 1,
) -> dict[str, float]:
    """Median seconds of forward (to the loss), backward and the optimizer step (with zero_grad) over ``repeats``
    training steps on ``batch`` (which holds ``labels``), after ``warmup`` untimed steps. The model is left in
    train mode and its parameters are updated, as in training."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    if "labels" not in batch:
        raise ValueError("the batch needs 'labels' for a loss")
    model.train()
    times: dict[str, list[float]] = {"forward": [], "backward": [], "optimizer": []}
    for i in range(warmup + repeats):
        start = time.perf_counter()
        loss = model(**batch).loss
        after_forward = time.perf_counter()
        loss.backward()
        after_backward = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        end = time.perf_counter()
        if i >= warmup:
            times["forward"].append(after_forward - start)
            times["backward"].append(after_backward - after_forward)
            times["optimizer"].append(end - after_backward)
    result = {phase: statistics.median(values) for phase, values in times.items()}
    result["step"] = sum(result.values())
    return result


__all__ = [
    "LRUAdapterCache",
    "layers_backward",
    "optimizer_state_bytes",
    "measured_state_bytes",
    "time_step_phases",
    "STATES_PER_PARAMETER",
]
