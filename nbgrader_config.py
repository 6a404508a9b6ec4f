"""nbgrader configuration of the course. Run every nbgrader command from this folder (the course root).

solutions/NN_topic/NN_topic.ipynb  (instructors' master notebooks: solutions, visible and hidden tests)
        -- nbgrader generate_assignment NN_topic -->
notebooks/NN_topic/NN_topic.ipynb  (what learners get)
"""

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "adapter-finetuning"
c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# What a learner sees where a solution was removed.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Generous per-cell limit: training cells are capped by the harness's fast mode while grading
# (nbgrader sets NBGRADER_EXECUTION), but a slow laptop should never lose points to a timeout.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True

# Keep the kernel the notebooks were written for.
c.ClearOutput.enabled = True

# Feedback without the hidden tests' source or the grading machine's paths (instructor/course_tools, installed
# by `make setup`): released feedback must not hand the hidden tests to the next class.
try:
    import course_tools.grading.feedback  # noqa: F401
except ImportError:
    import sys

    print(
        "nbgrader_config.py: WARNING: course_tools is not installed (make setup), so feedback made here would "
        "show the hidden tests",
        file=sys.stderr,
    )
else:
    # nbconvert's HTML export without its slow BeautifulSoup pass (course_tools.grading.feedback explains)
    c.GenerateFeedback.exporter_class = "course_tools.grading.feedback.FeedbackHTMLExporter"
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "course_tools.grading.feedback.PrivateFeedback",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
