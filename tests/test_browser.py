"""The course as learners meet it: JupyterLab in a headless Chromium, clicked through like a learner.

The test starts JupyterLab from the project's environment on a scratch copy of assignment 03 (the
repository's solutions/ and notebooks/ are only read), opens the notebooks from the file browser,
runs them from the Run menu, and checks what a learner sees:

* the master notebook runs without an error output; the ipywidgets explorer renders and its numbers
  follow a slider moved with the keyboard; the matplotlib figure is an image in an output area;
* the student release fails only where nbgrader's metadata says it may (the exercises' stubs and the
  test cells that call them), and the toolbar's Validate button lists the failing test cells;
* every figure of ``course_lib.diagrams`` renders as an image (a scratch notebook, one cell per figure).

Requirements: Debian's ``chromium`` and ``chromium-driver`` (``make system-deps``; CI installs them) and
selenium (in the dev extras). A missing browser FAILS the test; on a machine without apt set
``COURSE_SKIP_BROWSER=1`` to skip it explicitly. ``COURSE_CHROMIUM`` / ``COURSE_CHROMEDRIVER`` name other
binaries. Screenshots (and the JupyterLab log) go to ``$COURSE_ARTIFACTS_DIR`` (default: a pytest tmp dir).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import tomllib

from course_lib.nbcells import cell_text, nbgrader_meta

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "03_parameter_counts"
SOLUTION = f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
RELEASE = f"notebooks/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"

# Generous limits: CI machines are slow and busy. Every wait polls and returns as soon as it can.
SERVER_START_S = 180
PAGE_LOAD_S = 180
KERNEL_READY_S = 180
RUN_ALL_S = 900
VALIDATE_S = 900
UI_S = 60

# ----------------------------------------------------------------------------------------------
# What the notebooks say about themselves (read from the files, never from the page)


def notebook_cells(relpath: str) -> list[dict]:
    return json.loads((ROOT / relpath).read_text())["cells"]


def source(cell: dict) -> str:
    return cell_text(cell.get("source", ""))


def is_stub_cell(cell: dict) -> bool:
    """An exercise: nbgrader replaced the solution with ``raise NotImplementedError()``."""
    return cell["cell_type"] == "code" and bool(nbgrader_meta(cell).get("solution"))


def is_test_cell(cell: dict) -> bool:
    """An autograded test cell (locked, worth points, no solution in it)."""
    meta = nbgrader_meta(cell)
    return cell["cell_type"] == "code" and bool(meta.get("grade")) and not meta.get("solution")


#: What a test cell may raise against an unsolved exercise: the stub's own NotImplementedError, a
#: NameError for a name a stubbed cell should have defined, an AssertionError from a check.
TEST_CELL_ERRORS = {"NotImplementedError", "NameError", "AssertionError"}


def allowed_errors(cells: list[dict]) -> dict[int, set[str]]:
    """Cell index -> the error names that cell may show in an untouched release; other cells must not fail.

    * an exercise cell (nbgrader ``solution``) may raise only ``NotImplementedError`` (a top-level stub);
    * an autograded test cell (nbgrader ``grade``, not ``solution``) that comes after at least one
      exercise cell may raise ``TEST_CELL_ERRORS``: it calls code the learner has not written yet;
    * every other cell (setup, imports, demos, the explorer, markdown) must run cleanly.
    """
    allowed: dict[int, set[str]] = {}
    seen_stub = False
    for i, cell in enumerate(cells):
        if is_stub_cell(cell):
            seen_stub = True
            allowed[i] = {"NotImplementedError"}
        elif is_test_cell(cell) and seen_stub:
            allowed[i] = set(TEST_CELL_ERRORS)
    return allowed


def top_level_plot_cells(cells: list[dict]) -> list[int]:
    """Code cells that draw a matplotlib figure at top level (``plt.show()`` not inside a function)."""
    return [
        i for i, c in enumerate(cells) if c["cell_type"] == "code" and re.search(r"^plt\.show\(\)", source(c), re.M)
    ]


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


# ----------------------------------------------------------------------------------------------
# Browser, server, artifacts


def _executable(env_var: str, *names: str) -> str | None:
    if os.environ.get(env_var):
        return os.environ[env_var] if os.access(os.environ[env_var], os.X_OK) else None
    return next((path for path in map(shutil.which, names) if path), None)


@pytest.fixture(scope="module")
def browser_binaries() -> tuple[str, str]:
    if os.environ.get("COURSE_SKIP_BROWSER") == "1":
        pytest.skip("COURSE_SKIP_BROWSER=1: the JupyterLab browser test was switched off explicitly")
    chromium = _executable("COURSE_CHROMIUM", "chromium", "chromium-browser")
    driver = _executable("COURSE_CHROMEDRIVER", "chromedriver")
    missing = [
        f"{name} ({f'{var}={os.environ[var]} is not executable' if os.environ.get(var) else 'not on PATH'})"
        for name, var, path in (
            ("chromium", "COURSE_CHROMIUM", chromium),
            ("chromedriver", "COURSE_CHROMEDRIVER", driver),
        )
        if not path
    ]
    if missing:
        pytest.fail(
            f"the JupyterLab browser test needs {' and '.join(missing)}. Install them with "
            "`make system-deps` (as root: apt-get install -y --no-install-recommends chromium chromium-driver), "
            "or point COURSE_CHROMIUM / COURSE_CHROMEDRIVER at them. On a machine where that is impossible, "
            "skip this test explicitly with COURSE_SKIP_BROWSER=1.",
            pytrace=False,
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.fail("the JupyterLab browser test needs selenium: pip install -e '.[dev]'", pytrace=False)
    return chromium, driver


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("COURSE_ARTIFACTS_DIR") or tmp_path_factory.mktemp("browser-artifacts"))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    folder = folder / "browser" / (worker or "main")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(folder: Path) -> None:
    """User settings for the test's JupyterLab: every cell in the DOM, no news or update toasts."""
    settings = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for name, value in settings.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


class LabServer:
    def __init__(self, course: Path, home: Path, log_path: Path):
        self.course, self.home, self.log_path = course, home, log_path
        self.token = secrets.token_hex(24)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop("MPLBACKEND", None)  # the kernel must pick matplotlib's inline backend, as for a learner
        env.pop("JUPYTER_PATH", None)
        for var, sub in (
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTERLAB_SETTINGS_DIR", "settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
            ("IPYTHONDIR", "ipython"),
        ):
            env[var] = str(self.home / sub)
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        _write_settings(self.home / "settings")
        argv = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.course}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: read cell outputs from the page's model
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.append("--allow-root")
        self.log = open(self.log_path, "w")
        # The nbgrader server extension reads nbgrader_config.py from the server's working directory.
        self.process = subprocess.Popen(argv, cwd=self.course, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"JupyterLab exited with code {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"JupyterLab did not answer on {self.base} within {SERVER_START_S} s:\n{self.tail()}")

    def tail(self, n: int = 4000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-n:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, artifacts, browser_binaries):
    """JupyterLab on a scratch course (nbgrader_config.py, the master and the release of ASSIGNMENT).

    The server's root is the scratch folder: what the test saves (Validate saves first) never reaches the repository.
    """
    scratch = tmp_path_factory.mktemp("lab")
    course = scratch / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for relpath in (SOLUTION, RELEASE):
        (course / relpath).parent.mkdir(parents=True)
        shutil.copy(ROOT / relpath, course / relpath)
    server = LabServer(course, scratch / "home", artifacts / "jupyterlab.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def driver(lab, browser_binaries, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_binaries
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1500,1100",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager look for a driver online
    browser = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    browser.set_page_load_timeout(PAGE_LOAD_S)
    browser.set_script_timeout(UI_S)
    try:
        yield browser
    finally:
        browser.quit()


# ----------------------------------------------------------------------------------------------
# A learner's actions in JupyterLab


class Learner:
    """Clicks through JupyterLab; reads what the page shows (DOM) and what it holds (the notebook model)."""

    def __init__(self, driver, lab: LabServer, artifacts: Path):
        self.d, self.lab, self.artifacts = driver, lab, artifacts

    # -- waiting and looking
    def wait(self, condition, timeout: float, what: str, poll: float = 0.5):
        """Poll ``condition()`` until it returns something truthy; fail with ``what`` after ``timeout`` s."""
        from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

        deadline, last_error = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                value = condition()
                if value:
                    return value
            except (StaleElementReferenceException, WebDriverException) as exc:  # the page re-rendered
                last_error = exc
            time.sleep(poll)
        self.screenshot(f"TIMEOUT-{re.sub(r'[^A-Za-z0-9]+', '-', what)[:60]}")
        detail = f" (last error: {type(last_error).__name__}: {str(last_error)[:300]})" if last_error else ""
        raise AssertionError(
            f"timed out after {timeout:.0f} s waiting for {what}{detail}\nJupyterLab log:\n{self.lab.tail(2000)}"
        )

    def js(self, script: str, *args):
        return self.d.execute_script(script, *args)

    def screenshot(self, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        with contextlib.suppress(Exception):
            self.d.save_screenshot(str(path))
        return path

    def visible(self, css: str):
        from selenium.webdriver.common.by import By

        return [e for e in self.d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]

    # -- the page
    def open_lab(self) -> None:
        self.d.get(f"{self.lab.base}/lab?token={self.lab.token}")
        self.wait(
            lambda: self.js("return !!(window.jupyterapp && window.jupyterapp.shell)"),
            PAGE_LOAD_S,
            "JupyterLab to load",
        )
        self.wait(lambda: self.visible(".jp-DirListing-item"), PAGE_LOAD_S, "the file browser to list the course")

    def open_from_file_browser(self, relpath: str) -> None:
        """Go to the course root in the file browser, then double-click each folder and the notebook."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By

        self.wait(lambda: self.visible(".jp-BreadCrumbs-home"), UI_S, "the file browser's home crumb")[0].click()
        parts = relpath.split("/")
        for depth, name in enumerate(parts):
            folder = "/".join(parts[:depth])
            self.wait(
                lambda folder=folder: self.file_browser_path() == folder, UI_S, f"the file browser to show /{folder}"
            )

            def item(name=name):
                for element in self.visible(".jp-DirListing-item"):
                    if element.find_element(By.CSS_SELECTOR, ".jp-DirListing-itemText").text.strip() == name:
                        return element
                return None

            ActionChains(self.d).double_click(
                self.wait(item, UI_S, f"{name!r} in the file browser at /{folder}")
            ).perform()
        self.wait(
            lambda: self.js(
                "const w = window.jupyterapp.shell.currentWidget;"
                "return !!(w && w.context && w.context.path === arguments[0] && w.content && w.content.model)",
                relpath,
            ),
            PAGE_LOAD_S,
            f"{relpath} to open in a notebook tab",
        )
        self.wait(
            lambda: self.js("return window.jupyterapp.shell.currentWidget.content.widgets.length") > 0,
            PAGE_LOAD_S,
            "the notebook's cells to render",
        )

    def file_browser_path(self) -> str | None:
        return self.js("""
            const browser = Array.from(window.jupyterapp.shell.widgets('left')).find(w => w.id === 'filebrowser');
            return browser ? browser.model.path : null;""")

    def kernel_status(self) -> str:
        return self.js("const w = window.jupyterapp.shell.currentWidget; return w.sessionContext.kernelDisplayStatus;")

    def wait_kernel_idle(self, what: str = "the kernel to be ready (idle)") -> None:
        self.wait(
            lambda: (
                self.kernel_status() == "idle"
                and self.js("return window.jupyterapp.shell.currentWidget.sessionContext.isReady")
            ),
            KERNEL_READY_S,
            what,
        )

    def menu(self, menu: str, item: str) -> None:
        """Click a menu in the menu bar, then one of its items."""
        from selenium.webdriver.common.by import By

        def find_menu():
            return next((e for e in self.visible(".lm-MenuBar-item") if e.text.strip() == menu), None)

        self.wait(find_menu, UI_S, f"the {menu!r} menu").click()

        def find_item():
            for element in self.visible(".lm-Menu .lm-Menu-item"):
                labels = element.find_elements(By.CSS_SELECTOR, ".lm-Menu-itemLabel")
                if labels and labels[0].text.strip() == item:
                    return element
            return None

        self.wait(find_item, UI_S, f"{menu} → {item}").click()
        self.wait(lambda: not self.visible(".lm-Menu"), UI_S, f"the {menu!r} menu to close")

    def prompts_running(self) -> bool:
        return bool(
            self.js("""
            const nb = window.jupyterapp.shell.currentWidget.content;
            return nb.widgets.some(c => c.model.type === 'code' &&
                ((c.node.querySelector('.jp-InputPrompt') || {}).textContent || '').includes('*'));""")
        )

    def execution_counts(self) -> list:
        return [c["execution_count"] for c in self.cells()]

    def run(self, menu_item: str, what: str) -> None:
        """Run → ``menu_item``, then wait until the run has started and finished."""
        before = self.execution_counts()
        self.menu("Run", menu_item)
        self.wait_run_finished(what, before)

    def wait_run_finished(self, what: str, before: list) -> None:
        """The run started (a ``[*]`` prompt, a busy kernel or new execution counts since ``before``),
        then the kernel is idle with no ``[*]`` prompt left."""
        self.wait(
            lambda: self.prompts_running() or self.kernel_status() == "busy" or self.execution_counts() != before,
            UI_S,
            f"{what} to start",
            poll=0.2,
        )
        stable = {"since": None}

        def settled():
            if self.kernel_status() == "idle" and not self.prompts_running():
                stable["since"] = stable["since"] or time.monotonic()
                return time.monotonic() - stable["since"] >= 2.0  # idle for two seconds, not between two cells
            stable["since"] = None
            return False

        self.wait(settled, RUN_ALL_S, f"{what} to finish (kernel idle, no [*] prompt)")

    def cells(self) -> list[dict]:
        """Every cell of the open notebook: type, execution count, outputs (from the model) and the error text shown."""
        return self.js("""
            const nb = window.jupyterapp.shell.currentWidget.content;
            return nb.widgets.map((cell, index) => {
                const m = cell.model;
                const rec = {index: index, type: m.type, execution_count: null, outputs: [], shown_errors: []};
                if (m.type !== 'code') return rec;
                rec.execution_count = m.executionCount;
                rec.outputs = m.outputs.toJSON().map(o => ({output_type: o.output_type, ename: o.ename || null,
                    evalue: o.evalue || null, mime: Object.keys(o.data || {})}));
                rec.shown_errors = Array.from(cell.node.querySelectorAll(
                    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
                    .map(e => e.textContent).filter(t => t.includes('Traceback') || /\\w+Error\\b/.test(t))
                    .map(t => t.slice(-400));
                return rec;
            });""")

    def errors(self) -> dict[int, list[str]]:
        found = {}
        for cell in self.cells():
            names = [o["ename"] for o in cell["outputs"] if o["output_type"] == "error"]
            if names:
                found[cell["index"]] = names
        return found

    def cell_node(self, index: int):
        return self.js("return window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]].node", index)

    def select_cell(self, index: int) -> None:
        """Click a cell's prompt area, as a learner selects a cell without editing it."""
        from selenium.webdriver.common.by import By

        node = self.cell_node(index)
        self.js("arguments[0].scrollIntoView({block: 'center'})", node)
        node.find_element(By.CSS_SELECTOR, ".jp-InputPrompt").click()
        self.wait(
            lambda: self.js("return window.jupyterapp.shell.currentWidget.content.activeCellIndex") == index,
            UI_S,
            f"cell {index} to be selected",
        )

    def scroll_to(self, element) -> None:
        self.js("arguments[0].scrollIntoView({block: 'center'})", element)
        time.sleep(0.3)


@pytest.fixture(scope="module")
def learner(driver, lab, artifacts):
    person = Learner(driver, lab, artifacts)
    person.open_lab()
    return person


@contextlib.contextmanager
def on_failure_keep_page(learner: Learner, name: str):
    """Keep a screenshot and the page's HTML of a failing step as artifacts."""
    try:
        yield
    except BaseException:
        learner.screenshot(f"FAILED-{name}")
        with contextlib.suppress(Exception):
            (learner.artifacts / f"FAILED-{name}.html").write_text(learner.d.page_source)
        raise


def format_errors(cells: list[dict], indices) -> str:
    by_index = {c["index"]: c for c in cells}
    lines = []
    for i in indices:
        outs = [f"{o['ename']}: {o['evalue']}" for o in by_index[i]["outputs"] if o["output_type"] == "error"]
        lines.append(f"  cell {i}: {'; '.join(outs)}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# The tests


def explorer_state(learner: Learner) -> dict:
    """The explorer's sliders (label -> readout) and its result numbers, as shown on the page."""
    return learner.js("""
        const box = document.querySelector('.param-explorer');
        if (!box) return null;
        const sliders = {};
        for (const s of box.querySelectorAll('.widget-slider')) {
            const label = s.querySelector('.widget-label');
            const readout = s.querySelector('.widget-readout');
            if (label && readout) sliders[label.textContent.trim()] = readout.textContent.trim();
        }
        const result = box.querySelector('.param-explorer-result');
        const pick = css => { const e = box.querySelector(css); return e ? e.textContent.trim() : null; };
        const img = box.querySelector('.jp-OutputArea-output img');
        return {sliders: sliders, text: result ? result.textContent : null, adapter_params: pick('.adapter-params'),
                percent: pick('.percent-of-base'), plot: img ? img.getAttribute('src') : null};""")


def test_master_notebook_runs_clean_with_a_live_explorer_and_a_figure(learner, artifacts):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from course_lib.params import placement_parameter_count

    file_cells = notebook_cells(SOLUTION)
    with on_failure_keep_page(learner, "master"):
        learner.open_from_file_browser(SOLUTION)
        learner.wait_kernel_idle()
        learner.screenshot("01-master-opened")
        learner.run("Run All Cells", "Run All Cells on the master notebook")
        learner.screenshot("02-master-after-run-all")

        cells = learner.cells()
        assert len(cells) == len(file_cells), f"the page shows {len(cells)} cells, the file has {len(file_cells)}"
        errors = learner.errors()
        assert not errors, f"the master notebook shows error outputs:\n{format_errors(cells, errors)}"
        shown = {c["index"]: c["shown_errors"] for c in cells if c["shown_errors"]}
        assert not shown, f"cells display a traceback: {shown}"
        not_run = [c["index"] for c in cells if c["type"] == "code" and not c["execution_count"]]
        assert not not_run, f"Run All Cells did not run code cells {not_run}"

        # The matplotlib figure: a PNG <img> in the output area of every top-level plotting cell.
        plot_cells = top_level_plot_cells(file_cells)
        assert plot_cells, f"{SOLUTION} has no top-level plotting cell any more: update this test"
        for index in plot_cells:
            images = learner.cell_node(index).find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output img")
            assert images, f"cell {index} draws a figure but its output area holds no <img>"
            learner.scroll_to(images[0])
            assert images[0].get_attribute("src").startswith("data:image/png"), "the figure is not an inline PNG"
            assert learner.js("return arguments[0].naturalWidth", images[0]) > 100, "the figure's image is empty"
        learner.screenshot("03-master-figure")

        # The explorer: rendered by the widget manager, its numbers follow the r slider.
        state = learner.wait(
            lambda: (s := explorer_state(learner)) and s["adapter_params"] and s["plot"] and s,
            UI_S,
            "the ipywidgets explorer to render (its result and its plot)",
        )
        assert {"d", "L", "r"} <= set(state["sliders"]), f"the explorer's sliders are {state['sliders']}"
        d, n_layers, r = (int(state["sliders"][k]) for k in ("d", "L", "r"))
        assert state["adapter_params"] == f"{placement_parameter_count(d, n_layers, r, 'houlsby'):,}", state
        box = learner.d.find_element(By.CSS_SELECTOR, ".param-explorer")
        learner.scroll_to(box)
        learner.screenshot("04-explorer-before")

        r_slider = next(
            s
            for s in box.find_elements(By.CSS_SELECTOR, ".widget-slider")
            if s.find_element(By.CSS_SELECTOR, ".widget-label").text.strip() == "r"
        )
        handle = r_slider.find_element(By.CSS_SELECTOR, ".noUi-handle")
        learner.js("arguments[0].focus()", handle)
        for _ in range(3):
            handle.send_keys(Keys.ARROW_RIGHT)

        def updated():
            s = explorer_state(learner)
            if not s or s["sliders"].get("r") in (None, str(r)) or learner.kernel_status() != "idle":
                return None
            shown_r = int(s["sliders"]["r"])  # the kernel has caught up with the slider when the numbers match it
            return (
                s if s["adapter_params"] == f"{placement_parameter_count(d, n_layers, shown_r, 'houlsby'):,}" else None
            )

        after = learner.wait(updated, UI_S, "the explorer's numbers to follow the r slider moved with the keyboard")
        new_r = int(after["sliders"]["r"])
        assert new_r > r, f"three right-arrow presses moved r from {r} to {new_r}"
        assert after["adapter_params"] != state["adapter_params"]
        assert after["percent"] != state["percent"], f"the percentage did not change: {after['percent']}"
        learner.wait(
            lambda: (s := explorer_state(learner)) and s["plot"] and s["plot"] != state["plot"],
            UI_S,
            "the explorer's plot to be redrawn",
        )
        learner.scroll_to(box)
        learner.screenshot("05-explorer-after-slider")
        assert not learner.errors(), "moving the slider produced an error output"


def test_release_fails_only_in_the_exercises_and_validate_lists_them(learner, artifacts):
    from selenium.webdriver.common.by import By

    file_cells = notebook_cells(RELEASE)
    allowed = allowed_errors(file_cells)
    test_cells = [i for i, c in enumerate(file_cells) if is_test_cell(c)]
    assert test_cells, f"{RELEASE} has no autograded test cell"

    with on_failure_keep_page(learner, "release"):
        learner.open_from_file_browser(RELEASE)
        learner.wait_kernel_idle()
        learner.run("Run All Cells", "Run All Cells on the release")
        learner.screenshot("06-release-after-run-all")

        # Run All stops at the first failing cell. A learner who has not solved an exercise yet skips its
        # tests: select the cell after the failure and run from there, until the notebook's end is reached.
        errored: dict[int, list[str]] = {}
        for _round in range(len(file_cells)):
            errors = learner.errors()
            errored.update(errors)
            unexpected = {i: names for i, names in errors.items() if not set(names) <= allowed.get(i, set())}
            assert not unexpected, (
                "cells fail that must run cleanly in the untouched release (only exercise stubs and their test "
                f"cells may fail):\n{format_errors(learner.cells(), unexpected)}"
            )
            last_error = max(errors, default=-1)
            if last_error == -1 or last_error == len(file_cells) - 1:
                break
            cells = learner.cells()
            if all(c["execution_count"] for c in cells[last_error + 1 :] if c["type"] == "code"):
                break
            learner.select_cell(last_error + 1)
            learner.run(
                "Run Selected Cell and All Below", f"Run Selected Cell and All Below from cell {last_error + 1}"
            )

        cells = learner.cells()
        not_run = [
            c["index"] for c in cells if c["type"] == "code" and not c["execution_count"] and c["index"] not in errored
        ]
        assert not not_run, f"code cells {not_run} never ran"
        assert any("NotImplementedError" in names for names in errored.values()), (
            f"the untouched release raised no NotImplementedError: are the exercises still stubs? errors: {errored}"
        )
        passing_tests = sorted(set(test_cells) - set(errored))
        assert not passing_tests, f"test cells {passing_tests} pass on the untouched release: they test nothing"
        for index in errored:
            shown = cells[index]["shown_errors"]
            assert shown and errored[index][-1] in shown[-1], f"cell {index} holds an error the page does not show"
        assert explorer_state(learner) and explorer_state(learner)["adapter_params"], (
            "the explorer does not render in the release"
        )
        learner.select_cell(test_cells[0])
        learner.screenshot("07-release-first-failing-test")

        # nbgrader's Validate button, in the notebook toolbar: it saves, validates, lists the failing cells.
        buttons = learner.visible(".jp-NotebookPanel-toolbar .validate-button")
        assert buttons, (
            "nbgrader's Validate button is not in the notebook toolbar (is the @jupyter/nbgrader lab extension enabled?)"
        )
        assert "Validate" in buttons[0].text
        buttons[0].click()
        dialog = learner.wait(
            lambda: learner.visible(".jp-Dialog #validation-message"), VALIDATE_S, "the validation dialog"
        )[0]
        time.sleep(0.5)
        learner.screenshot("08-validate-dialog")
        title = learner.d.find_element(By.CSS_SELECTOR, ".jp-Dialog .jp-Dialog-header").text
        assert "Validation Results" in title, f"the dialog is titled {title!r}"
        assert "validation-failed" in dialog.get_attribute("class"), (
            f"the dialog does not report failing tests: {dialog.text[:1500]}"
        )
        failures = learner.js(
            """
            const kids = Array.from(arguments[0].children), found = [];
            for (let i = 0; i < kids.length; i++)
                if (kids[i].textContent.includes('The following cell failed'))
                    found.push({source: kids[i + 1].innerText, error: kids[i + 2].innerText});
            return found;""",
            dialog,
        )
        expected_sources = [first_line(source(file_cells[i])) for i in test_cells]
        got_sources = [first_line(f["source"]) for f in failures]
        assert got_sources == expected_sources, (
            f"Validate lists the failing cells starting {got_sources}, expected every test cell {expected_sources}"
        )
        assert all("NotImplementedError" in f["error"] for f in failures), [f["error"][-300:] for f in failures]
        learner.visible(".jp-Dialog .jp-Dialog-button.jp-mod-accept")[0].click()
        learner.wait(lambda: not learner.visible(".jp-Dialog"), UI_S, "the validation dialog to close")


#: Where the scratch notebook of the diagram test goes, inside the served course.
DIAGRAMS_NOTEBOOK = "diagrams/diagrams.ipynb"


def diagram_notebook() -> tuple[list[str], dict]:
    """A notebook with one code cell per function of course_lib.diagrams: the import and the call, as the
    course's notebooks write it (``name();``), each with its defaults."""
    from course_lib import diagrams

    names = list(diagrams.__all__)
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"diagram-{i}",
            "metadata": {},
            "outputs": [],
            "source": f"from course_lib.diagrams import {name}\n\n{name}();",
        }
        for i, name in enumerate(names)
    ]
    metadata = json.loads((ROOT / SOLUTION).read_text())["metadata"]  # the course's kernel, as the notebooks name it
    return names, {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def test_every_architecture_diagram_renders_in_the_browser(learner, lab):
    """Each figure of course_lib.diagrams, drawn in a kernel of the served JupyterLab, is one rendered image."""
    names, notebook = diagram_notebook()
    path = lab.course / DIAGRAMS_NOTEBOOK
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1))

    def rendered(index: int) -> int:
        """How many images of cell ``index``'s output area have loaded with a non-zero natural width."""
        return learner.js(
            """const imgs = arguments[0].querySelectorAll('.jp-OutputArea-output img');
            return Array.from(imgs).filter(i => i.complete && i.naturalWidth > 0).length;""",
            learner.cell_node(index),
        )

    with on_failure_keep_page(learner, "diagrams"):
        learner.open_from_file_browser(DIAGRAMS_NOTEBOOK)
        learner.wait_kernel_idle()
        learner.run("Run All Cells", "Run All Cells on the diagrams notebook")
        cells = learner.cells()
        assert len(cells) == len(names), f"the page shows {len(cells)} cells for {len(names)} diagrams"
        failed = {names[i]: found for i, found in learner.errors().items()}
        assert not failed, f"diagram functions raised in the browser's kernel: {failed}"

        deadline = time.monotonic() + UI_S  # images decode asynchronously: give each a moment
        while (missing := [name for i, name in enumerate(names) if not rendered(i)]) and time.monotonic() < deadline:
            time.sleep(0.5)
        outputs = {name: [o["mime"] for o in cells[i]["outputs"]] for i, name in enumerate(names)}
        assert not missing, (
            f"these figures did not render as an image in JupyterLab: {missing} "
            f"(their cells' outputs: {[outputs[name] for name in missing]})"
        )
        for i, name in enumerate(names):
            node = learner.cell_node(i)
            learner.scroll_to(node)
            learner.screenshot(f"diagram-{i}-{name}")
            width = learner.js(
                "return arguments[0].querySelector('.jp-OutputArea-output img').naturalWidth", learner.cell_node(i)
            )
            assert width > 300, f"{name}: the figure is an image only {width} px wide"
            assert rendered(i) == 1, f"{name}(); shows {rendered(i)} images, expected one (the figure, shown once)"


# ----------------------------------------------------------------------------------------------
# Without a browser: the rules above, and that CI installs the browser


def test_allowed_errors_come_from_nbgrader_metadata():
    cells = notebook_cells(RELEASE)
    allowed = allowed_errors(cells)
    stubs = {i for i, c in enumerate(cells) if is_stub_cell(c)}
    tests = {i for i, c in enumerate(cells) if is_test_cell(c)}
    assert stubs and tests and set(allowed) == stubs | tests
    assert all(allowed[i] == {"NotImplementedError"} for i in stubs)
    assert all(allowed[i] == TEST_CELL_ERRORS for i in tests)
    setup = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    assert setup not in allowed, "the setup cell must never fail"
    assert top_level_plot_cells(cells), "the release draws no figure at top level"

    def cell(**nbgrader):
        return {"cell_type": "code", "source": "", "metadata": {"nbgrader": nbgrader} if nbgrader else {}}

    synthetic = [
        cell(),
        cell(grade=True, solution=False),
        cell(solution=True, grade=False),
        cell(),
        cell(grade=True, solution=False),
    ]
    assert allowed_errors(synthetic) == {2: {"NotImplementedError"}, 4: TEST_CELL_ERRORS}, (
        "a test cell before any exercise, and plain cells, must not be allowed to fail"
    )


def test_ci_installs_the_browser_before_the_tests():
    makefile = (ROOT / "Makefile").read_text()
    packages = re.search(r"^APT_PACKAGES\s*\?=(.*)$", makefile, re.M)
    assert packages and {"chromium", "chromium-driver"} <= set(packages.group(1).split()), "APT_PACKAGES lacks chromium"
    assert re.search(
        r"^system-deps:\n(\t.*\n)*\t.*apt-get install -y --no-install-recommends \$\(APT_PACKAGES\)", makefile, re.M
    ), "the Makefile's system-deps target must apt-get install $(APT_PACKAGES)"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    steps = [line.strip() for line in ci if line.strip().startswith("make ")]
    assert "make system-deps" in steps and steps.index("make system-deps") < steps.index("make test"), steps
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert any(req.startswith("selenium") for req in dev), "selenium is missing from the dev extras"
