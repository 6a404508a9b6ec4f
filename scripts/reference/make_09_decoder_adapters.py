"""Reference outputs of notebook 09 (adapters, LoRA, prompt and prefix tuning in a decoder).

Everything comes from course_lib with fixed seeds and small sizes, so that every mistake changes the result:

* ``ex1_``: a pre-LayerNorm sub-layer ``h + y + f(y)`` with ``y = sublayer(LN(h))`` and ``f`` a
  ``BottleneckAdapter``'s correction (random init), on a toy feed-forward block and a LayerNorm with random affine
  weights;
* ``ex2_``: how many parameters Houlsby adapters add to small GPT-2 configs (``add_adapters`` counted by
  ``count_parameters``);
* ``ex3_``: SFT batches of (prompt, response) token-id pairs from ``course_lib.sft.sft_batch``;
* ``ex4_``: random logits and SFT labels, and ``course_lib.sft.response_loss`` of them;
* ``ex6_``: prefix parameter counts (``course_lib.params.prefix_parameter_count``) and the number of query-key
  scores of one causal attention head with and without a prefix, counted by enumerating the pairs.
"""

from __future__ import annotations

import torch
from torch import nn

from course_lib.adapters import BottleneckAdapter
from course_lib.params import count_parameters, prefix_parameter_count
from course_lib.sft import IGNORE_INDEX, response_loss, sft_batch

#: (case, d, d_ff, r, activation, input shape, seed) for the pre-LN sub-layer with an adapter (exercise 1).
SUBLAYER_CASES = (
    ("a", 6, 12, 2, "relu", (3, 6), 31),
    ("b", 10, 20, 4, "gelu", (2, 5, 10), 32),
)
#: (n_layer, n_embd, n_head, bottleneck) of the GPT-2 configs whose adapter parameters exercise 2 counts.
ADAPTER_CONFIGS = ((2, 32, 4, 8), (3, 48, 4, 5), (1, 16, 2, 1))
#: (pairs, pad id, eos id) for exercise 3.
SFT_CASES = (
    ([([5, 6, 7], [8, 9]), ([10], [11, 12, 13, 14, 15, 16])], 0, 2),
    ([([3, 4, 5, 6], [7]), ([8, 9], [10, 11]), ([12, 13, 14], [15, 16, 17])], 1, 99),
)
#: (n_layers, d_model, n_prefix, seq_len) for exercise 6.
PREFIX_CASES = ((4, 192, 10, 32), (12, 768, 20, 100), (2, 16, 1, 1), (6, 64, 30, 7))


def toy_ffn(d: int, d_ff: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d, d_ff), nn.GELU(), nn.Linear(d_ff, d)).eval()


@torch.no_grad()
def exercise_1() -> dict[str, torch.Tensor]:
    tensors = {}
    for case, d, d_ff, r, activation, shape, seed in SUBLAYER_CASES:
        torch.manual_seed(seed)
        norm = nn.LayerNorm(d)
        norm.weight.normal_(1.0, 0.3)
        norm.bias.normal_(0.0, 0.3)
        ffn = toy_ffn(d, d_ff)
        adapter = BottleneckAdapter(d, r, activation=activation, init="random")
        h = torch.randn(*shape)
        p = f"ex1_{case}"
        tensors.update({f"{p}_ln_w": norm.weight.clone(), f"{p}_ln_b": norm.bias.clone(), f"{p}_h": h})
        tensors.update({f"{p}_ffn_W1": ffn[0].weight.clone(), f"{p}_ffn_b1": ffn[0].bias.clone()})
        tensors.update({f"{p}_ffn_W2": ffn[2].weight.clone(), f"{p}_ffn_b2": ffn[2].bias.clone()})
        for name, layer in (("down", adapter.down), ("up", adapter.up)):
            tensors[f"{p}_{name}_W"], tensors[f"{p}_{name}_b"] = layer.weight.clone(), layer.bias.clone()
        tensors[f"{p}_out"] = h + adapter(ffn(norm(h)))  # BottleneckAdapter(y) = y + f(y)
    return tensors


def exercise_2() -> list[list[int]]:
    from transformers import GPT2Config, GPT2LMHeadModel

    from course_lib.model import add_adapters

    cases = []
    for n_layer, d, n_head, r in ADAPTER_CONFIGS:
        torch.manual_seed(0)
        config = GPT2Config(
            vocab_size=50, n_positions=16, n_embd=d, n_layer=n_layer, n_head=n_head, bos_token_id=49, eos_token_id=49
        )
        model = add_adapters(GPT2LMHeadModel(config), placement="houlsby", bottleneck=r)
        cases.append([n_layer, d, n_head, r, count_parameters(model)["groups"]["adapters"]])
    return cases


def exercise_3() -> list[dict]:
    cases = []
    for pairs, pad, eos in SFT_CASES:
        batch = sft_batch(pairs, pad_id=pad, eos_id=eos)
        cases.append(
            {
                "pairs": [list(map(list, pair)) for pair in pairs],
                "pad_id": pad,
                "eos_id": eos,
                **{key: value.tolist() for key, value in batch.items()},
            }
        )
    return cases


@torch.no_grad()
def exercise_4() -> dict[str, torch.Tensor]:
    torch.manual_seed(41)
    logits = 3 * torch.randn(3, 7, 11)
    labels = torch.randint(0, 11, (3, 7))
    labels[:, :3] = IGNORE_INDEX  # prompts of different lengths
    labels[1, 3] = IGNORE_INDEX
    labels[2, 5:] = IGNORE_INDEX  # padding
    labels[0, 6] = IGNORE_INDEX
    return {"ex4_logits": logits, "ex4_labels": labels, "ex4_loss": response_loss(logits, labels)}


def attention_pairs(seq_len: int, n_prefix: int) -> int:
    """Query-key pairs of one causal attention head, counted one by one: query t sees the prefix and keys 0..t."""
    return sum(1 for t in range(seq_len) for key in range(n_prefix + seq_len) if key < n_prefix or key - n_prefix <= t)


def exercise_6() -> list[list[int]]:
    return [
        [
            layers,
            d,
            n,
            length,
            prefix_parameter_count(n, layers, d),
            attention_pairs(length, n),
            attention_pairs(length, 0),
        ]
        for layers, d, n, length in PREFIX_CASES
    ]


def build():
    tensors = {**exercise_1(), **exercise_4()}
    values = {
        "ex1_configs": {
            case: {"d": d, "d_ff": d_ff, "r": r, "activation": act} for case, d, d_ff, r, act, _, _ in SUBLAYER_CASES
        },
        "ex2_cases": exercise_2(),
        "ex3_cases": exercise_3(),
        "ex6_cases": exercise_6(),
    }
    return tensors, values
