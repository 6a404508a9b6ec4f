"""Reference outputs of notebook 02 (why adapters start silent: near-identity initialisation).

* ex2: ``relative_change`` on fixed tensors, and ``drift_report`` (relative change of the last
  hidden state, fraction of flipped argmax predictions) on a tiny seeded BERT with Houlsby-placed
  adapters whose weights are set to N(0, scale) at a small and a large scale.
* ex3: step-0 gradient norms of a single adapter on a fixed input and a fixed MSE loss, for a
  near-identity adapter (ReLU) and a Houlsby-initialised one (GELU). The adapters' weights are
  stored, so the graded tests load exactly these weights instead of re-drawing them.

The tiny BERT's weights are filled from a seeded generator in ``named_parameters`` order (not by
transformers' own initialisation), so they do not depend on how a transformers version orders its
init calls. The notebook's test cells build it with the same code.
Keys are prefixed by the exercise they serve (``ex2_``, ``ex3_``).
"""

from __future__ import annotations

import torch
from transformers import BertConfig, BertForSequenceClassification

from course_lib.adapters import BottleneckAdapter
from course_lib.inject import add_adapters, set_active_adapter

# ----------------------------------------------------------------------------- shared with the notebook's tests


def tiny_bert(seed: int, num_labels: int = 3) -> BertForSequenceClassification:
    """A 2-layer, 32-wide BERT classifier with weights N(0, 0.02) (LayerNorm gains 1 + N(0, 0.02)) from ``seed``."""
    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=32,
        num_labels=num_labels,
    )
    model = BertForSequenceClassification(config)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            offset = 1.0 if name.endswith("LayerNorm.weight") else 0.0
            p.copy_(torch.randn(p.shape, generator=g) * 0.02 + offset)
    return model


def fill_adapters(model: torch.nn.Module, scale: float, seed: int) -> None:
    """Set every adapter parameter (weights and biases) of ``model`` to N(0, scale²) from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".adapters." in name:
                p.copy_(torch.randn(p.shape, generator=g) * scale)


# ----------------------------------------------------------------------------- the reference solutions


def relative_change(before: torch.Tensor, after: torch.Tensor) -> float:
    return ((after - before).norm() / before.norm()).item()


@torch.no_grad()
def drift_report(model, batch: dict, adapter_name: str) -> dict:
    model.eval()
    set_active_adapter(model, None)
    base = model(**batch, output_hidden_states=True)
    set_active_adapter(model, adapter_name)
    adapted = model(**batch, output_hidden_states=True)
    flips = (base.logits.argmax(dim=-1) != adapted.logits.argmax(dim=-1)).float().mean().item()
    return {
        "relative_change": relative_change(base.hidden_states[-1], adapted.hidden_states[-1]),
        "flip_rate": flips,
    }


def step0_gradient_norms(adapter: torch.nn.Module, h: torch.Tensor, target: torch.Tensor) -> dict:
    named = [(n, p) for n, p in adapter.named_parameters() if p.requires_grad]
    loss = ((adapter(h) - target) ** 2).mean()
    grads = torch.autograd.grad(loss, [p for _, p in named])
    return {n: g.norm().item() for (n, _), g in zip(named, grads, strict=False)}


# ----------------------------------------------------------------------------- the exercises


def drift_batch(seed: int) -> dict[str, torch.Tensor]:
    """16 random token sequences of length 12; the last 8 are padded after 9 tokens."""
    g = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(1, 100, (16, 12), generator=g)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[8:, 9:] = 0
    input_ids[attention_mask == 0] = 0  # [PAD]
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def exercise_2() -> tuple[dict[str, torch.Tensor], dict]:
    torch.manual_seed(20)
    before = torch.randn(3, 5, 16)
    after = before + 0.3 * torch.randn(3, 5, 16)
    before_2d = torch.randn(7, 9)
    after_2d = 2.0 * before_2d - 1.0
    batch = drift_batch(seed=21)
    tensors = {
        "ex2_before": before,
        "ex2_after": after,
        "ex2_before_2d": before_2d,
        "ex2_after_2d": after_2d,
        "ex2_input_ids": batch["input_ids"],
        "ex2_attention_mask": batch["attention_mask"],
    }
    values = {
        "ex2_relative_change": relative_change(before, after),
        "ex2_relative_change_2d": relative_change(before_2d, after_2d),
    }
    for label, scale in (("small", 0.01), ("large", 0.3)):
        model = tiny_bert(seed=5)
        add_adapters(model, "houlsby", bottleneck=8, name="drift")
        fill_adapters(model, scale, seed=23)
        values[f"ex2_drift_{label}"] = drift_report(model, batch, "drift")
    return tensors, values


def exercise_3() -> tuple[dict[str, torch.Tensor], dict]:
    torch.manual_seed(30)
    h = torch.randn(6, 16)
    target = torch.randn(6, 16)
    near = BottleneckAdapter(16, 4, activation="relu", init="near_identity")
    houlsby = BottleneckAdapter(16, 4, activation="gelu", init="houlsby")
    tensors = {"ex3_h": h, "ex3_target": target}
    for label, adapter in (("near", near), ("houlsby", houlsby)):
        tensors.update({f"ex3_{label}.{k}": v.clone() for k, v in adapter.state_dict().items()})
    values = {
        "ex3_norms_near": step0_gradient_norms(near, h, target),
        "ex3_norms_houlsby": step0_gradient_norms(houlsby, h, target),
    }
    return tensors, values


def build() -> tuple[dict[str, torch.Tensor], dict]:
    tensors, values = {}, {}
    for make in (exercise_2, exercise_3):
        t, v = make()
        tensors.update(t)
        values.update(v)
    return tensors, values
