"""perfdsl: a spreadsheet-style, declarative cost-model language for LLM inference on GPUs.

The public API (imported lazily, so `perfdsl --help` and `import perfdsl.runlogs` stay light):
    load(paths) -> Program          parse .perf files (following imports)
    Program.check()                 every diagnostic of every loaded file
    Program.value("block.cell")     one cell that needs no report, in SI
    Program.evaluate(report, overrides=...) -> Result
    evaluate_with_runs(program, report, overrides, measured=..., add_measured=...) -> Evaluated
                                    a report beside its measured runs, as `perfdsl eval` does
    export_workbook(result, comparison, "out.xlsx", live=True)
                                    its workbook, as `perfdsl eval -o out.xlsx [--live]` writes it
    Result.records() / .column(name) / .array(name)
    evaluate_chunks(program, report, chunk_points=...) -> iterator of (Chunk, Result), one per chunk of the sweep
    answer_in_chunks(program, report, chunk_points=...) -> Answer   a question over a sweep of any size
    export_workbook(answer, None, "answer.xlsx")
                                    its workbook, as `perfdsl eval -o answer.xlsx` writes a chunked question's
    library_path("models" | "hardware")
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Diagnostic", "Evaluated", "PerfError", "Program", "UsageError", "answer_in_chunks", "evaluate_chunks",
           "evaluate_with_runs", "export_workbook", "library_path", "load", "__version__"]

_LAZY = {
    "Diagnostic": "errors", "PerfError": "errors", "UsageError": "errors",
    "library_path": "library", "load": "program", "Program": "program",
    "evaluate_with_runs": "measured", "Evaluated": "measured", "export_workbook": "workbook_export",
    "evaluate_chunks": "streaming", "answer_in_chunks": "streaming",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'perfdsl' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy ones included (tab completion in a REPL or notebook lists load, Program ...)."""
    return sorted(set(globals()) | set(__all__))
