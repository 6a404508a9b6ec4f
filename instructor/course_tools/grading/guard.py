"""Give the tests back the names they rely on.

A learner can make tests pass without a correct answer by rebinding what they use
(``check_close = lambda *a, **k: None`` in a solution cell). Before every test cell, the graded
notebook gets a small plain cell that imports those names again, exactly as the source notebook does.
The scan (:mod:`course_tools.grading.scan`) still reports the attempt.
"""

from __future__ import annotations

import ast

from course_lib.nbcells import cell_role, cell_text, nbgrader_meta
from course_tools.grading.scan import SourceFacts, parse

HEADER = "# Added by the grader: the names the test cell below uses, imported as the course notebook imports them.\n"


def guard_tests(notebook: dict, facts: SourceFacts) -> int:
    """Insert the re-import cells into ``notebook`` (in place); the number of cells inserted."""
    cells, inserted = [], 0
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and cell_role(nbgrader_meta(cell)) == "test":
            tree = parse(cell_text(cell["source"]))
            used = (
                {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} if tree is not None else set(facts.reimports)
            )
            statements = sorted({facts.reimports[name] for name in used if name in facts.reimports})
            if statements:
                cells.append(
                    {
                        "cell_type": "code",
                        "execution_count": None,
                        "outputs": [],
                        "source": HEADER + "\n".join(statements),
                        "metadata": {"editable": False, "deletable": False, "tags": ["grader-guard"]},
                    }
                )
                inserted += 1
        cells.append(cell)
    notebook["cells"] = cells
    return inserted
