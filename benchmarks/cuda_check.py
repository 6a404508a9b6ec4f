"""Exercise course_lib's CUDA path on a GPU with a BERT-base-sized model (random weights, so it needs
no download): mixed-precision training steps for each method, and inference latency.

    python benchmarks/cuda_check.py [--steps 30] [--seq 128]

Prints the AMP dtype, the loss before/after a few steps on one fixed batch (it must fall), the median
training step time of each method relative to full fine-tuning, and inference latency ratios to the
base model at batch 1 and 32. Figures for RESULTS.md; not a test.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from transformers import BertConfig, BertForSequenceClassification

from course_lib.harness import amp_dtype, autocast, get_device, measure_latency, seed_everything, train
from course_lib.inject import add_adapters, freeze_base
from course_lib.lora import add_lora, merge_lora


def build(method: str) -> torch.nn.Module:
    seed_everything(0)
    model = BertForSequenceClassification(BertConfig(num_labels=2))
    if method == "full":
        return model
    if method.startswith("houlsby") or method.startswith("pfeiffer"):
        placement, r = method.split("-")
        add_adapters(model, placement=placement, bottleneck=int(r))
    elif method.startswith("lora"):
        add_lora(model, r=int(method.split("-")[1]), alpha=16)
    return freeze_base(model, train_head=True)


def batch(size: int, seq: int, device) -> dict:
    g = torch.Generator().manual_seed(size)
    return {
        "input_ids": torch.randint(1000, 30000, (size, seq), generator=g).to(device),
        "attention_mask": torch.ones(size, seq, dtype=torch.long, device=device),
        "labels": torch.randint(0, 2, (size,), generator=g).to(device),
    }


def step_time(method: str, data: dict, steps: int, device) -> tuple[float, float, float]:
    model = build(method).to(device)
    torch.cuda.reset_peak_memory_stats() if device.type == "cuda" else None
    history = train(
        model,
        [data],
        max_steps=steps,
        lr=1e-4 if method == "full" else 1e-3,
        warmup_ratio=0.0,
        device=device,
        progress=False,
    )
    times = []
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    for _ in range(10):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        with autocast(device):
            loss = model(**data).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else float("nan")
    return statistics.median(times) * 1000, history.step_loss[0] - history.step_loss[-1], peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seq", type=int, default=128)
    args = parser.parse_args()
    device = get_device()
    print(
        f"device {device} {torch.cuda.get_device_name(device) if device.type == 'cuda' else ''} torch {torch.__version__} amp {amp_dtype(device)}"
    )

    data = batch(32, args.seq, device)
    rows = {m: step_time(m, data, args.steps, device) for m in ("full", "houlsby-64", "pfeiffer-64", "lora-8")}
    full = rows["full"][0]
    print("\nmethod        step_ms  ratio_to_full  loss_drop  peak_MiB")
    for m, (ms, drop, peak) in rows.items():
        print(f"{m:<12} {ms:8.2f} {ms / full:14.2f} {drop:10.3f} {peak:9.0f}")

    base = build("full").eval().to(device)
    variants = {"base": base, "houlsby-64": build("houlsby-64"), "pfeiffer-64": build("pfeiffer-64")}
    lora = build("lora-8")
    variants["lora-unmerged"] = lora
    variants["lora-merged"] = merge_lora(copy.deepcopy(lora))
    print("\nlatency (ms, median of 50) and ratio to base, seq", args.seq)
    for size in (1, 32):
        inputs = {k: v for k, v in batch(size, args.seq, device).items() if k != "labels"}
        results = {}
        for _ in range(2):  # two interleaved rounds, keep the best median of each
            for name, model in variants.items():
                ms = measure_latency(model.eval().to(device), inputs, repeats=50, warmup=10)["median_ms"]
                results[name] = min(ms, results.get(name, float("inf")))
        for name, ms in results.items():
            print(f"batch {size:>2} {name:<14} {ms:8.3f} ms  x{ms / results['base']:.3f}")


if __name__ == "__main__":
    main()
