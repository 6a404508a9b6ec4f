"""pyproject.toml, instructor/pyproject.toml and environment.yml describe one environment; README, Makefile and
CI agree; the learner's package carries no instructor tools, which work from their own package."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def instructor_project() -> dict:
    return tomllib.loads((ROOT / "instructor" / "pyproject.toml").read_text())["project"]


def pyproject_requirements() -> dict[str, Requirement]:
    """What the course package (with its dev extra) and the instructor tools need, course_lib itself aside."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs: dict[str, Requirement] = {}
    for line in (
        project["dependencies"] + project["optional-dependencies"]["dev"] + instructor_project()["dependencies"]
    ):
        req = Requirement(line)
        name = canonicalize_name(req.name)
        if name == canonicalize_name(project["name"]):
            continue
        if name in reqs:
            assert reqs[name].specifier == req.specifier, (
                f"pyproject.toml and instructor/pyproject.toml pin {name} differently"
            )
        reqs[name] = req
    return reqs


def conda_requirements() -> dict[str, Requirement]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    reqs = [Requirement(line) for line in pip_section if not line.startswith("-")]
    return {canonicalize_name(r.name): r for r in reqs}


def test_environment_yml_lists_the_same_packages_as_pyproject():
    ours, conda = pyproject_requirements(), conda_requirements()
    assert set(conda) - set(ours) == set(), "environment.yml has packages pyproject.toml lacks"
    assert set(ours) - set(conda) == set(), "pyproject.toml has packages environment.yml lacks"


def test_environment_yml_versions_satisfy_pyproject():
    ours, conda = pyproject_requirements(), conda_requirements()
    for name, req in conda.items():
        pins = [spec.version for spec in req.specifier if spec.operator in ("==", ">=")]
        for version in pins:
            assert ours[name].specifier.contains(version, prereleases=True), (
                f"environment.yml asks for {req}, which pyproject.toml's {ours[name]} does not allow"
            )


def test_environment_yml_installs_the_project_and_python():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert "-e ." in pip_section
    tools = "-e ./instructor[dask]"
    assert tools in pip_section and pip_section.index(tools) > pip_section.index("-e ."), (
        "environment.yml must install the instructor tools (-e ./instructor[dask]) after the course package"
    )
    assert any(str(dep).startswith("python=") for dep in env["dependencies"] if isinstance(dep, str))


def test_cpu_torch_is_pinned_everywhere_it_is_installed():
    assert "TORCH_SPEC      ?= torch==2.13.0" in (ROOT / "Makefile").read_text()
    assert conda_requirements()["torch"].specifier == Requirement("torch==2.13.0").specifier


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    targets = re.findall(r"^\s*make\s+([\w-]+)", ci, flags=re.M)
    assert targets[-1:] == ["test"] and targets.count("test") == 1, (
        f".ci/run should end by calling the README test command `make test` once, found make {targets}"
    )
    for target in targets[:-1]:  # set-up steps before the tests (system packages): documented for humans too
        assert f"make {target}" in readme, f".ci/run calls `make {target}`, which README.md does not mention"
    assert "make test" in readme and "make lab" in readme
    assert "unset COURSE_DATA_DIR" in ci, ".ci/run must run the tests on the shipped data, with no outside data folder"


BUILD_MACHINE_FOLDER = "../" + "shared"  # spelled in two parts so that this file does not name it


def test_nothing_in_the_project_names_the_build_machines_data_folder():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    offenders = [
        name
        for name in files.split("\0")
        if name and (ROOT / name).is_file() and BUILD_MACHINE_FOLDER.encode() in (ROOT / name).read_bytes()
    ]
    assert not offenders, (
        f"these files name {BUILD_MACHINE_FOLDER}, which exists only on the machine the course "
        f"was built on (a learner has only the repository): {offenders}"
    )


def doctor(env_extra: dict, cwd: Path, tmp_path: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path), **env_extra}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, "-m", "course_lib", "doctor"], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


def test_doctor_reports_versions_device_model_and_data(tmp_path):
    run = doctor({"COURSE_DATA_DIR": str(tmp_path / "nowhere")}, tmp_path, tmp_path)
    out = run.stdout
    for word in ("torch", "transformers", "device", "offline model", "data"):
        assert word in out
    assert "cpu" in out
    assert "!!  data" in out and "is not a folder" in out and "-> point COURSE_DATA_DIR" in out
    assert run.returncode == 1, "a data directory that does not exist is a problem the doctor must report"


def test_doctor_in_a_fresh_clone_in_an_empty_folder_is_all_ok(tmp_path):
    """A learner's first step: clone into an empty folder, ask the doctor. No data folder, no hub, no '!!'."""
    clone = tmp_path / "empty" / "course"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=300)
    run = doctor({}, clone, tmp_path, pythonpath=clone)  # this clone's course_lib, not the checkout's
    assert "!!" not in run.stdout and run.returncode == 0, run.stdout + run.stderr
    assert f"shipped with the course: 9 tasks in {clone / 'data' / 'tasks'}" in run.stdout, run.stdout


# ----------------------------------------------------------------------------------------------
# Learners and instructors: course_lib is all a learner installs; the grader and the release are course_tools


def test_the_instructor_tools_are_a_package_of_their_own_that_make_setup_installs():
    project = instructor_project()
    deps = {canonicalize_name(Requirement(line).name): Requirement(line) for line in project["dependencies"]}
    assert "course-lib" in deps and str(deps["nbgrader"].specifier) == "==0.9.6", project["dependencies"]
    instructor = tomllib.loads((ROOT / "instructor" / "pyproject.toml").read_text())
    assert instructor["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["course_tools"]
    makefile = (ROOT / "Makefile").read_text()
    stamp = re.search(r"^\$\(STAMP\):(.*)$\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert stamp, "no $(STAMP) recipe in the Makefile"
    assert "instructor/pyproject.toml" in stamp.group(1).split(), (
        "the install stamp must depend on instructor/pyproject.toml"
    )
    recipe = stamp.group(2)
    assert '-e "./instructor[dask]"' in recipe and recipe.index("./instructor") > recipe.index('-e ".[dev]"'), (
        "make setup must install the instructor tools (with the Dask executor) after the course package"
    )
    assert re.search(r"^release:.*\n\t\$\(BIN\)/python -m course_tools\.release$", makefile, flags=re.M)
    assert not (ROOT / "course_lib" / "grading").exists() and not (ROOT / "course_lib" / "release.py").exists()


INSTRUCTOR_ONLY_IMPORTS = ("nbgrader", "course_tools", "jupyter_client")  # the grader's and the release's machinery


def imported_modules(code: str) -> set[str]:
    tree = ast.parse(code)
    found = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    found |= {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module and not node.level
    }
    return found


def test_the_learner_wheel_carries_no_grading_or_release_code(learner_wheel):
    import zipfile

    with zipfile.ZipFile(learner_wheel) as archive:
        names = archive.namelist()
        sources = {name: archive.read(name).decode() for name in names if name.endswith(".py")}
    packages = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert packages == {"course_lib"}, f"the learner wheel holds more than course_lib: {sorted(packages)}"
    for wanted in (
        "course_lib/presubmit.py",
        "course_lib/nbcells.py",
        "course_lib/package_data.py",
        "course_lib/checks.py",
        "course_lib/colab.py",
        "course_lib/doctor.py",
    ):
        assert wanted in names, f"{wanted} is missing from the learner wheel"
    assert any(name.startswith("course_lib/_data/manifests/") for name in names), (
        "the pre-submit check needs its manifests"
    )
    for name in names:
        parts = name.split("/")
        assert "grading" not in parts and parts[-1] != "release.py", (
            f"{name}: grading or release code in the learner wheel"
        )
    for name, code in sources.items():
        bad = {module for module in imported_modules(code) if module.split(".")[0] in INSTRUCTOR_ONLY_IMPORTS}
        assert not bad, f"{name} imports instructor-only machinery: {sorted(bad)}"
        assert not re.search(r"""-m['"]?,?\s*['"]?nbgrader\b""", code), f"{name} runs nbgrader (an instructor step)"


def instructor_command(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_instructor_commands_run(tmp_path):
    grading = instructor_command("course_tools.grading", "--help", cwd=tmp_path)
    assert grading.returncode == 0 and "autograde" in grading.stdout, grading.stdout + grading.stderr
    assert "python -m course_tools.grading" in grading.stdout
    autograde = instructor_command("course_tools.grading", "autograde", "--help", cwd=tmp_path)
    assert autograde.returncode == 0 and "--no-sandbox" in autograde.stdout, autograde.stdout + autograde.stderr
    check = instructor_command("course_tools.release", "--check", "00_setup", cwd=ROOT)
    assert check.returncode == 0 and "up to date" in check.stdout, check.stdout + check.stderr
    elsewhere = instructor_command("course_tools.release", "--check", cwd=tmp_path)
    assert elsewhere.returncode == 2 and "--root" in elsewhere.stderr, elsewhere.stdout + elsewhere.stderr
    unknown = instructor_command("course_tools.release", "--check", "--root", str(ROOT), "99_nothing", cwd=tmp_path)
    assert unknown.returncode == 2 and "99_nothing" in unknown.stderr, unknown.stdout + unknown.stderr


def test_the_learner_package_has_no_grading_or_release_module():
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib.util as u; "
            "print([m for m in ('course_lib.grading', 'course_lib.release') if u.find_spec(m)])",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stdout + run.stderr
