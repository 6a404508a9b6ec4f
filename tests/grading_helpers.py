"""Submissions for the grading tests: the release notebook with the learner's answers pasted in, and
every kind of bad submission an instructor meets. Cells are found by grade_id, never by position."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from course_lib.nbcells import cell_role, cell_text, grade_id, nbgrader_meta

ASSIGNMENT = "01_bottleneck_math"  # the cheapest graded notebook (no model, no data)
MAX = 10.0
CELL_POINTS = {
    "ex1_functional_forward_tests": 3.0,
    "ex1_shape_errors_tests": 1.0,
    "ex2_my_adapter_tests": 2.0,
    "ex3_linear_adapter_tests": 2.0,
    "ex4_flops_tests": 2.0,
}


def source(cell: dict) -> str:
    return cell_text(cell["source"])


def index_of(nb: dict, gid: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if grade_id(c) == gid)


def without_markers(code: str) -> str:
    """A solution as a learner writes it: the master's code without nbgrader's region markers."""
    return "\n".join(line for line in code.splitlines() if not re.match(r"\s*### (BEGIN|END) SOLUTION", line))


class Notebooks:
    """Builds learner notebooks for one assignment from its master and release notebooks."""

    def __init__(self, master: Path, release: Path):
        self.master = json.loads(master.read_text())
        self.release = json.loads(release.read_text())

    def answer(self, gid: str) -> str:
        return without_markers(source(self.master["cells"][index_of(self.master, gid)]))

    def solved(self, **answers: str) -> dict:
        """The release with every solution cell answered (the master's code unless given in ``answers``)."""
        nb = copy.deepcopy(self.release)
        for cell in nb["cells"]:
            gid = grade_id(cell)
            if cell_role(nbgrader_meta(cell)) == "solution":
                cell["source"] = answers.get(gid, self.answer(gid))
        return nb

    def blank(self) -> dict:
        return copy.deepcopy(self.release)


def write(path: Path, nb: dict | str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, bytes):
        path.write_bytes(nb)
    else:
        path.write_text(nb if isinstance(nb, str) else json.dumps(nb, indent=1))
    return path


#: The "forks" student's children sleep this long: the test looks for them after grading (none may be left).
STRAY_SLEEP = "301.25"


def bad_submissions(books: Notebooks, course: Path, net_port: int) -> dict[str, dict | str | bytes | None]:
    """student -> notebook (dict), raw file content, or None for "no notebook at all".

    ``net_port``: a port the test listens on, on this machine's loopback: the "net" student tries to reach it
    (a grading run never tries an outside address).

    Special keys: "renamed" is written as ``A (1).ipynb``; "missing" gets only a README.
    """
    a = books.answer
    ex1, ex2, ex3, ex4 = (a(g) for g in ("ex1_functional_forward", "ex2_my_adapter", "ex3_linear_adapter", "ex4_flops"))
    subs: dict[str, dict | str | bytes | None] = {}
    subs["good"] = books.solved()
    subs["dies"] = books.solved()  # graded like "good"; on a Dask cluster its task kills its worker once
    subs["blank"] = books.blank()
    subs["raises"] = books.solved(ex4_flops='raise RuntimeError("a bug in my code")\n' + ex4)
    subs["loop"] = books.solved(ex3_linear_adapter="while True:\n    pass\n" + ex3)
    subs["stuck"] = books.solved(
        ex4_flops="import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n" + ex4
    )
    nap = "\nimport time\ntime.sleep(25)\n"
    subs["sleepy"] = books.solved(
        ex1_functional_forward=ex1 + nap, ex2_my_adapter=ex2 + nap, ex3_linear_adapter=ex3 + nap
    )
    subs["flood"] = books.solved(ex1_functional_forward=ex1 + '\nprint("x" * 50_000_000)\n')
    subs["nan"] = books.solved(
        ex1_functional_forward=ex1.replace("return h + delta", 'return h + delta * float("nan")'),
        ex4_flops=ex4.replace("return 2 * (n * d * r) + 2 * (n * r * d)", 'return float("inf")'),
    )
    subs["dtype"] = books.solved(
        ex3_linear_adapter=ex3.replace(
            "return torch.eye(d, dtype=W_down.dtype, device=W_down.device) + W_down.T @ W_up.T",
            "return (torch.eye(d) + W_down.T @ W_up.T).double()[:-1]",
        ),
    )
    assert 'float("nan")' in source_of(subs["nan"], "ex1_functional_forward") and ".double()" in source_of(
        subs["dtype"], "ex3_linear_adapter"
    )

    nb = books.solved()
    del nb["cells"][index_of(nb, "ex1_shape_errors_tests")]
    subs["deleted"] = nb

    nb = books.solved()
    i = index_of(nb, "ex2_my_adapter_tests")
    nb["cells"].insert(i + 1, copy.deepcopy(nb["cells"][i]))  # same cell id and grade_id: plain nbgrader gives up
    subs["duplicated"] = nb

    nb = books.solved()
    for cell in nb["cells"]:
        for key in ("nbgrader", "deletable", "editable"):
            cell["metadata"].pop(key, None)
    subs["stripped"] = nb

    stub = source(books.release["cells"][index_of(books.release, "ex2_my_adapter")])
    nb = books.solved(ex2_my_adapter=stub)
    cell = nb["cells"][index_of(nb, "ex2_my_adapter_tests")]
    cell["source"] = 'print("all tests passed")\n'
    cell["metadata"]["nbgrader"].update(locked=False, checksum="0")
    cell["metadata"]["editable"] = True
    subs["edited"] = nb

    nb = books.solved(ex4_flops=ex4.replace("return 2 * (n * d * r) + 2 * (n * r * d)", "return 0"))
    cell = nb["cells"][index_of(nb, "ex4_flops_tests")]
    cell["source"] = "### BEGIN HIDDEN TESTS\npass\n### END HIDDEN TESTS\n"
    cell["metadata"]["nbgrader"].update(grade=False, points=0, locked=False)
    subs["hidden"] = nb

    wrong_ex3 = ex3.replace(
        "return torch.eye(d, dtype=W_down.dtype, device=W_down.device) + W_down.T @ W_up.T",
        "return torch.eye(d, dtype=W_down.dtype)",
    )
    subs["tamper"] = books.solved(
        ex3_linear_adapter="check_close = check_equal = check_shape = lambda *args, **kwargs: None\n\n" + wrong_ex3
    )

    subs["missing"] = None
    subs["renamed"] = books.solved()
    subs["corrupt"] = json.dumps(books.solved())[:1500].encode()

    gradebook = course / "gradebook.db"
    other = course / "submitted" / "good" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    snoop = books.solved()
    snoop["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": f"""import os, sqlite3
report = []
for path in [{str(gradebook)!r}, {str(other)!r}]:
    try:
        with open(path, "rb") as f:
            f.read(100)
        report.append("LEAKED read " + path)
    except OSError as err:
        report.append("blocked read: " + type(err).__name__)
try:
    con = sqlite3.connect({str(gradebook)!r})
    con.execute("create table pwned (x)")
    con.commit()
    report.append("LEAKED write")
except Exception as err:
    report.append("blocked write: " + type(err).__name__)
print("\\n".join(report))
""",
        }
    )
    subs["snoop"] = snoop

    net = books.solved()
    net["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": f"""import socket
try:
    socket.create_connection(("127.0.0.1", {net_port}), timeout=5)
    print("LEAKED network")
except OSError as err:
    print("blocked:", err)
""",
        }
    )
    subs["net"] = net

    # Resource limits, each bounded so that a grader without the limit fails the test instead of harming the
    # machine: memory (at most 3 GiB), processes (at most 100 sleepers), file size (at most 400 MB).
    def with_last_cell(code: str) -> dict:
        nb = books.solved()
        nb["cells"].append(
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": code}
        )
        return nb

    subs["hog"] = with_last_cell(
        """chunks = []
while len(chunks) < 24:
    chunks.append(bytearray(128 * 2**20))
print("LEAKED: allocated", len(chunks) * 128, "MiB")
"""
    )
    subs["forks"] = with_last_cell(
        f"""import subprocess
children = []
try:
    while len(children) < 100:
        children.append(subprocess.Popen(["sleep", "{STRAY_SLEEP}"]))
    print("LEAKED: started", len(children), "processes")
except OSError as err:
    print("stopped after", len(children), "processes:", err)
"""
    )
    subs["filler"] = with_last_cell(
        """block = b"x" * 2**20
written = 0
try:
    with open("big.bin", "wb") as out:
        while written < 400:
            out.write(block)
            out.flush()
            written += 1
    print("LEAKED: wrote", written, "MiB")
except OSError as err:
    print("stopped after", written, "MiB:", err)
"""
    )

    subs["ref"] = books.solved(
        ex2_my_adapter="""from course_lib.adapters.bottleneck import BottleneckAdapter as _Reference


class MyAdapter(_Reference):
    def __init__(self, d_model, bottleneck, activation="relu"):
        super().__init__(d_model, bottleneck, activation=activation)
"""
    )
    return subs


def source_of(nb: dict, gid: str) -> str:
    return source(nb["cells"][index_of(nb, gid)])


def submit_all(course: Path, subs: dict) -> None:
    for student, nb in subs.items():
        folder = course / "submitted" / student / ASSIGNMENT
        if nb is None:
            write(folder / "README.txt", "I forgot to attach my notebook\n")
        elif student == "renamed":
            write(folder / f"{ASSIGNMENT} (1).ipynb", nb)
        else:
            write(folder / f"{ASSIGNMENT}.ipynb", nb)
