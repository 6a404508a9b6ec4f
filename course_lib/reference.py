"""Reference outputs that the graded tests compare a learner's code against.

They live in ``data/reference/<assignment>.safetensors`` (tensors) and ``<assignment>.json``
(numbers and small lists), made by ``python scripts/make_reference_data.py`` from course_lib with
fixed seeds. A wheel install carries them as ``course_lib/_data``.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file

from course_lib.package_data import package_data_dir


def reference_dir() -> Path:
    """The folder that holds the reference outputs (checkout: ``data/reference``; wheel: ``course_lib/_data/reference``)."""
    return package_data_dir("reference")


def load_reference(assignment: str) -> dict:
    """All reference values of one assignment, e.g. ``load_reference("01_bottleneck_math")``.

    Tensors come from the ``.safetensors`` file, other values from the ``.json`` file; names are unique across both.
    """
    folder = reference_dir()
    tensors_path, values_path = folder / f"{assignment}.safetensors", folder / f"{assignment}.json"
    if not tensors_path.exists() and not values_path.exists():
        known = sorted({p.stem for p in folder.iterdir() if p.suffix in (".json", ".safetensors")})
        raise ValueError(f"no reference outputs for assignment {assignment!r}; known: {known}")
    values: dict = {}
    if values_path.exists():
        values.update(json.loads(values_path.read_text()))
    if tensors_path.exists():
        values.update(load_file(str(tensors_path)))
    return values
