"""pyproject.toml and environment.yml describe one environment; README, Makefile and CI agree."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {canonicalize_name(Requirement(line).name): Requirement(line) for line in lines}


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
    offenders = [name for name in files.split("\0") if name and (ROOT / name).is_file()
                 and BUILD_MACHINE_FOLDER.encode() in (ROOT / name).read_bytes()]
    assert not offenders, (f"these files name {BUILD_MACHINE_FOLDER}, which exists only on the machine the course "
                           f"was built on (a learner has only the repository): {offenders}")


def doctor(env_extra: dict, cwd: Path, tmp_path: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path), **env_extra}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-m", "course_lib", "doctor"], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=600)


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
