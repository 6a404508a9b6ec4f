"""Inference latency: what do adapters and LoRA cost at prediction time, relative to the base model?

Models (all built from the same pretrained weights, in eval mode): the base model, Houlsby adapters
r=64, a Pfeiffer adapter r=64, course_lib LoRA r=8 on query/value *unmerged* (two extra thin
matmuls per adapted layer) and the same LoRA *merged* into the weights (``merge_lora``: the update
is added to W, so the forward is the base model's). Untrained weights time the same as trained ones.

Timing uses ``harness.measure_latency`` (``torch.inference_mode``, ``torch.cuda.synchronize``
around every call on a GPU, warm-up calls discarded). To keep a drifting machine from favouring one
model, the measurement is interleaved: each round times every model for a few repetitions, in a
rotating order; a model's latency is the median over rounds of its per-round median, and its ratio
to the base is the median over rounds of (model / base in the same round). On CUDA the forward runs
under the harness's autocast (bfloat16 on an H100), as in ``harness.evaluate``.

Timings on a shared machine are noisy, so every model's forward is also *counted* once, which no
other program can disturb: floating-point operations (``torch.utils.flop_counter.FlopCounterMode``:
matmuls and attention) and the number of ATen operator calls (each one a kernel launch on a GPU,
where small batches are bound by launches rather than by arithmetic).

    python benchmarks/latency.py --preset smoke
    python benchmarks/latency.py --preset cpu                  # batch 1 and 32, seq 128
    python benchmarks/latency.py --preset gpu --device cuda
"""

from __future__ import annotations

import copy
import statistics
import time
from dataclasses import dataclass

import common
import torch


@dataclass(frozen=True)
class Preset:
    seq_len: int
    batch_sizes: tuple[int, ...]
    rounds: dict[int, int]  # batch size -> rounds
    repeats: dict[int, int]  # batch size -> timed calls per model and round
    warmup: int = 2


PRESETS = {
    "smoke": Preset(seq_len=32, batch_sizes=(1, 4), rounds={1: 3, 4: 3}, repeats={1: 3, 4: 2}),
    "cpu": Preset(seq_len=128, batch_sizes=(1, 32), rounds={1: 60, 32: 10}, repeats={1: 3, 32: 2}),
    "gpu": Preset(seq_len=128, batch_sizes=(1, 32), rounds={1: 30, 32: 30}, repeats={1: 20, 32: 20}, warmup=10),
}
MODELS = ("base", "houlsby-r64", "pfeiffer-r64", "lora-r8-unmerged", "lora-r8-merged")


def build_models(model_name: str, device: torch.device, pooling: str = "mean") -> dict[str, torch.nn.Module]:
    from course_lib.inject import add_adapters
    from course_lib.lora import add_lora, merge_lora

    base, _ = common.load_base(model_name, seed=0, pooling=pooling)
    torch.manual_seed(0)
    models = {"base": base}
    models["houlsby-r64"] = add_adapters(copy.deepcopy(base), placement="houlsby", bottleneck=64)
    models["pfeiffer-r64"] = add_adapters(copy.deepcopy(base), placement="pfeiffer", bottleneck=64)
    lora = add_lora(copy.deepcopy(base), target_modules=common.LORA_TARGETS, r=common.LORA_R, alpha=common.LORA_ALPHA)
    models["lora-r8-unmerged"] = lora
    models["lora-r8-merged"] = merge_lora(copy.deepcopy(lora))
    return {name: m.to(device).eval() for name, m in models.items()}


def interleaved_latency(
    models: dict, batch: dict, device: torch.device, rounds: int, repeats: int, warmup: int, clock: str = "wall"
) -> dict[str, list[float]]:
    """Per-round median latency (ms) of every model, rounds interleaved across models.

    With ``clock="cpu"`` a round's figure is instead the process CPU time of its ``repeats`` calls
    divided by ``repeats`` (measure_latency reads the wall clock; we read ``time.process_time``
    around it).
    """
    from course_lib.harness import autocast, measure_latency

    names = list(models)
    per_round: dict[str, list[float]] = {n: [] for n in names}
    with autocast(device):
        for name in names:  # warm-up once, outside the timed rounds
            measure_latency(models[name], batch, repeats=1, warmup=warmup)
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                if clock == "cpu":
                    measure_latency(models[name], batch, repeats=1, warmup=0)  # the "warmup=1" of the wall path
                    start = time.process_time()
                    measure_latency(models[name], batch, repeats=repeats, warmup=0)
                    per_round[name].append(1000 * (time.process_time() - start) / repeats)
                else:
                    result = measure_latency(models[name], batch, repeats=repeats, warmup=1)
                    per_round[name].append(result["median_ms"])
    return per_round


class _OpCounter:
    """Counts the ATen operator calls of a forward (a TorchDispatchMode, entered as a context manager)."""

    def __new__(cls):
        from torch.utils._python_dispatch import TorchDispatchMode

        class Counter(TorchDispatchMode):
            def __init__(self):
                super().__init__()
                self.calls = 0

            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                self.calls += 1
                return func(*args, **(kwargs or {}))

        return Counter()


def count_forward(model: torch.nn.Module, batch: dict, device: torch.device) -> dict:
    """FLOPs (matmuls + attention) and ATen operator calls of one forward, counted, not timed."""
    from torch.utils.flop_counter import FlopCounterMode

    from course_lib.harness import autocast

    inputs = {k: v.to(device) for k, v in batch.items() if k != "labels"}
    with torch.inference_mode(), autocast(device):
        flops = FlopCounterMode(display=False)
        with flops:
            model(**inputs)
        ops = _OpCounter()
        with ops:
            model(**inputs)
    return {"gflops": flops.get_total_flops() / 1e9, "aten_ops": ops.calls}


def summarize(
    per_round: dict[str, list[float]], batch_size: int, seq_len: int, counts: dict[str, dict] | None = None
) -> list[dict]:
    base = per_round["base"]
    counts = counts or {}
    rows = []
    for name, times in per_round.items():
        c, c0 = counts.get(name), counts.get("base")
        rows.append(
            {
                "model": name,
                "batch_size": batch_size,
                "seq_len": seq_len,
                "median_ms": round(statistics.median(times), 3),
                "min_round_ms": round(min(times), 3),
                "ratio_to_base": round(statistics.median(t / b for t, b in zip(times, base, strict=False)), 4),
                "ratio_of_min_rounds": round(min(times) / min(base), 4),  # least disturbed rounds (busy machine)
                "rounds": len(times),
                "gflops": round(c["gflops"], 3) if c else "",
                "flops_ratio_to_base": round(c["gflops"] / c0["gflops"], 4) if c and c0 else "",
                "aten_ops": c["aten_ops"] if c else "",
            }
        )
    return rows


def target_lines(rows: list[dict]) -> list[str]:
    """Targets: adapters < +15 % at batch 1 (Hu et al. 2021 saw +20-30 % on GPT-2 medium), merged LoRA within 3 %."""
    lines = []
    for row in rows:
        if row["batch_size"] == 1 and row["model"] in ("houlsby-r64", "pfeiffer-r64"):
            over = 100 * (row["ratio_to_base"] - 1)
            lines.append(
                f"{row['model']:16s} batch 1: {over:+.1f} % vs base -> target (< +15 %) "
                f"{'met' if over < 15 else 'MISSED'}"
            )
        if row["model"] == "lora-r8-merged":
            over = 100 * (row["ratio_to_base"] - 1)
            lines.append(
                f"lora-r8-merged   batch {row['batch_size']}: {over:+.1f} % vs base -> target (within 3 %) "
                f"{'met' if abs(over) <= 3 else 'MISSED'}"
            )
    return lines


def plot(rows: list[dict], path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    batch_sizes = sorted({r["batch_size"] for r in rows})
    width = 0.8 / len(batch_sizes)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, bs in enumerate(batch_sizes):
        sel = [r for r in rows if r["batch_size"] == bs]
        xs = [j + i * width for j in range(len(sel))]
        bars = ax.bar(xs, [r["ratio_to_base"] for r in sel], width, label=f"batch {bs}")
        for bar, r in zip(bars, sel, strict=False):
            ax.annotate(
                f"{r['median_ms']:.1f} ms",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
            )
    ax.set_xticks([j + width * (len(batch_sizes) - 1) / 2 for j in range(len(MODELS))], MODELS, fontsize=8)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.axhline(1.15, color="tab:red", linestyle="--", linewidth=0.8, label="+15 % (adapter target, batch 1)")
    ax.set_ylabel("latency / base latency")
    ax.set_ylim(0.8, max(1.3, max(r["ratio_to_base"] for r in rows) + 0.1))
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = common.make_parser(__doc__.splitlines()[0], PRESETS)
    common.add_clock_option(parser)
    args = parser.parse_args()
    preset = PRESETS[args.preset]
    device = common.setup_run(args)
    env = common.describe_environment(device)
    common.clock(args.clock, device)  # validates --clock against the device
    env.update(
        preset=args.preset,
        model=args.model,
        pooling=args.pooling,
        seq_len=preset.seq_len,
        batch_sizes=preset.batch_sizes,
        rounds=preset.rounds,
        repeats=preset.repeats,
        clock=args.clock,
    )
    tag = args.preset if args.clock == "wall" else f"{args.preset}_cpuclock"
    common.print_environment(env)
    common.write_json(env, args.out / f"latency_{tag}_environment.json")

    models = build_models(args.model, device, args.pooling)
    _, tokenizer = common.load_base(args.model, pooling=args.pooling)
    texts = common.sample_texts(max(preset.batch_sizes))
    rows = []
    start = time.perf_counter()
    for bs in preset.batch_sizes:
        batch = common.fixed_batch(tokenizer, bs, preset.seq_len, texts)
        counts = {name: count_forward(model, batch, device) for name, model in models.items()}
        per_round = interleaved_latency(
            models, batch, device, preset.rounds[bs], preset.repeats[bs], preset.warmup, args.clock
        )
        rows += summarize(per_round, bs, preset.seq_len, counts)
        print(f"batch {bs}: done ({time.perf_counter() - start:.0f} s so far)", flush=True)
    common.write_csv(rows, args.out / f"latency_{tag}.csv")
    shown = [
        {
            "model": r["model"],
            "batch": r["batch_size"],
            "seq": r["seq_len"],
            "median ms": f"{r['median_ms']:.2f}",
            "x base (median of paired rounds)": f"{r['ratio_to_base']:.3f}",
            "x base (min rounds)": f"{r['ratio_of_min_rounds']:.3f}",
            "rounds": r["rounds"],
            "GFLOPs": f"{r['gflops']:.2f}",
            "FLOPs x base": f"{r['flops_ratio_to_base']:.3f}",
            "ATen ops": r["aten_ops"],
        }
        for r in rows
    ]
    print("\n" + common.markdown_table(shown) + "\n")
    print("\n".join(target_lines(rows)))
    title = (
        f"{args.model}, seq {preset.seq_len}, {env['device']}, {env['torch_threads']} thread(s), "
        f"{args.clock} clock, mixed precision {env['mixed_precision']}"
    )
    plot(rows, args.out / f"latency_{tag}.png", title)
    print(f"\nwrote {args.out}/latency_{tag}.csv and .png")


if __name__ == "__main__":
    main()
