"""The exact text of the diagnostics that run logs, a report's run-log cells and the command line give.

One entry per code: the small files a user would have (a run log, side metadata, a report, a config.json), the
command line they would type, the exit status, and every line printed on stderr, written out in full. Codes about
the specs themselves are pinned by the golden cases in tests/cases/ instead. The catalogue (dsl/error_codes.py)
requires every code to be pinned somewhere (tests/test_error_codes.py).

The CLI runs in-process with the test's temporary folder as the working directory, so paths read as typed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from perfdsl import cli

# -- small inputs ----------------------------------------------------------------------------------------------

# nvidia-smi --query-gpu=timestamp,index,name,power.draw,memory.used --format=csv -lms 500
SMI_HEADER = "timestamp, index, name, power.draw [W], memory.used [MiB]\n"


def smi_row(second: float, watts: float) -> str:
    return f"2025/01/10 12:00:{second:06.3f}, 0, NVIDIA RTX A5000, {watts:.2f} W, 1000 MiB\n"


def optimum_benchmark(device_ids: str, gpus: list[str]) -> str:
    """An optimum-benchmark benchmark.json cut down to what identifies the run (config) and one metric (report)."""
    return json.dumps({
        "config": {"backend": {"name": "pytorch", "model": "org/tiny", "device": "cuda", "device_ids": device_ids,
                               "torch_dtype": "float16"},
                   "scenario": {"input_shapes": {"batch_size": 1, "sequence_length": 128}},
                   "environment": {"gpu": gpus, "gpu_count": len(gpus)}},
        "report": {"prefill": {"latency": {"mean": 0.025, "unit": "s"}}}}, indent=1)


# runtime = 10 ms per GPU, swept over 1 and 2 GPUs; run logs match it on n_gpus.
REPORT = """\
workload w {
    sweep n_gpus = [1, 2]
}
costmodel c { runtime = 10 ms * workload.n_gpus }
report r {
    workload = w
    show c.runtime in ms as runtime
}
"""

LLAMA_CONFIG = json.dumps({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4,
                           "num_key_value_heads": 4, "num_hidden_layers": 2, "intermediate_size": 128,
                           "vocab_size": 100, "max_position_embeddings": 128})


@dataclass(frozen=True)
class Trigger:
    """What a user has and types, and what perfdsl answers: exit status and the whole of stderr."""

    code: str
    argv: list[str]
    status: int
    stderr: str
    files: dict[str, str | bytes] = field(default_factory=dict)


TRIGGERS = [
    # -- run logs: files -----------------------------------------------------------------------------------------
    # A log the report names that is not there is a mistake in the spec (exit 1), located at the name; a log named on
    # the command line that is not there is bad usage (no-such-file, exit 2).
    Trigger("log-missing", ["eval", "r.perf"], 1, files={
        "r.perf": REPORT.replace("report r {", 'report r {\n    measured = ["runs.csv", "gone.csv"]'),
        "runs.csv": "n_gpus,runtime [ms]\n1,11\n"}, stderr=(
        "error[log-missing]: cannot read the run log 'gone.csv': no such file\n"
        "  --> r.perf:6:29\n"
        "  |\n"
        '6 |     measured = ["runs.csv", "gone.csv"]\n'
        "  |                             ^^^^^^^^^^\n"
        "  = in: report.r.measured\n"
        "  = help: `measured` names logs relative to the report's file\n"
        "\n"
        "1 error\n")),
    Trigger("log-unreadable", ["eval", "r.perf"], 1, files={
        "r.perf": REPORT.replace("report r {", 'report r {\n    measured = "logs"'), "logs/runs.csv": "model\n"},
            stderr=(
        "error[log-unreadable]: cannot read the run log 'logs': it is a folder\n"
        "  --> r.perf:6:16\n"
        "  |\n"
        '6 |     measured = "logs"\n'
        "  |                ^^^^^^\n"
        "  = in: report.r.measured\n"
        "  = help: name the log files inside it\n"
        "\n"
        "1 error\n")),
    Trigger("log-encoding", ["ingest", "runs.csv", "-o", "out.csv"], 1, files={
        "runs.csv": "model,runtime [ms]\ncaf\xe9,25\n".encode("latin-1")}, stderr=(
        "error[log-encoding]: byte 0xe9 is not UTF-8 text\n"
        "  --> runs.csv:2:4\n"
        "  |\n"
        "2 | caf�,25\n"
        "  |    ^\n"
        "  = help: run logs are UTF-8 text files (CSV, JSON, JSON Lines): save the log as UTF-8\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")),
    Trigger("empty-log", ["ingest", "runs.csv", "--format", "perfdsl-csv", "-o", "out.csv"], 1, files={
        "runs.csv": ""}, stderr=(
        "error[empty-log]: the file is empty: expected a header line such as "
        "'model,hardware,n_gpus,runtime [ms]'\n"
        "  --> runs.csv\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")),
    Trigger("bad-csv", ["ingest", "runs.csv", "-o", "out.csv"], 1, files={
        "runs.csv": "\nmodel,runtime [ms]\norg/tiny,25\n"}, stderr=(
        "error[bad-csv]: the header must be the first line\n"
        "  --> runs.csv:2\n"
        "  |\n"
        "2 | model,runtime [ms]\n"
        "  = help: remove the blank line above the header\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")),
    Trigger("no-timestamp", ["ingest", "power.csv", "--format", "nvidia-smi", "-o", "out.csv"], 1, files={
        "power.csv": "index, power.draw [W]\n0, 100.00 W\n"}, stderr=(
        "error[no-timestamp]: an nvidia-smi log needs a 'timestamp' column to integrate power over time\n"
        "  --> power.csv:1\n"
        "  |\n"
        "1 | index, power.draw [W]\n"
        "  = help: add timestamp first in --query-gpu\n"
        "  = help: detection reads it as perfdsl-csv: leave out --format nvidia-smi (or name --format perfdsl-csv)\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")),
    Trigger("bad-report", ["ingest", "benchmark.json", "-o", "out.csv"], 1, files={
        "benchmark.json": '{"config": {"backend": {"model": "org/tiny"}}, "report": null}\n'}, stderr=(
        "error[bad-report]: 'report' is null, not an object: an optimum-benchmark benchmark.json has "
        "'config' and 'report' objects\n"
        "  --> benchmark.json (report)\n"
        "  = help: benchmark_report.json alone has no config: ingest benchmark.json\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")),
    # -- run logs: rows and values ------------------------------------------------------------------------------
    Trigger("bad-row", ["ingest", "power.csv", "-o", "runs.csv"], 0, files={
        "power.csv": SMI_HEADER + smi_row(0, 100) + "2025/01/10 12:00:00.500, 0, NVIDIA RTX A5000, 150.00 W\n"
                     + smi_row(1, 200)}, stderr=(
        "warning[bad-row]: row 2 has 4 fields but there are 5 columns; row 2 skipped\n"
        "  --> power.csv:3 (row 2)\n"
        "  |\n"
        "3 | 2025/01/10 12:00:00.500, 0, NVIDIA RTX A5000, 150.00 W\n"
        "  = help: the row was cut (the log was still being written?) or edited by hand; "
        "fix or remove it\n"
        "warning[unmatchable-runs]: the runs of this log name no model: they cannot be matched to estimates\n"
        "  --> power.csv\n"
        "  = help: give the model as side metadata: --meta side.json with {\"model\": \"...\"}, or a file "
        "'power.csv.meta.json' beside the log\n"
        "ingest: 1 run from 1 log (nvidia-smi); wrote runs.csv; 0 errors, 2 warnings\n")),
    Trigger("extra-fields", ["ingest", "runs.csv", "-o", "out.csv"], 0, files={
        "runs.csv": "model,n_gpus,runtime [ms]\norg/tiny,1,25\norg/tiny, v2,1,40\n"}, stderr=(
        "warning[extra-fields]: row 2 has 4 fields but the header has 3 columns; row 2 skipped\n"
        "  --> runs.csv:3:16 (row 2)\n"
        "  |\n"
        "3 | org/tiny, v2,1,40\n"
        "  |                ^^\n"
        "  = help: quote fields that contain commas, e.g. \"a, b\"\n"
        "ingest: 1 run from 1 log (perfdsl-csv); wrote out.csv; 0 errors, 1 warning\n")),
    Trigger("bad-json", ["ingest", "runs.jsonl", "-o", "runs.csv"], 0, files={
        "runs.jsonl": '{"model": "org/tiny", "runtime [ms]": 25}\n{"model": "org/tiny", "runtime [ms]": 40,}\n'},
        stderr=(
        "warning[bad-json]: row 2 is not valid JSON; "
        "row 2 skipped\n"
        "  --> runs.jsonl:2:42 (row 2)\n"
        "  |\n"
        "2 | {\"model\": \"org/tiny\", \"runtime [ms]\": 40,}\n"
        "  |                                          ^\n"
        "  = note: line 2, column 42: Expecting property name enclosed in double quotes\n"
        "ingest: 1 run from 1 log (perfdsl-jsonl); wrote runs.csv; 0 errors, 1 warning\n")),
    # -- run logs: headers -------------------------------------------------------------------------------------
    Trigger("empty-column-name", ["ingest", "runs.csv", "-o", "out.csv"], 1, files={
        "runs.csv": "model,,runtime [ms]\norg/tiny,1,25\n"}, stderr=(
        "error[empty-column-name]: a column has no name\n"
        "  --> runs.csv:1:7 (column '')\n"
        "  |\n"
        "1 | model,,runtime [ms]\n"
        "  |       ^\n"
        "  = help: name every column, e.g. 'model' or 'runtime [ms]'\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")),
    Trigger("malformed-column", ["ingest", "runs.csv", "-o", "out.csv"], 1, files={
        "runs.csv": "model,runtime [ms\norg/tiny,25\n"}, stderr=(
        "error[malformed-column]: cannot read column header 'runtime [ms'\n"
        "  --> runs.csv:1:7 (column 'runtime [ms')\n"
        "  |\n"
        "1 | model,runtime [ms\n"
        "  |       ^^^^^^^^^^^\n"
        "  = help: write a quantity column as 'name [unit]', e.g. 'runtime [ms]'\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")),
    Trigger("duplicate-column", ["ingest", "runs.csv", "-o", "out.csv"], 1, files={
        "runs.csv": "model,runtime [s],runtime [ms]\norg/tiny,0.025,25\n"}, stderr=(
        "error[duplicate-column]: column 'runtime' appears twice (columns 2 and 3)\n"
        "  --> runs.csv:1:19 (column 'runtime [ms]')\n"
        "  |\n"
        "1 | model,runtime [s],runtime [ms]\n"
        "  |                   ^^^^^^^^^^^^\n"
        "  = help: keep one column per name; write each run as its own row\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")),
    # -- run logs: side metadata ---------------------------------------------------------------------------------
    Trigger("side-override", ["ingest", "runs.csv", "--meta", "side.json", "-o", "out.csv"], 0, files={
        "runs.csv": "model,n_gpus,runtime [ms]\norg/tiny,1,25\n", "side.json": '{"model": "org/small"}'},
        stderr=(
        "note[side-override]: 'model' is 'org/tiny' in the log; the side metadata gives 'org/small', "
        "which is used\n"
        "  --> runs.csv (row 1)\n"
        "ingest: 1 run from 1 log (perfdsl-csv); wrote out.csv; 0 errors, 0 warnings\n")),
    # A misspelt key is kept (any name is an identifying field, as `ingest --help` says) but warned about, at the key.
    Trigger("misspelt-side-key", ["ingest", "runs.csv", "--meta", "side.json", "-o", "out.csv"], 0, files={
        "runs.csv": "model,runtime [ms]\norg/tiny,25\n", "side.json": '{"model": "org/tiny", "n_gpu": 1}'},
        stderr=(
        "warning[misspelt-side-key]: the side metadata's key 'n_gpu' is no field perfdsl knows; it is kept as an "
        "identifying field of its own, which a report matches only where it has a cell of that name\n"
        "  --> side.json:1:23 (key 'n_gpu')\n"
        "  |\n"
        '1 | {"model": "org/tiny", "n_gpu": 1}\n'
        "  |                       ^^^^^^^\n"
        "  = help: did you mean 'n_gpus'?\n"
        "  = help: write the key as 'n_gpus' to identify the runs by that field\n"
        "ingest: 1 run from 1 log (perfdsl-csv); wrote out.csv; 0 errors, 1 warning\n")),
    # A window beside a log that has no samples to select (was read without a word, the run the whole log's).
    Trigger("side-key-unused", ["ingest", "runs.csv", "-o", "out.csv"], 0, files={
        "runs.csv": "model,runtime [ms]\norg/tiny,25\n",
        "runs.csv.meta.json": '{"hardware": "NVIDIA RTX A5000",\n "window": [1744833200, 1744833220]}'}, stderr=(
        "warning[side-key-unused]: the side metadata's 'window' has no effect: it selects the samples of nvidia-smi "
        "power logs to integrate, and the log it applies to is a perfdsl-csv log, read whole: runs.csv\n"
        "  --> runs.csv.meta.json:2:2 (key 'window')\n"
        "  |\n"
        '2 |  "window": [1744833200, 1744833220]}\n'
        "  |  ^^^^^^^^\n"
        "  = help: leave 'window' out of runs.csv.meta.json, or give it beside the nvidia-smi log it is meant for "
        "(LOG.meta.json, or --meta when ingesting that log)\n"
        "ingest: 1 run from 1 log (perfdsl-csv); wrote out.csv; 0 errors, 1 warning\n")),
    Trigger("side-file", ["ingest", "runs.csv", "runs.csv.meta.json", "-o", "out.csv"], 0, files={
        "runs.csv": "model,n_gpus,runtime [ms]\norg/tiny,1,25\n",
        "runs.csv.meta.json": '{"hardware": "NVIDIA RTX A5000"}'}, stderr=(
        "note[side-file]: side metadata, not a log: read with the logs beside it\n"
        "  --> runs.csv.meta.json\n"
        "ingest: 1 run from 2 logs (perfdsl-csv); wrote out.csv; 0 errors, 0 warnings\n")),
    # -- run logs: optimum-benchmark devices ---------------------------------------------------------------------
    Trigger("unknown-hardware", ["ingest", "benchmark.json", "-o", "out.csv"], 0, files={
        "benchmark.json": optimum_benchmark("0,1", ["NVIDIA A100-SXM4-80GB"])}, stderr=(
        "warning[unknown-hardware]: device_ids '0,1' do not all index config.environment.gpu (1 entry); "
        "hardware left out\n"
        "  --> benchmark.json (config.backend.device_ids)\n"
        "  = help: give the hardware in side metadata (--meta), e.g. {\"hardware\": \"NVIDIA "
        "A100-SXM4-80GB\"}\n"
        "ingest: 1 run from 1 log (optimum-benchmark); wrote out.csv; 0 errors, 1 warning\n")),
    Trigger("mixed-hardware", ["ingest", "benchmark.json", "-o", "out.csv"], 0, files={
        "benchmark.json": optimum_benchmark("0,1", ["NVIDIA A100-SXM4-80GB", "NVIDIA DGX Display"])}, stderr=(
        "warning[mixed-hardware]: device_ids '0,1' name different GPUs (NVIDIA A100-SXM4-80GB, NVIDIA "
        "DGX Display); hardware left out\n"
        "  --> benchmark.json (config.backend.device_ids)\n"
        "  = help: give the hardware in side metadata (--meta), e.g. {\"hardware\": \"NVIDIA "
        "A100-SXM4-80GB\"}\n"
        "ingest: 1 run from 1 log (optimum-benchmark); wrote out.csv; 0 errors, 1 warning\n")),
    # -- run logs: nvidia-smi power samples ----------------------------------------------------------------------
    Trigger("window-outside-log", ["ingest", "power.csv", "-o", "out.csv",
                                   "--window", "2025-01-10T12:00:01,2025-01-10T12:00:05"], 0, files={
        "power.csv": SMI_HEADER + smi_row(0, 100) + smi_row(1, 200) + smi_row(2, 200)}, stderr=(
        "warning[window-outside-log]: the window (2025-01-10T12:00:01.000+00:00 .. "
        "2025-01-10T12:00:05.000+00:00) reaches beyond the samples of gpu 0 "
        "(2025-01-10T12:00:00.000+00:00 .. 2025-01-10T12:00:02.000+00:00); only the overlap is used\n"
        "  --> power.csv\n"
        "warning[unmatchable-runs]: the runs of this log name no model: they cannot be matched to estimates\n"
        "  --> power.csv\n"
        "  = help: give the model as side metadata: --meta side.json with {\"model\": \"...\"}, or a file "
        "'power.csv.meta.json' beside the log\n"
        "ingest: 1 run from 1 log (nvidia-smi); wrote out.csv; 0 errors, 2 warnings\n")),
    # A window that misses the log altogether (an hour off: a time zone) is one error saying so; it was "only the
    # overlap is used" (there is none), then no-energy, then no-samples, then no-rows.
    Trigger("window-outside-log", ["ingest", "power.csv", "-o", "out.csv",
                                   "--window", "2025-01-10T13:00:00,2025-01-10T13:00:02"], 1, files={
        "power.csv": SMI_HEADER + smi_row(0, 100) + smi_row(1, 200) + smi_row(2, 200)}, stderr=(
        "error[window-outside-log]: the window [2025-01-10T13:00:00.000+00:00, 2025-01-10T13:00:02.000+00:00] lies "
        "outside the log's span [2025-01-10T12:00:00.000+00:00, 2025-01-10T12:00:02.000+00:00] (gpu 0): no sample "
        "in it; skipped\n"
        "  --> power.csv\n"
        "  = help: check the window against the log's time range: ISO times are read in the log's utc_offset (side "
        "metadata; default UTC), epoch seconds are UTC\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")),
    # The log's one GPU has no sample: the log gives no run (no-rows, exit status 1).
    Trigger("no-samples", ["ingest", "power.csv", "-o", "out.csv"], 1, files={
        "power.csv": SMI_HEADER + "2025/01/10 12:00:00.000, 0, NVIDIA RTX A5000, [N/A], [N/A]\n"}, stderr=(
        "warning[bad-value]: cannot read '[N/A]' as a power in column 'power.draw' of gpu 0\n"
        "  --> power.csv:2:47 (row 1, column 'power.draw')\n"
        "  |\n"
        "2 | 2025/01/10 12:00:00.000, 0, NVIDIA RTX A5000, [N/A], [N/A]\n"
        "  |                                               ^^^^^\n"
        "  = note: row 1 is left out of 'power.draw'\n"
        "warning[bad-value]: cannot read '[N/A]' as a size in column 'memory.used' of gpu 0\n"
        "  --> power.csv:2:54 (row 1, column 'memory.used')\n"
        "  |\n"
        "2 | 2025/01/10 12:00:00.000, 0, NVIDIA RTX A5000, [N/A], [N/A]\n"
        "  |                                                      ^^^^^\n"
        "  = note: row 1 is left out of 'memory.used'\n"
        "warning[no-samples]: no usable samples for gpu 0; skipped\n"
        "  --> power.csv\n"
        "error[no-rows]: no row of this log could be used: every run in it was skipped\n"
        "  --> power.csv\n"
        "  = help: the warnings at its rows say why each was skipped: mend them, or leave the log out\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 3 warnings\n")),
    Trigger("no-energy", ["ingest", "power.csv", "-o", "out.csv"], 0, files={
        "power.csv": SMI_HEADER + smi_row(0, 100)}, stderr=(
        "warning[no-energy]: fewer than two power samples in the window for gpu 0; energy left out\n"
        "  --> power.csv\n"
        "  = help: widen the window, or sample more often (nvidia-smi -lms 100)\n"
        "warning[unmatchable-runs]: the runs of this log name no model: they cannot be matched to estimates\n"
        "  --> power.csv\n"
        "  = help: give the model as side metadata: --meta side.json with {\"model\": \"...\"}, or a file "
        "'power.csv.meta.json' beside the log\n"
        "ingest: 1 run from 1 log (nvidia-smi); wrote out.csv; 0 errors, 2 warnings\n")),
    # -- run logs: writing perfdsl's own log ---------------------------------------------------------------------
    Trigger("mixed-dimensions", ["ingest", "a.csv", "b.csv", "-o", "out.csv"], 1, files={
        "a.csv": "model,runtime [ms]\norg/tiny,25\n", "b.csv": "model,runtime [GB]\norg/tiny,2\n"}, stderr=(
        "error[mixed-dimensions]: metric 'runtime' is s in a.csv:row 1 and byte in b.csv:row 1; it "
        "cannot be one column\n"
        "  = help: write these logs to separate files\n")),
    Trigger("column-clash", ["ingest", "runs.csv", "--meta", "side.json", "-o", "out.csv"], 1, files={
        "runs.csv": "model,runtime [ms]\norg/tiny,25\n", "side.json": '{"runtime": "fast"}'}, stderr=(
        "error[column-clash]: 'runtime' is an identifying field in runs.csv:row 1 and a metric in "
        "runs.csv:row 1; one column cannot be both\n"
        "  = help: side metadata gives identifying fields (model, hardware, batch, ...): remove "
        "'runtime' from it, or write these logs to separate files\n")),
    # -- estimates beside runs -----------------------------------------------------------------------------------
    Trigger("unmatched", ["eval", "r.perf", "--measured", "runs.csv", "--format", "csv"], 0, files={
        "r.perf": REPORT, "runs.csv": "n_gpus,runtime [ms]\n1,11\n4,41\n"}, stderr=(
        "warning[unmatched]: 1 run without an estimate\n"
        "  = note: n_gpus=4 (n_gpus 4 is not among the report's values (1, 2)) (runs.csv:row 2)\n"
        "\n"
        "note[unmatched]: 1 estimate without a run\n"
        "  = note: n_gpus=2\n"
        "\n"
        "1 warning\n")),
    Trigger("unused-run-field", ["eval", "r.perf", "--measured", "runs.csv", "--format", "csv"], 0, files={
        "r.perf": REPORT, "runs.csv": "n_gpus,backend,runtime [ms]\n1,vllm,11\n2,vllm,21\n"}, stderr=(
        "warning[unused-run-field]: the runs' fields 'backend' match no cell of the report, so matching "
        "does not use them\n"
        "  = help: add a cell of that name to the report or its workload to match on it\n"
        "\n"
        "1 warning\n")),
    # A near miss of a field the report sweeps (a misspelt --meta key, carried into the runs): located, did you mean,
    # and what it does: the run matches both points and is compared with none.
    Trigger("unused-run-field", ["eval", "r.perf", "--measured", "runs.csv", "--format", "csv"], 0, files={
        "r.perf": REPORT, "runs.csv": "n_gpu,runtime [ms]\n1,11\n"}, stderr=(
        "warning[unused-run-field]: the runs' field 'n_gpu' matches no cell of the report, so matching does not use "
        "it; the runs do not give 'n_gpus', so a run matches every 'n_gpus' of the report and, matching several "
        "points, is compared with none\n"
        "  --> runs.csv:1:1 (column 'n_gpu')\n"
        "  |\n"
        "1 | n_gpu,runtime [ms]\n"
        "  | ^^^^^\n"
        "  = help: did you mean 'n_gpus'?\n"
        "  = help: rename 'n_gpu' to 'n_gpus' where it is written (the log's column, or the key of the side metadata: "
        "--meta, LOG.meta.json)\n"
        "\n"
        "warning[unmatched]: 1 ambiguous match: a run that matches several sweep points is compared with none of them\n"
        "  --> runs.csv (row 1)\n"
        "  = note: n_gpu=1 matches 2 sweep points: n_gpus=1; n_gpus=2 (runs.csv:row 1)\n"
        "  = help: give the runs an identifying field whose value differs between those points (a cell of the report, "
        "or a role such as model or hardware)\n"
        "\n"
        "note[unmatched]: 2 estimates without a run\n"
        "  = note: n_gpus=1\n"
        "  = note: n_gpus=2\n"
        "\n"
        "2 warnings\n")),
    # A log column without its unit reads as an identifying field: the hint says it may be the shown metric.
    Trigger("unused-run-field", ["eval", "r.perf", "--measured", "runs.csv", "--format", "csv", "--strict"], 1,
            files={"r.perf": REPORT.replace("as runtime\n", "as runtime\n    show c.runtime in ms as e2e\n"),
                   "runs.csv": "model,n_gpus,e2e_ms,runtime [ms]\norg/tiny,1,11,11\n"}, stderr=(
        "warning[unused-run-field]: the runs' fields 'model' match no cell of the report, so matching does not use "
        "them\n"
        "  = help: add a cell of that name to the report or its workload to match on it\n"
        "\n"
        "warning[unused-run-field]: the runs' field 'e2e_ms' matches no cell of the report, so matching does not "
        "use it\n"
        "  --> runs.csv:1:14 (column 'e2e_ms')\n"
        "  |\n"
        "1 | model,n_gpus,e2e_ms,runtime [ms]\n"
        "  |              ^^^^^^\n"
        "  = help: 'e2e_ms' may be the metric 'e2e' in ms: a column without a unit identifies the run; name "
        "it 'e2e [ms]' to compare it with the shown 'e2e'\n"
        "\n"
        "note[unmatched]: 1 estimate without a run\n"
        "  = note: n_gpus=2\n"
        "\n"
        "2 warnings\n"
        "--strict: warnings are errors\n")),
    # Where every measured column lacks its unit, no run carries a measured value: the log is refused at load (it
    # was read as runs of identifying fields, and only the report's matching said something was wrong).
    Trigger("no-metric", ["eval", "r.perf", "--measured", "runs.csv", "--format", "csv"], 1,
            files={"r.perf": REPORT, "runs.csv": "model,n_gpus,runtime_ms\norg/tiny,1,11\n"}, stderr=(
        "error[no-metric]: no run of this log carries a measured value: 1 run read, the first has identifying fields "
        "model, n_gpus, runtime_ms\n"
        "  --> runs.csv\n"
        "  = help: 'runtime_ms' may be a measured value in ms: a column without a unit identifies the run; name it "
        "'runtime [ms]'\n"
        "  = help: perfdsl-csv reads a CSV header whose measured columns are written 'name [unit]', e.g. "
        "model,n_gpus,runtime [ms]\n"
        "\n"
        "1 error\n")),
    # A misspelt metric was dropped without a word (exit 0, --strict too): a warning, so --strict refuses it.
    Trigger("unmatched-metric", ["eval", "r.perf", "--measured", "runs.csv", "--format", "csv", "--strict"], 1,
            files={"r.perf": REPORT, "runs.csv": "n_gpus,runtme [ms]\n1,11\n2,21\n"}, stderr=(
        "warning[unmatched-metric]: the runs' metric 'runtme' matches no metric the report shows, so it is not "
        "compared\n"
        "  --> runs.csv:1:8 (column 'runtme [ms]')\n"
        "  |\n"
        "1 | n_gpus,runtme [ms]\n"
        "  |        ^^^^^^^^^^^\n"
        "  = help: did you mean 'runtime'?\n"
        "  = help: a run's metric is compared with the shown column of the same name: name the column "
        "'runtime [ms]'\n"
        "\n"
        "1 warning\n"
        "--strict: warnings are errors\n")),
    # A log none of whose metrics the report shows (nor a near miss of one) gives nothing to compare: a bad log, as one
    # with no usable row (no-rows), exit status 1. It was a warning, exit status 0.
    Trigger("nothing-to-compare", ["eval", "r.perf", "--measured", "runs.csv", "--format", "csv"], 1,
            files={"r.perf": REPORT, "runs.csv": "n_gpus,latency [ms]\n1,11\n2,21\n"}, stderr=(
        "error[nothing-to-compare]: no run of this log carries a metric the report shows: the log (perfdsl-csv) "
        "holds 'latency'; the report shows 'runtime'\n"
        "  --> runs.csv\n"
        "  = help: a log is compared where its runs measure a shown metric: give the log that does, or leave this one "
        "out; none of its runs is compared\n"
        "\n"
        "1 error\n")),
    # A log whose runs have no identifying field would match every point of the sweep (the wrong tool's log: an
    # nvidia-smi power log beside a report of several points); its runs were described by an empty text.
    Trigger("nothing-to-compare", ["eval", "r.perf", "--measured", "runs.csv", "--format", "csv"], 1,
            files={"r.perf": REPORT, "runs.csv": "runtime [ms]\n11\n"}, stderr=(
        "error[nothing-to-compare]: no run of this log can be matched: the log (perfdsl-csv) holds 'runtime' for "
        "runs without an identifying field; the report's 2 sweep points differ in n_gpus, so each run would match "
        "them all and none is compared\n"
        "  --> runs.csv\n"
        "  = help: give the identifying fields (n_gpus) as side metadata: perfdsl ingest LOG --meta side.json with "
        'the run\'s values, e.g. {"n_gpus": 1}, or a file LOG.meta.json beside the log\n'
        "\n"
        "1 error\n")),
    # A metric far from every shown name is a log's extra column, unless nothing at all is compared.
    Trigger("unmatched-metric", ["eval", "r.perf", "--measured", "runs.csv", "--format", "csv"], 0,
            files={"r.perf": REPORT, "runs.csv": "n_gpus,runtme [ms],latency [ms]\n1,11,11\n2,21,21\n"}, stderr=(
        "warning[unmatched-metric]: the runs' metric 'runtme' matches no metric the report shows, so it is not "
        "compared\n"
        "  --> runs.csv:1:8 (column 'runtme [ms]')\n"
        "  |\n"
        "1 | n_gpus,runtme [ms],latency [ms]\n"
        "  |        ^^^^^^^^^^^\n"
        "  = help: did you mean 'runtime'?\n"
        "  = help: a run's metric is compared with the shown column of the same name: name the column "
        "'runtime [ms]'\n"
        "\n"
        "warning[unmatched-metric]: the runs' metric 'latency' matches no metric the report shows: nothing is "
        "compared\n"
        "  --> runs.csv:1:20 (column 'latency [ms]')\n"
        "  |\n"
        "1 | n_gpus,runtme [ms],latency [ms]\n"
        "  |                    ^^^^^^^^^^^^\n"
        "  = help: the report shows 'runtime': name a log's column like the shown metric it measures "
        "(`show x.tpot in ms as tpot` takes 'tpot [ms]')\n"
        "\n"
        "2 warnings\n")),
    # A negative duration was compared (an error of -200 %); 0 is not a measurement either.
    Trigger("bad-value", ["eval", "r.perf", "--measured", "runs.csv", "--format", "csv", "--strict"], 1,
            files={"r.perf": REPORT, "runs.csv": "n_gpus,runtime [ms]\n1,-11\n2,0\n"}, stderr=(
        "error[no-rows]: no row of this log could be used: every run in it was skipped\n"
        "  --> runs.csv\n"
        "  = help: the warnings at its rows say why each was skipped: mend them, or leave the log out\n"
        "\n"
        "warning[bad-value]: '-11' in column 'runtime [ms]': a duration cannot be negative; not used\n"
        "  --> runs.csv:2:3 (row 1, column 'runtime [ms]')\n"
        "  |\n"
        "2 | 1,-11\n"
        "  |   ^^^\n"
        "  = note: row 1 skipped: none of its metrics could be read\n"
        "  = help: a duration, memory size, energy, power or throughput is greater than 0: fix the value, or write "
        "NA where the run has no value\n"
        "\n"
        "warning[bad-value]: '0' in column 'runtime [ms]': a duration of 0 is not a measurement; not used\n"
        "  --> runs.csv:3:3 (row 2, column 'runtime [ms]')\n"
        "  |\n"
        "3 | 2,0\n"
        "  |   ^\n"
        "  = note: row 2 skipped: none of its metrics could be read\n"
        "  = help: a duration, memory size, energy, power or throughput is greater than 0: fix the value, or write "
        "NA where the run has no value\n"
        "\n"
        "1 error, 2 warnings\n")),
    # Formats whose readers take whole documents (vLLM's JSON here) are checked after reading: the metric is named.
    Trigger("bad-value", ["ingest", "t.json", "--meta", "side.json", "-o", "runs.csv"], 0, files={
        "side.json": '{"model": "org/tiny"}', "t.json": json.dumps({"elapsed_time": -48.25, "num_requests": 1000, "total_num_tokens": 384000,
                              "requests_per_second": 20.7, "tokens_per_second": 7958.5})}, stderr=(
        "warning[bad-value]: 'run_duration' is -48.25 s: a duration cannot be negative; not used\n"
        "  --> t.json (metric 'run_duration')\n"
        "  = help: a duration, memory size, energy, power or throughput is greater than 0: fix the value, or write "
        "NA where the run has no value\n"
        "ingest: 1 run from 1 log (vllm-throughput); wrote runs.csv; 0 errors, 1 warning\n")),
    Trigger("bad-value", ["eval", "r.perf", "--measured", "runs.jsonl", "--format", "csv"], 0,
            files={"r.perf": REPORT, "runs.jsonl": '{"n_gpus": 1, "runtime [ms]": 11, "power [W]": -3}\n'}, stderr=(
        "warning[bad-value]: -3 for key 'power [W]': a power cannot be negative; not used\n"
        "  --> runs.jsonl:1:35 (row 1, key 'power [W]')\n"
        "  |\n"
        "1 | {\"n_gpus\": 1, \"runtime [ms]\": 11, \"power [W]\": -3}\n"
        "  |                                   ^^^^^^^^^^^\n"
        "  = note: row 1 is kept without 'power'\n"
        "  = help: a duration, memory size, energy, power or throughput is greater than 0: fix the value, or write "
        "NA where the run has no value\n"
        "\n"
        "note[unmatched]: 1 estimate without a run\n"
        "  = note: n_gpus=2\n"
        "\n"
        "1 warning\n")),
    Trigger("bad-report-option", ["eval", "r.perf"], 1, files={
        "r.perf": REPORT.replace("report r {", "report r {\n    measured = runs")}, stderr=(
        "error[bad-report-option]: 'measured' names run logs: a string or a list of strings\n"
        "  --> r.perf:6:16\n"
        "  |\n"
        "6 |     measured = runs\n"
        "  |                ^^^^\n"
        "  = in: report.r.measured\n"
        "  = help: a string or a list of strings, relative to the report's file: \"runs.csv\" or "
        "[\"a.csv\", \"b.jsonl\"]\n"
        "\n"
        "1 error\n")),
    Trigger("bad-choice", ["eval", "r.perf", "--measured", "runs.csv"], 1, files={
        "r.perf": REPORT.replace("report r {", 'report r {\n    error_convention = "measurd"'),
        "runs.csv": "n_gpus,runtime [ms]\n1,11\n"}, stderr=(
        "error[bad-choice]: 'error_convention' is one of \"measured\" or \"estimated\", not \"measurd\"\n"
        "  --> r.perf:6:24\n"
        "  |\n"
        "6 |     error_convention = \"measurd\"\n"
        "  |                        ^^^^^^^^^\n"
        "  = in: report.r.error_convention\n"
        "  = help: did you mean \"measured\"?\n"
        "  = help: \"measured\": (estimated - measured) / measured\n"
        "  = help: \"estimated\": (estimated - measured) / estimated, as the seed table does\n"
        "\n"
        "1 error\n")),
    # -- import-hf ---------------------------------------------------------------------------------------------
    Trigger("bad-config", ["import-hf", "config.json"], 1, files={
        "config.json": '{"model_type": "llama", "hidden_size": 4096,}\n'}, stderr=(
        "error[bad-config]: 'config.json' is not valid JSON: Expecting property name enclosed in double "
        "quotes\n"
        "  --> config.json:1:45\n"
        "  |\n"
        "1 | {\"model_type\": \"llama\", \"hidden_size\": 4096,}\n"
        "  |                                             ^\n"
        "  = help: give a Hugging Face config.json (a JSON object with model_type, hidden_size, ...)\n"
        "\n"
        "1 error\n")),
    Trigger("no-model-id", ["import-hf", "config.json"], 2, files={"config.json": LLAMA_CONFIG}, stderr=(
        "error[no-model-id]: 'config.json' does not say which model it is: no '_name_or_path' of the form "
        "org/name\n"
        "  = help: give the model id: --hf-id ORG/NAME\n"
        "\n"
        "1 error\n")),
    Trigger("bad-name", ["import-hf", "config.json", "--name", "7b-chat"], 2, files={
        "config.json": LLAMA_CONFIG}, stderr=(
        "error[bad-name]: '7b-chat' is not a block name\n"
        "  = help: a block name is letters, digits and '_', not starting with a digit\n"
        "\n"
        "1 error\n")),
    # -- reading .perf files -----------------------------------------------------------------------------------
    Trigger("unreadable-file", ["check", "a.perf"], 1, files={
        "a.perf": 'import "b.perf"\n', "b.perf": 'model m {\n    name = "caf\xe9"\n}\n'.encode("latin-1")},
        stderr=(
        "error[unreadable-file]: cannot read 'b.perf': byte 0xe9 is not UTF-8 text\n"
        "  --> b.perf:2:16\n"
        "  |\n"
        "2 |     name = \"caf�\"\n"
        "  |                ^\n"
        "  = help: save the file as UTF-8 (a .perf file is UTF-8 text)\n"
        "\n"
        "1 error\n")),
    # -- the command line --------------------------------------------------------------------------------------
    Trigger("ambiguous-override", ["eval", "r.perf", "--set", "clock=3"], 2, files={
        "r.perf": "hardware gpu { clock = 1 GHz }\nmodel m { clock = 2 }\n"
                  "costmodel c { x = hardware.clock * model.clock }\n"
                  "report r { hardware = gpu; model = m; show c.x in GHz }\n"}, stderr=(
        "error[ambiguous-override]: 'clock' is a cell of several bound blocks: gpu, m\n"
        "  = help: name the block: --set gpu.clock=... or --set m.clock=...\n"
        "\n"
        "1 error\n")),
    Trigger("unknown-block", ["explain", "lib.perf", "a11.peak"], 2, files={
        "lib.perf": "hardware a10 { peak = 125 TFLOP/s }\n"}, stderr=(
        "error[unknown-block]: no block named 'a11'\n"
        "  = help: did you mean 'a10'?\n"
        "  = help: available: a10\n"
        "\n"
        "1 error\n")),
    Trigger("no-report", ["eval", "lib.perf"], 2, files={
        "lib.perf": "hardware a10 { peak = 125 TFLOP/s }\n"}, stderr=(
        "error[no-report]: the loaded files define no report\n"
        "  = help: add a `report NAME { ... }` block that shows cells, or look at one cell with `perfdsl "
        "explain FILE BLOCK.CELL`\n"
        "\n"
        "1 error\n")),
    Trigger("bad-cell", ["explain", "r.perf", "c.runtime.ms"], 2, files={"r.perf": REPORT}, stderr=(
        "error[bad-cell]: cannot read the cell name 'c.runtime.ms'\n"
        "  = help: write CELL, ROLE.CELL or BLOCK.CELL, e.g. prefill.runtime\n"
        "\n"
        "1 error\n")),
]


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("trigger", TRIGGERS, ids=[t.code for t in TRIGGERS])
def test_diagnostic_text(trigger: Trigger, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name, content in trigger.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    code, _, err = run_cli(trigger.argv, capsys)
    assert err == trigger.stderr
    assert code == trigger.status
    assert "Traceback" not in err and "error[internal]" not in err


def test_each_trigger_shows_its_own_code():
    for trigger in TRIGGERS:
        assert f"[{trigger.code}]: " in trigger.stderr, trigger.code


def test_too_many_rows_for_a_workbook_sheet(tmp_path, monkeypatch, capsys):
    """An Excel sheet holds 1,048,576 rows; the limit is lowered to 2 + 4 here so that six points overflow it."""
    import perfdsl.workbook as workbook

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(workbook, "EXCEL_MAX_ROWS", workbook.HEADER_ROWS + 4)
    (tmp_path / "r.perf").write_text(REPORT.replace("[1, 2]", "1 .. 6"))
    code, out, err = run_cli(["eval", "r.perf", "-o", "out.xlsx"], capsys)
    assert err == (
        "error[too-many-rows]: section 'r' has 6 rows; an Excel sheet holds 4 below its headers\n"
        "  = help: split the rows over several sheets with a report cell `section` (a string per point, e.g. "
        "`section = if(workload.n_gpus > 1, \"multi\", \"single\")`), or write CSV: -o FILE.csv\n"
        "\n"
        "1 error\n")
    assert code == 2 and out == ""
    assert not (tmp_path / "out.xlsx").exists()


def test_internal_error_is_the_last_line_of_defence(tmp_path, monkeypatch, capsys):
    """A bug (any exception that is not a PerfError) prints one line and a hint, never a traceback."""
    def broken(args):
        raise KeyError("prefill")

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PERFDSL_DEBUG", raising=False)
    monkeypatch.setattr(cli, "cmd_check", broken)
    code, out, err = run_cli(["check", "r.perf"], capsys)
    assert err == (
        "error[internal]: KeyError: 'prefill'\n"
        "  = help: this is a bug in perfdsl; run again with PERFDSL_DEBUG=1 for the details and report it\n")
    assert code == 1 and out == ""
