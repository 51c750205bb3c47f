"""The catalogue of diagnostic codes: every `error[CODE]` / `warning[CODE]` perfdsl prints, with the form of its
message, what to do about it, and the exit status it leads to.

`docs/ERRORS.md` is generated from this table (`python -m perfdsl.error_codes > docs/ERRORS.md`; a test keeps the
two equal), and `perfdsl errors [CODE]` prints it. A test fails for a code that some module uses and this table
lacks, and for a code here that no test pins with its exact text.

Stages: `syntax` (reading a .perf file), `spec` (names, units, cycles, sweeps: `perfdsl check`), `evaluation`
(values at sweep points), `runs` (run logs, ingest and matching), `usage` (the command line and outputs),
`internal` (a bug in perfdsl, the CLI's last line of defence).
Exit status: 1 for an error in specs or logs (and for a bug), 2 for bad usage (and for an error of any code that
only a `--set` value causes), 0 where the code is only ever a warning or a note.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import EXIT_OK, EXIT_SPEC_ERROR, EXIT_USAGE_ERROR
from .library import IMPORT_ORDER


@dataclass(frozen=True)
class ErrorCode:
    """One code: `template` is its message with {placeholders}; `hint` says what usually fixes it."""

    code: str
    stage: str
    severity: str          # "error" | "warning" | "note" | "error or warning" | "warning or note"
    template: str
    hint: str

    @property
    def exit_status(self) -> int:
        """The exit status this code leads to: 0 where it is only ever a warning or a note, 2 for the `usage` stage, 1
        otherwise (specs, logs, and internal errors)."""
        if self.severity in ("warning", "note", "warning or note"):
            return EXIT_OK
        return EXIT_USAGE_ERROR if self.stage == "usage" else EXIT_SPEC_ERROR


_E, _W, _N = "error", "warning", "note"

_TABLE = [
    # -- syntax -------------------------------------------------------------------------------------------------
    ErrorCode("syntax", "syntax", _E, "unexpected {token} | the file ends too early | a cell has no value after '='",
              "the help line names the likely slip: a missing ';', an unclosed list or block, a value left out, a "
              "value after ':' (`mem_bw: 1 TB/s`), a keyword or `true`/`false` as a cell's name, a missing ',' in a "
              "show list, three dots in a range"),
    ErrorCode("bad-escape", "syntax", _E, "unknown escape '\\{char}' in a string",
              "a string knows the escapes \\\" \\\\ \\n \\r \\t (docs/LANGUAGE.md, Cells): write a backslash as \\\\ (in a "
              "path, / works on every system)"),
    ErrorCode("unknown-unit", "syntax", _E, "unknown unit '{unit}'",
              "a unit follows its number on the same line, with or without a space between (`768 GB/s`, `768GB/s`), "
              "and has no spaces inside it (`GB/s`, not `GB / s`); see docs/LANGUAGE.md, Units"),
    ErrorCode("unit-out-of-range", "syntax", _E, "the exponent of '{unit}' is too large | the unit '{unit}' is out "
              "of range: its size in SI units is not a float", "a unit's exponent is at most 99 in size (limits.py)"),
    ErrorCode("number-too-large", "syntax", _E, "'{number}' is too large for a number (the largest is about 1.8e308 "
              "in SI units)", "write the number in a larger unit, or check it for a slip"),
    ErrorCode("no-such-import", "syntax", _E, "cannot find the imported file '{path}' | cannot import '{path}': it "
              "is a folder",
              f"imports are looked up {IMPORT_ORDER}; the help names the closest bundled file"),
    ErrorCode("unreadable-file", "syntax", _E, "cannot read '{file}': {reason} | byte {byte} is not UTF-8 text",
              "save the file as UTF-8; the caret marks the first byte that is not"),
    # -- spec ---------------------------------------------------------------------------------------------------
    ErrorCode("duplicate-block", "spec", _E, "block '{name}' is defined twice",
              "block names are global over every loaded file; rename one"),
    ErrorCode("duplicate-cell", "spec", _E, "cell '{name}' is defined twice in {kind} '{block}'",
              "remove or rename one of them"),
    ErrorCode("unknown-parent", "spec", _E, "{kind} '{block}' extends '{parent}', which is not defined",
              "import the file that defines the parent, or correct its name"),
    ErrorCode("extends-cycle", "spec", _E, "blocks extend each other in a cycle: {chain}",
              "one block of the chain must stop extending the next"),
    ErrorCode("duplicate-set", "spec", _E, "'{block}.{cell}' is set twice",
              "a cell is set in one `set { ... }` of the loaded files; keep one (the note says where the first is)"),
    ErrorCode("kind-mismatch", "spec", _E, "{kind} '{block}' cannot extend {parent_kind} '{parent}'",
              "a block extends a block of the same kind"),
    ErrorCode("unknown-name", "spec", _E, "unknown name '{name}' in {kind} '{block}' | '{block}' has no cell '{cell}' "
              "| '{name}' is a shown column's name, not a cell: write the cell it shows ({cell})",
              "the help lists the names that exist; a block of a bundled library file needs its `import`. In a "
              "report, a shown column's `as` label reads its cell in `where` lines and questions, not in the "
              "report's own cells (nor where one label shows two different cells): the message names the cell"),
    ErrorCode("unread-cell", "spec", _W, "'{cell}' is not a cell of '{parent}' (its parent) and nothing reads it | "
              "'{cell}' is a cell of no other {kind} and nothing reads it",
              "likely a misspelt override: the block keeps the value it inherits (the note says which; or, where the "
              "block sets the cell meant as well, where) and the new cell changes nothing; the help names the cell "
              "meant. Warned where a block adds a cell that no formula, "
              "show, require, expect, where or question reads, that no other block of its kind writes, and whose "
              "name is one "
              "slip (a letter or two in one word left out, added or typed for another (in a word of three letters, "
              "only a key that touches the one meant), two letters swapped, an underscore) from a cell it inherits or "
              "another block of its kind has. Said by check, and once by eval (an error with --strict, as with check "
              "--strict), plot, "
              "calibrate and explain"),
    ErrorCode("unknown-role", "spec", _W, "'{role}' is neither a block nor a role that a report binds",
              "likely a typo of a role name such as `model`"),
    ErrorCode("unbound-role", "spec", _E, "report '{report}' binds no block to the role '{role}'",
              "bind the role in the report: `{role} = BLOCK` or `sweep {role} = [...]`; the help lists the loaded "
              "blocks that could fill it (\"blocks that could fill it: gpt_fast, hf_eager, ...\": those that define "
              "the cell read and give every cell a value)"),
    ErrorCode("role-kind", "spec", _E, "role '{role}' is bound to | swept over {kind} '{block}'; it takes a "
              "{role_kind} block",
              "bind a block of the kind the role takes (the help lists the loaded ones, not the families they "
              "extend; `stack` takes a software block, `calibration` the costmodel block `perfdsl calibrate` "
              "writes); the formulas that read the role are not checked until it is, the report's other errors are "
              "said with it. A role of another name takes any block. Exit status 2 where the block is given with "
              "--set"),
    ErrorCode("role-list", "spec", _E, "report '{report}' gives the role '{role}' a list of blocks without `sweep`",
              "write `sweep {role} = [...]` to sweep the role over the blocks, or `{role} = NAME` to bind one; in a "
              "report that extends another, the line replaces the parent's sweep of the role (the note says where) "
              "rather than add to it. What reads the role is not checked until it is bound; the report's other "
              "errors are said with it"),
    ErrorCode("misspelt-role", "spec", _E, "report '{report}' sweeps | binds '{name}', a role no formula reads",
              "a report binds blocks to a name that no formula, `show` or question reads and that is one slip from "
              "a role the formulas read (`sweep hardwre = [h100_sxm5]` beside the `hardware` a formula reads): the "
              "binding would change no figure while its blocks named the rows. Write the role meant (the help says "
              "which); the usual roles (model, hardware, workload, ...) are never taken for slips. The report is "
              "checked all the same: its other errors come in the same run"),
    ErrorCode("quoted-role", "spec", _E, "'{role}' is the string \"{name}\", but a formula reads the role '{role}'",
              "a role binds a block by its bare name: write `{role} = {name}` without quotes (the block `{name}` "
              "exists); a quoted string is only a text cell"),
    ErrorCode("shadowed-block", "spec", _E, "inside report '{report}', '{name}' names the report's own role cell, "
              "which shadows the block '{name}'",
              "a bare name inside a report reads the report's own cell of that name before any block, so `model = "
              "model` beside a block `model` reads itself, `model = hardware` beside a block `hardware` reads the "
              "report's hardware role, and `sweep model = [model, b]` lists its own cell: rename "
              "the block (the help writes `my_model`) and bind that name. The formulas that read the role are not "
              "checked until it is bound; the report's other errors are said with it. Exit status 2 where the name "
              "is given with --set"),
    ErrorCode("block-as-value", "spec", _E, "'{name}' is a block | a role | a block binding, not a value",
              "reach one of its cells: `NAME.CELL`"),
    ErrorCode("list-as-value", "spec", _E, "'{name}' holds a list; a formula needs one value",
              "sweep over the list with `sweep NAME = ...` and use NAME"),
    ErrorCode("missing-input", "spec", _E,
              "{kind} '{block}' does not give its declared input '{cell}' ({unit})[, which the sweep point {point} needs]",
              "give the value in the block or with --set BLOCK.CELL=VALUE"),
    ErrorCode("cycle", "spec", _E, "cells depend on each other in a cycle: {chain}",
              "the note gives each step of the chain; one formula must stop reading the next"),
    ErrorCode("too-deep", "spec", _E, "this formula nests {depth} levels deep; perfdsl reads formulas at most 200 "
              "levels deep | '{cell}' depends on formulas nested more than 2000 levels deep | the JSON nests too deep",
              "split a long formula into cells of partial sums; shorten chains of cells (docs/LANGUAGE.md, Limits)"),
    ErrorCode("unit-mismatch", "spec", _E, "cannot add '{a}' ({dim_a}) and '{b}' ({dim_b}) | (a warning, at a run "
              "log's header) column '{header}' is {kind} ({unit}), but the report shows '{cell}' as {kind} ({dim}); "
              "not compared ({n} rows)",
              "the two sides of +, -, comparisons, if() branches and overrides must have one dimension; a cell declared "
              "with a unit, or overriding a number, takes a number, not a string: the help writes a bare number as "
              "--set's help does, read in SI and in the unit the cell is written in (`peak_fp16 = 989.4 TFLOP/s` "
              "(989.4e12 read in FLOP/s) or `peak_fp16 = 989.4e12 TFLOP/s`), and `\"350 W\"` as `350 W`, "
              "without quotes; an override or a sweep of a string or boolean cell keeps its type (`label = 5` "
              "over a string: the help writes `\"5\"`); a sweep's values are checked with or without a report"),
    ErrorCode("bad-choice", "spec", _E, "'{cell}' is one of {options}, not {value} | '{cell}' is never {value}",
              "write one of the declared options; the help line names the closest one"),
    ErrorCode("constraint", "spec", "error or warning",
              "{message} | {message}: {count} of {total} sweep points break it, left out of the results",
              "constants that break a `require` are an error at check; sweep points that do are left out (or kept, "
              "marked, with invalid_points = \"mark\"); no point left is an error. Exit status 2 where only --set "
              "values break it: the error then stands at the --set and notes the constraint's own place"),
    ErrorCode("unexpected-value", "spec", _W,
              "{message} | {message}: {count} of {total} sweep points break it, kept in the results",
              "an `expect` (a plausibility bound, such as hardware/gpu.perf's on a GPU's datasheet figures) is false: "
              "most often a figure in another unit than meant (`mem_bw = 4800 Gbit/s` for 4.8 TB/s is 600 GB/s; "
              "`tdp = 0.7 W` for 0.7 kW) or a sparse peak entered as the dense one; the note quotes the values, as "
              "written. Where they are right (a real but unusual part), nothing needs changing: the points are kept "
              "and evaluated, and only --strict makes the warning an error. Said at check where the values are "
              "constants (and once by eval), over the sweep with how many points break it otherwise"),
    ErrorCode("type-mismatch", "spec", _E, "'{op}' needs numbers, but '{operand}' is {type}",
              "numbers, booleans and strings do not mix; use if(condition, a, b) to choose. A number written in "
              "quotes (`ctx = \"1024\"`) is a string: the note says where, the help to write it without quotes"),
    ErrorCode("unknown-function", "spec", _E, "unknown function '{name}'", "the help lists the functions"),
    ErrorCode("bad-call", "spec", _E, "{function}() takes {count} arguments, not {given}",
              "the help shows how the function is called"),
    ErrorCode("bad-tuple", "spec", _E, "a tuple is only a point of a zipped sweep",
              "write `sweep (a, b) = [(1, 2), (3, 4)]`"),
    ErrorCode("duplicate-show", "spec", _E, "two shown cells are named '{name}' [in {unit}] | a shown cell is named "
              "'{name}', like the report's axis '{name}' | a shown cell is named 'valid' | 'violates', like the column "
              "that invalid_points = \"mark\" adds | report '{report}' has an axis 'valid' | 'violates', like ...",
              "give one another name with `as NAME`, or another unit; an axis is a column of the output already, and "
              "`where` lines and questions read its name as the axis"),
    ErrorCode("nothing-to-show", "spec", _E, "report '{report}' shows no cell",
              "add `show COSTMODEL.CELL in UNIT`; a report that shows nothing and that another loaded report extends "
              "is a base: checked without this error, and not picked as the report to run (where it is asked for "
              "with --report, the help names the reports that extend it)"),
    ErrorCode("sweep-outside-report", "spec", _E,
              "'{cell}' is swept in {kind} '{block}', which report '{report}' does not bind to a role | ... which "
              "report '{report}' sweeps the role '{role}' over with other blocks, so its sweeps are not axes",
              "a block's sweeps are axes only where the report binds that block alone to its role: bind it so "
              "(`{role} = {block}`, or --set {role}={block}), give each value a block of its own and sweep the role "
              "over them, or move the sweep into the report or its workload"),
    ErrorCode("duplicate-axis", "spec", _E,
              "report '{report}' sweeps '{name}', which {kind} '{block}' (bound to '{role}') sweeps too: the report "
              "would have two axes '{name}' | {kind} '{block}' (bound to '{role}') sweeps '{name}', which ... sweeps "
              "too: report '{report}' would have two axes '{name}'",
              "each block's formulas read their own block's sweep, so the report's sweep of a name its workload "
              "sweeps would be a second axis nothing of the workload reads: to sweep the workload's cell over other "
              "values, bind a workload that extends it with its own `sweep` (or --set BLOCK.CELL=...); for an axis "
              "of the report's own, give it another name (a bad usage, exit status 2, where a --set makes the sweep)"),
    ErrorCode("zipped-rewritten", "spec", _E,
              "{kind} '{block}' sweeps '{name}' alone | sets '{name}' | zips '{name}' with other names, which {kind} "
              "'{parent}' zips with '{other}' in `sweep ({names}) = ...`: the zipped axis would label rows by values "
              "its formulas no longer read",
              "a block that extends one with a zipped sweep writes the zipped sweep again whole (`sweep (tp, ep) = "
              "[...]`, which replaces it), or sweeps each name apart; a --set of one of its names is bad usage "
              "(exit status 2): bind a block that extends it with the tuples it takes"),
    ErrorCode("shadowed-cell", "spec", _E,
              "report '{report}' writes '{name}', a cell {kind} '{block}' (bound to '{role}') has too: the cost model "
              "reads the {kind}'s ({value}), not the report's",
              "a report's cell does not replace a bound block's: the rows would show the report's value while their "
              "numbers follow the block's. To give the block's cell this value, bind a block that extends it "
              "(`workload w extends fleet_grid { seq_len = 2048 }`, `workload = w`) or --set BLOCK.CELL=...; in a "
              "zipped sweep that pairs it with a role, zip the role with such blocks; for a cell of the report's own, "
              "give it another name"),
    ErrorCode("bad-sweep", "spec", _E, "a zipped sweep needs a list of {n}-tuples | each point of this zipped "
              "sweep is a tuple of {n} values",
              "write `sweep (a, b) = [(1, 2), (3, 4)]`"),
    ErrorCode("empty-sweep", "spec", _E, "the sweep '{name}' has no values", "give at least one value"),
    ErrorCode("duplicate-sweep-value", "spec", _E, "the sweep '{name}' lists {value} twice",
              "each value is one point of the axis: list it once (a repeated value repeated its rows)"),
    ErrorCode("mixed-sweep", "spec", _E, "the sweep '{name}' mixes blocks and values",
              "a role sweep lists blocks only, a value sweep values only; a block of a bundled library file "
              "needs its `import`"),
    ErrorCode("non-constant-sweep", "spec", _E, "sweep values must be constants ...: {reason}",
              "compute derived values in a cell that uses the swept cell"),
    ErrorCode("bad-range", "spec", _E, "a range runs between two numbers | the step of a range is a number | the "
              "step of a range must be above 0 | a range of quantities with units needs a step | a geometric range "
              "needs a start above 0 and a factor above 1",
              "write `START .. STOP by STEP` or `START .. STOP by *FACTOR`"),
    ErrorCode("sweep-too-large", "spec", _E, "the range of '{name}' has {count} points | report '{report}' would "
              "hold {size} of arrays to evaluate its {count} points at once ({axes}); an evaluation at once holds at "
              "most {limit}",
              "narrow the axes with --set; a sweep too large to evaluate at once is evaluated in chunks: stream its "
              "rows with -o FILE.csv, .jsonl or .parquet, or ask the report a question (best, largest, smallest, "
              "pareto); `plot` needs its sweep at once. Exit status 2 where only --set makes the sweep too large"),
    ErrorCode("not-finite", "spec", _E, "this sweep value is {value} (a division by zero or an overflow)",
              "check the formula and the cells it reads: a sweep value is a finite number"),
    ErrorCode("question-outside-report", "spec", _E, "{kind} '{block}' asks a question: `where`, `best`, `pareto`, "
              "`largest` and `smallest` belong in a report", "move it into the report that binds this block"),
    ErrorCode("duplicate-question", "spec", _E, "report '{report}' asks two questions",
              "ask one reduction per report; a report that extends it can ask another"),
    ErrorCode("unknown-axis", "spec", _E, "report '{report}' has no axis '{name}' | '{name}' is a shown column's "
              "name, not an axis: write the axis it shows ({axis})",
              "`per`, `largest` and `smallest` name axes of the report, not shown columns; the help lists them"),
    ErrorCode("bad-question", "spec", _E, "'{name}' is named twice in `{question}`",
              "name each axis once: the axes after `per` are kept, every other axis is reduced"),
    # -- evaluation ---------------------------------------------------------------------------------------------
    ErrorCode("division-by-zero", "evaluation", _W, "'{cell}' divides by zero at {point}",
              "guard the formula with if(...) or max(...), or check the inputs"),
    ErrorCode("log-of-non-positive", "evaluation", _W, "'{cell}' takes the log of zero or a negative number at {point}",
              "log2(x) has a value for x above 0 only (-inf at 0, NaN below): guard the formula with if(...) or "
              "max(...), or check the inputs"),
    ErrorCode("not-a-number", "evaluation", _W, "'{cell}' is not a number (NaN) at {point}",
              "guard the formula with if(...) or max(...), or check the inputs"),
    ErrorCode("overflow", "evaluation", _W, "'{cell}' overflows at {point}", "check the inputs' magnitudes"),
    ErrorCode("no-point", "evaluation", _W, "{count} of {groups} group[s] ({axes}) has / have no sweep point that meets the "
              "report's conditions", "the notes list the groups, each with how many of its points meet each "
              "condition alone (and the best value of a comparison none meets); their rows are left empty"),
    ErrorCode("negative-size", "evaluation", _W, "'{cell}' is negative ({dimension}) at {point}",
              "a size or a duration below zero means an input is out of range: check the inputs this cell reads. "
              "This warning and the floating-point ones above count only the sweep points the constraints keep (all "
              "of them under invalid_points = \"mark\")"),
    # -- runs ---------------------------------------------------------------------------------------------------
    ErrorCode("log-missing", "runs", _E, "cannot read the run log '{path}': no such file (a log the report's "
              "`measured` names) | no such file (a log read through the API)",
              "check the path; `measured` names logs relative to the report's file (a log named on the command "
              "line that is not there is no-such-file, exit status 2)"),
    ErrorCode("log-unreadable", "runs", _E, "cannot read the run log '{path}': it is a folder | this is a folder, not "
              "a log file | cannot read the file: {reason}",
              "name the log files inside the folder; check the file's permissions"),
    ErrorCode("log-encoding", "runs", _E, "byte {byte} is not UTF-8 text",
              "run logs are UTF-8 text files (CSV, JSON, JSON Lines): save the log as UTF-8"),
    ErrorCode("empty-log", "runs", _E, "the file is empty[: expected ... | (blank lines only)]",
              "a log read with --format holds at least a header or one record"),
    ErrorCode("bad-csv", "runs", _E, "cannot read the CSV: {reason} | the header must be the first line",
              "check the quoting of the line named; remove the blank lines above the header"),
    ErrorCode("no-header", "runs", _E, "this nvidia-smi log has no header (noheader): its columns are unknown",
              "name the columns in the side metadata: {\"columns\": [\"timestamp\", \"power.draw\", ...]}"),
    ErrorCode("no-timestamp", "runs", _E, "an nvidia-smi log needs a 'timestamp' column to integrate power over time",
              "add timestamp first in --query-gpu"),
    ErrorCode("bad-report", "runs", _E, "'{key}' is {missing | the value, not an object}: an optimum-benchmark "
              "benchmark.json has 'config' and 'report' objects",
              "benchmark_report.json alone has no config: ingest benchmark.json"),
    ErrorCode("unknown-format", "runs", _E, "cannot tell which format this log is: {reason}",
              "in ingest, name the format with --format NAME; eval, calibrate and plot (whose --format is the output's) "
              "read such a log once ingested: perfdsl ingest LOG --format NAME -o runs.csv, then --measured runs.csv"),
    ErrorCode("wrong-format", "runs", _E, "read as --format {name}, its {n} runs carry no measured value: this log "
              "holds none of the fields {name} reads | no row of this log could be read: it does not look like a "
              "{name} log", "the notes say what {name} reads "
              "and what the file is; the help, what detection reads it as: leave out --format, or name that format"),
    ErrorCode("no-metric", "runs", _E + " or warning", "no run of this log carries a measured value: {n} runs read, "
              "{what they hold} (an error: the log gives nothing to compare) | {n} runs of this log carry no measured "
              "value: left out ({rows}) (a warning: the other runs are read)", "a measured column of perfdsl's CSV is "
              "written 'name [unit]' (runtime [ms]); a log of another tool: check its measured keys or columns are "
              "spelt as the tool writes them"),
    ErrorCode("unknown-column", "runs", _W, "column '{column}' is not one the {Zeus | nvidia-smi} reader knows: not read[; the runs "
              "have no {metric} (from '{expected}')]", "did you mean '{expected}'? rename the column where its values "
              "are in the unit the reader reads"),
    ErrorCode("unknown-key", "runs", _W, "key '{key}' is not one the vLLM reader knows: not read; the run has no "
              "{metric} (from '{expected}')", "did you mean '{expected}'? a key spelt like one the reader reads is "
              "said; vLLM's other keys are not"),
    ErrorCode("missing-column", "runs", _W, "the header has no column '{column}': the runs have no {field} (from "
              "'{column}')", "the runs are read without it; a log of the tool has it"),
    ErrorCode("unused-column", "runs", _N, "column '{column}' is not read: {why}", "nothing to do: said so that no "
              "column is dropped silently"),
    ErrorCode("unsupported-format", "runs", _E, "{what} is not a run log perfdsl reads",
              "the help lists the formats read"),
    ErrorCode("bad-row", "runs", _W, "row {n} has {fields} fields but {expected}; row {n} skipped | rows {n} to {m} "
              "(lines {a} to {b}) read as one row of {fields} fields, and the header has {k} columns | one row whose "
              "'{column}' holds line breaks: a quote in line "
              "{a} is never closed | is closed only in line {b}; rows {n} to {m} skipped",
              "the row was cut (the log was still being written?) or edited by hand; fix or remove it; a field that "
              "holds a comma, a quote or a line break is written between double quotes, a quote inside it doubled"),
    ErrorCode("bad-value", "runs", _W, "cannot read {value} as a number for '{name}'; '{name}' left out | "
              "'{value}' in column '{column}': a duration cannot be negative; not used | ... a power of 0 is not a "
              "measurement; not used | 'inf' in column '{column}': not finite; not used", "the row's other values are "
              "kept; a duration, memory size, energy, power or throughput is greater than 0, and finite (perfdsl's CSV "
              "writes an estimate that is not finite as inf): write NA where the run has no value"),
    ErrorCode("missing-value", "runs", _W, "'{name}' is missing in row {n}; left out", "the row's other values are kept"),
    ErrorCode("bad-json", "runs", "error or warning", "not valid JSON: {reason} | expected a JSON object ({what}) | "
              "row {n} is not valid JSON; row {n} skipped (a warning: the other lines are read; the parser's reason in a note) | the file "
              "ends early, at line {n}, before its JSON closes (about {k} bracket[s] still open): it looks truncated",
              "check that the file is the tool's own output; a truncated one: take the whole file"),
    ErrorCode("log-encoding", "runs", _E, "not UTF-8 text: cannot read byte {offset} ({byte})",
              "save the log as UTF-8, or as UTF-16 with a byte-order mark"),
    ErrorCode("no-measurement", "runs", _W, "row {row} has no measured value (every quantity is NA); row {row} skipped",
              "drop the row, or fill in what was measured"),
    ErrorCode("no-rows", "runs", _E, "this log holds no run (nothing after its header) | no row of this log could be "
              "used: every run in it was skipped",
              "a log given (on the command line, or by a report's `measured`) must give a run at least: check that "
              "the run wrote its rows, or mend the rows the warnings name, or leave the log out; ingest still writes "
              "the runs of the other logs"),
    ErrorCode("no-completed-requests", "runs", _E, "no request completed (0 of {n}): its latency and throughput figures "
              "are placeholders, not measurements, so the run is not used", "rerun the benchmark once the server answers"),
    ErrorCode("unmatchable-runs", "runs", _W, "the runs of this log name no model: they cannot be matched to estimates",
              "give the model as side metadata (--meta side.json, or LOG.meta.json beside the log)"),
    ErrorCode("bad-side", "runs", _E, "the side metadata {where} {problem}",
              "side metadata is a JSON object of identifying fields (model, hardware, batch, ...)"),
    ErrorCode("misspelt-side-key", "runs", _W, "the side metadata's key '{key}' is no field perfdsl knows; it is kept "
              "as an identifying field of its own, which a report matches only where it has a cell of that name",
              "did you mean a known key ('hardware', 'n_gpus' ...)? write the key as that field to identify the runs "
              "by it, in LOG.meta.json, --meta or load_runs(side=...) (`perfdsl ingest --help` lists the keys)"),
    ErrorCode("side-override", "runs", _N, "'{key}' is {value} in the log; the side metadata gives {other}, which is "
              "used", "remove the key from the side metadata to keep the log's value"),
    ErrorCode("log-named-twice", "runs", _N, "the log '{path}' is named twice[ (as '{other}')]: read once",
              "nothing to do: a file's runs are read once, however many times it is named"),
    ErrorCode("side-file", "runs", _N, "side metadata, not a log: read with the logs beside it", ""),
    ErrorCode("runs-not-read", "runs", _W, "report '{report}' takes its points from the runs (points = \"runs\"), "
              "but Program.evaluate reads no run: this is the report's whole sweep as written",
              "perfdsl.evaluate_with_runs(program, report) reads the runs and keeps their points, as `perfdsl eval` "
              "does"),
    ErrorCode("logs-not-read", "usage", _N, "explain reads --measured and --add-measured for a report with points = "
              "\"runs\" only: report '{report}' sweeps its own points, so {logs} {was | were} not read",
              "leave them out: explain shows the cost model's formulas; eval --measured sets the runs beside them"),
    ErrorCode("side-key-unused", "runs", _W, "the side metadata's '{key}' has no effect: it {does}, and the log it "
              "applies to is a {format} log, read whole: {logs}",
              "window, columns and utc_offset are read for nvidia-smi logs only: leave the key out of that side file "
              "(the warning stands at the key, line and column) or of load_runs' side= (at side['window']), or give "
              "it beside the nvidia-smi log it is meant for"),
    ErrorCode("empty-column-name", "runs", _E, "a column has no name | column '{header}' has a unit but no name",
              "name every column: 'model', or 'runtime [ms]' for a quantity"),
    ErrorCode("malformed-column", "runs", _E, "cannot read column header '{header}'",
              "write a quantity column as 'name [unit]', e.g. 'runtime [ms]'"),
    ErrorCode("duplicate-column", "runs", _E, "column '{name}' appears twice (columns {a} and {b})",
              "keep one column per name; write each run as its own row"),
    ErrorCode("extra-fields", "runs", _W, "row {n} has {fields} fields but the header has {columns} columns; "
              "row {n} skipped", "a field holds an unquoted comma: quote fields that contain commas, e.g. \"a, b\""),
    ErrorCode("unknown-hardware", "runs", _W, "device_ids '{ids}' do not all index config.environment.gpu "
              "({n} entries); hardware left out", "give the hardware in side metadata (--meta)"),
    ErrorCode("mixed-hardware", "runs", _W, "device_ids '{ids}' name different GPUs ({names}); hardware left out",
              "give the hardware in side metadata (--meta)"),
    ErrorCode("window-outside-log", "runs", "error or warning", "the window ({start} .. {end}) reaches beyond the "
              "samples of {gpu} ({first} .. {last}); only the overlap is used (a warning) | the window [{start}, "
              "{end}] lies outside the log's span [{first}, {last}] ({gpu}): no sample in it; skipped (an error: "
              "the log gives no run for that GPU, exit status 1)", "check the window against the log's time range: "
              "ISO times are read in the log's utc_offset (side metadata; default UTC), epoch seconds are UTC"),
    ErrorCode("bad-report-option", "spec", _E, "'{option}' is {form} | {option}: {reason}",
              "docs/LANGUAGE.md, \"Report options\", gives each option's values and default"),
    ErrorCode("unknown-option", "spec", _W, "'{name}' is not a report option, so it changes nothing",
              "a report cell one letter away from an option's name is likely a typo of it"),
    ErrorCode("bad-error-convention", "spec", _E, "unknown error convention '{name}'",
              "use 'measured' or 'estimated'"),
    ErrorCode("no-samples", "runs", _W, "no usable samples for {gpu} | no samples inside the window for {gpu}; "
              "skipped", "the bad-value warnings before it say which samples could not be read; check the window"),
    ErrorCode("no-energy", "runs", _W, "fewer than two power samples in the window for {gpu}; energy left out",
              "widen the window, or sample more often (nvidia-smi -lms 100)"),
    ErrorCode("bad-window", "usage", _E, "cannot read --window '{text}'",
              "write START,END as epoch seconds or ISO times; epoch milliseconds (a number past the year 9999 as "
              "seconds) divided by 1000"),
    ErrorCode("window-unused", "runs", _N, "--window selects the samples of nvidia-smi logs only; {n} logs of other "
              "formats ({formats}) are read whole: {logs}", "leave --window out for those logs, or ingest them apart"),
    ErrorCode("sampling-gap", "runs", _W, "no sample of {gpu} for {s} s between rows {a} and {b} ({start} .. {end}; "
              "the log samples every {interval} s): energy and power interpolate the power across it",
              "rows cut out of the log, or a paused sampler: choose a --window without the gap, or sample again"),
    ErrorCode("repeated-samples", "runs", _W, "rows {rows} of {gpu} repeat the times of earlier samples; left out "
              "({n} samples)", "a log appended to itself, or several GPUs' rows without an index column: keep each "
              "sample once"),
    ErrorCode("mixed-dimensions", "runs", _E, "metric '{name}' is {dim} in {source} and {other} in {source}; it "
              "cannot be one column", "write these logs to separate files"),
    ErrorCode("column-clash", "runs", _E, "'{name}' is an identifying field in {source} and a metric in {source}; "
              "one column cannot be both", "remove it from the side metadata, or write these logs to separate files"),
    ErrorCode("bad-header", "runs", _E, "not the 14-column header of published measurements: {missing, unexpected or "
              "out of order}", "the header is model,hf_id,gpu,n_gpus,parallelism,precision,framework,"
              "batch_or_concurrency,input_len,output_len,metric,value,unit,source"),
    ErrorCode("bad-unit", "runs", _W, "cannot read '{unit}' in column 'unit': '{metric}' is in {unit} | not a unit "
              "perfdsl knows; row {n} skipped", "write the unit the metric is measured in, e.g. tokens/s, ms, GiB"),
    ErrorCode("derived-metric", "runs", _W, "{n} rows hold '{metric}', a value the source DERIVED, not a measurement: "
              "not used", "a report compares measured metrics only; the rows are listed"),
    ErrorCode("unknown-metric", "runs", _W, "{n} rows hold '{metric}', a metric the published reader does not know: "
              "not used", "the metric column names one of decode_throughput, decode_throughput_per_sequence, "
              "prefill_throughput, ... (the hint lists them; a note in parentheses may follow): spell it so to use the "
              "rows, or leave them out"),
    ErrorCode("unknown-spelling", "runs", _W, "{column} '{text}' is in no table of published names: kept as written "
              "({n} rows) | {column} is empty: the runs have no {column} to match ({n} rows)",
              "add the spelling to dsl/runlogs/published_names.py"),
    ErrorCode("converted-value", "runs", _N, "{n} rows of decode_throughput of a batch: each value is divided by its "
              "batch, the rate one sequence decodes at, as the cost model's decode_throughput is",
              "nothing to do: the source's value is the batch's; a workbook's Run source says the division beside each "
              "such run"),
    ErrorCode("assumed-spelling", "runs", _W, "{column} '{text}': read as '{name}': {assumption} ({n} rows)",
              "the source does not say; the table in dsl/runlogs/published_names.py gives the reason for the reading"),
    ErrorCode("unmatched", "runs", "warning or note", "{count} runs without an estimate (a warning) | {count} "
              "estimates without a run (a note) | {count} ambiguous matches: a run that matches several sweep points is compared "
              "with none of them (a warning)",
              "the notes list them, with why a run matches no point where one field says it (\"n_gpus 8 is not "
              "among the report's values (1)\", \"model '...' is not in the report\"); check the report's sweep and "
              "the runs' identifying fields (a run's model column may name the block where two blocks share an hf_id)"),
    ErrorCode("measured-unit-scale", "runs", _W, "the measured '{metric}' values are about {1000x | 1/1000 of} the "
              "estimates (median measured / estimated {ratio} over {n} runs, read in {unit}): is the column in "
              "{unit2}, not {unit}?", "the log's header names the wrong unit (values in s under `[ms]`): write the "
              "unit the values are in. Said where, over one log's runs, the median of measured / estimated lies "
              "within a factor of 2 of a power of 1000 (1/2000 .. 1/500, 500 .. 2000, ...): no cost model is that "
              "far off over every run (the seed report's worst is a factor of 4), a unit's prefix is"),
    ErrorCode("repeated-runs", "runs", _N, "{count} sweep points have several runs; each metric compared is the "
              "median of its runs", "add an identifying field to the runs if they are not repeats"),
    ErrorCode("nothing-to-compare", "runs", _E, "no run of this log carries a metric the report shows: the "
              "log ({format}) holds {metrics}; the report shows {shown} | no run of this log can be matched: the log "
              "({format}) holds {metrics} for runs without an identifying field; the report's {n} sweep points differ "
              "in {axes}, so each run would match them all and none is compared", "a log given to compare must give "
              "something to compare: give the log that measures a shown metric, or the runs' identifying fields as "
              "side metadata (--meta); eval and calibrate refuse it (exit status 1), as a log with no usable row "
              "(no-rows)"),
    ErrorCode("unused-run-field", "runs", _W, "the runs' fields {fields} match no cell of the report, so matching "
              "does not use them", "add a cell of that name to the report or its workload to match on it; a field "
              "that reads as a shown metric without its unit (`tpot_ms`) gets a warning of its own: name the column "
              "'tpot [ms]' (where it is the log's only figure, the log compares nothing: error[nothing-to-compare], "
              "with that hint)"),
    ErrorCode("calibration-clash", "usage", _W, "{output} will set {n} cells that {file} sets too, and it imports "
              "{report}, which imports that file: `perfdsl check {output}` will find each set twice | wrote {output}, "
              "but `perfdsl check {output}` finds {n} errors", "raised by `perfdsl calibrate` for one cause only: the "
              "new file imports (through the report) an older calibration that `set`s the same cells, so it sets "
              "them twice; said before the fit, and after writing with the check's errors. Import the new file in "
              "the report instead of the old calibration, or write over the old file (-o OLD.perf). A written file "
              "that fails `check` for any other reason is error[calibration-fails-check]"),
    ErrorCode("calibration-fails-check", "evaluation", _E, "wrote {output}, but `perfdsl check {output}` finds {n} "
              "errors: the old file is put back", "a bug in perfdsl: calibrate should write a file that checks; the "
              "notes quote the errors. Report it with the command"),
    ErrorCode("fit-breaks-constraint", "evaluation", _E, "the fit cannot move {cell} from {value}: the values next to "
              "it break a `require`: `{condition}` ({message}) | the fit ends at {cells}, which breaks a `require`: "
              "`{condition}` ({message})", "calibrate never uses an estimate at values a `require` forbids, and "
              "writes no file that breaks one: narrow the bounds of --fit to values that meet it, fit another cell, "
              "or fix the cell with --set (a whole number of tokens is not fitted: compare fits at a few --set "
              "values); nothing is written"),
    ErrorCode("few-runs", "runs", _W, "{p} cells fitted on {n} runs: with as many cells as the runs less one or "
              "more, the errors, the bootstrap interval and the spread of a new run are not meaningful | {p} cells "
              "fitted on {g} {axis} groups: each leave-one-{axis}-out refit has {g - 1} groups for {p} cells, so the "
              "held-out errors and the spread of a new run rest on refits with no group to spare: weak evidence of "
              "the error on a new {axis}", "fit fewer cells (fix the others at "
              "their values, or with --set), or add runs; the calibration file's header repeats the warning"),
    ErrorCode("in-sample", "runs", _N, "errors on the runs calibration '{name}' was fitted on are in-sample: the fit "
              "saw them, so they do not test the model", "the held-out errors: `perfdsl calibrate --residuals` with "
              "the command in the calibration's header; costmodels/README.md"),
    ErrorCode("provisional", "evaluation", _N, "{metrics} rest in part on {count} cells marked provisional, values of "
              "the right order that no source gives", "each note names a cell (`BLOCK.CELL = VALUE (FILE:LINE)`), "
              "the range of its share of the metric it moves most (value x d(metric)/d(value) / metric, over the "
              "points shown or a sample of them) with the point where it is largest, and its reason; `perfdsl "
              "explain` marks it in a metric's tree. Replace it by a fit on "
              "measured runs (`perfdsl calibrate`, whose file `set`s it) or by your own value (`--set`): a cell "
              "defined again is no longer provisional (docs/LANGUAGE.md, Provisional cells)"),
    ErrorCode("unmatched-metric", "runs", _W, "the runs' metric '{name}' matches no metric the report shows, so it is "
              "not compared (a near miss of a shown name) | the runs' metrics {names} match no metric the report "
              "shows: nothing is compared", "did you mean '{shown}'? name the log's column like the shown metric it "
              "measures ('tpot [ms]')"),
    ErrorCode("bad-config", "runs", _E, "cannot read '{file}': {reason} | '{file}' is not valid JSON: {reason} | "
              "'{file}' holds a JSON {type}, not an object | '{file}' has no '{key}', which a {model_type} model "
              "needs | '{key}' in '{file}' is {value as JSON writes it}, not a whole number | '{key}' in '{file}' "
              "is {value}, not a count of at least 1 (located at the value in the file)",
              "give a Hugging Face config.json (a JSON object with model_type, hidden_size, ...)"),
    ErrorCode("unsupported-architecture", "runs", _E, "this config sets {what}, which the model library does not "
              "describe", "extend the family block in models/ (see models/README.md)"),
    # -- usage --------------------------------------------------------------------------------------------------
    ErrorCode("no-such-file", "usage", _E, "cannot read '{path}': no such file | cannot read '{path}': it is a "
              "folder | cannot read '{path}': the folder holds no .perf file | cannot read the run log '{path}': no "
              "such file (--measured, --add-measured, ingest's logs; --meta: the side metadata)",
              "check the path; `perfdsl check` takes folders, the other commands a folder's files (FOLDER/*.perf); "
              "a unit right after `--set NAME=NUMBER` (`GB/s`), or a piece of a list or range (`2` after "
              "`--set batch=1,`, `.. 1024` after `--set seq=128`), is a value the shell cut at its spaces: quote it "
              "whole (--set x=\"900 GB/s\", --set seq=\"128 .. 1024\")"),
    ErrorCode("skipped-file", "usage", _W, "skipped '{path}': a link to '{target}', which does not exist",
              "`perfdsl check FOLDER` passes over such a link (an editor's lock file, a moved file) and checks the "
              "rest: remove the link or mend its target"),
    ErrorCode("cache-clear", "usage", _E, "cannot remove '{file}': {reason} | cannot remove {count} files from "
              "'{folder}': {reason}",
              "`perfdsl cache clear` removes perfdsl's files from its cache folder: check the folder's owner and "
              "permissions (`perfdsl cache info`); files that fail for the same reason are one error"),
    ErrorCode("bad-option", "usage", _E, "cannot read --set {item} | --dask {address}: no port in the address of the "
              "Dask scheduler | --dask {address} and --workers {n} each choose a cluster for the chunks: give one of "
              "them | {option} evaluates a sweep in chunks, which are not "
              "matched with run logs, and {the report's `measured` cell (file:line), or --measured} names run logs | "
              "--live writes the cost model as formulas over one whole evaluation, and {what makes the run chunked} | "
              "--set {name}={a} and --set {name}={b} set '{name}' to different values | --set {name}={a} and --set "
              "{other name}={b} both set '{block.cell}' to different values | --at {axis}={a} and "
              "--at {axis}={b} hold '{axis}' at different values | {option} {n}: {what} is 0 or more | -j {n}: a check "
              "runs on at least one process | ...",
              "write --set CELL=VALUE; give --dask tcp://HOST:8786; give --dask or --workers, not both; leave out "
              "--measured, or evaluate on one machine; leave out --live (a workbook of a question answered in chunks "
              "holds its values); give a name of --set or --at once (the same value again is taken; a list sweeps "
              "several: --set batch=1,8); give a count the option takes (explain --depth, calibrate --bootstrap, "
              "--starts and --seed: 0 or more; check -j, eval --workers and --chunk-points: 1 or more)"),
    ErrorCode("bad-override", "usage", _E, "no cell '{name}' in the report or the blocks it binds (--set {target})",
              "write BLOCK.CELL=VALUE, ROLE.CELL=VALUE or a cell of the report"),
    ErrorCode("ambiguous-override", "usage", _E, "'{name}' is a cell of several bound blocks: {blocks}",
              "name the block: --set BLOCK.CELL=VALUE"),
    ErrorCode("no-runs", "usage", _E, "no run matches a sweep point of report '{name}'",
              "calibrate needs matched runs: check the runs' model, hardware and shape against the report"),
    ErrorCode("ambiguous-metric", "usage", _E, "the runs' '{name}' is compared with {n} shown cells, `{a} as {name}` "
              "and `{b} as {name}`: calibrate fits it to one",
              "calibrate fits a metric to one cell: keep the label on the cell to fit and give the others another "
              "(`{b} as {name}_2`). One cell shown in two units is one fit (in the first show's unit), and a label on "
              "cells of two dimensions is fitted to the cell of the runs' dimension: neither is this error"),
    ErrorCode("unknown-block", "usage", _E, "no block named '{name}'",
              "the help lists the blocks; a --set that gives a role a name that is no block but a cell of the "
              "report (`--set model=model`, `--set model=hardware`: inside a report a bare name reads the report's "
              "own cell first) is this error at the --set, as the note says"),
    ErrorCode("unknown-report", "usage", _E, "no report named '{name}'", "the help lists the reports"),
    ErrorCode("unknown-column", "usage", _E, "report '{report}' shows no cell '{name}' (it shows: {columns})",
              "(the Python API: column(), array() and display_column() of a result or an answer) name a shown "
              "column by its label, its dotted cell or its key with the unit (\"serving.tpot [ms]\"), or a swept "
              "name (an axis: \"batch\", \"model\") by its name or its records() key; the message lists both, the "
              "help names the closest. Raised as perfdsl.UsageError (a KeyError too)"),
    ErrorCode("no-report", "usage", _E, "the loaded files define no report",
              "add a `report NAME { ... }` block that shows cells, or look at one cell with "
              "`perfdsl explain FILE BLOCK.CELL`"),
    ErrorCode("which-report", "usage", _E, "the loaded files define several reports: {names}[ (in FILE), then "
              "{names} (imported)]",
              "choose one with --report NAME. Without it the one report of the files named runs, whatever reports "
              "they import: this error is for files named that define several (listed first), or none where the "
              "files they import define several"),
    ErrorCode("bad-point", "usage", _E, "the report has no axis '{name}'", "--at AXIS=VALUE names an axis and a value"),
    ErrorCode("bad-plot", "usage", _E, "the report has no axis '{name}' to use as {role} | '{metric}' is not a number "
              "| {axis} has {count} values, too many {role} for one plot "
              "| --at {axis}={value} holds the axis '{axis}' that {option} draws: drop one",
              "`perfdsl plot --help`; pick fewer values with --set AXIS=A,B or hold an axis with --at AXIS=VALUE "
              "(an axis is drawn or held, not both)"),
    ErrorCode("bad-cell", "usage", _E, "cannot read the cell name '{cell}'", "write CELL, ROLE.CELL or BLOCK.CELL"),
    ErrorCode("no-model-id", "usage", _E, "'{file}' does not say which model it is: no '_name_or_path' of the "
              "form org/name", "give the model id: --hf-id ORG/NAME"),
    ErrorCode("bad-name", "usage", _E, "'{name}' is not a block name",
              "letters, digits and '_', not starting with a digit"),
    ErrorCode("bad-output", "usage", _E, "cannot tell the format of '{output}' from its suffix[: ingest writes .csv "
              "(perfdsl's CSV) or .jsonl (JSON Lines)] | --format {format} "
              "does not match '{output}' | cannot write "
              "'{output}': the folder '{folder}' does not exist | '{path}' is a file, not a folder | it ends with '/', so it "
              "names a folder | refusing to write the results to '{output}': a .perf file is a spec, not an output of "
              "eval | permission denied | "
              "no space left on the device | the file system is read-only | the folder '{folder}' takes no new files "
              "| {the system's reason} | cannot replace '{output}': {reason} | cannot write the standard output: "
              "{reason} | {option} evaluates the sweep of report '{report}' ({count} points) in chunks, and a workbook is "
              "written from one whole evaluation, not from rows streamed chunk by chunk | `perfdsl {command}` writes a file, "
              "not standard output (-o -) | import-hf writes a .perf model block, not '{output}' | refusing to replace "
              "'{output}': perfdsl import-hf did not write it",
              "use .csv, .json, .jsonl, .txt, .xlsx or .parquet, or give --format (a text format: .xlsx and "
              ".parquet take none; where -o's suffix names another format, drop --format or change the suffix; "
              "ingest writes .csv or .jsonl, its --format names the logs' format); rows of a sweep "
              "evaluated in chunks with no question: leave out the option that asked for chunks, or "
              "write -o FILE.csv, .jsonl or .parquet (a question's answer is a workbook); choose an output in a folder "
              "that exists and that you can write, on a device with space (nothing is written where it fails, and "
              "a file already there is left as it was); -o - is standard output for eval and import-hf only: name a "
              "file for ingest, calibrate and plot"),
    ErrorCode("output-too-large", "usage", _E, "{output} would take about {size} ({rows} rows x about {bytes} bytes "
              "a row as {format}), more than the {free} free on its file system",
              "ask the report a question or add `where` lines that keep fewer rows, or narrow the sweep with --set; "
              "or write Parquet (-o FILE.parquet, several times smaller); or choose an output on a file system with "
              "more free space"),
    ErrorCode("output-is-input", "usage", _E, "refusing to write over the input '{path}'",
              "choose another output file with -o"),
    ErrorCode("too-many-rows", "usage", _E, "section '{section}' has {count} rows; an Excel sheet holds {limit} "
              "below its headers | the {sheet} sheet would need {count} rows; ...",
              "split the rows over several sheets with a report cell `section`, or write CSV: -o FILE.csv"),
    ErrorCode("too-large-for-live", "usage", _E, "a live workbook of report '{report}' would hold {points} points x "
              "{cells} cells = {count} formulas; it writes at most {limit}",
              "narrow the sweep with --set, or ask a question of a smaller report; without --live the workbook "
              "holds every point's estimates as numbers"),
    ErrorCode("no-excel-form", "usage", _E, "the function '{name}' has no Excel form, so this formula cannot go into "
              "a live workbook | the formula of '{cell}' is {length} characters as an Excel formula; ...",
              "write the workbook without --live, or give the function an Excel form in dsl/functions.py / "
              "dsl/operators.py; split a very long formula into named cells"),
    ErrorCode("workbook-too-large", "usage", _E, "a workbook of report '{report}' would have [up to] {count} rows; "
              "perfdsl writes at most {limit} rows to a workbook (a workbook is for people)",
              "narrow the sweep with --set (e.g. --set model=NAME, one value of one of the report's axes; for rows "
              "with no question, leave out --chunk-points, --workers or --dask where given: rows streamed chunk by "
              "chunk are no workbook), or write "
              "every row with -o FILE.csv, -o FILE.jsonl or -o FILE.parquet, or ask the report a question whose "
              "answer fits (an answer of a sweep of any size, evaluated in chunks, is a workbook up to the limit)"),
    ErrorCode("missing-package", "usage", _E, "this needs the package '{package}', which is not installed",
              "install the extra the help names: in the perfdsl checkout .venv/bin/pip install -e '.[notebook]' "
              "(pandas and xarray, for to_pandas and to_xarray; '.[parquet]', '.[dask]' likewise; the pip of the "
              "Python perfdsl runs in, `PYTHON -m pip`, outside the checkout's .venv), or `make extras` (`make run` "
              "installs none), from a package index pip install 'perfdsl[notebook]'"),
    ErrorCode("out-of-memory", "usage", _E, "the machine ran out of memory while {doing}",
              "evaluate the sweep in smaller chunks (--chunk-points N), or narrow its axes with --set"),
    ErrorCode("cluster-failed", "usage", _E, "the Dask workers died while evaluating the sweep: one task ran on {n} "
              "workers in turn, and each died while running it | ... the worker running one task died (the cluster "
              "allows no retry) | the Dask cluster had no worker to run the sweep's "
              "tasks on for {seconds} s | the Dask cluster cancelled the sweep's tasks ({reason}) | the connection "
              "to the Dask scheduler closed: {reason}",
              "a worker that dies is mostly out of memory or killed from outside: use smaller chunks "
              "(--chunk-points N) and see the workers' logs; a local cluster (--workers N) restarts a worker that "
              "stops heartbeating for 60 s and gives up after 60 s without any"),
    # -- a bug ----------------------------------------------------------------------------------------------------
    ErrorCode("internal", "internal", _E, "{exception type}: {exception}",
              "this is a bug in perfdsl; run again with PERFDSL_DEBUG=1 for the details and report it"),
]

CATALOGUE: dict[str, ErrorCode] = {entry.code: entry for entry in _TABLE}

_STAGES = [("syntax", "Reading a .perf file"), ("spec", "Checking specs (`perfdsl check`)"),
           ("evaluation", "Evaluating"), ("runs", "Run logs, ingest and matching"),
           ("usage", "The command line and outputs"), ("internal", "A bug in perfdsl")]


def describe(code: str) -> str:
    """One code as text for `perfdsl errors CODE`; raises KeyError for a code not in the catalogue."""
    entry = CATALOGUE[code]
    lines = [f"{entry.severity}[{entry.code}] ({entry.stage}; exit status {entry.exit_status})",
             f"  message: {entry.template}"]
    if entry.hint:
        lines.append(f"  what to do: {entry.hint}")
    return "\n".join(lines)


def markdown() -> str:
    """docs/ERRORS.md: every code by stage, as a table."""
    out = ["# Diagnostic codes", "",
           "Generated from `dsl/error_codes.py` by `python -m perfdsl.error_codes`; `perfdsl errors CODE` prints one.",
           "Every diagnostic prints as `error[CODE]: message` (or `warning[...]`, `note[...]`) with the file, line and",
           "column, the offending text, and hints. Exit status: 0 with warnings or notes only (1 under `check",
           "--strict` or `eval --strict`, which make warnings errors), 1 for errors in specs or run logs, 2 for bad",
           "usage, which includes an error of any code that only a `--set` value causes (a value of the wrong",
           "dimension, a sweep made too large).", ""]
    for stage, title in _STAGES:
        out += [f"## {title}", "", "| code | severity | message | what to do |", "|---|---|---|---|"]
        for entry in _TABLE:
            if entry.stage == stage:
                cells = [f"`{entry.code}`", entry.severity, entry.template, entry.hint]
                out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover - the doc generator
    print(markdown(), end="")
