"""Adapters for vLLM's benchmark JSON files: "vllm-serve", "vllm-latency", "vllm-throughput".

vllm-serve   `vllm bench serve --save-result` (benchmark_serving.py). Statistics `{mean,median,std,p90,p99,p99.9}_
             {ttft,tpot,itl,e2el}_ms` in ms. The InferenceX GLM-5 variant writes `median_ttft`, `p99_tpot` ... in
             SECONDS (no `_ms` suffix): the unit is taken from the key name. Metric names: ttft, tpot, itl,
             e2e_latency hold the MEAN, and only the mean; every other statistic is named after it: ttft_median,
             ttft_p99, ttft_p99_9, ttft_std ... So a log with medians only (InferenceX's) gives ttft_median and no
             ttft: a column of one name never holds means from one log and medians from another, and the
             statistic shows in the column's name (a report compares medians with `show ... as ttft_median`).
             Also run_duration (duration: the whole benchmark's time, never `runtime`, which reports
             compare with one step), request_throughput, output_throughput (generated tokens/s),
             total_token_throughput (prompt + generated tokens/s), input_throughput, request_goodput and completed
             (requests).
             Identity: model (model_id; a Hugging Face cache path such as /models/models--openai--gpt-oss-120b/
             snapshots/... is read as openai/gpt-oss-120b, the path kept in extra), concurrency (max_concurrency),
             request_rate ("inf" or a number, as written), num_requests (num_prompts), input_tokens and
             output_tokens (total_input_tokens, total_output_tokens: the workload's token totals).
             With --append-result, benchmark_serving.py appends each result to the same file on a line of its own
             (JSON Lines): one run per line, its source FILE:line N.
vllm-latency `benchmark_latency.py --output-json`: avg_latency (s, one generate() of the whole batch) -> e2e_latency;
             percentiles {"10": ...} -> e2e_latency_p10 ...; the latencies list is kept in extra.
vllm-throughput `benchmark_throughput.py --output-json`: elapsed_time -> run_duration (the whole run),
             requests_per_second -> request_throughput, tokens_per_second -> total_token_throughput (vLLM counts
             prompt AND output tokens there), num_requests and total_num_tokens -> identity num_requests and tokens.

None of these files says which hardware, how many GPUs, or the batch and sequence lengths: give them as side
metadata (see runlogs/side.py: `--meta side.json`, `<log>.meta.json` or `perfdsl-meta.json` beside the log).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from ..errors import Location, PerfError, near_miss
from .files import load_json_text, physical_lines, read_json, read_text, require_object
from .records import LoadResult, RunRecord, file_error, int_identity, is_number, measure, warning
from .registry import Adapter, register

_SERVE_STAT = re.compile(r"^(?P<stat>mean|median|std|p\d+(?:\.\d+)?)_(?P<name>ttft|tpot|itl|e2el)(?P<ms>_ms)?$")
_SERVE_NAMES = {"ttft": "ttft", "tpot": "tpot", "itl": "itl", "e2el": "e2e_latency"}
_HF_CACHE = re.compile(r"models--(?P<org>[^/]+?)--(?P<name>[^/]+)")

_SERVE_SCALARS = {  # key -> (metric, unit)
    "duration": ("run_duration", "s"),        # the whole benchmark, all its requests
    "request_throughput": ("request_throughput", "request/s"),
    "request_goodput": ("request_goodput", "request/s"),
    # vLLM's benchmark_serving.py wrote the key with a colon in some versions (null where no goodput was asked for).
    "request_goodput:": ("request_goodput", "request/s"),
    # vLLM's own names: generated tokens/s, and prompt + generated tokens/s. Never the bare `throughput`, which a
    # report may show for either (capacity_planning.perf showed prompt + generated as `throughput`).
    "output_throughput": ("output_throughput", "token/s"),
    "total_token_throughput": ("total_token_throughput", "token/s"),
    "input_throughput": ("input_throughput", "token/s"),
    "completed": ("completed", "request"),
}


def hf_model_id(model_id: str) -> str | None:
    """The Hugging Face id inside a hub cache path (".../models--org--name/snapshots/<hash>/"), or None."""
    match = _HF_CACHE.search(model_id)
    return f"{match.group('org')}/{match.group('name')}" if match else None


def read_serve(path: Path | str, side: dict | None = None, window=None) -> LoadResult:
    """The runs of a `vllm bench serve --save-result` JSON (or the InferenceX variant): one run for a JSON document,
    one per line for the JSON Lines that `--append-result` writes (each run's result appended to the same file, one
    JSON object per line). Each has latency statistics in s (from `_ms` keys in ms, from keys without the suffix in s;
    the mean under the plain name, ttft, and each other statistic under its own, ttft_median, ttft_p99 ...),
    throughputs in token/s and request/s, identity as the module docstring lists. `side` and `window` are not used.
    Raises PerfError (exit 1): bad-json for a document that is not a JSON object, no-completed-requests where
    `completed` is 0, and the errors of reading the file. A statistic that is inf or nan is a warning, left out; in
    JSON Lines, a line that is not a JSON object or whose requests all failed is a warning, that line skipped."""
    path_text = str(path)
    text = read_text(path)
    try:
        document = load_json_text(path_text, text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data" or not first_line_is_object(path_text, text):
            read_json(path_text, text)          # raises the located error (a cut file: truncated)
        return read_serve_lines(path_text, text)
    document = require_object(path_text, document, "a vLLM bench serve result")
    refuse_if_nothing_completed(path_text, document)
    record, problems = serve_record(path_text, document, "$")
    return LoadResult([record], problems)


def first_line_is_object(path: str, text: str) -> bool:
    """Whether the first non-blank line of `text` is a JSON object by itself: JSON Lines, not one document with
    something after it (which is bad JSON, said at the place it starts)."""
    first = physical_lines(text.lstrip())[0]
    try:
        return isinstance(load_json_text(path, first), dict)
    except json.JSONDecodeError:
        return False


def read_serve_lines(path: str, text: str) -> LoadResult:
    """The runs of `--append-result` output: one `serve_record` per non-blank line, its source "FILE:line N". A line
    that is not a JSON object, or whose requests all failed, is a warning naming the line; that line is skipped."""
    result = LoadResult()
    for number, line in enumerate(physical_lines(text), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            document = load_json_text(path, line)
        except json.JSONDecodeError as exc:
            result.problems.append(warning("bad-json", f"{where} is not valid JSON: {exc.msg}; {where} skipped",
                                           Location(path, number, exc.colno, exc.colno + 1), source_line=line[:200]))
            continue
        if not isinstance(document, dict):
            result.problems.append(warning("bad-json", f"{where} is not a JSON object; {where} skipped",
                                           Location(path, number, 1, 2), source_line=line[:200]))
            continue
        try:
            refuse_if_nothing_completed(path, document)
        except PerfError as exc:
            for diagnostic in exc.diagnostics:
                diagnostic.severity = "warning"
                diagnostic.location = Location(path, number, detail=diagnostic.location.detail)
                diagnostic.message += f"; {where} skipped"
            result.problems.extend(exc.diagnostics)
            continue
        record, problems = serve_record(path, document, where)
        result.records.append(record)
        result.problems.extend(problems)
    return result


def serve_record(path_text: str, document: dict, where: str) -> tuple[RunRecord, list]:
    """The run of one bench-serve result object, found at `where` ("$" for the whole file, "line N" in JSON Lines),
    and the warnings about its values (a statistic that is inf or nan, left out)."""
    prefix = "" if where == "$" else f"{where}, "
    identity, metrics, extra = {}, {}, {}
    problems = []
    for key, value in document.items():
        match = _SERVE_STAT.match(key)
        if (match or key in _SERVE_SCALARS) and isinstance(value, float) and not math.isfinite(value):
            problems.append(warning("bad-value", f"'{key}' is {value!r}, not a measurement; it is left out",
                                    Location(path_text, detail=f"{prefix}key '{key}'")))
            extra[key] = value
        elif match and is_number(value):
            base = _SERVE_NAMES[match.group("name")]
            stat = match.group("stat").replace(".", "_")
            unit = "ms" if match.group("ms") else "s"
            metrics[base if stat == "mean" else f"{base}_{stat}"] = measure(value, unit)     # the plain name: the mean
        elif key in _SERVE_SCALARS and is_number(value):
            name, unit = _SERVE_SCALARS[key]
            metrics[name] = measure(value, unit)
        elif key == "model_id" and isinstance(value, str):
            identity["model"] = hf_model_id(value) or value
            if identity["model"] != value:
                extra["model_id"] = value
        elif key == "max_concurrency" and int_identity(value) is not None:
            identity["concurrency"] = int_identity(value)
        elif key in ("total_input_tokens", "total_output_tokens") and int_identity(value) is not None:
            identity[key.removeprefix("total_")] = int_identity(value)
        elif key == "num_prompts" and int_identity(value) is not None:
            identity["num_requests"] = int_identity(value)
        elif key == "request_rate" and value is not None:
            identity["request_rate"] = value
        else:
            extra[key] = value
    problems += misspelt_serve_keys(path_text, document, extra, prefix)
    record = RunRecord(identity, dict(sorted(metrics.items())), f"{path_text}:{where}", extra, "vllm-serve")
    return record, problems


_STAT_PREFIX = re.compile(r"^(?P<stat>mean|median|std|p\d+(?:\.\d+)?)_(?P<rest>.+)$")


def misspelt_serve_keys(path: str, document: dict, unread: dict, prefix: str) -> list:
    """A warning (unknown-key) for each key the reader left unread that is spelt like one it reads and the result
    lacks (`mean_tpot_msec` for mean_tpot_ms, `output_througput`): the run would be compared without that figure, in
    silence. Keys of other names (date, backend, ttfts, ...) are vLLM's own and not said."""
    found = []
    for key, value in unread.items():
        if value is None:                   # null: no figure lost
            continue
        stat = _STAT_PREFIX.match(key)
        if stat is not None:
            candidates = [f"{stat.group('stat')}_{name}{unit}" for name in _SERVE_NAMES for unit in ("_ms", "")]
        else:
            candidates = list(_SERVE_SCALARS)
        close = [name for name in candidates if name not in document and near_miss(key, name)]
        if not close:
            continue
        meant = close[0]
        match = _SERVE_STAT.match(meant)
        metric = (_SERVE_NAMES[match.group("name")] + ("" if match.group("stat") == "mean"
                                                        else f"_{match.group('stat').replace('.', '_')}")
                  if match else _SERVE_SCALARS[meant][0])
        found.append(warning("unknown-key", f"key '{key}' is not one the vLLM reader knows: not read; the run has no "
                             f"{metric} (from '{meant}')", Location(path, detail=f"{prefix}key '{key}'"),
                             hints=[f"did you mean '{meant}'? vLLM's bench serve writes it so"]))
    return found


def refuse_if_nothing_completed(path: str, document: dict) -> None:
    """A result in which no request completed has 0.0 placeholders for its statistics: they are not
    measurements, and a run built from them would match estimates as a run of zero latency. A located error."""
    completed = document.get("completed")
    if not (is_number(completed) and completed == 0):
        return
    total = document.get("num_prompts")
    of = f" of {total}" if is_number(total) else ""
    errors = document.get("errors")
    reasons = sorted({e for e in errors if isinstance(e, str) and e}) if isinstance(errors, list) else []
    hints = [f"the log's errors say: {reasons[0]!r}" + (f" (and {len(reasons) - 1} other reasons)"
                                                         if len(reasons) > 1 else "")] if reasons else []
    raise file_error(path, "no-completed-requests", f"no request completed (0{of}): its latency and throughput "
                     "figures are placeholders, not measurements, so the run is not used", detail="key 'completed'",
                     hints=hints + ["rerun the benchmark once the server answers"])


def read_latency(path: Path | str, side: dict | None = None, window=None) -> LoadResult:
    """The one run of a vLLM benchmark_latency.py --output-json: e2e_latency (s) from avg_latency and e2e_latency_pNN
    from the percentiles; other keys (the latencies list included) go to `extra`. `side` and `window` are not used.
    Raises PerfError (bad-json, exit 1) for a document that is not a JSON object."""
    path_text = str(path)
    document = require_object(path_text, read_json(path), "a vLLM benchmark_latency result")
    metrics, extra = {}, {}
    for key, value in document.items():
        if key == "avg_latency" and is_number(value):
            metrics["e2e_latency"] = measure(value, "s")
        elif key == "percentiles" and isinstance(value, dict):
            for percent, seconds in value.items():
                if is_number(seconds):
                    metrics[f"e2e_latency_p{percent}"] = measure(seconds, "s")
                else:
                    extra[f"percentiles.{percent}"] = seconds
        else:
            extra[key] = value
    if "latencies" in extra and isinstance(extra["latencies"], list):
        extra["iterations"] = len(extra["latencies"])
    return LoadResult([RunRecord({}, metrics, f"{path_text}:$", extra, "vllm-latency")])


_THROUGHPUT_SCALARS = {
    "elapsed_time": ("run_duration", "s"),    # all the requests: not a step, and tokens / it counts the prompts
    "requests_per_second": ("request_throughput", "request/s"),
    "tokens_per_second": ("total_token_throughput", "token/s"),
}


def read_throughput(path: Path | str, side: dict | None = None, window=None) -> LoadResult:
    """The one run of a vLLM benchmark_throughput.py --output-json: run_duration (s), request_throughput (request/s),
    total_token_throughput (token/s: vLLM counts prompt and output tokens), identity num_requests and tokens. `side`
    and `window` are not used. Raises PerfError (bad-json, exit 1) for a document that is not a JSON object."""
    path_text = str(path)
    document = require_object(path_text, read_json(path), "a vLLM benchmark_throughput result")
    identity, metrics, extra = {}, {}, {}
    for key, value in document.items():
        if key in _THROUGHPUT_SCALARS and is_number(value):
            name, unit = _THROUGHPUT_SCALARS[key]
            metrics[name] = measure(value, unit)
        elif key == "num_requests" and int_identity(value) is not None:
            identity["num_requests"] = int_identity(value)
        elif key == "total_num_tokens" and int_identity(value) is not None:
            identity["tokens"] = int_identity(value)
        else:
            extra[key] = value
    return LoadResult([RunRecord(identity, metrics, f"{path_text}:$", extra, "vllm-throughput")])


register(Adapter("vllm-latency", read_latency, "vLLM benchmark_latency.py --output-json", rank=20,
                 json_keys=lambda keys: "avg_latency" in keys and ("percentiles" in keys or "latencies" in keys),
                 expects="a JSON object with the keys 'avg_latency' and 'percentiles'"))
register(Adapter("vllm-throughput", read_throughput, "vLLM benchmark_throughput.py --output-json", rank=21,
                 json_keys=lambda keys: "elapsed_time" in keys
                 and ("tokens_per_second" in keys or "requests_per_second" in keys),
                 expects="a JSON object with the keys " + ", ".join(f"'{k}'" for k in _THROUGHPUT_SCALARS)))
register(Adapter("vllm-serve", read_serve, "vllm bench serve --save-result JSON (and the InferenceX variant)", rank=22,
                 json_keys=lambda keys: any(k.endswith(("_ttft_ms", "_tpot_ms", "_e2el_ms")) or k in ("median_ttft",
                                                                                                       "median_tpot")
                                            for k in keys) or {"request_throughput", "completed"} <= keys,
                 json_lines=True, expects="a JSON object (or one per line: --append-result) with keys such as "
                 "'mean_ttft_ms', 'median_tpot_ms', 'request_throughput', 'completed'"))
