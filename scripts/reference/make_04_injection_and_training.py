"""Reference outputs of notebook 04 (injecting adapters into BERT, training, saving, serving).

* ``ex1_``: a ``BertSelfOutput`` and a ``BertOutput`` (hidden 24, FFN 40) with fixed weights, a random
  GELU adapter, inputs, and the outputs of course_lib's ``AdapterSubLayer`` (adapter after
  dense + dropout, before the residual and the LayerNorm).
* ``ex2_``: how many parameters stay trainable after adding Houlsby adapters and freezing the rest,
  from ``course_lib.params`` on the notebook's tiny configurations.

The sub-layer weights are stored (not rebuilt from a seed) so the graded tests do not depend on how a
given transformers version initialises a BERT.
"""

from __future__ import annotations

import torch
from transformers import BertConfig, BertForSequenceClassification, BertModel
from transformers.models.bert.modeling_bert import BertOutput, BertSelfOutput

from course_lib.adapters import BottleneckAdapter
from course_lib.inject import AdapterSubLayer, add_adapters
from course_lib.params import count_parameters, freeze_base, placement_parameter_count

HIDDEN, FFN, BOTTLENECK = 24, 40, 6


def sublayer_config() -> BertConfig:
    return BertConfig(hidden_size=HIDDEN, intermediate_size=FFN, num_attention_heads=4, hidden_dropout_prob=0.1)


def randomise(module: torch.nn.Module, seed: int) -> None:
    """Overwrite every parameter with seeded random values (LayerNorm gains around 1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            values = torch.randn(p.shape, generator=g)
            p.copy_(1.0 + 0.1 * values if name.endswith("LayerNorm.weight") else 0.2 * values)


@torch.no_grad()
def exercise_1() -> dict[str, torch.Tensor]:
    tensors = {}
    for key, cls, d_in, seed in (("self_output", BertSelfOutput, HIDDEN, 1), ("output", BertOutput, FFN, 2)):
        sub = cls(sublayer_config()).eval()
        randomise(sub, seed)
        torch.manual_seed(seed + 10)
        adapter = BottleneckAdapter(HIDDEN, BOTTLENECK, activation="gelu", init="random")
        g = torch.Generator().manual_seed(seed + 20)
        hidden_states = torch.randn(2, 7, d_in, generator=g)
        input_tensor = torch.randn(2, 7, HIDDEN, generator=g)
        wrapper = AdapterSubLayer(sub)
        wrapper.adapters["ref"] = adapter
        wrapper.active = "ref"
        wrapper.eval()
        for name, value in sub.state_dict().items():
            tensors[f"ex1_{key}_sub_{name.replace('.', '_')}"] = value.clone()
        for name, value in adapter.state_dict().items():
            tensors[f"ex1_{key}_adapter_{name.replace('.', '_')}"] = value.clone()
        tensors[f"ex1_{key}_hidden_states"] = hidden_states
        tensors[f"ex1_{key}_input_tensor"] = input_tensor
        tensors[f"ex1_{key}_out"] = wrapper(hidden_states, input_tensor)
    return tensors


def trainable_after_freezing(model: torch.nn.Module, bottleneck: int) -> int:
    add_adapters(model, "houlsby", bottleneck=bottleneck)
    freeze_base(model, train_head=True)
    return count_parameters(model)["trainable"]


def exercise_2() -> dict:
    """Trainable parameters of the notebook's tiny models after Houlsby adapters + freezing."""
    tiny = dict(
        vocab_size=120,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    classifier = BertForSequenceClassification(BertConfig(**tiny, num_labels=3))
    wide = dict(tiny, hidden_size=48, num_hidden_layers=3, intermediate_size=96)
    encoder = BertModel(BertConfig(**wide))
    values = {
        "ex2_trainable_tiny_classifier_r8": trainable_after_freezing(classifier, 8),
        "ex2_trainable_wide_encoder_r5": trainable_after_freezing(encoder, 5),
    }
    # The same numbers in closed form (adapters + head), as a cross-check of course_lib.
    assert values["ex2_trainable_tiny_classifier_r8"] == placement_parameter_count(32, 2, 8, "houlsby") + 32 * 3 + 3
    assert values["ex2_trainable_wide_encoder_r5"] == placement_parameter_count(48, 3, 5, "houlsby")
    return values


def build() -> tuple[dict[str, torch.Tensor], dict]:
    return exercise_1(), exercise_2()
