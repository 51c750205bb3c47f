"""The run-log format `published`: the 14-column CSV of published measurements (../shared/data/measured), its
tables of names, its warnings, and runs matched by the blocks bound to the roles `stack` and `precision`."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl.cli import main
from perfdsl.errors import PerfError
from perfdsl.matching import compare_with_runs
from perfdsl.measured import evaluate_with_runs
from perfdsl.runlogs import load_runs
from perfdsl.runlogs.detect import detect_format
from perfdsl.runlogs.published import COLUMNS, read
from perfdsl.runlogs.published_names import (GPU_NAMES, PRECISIONS, STACKS, gpu_name, parallelism, precision_name,
                                             stack_name)

HEADER = ",".join(COLUMNS)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# The contract's names (issue 13, /work/contract13.md), plus the stacks and format published sources add.
PRECISION_BLOCKS = {"fp16", "bf16", "fp8", "int8_wo", "w8a8_int8", "int4_awq", "int4_gptq", "int4_g32", "nvfp4",
                    "mxfp4", "gguf_q4_k_m", "gguf_q8_0", "gguf_f16", "mlc_q4f16_1"}
STACK_BLOCKS = {"hf_eager_profiled", "hf_eager", "gpt_fast", "vllm", "vllm_2023", "sglang", "trtllm", "llama_cpp",
                "autoawq", "mlc_llm", "exllama"}
GPT_FAST = ('Llama-2-7B,meta-llama/Llama-2-7b-chat-hf,NVIDIA A100-SXM4-80GB (power-limited to 330 W; 8-GPU hybrid '
            'cube mesh node),1,none,bf16,"gpt-fast generate.py --compile",1,5,200,'
            'decode_throughput_per_sequence (tok/s),{value},tokens/s,pytorch-labs/gpt-fast@32971d3:README.md')


def library_labels(repo_root) -> set[str]:
    """The `label` of every hardware block of the library (hardware/*.perf)."""
    labels = set()
    for path in (repo_root / "hardware").glob("*.perf"):
        labels.update(re.findall(r'^\s*label\s*=\s*"([^"]*)"', path.read_text(), re.MULTILINE))
    return labels


@pytest.fixture(scope="module")
def sample():
    return load_runs(FIXTURES / "logs" / "published" / "sample.csv")


def by_row(result) -> dict[int, object]:
    return {int(r.source.rsplit("row ", 1)[1]): r for r in result.records}


# --- reading ------------------------------------------------------------------------------------------------------

def test_the_sample_is_recognised_by_its_header(fixture_logs):
    assert detect_format(fixture_logs / "published" / "sample.csv") == "published"


def test_every_row_but_the_derived_ones_is_a_run_with_one_metric(sample):
    rows = by_row(sample)
    assert sorted(rows) == [1, 3, 5] + list(range(7, 25))     # rows 2, 4 and 6 are gpt-fast's derived bandwidth
    assert all(len(r.metrics) == 1 and r.format == "published" for r in sample.records)


def test_gpt_fast_row_reads_as_the_contract_fields(sample):
    run = by_row(sample)[1]
    assert run.identity == {"model": "meta-llama/Llama-2-7b-chat-hf", "hardware": "NVIDIA A100-SXM4-80GB",
                            "n_gpus": 1, "tp": 1, "pp": 1, "batch": 1, "seq_len": 5, "output_len": 200,
                            "precision": "bf16", "kv_cache_dtype": "auto", "stack": "gpt_fast"}
    assert run.metrics["decode_throughput"].value == 104.9 and run.metrics["decode_throughput"].unit == "token/s"
    # every cell as written stays in extra, the publication under `source`
    assert run.extra["gpu"] == "NVIDIA A100-SXM4-80GB (power-limited to 330 W; 8-GPU hybrid cube mesh node)"
    assert run.extra["source"].startswith("pytorch-labs/gpt-fast@32971d3129541c5bfb4f715abc33d1c5f408d204:README.md")


def test_tensor_parallel_and_layer_split_give_tp_and_pp(sample):
    rows = by_row(sample)
    assert (rows[3].identity["tp"], rows[3].identity["pp"], rows[3].identity["n_gpus"]) == (8, 1, 8)
    assert (rows[12].identity["tp"], rows[12].identity["pp"]) == (1, 2)      # accelerate device_map over 2 GPUs
    assert (rows[19].identity["tp"], rows[19].identity["pp"]) == (1, 2)      # llama.cpp layer split over 2 GPUs
    assert (rows[23].identity["tp"], rows[23].identity["pp"]) == (1, 4)      # llama-bench -sm layer over 4 GPUs


def test_units_are_converted_to_si(sample):
    rows = by_row(sample)
    assert rows[15].metrics["ttft"].value == pytest.approx(7e-3)                  # 7 ms first-token latency
    assert rows[10].metrics["peak_memory"].value == pytest.approx(4.5 * 2**30)     # 4.50 GiB
    assert rows[12].metrics["peak_memory_total"].value == pytest.approx(25.28 * 2**30)  # Mixtral, summed on 2 GPUs


def test_autoawq_decode_rate_of_a_batch_is_per_sequence(sample):
    run = by_row(sample)[11]                  # Mistral 7B, batch 8: the source prints 1185.25 = 8 / step time
    assert run.identity["batch"] == 8 and run.identity["awq_kernel"] == "GEMM"
    assert run.metrics["decode_throughput"].value == pytest.approx(1185.25 / 8)
    assert run.extra["converted"] == "value / batch (1185.25 / 8): the source's decode rate is the batch's"


def test_the_conversion_of_a_value_is_said_at_ingest_and_beside_the_run_in_a_workbook(sample, tmp_path):
    # The ingested CSV held 148.15625 for a source's 1185.25 without a word, and the workbook's Run source of an
    # ingested run named the CSV's row only, not the log it came from.
    from perfdsl.matching import _source_text
    from perfdsl.runlogs import write_runs_csv

    (converted,) = [p for p in sample.problems if p.code == "converted-value"]
    assert converted.render().splitlines()[0] == (
        "note[converted-value]: 1 row of decode_throughput of a batch: each value is divided by its batch, the rate "
        "one sequence decodes at, as the cost model's decode_throughput is")
    assert converted.notes == ["row 11"]
    source = FIXTURES / "logs" / "published" / "sample.csv"
    published = by_row(sample)[11]              # the publication its row cites, then the division
    assert _source_text(published) == (f"{source}:row 11 (from {published.extra['source']}) (value / batch "
                                       "(1185.25 / 8): the source's decode rate is the batch's)")
    assert published.extra["source"].startswith("casper-hansen/AutoAWQ@")
    out = tmp_path / "runs.csv"
    write_runs_csv(sample.records, str(out))
    (run,) = [r for r in load_runs(out).records if r.extra.get("source") == f"{source}:row 11"]
    assert _source_text(run) == f"{run.source} (from {source}:row 11)" and run.source.startswith(f"{out}:row ")


def test_fp8_kv_cache_and_throughput_scope_are_run_fields(sample):
    rows = by_row(sample)
    assert rows[13].identity["precision"] == "fp8" and rows[13].identity["kv_cache_dtype"] == "fp8"
    assert rows[13].identity["throughput_scope"] == "per_gpu"                     # labelled per GPU
    assert rows[14].identity["throughput_scope"] == "unknown"                     # A100 TP 4, 'out tok/s'
    assert rows[16].identity["throughput_scope"] == "per_gpu"                     # one GPU
    assert "throughput_scope" not in rows[15].identity                           # a latency


def test_input_len_with_a_note_reads_its_count(sample):
    assert by_row(sample)[17].identity["seq_len"] == 7        # "7 (prompt 'What is the meaning of life?')"


def test_derived_rows_are_one_warning_listing_them(sample):
    derived = [p for p in sample.problems if p.code == "derived-metric"]
    assert len(derived) == 1
    assert derived[0].severity == "warning"
    assert derived[0].message == ("3 rows hold 'achieved_weight_bandwidth', a value the source DERIVED, not a "
                                  "measurement: not used")
    assert derived[0].notes == ["rows 2, 4, 6"]
    assert derived[0].location.line == 3 and derived[0].location.detail == "column 'metric'"


def test_assumed_skus_are_warned_once_per_spelling(sample):
    assumed = [p.message for p in sample.problems if p.code == "assumed-spelling"]
    assert assumed == [
        "gpu 'NVIDIA A100 (80GB assumed; SKU not stated)': read as 'NVIDIA A100-SXM4-80GB': the A100's SKU is not "
        "stated: read as the 80 GB SXM4 part (a100_80gb_sxm4) (1 row)",
        "precision '4-bit GPTQ/EXL2 (exact bpw not stated)': read as 'int4_gptq': the bits per weight of EXL2 are not "
        "stated: read as 4-bit GPTQ (1 row)",
        "gpu 'NVIDIA A100 (80GB implied by 70B fp16 on 2 GPUs; PCIe-connected per README, SKU not stated)': read as "
        "'NVIDIA A100 80GB PCIe': the A100's SKU is not stated: read as the 80 GB PCIe card (a100_80gb_pcie), 80 GB "
        "from 70B fp16 on 2 GPUs and PCIe from the README's 'not NVLink' (2 rows)"]


# --- the published CSVs themselves -------------------------------------------------------------------------------

# runs, derived rows reported, runs on GPUs the library has no block for (README of ../shared/data/measured)
SHARED = {
    "autoawq_rtx4090_w4a16.csv": (96, 0, 0),
    "gptfast_a100_decode_bs1.csv": (34, 27, 0),            # with 2 runs (and 2 derived rows) on one MI250X GCD,
                                                           # the mi250x block
    "mlc_llm_perf_bench.csv": (75, 0, 2),                  # AMD Radeon RX 7900 XTX
    "trtllm_v06_performance_md.csv": (47, 0, 0),
    "xiongjiedai_llamacpp_llama3.csv": (654, 0, 0),        # every GPU in the library (issue 13 added the RTX 4080,
                                                           # 3080 Ti and 4070 Ti)
}


@pytest.mark.parametrize("name", sorted(SHARED))
def test_each_published_csv_reads_completely(name, repo_root):
    path = repo_root / ".." / "shared" / "data" / "measured" / name
    if not path.is_file():
        pytest.skip(f"../shared/data/measured/{name} is absent: the published measurements are not beside the "
                    f"repository ({path.resolve()})")
    runs, derived, unmatched = SHARED[name]
    result = load_runs(path)
    data_rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
    assert len(result.records) == runs
    derived_rows = sum(int(p.message.split()[0]) for p in result.problems if p.code == "derived-metric")
    assert derived_rows == derived and runs + derived == data_rows            # nothing dropped without a word
    assert not [p for p in result.problems if p.code not in ("derived-metric", "assumed-spelling", "converted-value")]
    labels = library_labels(repo_root)
    assert sum(r.identity["hardware"] not in labels for r in result.records) == unmatched
    for run in result.records:
        assert run.identity["tp"] * run.identity["pp"] == run.identity["n_gpus"]
        assert run.identity["precision"] in PRECISION_BLOCKS and run.identity["stack"] in STACK_BLOCKS


# --- the tables of names ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, label", [
    ("NVIDIA A100-SXM4-80GB (power-limited to 330 W; 8-GPU hybrid cube mesh node)", "NVIDIA A100-SXM4-80GB"),
    ("NVIDIA A100 (80GB assumed; SKU not stated)", "NVIDIA A100-SXM4-80GB"),
    ("NVIDIA H100 80GB HBM3 (SXM; doc: 'H100-HBM3-80GB system')", "NVIDIA H100 80GB HBM3"),
    ("NVIDIA A10G (AWS; 24GB)", "NVIDIA A10G"),
    ("NVIDIA GeForce RTX 4090 (host CPU AMD Ryzen 9 7950X)", "NVIDIA GeForce RTX 4090"),
    ("NVIDIA L40S", "NVIDIA L40S"),
    ("AMD Instinct MI250X (ONE GCD = half the package)", "AMD Instinct MI250X"),   # mi250x is one GCD
])
def test_gpu_spellings_read_as_library_labels(text, label, repo_root):
    assert gpu_name(text)[0] == label and label in library_labels(repo_root)


def test_every_gpu_table_entry_is_a_library_label_or_kept_on_purpose(repo_root):
    labels = library_labels(repo_root)
    kept = {hardware for published, (hardware, _) in GPU_NAMES.items() if hardware not in labels}
    assert kept == set()


def test_a_noted_gpu_spelling_not_in_the_table_is_unknown():
    assert gpu_name("NVIDIA A100 (40GB?)") == (None, None)
    assert gpu_name("AMD Radeon RX 7900 XTX") == ("AMD Radeon RX 7900 XTX", None)


@pytest.mark.parametrize("text, stack, name", [
    ("bf16", None, "bf16"),
    ("GGUF Q4_K_M (file 4.58 GiB)", None, "gguf_q4_k_m"),
    ("GGUF F16 (file 131.42 GiB)", None, "gguf_f16"),
    ("int8 weight-only (bf16 activations)", None, "int8_wo"),
    ("int4 weight-only, group size 32 (bf16 activations)", None, "int4_g32"),
    ("AWQ int4 weight-only (W4A16, group 128 default), fp16 activations; GEMM kernel", None, "int4_awq"),
    ("AWQ int4", None, "int4_awq"),
    ("4-bit GPTQ", None, "int4_gptq"),
    ("fp8 weights+activations (--enable_fp8) + fp8 KV cache", None, "fp8"),
    ("q4f16_1 (int4 weights, group quant, fp16 act)", None, "mlc_q4f16_1"),
    ("fp16 (weights and activations)", None, "fp16"),
    ("fp16 (weights and activations)", "llama_cpp", "gguf_f16"),        # llama.cpp reads GGUF files only
])
def test_precision_spellings_read_as_precision_blocks(text, stack, name):
    assert precision_name(text, stack)[0] == name


@pytest.mark.parametrize("text, name", [
    ("llama.cpp llama-bench build d11afd66 (2837), CUDA 12.1.1, -ngl 99", "llama_cpp"),
    ("gpt-fast generate.py --compile (torch.compile + HIP graphs, PyTorch nightly; date not stated), ROCm", "gpt_fast"),
    ("TensorRT-LLM v0.5 gptSessionBenchmark (static batching)", "trtllm"),
    # llm-perf-bench's November 2023 column: the engine of then (no CUDA graphs), not today's
    ("vLLM benchmark_latency.py (speed = output_len / mean latency), docker cu118", "vllm_2023"),
    ("vLLM 0.6.3 benchmark_throughput.py", "vllm"),
    ("AutoAWQ 0.1.6 examples/benchmark.py (fused modules, torch generator)", "autoawq"),
    ("MLC LLM @8e94910e", "mlc_llm"),
    ("ExLlamaV2 (commit in README Setup Details)", "exllama"),
    ("ExLlama (v1/v2 not explicit in this table)", "exllama"),
])
def test_framework_spellings_read_as_stack_blocks(text, name):
    assert stack_name(text) == name


def test_every_table_names_a_contract_block():
    assert {name for _, name, _ in PRECISIONS} <= PRECISION_BLOCKS
    assert {name for _, name in STACKS} <= STACK_BLOCKS


@pytest.mark.parametrize("text, split", [
    ("none; GPUs connected over PCIe, not NVLink (README)", (1, 1)),
    ("tensor parallel TP=4 (torchrun, ENABLE_INTRA_NODE_COMM=1)", (4, 1)),
    ("exllama layer split over 8 GPUs (sequential); GPUs connected over PCIe, not NVLink (README)", (1, 8)),
    ("layer split across 2 GPUs via HF/accelerate device_map (sequential pipeline, no micro-batching)", (1, 2)),
    ("expert parallel EP=8", None),
    ("tensor parallel TP=0", None),
])
def test_parallelism_texts(text, split):
    assert parallelism(text) == split


# --- bad input ----------------------------------------------------------------------------------------------------

def write(tmp_path, *rows: str, header: str = HEADER):
    path = tmp_path / "runs.csv"
    path.write_text("\n".join((header,) + rows) + "\n", encoding="utf-8")
    return path


def test_a_header_missing_a_column_is_a_located_error(tmp_path):
    path = write(tmp_path, header=HEADER.replace(",unit", ""))
    with pytest.raises(PerfError) as caught:
        read(path)
    assert caught.value.diagnostics[0].render() == (
        "error[bad-header]: not the 14-column header of published measurements: missing 'unit'\n"
        f"  --> {path}:1:1\n"
        "  |\n"
        f"1 | {HEADER.replace(',unit', '')}\n"
        f"  | {'^' * len(HEADER.replace(',unit', ''))}\n"
        f"  = help: the header is: {HEADER}")


def test_a_value_that_is_not_a_number_is_a_warning_at_the_cell(tmp_path):
    path = write(tmp_path, GPT_FAST.format(value="104.9"), GPT_FAST.format(value="fast"))
    result = read(path)
    assert [r.source for r in result.records] == [f"{path}:row 1"]
    problem = result.problems[0]
    assert (problem.severity, problem.code) == ("warning", "bad-value")
    assert problem.message == "cannot read 'fast' in column 'value': expected a number of at least 0; row 2 skipped"
    line = GPT_FAST.format(value="fast")
    col = line.index(",fast,") + 2
    assert (problem.location.line, problem.location.col, problem.location.end_col) == (3, col, col + 4)
    assert problem.location.detail == "row 2, column 'value'"


def test_a_row_with_too_few_fields_is_a_warning(tmp_path):
    path = write(tmp_path, "Llama-2-7B,meta-llama/Llama-2-7b-chat-hf,NVIDIA L40S,1")
    result = read(path)
    assert result.records == []
    assert result.problems[0].message == "row 1 has 4 fields but the header has 14 columns; row 1 skipped"


def test_an_unknown_metric_and_spelling_are_reported_not_dropped(tmp_path):
    row = GPT_FAST.format(value="104.9")
    path = write(tmp_path, row.replace("decode_throughput_per_sequence", "tokens_per_joule"),
                 row.replace(",bf16,", ",fp6,"))
    result = read(path)
    assert [r.identity["precision"] for r in result.records] == ["fp6"]       # kept as written
    messages = [p.message for p in result.problems]
    assert messages == ["1 row holds 'tokens_per_joule', a metric the published reader does not know: not used",
                        "precision 'fp6' is in no table of published names: kept as written (1 row)"]


def test_formula_looking_text_stays_text_through_ingest(tmp_path):
    row = GPT_FAST.format(value="104.9").replace("meta-llama/Llama-2-7b-chat-hf", "=HYPERLINK(\"x\")", 1)
    path = write(tmp_path, row.replace('=HYPERLINK("x")', '"=HYPERLINK(""x"")"'))
    [run] = read(path).records
    assert run.identity["model"] == '=HYPERLINK("x")'
    out = tmp_path / "out.csv"
    assert main(["ingest", str(path), "-o", str(out)]) == 0
    assert "'=HYPERLINK" in out.read_text()
    [back] = load_runs(out).records
    assert back.identity["model"] == '=HYPERLINK("x")'


# --- ingest -------------------------------------------------------------------------------------------------------

def test_ingest_converts_the_sample_and_lists_the_format(fixture_logs, tmp_path, capsys):
    out = tmp_path / "runs.csv"
    assert main(["ingest", str(fixture_logs / "published" / "sample.csv"), "-o", str(out)]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"ingest: 21 runs from 1 log (published); wrote {out}; 0 errors, 4 warnings")
    back = load_runs(out)
    assert back.problems == [] and len(back.records) == 21
    first = back.records[0]
    assert first.identity["stack"] == "gpt_fast" and first.identity["tp"] == 1
    assert first.metrics["decode_throughput"].value == 104.9
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    assert "\n  published " in capsys.readouterr().out


# --- matching by roles --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def roles_report():
    return FIXTURES / "specs" / "published_roles.perf"


def measured_at(comparison, name="decode_throughput") -> dict[tuple, float]:
    metric = next(m for m in comparison.metrics if m.name == name)
    return {(r["tp"], r["stack"], r["precision"]): metric.measured[i]
            for i, r in enumerate(comparison.result.records())}


def test_runs_match_the_blocks_bound_to_stack_and_precision(roles_report):
    comparison = compare_with_runs(perfdsl.load(roles_report).evaluate())
    measured = measured_at(comparison)
    assert measured[(1, "gpt_fast", "bf16")] == 104.9
    assert measured[(1, "gpt_fast", "int8_wo")] == 155.58
    assert measured[(8, "gpt_fast", "bf16")] == 328.43
    assert sum(np.isfinite(v) for v in measured.values()) == 3
    assert not [d for d in comparison.diagnostics if d.code == "unused-run-field"]
    assert "stack" in comparison.used_keys and "precision" in comparison.used_keys and "tp" in comparison.used_keys


def test_a_role_field_matches_a_block_by_its_label(roles_report, tmp_path):
    log = tmp_path / "labels.csv"
    log.write_text("model,hardware,n_gpus,tp,pp,batch,seq_len,output_len,stack,precision,decode_throughput [token/s]\n"
                   "meta-llama/Llama-2-7b-chat-hf,NVIDIA A100-SXM4-80GB,1,1,1,1,5,200,vLLM,BF16,90\n"
                   "meta-llama/Llama-2-7b-chat-hf,NVIDIA A100-SXM4-80GB,1,1,1,1,5,200,SGLang,BF16,95\n")
    comparison = compare_with_runs(perfdsl.load(roles_report).evaluate(), [str(log)])
    assert measured_at(comparison)[(1, "vllm", "bf16")] == 90
    [unmatched] = [u for u in comparison.unmatched if u.kind == "run without estimate"]
    assert unmatched.description.endswith("(stack 'SGLang' is not in the report)")


def test_points_from_runs_sweep_the_blocks_the_runs_name(roles_report, tmp_path):
    text = roles_report.read_text().replace('    show cost', '    points = "runs"\n    show cost')
    spec = tmp_path / "roles.perf"
    spec.write_text(text.replace('"../logs/published/roles.csv"', f'"{roles_report.parent.parent}/logs/published/'
                                                                   'roles.csv"'))
    evaluated = evaluate_with_runs(perfdsl.load(spec))
    keys, columns = evaluated.comparison.table()
    rows = Counter(zip(*(columns[keys.index(k)].tolist() for k in ("stack", "precision"))))
    assert rows == Counter({("gpt_fast", "bf16"): 2, ("gpt_fast", "int8_wo"): 1})


def test_the_warnings_texts(tmp_path):
    row = GPT_FAST.format(value="104.9")
    path = write(tmp_path, row.replace("decode_throughput_per_sequence (tok/s)", "achieved_weight_bandwidth (DERIVED)"),
                 row.replace("decode_throughput_per_sequence", "tokens_per_joule"),
                 row.replace(",bf16,", ",fp6,"),
                 row.replace("NVIDIA A100-SXM4-80GB (power-limited to 330 W; 8-GPU hybrid cube mesh node)",
                             "NVIDIA A100 (80GB assumed; SKU not stated)"),
                 row.replace(",tokens/s,", ",ms,"))
    first_lines = [p.render().splitlines()[0] for p in load_runs(path).problems]
    assert first_lines == [
        "warning[bad-unit]: cannot read 'ms' in column 'unit': 'decode_throughput_per_sequence' is in token/s; "
        "row 5 skipped",
        "warning[derived-metric]: 1 row holds 'achieved_weight_bandwidth', a value the source DERIVED, not a "
        "measurement: not used",
        "warning[unknown-metric]: 1 row holds 'tokens_per_joule', a metric the published reader does not know: "
        "not used",
        "warning[unknown-spelling]: precision 'fp6' is in no table of published names: kept as written (1 row)",
        "warning[assumed-spelling]: gpu 'NVIDIA A100 (80GB assumed; SKU not stated)': read as 'NVIDIA A100-SXM4-80GB': "
        "the A100's SKU is not stated: read as the 80 GB SXM4 part (a100_80gb_sxm4) (1 row)"]
    # the user's fix, not a developer's (it said: add the spelling to dsl/runlogs/published_names.py)
    spelling = next(p for p in load_runs(path).problems if p.code == "unknown-spelling")
    assert spelling.hints == ["kept as written, the precision matches a block only where the library writes it so (a "
                              "model's hf_id, a GPU's label, a stack's or precision's label): write the precision "
                              "that way in the CSV"]


def test_a_quote_closed_a_line_late_skips_both_rows_by_name_and_the_rows_after_keep_their_numbers(tmp_path):
    # A closing quote lost at the end of data row 7: the csv module reads on to the next quote, in row 8, and the two
    # rows are one record of too many fields. Both are named, and each later run keeps the number of its line.
    import csv

    lines = (FIXTURES / "logs" / "published" / "sample.csv").read_text().splitlines()
    cut = lines[7].rfind('"')
    assert lines[7].count('"') % 2 == 0 and cut > 0
    lines[7] = lines[7][:cut] + lines[7][cut + 1:]
    log = tmp_path / "published.csv"
    log.write_text("\n".join(lines) + "\n")
    [joined] = csv.reader([lines[7] + "\n" + lines[8]])         # what the two lines read as
    result = load_runs(log)
    problems = [p for p in result.problems if p.code == "bad-row"]
    assert [p.message for p in problems] == [
        f"rows 7 to 8 (lines 8 to 9) read as one row of {len(joined)} fields, and the header has 14 columns: a quote "
        "in line 8 is closed only in line 9; rows 7 to 8 skipped"]
    assert (problems[0].location.line, problems[0].location.col) == (8, lines[7].rfind('"') + 1)   # the quote left open
    whole = by_row(load_runs(FIXTURES / "logs" / "published" / "sample.csv"))
    rows = by_row(result)
    assert 7 in whole and 8 in whole and 7 not in rows and 8 not in rows
    assert {number: (run.identity, run.metrics) for number, run in rows.items()} == \
        {number: (run.identity, run.metrics) for number, run in whole.items() if number not in (7, 8)}
