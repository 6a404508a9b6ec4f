"""Say where the course is published, and rewrite everything that names it.

    python scripts/publish.py --repository github.com/OWNER/NAME --branch main   # or: make publish REPOSITORY=... BRANCH=...
    python scripts/publish.py --check      # does every notebook name the current repository and branch, and only it?

``COURSE_REPOSITORY`` and ``COURSE_BRANCH`` in course_lib/colab.py are the one place that names where the
course is published. Publishing rewrites those two values, then (in fresh Python processes, which import
the rewritten module) the Colab setup cell and the "Open in Colab" badge of every master notebook in
solutions/ (scripts/add_course_cells.py), then the student notebooks in notebooks/ and data/manifests/
(python -m course_tools.release, one of the instructor tools `make setup` installs), and finally checks the
result. BRANCH may be a branch or a tag: the badge opens the notebook at that ref and the setup cell installs
course_lib at that same ref.

``--root`` works on another copy of the course (the tests publish a temporary copy).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
COLAB_MODULE = Path("course_lib") / "colab.py"

OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
NAME = r"[A-Za-z0-9._-]{1,100}"
REPOSITORY = re.compile(rf"github\.com/({OWNER})/({NAME})")
#: How a notebook can name where the course is published: the setup cell's pip requirement and the badge's link.
INSTALL_REFERENCE = re.compile(r"git\+https://(?P<repository>[^\s\"'@]+)@(?P<branch>[^\s\"']+)")
COLAB_REFERENCE = re.compile(
    r"colab\.research\.google\.com/github/(?P<repository>[^/\s]+/[^/\s]+)/blob/(?P<branch>\S+?)/notebooks/"
)


class PublishError(ValueError):
    """A malformed repository or branch, or a course tree that cannot be rewritten."""


def check_repository(repository: str) -> str:
    """``github.com/OWNER/NAME``, or a PublishError that says what is wrong and what to write instead."""
    value = (repository or "").strip()
    if not value:
        raise PublishError(
            "no repository given: pass REPOSITORY=github.com/OWNER/NAME (e.g. make publish "
            "REPOSITORY=github.com/my-org/adapter-course BRANCH=main)"
        )
    if REPOSITORY.fullmatch(value) and not value.endswith(".git") and value.rsplit("/", 1)[1] not in (".", ".."):
        return value
    hint = "the repository must be written github.com/OWNER/NAME (Colab opens notebooks from GitHub only)"
    bare = re.sub(r"^(git\+)?(https?|ssh|git)://", "", value)
    bare = re.sub(r"^git@github\.com:", "github.com/", bare).rstrip("/").removesuffix(".git")
    if bare != value and REPOSITORY.fullmatch(bare):
        hint += f": write {bare!r}, without the scheme, '.git' or a trailing slash"
    elif REPOSITORY.fullmatch(f"github.com/{value}"):
        hint += f": write 'github.com/{value}'"
    elif not value.startswith("github.com/"):
        hint += ", starting with 'github.com/'"
    elif value.count("/") != 2:
        hint += ", with exactly an OWNER and a NAME after 'github.com/'"
    raise PublishError(f"malformed repository {repository!r}: {hint}")


def check_branch(branch: str) -> str:
    """A git branch or tag name usable both in a pip requirement (``@REF``) and in a GitHub ``blob/REF/`` link."""
    value = (branch or "").strip()
    if not value:
        raise PublishError("no branch given: pass BRANCH=main (or a tag, e.g. BRANCH=2025-fall, to freeze a term)")
    if (
        not re.fullmatch(r"[A-Za-z0-9._/-]+", value)
        or value.startswith(("-", "/", "."))
        or value.endswith(("/", ".", ".lock"))
        or ".." in value
        or "//" in value
    ):
        raise PublishError(
            f"malformed branch {branch!r}: give a git branch or tag name such as 'main' or 'v2025.1' "
            "(letters, digits, '.', '_', '-', '/')"
        )
    return value


def load_colab(root: Path) -> ModuleType:
    """course_lib/colab.py of the course at ``root``, freshly executed (never the module this process imported)."""
    path = root / COLAB_MODULE
    spec = importlib.util.spec_from_file_location(f"_published_colab_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rewrite_colab_module(root: Path, repository: str, branch: str) -> bool:
    """Set COURSE_REPOSITORY and COURSE_BRANCH in course_lib/colab.py; True if the file changed."""
    path = root / COLAB_MODULE
    text = path.read_text()
    new = text
    for variable, value in (("COURSE_REPOSITORY", repository), ("COURSE_BRANCH", branch)):
        pattern = re.compile(rf'^{variable} = "[^"\n]*"$', re.MULTILINE)
        if len(pattern.findall(new)) != 1:
            raise PublishError(f'{path}: expected exactly one line `{variable} = "..."` to rewrite')
        new = pattern.sub(f'{variable} = "{value}"', new)
    if new != text:
        path.write_text(new)
    return new != text


def notebooks(root: Path) -> list[Path]:
    """Every notebook in solutions/ and notebooks/ (checkpoints left out)."""
    return sorted(
        p
        for folder in ("solutions", "notebooks")
        if (root / folder).is_dir()
        for p in (root / folder).rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )


def cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def problems_in(root: Path) -> list[str]:
    """Every notebook in solutions/ and notebooks/ that does not name exactly the current repository and branch:
    its first code cell must be SETUP_CELL, it must carry its badge, and no install or Colab link may name another."""
    colab = load_colab(root)
    repository, branch = colab.COURSE_REPOSITORY, colab.COURSE_BRANCH
    owner_name = repository.removeprefix("github.com/")
    fix = "run `make publish REPOSITORY=... BRANCH=...` (or scripts/add_course_cells.py, then `make release`)"
    problems = []
    for path in notebooks(root):
        where = path.relative_to(root)
        cells = json.loads(path.read_text())["cells"]
        code = [cell_text(c) for c in cells if c.get("cell_type") == "code"]
        if not code or code[0] != colab.SETUP_CELL:
            problems.append(
                f"{where}: the first code cell is not course_lib.colab.SETUP_CELL for {repository}@{branch}: {fix}"
            )
        if not any(
            c.get("cell_type") == "markdown" and cell_text(c) == colab.colab_badge_markdown(path.stem) for c in cells
        ):
            problems.append(f"{where}: no 'Open in Colab' badge for {repository}@{branch}: {fix}")
        text = "\n".join(cell_text(c) for c in cells)
        for match in INSTALL_REFERENCE.finditer(text):
            if (match["repository"], match["branch"]) != (repository, branch):
                problems.append(
                    f"{where}: installs from {match['repository']}@{match['branch']}, not {repository}@{branch}: {fix}"
                )
        for match in COLAB_REFERENCE.finditer(text):
            if (match["repository"], match["branch"]) != (owner_name, branch):
                problems.append(
                    f"{where}: links Colab to {match['repository']} at {match['branch']}, not {owner_name} at {branch}: {fix}"
                )
    if not notebooks(root):
        problems.append(f"no notebooks in {root / 'solutions'} or {root / 'notebooks'}")
    return problems


def run_step(root: Path, *args: str) -> None:
    """``python ARGS`` in a fresh process that imports course_lib from ``root`` (so it sees the rewritten module), and
    course_tools from ``root``/instructor where the copy has it (else the installed one, which works on the course in
    its current folder, ``root``)."""
    paths = [str(root), *([str(root / "instructor")] if (root / "instructor" / "course_tools").is_dir() else [])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (*paths, os.environ.get("PYTHONPATH", "")) if p)}
    print(f"publish: python {' '.join(args)}", flush=True)
    step = subprocess.run([sys.executable, *args], cwd=root, env=env)
    if step.returncode != 0:
        raise PublishError(
            f"`python {' '.join(args)}` failed (exit {step.returncode}) in {root}; fix it and run publish again"
        )


def publish(root: Path, repository: str, branch: str) -> list[str]:
    """Point the course at ``repository``@``branch``; returns the problems the final check finds (none when all went well)."""
    repository, branch = check_repository(repository), check_branch(branch)
    changed = rewrite_colab_module(root, repository, branch)
    print(f"publish: {COLAB_MODULE}: {'now' if changed else 'already'} {repository}@{branch}", flush=True)
    run_step(root, str(Path("scripts") / "add_course_cells.py"))
    run_step(root, "-m", "course_tools.release")
    return problems_in(root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repository", help="where the course is published: github.com/OWNER/NAME")
    parser.add_argument("--branch", help="the branch or tag learners get (a tag freezes a term)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; check that every notebook names the current repository and branch only",
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the course to work on (default: this checkout)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        if args.check:
            if args.repository or args.branch:
                parser.error("--check takes no --repository or --branch: it checks the values in course_lib/colab.py")
            problems = problems_in(root)
        else:
            problems = publish(root, args.repository, args.branch)
    except PublishError as error:
        print(f"publish: error: {error}", file=sys.stderr)
        return 2
    colab = load_colab(root)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"publish: every notebook in solutions/ and notebooks/ names {colab.COURSE_REPOSITORY}@{colab.COURSE_BRANCH}")
    if not args.check:
        print(
            "publish: now review `git diff`, commit course_lib/colab.py, solutions/, notebooks/ and data/manifests/, and push; "
            f"if {colab.COURSE_BRANCH!r} is a tag, create it on that commit and push it too "
            f"(git tag {colab.COURSE_BRANCH} && git push origin {colab.COURSE_BRANCH})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
