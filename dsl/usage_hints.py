"""Hints under argparse's usage errors, for the slips of a shell command line that argparse names only by their effect.

    perfdsl eval r.perf --set my_l40s.mem_bw=900 GB/s     -> unrecognized arguments: GB/s
    perfdsl eval --measured runs.csv report.perf          -> the following arguments are required: FILE

The first is a value with a space that the shell cut in two: the hint quotes it whole. The second is an option that
takes a list (`--measured LOG [LOG ...]`, nargs="+") and read the report's file as one more of its values: the hint
says to put the file first or end the list with `--`. The error and its exit status (2) stay argparse's; the hints
follow it, one line each, in the `  = help:` form of perfdsl's diagnostics.

A value cut in two before the report's file is no usage error to argparse: its unit is taken as a file.

    perfdsl eval --set x=900 GB/s r.perf                  -> error[no-such-file]: cannot read 'GB/s': no such file

`cut_unit_hint` gives the loader the same quoting hint for it (and argparse's errors too, where the report's file,
or a cell after it, is the argument left over: `perfdsl calibrate --set x=900 GB/s r.perf --fit ...`).
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from typing import NoReturn, Sequence

# Options whose value is CELL=VALUE (a cell's value may hold a space: "900 GB/s").
ASSIGNING_OPTIONS = ("--set", "--at")
REQUIRED = "the following arguments are required: "
UNRECOGNIZED = "unrecognized arguments: "
# A number as a cell's value writes one (grammar.lark's NUMBER, with a sign): what a unit cut off by the shell followed.
_NUMBER = re.compile(r"[-+]?\d[\d_]*(\.\d+)?([eE][+-]?\d+)?")
# What a cell's name or a value may hold and stay one word to a POSIX shell, unquoted and inside "..." respectively.
_SHELL_WORD = re.compile(r"[A-Za-z0-9_.,:+\-]+")
_DOUBLE_QUOTE_SPECIAL = set('"\\$`!')


class UsageParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors carry the hints of `usage_hints` for the command line being parsed
    (`argv`, set by `parse_args`; the subcommands' parsers are of this class too and read it from here)."""

    argv: Sequence[str] = ()

    def parse_args(self, args=None, namespace=None):  # noqa: D102 - argparse's, remembering the command line
        UsageParser.argv = list(sys.argv[1:] if args is None else args)
        return super().parse_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        """Print the usage, argparse's message and the hints for it, and exit with status 2 (as argparse does)."""
        self.print_usage(sys.stderr)
        hints = usage_hints(message, UsageParser.argv, self._list_options())
        text = f"{self.prog}: error: {message}\n" + "".join(f"  = help: {hint}\n" for hint in hints)
        self.exit(2, text)

    def _list_options(self) -> dict[str, str]:
        """This parser's options that take a list of values (nargs "+" or "*"): each spelling -> its metavar."""
        found = {}
        for action in self._actions:
            if action.nargs in ("+", "*") and action.option_strings:
                for spelling in action.option_strings:
                    found[spelling] = action.metavar or action.dest.upper()
        return found


def usage_hints(message: str, argv: Sequence[str], list_options: dict[str, str]) -> list[str]:
    """The hints for argparse's error `message` about the command line `argv`: a quoted CELL=VALUE where the shell cut
    a value at a space, or where an option taking a list swallowed the .perf file a positional argument wanted.
    `list_options`: the options of the command that take a list (spelling -> metavar). [] where none applies.
    Only the first slip of each kind gets a hint: argparse names one error."""
    hints = []
    if message.startswith(UNRECOGNIZED):
        extra = message[len(UNRECOGNIZED):].split(" ")
        for index, token in enumerate(argv[:-1]):
            value = argv[index + 1]
            if token in ASSIGNING_OPTIONS and "=" in value and index + 2 < len(argv) and argv[index + 2] == extra[0]:
                hints.append(_quote_hint(token, value, argv[index + 2]))
                break
        else:       # the unit took the place of the file, and the file (or a cell after it) is what was left over
            hint = next(filter(None, (cut_unit_hint(token, argv) for token in argv)), None)
            hints += [hint] if hint else []
    elif message.startswith(REQUIRED):
        owner = None
        for token in argv:
            if token == "--":
                break
            if token.startswith("-"):
                owner = token if token in list_options else None
            elif owner is not None and token.endswith(".perf"):
                command = argv[0] if argv and not argv[0].startswith("-") else "COMMAND"
                hints.append(f"'{token}' was taken as a {list_options[owner]} of {owner}, which takes every "
                             f"argument up to the next option: put the file first (perfdsl {command} {token} "
                             f"{owner} ...), or end the list with -- (perfdsl {command} {owner} ... -- {token})")
                break
    return hints


def cut_unit_hint(argument: str, argv: Sequence[str]) -> str | None:
    """Where `argument` of the command line `argv` is a unit (`GB/s`, `TFLOP/s`, `W`: units.is_unit) right after
    `--set NAME=NUMBER` (or `--at`), the shell cut a value at its space and argparse took the unit for an argument of
    its own (the report's file, where it came first): the hint to quote the value whole, as that of `usage_hints`.
    None where `argument` is no such unit."""
    from .units import is_unit

    for index in range(len(argv) - 2):
        option, value, unit = argv[index:index + 3]
        if unit == argument and option in ASSIGNING_OPTIONS and _NUMBER.fullmatch(value.partition("=")[2].strip()) \
                and is_unit(unit):
            return f"'{unit}' is the unit of {option} {value}, cut off by the shell: " + _quote_hint(option, value, unit)
    return None


def _quote_hint(option: str, value: str, rest: str) -> str:
    """The hint to quote `option value rest` (the shell's three arguments) as one value: `--set x="900 GB/s"` as the
    README writes it, where the cell's name and the value allow; else the whole quoted as shlex does it."""
    name, _, first = value.partition("=")
    whole = f"{first} {rest}"
    if _SHELL_WORD.fullmatch(name) and not _DOUBLE_QUOTE_SPECIAL & set(whole):
        quoted = f'{name}="{whole}"'
    else:
        quoted = shlex.quote(f"{value} {rest}")
    return f"a value with a space is one argument only when quoted: {option} {quoted}"
