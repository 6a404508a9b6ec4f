"""Reference outputs of notebook 05 (AdapterFusion).

Every tensor comes from ``course_lib.fusion.AdapterFusion`` (or plain torch for the small math
exercises) with fixed seeds. The query and key weights are drawn much larger than the fusion's own
initialisation so that the attention weights are far from uniform and a mistake in the scores
(scaling, softmax dimension) changes the result clearly. Keys are prefixed by exercise (``ex1_`` ... ``ex4_``).
"""

from __future__ import annotations

import math

import torch

from course_lib.fusion import AdapterFusion


def random_fusion(d_model: int, n_adapters: int, seed: int, qk_std: float = 0.5) -> AdapterFusion:
    """An AdapterFusion with large random query/key weights and a random (not identity) value."""
    torch.manual_seed(seed)
    fusion = AdapterFusion(d_model, n_adapters)
    with torch.no_grad():
        for layer in (fusion.query, fusion.key):
            layer.weight.normal_(std=qk_std)
            layer.bias.normal_(std=0.1)
        fusion.value.weight.add_(0.3 * torch.randn(d_model, d_model))
        fusion.value.bias.normal_(std=0.1)
    return fusion.eval()


@torch.no_grad()
def exercise_1() -> dict[str, torch.Tensor]:
    """MyFusion: weights, inputs and outputs of three fusions (batched, unbatched, a single adapter)."""
    tensors = {}
    cases = {
        "batch": (8, 3, (2, 5), 11),  # h (2, 5, 8), adapter outputs (2, 5, 3, 8)
        "single": (6, 2, (), 12),  # h (6,), adapter outputs (2, 6)
        "one": (5, 1, (4,), 13),  # one adapter: out = h + V z
    }
    for case, (d, n, lead, seed) in cases.items():
        fusion = random_fusion(d, n, seed)
        h = torch.randn(*lead, d)
        z = torch.randn(*lead, n, d)
        out, weights = fusion(h, z)
        tensors.update(
            {f"ex1_{case}_{key.replace('.', '_')}": value.clone() for key, value in fusion.state_dict().items()}
        )
        tensors.update({f"ex1_{case}_h": h, f"ex1_{case}_z": z, f"ex1_{case}_out": out, f"ex1_{case}_weights": weights})
    return tensors


@torch.no_grad()
def exercise_2() -> dict[str, torch.Tensor]:
    """attention_over_adapters and weight_entropy."""
    torch.manual_seed(21)
    q = torch.randn(3, 4, 16)
    keys = 2.0 * torch.randn(3, 4, 5, 16)
    scores = (keys @ q.unsqueeze(-1)).squeeze(-1) / math.sqrt(16)
    weights = scores.softmax(dim=-1)
    probs = torch.softmax(3.0 * torch.randn(6, 7), dim=-1)
    probs[0] = torch.tensor([1.0, 0, 0, 0, 0, 0, 0])  # a one-hot row has entropy 0
    entropy = -(probs * torch.log(probs.clamp_min(1e-12))).sum(dim=-1)
    return {"ex2_q": q, "ex2_keys": keys, "ex2_weights": weights, "ex2_probs": probs, "ex2_entropy": entropy}


def exercise_3() -> dict:
    """fusion_parameter_count: counted on real AdapterFusion modules (one per layer), not from the formula."""
    counts = {}
    for d, layers, n in ((384, 6, 4), (768, 12, 3), (32, 2, 5)):
        per_layer = sum(p.numel() for p in AdapterFusion(d, n).parameters())
        counts[f"ex3_count_{d}_{layers}"] = per_layer * layers
    return counts


@torch.no_grad()
def exercise_4() -> tuple[dict[str, torch.Tensor], dict]:
    """top_adapter_per_layer: a (layers, n) weight table and the winning adapter of each row."""
    torch.manual_seed(41)
    weights = torch.softmax(2.0 * torch.randn(12, 5), dim=-1)
    names = ["sst2", "mr", "subj", "ag_news", "mpqa"]
    top = [names[i] for i in weights.argmax(dim=-1).tolist()]
    return {"ex4_weights": weights}, {"ex4_names": names, "ex4_top": top}


def build() -> tuple[dict[str, torch.Tensor], dict]:
    t4, v4 = exercise_4()
    return {**exercise_1(), **exercise_2(), **t4}, {**exercise_3(), **v4}
