"""Training cost: time of one optimisation step of each method, relative to full fine-tuning.

One step is what ``harness.train`` does per batch: forward (under autocast on CUDA), cross-entropy,
backward, gradient clipping, AdamW step, zero_grad. Every method gets the same fixed batch
(``batch x seq`` tokens, padded to exactly ``seq``). All models live in one process and the
repetitions are interleaved (round r times every method once, in a rotating order), so a slow spell
of the machine hits all methods alike; we report medians, the median of the per-round ratios and,
for a busy machine, the ratio of the fastest steps (min / min).

Memory, three honest numbers:

* ``state``: bytes of weights + gradients + AdamW moments, worked out from the parameter counts
  (float32: 4 bytes per weight, +4 per trainable weight for its gradient, +8 for AdamW's two moments);
* ``saved activations``: bytes of the tensors autograd keeps for the backward pass, measured with
  ``torch.autograd.graph.saved_tensors_hooks`` during one forward (parameters excluded, each
  storage counted once); this is where frozen-base methods still pay;
* ``GPU peak`` (CUDA only): ``torch.cuda.max_memory_allocated`` during 3 steps of that method alone.
  On the CPU there is no per-model peak to read (``getrusage`` max RSS is per process), so "n/a".

    python benchmarks/training_cost.py --preset smoke
    python benchmarks/training_cost.py --preset cpu                 # batch 32, seq 64
    python benchmarks/training_cost.py --preset gpu --device cuda   # batch 32, seq 128, bf16 autocast
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass

import common
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Preset:
    batch_size: int
    seq_len: int
    warmup: int
    rounds: int


PRESETS = {
    "smoke": Preset(batch_size=8, seq_len=32, warmup=1, rounds=3),
    "cpu": Preset(batch_size=32, seq_len=64, warmup=2, rounds=10),
    "gpu": Preset(batch_size=32, seq_len=128, warmup=10, rounds=50),
}
ADAPTER_METHODS = ("houlsby-r16", "houlsby-r64", "pfeiffer-r64")


class StepRunner:
    """One method's model, optimizer and batch, and a timed training step."""

    def __init__(
        self,
        method: str,
        model_name: str,
        batch: dict,
        device: torch.device,
        timer=time.perf_counter,
        pooling: str = "mean",
    ):
        from course_lib.harness import make_grad_scaler

        self.method, self.device, self.timer = method, device, timer
        model, _ = common.build_method(method, model_name, seed=0, pooling=pooling)
        self.model = model.to(device).train()
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=1e-5, weight_decay=0.01)
        self.scaler = make_grad_scaler(device)
        self.inputs = {k: v.to(device) for k, v in batch.items() if k != "labels"}
        self.labels = batch["labels"].to(device)

    def forward_loss(self) -> torch.Tensor:
        from course_lib.harness import autocast

        with autocast(self.device):
            logits = self.model(**self.inputs).logits
        return F.cross_entropy(logits.float(), self.labels)

    def step(self) -> tuple[float, float, float]:
        """One training step; returns (forward, backward, optimizer) seconds."""
        sync = common.sync
        sync(self.device)
        t0 = self.timer()
        loss = self.forward_loss()
        sync(self.device)
        t1 = self.timer()
        self.scaler.scale(loss).backward()
        sync(self.device)
        t2 = self.timer()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        sync(self.device)
        t3 = self.timer()
        return t1 - t0, t2 - t1, t3 - t2

    def saved_activation_bytes(self) -> int:
        """Bytes autograd saves for backward in one forward (parameters excluded, storages once)."""
        param_storages = {p.untyped_storage().data_ptr() for p in self.model.parameters()}
        seen: dict[int, int] = {}

        def pack(t: torch.Tensor) -> torch.Tensor:
            storage = t.untyped_storage()
            if storage.data_ptr() not in param_storages:
                seen[storage.data_ptr()] = storage.nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = self.forward_loss()
        loss.backward()
        self.optimizer.zero_grad(set_to_none=True)
        return sum(seen.values())

    def state_bytes(self) -> int:
        """Weights + gradients + AdamW moments, from the parameter counts and dtypes."""
        weights = sum(p.numel() * p.element_size() for p in self.model.parameters())
        trainable = sum(p.numel() * p.element_size() for p in self.params)
        return weights + trainable * 3


def gpu_peak_bytes(
    method: str, model_name: str, batch: dict, device: torch.device, pooling: str = "mean"
) -> int | None:
    """Peak CUDA memory of 3 steps of ``method`` alone (nothing else allocated), or None off CUDA."""
    if device.type != "cuda":
        return None
    gc.collect()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    runner = StepRunner(method, model_name, batch, device, pooling=pooling)
    for _ in range(3):
        runner.step()
    peak = torch.cuda.max_memory_allocated(device)
    del runner
    gc.collect()
    torch.cuda.empty_cache()
    return peak


def measure(
    methods: list[str],
    model_name: str,
    batch: dict,
    device: torch.device,
    preset: Preset,
    timer=time.perf_counter,
    pooling: str = "mean",
) -> list[dict]:
    peaks = {m: gpu_peak_bytes(m, model_name, batch, device, pooling) for m in methods}  # before the others exist
    runners = {m: StepRunner(m, model_name, batch, device, timer, pooling) for m in methods}
    rows = {m: {"saved": r.saved_activation_bytes(), "state": r.state_bytes()} for m, r in runners.items()}
    for runner in runners.values():
        for _ in range(preset.warmup):
            runner.step()
    times: dict[str, list[tuple[float, float, float]]] = {m: [] for m in methods}
    for r in range(preset.rounds):
        order = methods[r % len(methods) :] + methods[: r % len(methods)]  # rotate: no method always first
        for m in order:
            times[m].append(runners[m].step())
        print(f"  round {r + 1}/{preset.rounds} done", end="\r", flush=True)
    print()

    results = []
    full_steps = [sum(t) for t in times["full"]] if "full" in times else None
    for m in methods:
        fwd, bwd, opt = (statistics.median(t[i] for t in times[m]) for i in range(3))
        steps = [sum(t) for t in times[m]]
        counts = common.parameter_counts(runners[m].model)
        row = {
            "method": m,
            "forward_ms": round(1000 * fwd, 2),
            "backward_ms": round(1000 * bwd, 2),
            "optimizer_ms": round(1000 * opt, 2),
            "step_ms": round(1000 * statistics.median(steps), 2),
            "step_min_ms": round(1000 * min(steps), 2),
            "backward_over_forward": round(bwd / fwd, 2),
            "step_vs_full": round(statistics.median(s / f for s, f in zip(steps, full_steps, strict=False)), 3)
            if full_steps
            else "",
            "step_vs_full_min": round(min(steps) / min(full_steps), 3) if full_steps else "",
            "trainable": counts["trainable"],
            "trainable_percent": round(counts["trainable_percent"], 3),
            "state_bytes": rows[m]["state"],
            "saved_activation_bytes": rows[m]["saved"],
            "gpu_peak_bytes": peaks[m] if peaks[m] is not None else "n/a",
            "rounds": preset.rounds,
        }
        results.append(row)
    return results


def display_rows(results: list[dict]) -> list[dict]:
    return [
        {
            "method": r["method"],
            "fwd ms": f"{r['forward_ms']:.1f}",
            "bwd ms": f"{r['backward_ms']:.1f}",
            "opt ms": f"{r['optimizer_ms']:.1f}",
            "step ms": f"{r['step_ms']:.1f}",
            "bwd/fwd": f"{r['backward_over_forward']:.2f}",
            "step / full": f"{r['step_vs_full']:.3f}" if r["step_vs_full"] != "" else "",
            "(min / min)": f"{r['step_vs_full_min']:.3f}" if r["step_vs_full_min"] != "" else "",
            "trainable %": f"{r['trainable_percent']:.3f}",
            "state (analytic)": common.human_bytes(r["state_bytes"]),
            "saved activations": common.human_bytes(r["saved_activation_bytes"]),
            "GPU peak": common.human_bytes(r["gpu_peak_bytes"]) if r["gpu_peak_bytes"] != "n/a" else "n/a",
        }
        for r in results
    ]


def target_lines(results: list[dict]) -> list[str]:
    """AdapterDrop (Rücklé et al. 2021): adapter step <= 0.70x full; course LoRA within 10 % of PEFT."""
    by = {r["method"]: r for r in results}
    lines = []
    if "full" in by:
        for m in [m for m in ADAPTER_METHODS if m in by]:
            ratio = by[m]["step_vs_full"]
            lines.append(
                f"{m:13s} step = {ratio:.3f} x full -> target (<= 0.70) {'met' if ratio <= 0.70 else 'MISSED'}"
            )
    if "lora-r8" in by and "peft-lora-r8" in by:
        rel = by["lora-r8"]["step_ms"] / by["peft-lora-r8"]["step_ms"]
        lines.append(
            f"course_lib LoRA step = {rel:.3f} x PEFT's -> target (within 10 %) "
            f"{'met' if abs(rel - 1) <= 0.10 else 'MISSED'}"
        )
    return lines


def plot(results: list[dict], path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["method"] for r in results]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    left = [0.0] * len(results)
    for key, label in (("forward_ms", "forward"), ("backward_ms", "backward"), ("optimizer_ms", "clip + AdamW")):
        values = [r[key] for r in results]
        ax.barh(names, values, left=left, label=label)
        left = [a + b for a, b in zip(left, values, strict=False)]
    ax.invert_yaxis()
    ax.set_xlabel("median time per training step (ms)")
    ax.legend()
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = common.make_parser(__doc__.splitlines()[0], PRESETS)
    parser.add_argument("--methods", help=f"comma-separated subset of {list(common.METHODS)} (keep 'full')")
    common.add_clock_option(parser)
    args = parser.parse_args()
    preset = PRESETS[args.preset]
    device = common.setup_run(args)
    methods = common.parse_list(args.methods, common.METHODS, "--methods") or list(common.DEFAULT_METHODS)
    env = common.describe_environment(device)
    timer = common.clock(args.clock, device)
    env.update(
        preset=args.preset,
        model=args.model,
        pooling=args.pooling,
        batch_size=preset.batch_size,
        seq_len=preset.seq_len,
        warmup=preset.warmup,
        rounds=preset.rounds,
        clock=args.clock,
    )
    tag = args.preset if args.clock == "wall" else f"{args.preset}_cpuclock"

    common.print_environment(env)
    common.write_json(env, args.out / f"training_cost_{tag}_environment.json")

    _, tokenizer = common.load_base(args.model, pooling=args.pooling)
    batch = common.fixed_batch(tokenizer, preset.batch_size, preset.seq_len, common.sample_texts(preset.batch_size))
    start = time.perf_counter()
    results = measure(methods, args.model, batch, device, preset, timer, args.pooling)
    print(
        f"measured in {time.perf_counter() - start:.0f} s "
        f"(load average now {common.describe_environment(device)['load_average_1min']})\n"
    )
    common.write_csv(results, args.out / f"training_cost_{tag}.csv")
    print(common.markdown_table(display_rows(results)) + "\n")
    print("\n".join(target_lines(results)))
    title = (
        f"{args.model}, batch {preset.batch_size} x seq {preset.seq_len}, {env['device']}, "
        f"{env['torch_threads']} thread(s), {args.clock} clock, mixed precision {env['mixed_precision']}"
    )
    plot(results, args.out / f"training_cost_{tag}.png", title)
    print(f"\nwrote {args.out}/training_cost_{tag}.csv and .png")


if __name__ == "__main__":
    main()
