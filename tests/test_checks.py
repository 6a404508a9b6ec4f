"""course_lib.checks.softmax_divisor: the scale a learner's softmax weights were computed with, for hints."""

from __future__ import annotations

import math

import torch

from course_lib.checks import softmax_divisor


def test_the_divisor_of_scaled_scores_is_recovered():
    scores = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(0))
    for c in (1.0, math.sqrt(5), 4.0, 0.25):
        got = softmax_divisor(scores, (scores / c).softmax(dim=-1))
        assert got is not None and math.isclose(got, c, rel_tol=1e-6), (c, got)


def test_weights_that_are_no_rescaled_softmax_give_none():
    scores = torch.randn(2, 5, generator=torch.Generator().manual_seed(1))
    assert softmax_divisor(scores, torch.full((2, 5), 0.2).flip(0) + torch.linspace(0, 0.01, 5)) is None
    assert softmax_divisor(scores, scores.softmax(dim=0)) is None  # over the wrong axis
    assert softmax_divisor(scores, scores.softmax(dim=-1)[:, :3]) is None  # wrong shape
    assert softmax_divisor(scores, [0.2] * 5) is None  # not a tensor
    assert softmax_divisor(scores, torch.zeros(2, 5)) is None  # not all positive
