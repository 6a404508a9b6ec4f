"""Quality benchmark: how close do adapters and LoRA get to full fine-tuning on SST-2?

Every method (see ``common.METHODS``) is trained with the course harness on the same rows, with the
same seeds, batch size and number of epochs; only the learning rate differs (per method: picked by a
sweep for the short cpu budget, the usual one-epoch values for the gpu preset; README.md). The model
mean-pools MiniLM's token vectors (``common.MeanPoolClassifier``; ``--pooling cls`` for Hugging Face's
[CLS] + pooler head). For each method we report the validation accuracy (mean ± sample std over the
seeds), trainable parameters, the size of what has to be stored per task, and the wall time.

    python benchmarks/quality.py --preset smoke               # checks the script (~1-2 min on 2 cores)
    python benchmarks/quality.py --preset cpu --threads 1     # 1,600 training rows (50 steps), 3 seeds
    python benchmarks/quality.py --preset gpu --device cuda   # all 67k rows, mixed precision

Outputs in ``--out``: ``quality_<preset>_runs.csv`` (one row per method and seed, rewritten after
every run, so a run cut short keeps what it finished), ``quality_<preset>_summary.csv``,
``quality_<preset>.png`` and ``quality_<preset>_environment.json``.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import common
import torch
from torch.utils.data import DataLoader


@dataclass(frozen=True)
class Preset:
    train_rows: int | None  # None = the whole training split
    epochs: int
    max_length: int
    batch_size: int
    eval_batch_size: int
    seeds: tuple[int, ...]
    eval_rows: int | None = None  # None = the whole validation split (872 rows)
    gpu_learning_rates: bool = False  # True: common.GPU_LEARNING_RATES (long run) instead of the short-budget ones


PRESETS = {
    "smoke": Preset(
        train_rows=96, epochs=1, max_length=32, batch_size=16, eval_batch_size=64, seeds=(0, 1), eval_rows=64
    ),
    "cpu": Preset(train_rows=1600, epochs=1, max_length=64, batch_size=32, eval_batch_size=64, seeds=(0, 1, 2)),
    "gpu": Preset(
        train_rows=None,
        epochs=1,
        max_length=128,
        batch_size=64,
        eval_batch_size=256,
        seeds=(0, 1, 2),
        gpu_learning_rates=True,
    ),
}
ADAPTER_METHODS = ("houlsby-r16", "houlsby-r64", "pfeiffer-r64", "houlsby-r16-ln", "pfeiffer-r64-ln")


def reshuffled(loader: DataLoader, seed: int) -> DataLoader:
    """The same tokenized rows in another order: tokenizing 67k sentences once is enough."""
    return DataLoader(
        loader.dataset,
        batch_size=loader.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
        collate_fn=loader.collate_fn,
    )


def stored_bytes(method: str, model: torch.nn.Module) -> int:
    """Bytes on disk of what must be kept per task after training (written to a temporary folder).

    adapters: ``course_lib.save_adapters`` (adapter + head); course_lib LoRA: its ``lora_A``/``lora_B``
    plus the head in one safetensors file (course_lib has no LoRA saver); PEFT: ``save_pretrained``
    (the LoRA factors; with ``--pooling cls`` also its copy of the classifier) plus, with mean pooling,
    the head in a safetensors file beside it; head only: the head; full fine-tuning: the whole model.
    """
    from safetensors.torch import save_file

    from course_lib.checkpoint import head_state_dict, save_adapters

    def save_tensors(tensors: dict, folder: Path) -> None:
        save_file({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}, str(folder / "w.safetensors"))

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if method in ADAPTER_METHODS:
            save_adapters(model, folder, include_head=True)
            if method.endswith("-ln"):
                save_tensors(common.layer_norm_state_dict(model), folder)
        elif method == "peft-lora-r8":
            if isinstance(model, common.MeanPoolClassifier):  # peft wraps the encoder; the head is ours
                model.bert.save_pretrained(folder)
                save_tensors(head_state_dict(model), folder)
            else:
                model.save_pretrained(folder)
        elif method == "lora-r8":
            lora = {k: v for k, v in model.state_dict().items() if k.rsplit(".", 1)[-1] in ("lora_A", "lora_B")}
            save_tensors({**lora, **head_state_dict(model)}, folder)
        elif method == "head":
            save_tensors(head_state_dict(model), folder)
        else:
            save_tensors(model.state_dict(), folder)
        return common.folder_size(folder)


def run_one(
    method: str,
    seed: int,
    train_loader,
    val_loader,
    device,
    model_name: str,
    epochs: int,
    lr: float,
    pooling: str = "mean",
) -> dict:
    from course_lib.harness import evaluate, train

    model, _ = common.build_method(method, model_name, seed=seed, pooling=pooling)
    counts = common.parameter_counts(model)
    start, cpu_start = time.perf_counter(), time.process_time()
    history = train(
        model, reshuffled(train_loader, seed), epochs=epochs, lr=lr, device=device, progress=False, seed=seed
    )
    common.sync(device)
    train_s, train_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    start = time.perf_counter()
    result = evaluate(model, val_loader, device=device)
    eval_s = time.perf_counter() - start
    row = {
        "method": method,
        "seed": seed,
        "lr": lr,
        "epochs": epochs,
        "steps": history.steps,
        "val_accuracy": round(result["accuracy"], 6),
        "val_loss": round(result["loss"], 6),
        "val_n": result["n"],
        "trainable": counts["trainable"],
        "total": counts["total"],
        "trainable_percent": round(counts["trainable_percent"], 4),
        "stored_bytes": stored_bytes(method, model),
        "train_s": round(train_s, 2),
        "eval_s": round(eval_s, 2),
        "train_cpu_s": round(train_cpu_s, 2),
        "samples_per_s": round(history.samples_per_second, 1),
        "final_train_loss": round(history.step_loss[-1], 4),
    }
    del model
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return row


def summarize(runs: list[dict]) -> list[dict]:
    """One row per method: accuracy mean ± std over seeds, sizes, mean times."""
    summary = []
    for method in [m for m in common.METHODS if any(r["method"] == m for r in runs)]:
        rows = [r for r in runs if r["method"] == method]
        acc_mean, acc_std = common.mean_std([100 * float(r["val_accuracy"]) for r in rows])
        summary.append(
            {
                "method": method,
                "lr": float(rows[0]["lr"]),
                "seeds": len(rows),
                "acc_mean": round(acc_mean, 2),
                "acc_std": round(acc_std, 2),
                "trainable": int(rows[0]["trainable"]),
                "trainable_percent": float(rows[0]["trainable_percent"]),
                "stored_bytes": int(rows[0]["stored_bytes"]),
                "train_s_mean": round(common.mean_std([float(r["train_s"]) for r in rows])[0], 1),
                "train_cpu_s_mean": round(common.mean_std([float(r["train_cpu_s"]) for r in rows])[0], 1),
                "eval_s_mean": round(common.mean_std([float(r["eval_s"]) for r in rows])[0], 1),
            }
        )
    return summary


def display_rows(summary: list[dict]) -> list[dict]:
    return [
        {
            "method": s["method"],
            "lr": f"{s['lr']:g}",
            "val acc % (mean ± std)": f"{s['acc_mean']:.2f} ± {s['acc_std']:.2f} (n={s['seeds']})",
            "trainable": f"{s['trainable']:,}",
            "trainable %": f"{s['trainable_percent']:.3f}",
            "stored": common.human_bytes(s["stored_bytes"]),
            "train s/run": f"{s['train_s_mean']:.1f}",
            "train CPU s/run": f"{s['train_cpu_s_mean']:.1f}",
            "eval s/run": f"{s['eval_s_mean']:.1f}",
        }
        for s in summary
    ]


def target_lines(summary: list[dict]) -> list[str]:
    """Compare with Houlsby et al. (2019): adapters within 0.5 points of full FT at <= 3.6 % trainable."""
    by = {s["method"]: s for s in summary}
    if "full" not in by:
        return ["(no full fine-tuning row: no comparison with the targets)"]
    full = by["full"]
    lines = [f"full fine-tuning: {full['acc_mean']:.2f} ± {full['acc_std']:.2f}"]
    for method in [m for m in (*ADAPTER_METHODS, "lora-r8", "peft-lora-r8") if m in by]:
        s = by[method]
        gap = s["acc_mean"] - full["acc_mean"]
        # standard error of the difference of two means over seeds: how much of the gap is seed noise
        se = (s["acc_std"] ** 2 / s["seeds"] + full["acc_std"] ** 2 / full["seeds"]) ** 0.5
        ok = gap >= -0.5 and s["trainable_percent"] <= 3.6
        lines.append(
            f"{method:13s} {gap:+.2f} ± {se:.2f} (s.e.) points vs full at {s['trainable_percent']:.2f} % "
            f"trainable -> target (>= -0.5 points, <= 3.6 %) {'met' if ok else 'MISSED'}"
        )
    return lines


def plot(summary: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    markers = "osD^vPX"
    for i, s in enumerate(summary):
        left.errorbar(
            s["trainable_percent"],
            s["acc_mean"],
            yerr=s["acc_std"],
            fmt=markers[i % len(markers)],
            capsize=4,
            label=f"{s['method']} (lr {s['lr']:g})",
        )
    left.legend(fontsize=7, loc="lower right")
    left.set_xscale("log")
    left.set_xlabel("trainable parameters (% of the model, log scale)")
    left.set_ylabel("SST-2 validation accuracy (%)")
    left.set_title("accuracy (mean ± std over seeds)")
    left.grid(alpha=0.3)
    names = [s["method"] for s in summary]
    right.barh(names, [s["train_s_mean"] for s in summary], color="tab:gray")
    right.invert_yaxis()
    right.set_xlabel("training wall time per run (s)")
    right.set_title("training time")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(runs: list[dict], out: Path, preset_name: str, title: str) -> None:
    summary = summarize(runs)
    common.write_csv(summary, out / f"quality_{preset_name}_summary.csv")
    print("\n" + common.markdown_table(display_rows(summary)) + "\n")
    print("\n".join(target_lines(summary)))
    plot(summary, out / f"quality_{preset_name}.png", title)
    print(f"\nwrote {out}/quality_{preset_name}_{{runs,summary}}.csv and quality_{preset_name}.png")


def main() -> None:
    parser = common.make_parser(__doc__.splitlines()[0], PRESETS)
    parser.add_argument("--methods", help=f"comma-separated subset of {list(common.METHODS)}")
    parser.add_argument("--seeds", help="comma-separated seeds (default: the preset's)")
    parser.add_argument("--train-rows", type=int, help="training rows (default: the preset's; 0 = all)")
    parser.add_argument("--epochs", type=int, help="epochs (default: the preset's)")
    parser.add_argument(
        "--lr",
        action="append",
        default=[],
        metavar="METHOD=LR",
        help="override a method's learning rate, e.g. --lr full=1e-4 (repeatable)",
    )
    parser.add_argument(
        "--from-csv",
        nargs="+",
        type=Path,
        help="only rebuild the summary and plot from runs CSVs of earlier (partial) runs",
    )
    args = parser.parse_args()
    preset = PRESETS[args.preset]
    if args.from_csv:
        import csv

        args.out.mkdir(parents=True, exist_ok=True)
        runs = [row for path in args.from_csv for row in csv.DictReader(open(path))]
        report(runs, args.out, args.preset, f"SST-2, {args.model}, merged from {len(args.from_csv)} CSV file(s)")
        return

    from course_lib.harness import fast_mode, load_task, make_loader

    device = common.setup_run(args)
    env = common.describe_environment(device)
    methods = common.parse_list(args.methods, common.METHODS, "--methods") or list(common.DEFAULT_METHODS)
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else list(preset.seeds)
    train_rows = preset.train_rows if args.train_rows is None else (args.train_rows or None)
    epochs = args.epochs or preset.epochs
    default_lrs = common.GPU_LEARNING_RATES if preset.gpu_learning_rates else {m: common.METHODS[m].lr for m in methods}
    lrs = {m: default_lrs[m] for m in methods}
    for item in args.lr:
        name, _, value = item.partition("=")
        if name not in lrs or not value:
            raise ValueError(f"--lr must look like METHOD=LR with METHOD one of {methods}, got {item!r}")
        lrs[name] = float(value)
    env.update(
        preset=args.preset,
        model=args.model,
        pooling=args.pooling,
        methods=methods,
        seeds=seeds,
        train_rows=train_rows or "all",
        epochs=epochs,
        max_length=preset.max_length,
        batch_size=preset.batch_size,
        learning_rates=lrs,
    )
    common.print_environment(env)
    common.write_json(env, args.out / f"quality_{args.preset}_environment.json")
    if fast_mode():
        print("WARNING: fast mode is on (COURSE_FAST=1 or NBGRADER_EXECUTION): training and evaluation are cut short")

    _, tokenizer = common.load_base(args.model, pooling=args.pooling)
    start = time.perf_counter()
    train_data = load_task("sst2", "train", limit=train_rows)
    val_data = load_task("sst2", "validation", limit=preset.eval_rows)
    train_loader = make_loader(train_data, tokenizer, batch_size=preset.batch_size, max_length=preset.max_length)
    val_loader = make_loader(val_data, tokenizer, batch_size=preset.eval_batch_size, max_length=preset.max_length)
    print(
        f"data: {len(train_data):,} training rows ({len(train_loader)} steps/epoch), "
        f"{len(val_data):,} validation rows; loaded and tokenized in {time.perf_counter() - start:.1f} s\n",
        flush=True,
    )

    runs: list[dict] = []
    total_start = time.perf_counter()
    for seed in seeds:  # seed-major: a run cut short still has every method for the first seeds
        for method in methods:
            row = run_one(method, seed, train_loader, val_loader, device, args.model, epochs, lrs[method], args.pooling)
            runs.append(row)
            common.write_csv(runs, args.out / f"quality_{args.preset}_runs.csv")
            print(
                f"{method:13s} seed {seed}: acc {100 * row['val_accuracy']:.2f} %  "
                f"train {row['train_s']:.1f} s  eval {row['eval_s']:.1f} s  "
                f"({time.perf_counter() - total_start:.0f} s so far)",
                flush=True,
            )
    print(f"\nall runs: {time.perf_counter() - total_start:.0f} s")
    title = (
        f"SST-2, {args.model} ({args.pooling} pooling), {len(train_data):,} train rows x {epochs} epoch(s), seeds {seeds}, "
        f"{env['device']}"
    )
    report(runs, args.out, args.preset, title)


if __name__ == "__main__":
    main()
