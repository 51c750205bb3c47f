"""A run whose model or hardware names no block of the report gets the closest block and how to match it
(dsl/run_names.py): before, `(model 'meta-llama/Llama-3.1-70B-Instruct' is not in the report)` and nothing more,
while the report's llama3_1_70b has hf_id `meta-llama/Llama-3.1-70B`."""

from __future__ import annotations

from pathlib import Path

import perfdsl

SPEC = """\
hardware h100_sxm5 { label = "NVIDIA H100 80GB HBM3"; peak = 989.4 TFLOP/s }
hardware a100_sxm4 { label = "NVIDIA A100-SXM4-80GB"; peak = 312 TFLOP/s }
hardware rtx_a5000 { label = "NVIDIA RTX A5000"; peak = 111.1 TFLOP/s }
model llama3_1_8b { hf_id = "meta-llama/Llama-3.1-8B"; params = 8e9 }
model llama3_1_70b { hf_id = "meta-llama/Llama-3.1-70B"; params = 70e9 }
costmodel cost { runtime = 2 FLOP * model.params * workload.tokens / hardware.peak }
workload step { tokens = 1000 }
report r {
    sweep model = [llama3_1_8b, llama3_1_70b]
    sweep hardware = [h100_sxm5, a100_sxm4, rtx_a5000]
    workload = step
    show cost.runtime in ms as runtime
}
"""


def unmatched_warning(tmp_path: Path, *rows: str):
    spec = tmp_path / "r.perf"
    spec.write_text(SPEC)
    log = tmp_path / "runs.csv"
    log.write_text("model,hardware,runtime [ms]\n" + "".join(row + "\n" for row in rows))
    evaluated = perfdsl.evaluate_with_runs(perfdsl.load(spec), measured=[str(log)])
    assert evaluated.exit_status == 0
    return next(d for d in evaluated.diagnostics if d.code == "unmatched" and d.severity == "warning"), log


def test_an_instruct_checkpoint_is_pointed_at_its_base_model_and_a_block_that_extends_it(tmp_path):
    warning, log = unmatched_warning(tmp_path, "meta-llama/Llama-3.1-70B-Instruct,NVIDIA H100 80GB HBM3,150")
    assert warning.render() == (
        "warning[unmatched]: 1 run without an estimate\n"
        "  = note: model=meta-llama/Llama-3.1-70B-Instruct, hardware=NVIDIA H100 80GB HBM3 (model "
        "'meta-llama/Llama-3.1-70B-Instruct' is not in the report; did you mean model llama3_1_70b (hf_id "
        f"'meta-llama/Llama-3.1-70B')?) ({log}:row 1)\n"
        "  = help: a run of 'meta-llama/Llama-3.1-70B-Instruct' is matched by a block of that hf_id: where the "
        "checkpoint has the architecture of 'meta-llama/Llama-3.1-70B' (a fine-tuned one, such as Instruct, has its "
        "base model's config.json figures), add `model llama3_1_70b_instruct extends llama3_1_70b { hf_id = "
        "\"meta-llama/Llama-3.1-70B-Instruct\" }` and sweep it in the report's `model`, as "
        "reports/published_optimum.perf does for the Llama 3.1 Instruct checkpoints")


def test_the_block_the_help_writes_matches_the_run(tmp_path):
    # The help's block, added as it says, makes the run match (as published_optimum.perf's llama3_1_70b_instruct).
    spec = tmp_path / "r.perf"
    spec.write_text(SPEC.replace("sweep model = [llama3_1_8b, llama3_1_70b]",
                                 "sweep model = [llama3_1_8b, llama3_1_70b, llama3_1_70b_instruct]")
                    + 'model llama3_1_70b_instruct extends llama3_1_70b { hf_id = "meta-llama/Llama-3.1-70B-Instruct" }\n')
    log = tmp_path / "runs.csv"
    log.write_text("model,hardware,runtime [ms]\nmeta-llama/Llama-3.1-70B-Instruct,NVIDIA H100 80GB HBM3,150\n")
    evaluated = perfdsl.evaluate_with_runs(perfdsl.load(spec), measured=[str(log)])
    assert [u.kind for u in evaluated.comparison.unmatched if u.kind == "run without estimate"] == []


def test_a_gpu_written_another_way_is_pointed_at_the_label_of_its_part(tmp_path):
    warning, log = unmatched_warning(tmp_path, "meta-llama/Llama-3.1-8B,H100-SXM5-80GB,12")
    assert warning.render() == (
        "warning[unmatched]: 1 run without an estimate\n"
        "  = note: model=meta-llama/Llama-3.1-8B, hardware=H100-SXM5-80GB (hardware 'H100-SXM5-80GB' is not in the "
        f"report; did you mean hardware h100_sxm5 (label 'NVIDIA H100 80GB HBM3')?) ({log}:row 1)\n"
        "  = help: write the run's hardware as 'NVIDIA H100 80GB HBM3' (or the block's name, h100_sxm5) to match "
        "h100_sxm5, or add a block for 'H100-SXM5-80GB' to the report's `hardware`")


def test_no_block_of_another_size_part_or_name_is_suggested(tmp_path):
    # Llama-3.2-3B has neither model's size and version (3.1, 8B or 70B); an L40S is no H100, A100 nor A5000 (their
    # parts), nor is an RTX A6000 an RTX A5000, one letter apart; org/unknown shares no numbered word with either model
    # and is no near miss of one.
    warning, log = unmatched_warning(tmp_path, "meta-llama/Llama-3.2-3B-Instruct,NVIDIA H100 80GB HBM3,5",
                                     "meta-llama/Llama-3.1-8B,NVIDIA L40S,12", "org/unknown,NVIDIA H100 80GB HBM3,9",
                                     "meta-llama/Llama-3.1-8B,NVIDIA RTX A6000,30")
    assert warning.render() == (
        "warning[unmatched]: 4 runs without an estimate\n"
        "  = note: model=meta-llama/Llama-3.2-3B-Instruct, hardware=NVIDIA H100 80GB HBM3 (model "
        f"'meta-llama/Llama-3.2-3B-Instruct' is not in the report) ({log}:row 1)\n"
        "  = note: model=meta-llama/Llama-3.1-8B, hardware=NVIDIA L40S (hardware 'NVIDIA L40S' is not in the "
        f"report) ({log}:row 2)\n"
        "  = note: model=org/unknown, hardware=NVIDIA H100 80GB HBM3 (model 'org/unknown' is not in the report) "
        f"({log}:row 3)\n"
        "  = note: model=meta-llama/Llama-3.1-8B, hardware=NVIDIA RTX A6000 (hardware 'NVIDIA RTX A6000' is not in "
        f"the report) ({log}:row 4)")
