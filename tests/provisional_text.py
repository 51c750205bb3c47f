"""A test helper: stderr without perfdsl's note[provisional], for tests whose report binds a stack with provisional
cells (vllm) and whose expected text is about something else (the note itself: tests/test_provisional.py)."""

import re

_NOTE = re.compile(r"^note\[provisional\]: .*?\n\n", re.S | re.M)


def without_provisional_note(err: str) -> str:
    """`err` with every note[provisional] diagnostic (its headline to the blank line after it) removed."""
    return _NOTE.sub("", err)
