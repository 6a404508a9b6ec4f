"""course_lib.diagrams: the architecture figures of notebooks 01 and 04-07.

Each figure is checked for what it must show (its labels, one adapter box per adapter course_lib builds), for
readable drawing (labels inside their boxes, no two labels on top of each other, every glyph in the font), for a
real image when saved, and for clear errors on bad arguments. The last test checks that each notebook shows its
figure. The browser test (tests/test_browser.py) checks that every figure renders in JupyterLab.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Polygon
from matplotlib.text import Text

from course_lib import diagrams
from course_lib.diagrams import bottleneck_diagram, fusion_diagram, lora_vs_adapter_diagram, placement_diagram
from course_lib.nbcells import cell_text
from course_lib.specs import PLACEMENT_LOCATIONS, PLACEMENTS, READS_NORMED_OUTPUT

ROOT = Path(__file__).resolve().parents[1]
FROZEN = to_rgb(diagrams._STYLES["frozen"]["facecolor"])
TRAINABLE = to_rgb(diagrams._STYLES["trainable"]["facecolor"])

#: Each diagram function, how many panels (axes) it draws with its defaults.
DEFAULT_AXES = {
    "bottleneck_diagram": 1,
    "placement_diagram": 3,
    "fusion_diagram": 1,
    "lora_vs_adapter_diagram": 3,
}
#: The notebook(s) that show each diagram (the docstrings say the same).
NOTEBOOK_DIAGRAMS = {
    "01_bottleneck_math": "bottleneck_diagram",
    "04_injection_and_training": "placement_diagram",
    "05_adapter_fusion": "fusion_diagram",
    "06_lora_comparison": "lora_vs_adapter_diagram",
    "07_adapter_variants": "placement_diagram",
}


@pytest.fixture
def draw():
    """Call a diagram function; close the figures it made afterwards (and only those)."""
    made: list[Figure] = []

    def make(function, *args, **kwargs) -> Figure:
        fig = function(*args, **kwargs)
        made.append(fig)
        return fig

    yield make
    for fig in made:
        plt.close(fig)


def texts(fig: Figure) -> list[str]:
    """Every piece of text in the figure: titles, labels in boxes, notes, the legend."""
    return [t.get_text() for t in fig.findobj(Text) if t.get_text().strip()]


def all_text(fig: Figure) -> str:
    return "\n".join(texts(fig))


def boxes(ax, colour) -> list:
    """The boxes (rounded rectangles and trapezoids) of one fill colour in ``ax``."""
    return [
        p
        for p in ax.patches
        if isinstance(p, (FancyBboxPatch, Polygon)) and np.allclose(p.get_facecolor()[:3], colour, atol=1e-3)
    ]


def test_the_module_exports_the_four_diagrams():
    assert sorted(diagrams.__all__) == sorted(DEFAULT_AXES)


@pytest.mark.parametrize("name", list(DEFAULT_AXES))
def test_each_diagram_is_a_figure_with_its_panels_and_a_frozen_trainable_legend(name, draw):
    fig = draw(getattr(diagrams, name))
    assert isinstance(fig, Figure)
    assert len(fig.axes) == DEFAULT_AXES[name], f"{name}() draws {len(fig.axes)} axes"
    assert fig.legends, f"{name}() has no legend"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ["frozen", "trainable"], legend
    for ax in fig.axes:
        assert not ax.axison, "a diagram has no axis ticks or frame"


@pytest.mark.parametrize("name", list(DEFAULT_AXES))
def test_the_caller_s_figures_stay_open(name, draw):
    mine = plt.figure()
    try:
        draw(getattr(diagrams, name))
        assert plt.fignum_exists(mine.number), f"{name}() closed a figure it did not make"
    finally:
        plt.close(mine)


@pytest.mark.parametrize("name", list(DEFAULT_AXES))
def test_figsize_is_respected(name, draw):
    fig = draw(getattr(diagrams, name), figsize=(9, 5))
    assert tuple(fig.get_size_inches()) == (9, 5)


def test_bottleneck_diagram_shows_the_shapes_and_the_zero_init(draw):
    fig = draw(bottleneck_diagram)
    shown = texts(fig)
    text = "\n".join(shown)
    for label in ("W_down\n(r × d)", "W_up\n(d × r)", "(…, d)", "(…, r)", "W_up = 0", "2dr + d + r", "σ"):
        assert label in text, f"the bottleneck diagram does not show {label!r}"
    assert {"d", "r"} <= set(shown), "the widths d and r are not labelled"
    assert "Houlsby et al. 2019" in text
    (ax,) = fig.axes
    assert len(boxes(ax, TRAINABLE)) == 2, "W_down and W_up are the trainable parts"
    assert len(boxes(ax, FROZEN)) == 1, "the sub-layer before the adapter is frozen"


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_placement_diagram_draws_one_adapter_per_location_course_lib_uses(placement, draw):
    fig = draw(placement_diagram, (placement,))
    (ax,) = fig.axes
    text = all_text(fig)
    assert f'placement="{placement}"' in text
    adapters = boxes(ax, TRAINABLE)
    assert len(adapters) == len(PLACEMENT_LOCATIONS[placement]), (
        f"{placement}: {len(adapters)} adapters drawn, course_lib puts one in each of {PLACEMENT_LOCATIONS[placement]}"
    )
    labels = [t.get_text() for t in ax.texts if re.match(r"(Parallel\n)?[Aa]dapter", t.get_text())]
    assert len(labels) == len(adapters), labels
    if placement in READS_NORMED_OUTPUT:
        assert all("f(LN(h + r))" in label for label in labels), f"a {placement} adapter reads LN(h + r): {labels}"
    elif placement == "parallel":
        assert all("f(r)" in label for label in labels), f"the parallel adapter reads the FFN's input r: {labels}"
        assert "× s" in text
    else:
        assert all("f(h)" in label for label in labels), f"a {placement} adapter reads h: {labels}"
    # The frozen BERT layer: attention, its projection, the FFN's two layers, two Add & LayerNorm (Pfeiffer: a third,
    # the same LayerNorm applied again after the adapter).
    assert len(boxes(ax, FROZEN)) == (7 if placement in READS_NORMED_OUTPUT else 6)


def test_placement_diagram_cites_each_paper_and_adapterhub_name(draw):
    text = all_text(draw(placement_diagram))
    for expected in (
        "Houlsby et al. 2019",
        "double_seq_bn",
        "Pfeiffer et al. 2021",
        "seq_bn",
        "He et al. 2022",
        "par_bn",
    ):
        assert expected in text, f"the placement diagram does not mention {expected!r}"


@pytest.mark.parametrize(
    "placements", [PLACEMENTS, ("parallel", "houlsby"), "pfeiffer", ["houlsby-ffn"]], ids=["all", "two", "str", "list"]
)
def test_placement_diagram_takes_any_selection(placements, draw):
    chosen = [placements] if isinstance(placements, str) else list(placements)
    fig = draw(placement_diagram, placements)
    assert len(fig.axes) == len(chosen)
    titles = [ax.get_title() for ax in fig.axes]
    assert [re.search(r'placement="([^"]+)"', t).group(1) for t in titles] == chosen, titles


@pytest.mark.parametrize(
    "placements, message",
    [
        (("houlsby", "bogus"), r"unknown placement\(s\) \['bogus'\].*'houlsby', 'pfeiffer', 'houlsby-ffn', 'parallel'"),
        ("Houlsby", r"unknown placement\(s\) \['Houlsby'\].*valid placements are"),
        ((), r"placements is empty.*'parallel'"),
        (("houlsby", "houlsby"), r"must not repeat"),
    ],
)
def test_placement_diagram_rejects_bad_placements(placements, message):
    before = plt.get_fignums()
    with pytest.raises(ValueError, match=message):
        placement_diagram(placements)
    assert plt.get_fignums() == before, "a rejected call must not leave a figure behind"


@pytest.mark.parametrize("n", [1, 3, 8])
def test_fusion_diagram_draws_n_frozen_adapters_and_trainable_q_k_v(n, draw):
    fig = draw(fusion_diagram, n)
    (ax,) = fig.axes
    text = all_text(fig)
    assert f"N = {n}" in ax.get_title()
    adapters = [t.get_text() for t in ax.texts if re.fullmatch(r"Adapter \d", t.get_text())]
    assert adapters == [f"Adapter {i}" for i in range(1, n + 1)]
    assert len(boxes(ax, FROZEN)) == n + 1, "the N adapters and the Add & LayerNorm are frozen"
    trainable = [
        t.get_text().split("\n")[0] for t in ax.texts if t.get_text().split("\n")[0] in ("Query", "Key", "Value")
    ]
    assert trainable == ["Query", "Key", "Value"] and len(boxes(ax, TRAINABLE)) == 3
    weights = [t.get_text() for t in ax.texts if re.fullmatch(r"w[₀-₉]+", t.get_text())]
    assert len(weights) == n, f"one weight per adapter: {weights}"
    for expected in ("softmax", "q = Q h", "k_n = K z_n", "v_n = V z_n", "Σ_n w_n · v_n", "one residual", "√d"):
        assert expected in text, f"the fusion diagram does not show {expected!r}"
    assert "Pfeiffer et al. 2021" in text


@pytest.mark.parametrize("n", [0, 9, -1, 2.5, True, "3", None])
def test_fusion_diagram_rejects_bad_n_adapters(n):
    with pytest.raises(ValueError, match=r"n_adapters must be an integer from 1 to 8, got "):
        fusion_diagram(n)


def test_lora_vs_adapter_diagram_shows_lora_its_merge_and_an_adapter(draw):
    fig = draw(lora_vs_adapter_diagram)
    text = all_text(fig)
    titles = [ax.get_title() for ax in fig.axes]
    assert [t.split("\n")[0] for t in titles] == ["Bottleneck adapter (serial)", "LoRA, unmerged", "LoRA, merged"]
    for expected in (
        "A  (r × d)",
        "B  (d × r)",
        "B = 0",
        "× α/r",
        "W x + (α/r) B A x",
        "W' = W + (α/r) B A",
        "no extra latency",
        "W_down  (r × d)",
        "W_up  (d × r)",
        "Hu et al. 2022",
        "Houlsby et al. 2019",
    ):
        assert expected in text, f"the LoRA diagram does not show {expected!r}"
    adapter, unmerged, merged = fig.axes
    assert len(boxes(adapter, TRAINABLE)) == 2 and len(boxes(unmerged, TRAINABLE)) == 2
    assert len(boxes(merged, TRAINABLE)) == 0, "nothing trains in the merged layer"
    assert [t.get_text() for t in fig.legends[0].get_texts()][-1].startswith("frozen, with the trained update")


# ----------------------------------------------------------------------------------------------- readable drawing

ALL_CALLS = [
    ("bottleneck_diagram", ()),
    ("placement_diagram", ()),
    ("placement_diagram", (PLACEMENTS,)),
    ("placement_diagram", ("pfeiffer",)),
    ("fusion_diagram", (1,)),
    ("fusion_diagram", (3,)),
    ("fusion_diagram", (8,)),
    ("lora_vs_adapter_diagram", ()),
]
CALL_IDS = [f"{name}{args}" for name, args in ALL_CALLS]


@pytest.mark.parametrize("name, args", ALL_CALLS, ids=CALL_IDS)
def test_labels_fit_their_boxes_and_never_overlap(name, args, draw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = draw(getattr(diagrams, name), *args)
        fig.canvas.draw()
    missing = [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    assert not missing, f"{name}: characters the font cannot draw: {missing}"
    renderer = fig.canvas.get_renderer()
    figure_box = fig.bbox
    for ax in fig.axes:
        patches = [p for p in ax.patches if isinstance(p, (FancyBboxPatch, Polygon))]
        labels = [t for t in ax.texts if t.get_text().strip()]
        extents = [t.get_window_extent(renderer) for t in labels]
        for text, extent in zip(labels, extents, strict=True):
            where = f"{name}: label {text.get_text()!r}"
            assert figure_box.contains(extent.x0, extent.y0) and figure_box.contains(extent.x1, extent.y1), (
                f"{where} is cut off at the figure's edge"
            )
            anchor = ax.transData.transform(text.get_position())
            for patch in patches:
                box = patch.get_window_extent(renderer)
                if box.contains(*anchor):  # a label inside a box must fit in it
                    assert box.padded(1).contains(extent.x0, extent.y0) and box.padded(1).contains(
                        extent.x1, extent.y1
                    ), f"{where} runs over the edge of its box"
        for i, a in enumerate(extents):
            for j in range(i + 1, len(extents)):
                b = extents[j]
                overlap = min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1
                assert not overlap, (
                    f"{name}: labels {labels[i].get_text()!r} and {labels[j].get_text()!r} are drawn on top of each other"
                )


@pytest.mark.parametrize("name", list(DEFAULT_AXES))
def test_each_diagram_saves_as_a_real_png(name, tmp_path, draw):
    path = tmp_path / f"{name}.png"
    draw(getattr(diagrams, name)).savefig(path, dpi=72)
    assert path.stat().st_size > 5_000, f"{name}: the PNG has only {path.stat().st_size} bytes"
    image = plt.imread(path)[..., :3]
    assert image.shape[0] > 300 and image.shape[1] > 500, image.shape
    pixels = image.reshape(-1, 3)
    codes = np.round(pixels * 255).astype(np.int64) @ np.array([65536, 256, 1])
    colours = len(np.unique(codes))
    assert colours > 20, f"{name}: the PNG has only {colours} colours"
    for label, colour in (("frozen grey", FROZEN), ("trainable orange", TRAINABLE)):
        share = np.mean(np.all(np.abs(pixels - np.array(colour)) < 0.02, axis=1))
        assert share > 0.002, f"{name}: the PNG shows almost no {label} ({share:.2%} of the pixels)"


# ----------------------------------------------------------------------------------------------- the notebooks


@pytest.mark.parametrize("notebook, function", list(NOTEBOOK_DIAGRAMS.items()))
def test_each_notebook_shows_its_diagram(notebook, function):
    """The master notebook imports the diagram from course_lib.diagrams and calls it in a code cell."""
    cells = json.loads((ROOT / "solutions" / notebook / f"{notebook}.ipynb").read_text())["cells"]
    code = [
        "\n".join(line.split("#")[0] for line in cell_text(c.get("source", "")).splitlines())
        for c in cells
        if c["cell_type"] == "code"
    ]
    imported = [
        i for i, s in enumerate(code) if re.search(rf"from course_lib\.diagrams import [^\n]*\b{function}\b", s)
    ]
    called = [i for i, s in enumerate(code) if re.search(rf"(?<![\w.]){function}\s*\(", s)]
    assert imported and called, (
        f"solutions/{notebook} does not show the diagram: it should import {function} from course_lib.diagrams "
        f"and call it in a code cell (found an import in code cells {imported}, a call in {called})"
    )
    assert min(called) >= min(imported), f"{notebook} calls {function} before it imports it"
