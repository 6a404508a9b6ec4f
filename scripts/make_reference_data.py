"""Make (or check) the reference outputs in data/reference/ that the graded tests compare against.

    python scripts/make_reference_data.py            # write every assignment's reference outputs
    python scripts/make_reference_data.py --check    # recompute and compare with what is stored

Each ``scripts/reference/make_NN_topic.py`` defines ``build() -> (tensors, values)``: a dict of
torch tensors (saved with safetensors) and a dict of JSON values, both computed from course_lib
with fixed seeds.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "reference"
MAKERS = ROOT / "scripts" / "reference"


def makers() -> dict[str, Path]:
    return {p.stem.removeprefix("make_"): p for p in sorted(MAKERS.glob("make_*.py"))}


def build(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.use_deterministic_algorithms(True)
    tensors, values = module.build()
    return {k: v.detach().contiguous().cpu() for k, v in tensors.items()}, values


def same_values(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_values(x, y) for x, y in zip(a, b, strict=False))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_values(a[k], b[k]) for k in a)
    return a == b


def check(name: str, tensors: dict, values: dict) -> list[str]:
    problems = []
    stored_tensors = load_file(str(OUT / f"{name}.safetensors")) if tensors else {}
    stored_values = json.loads((OUT / f"{name}.json").read_text()) if values else {}
    if stored_tensors.keys() != tensors.keys():
        problems.append(f"{name}: tensor names differ: {sorted(stored_tensors)} vs {sorted(tensors)}")
    for key in tensors.keys() & stored_tensors.keys():
        if not torch.equal(tensors[key], stored_tensors[key]):
            problems.append(f"{name}: tensor {key} differs from the stored reference")
    if not same_values(values, stored_values):
        problems.append(f"{name}: values differ from the stored reference")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("only", nargs="*", help="assignments to process (default: all)")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, path in makers().items():
        if args.only and name not in args.only:
            continue
        tensors, values = build(path)
        if args.check:
            problems += check(name, tensors, values)
            continue
        if tensors:
            save_file(tensors, str(OUT / f"{name}.safetensors"))
            (OUT / f"{name}.safetensors").chmod(0o644)
        if values:
            (OUT / f"{name}.json").write_text(json.dumps(values, indent=1, sort_keys=True) + "\n")
        print(f"wrote {name}: {len(tensors)} tensors, {len(values)} values")
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
