"""What training with adapters costs (notebook 10): where backward stops for a given adapter placement, what an
optimizer keeps per trainable parameter, and a training step timed in its three phases.

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
from collections.abc import Iterable, Mapping

import torch
from torch import nn


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
    "layers_backward",
    "optimizer_state_bytes",
    "measured_state_bytes",
    "time_step_phases",
    "STATES_PER_PARAMETER",
]
