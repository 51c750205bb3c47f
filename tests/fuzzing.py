"""A seeded mutation fuzzer for perfdsl's command line (issue 9).

Property: any input gives a result or a located perfdsl error, within a time limit (10 s of CPU, plus 30 s per
megabyte of input: work in proportion to the input is not a hang); never `error[internal]`, never a traceback, and
an exit status of 0, 1 or 2.

Corpus: the bundled specs (models/, hardware/, costmodels/, reports/), the golden cases (tests/cases/*.perf) and the
run-log fixtures (tests/fixtures/logs/, tests/cases/fuzz/logs/, tests/cases/field/). Each case takes one corpus file
and applies one to four mutations chosen by a seeded random generator (so a failure is reproduced from its seed and
index): deleting, duplicating or swapping spans and lines, inserting tokens that reach the corners found before
(deep nesting, huge exponents and ranges, self-reference, stray quotes and brackets, carriage returns, byte-order
marks, bytes that are no text, NaN). A spec runs through `perfdsl check`, and through `perfdsl eval` when it defines
a report whose sweep is small; a log through `perfdsl ingest`.

    python tests/fuzzing.py --seconds 600 --seed 1          # `make fuzz`: the long run; failing inputs kept in out/fuzz
    run_fuzz(seconds=3, seed=0)                             # the bounded run in the test suite (tests/test_fuzz.py)

Each case runs in this process under a limit of CPU time (SIGPROF), so a hang is reported, not waited out.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SPEC_FOLDERS = ("models", "hardware", "software", "costmodels", "reports")
LOG_FOLDERS = ("tests/fixtures/logs", "tests/cases/fuzz/logs", "tests/cases/field")
# Reports whose unmutated evaluation writes hundreds of thousands of rows: checked, not evaluated, to keep each case
# well inside the time limit.
NOT_EVALUATED = {"capacity_planning.perf"}

SPEC_TOKENS = [
    "-" * 300, "not " * 300, "1 + " * 300, "2 ^ " * 300, "(" * 300, ")" * 300, "[" * 50, "]", "{", "}", "\"", "'",
    "1e308", "1e999", "1e-320", "0", "-1", "0.0", "99999999999999999999", "GB^99999", "s^-400", "GiB^3", "%",
    " .. ", " .. 1e308 by 1e-308", " by *", " by *1.0000001", " by 0", "sweep ", "extends ", "extends a ",
    "import \"", "import \"" + "A" * 300 + "\"", "show ", " in ", " as ", "model", "hardware", "report", "workload",
    "costmodel", "x", "x = x", "= =", ";", ":", ",", "\n", "\r", "\t", "#", "if(", "max(", "min(", "log2(", "sqrt(",
    "true", "false", "and", "or", "==", "<", "*", "/", "report r { sweep a = 1 .. 100000; sweep b = 1 .. 100000; "
    "show a }", "model a extends a { }", "\x00", "\ufeff", "µs", "ms", "TFLOP/s", "W", "J/token",
]
LOG_TOKENS = [
    "NaN", "Infinity", "-1", "0", "1e999", "[Not Supported]", "[N/A]", "NA", "", ",", "\"", "\r", "\n", "\r\n",
    "\x00", "\ufeff", "=HYPERLINK(\"x\")", "@SUM(1)", "[" * 3000, "{\"a\":" * 2000, "}", "]", "null", "true",
    "2025/04/16 19:53:18.720", "2025-13-45 99:99:99", " W", " MiB", " %", "model", "runtime [ms]", "energy [J]",
    "[bogus]", "n_gpus", "1.5", "99999999999999999999999", "\xff\xfe",
]
# CPU seconds a case may take per megabyte of input, beyond the fixed limit (see run_fuzz).
PER_MB = 30.0
TEXT_BOMS = [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]


@dataclass
class Failure:
    index: int
    source: str
    command: list[str]
    reason: str
    input_path: str = ""


@dataclass
class Report:
    tried: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_outcome.items()))
        return (f"fuzz: {self.tried:,} cases in {self.seconds:.0f} s ({outcomes}); "
                f"{len(self.failures)} failure{'s' if len(self.failures) != 1 else ''}")


class CaseTimeout(BaseException):
    """Raised by SIGPROF inside a case that runs past its limit (a BaseException, so no `except Exception` in
    perfdsl swallows it)."""


def corpus() -> tuple[list[Path], list[Path]]:
    """(specs, logs): the files mutations start from; logs over 300 kB are left out to keep each case quick."""
    specs = sorted(p for folder in SPEC_FOLDERS for p in (REPO / folder).glob("*.perf"))
    specs += sorted((REPO / "tests" / "cases").glob("*.perf"))
    logs = sorted(p for folder in LOG_FOLDERS for p in (REPO / folder).rglob("*")
                  if p.is_file() and p.stat().st_size < 300_000)
    return specs, logs


def mutate(data: bytes, rng: random.Random, tokens: list[str], binary: bool) -> bytes:
    """One to four mutations of `data`."""
    for _ in range(rng.randint(1, 4)):
        n = len(data)
        choice = rng.randrange(9 if binary else 8)
        a = rng.randrange(n + 1)
        b = min(n, a + rng.choice([1, 2, 5, 20, 200]))
        if choice == 0:                                   # delete a span
            data = data[:a] + data[b:]
        elif choice == 1:                                 # duplicate a span
            data = data[:b] + data[a:b] + data[b:]
        elif choice in (2, 3, 4):                         # insert a token
            data = data[:a] + rng.choice(tokens).encode("utf-8") + data[a:]
        elif choice == 5:                                 # repeat a span many times
            data = data[:b] + data[a:b] * rng.choice([10, 300, 3000]) + data[b:]
        elif choice == 6:                                 # swap two lines
            lines = data.split(b"\n")
            if len(lines) > 2:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                data = b"\n".join(lines)
        elif choice == 7:                                 # truncate
            data = data[:a]
        else:                                             # bytes: a flipped byte, or the text re-encoded with a BOM
            if rng.random() < 0.5 and n:
                at = rng.randrange(n)
                data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1:]
            else:
                bom = rng.choice(TEXT_BOMS)
                codec = {b"\xef\xbb\xbf": "utf-8", b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}[bom]
                data = bom + data.decode("utf-8", "replace").encode(codec)
    return data


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise CaseTimeout in the block once it has used `seconds` of CPU time."""
    def expire(_signum, _frame):
        raise CaseTimeout()

    # CPU time (ITIMER_PROF), not wall time: on a machine shared with other work a case must not fail for waiting.
    before = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, before)


def run_cli(argv: list[str], limit: float) -> tuple[int | None, str]:
    """(exit status, stderr) of perfdsl in this process; status None when the case ran past `limit` seconds."""
    from perfdsl import cli

    err, out = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out), time_limit(limit):
            status = cli.main(argv)
    except CaseTimeout:
        return None, err.getvalue()
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 2
    return status, err.getvalue()


def judge(status: int | None, err: str, limit: float) -> str | None:
    """Why a run breaks the property, or None."""
    if status is None:
        return f"ran past {limit:.0f} s"
    if "error[internal]" in err or "Traceback" in err:
        return "internal error: " + err.strip().splitlines()[0][:300]
    if status not in (0, 1, 2):
        return f"exit status {status}"
    if status == 1 and "error[" not in err and "error" not in err:
        return "exit status 1 without an error"
    return None


def run_fuzz(seconds: float = 3.0, seed: int = 0, limit: float = 10.0, keep: Path | None = None,
             max_cases: int | None = None) -> Report:
    """Mutate and run until `seconds` have passed (or `max_cases`); failing inputs are copied into `keep`."""
    specs, logs = corpus()
    rng = random.Random(seed)
    report = Report()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="perfdsl-fuzz-") as work:
        folder = Path(work)
        while time.monotonic() - started < seconds and (max_cases is None or report.tried < max_cases):
            index = report.tried
            is_log = rng.random() < 0.4
            source = rng.choice(logs if is_log else specs)
            data = mutate(source.read_bytes(), rng, LOG_TOKENS if is_log else SPEC_TOKENS, binary=is_log)
            target = folder / f"case{index}{source.suffix}" if not is_log else folder / source.name
            target.write_bytes(data)
            commands: list[list[str]]
            if is_log:
                commands = [["ingest", str(target), "-o", str(folder / "runs.csv")]]
            else:
                commands = [["check", "--no-cache", str(target)]]      # a fresh file each case: nothing to replay
                if b"report" in data and source.name not in NOT_EVALUATED:
                    commands.append(["eval", str(target), "--format", "csv", "-o", str(folder / "out.csv")])
            # Work in proportion to the input is not a hang: a mutation that repeats a span 3,000 times can make a
            # spec of a megabyte, which takes about 20 s of CPU to parse here (Lark and the IR, linear in its size).
            case_limit = limit + PER_MB * len(data) / 1e6
            for argv in commands:
                status, err = run_cli(argv, case_limit)
                outcome = "timeout" if status is None else f"exit {status}"
                report.by_outcome[outcome] = report.by_outcome.get(outcome, 0) + 1
                reason = judge(status, err, case_limit)
                if reason is not None:
                    kept = ""
                    if keep is not None:
                        keep.mkdir(parents=True, exist_ok=True)
                        kept_path = keep / f"seed{seed}-case{index}-{source.name}"
                        kept_path.write_bytes(data)
                        kept = str(kept_path)
                    report.failures.append(Failure(index, str(source.relative_to(REPO)), argv[:1], reason, kept))
                    break
            report.tried += 1
            for leftover in folder.iterdir():
                leftover.unlink()
    report.seconds = time.monotonic() - started
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600, help="how long to run (default 600)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=float, default=10, help="CPU seconds one case may take (default 10)")
    parser.add_argument("--keep", default="out/fuzz", help="folder for failing inputs (default out/fuzz)")
    args = parser.parse_args(argv)
    report = run_fuzz(args.seconds, args.seed, args.limit, Path(args.keep))
    for failure in report.failures:
        print(f"case {failure.index} ({failure.source}, {failure.command[0]}): {failure.reason}"
              + (f" -> {failure.input_path}" if failure.input_path else ""))
    print(report.summary())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
