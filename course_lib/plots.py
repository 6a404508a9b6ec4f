"""Plots used in the notebooks (matplotlib only). Each function returns the matplotlib ``Figure``.

The figures are made with ``pyplot``, so Jupyter shows them by itself at the end of the cell;
write ``fig = plot_...(...)`` (or end the line with ``;``) to avoid a second copy from the
cell's return value. Pass ``ax=`` to draw into an existing subplot instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def _losses(history) -> np.ndarray:
    """The per-step losses of a ``TrainHistory`` (anything with ``step_loss``) or of a plain list."""
    values = getattr(history, "step_loss", history)
    try:
        losses = np.asarray(list(values), dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"expected a TrainHistory or a list of losses, got {type(history).__name__}") from exc
    if losses.ndim != 1:
        raise ValueError(f"losses must be a flat list of numbers, got shape {losses.shape}")
    return losses


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average; the first points average over the steps seen so far."""
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(idx - window, 0)
    return (cumsum[idx] - cumsum[start]) / (idx - start)


def _axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def plot_loss_curves(
    histories,
    smooth: int = 10,
    ax=None,
    title: str = "Training loss",
    show_eval: bool = True,
):
    """Training-loss curves, one per entry of ``histories`` (``{label: TrainHistory or losses}``).

    ``smooth`` is the window of a trailing moving average (1 = raw losses); with smoothing the raw
    curve is drawn faintly behind. With ``show_eval`` the evaluation losses recorded in a
    ``TrainHistory`` are drawn as dots at the step they were measured.
    """
    if not isinstance(histories, Mapping):
        histories = {"train": histories}
    if not histories:
        raise ValueError("histories is empty: pass {label: TrainHistory or list of losses}")
    if isinstance(smooth, bool) or not isinstance(smooth, int) or smooth < 1:
        raise ValueError(f"smooth must be a positive integer (moving-average window), got {smooth!r}")
    fig, ax = _axes(ax, (7, 4))
    for label, history in histories.items():
        losses = _losses(history)
        steps = np.arange(1, len(losses) + 1)
        if smooth > 1:
            (line,) = ax.plot(steps, losses, alpha=0.25, linewidth=1)
            ax.plot(steps, moving_average(losses, smooth), color=line.get_color(), label=str(label))
        else:
            (line,) = ax.plot(steps, losses, label=str(label))
        evals = getattr(history, "eval", None) or []
        if show_eval and evals:
            ax.plot(
                [e["step"] for e in evals],
                [e["loss"] for e in evals],
                "o--",
                color=line.get_color(),
                markersize=4,
                label=f"{label} (eval)",
            )
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(title + (f" (moving average over {smooth} steps)" if smooth > 1 else ""))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_parameter_bars(
    counts: Mapping[str, int],
    log: bool = True,
    ax=None,
    title: str = "Trainable parameters",
):
    """Horizontal bars comparing parameter counts, e.g. ``{"full fine-tuning": 22_713_216, "adapters": 99_136}``.

    A log scale (the default) keeps 100x differences readable; each bar is labelled with its count.
    """
    if not isinstance(counts, Mapping) or not counts:
        raise ValueError("counts must be a non-empty dict {label: number of parameters}")
    for label, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"count for {label!r} must be a non-negative integer, got {value!r}")
    labels = [str(k) for k in counts]
    values = [int(v) for v in counts.values()]
    fig, ax = _axes(ax, (7, 0.6 * len(labels) + 1.2))
    positions = np.arange(len(labels))
    ax.barh(positions, values, color=plt.rcParams["axes.prop_cycle"].by_key()["color"][: len(labels)])
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()  # first entry on top
    if log:
        ax.set_xscale("log")
    for y, value in zip(positions, values, strict=False):
        ax.annotate(f" {value:,}", (max(value, 1), y), va="center", fontsize=9)
    ax.set_xlim(right=max(max(values), 1) * (20 if log else 1.25))
    ax.set_xlabel("parameters" + (" (log scale)" if log else ""))
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_fusion_heatmap(weights, adapter_names: Sequence[str], ax=None, title: str = "AdapterFusion attention"):
    """Heatmap of fusion weights: one row per layer, one column per adapter (rows sum to 1).

    ``weights`` is a ``(layers, n)`` array or tensor, e.g. ``fusion_weights(model)``.
    """
    if hasattr(weights, "detach"):
        weights = weights.detach().float().cpu().numpy()
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 2:
        raise ValueError(f"weights must have shape (layers, n_adapters), got shape {weights.shape}")
    names = [str(n) for n in adapter_names]
    if len(names) != weights.shape[1]:
        raise ValueError(f"got {len(names)} adapter_names for weights with {weights.shape[1]} columns")
    layers, n = weights.shape
    fig, ax = _axes(ax, (1.2 * n + 2.5, 0.45 * layers + 1.5))
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(np.arange(n), names, rotation=30, ha="right")
    ax.set_yticks(np.arange(layers), [f"layer {i}" for i in range(layers)])
    for i in range(layers):
        for j in range(n):
            ax.text(
                j,
                i,
                f"{weights[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="black" if weights[i, j] > 0.6 else "white",
            )
    fig.colorbar(image, ax=ax, label="attention weight")
    ax.set_title(title)
    fig.tight_layout()
    return fig


__all__ = ["plot_loss_curves", "plot_parameter_bars", "plot_fusion_heatmap", "moving_average"]
