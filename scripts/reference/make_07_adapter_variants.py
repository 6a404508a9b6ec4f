"""Reference outputs of notebook 07 (adapter variants: parallel adapters and Compacter).

Every tensor comes from course_lib with fixed seeds: ``ParallelAdapter`` and ``BottleneckAdapter``
beside / after a small random feed-forward block (exercises 1 and 2), and ``PHMLinear`` for the
Kronecker-sum weights and the PHM layer (exercises 3 to 5). Adapters and PHM layers use the
``random`` init (or random factors) so that no branch is zero and every mistake changes the result.
Parameter counts (exercise 6) come from ``CompacterAdapter`` modules and are cross-checked against
``course_lib.params.compacter_parameter_count``. Keys are prefixed by exercise (``ex1_`` ... ``ex6_``).
"""

from __future__ import annotations

import torch
from torch import nn

from course_lib.adapters import BottleneckAdapter, CompacterAdapter, ParallelAdapter, PHMLinear
from course_lib.params import compacter_parameter_count


def toy_ffn(d: int, d_ff: int) -> nn.Sequential:
    """A BERT-style feed-forward block without residual: Linear(d, d_ff), GELU, Linear(d_ff, d)."""
    return nn.Sequential(nn.Linear(d, d_ff), nn.GELU(), nn.Linear(d_ff, d)).eval()


def ffn_tensors(prefix: str, ffn: nn.Sequential) -> dict[str, torch.Tensor]:
    return {
        f"{prefix}_ffn_W1": ffn[0].weight.clone(),
        f"{prefix}_ffn_b1": ffn[0].bias.clone(),
        f"{prefix}_ffn_W2": ffn[2].weight.clone(),
        f"{prefix}_ffn_b2": ffn[2].bias.clone(),
    }


def adapter_tensors(prefix: str, adapter: nn.Module) -> dict[str, torch.Tensor]:
    return {
        f"{prefix}_down_W": adapter.down.weight.clone(),
        f"{prefix}_down_b": adapter.down.bias.clone(),
        f"{prefix}_up_W": adapter.up.weight.clone(),
        f"{prefix}_up_b": adapter.up.bias.clone(),
    }


#: (case, d, d_ff, r, scale, activation, input shape, seed) for the parallel adapter (exercise 1).
PARALLEL_CASES = (
    ("a", 6, 12, 2, 4.0, "relu", (3, 6), 11),
    ("b", 10, 16, 4, 2.0, "gelu", (2, 5, 10), 12),
)
#: (case, d, d_ff, r, activation, input shape, seed) for the sequential adapter (exercise 2).
SEQUENTIAL_CASES = (
    ("a", 6, 12, 2, "relu", (3, 6), 21),
    ("b", 10, 16, 4, "gelu", (2, 5, 10), 22),
)


@torch.no_grad()
def exercises_1_and_2() -> tuple[dict[str, torch.Tensor], dict]:
    """FFN(x) + s·ParallelAdapter-delta(x) and BottleneckAdapter(FFN(x)) on small random FFNs."""
    tensors, values = {}, {}
    for case, d, d_ff, r, scale, activation, shape, seed in PARALLEL_CASES:
        torch.manual_seed(seed)
        ffn = toy_ffn(d, d_ff)
        adapter = ParallelAdapter(d, r, scale=scale, activation=activation, init="random")
        x = torch.randn(*shape)
        prefix = f"ex1_{case}"
        tensors.update(ffn_tensors(prefix, ffn))
        tensors.update(adapter_tensors(prefix, adapter))
        tensors[f"{prefix}_x"] = x
        tensors[f"{prefix}_out"] = ffn(x) + adapter(x)
        values[f"{prefix}_config"] = {"d": d, "d_ff": d_ff, "r": r, "scale": scale, "activation": activation}
    for case, d, d_ff, r, activation, shape, seed in SEQUENTIAL_CASES:
        torch.manual_seed(seed)
        ffn = toy_ffn(d, d_ff)
        adapter = BottleneckAdapter(d, r, activation=activation, init="random")
        x = torch.randn(*shape)
        prefix = f"ex2_{case}"
        tensors.update(ffn_tensors(prefix, ffn))
        tensors.update(adapter_tensors(prefix, adapter))
        tensors[f"{prefix}_x"] = x
        tensors[f"{prefix}_out"] = adapter(ffn(x))
        values[f"{prefix}_config"] = {"d": d, "d_ff": d_ff, "r": r, "activation": activation}
    return tensors, values


def phm_layer(in_features: int, out_features: int, n: int, phm_rank: int | None, bias: bool, seed: int) -> PHMLinear:
    """A PHMLinear with random A, factors and bias (the default init, nothing zeroed)."""
    torch.manual_seed(seed)
    return PHMLinear(in_features, out_features, n=n, bias=bias, phm_rank=phm_rank)


#: (case, in_features, out_features, n, seed): full-rank B_i (exercise 3).
FULL_CASES = (("a", 6, 4, 2, 31), ("b", 12, 9, 3, 32), ("c", 8, 8, 4, 33))
#: (case, in_features, out_features, n, k, seed): low-rank B_i = s_i t_iᵀ (exercise 4).
LOW_RANK_CASES = (("a", 6, 4, 2, 1, 41), ("b", 12, 9, 3, 2, 42), ("c", 16, 8, 4, 1, 43))
#: (case, in_features, out_features, n, k, bias, input shape, seed): the PHM layer (exercise 5).
LAYER_CASES = (
    ("a", 8, 12, 4, 1, True, (5, 8), 51),
    ("b", 6, 9, 3, 2, False, (2, 4, 6), 52),
    ("c", 16, 4, 2, 3, True, (16,), 53),
)


@torch.no_grad()
def exercises_3_to_5() -> tuple[dict[str, torch.Tensor], dict]:
    tensors, values = {}, {}
    for case, d_in, d_out, n, seed in FULL_CASES:
        layer = phm_layer(d_in, d_out, n, None, True, seed)
        tensors.update(
            {f"ex3_{case}_A": layer.A.clone(), f"ex3_{case}_B": layer.B.clone(), f"ex3_{case}_W": layer.weight}
        )
    for case, d_in, d_out, n, k, seed in LOW_RANK_CASES:
        layer = phm_layer(d_in, d_out, n, k, True, seed)
        tensors.update(
            {
                f"ex4_{case}_A": layer.A.clone(),
                f"ex4_{case}_s": layer.s.clone(),
                f"ex4_{case}_t": layer.t.clone(),
                f"ex4_{case}_W": layer.weight,
            }
        )
    for case, d_in, d_out, n, k, bias, shape, seed in LAYER_CASES:
        layer = phm_layer(d_in, d_out, n, k, bias, seed)
        x = torch.randn(*shape)
        tensors.update({f"ex5_{case}_{key}": value.clone() for key, value in layer.state_dict().items()})
        tensors[f"ex5_{case}_x"] = x
        tensors[f"ex5_{case}_out"] = layer(x)
        values[f"ex5_{case}_config"] = {"in": d_in, "out": d_out, "n": n, "k": k, "bias": bias}
        values[f"ex5_{case}_parameters"] = sum(p.numel() for p in layer.parameters())
    return tensors, values


def exercise_6() -> list:
    """[d, r, n, k, include_A, bias, count]: parameters of CompacterAdapter modules (A counted once)."""
    cases = []
    for d, r, n, k, include_A, bias in [
        (8, 4, 2, 1, True, True),
        (12, 6, 3, 2, True, False),
        (16, 8, 4, 1, False, True),
        (384, 64, 4, 1, True, True),
        (768, 48, 8, 3, True, True),
        (768, 64, 16, 1, False, False),
    ]:
        adapter = CompacterAdapter(d, r, n=n, phm_rank=k, bias=bias)
        measured = sum(p.numel() for p in adapter.parameters())  # the shared A appears once
        if not include_A:
            measured -= n**3
        closed = compacter_parameter_count(d, r, n=n, phm_rank=k, bias=bias, include_A=include_A)
        if measured != closed:
            raise AssertionError(f"Compacter d={d} r={r} n={n} k={k}: module has {measured}, closed form {closed}")
        cases.append([d, r, n, k, include_A, bias, measured])
    return cases


def build() -> tuple[dict[str, torch.Tensor], dict]:
    t12, v12 = exercises_1_and_2()
    t35, v35 = exercises_3_to_5()
    return {**t12, **t35}, {**v12, **v35, "ex6_cases": exercise_6()}


if __name__ == "__main__":
    tensors, values = build()
    print(sorted(tensors), values)
