"""perfdsl: a spreadsheet-style, declarative cost-model language for LLM inference on GPUs.

The public API:
    load(paths) -> Program          parse .perf files (following imports)
    Program.check()                 every diagnostic of every loaded file
    Program.value("block.cell")     one cell that needs no report, in SI
    Program.evaluate(report, overrides=...) -> Result
    Result.records() / .column(name) / .array(name)
    library_path("models" | "hardware")
"""

from .errors import Diagnostic, PerfError, UsageError
from .library import library_path
from .program import Program, load

__version__ = "0.1.0"
__all__ = ["Diagnostic", "PerfError", "Program", "UsageError", "library_path", "load", "__version__"]
