"""What every grading worker needs, imported once in the fork server (course_tools.grading.processes), and one
feedback page rendered there, so that no worker pays for what that imports on first use."""

from nbgrader.apps.autogradeapp import AutogradeApp  # noqa: F401
from nbgrader.apps.generatefeedbackapp import GenerateFeedbackApp  # noqa: F401

from course_tools.grading import execute, feedback, gradebook, kernel, limits  # noqa: F401

feedback.warm_up()
