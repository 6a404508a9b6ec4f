"""A small, readable training loop for sequence classifiers (the one every notebook uses).

One optimisation step::

    logits = model(**inputs).logits             # forward (under autocast on CUDA)
    loss = cross_entropy(logits, labels)
    loss.backward()                             # (scaled first when training in float16)
    clip_grad_norm_(trainable, max_grad_norm)   # tame rare huge gradients
    optimizer.step(); scheduler.step()          # AdamW, linear warmup then linear decay

Only parameters with ``requires_grad=True`` are given to the optimizer, so freezing the base model
and adding adapters is all it takes to do parameter-efficient fine-tuning. ``train(..., step_fn=...)``
runs a step function of your own instead of the one above (notebook 04's ``train_step``); the loop
around it (optimizer, learning-rate schedule, evaluation, history) stays the same. Weight decay is applied
to matrices only, not to biases and LayerNorm gains (as in nanoGPT and BERT).

In fast mode (see ``course_lib.harness.config``) training stops after ``FAST_MAX_STEPS`` steps and
``evaluate`` looks at the first ``FAST_EVAL_BATCHES`` batches only (``predict`` always sees all).
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .config import budget
from .device import autocast, get_device, make_grad_scaler, seed_everything

FAST_MAX_STEPS = 8
FAST_EVAL_BATCHES = 4


@dataclass
class TrainHistory:
    """Everything ``train`` measured. Lists have one entry per optimisation step unless noted."""

    step_loss: list[float] = field(default_factory=list)
    step_accuracy: list[float] = field(default_factory=list)
    step_lr: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)  # one entry per (possibly partial) epoch
    epoch_accuracy: list[float] = field(default_factory=list)
    eval: list[dict] = field(default_factory=list)  # {"step", "loss", "accuracy", "n"} per evaluation
    wall_time_s: float = 0.0
    samples_per_second: float = 0.0
    steps: int = 0
    trainable_parameters: int = 0

    @property
    def final_eval(self) -> dict | None:
        """The last evaluation result, or ``None`` if there was no ``eval_loader``."""
        return self.eval[-1] if self.eval else None


def _model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _split_batch(batch: Mapping, device: torch.device) -> tuple[dict, torch.Tensor | None]:
    """Move a batch to ``device`` and take the labels out (we compute the loss ourselves)."""
    if not isinstance(batch, Mapping):
        raise ValueError(f"batches must be dicts of tensors (use make_loader), got {type(batch).__name__}")
    inputs = {k: v.to(device) for k, v in batch.items() if k not in ("labels", "label")}
    labels = batch.get("labels", batch.get("label"))
    return inputs, (labels.to(device) if labels is not None else None)


def _logits(model: nn.Module, inputs: dict) -> torch.Tensor:
    out = model(**inputs)
    return out.logits if hasattr(out, "logits") else out


def _make_optimizer(
    model: nn.Module, params: list[nn.Parameter], lr: float, weight_decay: float, head_lr: float | None = None
) -> torch.optim.AdamW:
    """AdamW with no weight decay on biases and LayerNorm weights; the head at ``head_lr`` when given."""
    from course_lib.params import parameter_groups

    head = set()
    if head_lr is not None:
        groups_by_name = parameter_groups(model)
        head = {id(p) for name, p in model.named_parameters() if groups_by_name.get(name) == "head"}
        if not head & {id(p) for p in params}:
            raise ValueError("head_lr was given but the model has no trainable head parameters")
    groups = [
        {"params": [p for p in params if p.ndim >= 2 and id(p) not in head], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim < 2 and id(p) not in head], "weight_decay": 0.0},
        {"params": [p for p in params if p.ndim >= 2 and id(p) in head], "weight_decay": weight_decay, "lr": head_lr},
        {"params": [p for p in params if p.ndim < 2 and id(p) in head], "weight_decay": 0.0, "lr": head_lr},
    ]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr)


def _check_positive(name: str, value, allow_none: bool = False, integer: bool = True) -> None:
    if allow_none and value is None:
        return
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        raise ValueError(f"{name} must be a positive {'integer' if integer else 'number'}, got {value!r}")


def train(
    model: nn.Module,
    train_loader,
    eval_loader=None,
    *,
    epochs: int = 1,
    max_steps: int | None = None,
    lr: float = 1e-3,
    head_lr: float | None = None,
    weight_decay: float = 0.01,
    warmup_ratio: float = 0.1,
    max_grad_norm: float | None = 1.0,
    device: str | torch.device | None = None,
    amp: bool = True,
    progress: bool = True,
    desc: str = "train",
    eval_every: int | None = None,
    seed: int = 0,
    step_fn: Callable[[nn.Module, dict, torch.optim.Optimizer, float], float] | None = None,
) -> TrainHistory:
    """Train the trainable parameters of ``model`` and return a ``TrainHistory``.

    Runs ``epochs`` passes over ``train_loader``, or exactly ``max_steps`` steps if given (the
    loader is restarted as often as needed). With an ``eval_loader`` the model is evaluated every
    ``eval_every`` steps and once at the end. ``device=None`` picks ``get_device()`` and moves the
    model there. ``amp`` enables mixed precision on CUDA (ignored elsewhere). ``progress`` shows a tqdm
    bar labelled ``desc`` (name the run when a loop trains several models). The model is left in
    eval mode.

    ``head_lr``, if given, is the learning rate of the task head (the parameters ``count_parameters`` puts in
    its ``head`` group) while everything else trains at ``lr``: a fresh random head usually wants a larger step
    than adapters or LoRA. The schedule scales both alike.

    ``step_fn(model, batch, optimizer, max_grad_norm)``, if given, does each optimisation step itself:
    ``batch`` is the batch on ``device`` (``labels`` included), and it must zero the gradients, run the
    forward pass and the loss, backpropagate, clip the gradients to ``max_grad_norm`` (``inf`` when
    ``max_grad_norm`` is ``None``), call ``optimizer.step()`` and return the loss (a float, or a one-element
    tensor). The learning-rate schedule still steps after it. It runs in full precision (``amp`` does not
    apply), and since only the loss comes back, ``step_accuracy`` and ``epoch_accuracy`` stay empty.
    """
    if step_fn is not None and not callable(step_fn):
        raise ValueError(
            f"step_fn must be a function (model, batch, optimizer, max_grad_norm) -> loss, got {step_fn!r}"
        )
    _check_positive("epochs", epochs)
    _check_positive("max_steps", max_steps, allow_none=True)
    _check_positive("eval_every", eval_every, allow_none=True)
    _check_positive("lr", lr, integer=False)
    _check_positive("head_lr", head_lr, allow_none=True, integer=False)
    if not 0.0 <= warmup_ratio < 1.0:
        raise ValueError(f"warmup_ratio must be in [0, 1), got {warmup_ratio!r}")
    if max_grad_norm is not None:
        _check_positive("max_grad_norm", max_grad_norm, integer=False)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(
            "model has no trainable parameters (every requires_grad is False): add adapters or LoRA, "
            "or call freeze_base(model, train_head=True) to train the head"
        )
    steps_per_epoch = len(train_loader)
    if steps_per_epoch == 0:
        raise ValueError("train_loader is empty")

    total_steps = max_steps if max_steps is not None else epochs * steps_per_epoch
    total_steps = min(total_steps, budget(total_steps, FAST_MAX_STEPS))
    device = get_device(device)
    model.to(device)
    seed_everything(seed)

    optimizer = _make_optimizer(model, params, lr, weight_decay, head_lr)
    from transformers import get_linear_schedule_with_warmup  # here: transformers is slow to import

    scheduler = get_linear_schedule_with_warmup(optimizer, int(warmup_ratio * total_steps), total_steps)
    scaler = make_grad_scaler(device, enabled=amp)
    history = TrainHistory(trainable_parameters=sum(p.numel() for p in params))

    def run_eval() -> None:
        result = evaluate(model, eval_loader, device=device, amp=amp)
        history.eval.append({"step": history.steps, **result})
        model.train()

    bar = tqdm(total=total_steps, desc=desc, disable=not progress, leave=True)
    samples = 0
    epoch_sums = [0.0, 0.0, 0]  # loss * n, correct, n of the current epoch
    start = time.perf_counter()
    model.train()
    batches = itertools.chain.from_iterable(itertools.repeat(train_loader))  # restart the loader forever
    for step in range(total_steps):
        inputs, labels = _split_batch(next(batches), device)
        if labels is None:
            raise ValueError("training batches need 'labels' (make_loader adds them when the data has 'label')")
        if step_fn is not None:
            clip = float("inf") if max_grad_norm is None else max_grad_norm
            loss_value, correct = float(step_fn(model, {**inputs, "labels": labels}, optimizer, clip)), None
        else:
            with autocast(device, enabled=amp):
                logits = _logits(model, inputs)
            loss = F.cross_entropy(logits.float(), labels)

            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if max_grad_norm is not None:
                scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
                torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            loss_value, correct = loss.item(), (logits.argmax(dim=-1) == labels).sum().item()
        history.step_lr.append(scheduler.get_last_lr()[0])
        scheduler.step()

        n = labels.numel()
        history.step_loss.append(loss_value)
        if correct is not None:
            history.step_accuracy.append(correct / n)
        history.steps = step + 1
        samples += n
        epoch_sums = [epoch_sums[0] + loss_value * n, epoch_sums[1] + (correct or 0), epoch_sums[2] + n]
        bar.update(1)
        bar.set_postfix(loss=f"{loss_value:.4f}", refresh=False)

        end_of_epoch = (step + 1) % steps_per_epoch == 0 or step + 1 == total_steps
        if end_of_epoch:
            history.epoch_loss.append(epoch_sums[0] / epoch_sums[2])
            if step_fn is None:
                history.epoch_accuracy.append(epoch_sums[1] / epoch_sums[2])
            epoch_sums = [0.0, 0.0, 0]
        if eval_loader is not None and eval_every is not None and (step + 1) % eval_every == 0:
            run_eval()
    bar.close()
    if eval_loader is not None and (not history.eval or history.eval[-1]["step"] != history.steps):
        run_eval()

    history.wall_time_s = time.perf_counter() - start
    history.samples_per_second = samples / history.wall_time_s if history.wall_time_s > 0 else 0.0
    model.eval()
    return history


@contextlib.contextmanager
def _eval_mode(model: nn.Module):
    """Switch to eval mode (dropout off) inside the block and restore the previous mode after."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _eval_batches(loader):
    """The loader's batches, only the first ``FAST_EVAL_BATCHES`` of them in fast mode."""
    limit = budget(None, FAST_EVAL_BATCHES)
    return loader if limit is None else itertools.islice(loader, limit)


def evaluate(model: nn.Module, loader, device: str | torch.device | None = None, amp: bool = True) -> dict:
    """Mean cross-entropy loss and accuracy of ``model`` on ``loader``: ``{"loss", "accuracy", "n"}``.

    ``device=None`` uses the device the model is already on.
    """
    device = _model_device(model) if device is None else get_device(device)
    model.to(device)
    total_loss, correct, n = 0.0, 0.0, 0
    with _eval_mode(model), torch.inference_mode():
        for batch in _eval_batches(loader):
            inputs, labels = _split_batch(batch, device)
            if labels is None:
                raise ValueError("evaluation batches need 'labels'; use predict() for unlabeled data")
            with autocast(device, enabled=amp):
                logits = _logits(model, inputs)
            total_loss += F.cross_entropy(logits.float(), labels, reduction="sum").item()
            correct += (logits.argmax(dim=-1) == labels).sum().item()
            n += labels.numel()
    if n == 0:
        raise ValueError("loader is empty")
    return {"loss": total_loss / n, "accuracy": correct / n, "n": n}


def predict(model: nn.Module, loader, device: str | torch.device | None = None, amp: bool = True) -> torch.Tensor:
    """Predicted label ids for every example of ``loader`` (a 1-D CPU tensor, loader order)."""
    device = _model_device(model) if device is None else get_device(device)
    model.to(device)
    predictions = []
    with _eval_mode(model), torch.inference_mode():
        for batch in loader:  # never shortened, even in fast mode
            inputs, _ = _split_batch(batch, device)
            with autocast(device, enabled=amp):
                logits = _logits(model, inputs)
            predictions.append(logits.argmax(dim=-1).cpu())
    return torch.cat(predictions) if predictions else torch.empty(0, dtype=torch.long)


__all__ = ["train", "evaluate", "predict", "TrainHistory", "FAST_MAX_STEPS", "FAST_EVAL_BATCHES"]
