"""Shared helpers of the benchmark scripts in this folder.

* a command line every script shares (``--preset``, ``--out``, ``--device``, ``--model``, ``--threads``);
* the methods being compared (full fine-tuning, head only, adapters, course_lib LoRA, PEFT LoRA),
  each built from a freshly loaded model the same way in every script;
* a description of the machine (device, versions, threads, load) printed first and saved as JSON;
* CSV and markdown table writing;
* ``bundle``: a folder with what a GPU machine without internet needs (see README.md, "GPU run")::

      python benchmarks/common.py bundle --dest benchmarks/out/device

The scripts are measurements, not tests: they print what they measured and never fail on a clock.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python benchmarks/x.py` puts benchmarks/ on the path, not the repo root
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402

DEFAULT_OUT = ROOT / "benchmarks" / "out"


# ----------------------------------------------------------------------------- command line


def make_parser(description: str, presets: Sequence[str], default_preset: str = "cpu") -> argparse.ArgumentParser:
    """The options every benchmark script takes; scripts add their own on top."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--preset",
        choices=list(presets),
        default=default_preset,
        help=f"size of the run (default {default_preset}); 'smoke' only checks the script",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder for the CSV/PNG/JSON outputs (default {DEFAULT_OUT.relative_to(ROOT)})",
    )
    parser.add_argument(
        "--device",
        default="auto",
        help="cpu, cuda, cuda:N, mps or auto (default: CUDA if available, else MPS, else CPU)",
    )
    parser.add_argument(
        "--model",
        default="minilm",
        help="'minilm' (offline), 'tiny-bert', a hub id such as bert-base-uncased (online), "
        "or a local folder holding a saved model",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads on the CPU (default: leave PyTorch's choice)"
    )
    parser.add_argument(
        "--pooling",
        choices=list(POOLINGS),
        default="mean",
        help="how the classifier reads the encoder: 'mean' (default) = mean of the token vectors "
        "(MeanPoolClassifier, how all-MiniLM-L6-v2 was trained), 'cls' = Hugging Face's "
        "BertForSequenceClassification ([CLS] -> pooler -> classifier)",
    )
    return parser


def add_clock_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall: time.perf_counter (default); cpu: time.process_time, the CPU time of this "
        "process, far less disturbed by other programs on a busy machine (CPU device only; "
        "use it with --threads 1, since idle OpenMP threads spinning also count as CPU time)",
    )


def clock(name: str, device: torch.device) -> Callable[[], float]:
    """The timer behind ``--clock``: wall time, or this process's CPU time (CPU device only)."""
    if name == "cpu":
        if device.type != "cpu":
            raise ValueError(f"--clock cpu only makes sense on the CPU, got --device {device}")
        if torch.get_num_threads() != 1:
            print(
                f"NOTE: --clock cpu with {torch.get_num_threads()} threads also counts spinning idle threads; "
                "--threads 1 gives cleaner numbers"
            )
        return time.process_time
    return time.perf_counter


def setup_run(args: argparse.Namespace) -> torch.device:
    """Apply ``--threads``, resolve ``--device`` and create ``--out``. Returns the device."""
    from course_lib.harness import get_device

    if args.threads is not None:
        if args.threads <= 0:
            raise ValueError(f"--threads must be a positive integer, got {args.threads}")
        torch.set_num_threads(args.threads)
    device = get_device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    return device


def parse_list(text: str | None, known: Iterable[str], what: str) -> list[str] | None:
    """Split a comma-separated ``--methods``-style option and check every item is known."""
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in items if t not in known]
    if unknown or not items:
        raise ValueError(f"{what} must be a comma-separated subset of {list(known)}, got {text!r}")
    return items


# ----------------------------------------------------------------------------- the machine


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module: str) -> str:
    try:
        return getattr(__import__(module), "__version__", "installed")
    except ImportError:
        return "not installed"


def describe_environment(device: torch.device) -> dict:
    """Everything needed to interpret a timing: device, library versions, threads, machine load."""
    from course_lib.harness import amp_dtype

    env = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": _version("transformers"),
        "peft": _version("peft"),
        "device": str(device),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "mixed_precision": str(amp_dtype(device)).replace("torch.", "") if amp_dtype(device) else "off (float32)",
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env["gpu"] = torch.cuda.get_device_name(device)
        env["gpu_memory_gib"] = round(props.total_memory / 2**30, 1)
        env["cuda"] = torch.version.cuda
    return env


def print_environment(env: dict) -> None:
    print("# environment")
    for key, value in env.items():
        print(f"  {key:18s} {value}")
    load = env.get("load_average_1min")
    if env["device"] == "cpu" and load is not None and env["cpu_count"] and load > 1.5 * env["cpu_count"]:
        print(
            f"  WARNING: the 1-minute load average ({load}) is well above the {env['cpu_count']} CPUs: "
            "other programs compete for the cores, timings will be slow and noisy"
        )
        if env.get("torch_threads", 1) > 1:
            print(
                "  (with several torch threads on a busy CPU every parallel region waits for a descheduled thread: "
                "--threads 1 is much faster and steadier, see README.md)"
            )
    print(flush=True)


def sync(device: torch.device) -> None:
    """Wait for the GPU to finish (kernels run asynchronously); a no-op on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


# ----------------------------------------------------------------------------- tables


def write_csv(rows: list[dict], path: Path) -> Path:
    """Write ``rows`` (dicts sharing their keys) to ``path``; columns in first-seen order."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_json(data: dict, path: Path) -> Path:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def markdown_table(rows: list[dict], columns: Sequence[str] | None = None) -> str:
    """A GitHub markdown table of ``rows``; floats are shown as they are, so format them first."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=False)) + " |"  # noqa: E731
    return "\n".join([line(columns), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    values = list(values)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def human_bytes(n: float | None) -> str:
    if n is None:
        return "n/a"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


# ----------------------------------------------------------------------------- the methods


POOLINGS = ("mean", "cls")


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors, padding excluded: (batch, seq, d) -> (batch, d). Summed in float32
    (under autocast on a GPU the hidden states are bfloat16/float16)."""
    mask = attention_mask.unsqueeze(-1).float()
    return (hidden.float() * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


class MeanPoolClassifier(nn.Module):
    """A sequence classifier that mean-pools the encoder's token vectors: encoder -> mean -> dropout -> linear.

    all-MiniLM-L6-v2 was trained by sentence-transformers with *mean pooling*: its [CLS] vector and
    BERT's ``pooler`` were never taught to summarise a sentence, so ``BertForSequenceClassification``
    ([CLS] -> pooler -> classifier) gives a frozen encoder's head almost nothing to read (notebook 04,
    sections 4 and 6). This wrapper classifies the mean of the token vectors instead.

    * ``bert`` is the encoder (a ``BertModel`` without its unused pooler, or a PEFT model wrapping it);
      ``base_model`` points at it, so course_lib's ``freeze_base``/``count_parameters``/``save_adapters``
      and ``get_layers`` (``model.base_model.encoder.layer``) see the encoder as the base and
      ``classifier`` as the head, exactly as for ``BertForSequenceClassification``;
    * ``config`` is the encoder's config (``hidden_size``, ``num_labels``, ``model_type``);
    * ``forward`` takes the tokenizer's tensors and returns a ``SequenceClassifierOutput`` (``.logits``,
      and ``.loss`` when ``labels`` are given), like a Hugging Face classifier.
    """

    def __init__(self, encoder: nn.Module, classifier: nn.Linear, dropout: float = 0.1):
        super().__init__()
        self.bert = encoder
        self.dropout = nn.Dropout(dropout)
        self.classifier = classifier
        self.config = encoder.config

    @property
    def base_model(self) -> nn.Module:
        return self.bert

    @classmethod
    def from_sequence_classifier(cls, model: nn.Module) -> MeanPoolClassifier:
        """Reuse a ``BertForSequenceClassification``'s encoder (pooler dropped) and its freshly
        initialised ``classifier`` (so the head's initialisation still follows ``load_model``'s seed)."""
        encoder = model.base_model
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler = None  # unused by mean pooling: not trained, not counted
        p = getattr(model.config, "classifier_dropout", None)
        p = model.config.hidden_dropout_prob if p is None else p
        return cls(encoder, model.classifier, dropout=p).train(model.training)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **kwargs):
        from transformers.modeling_outputs import SequenceClassifierOutput

        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        hidden = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, **kwargs
        ).last_hidden_state
        logits = self.classifier(self.dropout(mean_pool(hidden, attention_mask)))
        loss = None if labels is None else nn.functional.cross_entropy(logits.float(), labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)


@dataclass(frozen=True)
class Method:
    """One way of fine-tuning: how to change a freshly loaded model, and the learning rate we use."""

    name: str
    lr: float
    build: Callable[[nn.Module], nn.Module]
    description: str


def _full(model: nn.Module) -> nn.Module:
    for p in model.parameters():
        p.requires_grad_(True)
    return model


def _head(model: nn.Module) -> nn.Module:
    from course_lib.params import freeze_base

    return freeze_base(model, train_head=True)


def _adapters(placement: str, bottleneck: int) -> Callable[[nn.Module], nn.Module]:
    def build(model: nn.Module) -> nn.Module:
        from course_lib.inject import add_adapters
        from course_lib.params import freeze_base

        add_adapters(model, placement=placement, bottleneck=bottleneck)
        return freeze_base(model, train_head=True)

    return build


def _adapters_and_layer_norms(placement: str, bottleneck: int) -> Callable[[nn.Module], nn.Module]:
    """Adapters + head, and the encoder's LayerNorm gains and biases as well, as Houlsby et al. (2019, §2.1)
    trained them (course_lib, like AdapterHub, keeps them frozen by default)."""
    with_adapters = _adapters(placement, bottleneck)

    def build(model: nn.Module) -> nn.Module:
        model = with_adapters(model)
        for module in model.base_model.modules():
            if isinstance(module, nn.LayerNorm):
                module.requires_grad_(True)
        return model

    return build


def layer_norm_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The encoder's trainable LayerNorm tensors (what a ``-ln`` method must store besides its adapters)."""
    return {
        f"{name}.{key}": p
        for name, module in model.base_model.named_modules()
        if isinstance(module, nn.LayerNorm)
        for key, p in module.named_parameters()
        if p.requires_grad
    }


LORA_R, LORA_ALPHA, LORA_TARGETS = 8, 16, ("query", "value")


def _course_lora(model: nn.Module) -> nn.Module:
    from course_lib.lora import add_lora
    from course_lib.params import freeze_base

    add_lora(model, target_modules=LORA_TARGETS, r=LORA_R, alpha=LORA_ALPHA, dropout=0.0)
    return freeze_base(model, train_head=True)


def _peft_lora(model: nn.Module) -> nn.Module:
    """PEFT with the same settings as course_lib's LoRA, the head trainable as well.

    MeanPoolClassifier: PEFT wraps the encoder only (``model.bert``: PEFT freezes everything in it but
    the LoRA factors) and the head outside it stays trainable. BertForSequenceClassification:
    ``task_type=SEQ_CLS`` makes PEFT keep a trainable copy of ``classifier`` (``modules_to_save``).
    """
    from peft import LoraConfig, TaskType, get_peft_model

    settings = dict(r=LORA_R, lora_alpha=LORA_ALPHA, target_modules=list(LORA_TARGETS), lora_dropout=0.0, bias="none")
    with warnings.catch_warnings():  # peft 0.21 calls a transformers method deprecated in 5.x
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        if isinstance(model, MeanPoolClassifier):
            model.bert = get_peft_model(model.bert, LoraConfig(**settings))
            for p in model.classifier.parameters():
                p.requires_grad_(True)
            return model
        return get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_CLS, **settings))


# Learning rates for the short CPU budget (50 steps of 32 rows), picked with a sweep on seed 0 (README.md,
# "Learning rates"); the gpu preset of quality.py (1,053 steps) uses GPU_LEARNING_RATES, the usual values at
# that scale, and training_cost/latency do not depend on them.
METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("full", 2e-4, _full, "full fine-tuning (every weight)"),
        Method("head", 1e-2, _head, "classification head only (frozen encoder)"),
        Method("houlsby-r16", 1e-2, _adapters("houlsby", 16), "Houlsby adapters r=16 (2 per layer) + head"),
        Method("houlsby-r64", 3e-3, _adapters("houlsby", 64), "Houlsby adapters r=64 (2 per layer) + head"),
        Method("pfeiffer-r64", 3e-3, _adapters("pfeiffer", 64), "Pfeiffer adapter r=64 (after the FFN) + head"),
        Method("lora-r8", 1e-2, _course_lora, "course_lib LoRA r=8, alpha=16 on query,value + head"),
        Method("peft-lora-r8", 1e-2, _peft_lora, "peft LoRA r=8, alpha=16 on query,value + head"),
        Method(
            "houlsby-r16-ln",
            1e-2,
            _adapters_and_layer_norms("houlsby", 16),
            "Houlsby adapters r=16 + the encoder's LayerNorms (as in Houlsby et al.) + head",
        ),
        Method(
            "pfeiffer-r64-ln",
            3e-3,
            _adapters_and_layer_norms("pfeiffer", 64),
            "Pfeiffer adapter r=64 + the encoder's LayerNorms + head",
        ),
    ]
}
# What a run measures when --methods is not given. The ``-ln`` variants are extra (README.md, "The methods";
# RESULTS.md, "Training the LayerNorms too"), run with --methods, so that the cpu preset stays under 20 minutes.
DEFAULT_METHODS: tuple[str, ...] = (
    "full",
    "head",
    "houlsby-r16",
    "houlsby-r64",
    "pfeiffer-r64",
    "lora-r8",
    "peft-lora-r8",
)
GPU_LEARNING_RATES: dict[str, float] = {
    "full": 3e-5,
    "head": 1e-3,
    "houlsby-r16": 1e-3,
    "houlsby-r64": 1e-3,
    "pfeiffer-r64": 1e-3,
    "lora-r8": 1e-3,
    "peft-lora-r8": 1e-3,
    "houlsby-r16-ln": 1e-3,
    "pfeiffer-r64-ln": 1e-3,
}


def load_base(model_name: str, seed: int = 0, pooling: str = "mean") -> tuple[nn.Module, object]:
    """``harness.load_model`` in float32 (a float16 checkpoint folder is upcast: we train in fp32 +
    autocast, never in pure fp16); with ``pooling="mean"`` wrapped as a ``MeanPoolClassifier``."""
    from course_lib.harness import load_model

    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {list(POOLINGS)}, got {pooling!r}")
    model, tokenizer = load_model(model_name, num_labels=2, seed=seed)
    model = model.float()
    if pooling == "mean":
        model = MeanPoolClassifier.from_sequence_classifier(model)
    return model, tokenizer


def build_method(name: str, model_name: str, seed: int = 0, pooling: str = "mean") -> tuple[nn.Module, object]:
    """A fresh model (head initialised with ``seed``) prepared for method ``name``."""
    from course_lib.harness import seed_everything

    model, tokenizer = load_base(model_name, seed=seed, pooling=pooling)
    seed_everything(seed)  # adapter / LoRA initialisation
    return METHODS[name].build(model), tokenizer


def parameter_counts(model: nn.Module) -> dict:
    """Trainable and total parameters (unique tensors), for course_lib and PEFT models alike."""
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return {"trainable": trainable, "total": total, "trainable_percent": 100.0 * trainable / total}


def fixed_batch(tokenizer, batch_size: int, seq_len: int, texts: Sequence[str] | None = None) -> dict:
    """A batch of exactly ``batch_size x seq_len`` tokens (texts padded/truncated to ``seq_len``),
    so every method sees the same shapes; labels alternate 0/1."""
    if texts is None:
        texts = ["a gripping, funny and thoroughly humane film about growing up"] * batch_size
    texts = [texts[i % len(texts)] for i in range(batch_size)]
    batch = dict(tokenizer(texts, padding="max_length", truncation=True, max_length=seq_len, return_tensors="pt"))
    batch["labels"] = torch.arange(batch_size) % 2
    return batch


def sample_texts(n: int) -> list[str]:
    """``n`` SST-2 training sentences if the data is available, else a fixed sentence repeated."""
    from course_lib.harness import load_task

    try:
        return list(load_task("sst2", "train", limit=n)["text"])
    except Exception as exc:  # no data folder and offline: timings do not depend on the words
        print(f"(sst2 not available, {type(exc).__name__}; timing on a repeated fixed sentence)")
        return ["a gripping, funny and thoroughly humane film about growing up"] * n


# ----------------------------------------------------------------------------- bundle for a GPU box


BUNDLE_WHEELS = ("datasets==5.2.0", "dill==0.4.1", "multiprocess==0.70.19")


def make_bundle(dest: Path, data_dir: Path | None, wheels: bool = True) -> None:
    """Write what an offline GPU machine needs to run quality/training_cost/latency:

    * ``minilm/``: the MiniLM checkpoint with its weights stored in float16 (43 MiB instead of 87:
      the device tool carries at most 64 MiB); the scripts load it with ``--model`` and upcast to
      float32, so the only change is rounding the pretrained weights to float16 (relative error ~5e-4);
    * ``data/``: sst2 (train + validation) and tasks.json from ``data_dir`` (default: the data that ships with
      the course, ``data/tasks``);
    * ``wheels/``: datasets and the two dependencies missing from the GPU image (pip download).
    """
    from safetensors.torch import load_file, save_file

    from course_lib.harness.models import minilm_path

    dest = Path(dest)
    src = Path(minilm_path())
    (dest / "minilm").mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file() and f.suffix in (".json", ".txt") and f.name != "data_config.json":
            shutil.copy(f, dest / "minilm" / f.name)
    tensors = load_file(str(src / "model.safetensors"))
    half = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in tensors.items()}
    save_file(half, str(dest / "minilm" / "model.safetensors"), metadata={"format": "pt"})
    print(f"minilm (float16) -> {dest / 'minilm'} ({human_bytes(folder_size(dest / 'minilm'))})")

    if data_dir is not None:
        (dest / "data" / "sst2").mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(data_dir) / "tasks.json", dest / "data" / "tasks.json")
        for split in ("train", "validation"):
            source = next(Path(data_dir, "sst2").glob(f"{split}.jsonl*"))  # .jsonl or the shipped .jsonl.gz
            shutil.copy(source, dest / "data" / "sst2" / source.name)
        print(f"sst2 -> {dest / 'data'} ({human_bytes(folder_size(dest / 'data'))})")
    if wheels:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            "3.12",
            "--implementation",
            "cp",
            "--platform",
            "manylinux2014_x86_64",
            "--platform",
            "any",
            "-d",
            str(dest / "wheels"),
            *BUNDLE_WHEELS,
        ]
        subprocess.run(cmd, check=True)
    print(f"bundle: {dest} ({human_bytes(folder_size(dest))} in all)")


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description="Make the bundle an offline GPU machine needs (README.md, 'GPU run').")
    cli.add_argument("command", choices=["bundle"])
    cli.add_argument("--dest", type=Path, default=DEFAULT_OUT / "device")
    cli.add_argument(
        "--data-dir",
        type=Path,
        default=os.environ.get("COURSE_DATA_DIR") or None,
        help="where sst2 comes from (default: COURSE_DATA_DIR, else the data shipped in data/tasks)",
    )
    cli.add_argument("--no-wheels", action="store_true", help="skip `pip download` of datasets/dill/multiprocess")
    a = cli.parse_args()
    if a.data_dir is None:
        from course_lib.harness.data import shipped_data_dir

        a.data_dir = shipped_data_dir()
    make_bundle(a.dest, a.data_dir, wheels=not a.no_wheels)
