"""The run-log formats, in one registry: each adapter module registers its name, what it reads, how it is recognised
and its reader, so a new log format is one `register(...)` call in its own module.

Recognition is by content, never by file name: a JSON object by its keys, a JSON list by its records, a CSV file by
its header. Formats are tried in the order of their `rank` (specific formats first, perfdsl's own catch-all formats
last); the first whose test passes reads the file (detect.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .records import LoadResult


@dataclass(frozen=True)
class Adapter:
    """One run-log format.

    read(path, side=dict, window=(start, end) | None) -> LoadResult. Recognition (None: never recognised that way):
    json_keys(set of a JSON object's keys) -> bool; json_list(list of JSON objects) -> bool; csv_header(the header's
    cells, their names without units) -> bool. rank orders the tests (lower first). json_lines: the reader also reads
    JSON Lines (one object per line), recognised by the keys of the first line. expects: what the reader takes its
    values from (keys or columns), said where a log forced to this format gives no measured value (the
    description where it is empty). csv_columns: the columns a CSV of this format writes, to name the format a header
    nearly has (a renamed column) where detection finds none.
    """

    name: str
    read: Callable[..., LoadResult]
    description: str
    rank: int = 50
    json_keys: Callable[[set[str]], bool] | None = None
    json_list: Callable[[list[dict]], bool] | None = None
    csv_header: Callable[[list[str], set[str]], bool] | None = None
    json_lines: bool = False
    expects: str = ""
    csv_columns: tuple[str, ...] = ()


_REGISTERED: dict[str, Adapter] = {}


def register(adapter: Adapter) -> Adapter:
    """Add a format; raises ValueError for a name registered twice (a programming error, caught by the tests)."""
    if adapter.name in _REGISTERED:
        raise ValueError(f"run-log format {adapter.name!r} is registered twice")
    _REGISTERED[adapter.name] = adapter
    return adapter


def formats() -> dict[str, Adapter]:
    """Every registered format, by name, in the order recognition tries them (the adapters' modules imported)."""
    from . import energy, nvidia_smi, optimum, perfdsl_csv, perfdsl_jsonl, published, vllm  # noqa: F401 - they register

    return dict(sorted(_REGISTERED.items(), key=lambda item: (item[1].rank, list(_REGISTERED).index(item[0]))))
