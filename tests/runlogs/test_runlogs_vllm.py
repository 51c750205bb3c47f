"""vLLM benchmark JSON files (serve, latency, throughput) and the side metadata that names what they lack."""

import json

import pytest

from perfdsl.errors import UsageError
from perfdsl.runlogs import detect_format, load_runs


def one(path, **kwargs):
    result = load_runs(path, **kwargs)
    assert len(result.records) == 1
    return result.records[0], result.problems


def test_serve_gpt_oss_in_ms(shared_logs):
    path = shared_logs / "02_vllm" / "inferencex_gpt-oss-120b_disagg16_conc32_isl1024_osl1024.vllm_bench_serve.json"
    assert detect_format(path) == "vllm-serve"
    record, problems = one(path)
    assert problems == []
    assert record.identity == {"model": "openai/gpt-oss-120b", "num_requests": 320, "request_rate": "inf",
                               "concurrency": 32, "input_tokens": 327680, "output_tokens": 327680}
    assert record.extra["model_id"].startswith("/models/models--openai--gpt-oss-120b/snapshots/")
    m = record.metrics
    assert m["ttft"].value == pytest.approx(327.7923499357712e-3)  # mean_ttft_ms
    assert m["ttft_median"].value == pytest.approx(139.84792854171246e-3)
    assert m["ttft_p99_9"].value == pytest.approx(1554.0890494412743e-3)  # p99.9_ttft_ms
    assert m["tpot"].value == pytest.approx(10.35171252518911e-3)
    assert m["itl"].value == pytest.approx(10.351712596903877e-3)
    assert m["e2e_latency"].value == pytest.approx(10917.594263204228e-3)
    assert m["run_duration"].value == pytest.approx(109.75491525093094)
    assert m["request_throughput"].value == pytest.approx(2.9155869627195194)  # = 320 / 109.755 s
    # vLLM's names, never the bare `throughput`, which reports have shown for either figure
    assert m["output_throughput"].value == pytest.approx(2985.561049824788)  # output tokens/s = 327680 / 109.755 s
    assert m["total_token_throughput"].value == pytest.approx((327680 + 327680) / 109.75491525093094)
    assert "throughput" not in m
    assert "ttft_mean" not in m                    # the mean is the plain name, the median its own
    assert "hardware" not in record.identity  # not in the file: side metadata


@pytest.mark.parametrize("concurrency, ttft, tpot_p99, e2el, rps", [
    (4, 0.26499967742711306, 0.026454948791720733, 3.0225854497402906, 1.2869348000955494),
    (16, 0.29139942955225706, 0.0717096967959967, 4.5732344426214695, 3.1529760261103545),
    (64, 0.9015302835032344, 0.1165743636678699, 12.099307279102504, 5.179984551069907),
])
def test_serve_glm5_variant_in_seconds(shared_logs, concurrency, ttft, tpot_p99, e2el, rps):
    path = shared_logs / "02_vllm" / f"inferencex_glm5-fp8_vllm_tp8_isl1024_osl128_conc{concurrency}.json"
    assert detect_format(path) == "vllm-serve"
    record, problems = one(path)
    assert problems == []
    assert record.identity["model"] == "zai-org/GLM-5-FP8" and record.identity["concurrency"] == concurrency
    assert record.identity["input_tokens"] == 1024 * 10 * concurrency  # 1024 in per prompt, 10 prompts per slot
    m = record.metrics
    assert m["ttft_median"].value == pytest.approx(ttft)  # median_ttft, already seconds (no _ms)
    assert m["ttft_median"].unit == "s"
    # medians only: the plain names hold means (the gpt-oss log's), so they are left empty here, never a median
    assert not {"ttft", "tpot", "itl", "e2e_latency"} & set(m)
    assert m["tpot_p99"].value == pytest.approx(tpot_p99)
    assert m["e2e_latency_median"].value == pytest.approx(e2el)
    assert m["request_throughput"].value == pytest.approx(rps)


def test_latency(shared_logs):
    path = shared_logs / "02_vllm" / "zhangxinyuehfad_vllm-ascend_latency_llama8B_tp1.benchmark_latency.json"
    assert detect_format(path) == "vllm-latency"
    record, problems = one(path)
    assert problems == [] and record.identity == {}
    assert record.metrics["e2e_latency"].value == pytest.approx(7.419569773475329)  # avg_latency, s
    assert record.metrics["e2e_latency_p50"].value == pytest.approx(7.438288155943155)
    assert record.metrics["e2e_latency_p99"].value == pytest.approx(7.734547998122871)
    assert record.extra["iterations"] == 15 and len(record.extra["latencies"]) == 15


def test_throughput_fixture(fixture_logs):
    path = fixture_logs / "vllm_throughput.json"
    assert detect_format(path) == "vllm-throughput"
    record, problems = one(path, side={"model": "meta-llama/Llama-3.1-8B", "hardware": "NVIDIA H100 80GB HBM3",
                                       "n_gpus": "1"})
    assert problems == []
    assert record.identity == {"num_requests": 1000, "tokens": 384000, "model": "meta-llama/Llama-3.1-8B",
                               "hardware": "NVIDIA H100 80GB HBM3", "n_gpus": 1}
    assert record.metrics["run_duration"].value == 48.25
    assert record.metrics["request_throughput"].value == pytest.approx(1000 / 48.25)
    assert record.metrics["total_token_throughput"].value == pytest.approx(384000 / 48.25)


def test_side_files_merge_folder_then_log_then_call(fixture_logs):
    path = fixture_logs / "side" / "serve.json"
    record, problems = one(path)
    assert problems == []
    # perfdsl-meta.json gives hardware, n_gpus, backend, output_len; serve.json.meta.json gives seq_len, batch
    assert {k: record.identity[k] for k in ("hardware", "n_gpus", "backend", "seq_len", "output_len", "batch")} == {
        "hardware": "NVIDIA H100 80GB HBM3", "n_gpus": 1, "backend": "vllm", "seq_len": 1024, "output_len": 128,
        "batch": 8}
    record, problems = one(path, side={"n_gpus": 2, "concurrency": 16})
    assert record.identity["n_gpus"] == 2 and record.identity["concurrency"] == 16
    assert record.extra["log.concurrency"] == 8
    assert [(p.severity, p.code) for p in problems] == [("note", "side-override")]
    assert problems[0].message == "'concurrency' is 8 in the log; the side metadata gives 16, which is used"


def test_bad_side_is_a_usage_error(fixture_logs):
    with pytest.raises(UsageError, match="'n_gpus' must be a whole number"):
        load_runs(fixture_logs / "vllm_throughput.json", side={"n_gpus": "eight"})


def test_bad_side_file_is_a_problem_of_that_log(tmp_path):
    log = tmp_path / "run.json"
    log.write_text(json.dumps({"elapsed_time": 1.0, "num_requests": 2, "total_num_tokens": 3,
                               "requests_per_second": 2.0, "tokens_per_second": 3.0}))
    (tmp_path / "run.json.meta.json").write_text('{"batch": 1.5}')
    result = load_runs(log)
    assert result.records == []
    assert [p.render() for p in result.problems] == [
        "error[bad-side]: cannot use 1.5 for 'batch': 'batch' must be a whole number\n"
        f"  --> {tmp_path / 'run.json.meta.json'}:1:11 (value of 'batch')\n"
        "  |\n"
        '1 | {"batch": 1.5}\n'
        "  |           ^^^\n"
        "  = help: write counts as whole numbers, names as text"]


def test_mean_and_median_logs_do_not_share_a_column(shared_logs, tmp_path):
    # gpt-oss (vLLM's own schema): mean TTFT 327.79 ms, median 139.85 ms; GLM-5 (InferenceX): median 0.265 s only.
    # Ingested together, `ttft [s]` holds the mean of gpt-oss and is NA for GLM-5, whose median is in
    # `ttft_median [s]` beside gpt-oss's: the header says the statistic.
    from perfdsl.cli import main

    logs = shared_logs / "02_vllm"
    out = tmp_path / "runs.csv"
    assert main(["ingest", str(logs / "inferencex_gpt-oss-120b_disagg16_conc32_isl1024_osl1024.vllm_bench_serve.json"),
                 str(logs / "inferencex_glm5-fp8_vllm_tp8_isl1024_osl128_conc4.json"), "-o", str(out)]) == 0
    header = out.read_text().splitlines()[0].split(",")
    assert "ttft [ms]" in header and "ttft_median [s]" in header and "ttft_mean" not in out.read_text()
    runs = {run.identity["model"]: run.metrics for run in load_runs(out).records}
    gpt, glm = runs["openai/gpt-oss-120b"], runs["zai-org/GLM-5-FP8"]
    assert gpt["ttft"].value == pytest.approx(327.7923499357712e-3)
    assert gpt["ttft_median"].value == pytest.approx(139.84792854171246e-3)
    assert "ttft" not in glm                                                  # NA: no mean in the log
    assert glm["ttft_median"].value == pytest.approx(0.26499967742711306)
    assert "e2e_latency" not in glm and glm["e2e_latency_median"].value == pytest.approx(3.0225854497402906)


def test_a_key_spelt_like_one_the_reader_reads_is_a_warning_naming_what_the_run_lacks(tmp_path):
    # `mean_tpot_msec` for mean_tpot_ms was kept as an unread extra in silence: the run had no tpot to compare.
    log = tmp_path / "serve.json"
    log.write_text(json.dumps({"model_id": "org/m", "completed": 5, "duration": 10.0, "mean_ttft_ms": 120.0,
                               "mean_tpot_msec": 20.0, "output_througput": 50.0, "request_goodput:": None,
                               "backend": "vllm"}))
    result = load_runs(log)
    (run,) = result.records
    assert "tpot" not in run.metrics and "output_throughput" not in run.metrics and run.metrics["ttft"]
    assert [p.render() for p in result.problems] == [
        "warning[unknown-key]: key 'mean_tpot_msec' is not one the vLLM reader knows: not read; the run has no tpot "
        f"(from 'mean_tpot_ms')\n  --> {log} (key 'mean_tpot_msec')\n"
        "  = help: did you mean 'mean_tpot_ms'? vLLM's bench serve writes it so",
        "warning[unknown-key]: key 'output_througput' is not one the vLLM reader knows: not read; the run has no "
        f"output_throughput (from 'output_throughput')\n  --> {log} (key 'output_througput')\n"
        "  = help: did you mean 'output_throughput'? vLLM's bench serve writes it so"]


def test_request_goodput_with_vllms_colon_is_read(tmp_path):
    log = tmp_path / "serve.json"
    log.write_text(json.dumps({"model_id": "org/m", "completed": 5, "duration": 10.0, "mean_ttft_ms": 120.0,
                               "request_goodput:": 0.4}))
    (run,) = load_runs(log).records
    assert run.metrics["request_goodput"].value == 0.4
