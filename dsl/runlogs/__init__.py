"""Measurement adapters: read benchmark and power logs into perfdsl run records (values in SI), and write them as
perfdsl's own run log. One module per format; see records.py for the canonical identity and metric names."""

from .detect import detect_format
from .load import FORMATS, Adapter, load_runs
from .records import LoadResult, Measurement, RunRecord
from .write import write_runs_csv, write_runs_jsonl

__all__ = ["Adapter", "FORMATS", "LoadResult", "Measurement", "RunRecord", "detect_format", "load_runs",
           "write_runs_csv", "write_runs_jsonl"]
