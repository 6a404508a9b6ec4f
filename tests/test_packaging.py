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
    assert "COURSE_DATA_DIR" in ci


@pytest.mark.parametrize("argv", [["doctor"]])
def test_doctor_reports_versions_device_model_and_data(argv, tmp_path, monkeypatch):
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "COURSE_DATA_DIR": str(tmp_path / "nowhere"), "HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "course_lib", *argv], capture_output=True, text=True, env=env, timeout=600)
    out = run.stdout
    for word in ("torch", "transformers", "device", "offline model", "data"):
        assert word in out
    assert "cpu" in out
    assert "has no tasks.json" in out and "-> point COURSE_DATA_DIR" in out
    assert run.returncode == 1, "a missing data directory is a problem the doctor must report"
