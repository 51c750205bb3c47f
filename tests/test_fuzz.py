"""The fuzzer's bounded run in the test suite: a few seconds of mutated specs and logs (tests/fuzzing.py).

Property: every mutated input gives a result or a located perfdsl error within 10 s, never `error[internal]`.
The seed is fixed, so the cases are the same each run (how many fit in the budget depends on the machine);
`make fuzz` runs the same fuzzer for ten minutes.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzzing import corpus, mutate, run_fuzz  # noqa: E402


def test_the_corpus_holds_specs_and_logs():
    specs, logs = corpus()
    assert any(p.parent.name == "models" for p in specs) and any(p.parent.name == "reports" for p in specs)
    assert any(p.suffix == ".csv" for p in logs) and any(p.suffix == ".json" for p in logs)


def test_mutations_are_reproducible_from_the_seed():
    import random

    data = b"model m { x = 1 GB }\n"
    first = [mutate(data, random.Random(7), ["1e999"], binary=False) for _ in range(3)]
    second = [mutate(data, random.Random(7), ["1e999"], binary=False) for _ in range(3)]
    assert first == second


def test_a_few_seconds_of_fuzzing_find_no_fault(tmp_path):
    report = run_fuzz(seconds=4, seed=0, limit=10, keep=tmp_path)
    assert report.tried > 0
    assert report.failures == [], report.summary() + "\n" + "\n".join(
        f"case {f.index} ({f.source}, {f.command[0]}): {f.reason} -> {f.input_path}" for f in report.failures)
