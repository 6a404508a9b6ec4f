"""Train the course's own small decoder language model, openly, on the course's own text (issue 15).

    python scripts/pretrain_tiny_gpt2.py --out build/tiny-gpt2            # the full run: about 30 minutes on a 2-core CPU
    python scripts/pretrain_tiny_gpt2.py --smoke --out /tmp/tiny-gpt2     # a one-minute check that it all works

1. Text: the ``text`` (or ``tokens``, joined) of every *train* split in ``data/tasks/`` (the data sets that ship
   with the course, see data/tasks/README.md). The validation and test splits are never read, so that the
   notebooks' evaluations stay unseen; the validation perplexity is measured on a seeded 2 % of the training
   sentences held out from pretraining.
2. Tokenizer: a byte-level BPE (the ``tokenizers`` package's ``ByteLevelBPETokenizer``, GPT-2's scheme) trained
   on that text, with one special token, ``<|endoftext|>``, which also ends every sentence.
3. Model: a ``GPT2LMHeadModel`` (by default 4 layers, width 192, 4 heads, 128 positions, a 4,096-token vocabulary:
   about 2.6 million parameters, ~10 MB in float32), trained from scratch with AdamW on blocks of 128 tokens of
   the concatenated sentences, for ``--steps`` steps (1,000 by default) on one PyTorch thread (``--threads``: one
   thread is slower on an idle machine but is not slowed down by thread contention on a busy one). The
   learning-rate schedule depends on the step only, so a rerun with the same settings and thread count retraces
   the same losses; ``training_log.json`` keeps every step's loss, which ``tests/test_tiny_gpt2.py`` compares
   with a rerun of the first steps.
4. Output (``--out``): ``save_pretrained`` of the model and the tokenizer, ``training_log.json`` (every number
   below) and ``README.md``, a model card: data, size, steps, final training loss, validation perplexity, and
   what such a model can and cannot do. The weights are not committed by this script.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "tasks"
EOS = "<|endoftext|>"


@dataclass(frozen=True)
class Settings:
    vocab_size: int = 4096
    n_embd: int = 192
    n_layer: int = 4
    n_head: int = 4
    block: int = 128
    batch: int = 32
    steps: int = 1000
    lr: float = 1e-3
    warmup: int = 100
    held_out: float = 0.02
    max_texts: int | None = None
    seed: int = 0
    threads: int = 1


SMOKE = Settings(vocab_size=512, n_embd=32, n_layer=2, n_head=4, block=64, batch=16, steps=40, warmup=5, max_texts=4000)


def read_texts(data_dir: Path, max_texts: int | None, seed: int) -> list[str]:
    """The sentences of every task's train split (``text``, or the ``tokens`` of a token task joined by spaces)."""
    files = sorted(data_dir.glob("*/train.jsonl*"))
    if not files:
        raise SystemExit(f"no */train.jsonl(.gz) under {data_dir}: is this a checkout of the course?")
    texts = []
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as rows:
            for line in rows:
                row = json.loads(line)
                text = row["text"] if "text" in row else " ".join(row["tokens"])
                if text.strip():
                    texts.append(text.strip())
    random.Random(seed).shuffle(texts)
    return texts[:max_texts] if max_texts else texts


def train_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level BPE tokenizer trained on ``texts``, as a transformers ``PreTrainedTokenizerFast``."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS], show_progress=False)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, bos_token=EOS, eos_token=EOS, unk_token=EOS, pad_token=EOS
    )


def blocks(texts: list[str], tokenizer, block: int):
    """The texts' tokens, each sentence followed by ``<|endoftext|>``, concatenated and cut into rows of ``block``."""
    import torch

    ids: list[int] = []
    for encoded in tokenizer(texts, add_special_tokens=False)["input_ids"]:
        ids.extend(encoded)
        ids.append(tokenizer.eos_token_id)
    rows = len(ids) // block
    return torch.tensor(ids[: rows * block], dtype=torch.long).view(rows, block), len(ids)


def mean_loss(model, data, batch: int) -> float:
    import torch

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(data), batch):
            rows = data[start : start + batch]
            total += model(input_ids=rows, labels=rows).loss.item() * len(rows)
            count += len(rows)
    model.train()
    return total / count


def model_card(log: dict) -> str:
    s, r = log["settings"], log["results"]
    return f"""# tiny-gpt2: the course's own small decoder language model

Made by `python scripts/pretrain_tiny_gpt2.py{" --smoke" if log["smoke"] else ""}` from this repository, on
{log["hardware"]}. Everything below was measured in that run (`training_log.json` has every number).

## Data
The `text` of every *train* split of the data sets that ship with the course (`data/tasks/`: movie and product
reviews, news headlines, questions to a bank, subjectivity and opinion sentences, grammaticality examples, tweets;
see data/tasks/README.md for their sources and licenses): {r["texts"]:,} sentences, {r["tokens"]:,} tokens.
The tasks' validation and test splits were not read. {r["held_out_texts"]:,} of the sentences
({s["held_out"]:.0%}, seeded) were held out for the validation perplexity.

## Model
A `GPT2LMHeadModel` trained from scratch: {s["n_layer"]} layers, width {s["n_embd"]}, {s["n_head"]} heads,
context {s["block"]} tokens, a byte-level BPE vocabulary of {r["vocab_size"]:,} tokens (`tokenizers`), the output
layer tied to the token embedding: {r["parameters"]:,} parameters ({r["megabytes"]:.1f} MB in float32).

## Training
AdamW, learning rate {s["lr"]} (linear warm-up over {s["warmup"]} steps, then cosine decay to zero at the last step), batches of
{s["batch"]} × {s["block"]} tokens: {r["steps"]:,} steps in {r["minutes"]:.1f} minutes
({r["tokens_seen"]:,} tokens seen).

| | value |
|---|---|
| final training loss (mean of the last 50 steps) | {r["final_train_loss"]:.3f} |
| validation loss | {r["validation_loss"]:.3f} |
| validation perplexity | {r["validation_perplexity"]:.1f} |
| perplexity of a uniform guess (the vocabulary size) | {r["vocab_size"]:,} |

## What it can and cannot do
It has learned the short-range statistics of its sentences: which tokens follow which, common phrases, some
grammar, the register of reviews, headlines and banking questions. That makes it a real pretrained decoder on
which to try adapters, LoRA, prompt and prefix tuning and supervised fine-tuning in a few minutes on a laptop CPU.
It cannot follow instructions, answer questions reliably, know facts, reason, or keep a topic over more than a
sentence or two; it has never seen text outside these data sets and its context is {s["block"]} tokens. Its
continuations are often ungrammatical. Do not use it for anything but learning how the methods work.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "tiny-gpt2", help="output folder")
    parser.add_argument("--smoke", action="store_true", help="a tiny model, a few thousand sentences, ~1 minute")
    parser.add_argument("--steps", type=int, help="training steps (default: 1000, smoke: 40)")
    parser.add_argument("--threads", type=int, help="PyTorch threads (default 1)")
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the tasks folder (default: data/tasks)")
    args = parser.parse_args(argv)
    settings = SMOKE if args.smoke else Settings()
    overrides = {k: v for k, v in (("steps", args.steps), ("threads", args.threads)) if v}
    settings = Settings(**{**asdict(settings), **overrides})

    import platform

    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    started = time.perf_counter()

    texts = read_texts(args.data_dir, settings.max_texts, settings.seed)
    n_held = max(1, int(len(texts) * settings.held_out))
    held_out, train_texts = texts[:n_held], texts[n_held:]
    tokenizer = train_tokenizer(train_texts, settings.vocab_size)
    train_data, train_tokens = blocks(train_texts, tokenizer, settings.block)
    valid_data, _ = blocks(held_out, tokenizer, settings.block)
    if len(train_data) < 2 or len(valid_data) < 1:
        raise SystemExit(f"too little text: {len(train_data)} training and {len(valid_data)} validation blocks")
    print(
        f"{len(train_texts):,} sentences, {train_tokens:,} tokens, {len(train_data):,} blocks; vocab {len(tokenizer)}"
    )

    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=settings.block,
        n_embd=settings.n_embd,
        n_layer=settings.n_layer,
        n_head=settings.n_head,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
    )
    model = GPT2LMHeadModel(config)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"GPT-2: {parameters:,} parameters")

    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=0.01)

    def lr_factor(step: int) -> float:
        """Linear warm-up, then a cosine decay to zero at the last step (a function of the step only)."""
        if step < settings.warmup:
            return (step + 1) / settings.warmup
        progress = (step - settings.warmup) / max(1, settings.steps - settings.warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    generator = torch.Generator().manual_seed(settings.seed)
    losses: list[float] = []
    train_start = time.perf_counter()
    model.train()
    step = 0
    while step < settings.steps:
        for group in optimizer.param_groups:
            group["lr"] = settings.lr * lr_factor(step)
        rows = train_data[torch.randint(len(train_data), (settings.batch,), generator=generator)]
        loss = model(input_ids=rows, labels=rows).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        step += 1
        if step % 100 == 0 or step == 1:
            print(f"step {step}: loss {losses[-1]:.3f} ({time.perf_counter() - train_start:.0f} s)", flush=True)
    minutes = (time.perf_counter() - train_start) / 60
    validation_loss = mean_loss(model, valid_data, settings.batch)

    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    log = {
        "smoke": args.smoke,
        "hardware": f"{platform.processor() or platform.machine()}, {settings.threads} PyTorch threads, "
        f"torch {torch.__version__}",
        "settings": asdict(settings),
        "results": {
            "texts": len(train_texts),
            "held_out_texts": len(held_out),
            "tokens": train_tokens,
            "vocab_size": len(tokenizer),
            "parameters": parameters,
            "megabytes": parameters * 4 / 1e6,
            "steps": step,
            "minutes": minutes,
            "tokens_seen": step * settings.batch * settings.block,
            "first_train_loss": losses[0],
            "seconds_per_step": minutes * 60 / step,
            "final_train_loss": sum(losses[-50:]) / len(losses[-50:]),
            "validation_loss": validation_loss,
            "validation_perplexity": math.exp(validation_loss),
            "total_minutes": (time.perf_counter() - started) / 60,
        },
        "train_losses": [round(x, 6) for x in losses],
    }
    (args.out / "training_log.json").write_text(json.dumps(log, indent=2) + "\n")
    (args.out / "README.md").write_text(model_card(log))
    print(
        f"{step} steps in {minutes:.1f} min; final training loss {log['results']['final_train_loss']:.3f}, "
        f"validation perplexity {log['results']['validation_perplexity']:.1f}; wrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
