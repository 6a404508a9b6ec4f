"""`make lab`, the README's first command, serves JupyterLab: started headless here, its lab page fetched, stopped."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_jupyterlab(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    lab_args = f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} --ServerApp.token={token}"
    venv = Path(sys.executable).parent.parent
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "HF_HUB_OFFLINE": "1",
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log = open(tmp_path / "make-lab.log", "w+")
    # VENV: the environment these tests run in (make's default, .venv, is the same one under `make test`).
    server = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"VENV={venv}", f"LAB_ARGS={lab_args}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/lab?token={token}"
    page, deadline = None, time.monotonic() + 240
    try:
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    page = response.read().decode("utf-8", "replace")
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.seek(0)
        output = log.read()
        log.close()
    assert page is not None, f"make lab did not serve {url} (exit {server.returncode}):\n{output[-4000:]}"
    assert "<title>JupyterLab</title>" in page or "jupyter-config-data" in page, page[:2000]
    assert "course_lib doctor" in output, "make lab runs the doctor first"
    with socket.socket() as s:  # stopped: nothing listens any more
        assert s.connect_ex(("127.0.0.1", port)) != 0, "JupyterLab still serves after make lab was stopped"
