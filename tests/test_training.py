"""The training loop: unit tests on tiny random models, and one short real run (MiniLM + adapters on SST-2)."""

from __future__ import annotations

import statistics

import pytest
import torch

from course_lib.harness import TrainHistory, evaluate, load_model, load_task, make_loader, predict, train
from course_lib.harness.training import FAST_EVAL_BATCHES, FAST_MAX_STEPS
from course_lib.inject import add_adapters, freeze_base
from course_lib.lora import add_lora


@pytest.fixture(autouse=True)
def full_mode(monkeypatch):
    """Fast mode would cap the step counts these tests check; make sure it is off."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("COURSE_FAST", raising=False)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    return monkeypatch


def synthetic_batches(n_batches: int = 4, batch_size: int = 8, seed: int = 0) -> list[dict]:
    """A learnable toy task for the tiny model (vocab 120, 3 labels): the label is set by the first token.

    A list of batch dicts is all ``train`` needs from a loader (``len`` and iteration).
    """
    g = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(n_batches):
        labels = torch.randint(0, 3, (batch_size,), generator=g)
        input_ids = torch.randint(10, 120, (batch_size, 6), generator=g)
        input_ids[:, 0] = labels + 1  # tokens 1, 2, 3 give the answer away
        batches.append({"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids), "labels": labels})
    return batches


def head_only(model):
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("classifier"))
    return model


def test_only_trainable_parameters_change(tiny_classifier):
    head_only(tiny_classifier)
    before = {n: p.detach().clone() for n, p in tiny_classifier.named_parameters()}
    train(tiny_classifier, synthetic_batches(), epochs=1, lr=1e-2, progress=False)
    for name, p in tiny_classifier.named_parameters():
        changed = not torch.equal(p, before[name])
        assert changed == name.startswith("classifier"), name


def test_lora_training_touches_only_lora_and_head(tiny_classifier):
    add_lora(tiny_classifier, r=2, alpha=4)
    freeze_base(tiny_classifier)
    before = {n: p.detach().clone() for n, p in tiny_classifier.named_parameters()}
    train(tiny_classifier, synthetic_batches(), max_steps=3, lr=1e-2, progress=False)
    for name, p in tiny_classifier.named_parameters():
        should_change = "lora_B" in name or name.startswith("classifier")
        if should_change:
            assert not torch.equal(p, before[name]), name
        elif "lora_A" not in name:  # A gets no gradient at the first step (B = 0) but may move later
            assert torch.equal(p, before[name]), name


def test_head_lr_gives_the_head_its_own_learning_rate(tiny_classifier):
    add_adapters(tiny_classifier, bottleneck=4)
    freeze_base(tiny_classifier)
    before = {n: p.detach().clone() for n, p in tiny_classifier.named_parameters()}
    # one AdamW step without warm-up, decay or clipping moves every weight that has a gradient by about its rate
    train(
        tiny_classifier,
        synthetic_batches(),
        max_steps=1,
        lr=1e-4,
        head_lr=1e-2,
        warmup_ratio=0.0,
        weight_decay=0.0,
        max_grad_norm=None,
        progress=False,
    )
    moves = {n: (p.detach() - before[n]).abs().max().item() for n, p in tiny_classifier.named_parameters()}
    head = [m for n, m in moves.items() if n.startswith("classifier")]
    adapter_up = [m for n, m in moves.items() if ".adapters." in n and "up" in n and n.endswith("weight")]
    assert head and adapter_up
    assert all(9e-3 < m < 1.1e-2 for m in head), head
    assert all(9e-5 < m < 1.1e-4 for m in adapter_up), adapter_up


def test_head_lr_needs_a_trainable_head(tiny_classifier):
    add_adapters(tiny_classifier, bottleneck=4)
    freeze_base(tiny_classifier, train_head=False)
    with pytest.raises(ValueError, match="no trainable head"):
        train(tiny_classifier, synthetic_batches(), max_steps=1, head_lr=1e-2, progress=False)
    with pytest.raises(ValueError, match="head_lr"):
        train(tiny_classifier, synthetic_batches(), max_steps=1, head_lr=-1.0, progress=False)


def test_no_trainable_parameters_is_an_error(tiny_classifier):
    tiny_classifier.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        train(tiny_classifier, synthetic_batches(), progress=False)


def test_history_fields(tiny_classifier):
    head_only(tiny_classifier)
    eval_batches = synthetic_batches(2, seed=1)
    history = train(tiny_classifier, synthetic_batches(4), eval_batches, epochs=2, eval_every=3, progress=False)
    assert isinstance(history, TrainHistory)
    assert history.steps == 8
    assert len(history.step_loss) == len(history.step_accuracy) == len(history.step_lr) == 8
    assert all(0.0 <= a <= 1.0 for a in history.step_accuracy)
    assert len(history.epoch_loss) == len(history.epoch_accuracy) == 2
    assert [e["step"] for e in history.eval] == [3, 6, 8]  # every 3 steps, plus once at the end
    assert set(history.eval[0]) == {"step", "loss", "accuracy", "n"} and history.eval[0]["n"] == 16
    assert history.final_eval is history.eval[-1]
    assert history.wall_time_s > 0 and history.samples_per_second > 0
    head = sum(p.numel() for p in tiny_classifier.classifier.parameters())
    assert history.trainable_parameters == head
    assert not tiny_classifier.training  # left in eval mode


def test_warmup_then_linear_decay(tiny_classifier):
    head_only(tiny_classifier)
    history = train(tiny_classifier, synthetic_batches(), epochs=5, lr=1e-2, warmup_ratio=0.2, progress=False)
    lrs = history.step_lr
    assert lrs[0] == 0.0 and max(lrs) == pytest.approx(1e-2)
    peak = lrs.index(max(lrs))
    assert peak == 4 and lrs[:peak] == sorted(lrs[:peak]) and lrs[peak:] == sorted(lrs[peak:], reverse=True)
    no_warmup = train(head_only(tiny_classifier), synthetic_batches(), lr=1e-2, warmup_ratio=0.0, progress=False)
    assert no_warmup.step_lr[0] == pytest.approx(1e-2)


def test_max_steps_overrides_epochs_and_restarts_the_loader(tiny_classifier):
    head_only(tiny_classifier)
    history = train(tiny_classifier, synthetic_batches(3), epochs=1, max_steps=7, progress=False)
    assert history.steps == 7 and len(history.epoch_loss) == 3  # 3 + 3 + 1 steps


def test_fast_mode_caps_steps_and_evaluation(tiny_classifier, full_mode):
    full_mode.setenv("COURSE_FAST", "1")
    head_only(tiny_classifier)
    history = train(tiny_classifier, synthetic_batches(4), epochs=10, progress=False)
    assert history.steps == FAST_MAX_STEPS
    assert train(head_only(tiny_classifier), synthetic_batches(4), max_steps=3, progress=False).steps == 3
    result = evaluate(tiny_classifier, synthetic_batches(FAST_EVAL_BATCHES + 3))
    assert result["n"] == FAST_EVAL_BATCHES * 8
    assert len(predict(tiny_classifier, synthetic_batches(FAST_EVAL_BATCHES + 3))) == (FAST_EVAL_BATCHES + 3) * 8


def test_training_is_reproducible(tiny_classifier):
    import copy

    head_only(tiny_classifier)
    twin = copy.deepcopy(tiny_classifier)
    first = train(tiny_classifier, synthetic_batches(), epochs=2, progress=False, seed=3)
    second = train(twin, synthetic_batches(), epochs=2, progress=False, seed=3)
    assert first.step_loss == second.step_loss  # dropout masks come from the seeded generator


def test_tiny_model_learns_the_toy_task(tiny_classifier):
    batches = synthetic_batches(8)
    start = evaluate(tiny_classifier, batches)
    history = train(tiny_classifier, batches, epochs=6, lr=3e-3, progress=False)
    end = evaluate(tiny_classifier, batches)
    assert statistics.mean(history.step_loss[-8:]) < statistics.mean(history.step_loss[:8]) - 0.3
    assert end["loss"] < start["loss"] and end["accuracy"] > 0.8


def test_evaluate_and_predict(tiny_classifier):
    batches = synthetic_batches(3)
    tiny_classifier.train()
    result = evaluate(tiny_classifier, batches)
    assert set(result) == {"loss", "accuracy", "n"} and result["n"] == 24
    assert tiny_classifier.training  # the previous mode is restored
    predictions = predict(tiny_classifier, batches)
    assert predictions.shape == (24,) and predictions.dtype == torch.long
    expected = torch.cat([b["labels"] for b in batches])
    assert result["accuracy"] == pytest.approx((predictions == expected).float().mean().item())
    unlabeled = [{k: v for k, v in b.items() if k != "labels"} for b in batches]
    assert predict(tiny_classifier, unlabeled).shape == (24,)
    with pytest.raises(ValueError, match="labels"):
        evaluate(tiny_classifier, unlabeled)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(epochs=0), "epochs"),
        (dict(max_steps=0), "max_steps"),
        (dict(lr=-1.0), "lr"),
        (dict(warmup_ratio=1.0), "warmup_ratio"),
        (dict(eval_every=0), "eval_every"),
        (dict(device="tpu9"), "tpu9"),
    ],
)
def test_train_argument_errors(tiny_classifier, kwargs, match):
    head_only(tiny_classifier)
    with pytest.raises(ValueError, match=match):
        train(tiny_classifier, synthetic_batches(), progress=False, **kwargs)


def test_train_rejects_empty_loader_and_unlabeled_batches(tiny_classifier):
    head_only(tiny_classifier)
    with pytest.raises(ValueError, match="empty"):
        train(tiny_classifier, [], progress=False)
    unlabeled = [{k: v for k, v in b.items() if k != "labels"} for b in synthetic_batches()]
    with pytest.raises(ValueError, match="labels"):
        train(tiny_classifier, unlabeled, progress=False)


def test_progress_bar_runs(tiny_classifier, capsys):
    head_only(tiny_classifier)
    train(tiny_classifier, synthetic_batches(2), progress=True)
    assert "train" in capsys.readouterr().err


def plain_step(model, batch, optimizer, max_grad_norm):
    """The harness's own step written out, as notebook 04's train_step is (full precision)."""
    import torch.nn.functional as F

    model.train()
    optimizer.zero_grad(set_to_none=True)
    logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits
    loss = F.cross_entropy(logits, batch["labels"])
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], max_grad_norm)
    optimizer.step()
    return loss.item()


def test_step_fn_replaces_the_step_and_keeps_the_loop(tiny_classifier):
    import copy

    add_adapters(tiny_classifier, "houlsby", bottleneck=4, init="random")
    freeze_base(tiny_classifier)
    twin = copy.deepcopy(tiny_classifier)
    batches = synthetic_batches(3)
    theirs = train(tiny_classifier, batches, max_steps=5, lr=1e-2, max_grad_norm=0.05, progress=False, seed=1)
    seen = []

    def step(model, batch, optimizer, max_grad_norm):
        seen.append((sorted(batch), max_grad_norm, [g["lr"] for g in optimizer.param_groups]))
        return plain_step(model, batch, optimizer, max_grad_norm)

    mine = train(twin, batches, max_steps=5, lr=1e-2, max_grad_norm=0.05, progress=False, seed=1, step_fn=step)
    assert len(seen) == 5 and all(keys == sorted(batches[0]) and clip == 0.05 for keys, clip, _ in seen)
    assert [lrs[0] for _, _, lrs in seen] == pytest.approx(mine.step_lr)  # the schedule still drives the optimizer
    assert mine.step_lr == pytest.approx(theirs.step_lr)
    assert mine.step_loss == pytest.approx(theirs.step_loss, abs=1e-6)
    for (name, p), q in zip(tiny_classifier.named_parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(q, p, atol=1e-6, rtol=1e-5, msg=name)
    assert mine.steps == 5 and mine.step_accuracy == [] and mine.epoch_accuracy == []
    assert len(mine.epoch_loss) == len(theirs.epoch_loss) and not twin.training


def test_step_fn_gets_inf_without_clipping_and_may_return_a_tensor(tiny_classifier):
    head_only(tiny_classifier)
    clips = []

    def step(model, batch, optimizer, max_grad_norm):
        clips.append(max_grad_norm)
        return torch.tensor(plain_step(model, batch, optimizer, max_grad_norm))

    history = train(
        tiny_classifier, synthetic_batches(2), max_steps=2, max_grad_norm=None, progress=False, step_fn=step
    )
    assert clips == [float("inf")] * 2
    assert all(isinstance(loss, float) for loss in history.step_loss)
    with pytest.raises(ValueError, match="step_fn"):
        train(tiny_classifier, synthetic_batches(2), progress=False, step_fn="train_step")


# ----------------------------------------------------------------------------- a real, short run


def test_adapters_learn_sst2(data_dir):
    """Pfeiffer adapters (bottleneck 16) + head on 512 SST-2 sentences, 32 steps of batch 32.

    About 30 s on 2 CPU cores. Measured: mean loss of the first 8 steps 0.685, last 8 steps 0.48;
    accuracy on 200 validation sentences 0.745 (chance 0.5).
    """
    model, tokenizer = load_model("minilm", num_labels=2)
    add_adapters(model, placement="pfeiffer", bottleneck=16)
    freeze_base(model)
    frozen = model.bert.encoder.layer[0].attention.self.query.weight.detach().clone()

    train_loader = make_loader(
        load_task("sst2", "train", limit=512, data_dir=data_dir), tokenizer, batch_size=32, shuffle=True, max_length=64
    )
    val_loader = make_loader(
        load_task("sst2", "validation", limit=200, data_dir=data_dir), tokenizer, batch_size=100, max_length=64
    )
    history = train(model, train_loader, val_loader, max_steps=32, lr=5e-3, progress=False)

    first, last = statistics.mean(history.step_loss[:8]), statistics.mean(history.step_loss[-8:])
    assert last < first - 0.1, f"loss did not drop: first 8 steps {first:.3f}, last 8 steps {last:.3f}"
    assert history.final_eval["n"] == 200
    assert history.final_eval["accuracy"] > 0.6, history.final_eval
    assert torch.equal(model.bert.encoder.layer[0].attention.self.query.weight, frozen)


def test_progress_bar_is_labelled_and_can_be_switched_off(tiny_classifier, capsys):
    head_only(tiny_classifier)
    train(tiny_classifier, synthetic_batches(), max_steps=2, lr=1e-2, desc="sst2 / adapters")
    shown = capsys.readouterr().err
    assert "sst2 / adapters" in shown and "2/2" in shown, f"expected a labelled tqdm bar on stderr, got {shown!r}"
    train(tiny_classifier, synthetic_batches(), max_steps=2, lr=1e-2, desc="hidden", progress=False)
    assert "hidden" not in capsys.readouterr().err
