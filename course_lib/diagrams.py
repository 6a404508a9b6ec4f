"""Architecture diagrams for the notebooks, drawn with matplotlib only (no files, no downloads), so they look
the same in JupyterLab, Colab and a static viewer of a saved notebook.

Each function returns the matplotlib ``Figure``. It is made with ``pyplot``, so Jupyter shows it by itself at
the end of the cell: end the call with ``;`` (``placement_diagram();``) or assign it (``fig = ...``), else the
cell's return value shows a second copy.

* ``bottleneck_diagram()``: one bottleneck adapter with its shapes (notebook 01);
* ``placement_diagram()``: where Houlsby, Pfeiffer and parallel adapters sit in a BERT layer (04, 07);
* ``fusion_diagram(n_adapters=3)``: AdapterFusion over N adapters (05);
* ``lora_vs_adapter_diagram()``: LoRA next to an adapter, unmerged and merged (06).

The colours are the same everywhere: grey = frozen (pretrained) weights, orange = trainable weights, white =
tensors and operations without weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Patch, Polygon

from .specs import PLACEMENTS

# ----------------------------------------------------------------------------------------------- drawing helpers

#: Fill and edge of each kind of box; "merged" is a frozen weight that carries a trained update.
_STYLES: dict[str, dict[str, Any]] = {
    "frozen": {"facecolor": "#d9d9d9", "edgecolor": "#6b6b6b"},
    "trainable": {"facecolor": "#fdc98c", "edgecolor": "#d2700b"},
    "plain": {"facecolor": "white", "edgecolor": "#404040"},
    "merged": {"facecolor": "#d9d9d9", "edgecolor": "#d2700b", "hatch": "///"},
}
_LINE = "#333333"
_ACCENT = "#b35900"  # text that states a trainable-weight fact (``W_up = 0 at init``)
_FONT = 9
_MAX_FUSED = 8


@dataclass(frozen=True)
class _Box:
    """A drawn box: its centre and size, and the points where arrows meet it."""

    x: float
    y: float
    w: float
    h: float

    @property
    def top(self) -> tuple[float, float]:
        return (self.x, self.y + self.h / 2)

    @property
    def bottom(self) -> tuple[float, float]:
        return (self.x, self.y - self.h / 2)

    @property
    def left(self) -> tuple[float, float]:
        return (self.x - self.w / 2, self.y)

    @property
    def right(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y)


def _box(
    ax: Axes,
    x: float,
    y: float,
    w: float,
    h: float,
    text: str,
    kind: str = "frozen",
    fontsize: float = _FONT,
    heights: tuple[float, float] | None = None,
    weight: str = "normal",
) -> _Box:
    """A box centred at ``(x, y)`` with ``text`` inside; ``heights=(left, right)`` draws a trapezoid instead
    (a projection that changes the width of the tensor)."""
    style = _STYLES[kind]
    patch: Patch
    if heights is None:
        patch = FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.12", linewidth=1.2, **style
        )
    else:
        left, right = heights
        corners = [
            (x - w / 2, y - left / 2),
            (x + w / 2, y - right / 2),
            (x + w / 2, y + right / 2),
            (x - w / 2, y + left / 2),
        ]
        patch = Polygon(corners, closed=True, linewidth=1.2, **style)
        h = max(left, right)
    patch.set_zorder(2)
    ax.add_patch(patch)
    if text:
        # On a hatched box the text gets a white background to stay readable.
        background = {"facecolor": "white", "edgecolor": "none", "pad": 2.0} if "hatch" in style else None
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4, fontweight=weight, bbox=background)
    return _Box(x, y, w, h)


def _arrow(ax: Axes, *points: tuple[float, float], color: str = _LINE, style: str = "-") -> None:
    """A line through ``points`` with an arrowhead at the last one."""
    if len(points) < 2:
        raise ValueError("an arrow needs at least two points")
    for (x0, y0), (x1, y1) in zip(points[:-2], points[1:-1], strict=True):
        ax.plot([x0, x1], [y0, y1], color=color, linewidth=1.3, linestyle=style, zorder=1, solid_capstyle="round")
    ax.annotate(
        "",
        xy=points[-1],
        xytext=points[-2],
        arrowprops={
            "arrowstyle": "-|>",
            "color": color,
            "linewidth": 1.3,
            "linestyle": style,
            "shrinkA": 0,
            "shrinkB": 0,
            "mutation_scale": 12,
        },
        zorder=3,
    )


def _plus(ax: Axes, x: float, y: float, radius: float = 0.3) -> _Box:
    """A ``+`` node (an addition, no weights)."""
    ax.add_patch(Circle((x, y), radius, linewidth=1.2, zorder=2, **_STYLES["plain"]))
    ax.text(x, y, "+", ha="center", va="center", fontsize=_FONT + 3, zorder=4)
    return _Box(x, y, 2 * radius, 2 * radius)


def _dot(ax: Axes, x: float, y: float) -> None:
    """Where a line splits (one tensor, read twice)."""
    ax.add_patch(Circle((x, y), 0.09, color=_LINE, zorder=3))


def _caption(ax: Axes, text: str) -> None:
    """The sentences under a panel."""
    ax.text(5, -0.3, text, ha="center", va="top", fontsize=_FONT)


def _canvas(ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")


def _legend(fig: Figure, merged: bool = False, y: float = 0.01) -> None:
    handles = [
        Patch(label="frozen", linewidth=1.2, **_STYLES["frozen"]),
        Patch(label="trainable", linewidth=1.2, **_STYLES["trainable"]),
        Patch(label="no weights (tensors, operations)", linewidth=1.2, **_STYLES["plain"]),
    ]
    if merged:
        handles.append(Patch(label="frozen, with the trained update merged in", linewidth=1.2, **_STYLES["merged"]))
    fig.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, y), ncol=len(handles), frameon=False, fontsize=_FONT
    )


def _subscript(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


# ----------------------------------------------------------------------------------------------- 01: the adapter


def bottleneck_diagram(figsize: tuple[float, float] | None = None) -> Figure:
    """The bottleneck adapter with its shapes: ``h' = h + W_up σ(W_down h)`` (Houlsby et al. 2019).

    Drawn for notebook 01: a frozen sub-layer gives ``h`` of shape ``(…, d)``; ``W_down`` (``r × d``)
    squeezes it to ``(…, r)``, the activation ``σ`` keeps that shape, ``W_up`` (``d × r``) brings it back to
    ``(…, d)`` and the residual adds ``h``. ``W_up`` starts at zero, so the adapter starts as the identity.
    """
    fig, ax = plt.subplots(figsize=figsize or (11.5, 5.4))
    _canvas(ax, (-0.2, 20.6), (-1.9, 7.6))
    mid, tall, short = 3.0, 3.6, 1.1

    layer = _box(ax, 1.5, mid, 2.6, 1.6, "frozen\nBERT sub-layer\n(e.g. the FFN)")
    h = _box(ax, 4.6, mid, 1.3, tall, "h\n\n(…, d)", kind="plain")
    down = _box(ax, 7.7, mid, 2.6, tall, "W_down\n(r × d)", kind="trainable", heights=(tall, short))
    act = _box(ax, 10.4, mid, 1.3, short, "σ", kind="plain", fontsize=_FONT + 3)
    up = _box(ax, 13.1, mid, 2.6, tall, "W_up\n(d × r)", kind="trainable", heights=(short, tall))
    plus = _plus(ax, 15.8, mid, 0.4)
    out = _box(ax, 18.4, mid, 1.3, tall, "h'\n\n(…, d)", kind="plain")

    _arrow(ax, layer.right, h.left)
    _arrow(ax, h.right, down.left)
    _arrow(ax, (down.x + down.w / 2, mid), act.left)
    _arrow(ax, act.right, (up.x - up.w / 2, mid))
    _arrow(ax, up.right, plus.left)
    _arrow(ax, plus.right, out.left)
    _arrow(ax, h.top, (h.x, 6.2), (plus.x, 6.2), plus.top)  # the residual: h itself
    ax.text((h.x + plus.x) / 2, 6.4, "residual: + h (an identity path, no weights)", ha="center", fontsize=_FONT)

    # The tensor shapes between the boxes, under the arrows.
    for x, shape in ((9.05, "(…, r)"), (11.75, "(…, r)"), (15.0, "(…, d)")):
        ax.text(x, mid - 0.95, shape, ha="center", va="top", fontsize=_FONT - 1)

    # The widths of the tensors: d (the model's hidden size) and r (the bottleneck), at the trapezoids' edges.
    for x, y, label in (
        (down.left[0] - 0.2, mid + tall / 2 - 0.25, "d"),
        (down.right[0] + 0.2, mid + short / 2 + 0.3, "r"),
        (up.left[0] - 0.2, mid + short / 2 + 0.3, "r"),
        (up.right[0] + 0.2, mid + tall / 2 - 0.25, "d"),
    ):
        ax.text(x, y, label, ha="center", va="center", fontsize=_FONT + 4, style="italic", color=_ACCENT)
    ax.annotate(
        "",
        xy=(out.right[0] + 0.35, mid + tall / 2),
        xytext=(out.right[0] + 0.35, mid - tall / 2),
        arrowprops={"arrowstyle": "<|-|>", "color": _LINE, "linewidth": 1.0, "shrinkA": 0, "shrinkB": 0},
    )
    ax.text(out.right[0] + 0.5, mid, "d", ha="left", va="center", fontsize=_FONT + 4, style="italic")

    ax.text(
        up.x,
        mid - tall / 2 - 0.3,
        "W_up = 0 (and b_up = 0) at init\n⇒ h' = h: the adapter\nstarts as the identity",
        ha="center",
        va="top",
        fontsize=_FONT,
        color=_ACCENT,
        fontweight="bold",
    )
    ax.text(
        down.x,
        mid - tall / 2 - 0.3,
        "W_down: small random\n(01: nn.Linear's default;\n02, course_lib: N(0, 0.01²))",
        ha="center",
        va="top",
        fontsize=_FONT - 0.5,
    )
    ax.text(
        0.2,
        -1.3,
        "d = hidden size (MiniLM: 384),  r = bottleneck size,  r ≪ d\n"
        "trainable parameters per adapter (with biases): 2dr + d + r",
        ha="left",
        va="center",
        fontsize=_FONT,
    )
    ax.set_title(
        "The bottleneck adapter (Houlsby et al. 2019):  h' = h + W_up σ(W_down h)",
        fontsize=_FONT + 3,
        fontweight="bold",
    )
    fig.subplots_adjust(left=0.01, right=0.99, top=0.92, bottom=0.1)
    _legend(fig)
    return fig


# ----------------------------------------------------------------------------------------------- 04, 07: placement

#: Placement -> (title, what it computes, where it comes from). The formulas are course_lib.specs'.
_PLACEMENT_TEXT: dict[str, tuple[str, str, str]] = {
    "houlsby": (
        "Houlsby",
        "LN(h + f(h) + r), after attention and FFN",
        "Houlsby et al. 2019; AdapterHub double_seq_bn",
    ),
    "pfeiffer": ("Pfeiffer", "LN(h + f(LN(h + r)) + r), after the FFN", "Pfeiffer et al. 2021; AdapterHub seq_bn"),
    "houlsby-ffn": ("Houlsby, FFN only", "LN(h + f(h) + r), after the FFN", "Houlsby's second adapter alone"),
    "parallel": ("Parallel", "LN(h + s·f(r) + r), beside the FFN", "He et al. 2022; AdapterHub par_bn"),
}

# Rows of the layer, bottom to top (y of each box's centre).
_Y_IN, _Y_ATT, _Y_PROJ, _Y_A1, _Y_LN1, _Y_FF1, _Y_FF2, _Y_A2, _Y_LN2, _Y_A3, _Y_LN3, _Y_OUT = (
    0.6 + 1.32 * i for i in range(12)
)
_X, _W, _H = 4.6, 4.8, 0.7  # the main column: centre, box width, box height
_LANE = 1.2  # the residual lines on the left


def _draw_placement(ax: Axes, placement: str) -> None:
    title, formula, source = _PLACEMENT_TEXT[placement]
    _canvas(ax, (0.2, 10.2), (0, 17.0))
    ax.set_title(f'{title}: placement="{placement}"', fontsize=_FONT + 1.5, fontweight="bold")
    ax.text(5.2, 16.55, formula, ha="center", va="center", fontsize=_FONT)
    ax.text(5.2, 16.0, source, ha="center", va="center", fontsize=_FONT - 1, style="italic")

    def box(y: float, text: str, kind: str = "frozen") -> _Box:
        return _box(ax, _X, y, _W, _H, text, kind=kind)

    x_in = box(_Y_IN, "layer input (…, d)", "plain")
    att = box(_Y_ATT, "multi-head self-attention")
    proj = box(_Y_PROJ, "attention output projection")
    ln1 = box(_Y_LN1, "Add & LayerNorm")
    ff1 = box(_Y_FF1, "FFN: d → 4d, GELU")
    ff2 = box(_Y_FF2, "FFN output projection 4d → d")
    ln2 = box(_Y_LN2, "Add & LayerNorm")
    out = box(_Y_OUT, "layer output (…, d)", "plain")

    _arrow(ax, x_in.top, att.bottom)
    _arrow(ax, att.top, proj.bottom)
    if placement == "houlsby":
        a1 = box(_Y_A1, "Adapter f(h)", "trainable")
        _arrow(ax, proj.top, a1.bottom)
        _arrow(ax, a1.top, ln1.bottom)
    else:
        _arrow(ax, proj.top, ln1.bottom)
    _arrow(ax, ln1.top, ff1.bottom)
    _arrow(ax, ff1.top, ff2.bottom)

    # The residuals r of both sub-layers: the input of the sub-layer, added back before its LayerNorm.
    y_split1 = x_in.top[1] + 0.2  # a dot where a tensor is read twice
    _dot(ax, _X, y_split1)
    _arrow(ax, (_X, y_split1), (_LANE, y_split1), (_LANE, _Y_LN1), ln1.left)
    y_split2 = ln1.top[1] + 0.2
    _dot(ax, _X, y_split2)
    _arrow(ax, (_X, y_split2), (_LANE, y_split2), (_LANE, _Y_LN2), ln2.left)
    ax.text(_LANE - 0.15, (_Y_ATT + _Y_LN1) / 2, "r", ha="right", va="center", fontsize=_FONT + 1, style="italic")
    ax.text(_LANE - 0.15, (_Y_FF1 + _Y_LN2) / 2, "r", ha="right", va="center", fontsize=_FONT + 1, style="italic")
    ax.text(_X - 0.12, ff2.top[1] + 0.08, "h", ha="right", va="bottom", fontsize=_FONT, style="italic")

    if placement in ("houlsby", "houlsby-ffn"):
        a2 = box(_Y_A2, "Adapter f(h)", "trainable")
        _arrow(ax, ff2.top, a2.bottom)
        _arrow(ax, a2.top, ln2.bottom)
        _arrow(ax, ln2.top, out.bottom)
    elif placement == "pfeiffer":
        _arrow(ax, ff2.top, ln2.bottom)
        a3 = box(_Y_A3, "Adapter f(LN(h + r))", "trainable")
        ln3 = box(_Y_LN3, "Add h + r, same LayerNorm")
        _arrow(ax, ln2.top, a3.bottom)
        _arrow(ax, a3.top, ln3.bottom)
        _arrow(ax, ln3.top, out.bottom)
        lane = _X + _W / 2 + 0.8
        _arrow(ax, ln2.right, (lane, _Y_LN2), (lane, _Y_LN3), ln3.right)
        ax.text(lane + 0.12, (_Y_LN2 + _Y_LN3) / 2, "h + r\n(the adapter's\nown residual)", fontsize=_FONT - 1,
                ha="left", va="center")  # fmt: skip
    elif placement == "parallel":
        plus = _plus(ax, _X, _Y_A2)
        side = _box(ax, 8.55, (_Y_FF1 + _Y_FF2) / 2, 2.5, 1.9, "Parallel\nadapter\nf(r)", kind="trainable")
        _arrow(ax, ff2.top, plus.bottom)
        _arrow(ax, plus.top, ln2.bottom)
        _arrow(ax, ln2.top, out.bottom)
        _arrow(ax, (_X + 0.12, y_split2), (side.x, y_split2), side.bottom)  # reads the FFN's input r
        _arrow(ax, side.top, (side.x, _Y_A2), plus.right)  # added beside the FFN's output
        ax.text(side.x + 0.15, (side.y + side.h / 2 + _Y_A2) / 2, "× s", ha="left", va="center", fontsize=_FONT)
        _dot(ax, _X, y_split2)
    else:  # pragma: no cover - placement_diagram validates the names first
        raise ValueError(placement)


def placement_diagram(
    placements: Sequence[str] | str = ("houlsby", "pfeiffer", "parallel"),
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """A BERT layer once per placement, side by side, showing where the adapter sits (notebooks 04 and 07).

    Exactly what ``course_lib`` builds (``course_lib.specs``, ``course_lib.surgery``), with ``h`` a sub-layer's
    output projection, ``r`` its input (the residual) and ``f`` the adapter:

    * ``"houlsby"``: an adapter after the attention output projection and one after the FFN output projection,
      each before its residual + LayerNorm (Houlsby et al. 2019; AdapterHub's ``double_seq_bn``);
    * ``"pfeiffer"``: one adapter after the FFN block, reading the output after its residual and LayerNorm, with
      its own residual ``h + r`` and the same LayerNorm again (Pfeiffer et al. 2021; AdapterHub's ``seq_bn``);
    * ``"houlsby-ffn"``: Houlsby's second adapter alone;
    * ``"parallel"``: an adapter beside the FFN, reading the FFN's input, its output (times ``s``) added to the
      FFN's output (He et al. 2022; AdapterHub's ``par_bn``).

    ``placements`` is any selection of ``course_lib.specs.PLACEMENTS`` (a single name also works).
    """
    chosen = [placements] if isinstance(placements, str) else list(placements)
    if not chosen:
        raise ValueError(f"placements is empty: pass one or more of {list(PLACEMENTS)}")
    unknown = [p for p in chosen if p not in PLACEMENTS]
    if unknown:
        raise ValueError(f"unknown placement(s) {unknown}: valid placements are {list(PLACEMENTS)}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"placements must not repeat a name, got {chosen}")
    n = len(chosen)
    fig, axes = plt.subplots(1, n, figsize=figsize or (max(6.6, 4.4 * n + 0.4), 8.8), squeeze=False)
    for ax, placement in zip(axes[0], chosen, strict=True):
        _draw_placement(ax, placement)
    fig.suptitle("Where the adapter sits in a BERT layer", fontsize=_FONT + 4, fontweight="bold")
    notes = [
        "h: a sub-layer's output projection,  r: its input (the residual)",
        "f: the adapter W_up σ(W_down ·),  s: the parallel adapter's scale",
    ]
    fig.text(0.5, 0.045, ",  ".join(notes) if n >= 3 else "\n".join(notes), ha="center", va="bottom", fontsize=_FONT)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.09 if n >= 3 else 0.11, wspace=0.04)
    _legend(fig)
    return fig


# ----------------------------------------------------------------------------------------------- 05: fusion


def fusion_diagram(n_adapters: int = 3, figsize: tuple[float, float] | None = None) -> Figure:
    """AdapterFusion over ``n_adapters`` (1 to 8) frozen task adapters (Pfeiffer et al. 2021), notebook 05.

    The layer's hidden state ``h`` (what the adapters read) gives the query ``q = Q h``; each adapter's output
    ``z_n`` gives a key ``K z_n`` and a value ``V z_n``; ``softmax`` over the adapters of ``q · k_n / √d`` gives
    one weight per adapter, and the weighted sum of the values is added to ``h`` (one residual) before the
    sub-layer's Add & LayerNorm. Only ``Q``, ``K`` and ``V`` train; the adapters stay frozen.
    """
    if isinstance(n_adapters, bool) or not isinstance(n_adapters, int) or not 1 <= n_adapters <= _MAX_FUSED:
        raise ValueError(f"n_adapters must be an integer from 1 to {_MAX_FUSED}, got {n_adapters!r}")
    n = n_adapters
    step = 1.75  # one adapter column
    width = max(12.0, 4.6 + n * step + 0.4)
    area = (4.6, width - 0.4)  # where the adapters go
    centre = (area[0] + area[1]) / 2
    fig, ax = plt.subplots(figsize=figsize or (0.62 * width + 0.6, 9.6))
    _canvas(ax, (-0.1, width + 0.1), (-1.8, 14.0))

    y_in, y_ad, y_stack, y_qkv, y_soft, y_w, y_sum, y_plus, y_ln, y_out = (
        0.6,
        2.2,
        3.6,
        5.1,
        6.6,
        8.0,
        9.4,
        10.7,
        11.9,
        13.2,
    )
    x_in = _box(ax, width / 2, y_in, width - 0.4, 0.8, "h: the layer's hidden state, what every adapter reads (…, d)", "plain")  # fmt: skip

    # The adapters (frozen in fusion's training stage) and their outputs z_n, stacked.
    xs = [centre + (i - (n - 1) / 2) * step for i in range(n)]
    stack = _box(ax, centre, y_stack, max(n * step - 0.3, 5.2), 0.7, "stack Z = [z₁, …, z_N]  (…, N, d)", "plain")
    for i, x in enumerate(xs, start=1):
        adapter = _box(ax, x, y_ad, step - 0.25, 0.9, f"Adapter {i}")
        _arrow(ax, (x, x_in.top[1]), adapter.bottom)
        _arrow(ax, adapter.top, (x, stack.bottom[1]))
        ax.text(x + 0.08, (adapter.top[1] + stack.bottom[1]) / 2, f"z{_subscript(i)}", fontsize=_FONT - 1,
                ha="left", va="center")  # fmt: skip

    x_q, x_k, x_v = 2.4, centre - 1.75, centre + 1.75
    query = _box(ax, x_q, y_qkv, 2.8, 0.9, "Query\nq = Q h", "trainable")
    key = _box(ax, x_k, y_qkv, 2.8, 0.9, "Key\nk_n = K z_n", "trainable")
    value = _box(ax, x_v, y_qkv, 2.8, 0.9, "Value\nv_n = V z_n", "trainable")
    _arrow(ax, (x_q, x_in.top[1]), query.bottom)
    _arrow(ax, (x_k, stack.top[1]), key.bottom)
    _arrow(ax, (x_v, stack.top[1]), value.bottom)

    soft_left, soft_right = query.left[0], key.right[0]
    soft = _box(
        ax,
        (soft_left + soft_right) / 2,
        y_soft,
        soft_right - soft_left,
        0.8,
        "softmax over the adapters of  q · k_n / √d",
        "plain",
    )
    _arrow(ax, query.top, (x_q, soft.bottom[1]))
    _arrow(ax, key.top, (x_k, soft.bottom[1]))

    # One weight per adapter, summing to 1.
    span = soft.w - 0.4
    chip = min(1.3, span / n)
    for i in range(n):
        x = soft.x + (i - (n - 1) / 2) * chip
        w = _box(ax, x, y_w, chip - 0.2, 0.6, f"w{_subscript(i + 1)}", "plain")
        _arrow(ax, (x, soft.top[1]), w.bottom)
        _arrow(ax, w.top, (x, y_sum - 0.4))
    ax.text(soft_right + 0.1, y_w, "Σ w_n = 1", ha="left", va="center", fontsize=_FONT - 1, style="italic")

    total = _box(ax, (soft_left + value.right[0]) / 2, y_sum, value.right[0] - soft_left, 0.8,
                 "weighted sum  Σ_n w_n · v_n   (…, d)", "plain")  # fmt: skip
    _arrow(ax, value.top, (x_v, total.bottom[1]))
    plus = _plus(ax, total.x, y_plus)
    _arrow(ax, total.top, plus.bottom)
    _arrow(ax, (0.6, x_in.top[1]), (0.6, y_plus), plus.left)  # one residual: h
    ax.text(0.75, (y_sum + y_plus) / 2 + 0.35, "+ h (one residual)", ha="left", va="center", fontsize=_FONT - 1)
    ln = _box(ax, total.x, y_ln, 5.6, 0.75, "the sub-layer's Add & LayerNorm (+ r)")
    _arrow(ax, plus.top, ln.bottom)
    out = _box(ax, total.x, y_out, 4.6, 0.7, "output (…, d)", "plain")
    _arrow(ax, ln.top, out.bottom)

    ax.text(
        width / 2,
        -0.45,
        "AdapterFusion's second stage: the N task adapters stay frozen;\n"
        "only Q, K, V (d × d each) and the task head train; V starts as the identity.\n"
        "course_lib divides the scores by √d (score_scale='sqrt_d'); AdapterHub does not (score_scale='none').",
        ha="center",
        va="top",
        fontsize=_FONT - 0.5,
    )
    ax.set_title(
        f"AdapterFusion over N = {n} adapter{'s' if n > 1 else ''} (Pfeiffer et al. 2021)",
        fontsize=_FONT + 3,
        fontweight="bold",
    )
    fig.subplots_adjust(left=0.01, right=0.99, top=0.95, bottom=0.04)
    _legend(fig)
    return fig


# ----------------------------------------------------------------------------------------------- 06: LoRA


def _lora_adapter_panel(ax: Axes) -> None:
    _canvas(ax, (0, 10), (-3.0, 11.2))
    ax.set_title("Bottleneck adapter (serial)\nHoulsby et al. 2019", fontsize=_FONT + 1.5, fontweight="bold")
    x_in = _box(ax, 5, 0.5, 4.2, 0.7, "x  (…, d)", "plain")
    w = _box(ax, 5, 1.9, 4.2, 0.8, "W  (d × d), pretrained")
    down = _box(ax, 5, 4.1, 3.6, 0.8, "W_down  (r × d)", "trainable")
    act = _box(ax, 5, 5.4, 1.4, 0.7, "σ", "plain", fontsize=_FONT + 2)
    up = _box(ax, 5, 6.7, 3.6, 0.8, "W_up  (d × r)", "trainable")
    plus = _plus(ax, 5, 8.1)
    out = _box(ax, 5, 9.5, 5.6, 0.8, "h + W_up σ(W_down h)", "plain")
    _arrow(ax, x_in.top, w.bottom)
    _arrow(ax, w.top, down.bottom)
    _arrow(ax, down.top, act.bottom)
    _arrow(ax, act.top, up.bottom)
    _arrow(ax, up.top, plus.bottom)
    _arrow(ax, plus.top, out.bottom)
    split = (w.top[1] + down.bottom[1]) / 2
    _dot(ax, 5, split)
    _arrow(ax, (5, split), (1.6, split), (1.6, plus.y), plus.left)
    ax.text(1.75, split + 0.3, "h = W x", ha="left", va="bottom", fontsize=_FONT - 1, style="italic")
    ax.text(up.right[0] + 0.15, up.y, "W_up = 0\nat init", ha="left", va="center", fontsize=_FONT - 1, color=_ACCENT)
    _caption(
        ax,
        "runs after W, in sequence, at every forward:\n"
        "extra layers, extra latency; σ is non-linear,\n"
        "so it cannot be merged into W",
    )


def _lora_unmerged_panel(ax: Axes) -> None:
    _canvas(ax, (0, 10), (-3.0, 11.2))
    ax.set_title("LoRA, unmerged\nHu et al. 2022", fontsize=_FONT + 1.5, fontweight="bold")
    x_in = _box(ax, 5, 0.5, 4.2, 0.7, "x  (…, d)", "plain")
    w = _box(ax, 2.7, 4.6, 3.4, 1.6, "W  (d × d)\npretrained")
    a = _box(ax, 7.4, 3.1, 3.2, 0.8, "A  (r × d)", "trainable")
    b = _box(ax, 7.4, 4.9, 3.2, 0.8, "B  (d × r)", "trainable")
    scale = _box(ax, 7.4, 6.5, 1.6, 0.7, "× α/r", "plain")
    plus = _plus(ax, 5, 8.1)
    out = _box(ax, 5, 9.5, 5.6, 0.8, "W x + (α/r) B A x   (…, d)", "plain")
    split = 1.5
    _dot(ax, 5, split)
    _arrow(ax, x_in.top, (5, split))
    _arrow(ax, (5, split), (w.x, split), w.bottom)
    _arrow(ax, (5, split), (a.x, split), a.bottom)
    _arrow(ax, a.top, b.bottom)
    _arrow(ax, b.top, scale.bottom)
    _arrow(ax, w.top, (w.x, plus.y), plus.left)
    _arrow(ax, scale.top, (scale.x, plus.y), plus.right)
    _arrow(ax, plus.top, out.bottom)
    ax.text(a.x + 0.2, (a.top[1] + b.bottom[1]) / 2, "(…, r)", ha="left", va="center", fontsize=_FONT - 1)
    ax.text(9.1, b.y, "B = 0\nat init", ha="left", va="center", fontsize=_FONT - 1, color=_ACCENT)
    _caption(
        ax,
        "beside W, linear: A random, B = 0 at init,\n"
        "so the layer starts as exactly W x. Unmerged,\n"
        "every forward adds two thin products (A, then B)",
    )


def _lora_merged_panel(ax: Axes) -> None:
    _canvas(ax, (0, 10), (-3.0, 11.2))
    ax.set_title("LoRA, merged\nW' = W + (α/r) B A", fontsize=_FONT + 1.5, fontweight="bold")
    x_in = _box(ax, 5, 0.5, 4.2, 0.7, "x  (…, d)", "plain")
    w = _box(ax, 5, 4.8, 5.4, 1.8, "W' = W + (α/r) B A\n(d × d)", "merged")
    out = _box(ax, 5, 9.5, 4.2, 0.8, "W' x   (…, d)", "plain")
    _arrow(ax, x_in.top, w.bottom)
    _arrow(ax, w.top, out.bottom)
    _caption(
        ax,
        "merged once after training: one d × d product,\n"
        "the cost of the original layer: no extra latency.\n"
        "Unmerge (W = W' − (α/r) B A) to swap tasks",
    )


def lora_vs_adapter_diagram(figsize: tuple[float, float] | None = None) -> Figure:
    """LoRA next to a bottleneck adapter, and LoRA merged vs unmerged (notebook 06).

    Left, a serial bottleneck adapter after a frozen layer ``W`` (Houlsby et al. 2019). Middle, LoRA
    (Hu et al. 2022): ``y = W x + (α/r) B A x`` with ``A`` (``r × d``) and ``B`` (``d × r``) trainable, ``B = 0``
    at init so the layer starts unchanged. Right, LoRA merged: ``W' = W + (α/r) B A``, one matrix of the
    original shape, so inference costs what the original layer did.
    """
    fig, axes = plt.subplots(1, 3, figsize=figsize or (14, 6.6))
    _lora_adapter_panel(axes[0])
    _lora_unmerged_panel(axes[1])
    _lora_merged_panel(axes[2])
    fig.suptitle("LoRA next to a bottleneck adapter", fontsize=_FONT + 4, fontweight="bold")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.85, bottom=0.08, wspace=0.06)
    _legend(fig, merged=True)
    return fig


__all__ = ["bottleneck_diagram", "placement_diagram", "fusion_diagram", "lora_vs_adapter_diagram"]
