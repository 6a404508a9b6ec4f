"""Reference values of notebook 03 (parameter counts, trainable share, bytes on disk).

Every count is measured on modules that course_lib builds (adapters injected into tiny random
BERT models, LoRA wrappers, adapter checkpoints written by ``save_adapters``) and cross-checked
against the closed forms of ``course_lib.params``, so a drift in either one fails loudly here.
No tensors are stored: all values are numbers (``data/reference/03_parameter_counts.json``).
Keys are prefixed by the exercise they serve (``ex1_`` ... ``ex5_``).
"""

from __future__ import annotations

import tempfile

import torch
from torch import nn
from transformers import BertConfig, BertForSequenceClassification, BertModel

from course_lib.adapters import BottleneckAdapter
from course_lib.checkpoint import WEIGHTS_NAME
from course_lib.inject import add_adapters, count_parameters, freeze_base, save_adapters
from course_lib.lora import LoRALinear, add_lora
from course_lib.params import adapter_parameter_count, lora_parameter_count, placement_parameter_count


def tiny_bert(d: int, n_layers: int, head: bool = False, seed: int = 0) -> nn.Module:
    """A small random BERT (intermediate size 2d, 4 heads) built on the CPU in milliseconds."""
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=50,
        hidden_size=d,
        num_hidden_layers=n_layers,
        num_attention_heads=4,
        intermediate_size=2 * d,
        max_position_embeddings=32,
        num_labels=3,
    )
    return (BertForSequenceClassification if head else BertModel)(config)


def numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def agree(measured: int, closed_form: int, what: str) -> int:
    if measured != closed_form:
        raise AssertionError(f"{what}: course_lib builds {measured} parameters, its closed form says {closed_form}")
    return measured


def exercise_1() -> list:
    """[d, r, bias, count] for single adapters of several shapes."""
    cases = []
    for d, r, bias in [
        (4, 1, True),
        (10, 3, False),
        (100, 7, True),
        (1024, 16, True),
        (512, 48, False),
        (2048, 1, True),
    ]:
        measured = numel(BottleneckAdapter(d, r, bias=bias))
        cases.append([d, r, bias, agree(measured, adapter_parameter_count(d, r, bias), f"adapter d={d} r={r}")])
    return cases


def exercise_2() -> list:
    """[d, n_layers, r, placement, bias, count]: the adapters add_adapters puts into tiny BERTs."""
    cases = []
    for d, n_layers, r, placement, bias in [
        (16, 1, 2, "houlsby", True),
        (16, 3, 5, "pfeiffer", True),
        (24, 4, 3, "houlsby", False),
        (48, 2, 12, "pfeiffer", False),
        (40, 5, 1, "houlsby", True),
    ]:
        model = add_adapters(tiny_bert(d, n_layers), placement=placement, bottleneck=r, bias=bias)
        measured = count_parameters(model)["groups"]["adapters"]
        closed = placement_parameter_count(d, n_layers, r, placement, bias)
        cases.append([d, n_layers, r, placement, bias, agree(measured, closed, f"{placement} d={d} L={n_layers}")])
    return cases


def exercise_3() -> tuple[list, list]:
    """[d_in, d_out, r, count] for single LoRA pairs; [d, n_layers, r, count] for LoRA on query+value."""
    pairs = []
    for d_in, d_out, r in [(5, 7, 1), (64, 256, 4), (256, 64, 4), (1000, 10, 3), (4096, 4096, 16)]:
        lora = LoRALinear(nn.Linear(d_in, d_out), r=r, alpha=2 * r)
        measured = lora.lora_A.numel() + lora.lora_B.numel()
        pairs.append([d_in, d_out, r, agree(measured, lora_parameter_count(d_in, d_out, r), f"LoRA {d_in}->{d_out}")])
    qv = []
    for d, n_layers, r in [(16, 1, 1), (24, 3, 2), (32, 4, 8), (64, 2, 5)]:
        model = add_lora(tiny_bert(d, n_layers), target_modules=("query", "value"), r=r)
        measured = count_parameters(model)["groups"]["lora"]
        qv.append([d, n_layers, r, agree(measured, 2 * n_layers * lora_parameter_count(d, d, r), f"LoRA q,v d={d}")])
    return pairs, qv


def exercise_4() -> list:
    """[n_trainable, n_base, percent] read from count_parameters after freeze_base."""
    cases = []
    for build, head in [
        (lambda m: add_adapters(m, placement="houlsby", bottleneck=4), False),
        (lambda m: add_adapters(m, placement="pfeiffer", bottleneck=8), True),
        (lambda m: add_lora(m, r=2), False),
        (lambda m: add_lora(m, target_modules=("query", "key", "value"), r=4), True),
    ]:
        model = freeze_base(build(tiny_bert(32, 2, head=head)), train_head=True)
        counts = count_parameters(model)
        frozen = counts["total"] - counts["trainable"]
        cases.append([counts["trainable"], frozen, counts["trainable_percent"]])
    cases.append([2_379_264, 109_482_240, 100.0 * 2_379_264 / (2_379_264 + 109_482_240)])
    cases.append([0, 1000, 0.0])
    return cases


def exercise_5() -> tuple[list, list]:
    """[n_params, dtype name, bytes] and [n_params, file bytes, header bytes] of saved adapters."""
    # Only the floating types the notebook names: a right answer may read the size from torch.finfo or a table.
    dtypes = []
    for n, name in [
        (1, "float32"),
        (7, "float16"),
        (1000, "bfloat16"),
        (123, "float64"),
        (0, "float32"),
        (99, "float16"),
    ]:
        dtypes.append([n, name, torch.empty(n, dtype=getattr(torch, name)).untyped_storage().nbytes()])
    files = []
    for d, n_layers, r, placement, bias in [
        (16, 2, 4, "houlsby", True),
        (32, 3, 8, "pfeiffer", False),
        (24, 1, 2, "pfeiffer", True),
    ]:
        model = add_adapters(tiny_bert(d, n_layers, head=True), placement=placement, bottleneck=r, bias=bias)
        with tempfile.TemporaryDirectory() as tmp:
            path = save_adapters(model, tmp, include_head=False) / WEIGHTS_NAME
            raw = path.read_bytes()
        header = 8 + int.from_bytes(raw[:8], "little")
        files.append([count_parameters(model)["groups"]["adapters"], len(raw), header])
    return dtypes, files


def build() -> tuple[dict[str, torch.Tensor], dict]:
    lora_pairs, lora_qv = exercise_3()
    dtypes, files = exercise_5()
    values = {
        "ex1_cases": exercise_1(),
        "ex2_cases": exercise_2(),
        "ex3_lora_cases": lora_pairs,
        "ex3_qv_cases": lora_qv,
        "ex4_cases": exercise_4(),
        "ex5_dtype_cases": dtypes,
        "ex5_file_cases": files,
    }
    return {}, values


if __name__ == "__main__":
    print(build()[1])
