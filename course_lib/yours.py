"""Run a notebook's experiments on the learner's own code, or say why not.

The training and measuring sections of notebooks 04-07 use what the learner wrote in the exercises above
them. When an exercise is not done yet (its stub raises, or a quick check disagrees with course_lib), the
section says so in one line and runs course_lib's reference instead, so that the notebook still runs top
to bottom::

    inject = yours_or_reference("inject_houlsby", globals().get("inject_houlsby"), reference_inject,
                                check=lambda fn: check_inject(fn))

Both lines start with a fixed text (``USING_YOURS`` / ``FALLING_BACK``) so that tests can tell which one ran.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

USING_YOURS = "Using your"
FALLING_BACK = "Not using your"


def _reason(error: BaseException) -> str:
    if isinstance(error, NotImplementedError):
        return "the exercise is not done yet"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = text if len(text) <= 160 else text[:157] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def yours_or_reference(
    what: str,
    yours: T | None,
    reference: T,
    check: Callable[[T], object] | None = None,
    instead: str = "course_lib's reference",
) -> T:
    """``yours`` when it exists and ``check(yours)`` passes (returns anything but ``False``, raises
    nothing); otherwise ``reference``. Prints one line saying which, and why when it is the reference
    (``instead`` names what runs then, when it is not course_lib's own version of the same thing)."""
    if yours is None:
        print(f"{FALLING_BACK} {what} (it is not defined: run its exercise cell first); this section uses {instead}.")
        return reference
    if check is not None:
        try:
            ok = check(yours)
        except Exception as error:  # noqa: BLE001 - any failure of the learner's code means: fall back
            print(f"{FALLING_BACK} {what} ({_reason(error)}); this section uses {instead}.")
            return reference
        if ok is False:
            print(
                f"{FALLING_BACK} {what} (it does not agree with course_lib's reference on a quick check); this section uses {instead}."
            )
            return reference
    print(f"{USING_YOURS} {what}.")
    return yours
