"""Shared fixtures. Tests run on the CPU with no network: HF_HUB_OFFLINE=1 is set here and in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Under pytest-xdist every worker gets one core: two workers with two threads each would fight over 2 cores,
# and PyTorch's threads slow down many times over on busy cores (benchmarks/RESULTS.md). The environment
# variables carry the same limit to the kernels nbgrader and the tests start.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

ROOT = Path(__file__).resolve().parents[1]

#: Test modules that run notebooks (nbgrader, kernels) or a browser: `make test-fast` leaves them out.
NOTEBOOK_MODULES = {
    "test_autograde",
    "test_release",
    "test_wrong_answers",
    "test_grading",
    "test_exchange",
    "test_presubmit",
    "test_reference_data",
}
BROWSER_MODULES = {"test_browser"}
#: Single tests that take more than a few seconds for other reasons (real training, a server, a wheel, a clone).
SLOW_MODULES = {"test_make_lab"}
SLOW_TESTS = {
    "test_the_learner_wheel_carries_no_grading_or_release_code",
    "test_the_instructor_commands_run",
    "test_adapters_learn_sst2",
    "test_the_colab_install_carries_the_shipped_data_sets",
    "test_on_colab_the_installed_package_trains_on_the_same_rows_as_a_checkout",
    "test_make_publish_changes_the_repository_and_branch_everywhere",
    "test_doctor_in_a_fresh_clone_in_an_empty_folder_is_all_ok",
    "test_doctor_reports_versions_device_model_and_data",
}


#: The longest tests (seconds on CI's 2 cores: test_grading's matrix ~330, each notebook's nbgrader round 45-220,
#: the JupyterHub round trip ~60) go first (not the browser's: its module shares one JupyterLab server), so that pytest-xdist's workers do not
#: end with one of them running alone while the other worker waits.
LONGEST_FIRST = (
    "test_a_class_of_bad_submissions",
    "test_nbgrader_grades_the_solution",
    "test_a_class_on_jupyterhub_round_trip",
    "test_each_wrong_answer_loses_points",
)


def _longest_first(item) -> tuple[int, int]:
    rank = next((i for i, name in enumerate(LONGEST_FIRST) if item.name.startswith(name)), len(LONGEST_FIRST))
    # within one test's parameters, the notebooks with the most training first (10, 05, 04, 08, 09, 06, ...)
    notebook = next(
        (n for n in ("10_", "05_", "04_", "08_", "09_", "06_", "07_", "02_", "03_", "01_") if f"[{n}" in item.name),
        None,
    )
    return rank, ("10_", "05_", "04_", "08_", "09_", "06_", "07_", "02_", "03_", "01_").index(
        notebook
    ) if notebook else 0


def pytest_collection_modifyitems(config, items):
    """Mark every test `notebooks`, `browser` or `slow` by its module (or name), so `-m` can choose; the longest
    tests run first."""
    items.sort(key=_longest_first)  # stable: everything else keeps its order
    for item in items:
        module = item.module.__name__.rpartition(".")[2]
        if module in NOTEBOOK_MODULES:
            item.add_marker(pytest.mark.notebooks)
        if module in BROWSER_MODULES:
            item.add_marker(pytest.mark.browser)
        if module in SLOW_MODULES or item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)


def tiny_bert_config(**overrides):
    """A BERT config small enough to build and run in milliseconds (random weights)."""
    from transformers import BertConfig

    settings = dict(
        vocab_size=120,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=3,
    )
    settings.update(overrides)
    return BertConfig(**settings)


@pytest.fixture
def tiny_classifier():
    """A tiny random BertForSequenceClassification in eval mode."""
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    return BertForSequenceClassification(tiny_bert_config()).eval()


@pytest.fixture
def tiny_encoder():
    """A tiny random BertModel in eval mode."""
    from transformers import BertModel

    torch.manual_seed(0)
    return BertModel(tiny_bert_config()).eval()


@pytest.fixture
def tiny_batch():
    """Token ids and an attention mask with some padding, for the tiny models."""
    g = torch.Generator().manual_seed(1)
    input_ids = torch.randint(1, 120, (3, 10), generator=g)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 7:] = 0
    return {"input_ids": input_ids, "attention_mask": attention_mask}


@pytest.fixture(scope="session")
def learner_wheel(tmp_path_factory) -> Path:
    """The wheel a learner installs (``pip install git+...`` of the repository root, as on Colab), built once."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("learner-wheel")
    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The data sets that ship with the course (data/tasks). Missing data fails loudly, never skips."""
    from course_lib.harness.data import shipped_data_dir

    path = shipped_data_dir()
    assert path is not None and (path / "tasks.json").is_file(), (
        "data/tasks/tasks.json is missing: the course ships its data sets there (python scripts/ship_data.py --check)"
    )
    return path
