"""Reference outputs of notebook 01 (the bottleneck adapter as math and as code).

Every tensor comes from ``course_lib.adapters.BottleneckAdapter`` with a fixed seed; the FLOPs
values come from the closed forms stated in the notebook (one multiply-add = 2 FLOPs).
Keys are prefixed by the exercise they serve (``ex1_`` ... ``ex4_``).
"""

from __future__ import annotations

import torch

from course_lib.adapters import BottleneckAdapter
from course_lib.params import adapter_parameter_count

ACTIVATIONS = ("relu", "gelu", "silu", "identity")


def random_adapter(
    d_model: int, bottleneck: int, activation: str, bias: bool = True, seed: int = 0
) -> BottleneckAdapter:
    """A BottleneckAdapter with nn.Linear's default (far from zero) random weights."""
    torch.manual_seed(seed)
    return BottleneckAdapter(d_model, bottleneck, activation=activation, bias=bias, init="random").eval()


@torch.no_grad()
def exercise_1() -> dict[str, torch.Tensor]:
    """adapter_forward: one set of weights, every activation, a 3-d batch, a single vector, no biases."""
    d, r = 12, 4
    base = random_adapter(d, r, "relu", seed=1)
    torch.manual_seed(2)
    h = torch.randn(2, 5, d)
    tensors = {
        "ex1_h": h,
        "ex1_h_single": torch.randn(d),
        "ex1_W_down": base.down.weight.clone(),
        "ex1_b_down": base.down.bias.clone(),
        "ex1_W_up": base.up.weight.clone(),
        "ex1_b_up": base.up.bias.clone(),
    }
    for name in ACTIVATIONS:
        adapter = BottleneckAdapter(d, r, activation=name, init="random")
        adapter.load_state_dict(base.state_dict())
        tensors[f"ex1_out_{name}"] = adapter(h)
        tensors[f"ex1_out_single_{name}"] = adapter(tensors["ex1_h_single"])
    no_bias = BottleneckAdapter(d, r, activation="gelu", bias=False, init="random")
    no_bias.down.weight.copy_(base.down.weight)
    no_bias.up.weight.copy_(base.up.weight)
    tensors["ex1_out_nobias_gelu"] = no_bias(h)
    return tensors


@torch.no_grad()
def exercise_2() -> tuple[dict[str, torch.Tensor], dict]:
    """MyAdapter: the weights of a seeded SiLU adapter, an input and the output they give."""
    adapter = random_adapter(10, 3, "silu", seed=3)
    torch.manual_seed(4)
    h = torch.randn(3, 7, 10)
    tensors = {f"ex2_{key.replace('.', '_')}": value.clone() for key, value in adapter.state_dict().items()}
    tensors["ex2_h"] = h
    tensors["ex2_out"] = adapter(h)
    values = {
        "ex2_param_count_768_64": adapter_parameter_count(768, 64),
        "ex2_param_count_384_32": adapter_parameter_count(384, 32),
        "ex2_param_count_10_3": sum(p.numel() for p in adapter.parameters()),
    }
    return tensors, values


@torch.no_grad()
def exercise_3() -> tuple[dict[str, torch.Tensor], dict]:
    """linearised_adapter_matrix and linear_adapter_update_rank.

    With identity activation and no biases the adapter is linear, ``h' = h M``; feeding it the rows
    of the identity matrix gives ``M`` itself (row i of ``I @ M`` is row i of ``M``).
    """
    d, r = 8, 3
    adapter = random_adapter(d, r, "identity", bias=False, seed=5)
    eye = torch.eye(d)
    M = adapter(eye)
    tensors = {"ex3_W_down": adapter.down.weight.clone(), "ex3_W_up": adapter.up.weight.clone(), "ex3_M": M}
    values = {"ex3_rank": int(torch.linalg.matrix_rank(M - eye))}

    # A degenerate adapter: two of W_up's columns are equal, so W_up has rank 3 < r = 4 and so does the update.
    low = random_adapter(10, 4, "identity", bias=False, seed=6)
    low.up.weight[:, 3] = low.up.weight[:, 0]
    eye = torch.eye(10, dtype=torch.float64)
    low = low.double()
    tensors["ex3_low_W_down"] = low.down.weight.clone()
    tensors["ex3_low_W_up"] = low.up.weight.clone()
    tensors["ex3_low_M"] = low(eye)
    values["ex3_low_rank"] = int(torch.linalg.matrix_rank(low(eye) - eye))
    return tensors, values


def flops(d: int, d_ff: int, r: int, seq_len: int) -> dict:
    """FLOPs of one BERT layer's pieces for one sequence of ``seq_len`` tokens (1 multiply-add = 2 FLOPs)."""
    n = seq_len
    return {
        "d": d,
        "d_ff": d_ff,
        "r": r,
        "seq_len": n,
        "adapter": 2 * (n * d * r + n * r * d),  # down- and up-projection
        "attention": 2 * (4 * n * d * d + n * n * d + n * n * d),  # Q, K, V, O; QK^T; AV
        "ffn": 2 * (n * d * d_ff + n * d_ff * d),  # two FFN matmuls
    }


def exercise_4() -> dict:
    return {
        "ex4_bert_base": flops(768, 3072, 64, 128),
        "ex4_minilm": flops(384, 1536, 64, 128),
        "ex4_minilm_short": flops(384, 1536, 16, 32),
        "ex4_odd": flops(10, 36, 3, 7),
    }


def build() -> tuple[dict[str, torch.Tensor], dict]:
    tensors = exercise_1()
    t2, v2 = exercise_2()
    t3, v3 = exercise_3()
    return {**tensors, **t2, **t3}, {**v2, **v3, **exercise_4()}
