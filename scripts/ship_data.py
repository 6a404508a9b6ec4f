"""Build and check the data sets that ship with the course (``data/tasks/``).

    python scripts/ship_data.py --from /path/to/data      # rebuild from a data folder (<task>/<split>.jsonl + tasks.json)
    python scripts/ship_data.py --from-hub                # rebuild from the Hugging Face hub (needs internet)
    python scripts/ship_data.py --check                   # are the shipped files whole and as recorded?
    python scripts/ship_data.py --check --from /path/to/data   # ... and identical to that folder's rows?

What ships: every split of every task in ``SHIPPED``, all rows, in the source's order, as gzipped JSON lines
(``data/tasks/<task>/<split>.jsonl.gz``, written byte-for-byte reproducibly). ``data/tasks/tasks.json``
records for every task (shipped or not) its kind, format, label names, sizes, sources, hub id and license, and
for every shipped split the SHA-256 of its uncompressed rows; ``data/tasks/README.md`` is generated from it.
CoNLL-2003 is listed but never shipped: its text may not be redistributed (load it from the hub, or from a
data folder given by ``COURSE_DATA_DIR``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from course_lib.harness.data import TASKS, read_jsonl  # noqa: E402  (the loader's hub ids, splits and reader)

OUT = ROOT / "data" / "tasks"

#: Tasks whose rows ship with the course, in the order the README lists them.
SHIPPED = ("sst2", "ag_news", "banking77", "subj", "cr", "mr", "mpqa", "cola", "wnut17")
#: Tasks the course knows but does not ship, and why.
NOT_SHIPPED = {
    "conll2003": "CoNLL-2003's text comes from the Reuters corpus (RCV1) and may not be redistributed: "
    "load it from the hub, or set COURSE_DATA_DIR to a folder that has conll2003/<split>.jsonl",
}

#: What each data set's authors or hosts say about reuse, as far as we could find. Where nothing is stated,
#: we say so rather than guess; the course ships those sets for teaching and research, as the hub hosts them.
LICENSES = {
    "sst2": "not stated by the authors (Socher et al. 2013); the hub's GLUE card lists 'other'",
    "ag_news": "provided by its authors for research and non-commercial use (Zhang et al. 2015, from AG's corpus)",
    "banking77": "CC BY 4.0 (PolyAI, Casanueva et al. 2020)",
    "subj": "not stated by the authors (Pang & Lee 2004, Cornell subjectivity data v1.0)",
    "cr": "not stated by the authors (Hu & Liu 2004)",
    "mr": "not stated by the authors (Pang & Lee 2005, Cornell sentence polarity data v1.0)",
    "mpqa": "not stated for the SentEval polarity version (Wiebe et al. 2005, MPQA)",
    "cola": "not stated by the authors (Warstadt et al. 2019); the hub's GLUE card lists 'other'",
    "wnut17": "CC BY 4.0 (Derczynski et al. 2017)",
    "conll2003": "CoNLL-2003 / Reuters RCV1 text: research use, no redistribution (Tjong Kim Sang & De Meulder 2003)",
}

#: Label names the course uses where a source's tasks.json has them differently (the rows are the truth:
#: subj's files follow SentEval, 0 = subjective, 1 = objective; the loader's TASKS say the same).
LABEL_FIXES = {"subj": ["subjective", "objective"]}


def jsonl_bytes(rows) -> bytes:
    """Rows as normalised JSON lines: one compact object per line, the way every shipped file is written."""
    return "".join(json.dumps(row, ensure_ascii=False, separators=(", ", ": ")) + "\n" for row in rows).encode("utf-8")


def rows_bytes(path: Path) -> bytes:
    """The JSON lines of one split of a data folder, normalised (blank lines dropped)."""
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{lineno}: not JSON ({exc})") from exc
    return jsonl_bytes(rows)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_rows(path: Path, entry: dict) -> list[str]:
    """Problems with one shipped file's rows (schema, label range), found by reading it as load_task does."""
    try:
        read_jsonl(path, entry["label_names"], tokens=entry.get("format") == "tokens")
    except ValueError as err:
        return [str(err)]
    return []


def gzip_bytes(data: bytes) -> bytes:
    """Reproducible gzip: no file name, no time stamp."""
    return gzip.compress(data, compresslevel=9, mtime=0)


# ----------------------------------------------------------------------------- building


def read_folder(folder: Path) -> tuple[dict, dict[tuple[str, str], bytes]]:
    """``tasks.json`` and the rows of every split of every known task in a data folder."""
    meta_path = folder / "tasks.json"
    if not meta_path.is_file():
        raise SystemExit(f"{folder} has no tasks.json: give the folder that holds tasks.json and <task>/<split>.jsonl")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    rows = {}
    for task in (*SHIPPED, *NOT_SHIPPED):
        if task not in meta:
            raise SystemExit(f"{meta_path} has no entry for {task!r}")
        for split in meta[task]["sizes"]:
            path = folder / task / f"{split}.jsonl"
            if task in SHIPPED:
                if not path.is_file():
                    raise SystemExit(f"{path} is missing")
                rows[task, split] = rows_bytes(path)
    return meta, rows


def read_hub() -> tuple[dict, dict[tuple[str, str], bytes]]:
    """The same rows from the Hugging Face hub, through the course's own hub loader."""
    from course_lib.harness import data as course_data

    meta, rows = {}, {}
    for task in (*SHIPPED, *NOT_SHIPPED):
        spec = course_data.TASKS[task]
        entry = {"kind": spec.kind, "label_names": None, "sizes": {}, "hub_equivalent": spec.hub_name, "sources": {}}
        if spec.format == "tokens":
            entry["format"] = "tokens"
        for split in spec.splits:
            dataset = course_data.from_hub(task, split)
            entry["label_names"] = list(course_data.label_feature(dataset).names)
            entry["sizes"][split] = len(dataset)
            entry["sources"][split] = f"hub:{spec.hub_name} split {spec.splits[split]!r}"
            if task in SHIPPED:
                rows[task, split] = jsonl_bytes(dataset)
        meta[task] = entry
    return meta, rows


def manifest(meta: dict, rows: dict[tuple[str, str], bytes]) -> dict:
    """The shipped tasks.json: the source's entries, label fixes, license, what ships and its checksums."""
    out = {}
    for task in (*SHIPPED, *NOT_SHIPPED):
        entry = dict(meta[task])
        if task in LABEL_FIXES:
            entry["label_names"] = LABEL_FIXES[task]
        entry["license"] = LICENSES[task]
        spec = TASKS[task]  # what load_task downloads when it falls back to the hub
        entry["hub_id"] = spec.hub_name
        entry["hub_splits"] = dict(spec.splits)
        if task in SHIPPED:
            entry["shipped"] = {
                split: {"file": f"{task}/{split}.jsonl.gz", "rows": "all", "sha256": sha256(rows[task, split])}
                for split in entry["sizes"]
            }
        else:
            entry["shipped"] = {}
            entry["not_shipped"] = NOT_SHIPPED[task]
        out[task] = entry
    return out


def readme(tasks: dict) -> str:
    lines = [
        "# The data sets that ship with the course",
        "",
        "Generated by `python scripts/ship_data.py` from `tasks.json` beside this file; do not edit by hand",
        "(`python scripts/ship_data.py --check` verifies both). `load_task(name, split)` reads these files when",
        "neither `data_dir=` nor `COURSE_DATA_DIR` has the task, so a fresh clone, a wheel and Colab all train on",
        'exactly these rows. Each file is `<task>/<split>.jsonl.gz`: gzipped JSON lines, `{"text", "label"}` for',
        'sentence tasks, `{"tokens", "tags"}` for named entities (BIO tags). Rows kept: all rows of every split,',
        "in the order of the source named below; `load_task(..., limit=n)` then picks the same `n` rows everywhere",
        "(a seeded shuffle, seed 0).",
        "",
        "| task | kind | labels | rows kept (per split) | source of the rows | same data on the hub | license / terms |",
        "|---|---|---|---|---|---|---|",
    ]
    for task, entry in tasks.items():
        sizes = ", ".join(f"{split} {n:,}" for split, n in entry["sizes"].items())
        kept = f"all: {sizes}" if entry["shipped"] else f"none (not shipped; {sizes} at the source)"
        sources = "; ".join(f"{split}: `{src}`" for split, src in entry["sources"].items())
        labels = len(entry["label_names"])
        hub = f"`{entry['hub_id']}`" + (
            f" ({entry['hub_equivalent'].split('(', 1)[1]}" if "(" in entry["hub_equivalent"] else ""
        )
        lines.append(f"| {task} | {entry['kind']} | {labels} | {kept} | {sources} | {hub} | {entry['license']} |")
    lines += [
        "",
        "Sources are `owner/repository@commit:path` of the public copies the rows were converted from.",
        "Label names: `tasks.json` (`label_names`, index = label id). subj follows SentEval's numbering,",
        "0 = subjective, 1 = objective.",
        "",
        "**Not shipped.** " + " ".join(f"{task}: {why}." for task, why in NOT_SHIPPED.items()),
        "",
        "**Licenses.** banking77 and WNUT 2017 are CC BY 4.0: credit the authors when you reuse them. The other",
        "sets are research data sets whose authors state no license; the course redistributes them, as the",
        "Hugging Face hub does, for teaching and research only. If your use needs more, delete `data/tasks/`:",
        "`load_task` then reads `COURSE_DATA_DIR` or the hub instead.",
        "",
        "Cite the original papers when you publish results: Socher et al. 2013 (SST-2); Zhang et al. 2015",
        "(AG News); Casanueva et al. 2020 (BANKING77); Pang & Lee 2004 (SUBJ); Hu & Liu 2004 (CR); Pang & Lee",
        "2005 (MR); Wiebe et al. 2005 (MPQA); Warstadt et al. 2019 (CoLA); Derczynski et al. 2017 (WNUT 2017);",
        "Tjong Kim Sang & De Meulder 2003 (CoNLL-2003).",
        "",
    ]
    return "\n".join(lines)


def write(tasks: dict, rows: dict[tuple[str, str], bytes]) -> None:
    for (task, split), data in rows.items():
        path = OUT / task / f"{split}.jsonl.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip_bytes(data))
    (OUT / "tasks.json").write_text(json.dumps(tasks, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (OUT / "README.md").write_text(readme(tasks), encoding="utf-8")
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {len(rows)} files of {len(SHIPPED)} tasks to {OUT.relative_to(ROOT)} ({size / 1e6:.1f} MB)")


# ----------------------------------------------------------------------------- checking


def check(source: dict[tuple[str, str], bytes] | None) -> list[str]:
    """Everything wrong with ``data/tasks`` (empty when it is whole, as recorded, and equal to ``source``)."""
    meta_path = OUT / "tasks.json"
    if not meta_path.is_file():
        return [f"{meta_path} is missing: run python scripts/ship_data.py --from DATA_DIR"]
    tasks = json.loads(meta_path.read_text(encoding="utf-8"))
    problems = []
    if set(tasks) != {*SHIPPED, *NOT_SHIPPED}:
        problems.append(f"tasks.json lists {sorted(tasks)}, expected {sorted({*SHIPPED, *NOT_SHIPPED})}")
    for task, entry in tasks.items():
        for split, shipped in entry.get("shipped", {}).items():
            path = OUT / shipped["file"]
            if not path.is_file():
                problems.append(f"{path} is missing")
                continue
            data = gzip.decompress(path.read_bytes())
            if sha256(data) != shipped["sha256"]:
                problems.append(f"{path}: rows differ from the SHA-256 recorded in tasks.json")
            n_rows = data.count(b"\n")
            if n_rows != entry["sizes"][split]:
                problems.append(f"{path}: {n_rows} rows, tasks.json says {entry['sizes'][split]}")
            problems += check_rows(path, entry)
            if source is not None and source.get((task, split)) != data:
                problems.append(f"{path}: rows differ from the source folder's {task}/{split}.jsonl")
    for task in NOT_SHIPPED:
        if (OUT / task).exists():
            problems.append(f"{OUT / task} exists, but {task} must not be redistributed")
    if (OUT / "README.md").read_text(encoding="utf-8") != readme(tasks):
        problems.append("data/tasks/README.md is not what tasks.json generates: run python scripts/ship_data.py")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--from", dest="folder", type=Path, help="a data folder with tasks.json and <task>/<split>.jsonl"
    )
    source.add_argument("--from-hub", action="store_true", help="download the same data sets from the Hugging Face hub")
    parser.add_argument("--check", action="store_true", help="verify data/tasks (and compare with --from if given)")
    args = parser.parse_args(argv)
    if args.check:
        if args.from_hub:
            parser.error("--check compares with a data folder (--from), not with the hub")
        problems = check(read_folder(args.folder)[1] if args.folder else None)
        for problem in problems:
            print(f"!! {problem}")
        print("data/tasks is whole and as recorded" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    if not (args.folder or args.from_hub):
        parser.error("say where the data comes from: --from DATA_DIR or --from-hub (or use --check)")
    meta, rows = read_folder(args.folder) if args.folder else read_hub()
    write(manifest(meta, rows), rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
