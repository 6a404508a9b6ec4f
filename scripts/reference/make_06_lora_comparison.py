"""Reference outputs of notebook 06 (LoRA compared with bottleneck adapters).

Every tensor comes from ``course_lib.lora.LoRALinear`` or ``course_lib.adapters.BottleneckAdapter``
with a fixed seed. ``lora_B`` starts at zero in a fresh layer, which would make every output equal
to the base layer's; the references overwrite it with random numbers so the LoRA branch matters.
Keys are prefixed by the exercise they serve (``ex1_`` ... ``ex4_``).

Two sets of figures back the notebook's prose rather than a test: ``counts_ratio`` (Houlsby adapters over
LoRA on W_q and W_v, from course_lib's closed forms, checked against ``1 + 1/(2r) + 1/(2d)``) and
``latency_benchmark`` (the "Inference latency" table of benchmarks/RESULTS.md, which the notebook shows beside
the learner's own timing); ``--check`` fails when either drifts from what is stored.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch
from torch import nn

from course_lib.adapters import BottleneckAdapter
from course_lib.lora import LoRALinear
from course_lib.params import lora_parameter_count, placement_parameter_count

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "RESULTS.md"
#: The models of the notebook's counts section: name -> (d, layers).
COUNT_MODELS = {"minilm": (384, 6), "bert-base": (768, 12)}
COUNT_RANKS = (1, 2, 4, 8, 16, 32, 64, 128)

#: (name, in_features, out_features, r, alpha, bias, input shape). Scales: 2.0 and 0.5.
LAYERS = (
    ("a", 10, 6, 3, 6.0, True, (2, 5, 10)),
    ("b", 7, 9, 2, 1.0, False, (4, 7)),
)


@torch.no_grad()
def trained_lora(in_features: int, out_features: int, r: int, alpha: float, bias: bool, seed: int) -> LoRALinear:
    """A LoRALinear whose B is random (as if it had been trained), so B @ A is not zero."""
    torch.manual_seed(seed)
    layer = LoRALinear(nn.Linear(in_features, out_features, bias=bias), r=r, alpha=alpha)
    layer.lora_B.normal_(0.0, 0.5)
    return layer.eval()


@torch.no_grad()
def exercises_1_and_2() -> tuple[dict[str, torch.Tensor], dict]:
    """MyLoRALinear forward (ex1) and merge (ex2): weights, inputs, outputs and the merged weight."""
    tensors, values = {}, {}
    for seed, (name, d_in, d_out, r, alpha, bias, shape) in enumerate(LAYERS, start=1):
        layer = trained_lora(d_in, d_out, r, alpha, bias, seed)
        torch.manual_seed(100 + seed)
        x = torch.randn(*shape)
        tensors[f"ex1_{name}_W"] = layer.base.weight.clone()
        if bias:
            tensors[f"ex1_{name}_b"] = layer.base.bias.clone()
        tensors[f"ex1_{name}_A"] = layer.lora_A.clone()
        tensors[f"ex1_{name}_B"] = layer.lora_B.clone()
        tensors[f"ex1_{name}_x"] = x
        tensors[f"ex1_{name}_base_out"] = layer.base(x)
        tensors[f"ex1_{name}_out"] = layer(x)
        values[f"ex1_{name}_config"] = {"in": d_in, "out": d_out, "r": r, "alpha": alpha, "bias": bias}
        values[f"ex1_{name}_trainable"] = sum(p.numel() for p in layer.parameters() if p.requires_grad)
        layer.merge()
        tensors[f"ex2_{name}_merged_W"] = layer.base.weight.clone()
        tensors[f"ex2_{name}_merged_out"] = layer(x)
    return tensors, values


def adapter_update(W_down: torch.Tensor, W_up: torch.Tensor) -> torch.Tensor:
    """Update matrix of a linear adapter, read off by feeding it the identity: rows of I map to rows of I + M."""
    d, r = W_up.shape
    adapter = BottleneckAdapter(d, r, activation="identity", bias=False, init="random").to(W_up.dtype)
    adapter.down.weight.copy_(W_down)
    adapter.up.weight.copy_(W_up)
    eye = torch.eye(d, dtype=W_up.dtype)
    return adapter(eye) - eye


@torch.no_grad()
def exercise_4() -> tuple[dict[str, torch.Tensor], dict]:
    """The two low-rank updates (adapter: of the identity, LoRA: of W) and their ranks, in float64."""
    tensors, values = {}, {}
    torch.manual_seed(7)
    W_down, W_up = torch.randn(3, 8, dtype=torch.float64), torch.randn(8, 3, dtype=torch.float64)
    tensors.update(ex4_W_down=W_down, ex4_W_up=W_up, ex4_adapter_update=adapter_update(W_down, W_up))
    layer = trained_lora(10, 6, 2, 3.0, True, seed=8).double()
    tensors.update(ex4_A=layer.lora_A.clone(), ex4_B=layer.lora_B.clone(), ex4_lora_update=layer.delta_weight())
    values.update(ex4_scale=layer.scale, ex4_adapter_rank=3, ex4_lora_rank=2)

    # Degenerate factors: W_up has two equal columns and B two equal columns, so the ranks fall below r.
    torch.manual_seed(9)
    low_down, low_up = torch.randn(4, 12, dtype=torch.float64), torch.randn(12, 4, dtype=torch.float64)
    low_up[:, 3] = low_up[:, 0]
    low = trained_lora(9, 11, 3, 3.0, True, seed=10).double()
    low.lora_B[:, 2] = low.lora_B[:, 1]
    tensors.update(
        ex4_low_W_down=low_down,
        ex4_low_W_up=low_up,
        ex4_low_adapter_update=adapter_update(low_down, low_up),
        ex4_low_A=low.lora_A.clone(),
        ex4_low_B=low.lora_B.clone(),
        ex4_low_lora_update=low.delta_weight(),
    )
    values.update(
        ex4_low_scale=low.scale,
        ex4_low_adapter_rank=int(torch.linalg.matrix_rank(tensors["ex4_low_adapter_update"])),
        ex4_low_lora_rank=int(torch.linalg.matrix_rank(tensors["ex4_low_lora_update"])),
    )
    for key in ("ex4_adapter", "ex4_lora"):
        assert int(torch.linalg.matrix_rank(tensors[f"{key}_update"])) == values[f"{key}_rank"]
    return tensors, values


def counts_ratio() -> dict:
    """Houlsby adapters (two per layer) over LoRA on W_q and W_v, per model and rank: ``{"minilm": {"4": 1.126...}}``.

    Both come from course_lib's closed forms; the ratio must be ``1 + 1/(2r) + 1/(2d)`` (the adapters' biases)."""
    ratios: dict = {}
    for model, (d, layers) in COUNT_MODELS.items():
        ratios[model] = {}
        for r in COUNT_RANKS:
            ratio = placement_parameter_count(d, layers, r, "houlsby") / (layers * 2 * lora_parameter_count(d, d, r))
            assert math.isclose(ratio, 1 + 1 / (2 * r) + 1 / (2 * d), rel_tol=1e-12), (model, r, ratio)
            ratios[model][str(r)] = ratio
    return ratios


def latency_benchmark() -> dict:
    """The "x base" columns of benchmarks/RESULTS.md's "Inference latency" table, by model and batch size:
    ``{"houlsby-r64": {"1": {"cpu": 1.076, "wall": 1.070, "first_cpu": 1.090}, ...}, ...}``."""
    text = RESULTS.read_text()
    section = text.split("## Inference latency", 1)[1].split("\n## ", 1)[0]
    figures: dict = {}
    for line in section.splitlines():
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if len(cells) != 9 or not cells[1].isdigit():
            continue
        model, batch, _, cpu, wall, first_cpu = cells[:6]
        figures.setdefault(model, {})[batch] = {"cpu": float(cpu), "wall": float(wall), "first_cpu": float(first_cpu)}
    expected = {"base", "houlsby-r64", "pfeiffer-r64", "lora-r8-unmerged", "lora-r8-merged"}
    assert set(figures) == expected and all(set(v) == {"1", "32"} for v in figures.values()), figures
    noise = re.search(r"about ± (\d+) %", section)
    assert noise, "RESULTS.md no longer states the noise of the latency ratios"
    return {"x_base": figures, "noise_percent": int(noise.group(1))}


def build() -> tuple[dict[str, torch.Tensor], dict]:
    t12, v12 = exercises_1_and_2()
    t4, v4 = exercise_4()
    extra = {"counts_ratio": counts_ratio(), "latency_benchmark": latency_benchmark()}
    return {**t12, **t4}, {**v12, **v4, **extra}
