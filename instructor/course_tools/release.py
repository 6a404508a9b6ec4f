"""Make the student notebooks in ``notebooks/`` from the master notebooks in ``solutions/``.

    python -m course_tools.release            # regenerate notebooks/ and data/manifests/ (all assignments)
    python -m course_tools.release --check    # regenerate into a scratch folder and compare with notebooks/ and data/manifests/
    make release                              # the same as the first, from the course root

Run it in the course (the folder with nbgrader_config.py and solutions/, or one below it), or pass ``--root``.
Both run ``nbgrader generate_assignment`` (which removes the solutions and the hidden tests), from
the course root, so ``notebooks/`` is always exactly what nbgrader makes from ``solutions/``.
``data/manifests/<assignment>.json`` lists the graded cells of each release notebook (grade ids, cell
types, points, checksums of the test cells): the learners' pre-submit check (course_lib.presubmit)
compares their notebook with it, and makes the manifests too (``build_manifest``), so both read the
cells the same way (:mod:`course_lib.nbcells`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


class NotACourse(RuntimeError):
    """No course root (nbgrader_config.py and solutions/) was found."""


def course_root(start: Path | None = None) -> Path:
    """The course ``start`` (default: the current folder) is in: the nearest folder, ``start`` or above, with
    nbgrader_config.py and solutions/. The course is read from there, not from where this package is installed,
    so that a copy of the course (``scripts/publish.py --root``) releases its own notebooks."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "nbgrader_config.py").is_file() and (folder / "solutions").is_dir():
            return folder
    raise NotACourse(
        f"{start} is not in a course (no folder with nbgrader_config.py and solutions/ at or above it): "
        "run this from the course root, or pass --root"
    )


def assignments(root: Path) -> list[str]:
    """Assignment folders in solutions/, in course order."""
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def generate(root: Path, names: list[str], use_db: bool = True) -> None:
    """Run ``nbgrader generate_assignment`` for each name in the course at ``root``."""
    for name in names:
        cmd = [
            sys.executable,
            "-m",
            "nbgrader",
            "generate_assignment",
            name,
            "--force",
            f"--CourseDirectory.root={root}",
        ]
        if not use_db:
            cmd.append("--no-db")
        run = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{run.stdout}\n{run.stderr}")


def manifest_of(release_notebook: Path, name: str) -> dict:
    from course_lib.presubmit import build_manifest

    return build_manifest(json.loads(release_notebook.read_text()), name)


def manifest_text(manifest: dict) -> str:
    return json.dumps(manifest, indent=1) + "\n"


def write_manifests(root: Path, names: list[str]) -> list[Path]:
    """data/manifests/<name>.json from each release notebook notebooks/<name>/<name>.ipynb."""
    folder = root / "data" / "manifests"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        release = root / "notebooks" / name / f"{name}.ipynb"
        if release.is_file():
            path = folder / f"{name}.json"
            path.write_text(manifest_text(manifest_of(release, name)))
            written.append(path)
    return written


def notebook_files(folder: Path) -> dict[str, dict]:
    return {
        str(p.relative_to(folder)): json.loads(p.read_text())
        for p in sorted(folder.rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in p.parts
    }


def differences(root: Path, names: list[str] | None = None) -> list[str]:
    """What differs between ``notebooks/`` and a fresh ``nbgrader generate_assignment`` of ``solutions/``."""
    names = names or assignments(root)
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        shutil.copy(root / "nbgrader_config.py", scratch)
        shutil.copytree(root / "solutions", scratch / "solutions", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        generate(scratch, names, use_db=False)
        for name in names:
            fresh = notebook_files(scratch / "notebooks" / name)
            stored = notebook_files(root / "notebooks" / name) if (root / "notebooks" / name).is_dir() else {}
            for path in sorted(fresh.keys() | stored.keys()):
                if path not in stored:
                    problems.append(f"notebooks/{name}/{path} is missing: run `make release`")
                elif path not in fresh:
                    problems.append(f"notebooks/{name}/{path} has no master in solutions/{name}/")
                elif fresh[path] != stored[path]:
                    problems.append(
                        f"notebooks/{name}/{path} differs from what nbgrader makes of solutions/: run `make release`"
                    )
            manifest = root / "data" / "manifests" / f"{name}.json"
            release = scratch / "notebooks" / name / f"{name}.ipynb"
            if release.is_file():
                if not manifest.is_file():
                    problems.append(f"data/manifests/{name}.json is missing: run `make release`")
                elif manifest.read_text() != manifest_text(manifest_of(release, name)):
                    problems.append(
                        f"data/manifests/{name}.json is stale (the graded cells of solutions/{name} changed): run `make release`"
                    )
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument(
        "--root", type=Path, default=None, help="the course root (default: the course the current folder is in)"
    )
    parser.add_argument("names", nargs="*", help="assignments (default: all in solutions/)")
    args = parser.parse_args(argv)
    try:
        root = course_root(args.root)
    except NotACourse as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    unknown = [name for name in args.names if not (root / "solutions" / name).is_dir()]
    if unknown:
        print(f"error: no such assignment in {root / 'solutions'}: {', '.join(unknown)}", file=sys.stderr)
        return 2
    if args.check:
        problems = differences(root, args.names or None)
        print("\n".join(problems) or "notebooks/ and data/manifests/ are up to date with solutions/")
        return 1 if problems else 0
    names = args.names or assignments(root)
    generate(root, names)
    write_manifests(root, names)
    print(f"generated notebooks/ and data/manifests/ for {', '.join(names)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
