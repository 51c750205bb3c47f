"""lark, imported without the third-party `regex` module, which it imports and perfdsl's parser never uses.

lark imports `regex` at its own import wherever it is installed (transformers, for `perfdsl import-hf`, installs
it), for `Lark(regex=True)` and for terminals with Unicode categories (`\\p{L}`); perfdsl's grammar has neither and
its lexer is built with the standard `re` (parser._LARK_OPTIONS leave `regex` off), so importing `regex` only cost
every `perfdsl check` about 6 ms of its start (2-core machine). Importing this module imports lark with `regex`
hidden (lark then takes `re`, as it does where `regex` is not installed), and leaves `regex` importable by the code
that wants it afterwards. Where something imported `regex` or lark first, nothing is hidden (nor needed).
"""

from __future__ import annotations

import sys

if "lark" not in sys.modules and "regex" not in sys.modules:
    sys.modules["regex"] = None         # `import regex` raises ImportError while lark is imported
    try:
        import lark  # noqa: F401
    finally:
        if sys.modules.get("regex", False) is None:
            del sys.modules["regex"]
