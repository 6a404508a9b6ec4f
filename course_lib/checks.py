"""Assertions for the graded test cells: when they fail they say what was expected, what came back,
and the mistake that most often causes the difference."""

from __future__ import annotations

import math

import torch


def _fail(what: str, expected, got, hint: str | None) -> None:
    message = f"{what}: expected {expected}, got {got}."
    if hint:
        message += f" Likely cause: {hint}"
    raise AssertionError(message)


def check_type(value, kind, what: str, hint: str | None = None) -> None:
    if not isinstance(value, kind):
        name = getattr(kind, "__name__", str(kind))
        _fail(what, f"{'an' if name[:1] in 'aeiou' else 'a'} {name}", type(value).__name__, hint)


def check_shape(tensor, shape, what: str, hint: str | None = None) -> None:
    check_type(tensor, torch.Tensor, what, "return a torch.Tensor, not a list or numpy array")
    if tuple(tensor.shape) != tuple(shape):
        _fail(f"{what} has the wrong shape", tuple(shape), tuple(tensor.shape), hint)


def check_finite(tensor, what: str) -> None:
    if not torch.isfinite(tensor).all():
        _fail(what, "finite numbers", "NaN or Inf", "a division by zero or an overflow")


def check_close(got, expected, what: str, hint: str | None = None, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Tensors: same shape, finite, close. Numbers: close."""
    if isinstance(expected, torch.Tensor):
        check_shape(got, expected.shape, what, hint)
        check_finite(got, what)
        got_f, exp_f = got.detach().double().cpu(), expected.detach().double().cpu()
        if not torch.allclose(got_f, exp_f, atol=atol, rtol=rtol):
            worst = (got_f - exp_f).abs().max().item()
            _fail(what, f"values within {atol:g} of the reference", f"a largest difference of {worst:.3g}", hint)
        return
    if (
        not isinstance(got, (int, float))
        or isinstance(got, bool)
        or not math.isclose(got, expected, rel_tol=rtol, abs_tol=atol)
    ):
        _fail(what, expected, got, hint)


def check_equal(got, expected, what: str, hint: str | None = None) -> None:
    """Exact equality (ints, strings, bit-identical tensors)."""
    if isinstance(expected, torch.Tensor):
        check_shape(got, expected.shape, what, hint)
        if not torch.equal(got, expected):
            worst = (got.double() - expected.double()).abs().max().item()
            _fail(what, "bit-for-bit equality", f"a largest difference of {worst:.3g}", hint)
        return
    if got != expected or type(got) is bool and type(expected) is not bool:
        _fail(what, expected, got, hint)


def softmax_divisor(scores: torch.Tensor, weights) -> float | None:
    """The constant ``c`` with ``softmax(scores / c) == weights`` over the last dim, when the learner's
    ``weights`` are a softmax of the unscaled ``scores`` divided by one constant; ``None`` otherwise. Test
    cells use it to name a wrong scale (``sqrt(n)`` instead of ``sqrt(d)``, a missing one, ...)."""
    if not isinstance(weights, torch.Tensor) or weights.shape != scores.shape or scores.shape[-1] < 2:
        return None
    if not bool((weights > 0).all()):
        return None
    logs = weights.double().log()
    logs = logs - logs.mean(dim=-1, keepdim=True)
    centred = scores.double() - scores.double().mean(dim=-1, keepdim=True)
    if float((logs * centred).sum()) == 0.0:
        return None
    c = float((centred * centred).sum() / (logs * centred).sum())
    matches = torch.allclose((scores.double() / c).softmax(dim=-1), weights.double(), rtol=1e-3, atol=1e-6)
    return c if matches else None
