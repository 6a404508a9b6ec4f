"""scripts/pretrain_tiny_gpt2.py --smoke: trains a tokenizer and a tiny GPT-2 on the shipped text (8 steps here, to keep CI short),
writes what transformers loads back, and a model card whose numbers are the run's; course_lib's adapters fit it."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pretrain_tiny_gpt2.py"


@pytest.mark.slow
def test_smoke_run_writes_a_loadable_model_and_an_honest_card(tmp_path):
    from transformers import AutoTokenizer, GPT2LMHeadModel

    from course_lib.api import add_adapters

    out = tmp_path / "tiny"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--steps", "8", "--out", str(out), "--threads", "1"], check=True
    )

    log = json.loads((out / "training_log.json").read_text())
    results = log["results"]
    assert log["smoke"] and results["steps"] >= 1
    # it learned something: better than a uniform guess over the vocabulary, and than its first step
    assert math.log(results["vocab_size"]) - 0.2 < results["first_train_loss"] < math.log(results["vocab_size"]) + 0.5
    assert results["validation_perplexity"] < results["vocab_size"]
    card = (out / "README.md").read_text()
    for number in (f"{results['validation_perplexity']:.1f}", f"{results['final_train_loss']:.3f}", "What it can"):
        assert number in card

    tokenizer = AutoTokenizer.from_pretrained(out)
    model = GPT2LMHeadModel.from_pretrained(out).eval()
    assert sum(p.numel() for p in model.parameters()) == results["parameters"]
    ids = tokenizer("a great movie", return_tensors="pt")["input_ids"]
    assert tokenizer.decode(ids[0]) == "a great movie"  # byte-level BPE: lossless
    with torch.no_grad():
        before = model(ids).logits
        add_adapters(model, "houlsby", bottleneck=4)
        assert torch.equal(model(ids).logits, before)
