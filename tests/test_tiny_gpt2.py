"""The shipped tiny-gpt2 (data/models/tiny-gpt2) is what scripts/pretrain_tiny_gpt2.py makes, and its model card
tells the truth:

* the card states the numbers of the run's training_log.json, and the log's summary agrees with its own per-step
  losses;
* the shipped weights load, have the logged size, and give the logged validation loss on the held-out sentences
  (re-derived by the script's own functions);
* rerunning the script with the shipped settings retraces the logged losses of the first steps (slow: it retrains
  the tokenizer on all the text first).
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "data" / "models" / "tiny-gpt2"
#: Steps of the rerun: all within the warm-up, whose learning rates do not depend on the total number of steps.
RERUN_STEPS = 12


def _script():
    spec = importlib.util.spec_from_file_location("pretrain_tiny_gpt2", ROOT / "scripts" / "pretrain_tiny_gpt2.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def log() -> dict:
    return json.loads((MODEL / "training_log.json").read_text())


def test_the_shipped_run_is_the_full_one_with_the_scripts_settings(log):
    script = _script()
    assert not log["smoke"]
    settings = dict(log["settings"])
    assert settings == {**asdict(script.Settings()), "threads": settings["threads"]}
    assert log["results"]["steps"] == settings["steps"] == len(log["train_losses"])


def test_the_log_summary_agrees_with_its_losses(log):
    results, losses = log["results"], log["train_losses"]
    assert math.isclose(results["first_train_loss"], losses[0], abs_tol=1e-6)
    assert math.isclose(results["final_train_loss"], sum(losses[-50:]) / len(losses[-50:]), abs_tol=1e-5)
    assert math.isclose(results["validation_perplexity"], math.exp(results["validation_loss"]), rel_tol=1e-9)
    assert results["final_train_loss"] < losses[0] - 2  # it trained: far below the first step's loss


def test_the_model_card_states_the_logs_numbers(log):
    card = (MODEL / "README.md").read_text()
    r, s = log["results"], log["settings"]
    for stated in (
        f"{r['final_train_loss']:.3f}",
        f"{r['validation_loss']:.3f}",
        f"{r['validation_perplexity']:.1f}",
        f"{r['parameters']:,} parameters",
        f"{r['steps']:,} steps",
        f"{r['texts']:,} sentences",
        f"{s['n_layer']} layers, width {s['n_embd']}",
        "What it can and cannot do",
    ):
        assert stated in card, f"the model card does not state {stated!r}"
    assert "--smoke" not in card


def test_the_shipped_weights_have_the_logged_size_and_validation_loss(log):
    from course_lib.harness.models import load_model

    script = _script()
    model, tokenizer = load_model("tiny-gpt2")
    r, s = log["results"], log["settings"]
    assert sum(p.numel() for p in model.parameters()) == r["parameters"]
    assert (model.config.n_layer, model.config.n_embd, model.config.n_head) == (s["n_layer"], s["n_embd"], s["n_head"])
    assert model.config.n_positions == s["block"] and len(tokenizer) == r["vocab_size"]
    assert (MODEL / "model.safetensors").stat().st_size < 15e6
    # The held-out sentences, as the script chose them; the validation loss of the shipped weights on them.
    texts = script.read_texts(script.DATA, s["max_texts"], s["seed"])
    held_out = texts[: max(1, int(len(texts) * s["held_out"]))]
    assert len(held_out) == r["held_out_texts"] and len(texts) - len(held_out) == r["texts"]
    valid, _ = script.blocks(held_out, tokenizer, s["block"])
    torch.manual_seed(0)
    assert math.isclose(script.mean_loss(model, valid, s["batch"]), r["validation_loss"], rel_tol=1e-4)


@pytest.mark.slow
def test_the_script_retraces_the_logged_losses(log, tmp_path):
    """The first steps of a rerun with the shipped settings (and thread count) give the logged losses."""
    script = _script()
    threads = torch.get_num_threads()
    try:
        assert (
            script.main(
                ["--out", str(tmp_path), "--steps", str(RERUN_STEPS), "--threads", str(log["settings"]["threads"])]
            )
            == 0
        )
    finally:
        torch.set_num_threads(threads)
    rerun = json.loads((tmp_path / "training_log.json").read_text())
    assert (
        json.loads((tmp_path / "tokenizer.json").read_text())["model"]["vocab"]
        == json.loads((MODEL / "tokenizer.json").read_text())["model"]["vocab"]
    ), "the rerun trained another tokenizer"
    got, logged = rerun["train_losses"], log["train_losses"][:RERUN_STEPS]
    assert len(got) == RERUN_STEPS
    worst = max(abs(a - b) for a, b in zip(got, logged, strict=True))
    assert worst < 2e-3, f"rerun losses {got} vs logged {logged} (largest difference {worst:.2e})"
