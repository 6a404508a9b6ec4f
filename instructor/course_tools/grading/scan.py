"""Read a learner's code (never run it) for things an instructor must look at.

* **reference-import**: a solution cell imports from ``course_lib`` something the notebook itself does
  not import outside its solutions: the exercise asks the learner to implement what they imported.
* **tampering**: the learner's code rebinds or patches a name the test cells use (``check_close =
  lambda *a, **k: None``, ``torch.allclose = ...``), so that tests pass without a correct answer.
* **sandbox-violation**: the code reaches for the network, the gradebook or other students' files.
  The sandbox blocks these while grading; the scan reports the attempt even when the code hides the error.

The allowed names come from the source notebook: imports and definitions in its non-solution cells. A
name the notebook imports from one of course_lib's public modules (``PUBLIC_MODULES``: the facade
``course_lib.api`` and the modules it gathers) may be imported from any of them, as long as it is the
same object; a deeper path (``course_lib.adapters.bottleneck``) counts only if the notebook uses that path.
"""

from __future__ import annotations

import ast
import importlib
import re

from course_lib.nbcells import cell_role, cell_text, nbgrader_meta

NETWORK_MODULES = {
    "socket",
    "ssl",
    "urllib",
    "urllib2",
    "urllib3",
    "http",
    "requests",
    "httpx",
    "aiohttp",
    "ftplib",
    "smtplib",
    "telnetlib",
    "websocket",
    "websockets",
    "paramiko",
    "pycurl",
    "xmlrpc",
}
ALWAYS_PROTECTED = {"builtins", "__builtins__"}
#: course_lib's public modules: the facade and the modules whose names it re-exports (the released notebooks'
#: import paths). Within them a name is compared by the object it binds.
PUBLIC_MODULES = frozenset(
    f"course_lib.{m}"
    for m in ("api", "adapters", "specs", "model", "inject", "params", "checkpoint", "fusion", "lora", "harness")
)
MODULE_STRING = re.compile(r"^course_lib(\.\w+)*$")
OTHER_FILES = re.compile(r"(^|[/\\])(submitted|autograded|feedback|exchange)([/\\]|$)|\.\./\.\./")


def parse(code: str) -> ast.Module | None:
    """The code as a syntax tree; IPython magics and shell lines are blanked first. None: not Python."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return None


def imports(tree: ast.AST) -> list[tuple[str, str | None, str]]:
    """(module, imported name or None, bound name) for every import statement in ``tree``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, None, alias.asname or alias.name.split(".")[0]))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                found.append((node.module, alias.name, alias.asname or alias.name))
    return found


def course_lib_object(module: str, name: str | None) -> object | None:
    """The object ``from module import name`` (or ``import module``) binds, for course_lib's own trusted modules;
    ``None`` for other modules or paths that do not resolve."""
    if module.split(".")[0] != "course_lib":
        return None
    try:
        found = importlib.import_module(module)
        if name is not None:
            found = getattr(found, name) if hasattr(found, name) else importlib.import_module(f"{module}.{name}")
    except Exception:  # a path that does not exist: compared by its text only
        return None
    return found


def _same_course_lib_object(a: tuple[str, str | None], b: tuple[str, str | None]) -> bool:
    """Both imports take one name from public course_lib modules, and it is the same object."""
    if a[1] is None or b[1] is None or a[0] not in PUBLIC_MODULES or b[0] not in PUBLIC_MODULES:
        return False
    found = course_lib_object(*a)
    return found is not None and found is course_lib_object(*b)


def _bound_names(tree: ast.AST) -> dict[str, str]:
    """name -> how it is bound ("import ...", "def", "assignment") at any level of ``tree``."""
    bound: dict[str, str] = {}
    for module, name, as_name in imports(tree):
        bound[as_name] = f"import {module}" + (f".{name}" if name else "")
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.setdefault(node.name, "def")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        bound.setdefault(sub.id, "assignment")
    return bound


def _top_level_provided(tree: ast.Module) -> dict[str, tuple]:
    """Modules, functions and classes a cell binds at module level (what later cells and tests see):
    name -> ("import", module, imported name or None) or ("def",)."""
    bound: dict[str, tuple] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound[node.name] = ("def",)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for module, name, as_name in imports(node):
                bound[as_name] = ("import", module, name)
    return bound


def import_statement(as_name: str, module: str, name: str | None) -> str:
    """The import statement that binds ``as_name`` to ``module`` (or to ``name`` from it)."""
    if name is not None:
        return f"from {module} import {name}" + (f" as {as_name}" if as_name != name else "")
    if as_name == module.split(".")[0]:
        return f"import {module}"
    return f"import {module} as {as_name}"


class SourceFacts:
    """What the source notebook allows: its imports and the names its tests rely on."""

    def __init__(self, master: dict):
        self.allowed_imports: set[tuple[str, str | None]] = set()
        provided: dict[str, tuple] = {}
        solution_bound: set[str] = set()
        test_uses: set[str] = set()
        for cell in master["cells"]:
            if cell["cell_type"] != "code":
                continue
            tree = parse(cell_text(cell["source"]))
            if tree is None:
                continue
            role = cell_role(nbgrader_meta(cell))
            self.allowed_imports |= {(module, name) for module, name, _ in imports(tree)}
            if role == "solution":
                solution_bound |= set(_bound_names(tree))
            elif role == "test":
                test_uses |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            else:
                for name, how in _top_level_provided(tree).items():
                    provided.setdefault(name, how)
        # Names the tests use that the notebook provides (not the ones learners are asked to define).
        kept = {name: how for name, how in provided.items() if name in test_uses and name not in solution_bound}
        self.protected = {
            name: ("def" if how[0] == "def" else f"import {how[1]}" + (f".{how[2]}" if how[2] else ""))
            for name, how in kept.items()
        }
        self.reimports = {
            name: import_statement(name, how[1], how[2]) for name, how in kept.items() if how[0] == "import"
        }
        self.protected_imports = {name: (how[1], how[2]) for name, how in kept.items() if how[0] == "import"}

    def allows_import(self, module: str, name: str | None) -> bool:
        """The notebook itself imports this (by this path, or the same course_lib object by another)."""
        if (module, name) in self.allowed_imports:
            return True
        return any(_same_course_lib_object((module, name), allowed) for allowed in self.allowed_imports)

    def is_same_import(self, as_name: str, module: str, name: str | None) -> bool:
        """Re-importing a protected name binds what the notebook bound to it (the same path or object)."""
        theirs = self.protected_imports.get(as_name)
        return theirs is not None and (theirs == (module, name) or _same_course_lib_object((module, name), theirs))


def _short(text: str, keep: int = 48) -> str:
    """A string from learner code, cut for the report (paths keep their end, which names the file)."""
    text = text.strip().replace("\n", " ")
    return repr(text if len(text) <= keep else "..." + text[-keep:])


def _describe(module: str, name: str | None) -> str:
    return f"from {module} import {name}" if name else f"import {module}"


def scan_code(code: str, facts: SourceFacts, where: str) -> list[tuple[str, str]]:
    """(status, note) for one cell of learner code; ``where`` names the cell in the notes."""
    tree = parse(code)
    if tree is None:
        return []
    notes: list[tuple[str, str]] = []
    reference = []
    network = []
    for module, name, as_name in imports(tree):
        root = module.split(".")[0]
        if root == "course_lib" and not facts.allows_import(module, name):
            reference.append(_describe(module, name))
        if root in NETWORK_MODULES:
            network.append(module)
        if as_name in facts.protected and not facts.is_same_import(as_name, module, name):
            notes.append(
                ("tampering", f"{where} re-imports {as_name!r}, which the tests use, as {_describe(module, name)}")
            )
    gradebook, outside = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if MODULE_STRING.match(text.strip()):
                reference.append(f"the module name {text.strip()!r}")
            if "gradebook" in text.lower():
                gradebook.append(_short(text))
            elif OTHER_FILES.search(text):
                outside.append(_short(text))
    if gradebook:
        notes.append(("sandbox-violation", f"{where} refers to the gradebook ({', '.join(dict.fromkeys(gradebook))})"))
    if outside:
        notes.append(
            (
                "sandbox-violation",
                f"{where} refers to other students' or the course's files ({', '.join(dict.fromkeys(outside))})",
            )
        )
    if reference:
        notes.append(
            ("reference-import", f"{where} uses course_lib's reference: {', '.join(dict.fromkeys(reference))}")
        )
    if network:
        notes.append(
            ("sandbox-violation", f"{where} opens network connections (imports {', '.join(sorted(set(network)))})")
        )

    patched = []
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = [node.target] if not isinstance(node, ast.Delete) else node.targets
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node in tree.body:
            if node.name in facts.protected:
                patched.append(node.name)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("setattr", "delattr")
            and node.args
        ):
            root = _root(node.args[0])
            if root in facts.protected or root in ALWAYS_PROTECTED:
                patched.append(f"{root}.<attribute>")
        for target in targets:
            for sub in ast.walk(target) if isinstance(target, (ast.Tuple, ast.List)) else [target]:
                if isinstance(sub, ast.Name) and sub.id in facts.protected and _is_module_level(tree, node):
                    patched.append(sub.id)
                elif isinstance(sub, (ast.Attribute, ast.Subscript)):
                    root = _root(sub)
                    if (
                        root in facts.protected
                        or root in ALWAYS_PROTECTED
                        or ast.unparse(sub).startswith("sys.modules")
                    ):
                        patched.append(ast.unparse(sub))
    if patched:
        notes.append(
            ("tampering", f"{where} redefines or patches what the tests use: {', '.join(dict.fromkeys(patched))}")
        )
    return notes


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else None


def _is_module_level(tree: ast.Module, node: ast.AST) -> bool:
    """True when ``node`` runs at the top of the cell (not inside a function or class body)."""
    for top in tree.body:
        if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            if any(sub is node for sub in ast.walk(top)):
                return False
    return True


def scan(facts: SourceFacts, solution_cells: dict[str, str], added_cells: list[str]) -> list[tuple[str, str]]:
    """Notes on a learner's solution cells and the code cells they added (``facts``: of the source notebook)."""
    notes = []
    for grade_id, code in solution_cells.items():
        notes += scan_code(code, facts, f"solution cell {grade_id}")
    for k, code in enumerate(added_cells, 1):
        notes += scan_code(code, facts, f"added cell #{k}")
    return notes
