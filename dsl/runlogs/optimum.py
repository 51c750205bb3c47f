"""Adapter "optimum-benchmark": the benchmark.json of huggingface/optimum-benchmark ({"config": ..., "report": ...}).

One record per file (source `<file>:report`). Identity from the config:
  model        config.backend.model
  hardware     config.environment.gpu[i] for each i in config.backend.device_ids (the gpu list names every GPU
               of the machine, e.g. a "NVIDIA DGX Display" among A100s, so gpu[0] is not the device used)
  n_gpus       the number of device_ids (config.environment.gpu_count counts the whole machine)
  batch, seq_len   config.scenario.input_shapes.batch_size, .sequence_length
  output_len   config.scenario.generate_kwargs.max_new_tokens, only where min_new_tokens is the same
               (energy_star runs generate 1..max_new_tokens, so no fixed output length is known)
  precision    backend.quantization_scheme when set (fbgemm_fp8), otherwise backend.torch_dtype as the name of its
               precision block (TORCH_DTYPES: bfloat16 -> bf16, float16 -> fp16), so that a run matches the block a
               report binds to the role `precision`; the dtype as written stays in extra
  backend      backend.name (pytorch, py-txi ...); energy_star adds dataset and num_requests (num_samples).
Metrics from report.<phase> (phases load_model, prefill, decode, per_token; energy_star adds load_dataset,
preprocess_dataset):
  <phase>_latency       latency.mean (prefill_latency = one forward over the prompt; decode_latency = the whole
                        generate() minus prefill; per_token_latency = one new token); load_model -> load_latency
  memory                report.decode (else prefill) memory.max_allocated, MB = 1e6 bytes: torch's allocator
                        peak (torch.cuda.max_memory_allocated), what the cost model's memory.peak estimates (weights,
                        KV cache, activations; software/stacks.perf hf_eager: framework_overhead 0).
  memory_global_vram    the same phase's memory.max_global_vram: the device's used memory as nvidia-smi shows it,
                        CUDA context and the allocator's cache included (about 1.6 GB more on an A100). Kept under its
                        own name so that it is never compared with an allocator-peak estimate; a report that models
                        it shows a column of that name. extra["metric_sources"] says where each came from; a log
                        with only one of the two gives only that one (never one in place of the other).
                        optimum-benchmark SUMS both over the GPUs in device_ids, so with n_gpus > 1 they are
                        memory_total and memory_global_vram_total, not the per-GPU names.
  throughput            decode throughput (tokens/s); prefill_throughput (samples/s = request/s)
  <phase>_energy        energy.gpu (kWh -> J): the GPUs' energy, what the cost models' energy estimates (CodeCarbon
                        inside optimum-benchmark, tracking the device_ids: <phase>_energy_total where n_gpus > 1, as
                        CodeCarbon sums them)
  <phase>_machine_energy   energy.total: CPU + GPU + RAM, the whole machine's as CodeCarbon counts it; never
                        written as <phase>_energy
  decode_machine_energy_per_token, prefill_machine_energy_per_request   1 / efficiency (tokens/kWh, samples/kWh):
                        optimum-benchmark divides the work by energy.total, so these are the machine's energy per
                        token or request, not the GPUs'
Everything else (latency percentiles, cpu/ram energy, config fields) is kept in `extra` under its JSON path; the
per-iteration `values` lists are left out (extra["omitted"] says so).

The markdown rendering (benchmark_report.md) is not read: it has the report without the config, so no model,
hardware or shapes; ingest the benchmark.json written next to it.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import Location
from ..units import DIMENSIONLESS, dimension_name
from .files import json_path, read_json, require_object
from .records import (LoadResult, Measurement, RunRecord, file_error, int_identity, is_number, measure, summed_name,
                      unit_or_none, warning)
from .registry import Adapter, register

FORMAT = "optimum-benchmark"

# torch dtypes -> the precision blocks of software/precisions.perf that hold them (issue 13's names).
TORCH_DTYPES = {"bfloat16": "bf16", "float16": "fp16"}
_LATENCY_NAMES = {"load_model": "load_latency", "load": "load_latency"}
_MEMORY_PHASES = ("decode", "prefill", "forward", "call")
# optimum-benchmark memory key -> metric name: the allocator peak is `memory` (what memory.peak estimates).
# (key, name on one GPU, name of the sum over several GPUs)
# (key, name on one GPU; summed_name gives the name of the sum over several GPUs)
_MEMORY_KEYS = (("max_allocated", "memory"), ("max_global_vram", "memory_global_vram"))
# optimum-benchmark's efficiency is work / energy.total: Efficiency.from_energy returns `volume / energy.total`
# (huggingface/optimum-benchmark, optimum_benchmark/trackers/energy.py, commit
# 006e800c1161648c493f96dcb9f347f154f7b00d),
# and the energy_star log agrees: prefill 12235.492042198697 samples/kWh x 0.08172944713225458 kWh total = 1000
# samples, its num_samples (x 0.07468241252354346 kWh gpu it would be 913.8). So 1 / efficiency is the machine's.
_EFFICIENCY_NAMES = {"decode": "decode_machine_energy_per_token", "prefill": "prefill_machine_energy_per_request"}


def read(path: Path | str, side: dict | None = None, window=None) -> LoadResult:
    """The one run of an optimum-benchmark benchmark.json: identity from its config, metrics in SI from its report (see
    the module docstring), everything else under its JSON path in `extra`. `side` and `window` are not used. Raises
    PerfError (exit 1): bad-json for a file that is not a JSON object, bad-report where 'config' or 'report' is
    missing or not an object, and the errors of reading the file. Values that cannot be read are warnings in the
    result's problems."""
    path_text = str(path)
    document = require_object(path_text, read_json(path), "an optimum-benchmark report")
    config, report = document.get("config"), document.get("report")
    if not isinstance(config, dict) or not isinstance(report, dict):
        key = "config" if not isinstance(config, dict) else "report"
        found = "missing" if key not in document else f"{json.dumps(document[key])[:40]}, not an object"
        raise file_error(path_text, "bad-report", f"'{key}' is {found}: an optimum-benchmark benchmark.json has "
                         "'config' and 'report' objects", detail=key, hints=["benchmark_report.json alone has no config: "
                                                                "ingest benchmark.json"])
    result = LoadResult()
    used: set[str] = set()
    identity = read_identity(path_text, config, used, result)
    record = RunRecord(identity, {}, f"{path_text}:report", {}, FORMAT)
    sources: dict[str, str] = {}
    read_report(path_text, report, identity.get("n_gpus"), record, sources, result)
    record.extra.update(flatten(config, "config", used))
    record.extra["metric_sources"] = sources
    record.extra["omitted"] = "report.<phase>.latency.values (per-iteration lists)"
    result.records.append(record)
    return result


def get(tree: dict, *keys: str):
    """The value at the path `keys` inside nested dicts, or None where a key is missing or a step is not a dict."""
    for key in keys:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree


def read_identity(path: str, config: dict, used: set[str], result: LoadResult) -> dict[str, object]:
    """The run's identifying fields from `config` (model, hardware, n_gpus, batch, seq_len, output_len, precision,
    backend, dataset, num_requests; counts as ints), adding the JSON path of each config value used to `used`;
    warnings about the devices go to `result.problems`."""
    backend, scenario, environment = (config.get(k) or {} for k in ("backend", "scenario", "environment"))
    identity: dict[str, object] = {}

    def take(name: str, value, *keys: str):
        if value is not None and value != "":
            identity[name] = value
            used.add(json_path("config", *keys))

    take("model", backend.get("model"), "backend", "model")
    hardware, n_gpus = read_devices(path, backend, environment, result)
    if hardware is not None:
        identity["hardware"] = hardware
        used.update({"config.environment.gpu", "config.backend.device_ids"})
    if n_gpus is not None:
        identity["n_gpus"] = n_gpus
    shapes = scenario.get("input_shapes") or {}
    take("batch", int_identity(shapes.get("batch_size")), "scenario", "input_shapes", "batch_size")
    take("seq_len", int_identity(shapes.get("sequence_length")), "scenario", "input_shapes", "sequence_length")
    generate = scenario.get("generate_kwargs") or {}
    max_new, min_new = int_identity(generate.get("max_new_tokens")), int_identity(generate.get("min_new_tokens"))
    if max_new is not None and min_new == max_new:
        take("output_len", max_new, "scenario", "generate_kwargs", "max_new_tokens")
    if backend.get("quantization_scheme"):
        take("precision", backend["quantization_scheme"], "backend", "quantization_scheme")
    else:
        dtype = backend.get("torch_dtype")
        take("precision", TORCH_DTYPES.get(dtype, dtype) if isinstance(dtype, str) else dtype,
             "backend", "torch_dtype")
        if isinstance(dtype, str) and dtype in TORCH_DTYPES:
            used.discard(json_path("config", "backend", "torch_dtype"))      # the dtype as written stays in extra
    take("backend", backend.get("name"), "backend", "name")
    take("dataset", scenario.get("dataset_name"), "scenario", "dataset_name")
    take("num_requests", int_identity(scenario.get("num_samples")), "scenario", "num_samples")
    return identity


def read_devices(path: str, backend: dict, environment: dict, result: LoadResult):
    """(hardware, n_gpus) from the device ids and the machine's GPU list."""
    gpus = environment.get("gpu") or []
    if backend.get("device") not in (None, "cuda"):
        cpu = (environment.get("cpu") or "").strip()
        return (cpu or None), None
    ids_text = backend.get("device_ids")
    ids = [int_identity(part) for part in str(ids_text).split(",")] if ids_text not in (None, "") else []
    if not ids or any(i is None for i in ids):
        count = int_identity(environment.get("gpu_count"))
        names = sorted(set(gpus))
        return (names[0] if len(names) == 1 else None), count
    names = [gpus[i] for i in ids if isinstance(gpus, list) and 0 <= i < len(gpus)]
    if len(names) != len(ids):
        result.problems.append(warning(
            "unknown-hardware", f"device_ids '{ids_text}' do not all index config.environment.gpu "
            f"({len(gpus)} {'entry' if len(gpus) == 1 else 'entries'}); hardware left out",
            Location(path, detail="config.backend.device_ids"),
            hints=['give the hardware in side metadata (--meta), e.g. {"hardware": "NVIDIA A100-SXM4-80GB"}']))
        return None, len(ids)
    if len(set(names)) > 1:
        result.problems.append(warning(
            "mixed-hardware", f"device_ids '{ids_text}' name different GPUs ({', '.join(names)}); hardware left out",
            Location(path, detail="config.backend.device_ids"),
            hints=["give the hardware in side metadata (--meta), e.g. {\"hardware\": \"" + names[0] + "\"}"]))
        return None, len(ids)
    return names[0], len(ids)


def read_report(path: str, report: dict, n_gpus, record: RunRecord, sources: dict, result: LoadResult) -> None:
    """Read every phase of `report` into `record.metrics` in SI (<phase>_latency, throughput, <phase>_energy (the GPUs'),
    <phase>_machine_energy, the machine's energy per token or request, memory), noting in `sources` the JSON path each
    came from; other scalar fields go to `extra`. `n_gpus` decides whether memory and GPU energy are per GPU (`memory`,
    `<phase>_energy`: one GPU or unknown) or summed (`memory_total`, `<phase>_energy_total`). Unreadable values are
    bad-value warnings in `result.problems`."""
    def put(name: str, value, unit_text, where: str) -> None:
        unit = unit_or_none(unit_text) if isinstance(unit_text, str) else None
        if not is_number(value) or unit is None:
            result.problems.append(warning(
                "bad-value", f"cannot read {where} ({value!r} {unit_text!r}) as a quantity; '{name}' left out",
                Location(path, detail=where)))
            return
        record.metrics[name] = measure(value, unit)
        sources[name] = where

    for phase, parts in report.items():
        if not isinstance(parts, dict):
            continue
        latency, throughput = parts.get("latency"), parts.get("throughput")
        energy, efficiency = parts.get("energy"), parts.get("efficiency")
        if isinstance(latency, dict):
            put(_LATENCY_NAMES.get(phase, f"{phase}_latency"), latency.get("mean"), latency.get("unit"),
                json_path("report", phase, "latency", "mean"))
            keep_rest(record, latency, ("report", phase, "latency"), {"mean", "unit", "values"})
        if isinstance(throughput, dict):
            name = "throughput" if phase == "decode" else f"{phase}_throughput"
            put(name, throughput.get("value"), throughput.get("unit"), json_path("report", phase, "throughput", "value"))
        if isinstance(energy, dict):
            # energy.gpu is the GPUs' (summed over device_ids by CodeCarbon), energy.total the whole machine's
            put(summed_name(f"{phase}_energy", n_gpus), energy.get("gpu"), energy.get("unit"),
                json_path("report", phase, "energy", "gpu"))
            put(f"{phase}_machine_energy", energy.get("total"), energy.get("unit"),
                json_path("report", phase, "energy", "total"))
            keep_rest(record, energy, ("report", phase, "energy"), {"total", "gpu"})
        if isinstance(efficiency, dict):
            where = json_path("report", phase, "efficiency", "value")
            if phase in _EFFICIENCY_NAMES:
                put_inverse(path, _EFFICIENCY_NAMES[phase], efficiency, where, record, sources, result)
            else:
                keep_rest(record, efficiency, ("report", phase, "efficiency"), set())
        memory = parts.get("memory")
        if isinstance(memory, dict):
            keep_rest(record, memory, ("report", phase, "memory"), set())
    read_memory(path, report, n_gpus, put)


def read_memory(path: str, report: dict, n_gpus, put) -> None:
    """The peak memory of the first phase of _MEMORY_PHASES that has one, written through `put`: max_allocated as
    `memory` (torch's allocator peak, what the cost model estimates) and max_global_vram as `memory_global_vram` (what
    nvidia-smi shows, CUDA context included), as memory_total and memory_global_vram_total where n_gpus > 1
    (optimum-benchmark sums them over the devices). Each comes from its own key: one is never written under the
    other's name."""
    for phase in _MEMORY_PHASES:
        memory = get(report, phase, "memory")
        if not isinstance(memory, dict) or not any(is_number(memory.get(k[0])) for k in _MEMORY_KEYS):
            continue
        for key, name in _MEMORY_KEYS:
            if is_number(memory.get(key)):
                put(summed_name(name, n_gpus), memory[key], memory.get("unit"), json_path("report", phase, "memory", key))
        return


def put_inverse(path: str, name: str, efficiency: dict, where: str, record: RunRecord, sources: dict,
                result: LoadResult) -> None:
    """Energy per unit of work from an efficiency (work per kWh): 1 / value, in J per token or per request."""
    value, unit_text = efficiency.get("value"), efficiency.get("unit")
    unit = unit_or_none(unit_text) if isinstance(unit_text, str) else None
    if not is_number(value) or value <= 0 or unit is None:
        result.problems.append(warning("bad-value", f"cannot read {where} ({value!r} {unit_text!r}) as an "
                                       f"efficiency; '{name}' left out", Location(path, detail=where)))
        return
    per_work = measure(value, unit)
    dim = DIMENSIONLESS / per_work.dim
    record.metrics[name] = Measurement(1.0 / per_work.value, dim, dimension_name(dim))
    sources[name] = f"1 / {where}"


def keep_rest(record: RunRecord, tree: dict, prefix: tuple, skip: set[str]) -> None:
    """Copy the scalar fields of `tree` not in `skip` into `record.extra`, keyed by their JSON path under `prefix`."""
    for key, value in tree.items():
        if key not in skip and not isinstance(value, (dict, list)):
            record.extra[json_path(*prefix, key)] = value


def flatten(tree: dict, prefix: str, used: set[str]) -> dict[str, object]:
    """Scalar leaves of the config (lists of scalars kept whole) not already used, under their JSON path."""
    flat: dict[str, object] = {}
    for key, value in tree.items():
        where = f"{prefix}.{key}"
        if where in used:
            continue
        if isinstance(value, dict):
            flat.update(flatten(value, where, used))
        else:
            flat[where] = value
    return flat


register(Adapter("optimum-benchmark", read, "huggingface/optimum-benchmark benchmark.json (incl. energy_star)",
                 rank=10, json_keys=lambda keys: {"config", "report"} <= keys,
                 expects="a JSON object with 'config' and 'report' objects"))
