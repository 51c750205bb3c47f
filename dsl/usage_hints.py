"""Hints under argparse's usage errors, for the slips of a shell command line that argparse names only by their effect.

    perfdsl eval r.perf --set my_l40s.mem_bw=900 GB/s     -> unrecognized arguments: GB/s
    perfdsl eval --measured runs.csv report.perf          -> the following arguments are required: FILE
    perfdsl eval r.perf --formt csv                       -> unrecognized arguments: --formt csv
    perfdsl evl r.perf                                    -> argument COMMAND: invalid choice: 'evl' (choose ...)

The first is a value with a space that the shell cut in two: the hint quotes it whole. The second is an option that
takes a list (`--measured LOG [LOG ...]`, nargs="+") and read the report's file as one more of its values: the hint
says to put the file first or end the list with `--`. The third is an option the command does not have: the hint
names the closest of its options (`--format`; `--y` for `-y`), said by the command's parser with its usage line
(argparse says arguments left over with the top-level usage, `perfdsl [-h] [--version] COMMAND ...`). The fourth
is a command (or a choice of an option: `--format cvs`) one slip from one of its choices: the hint names the closest
(`did you mean 'eval'?`), as a misspelt name in a file is said. The error
and its exit status (2) stay argparse's; the hints follow it, one line each, in the `  = help:` form of perfdsl's
diagnostics.

A value cut in two before the report's file is no usage error to argparse: its unit is taken as a file.

    perfdsl eval --set x=900 GB/s r.perf                  -> error[no-such-file]: cannot read 'GB/s': no such file

    perfdsl eval --set batch=1, 2 r.perf                  -> error[no-such-file]: cannot read '2': no such file

`cut_value_hint` gives the loader the same quoting hint for it (and argparse's errors too, where the report's file,
or a cell after it, is the argument left over: `perfdsl calibrate --set x=900 GB/s r.perf --fit ...`). Which
arguments after `--set NAME=VALUE` are pieces of its value is read from the value's syntax (`cut_pieces`): a unit
after a number, whatever follows a `,`, `..` or `by`, and a piece that starts with `,` or `..` or is `by`, so the
hint quotes the value whole (`--set seq="128 .. 1024 by *2"`), never the first two pieces alone.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shlex
import sys
from typing import NoReturn, Sequence

# Options whose value is CELL=VALUE (a cell's value may hold a space: "900 GB/s").
ASSIGNING_OPTIONS = ("--set", "--at")
REQUIRED = "the following arguments are required: "
UNRECOGNIZED = "unrecognized arguments: "
FORMAT_CHOICE = "argument --format: invalid choice: "
# argparse's words for an argument none of its choices (the value as repr writes a string).
_INVALID_CHOICE = re.compile(r"argument (.+?): invalid choice: '(.*?)' \(choose from ")
# Outputs written by -o's suffix alone (cli._FILE_ONLY), and what each is called in the hint.
FILE_FORMATS = {"parquet": "Parquet", "xlsx": "A workbook (.xlsx)"}
# A number as a cell's value writes one (grammar.lark's NUMBER, with a sign): what a unit cut off by the shell followed.
_NUMBER = re.compile(r"[-+]?\d[\d_]*(\.\d+)?([eE][+-]?\d+)?")
# What a cell's name or a value may hold and stay one word to a POSIX shell, unquoted and inside "..." respectively.
_SHELL_WORD = re.compile(r"[A-Za-z0-9_.,:+\-]+")
_DOUBLE_QUOTE_SPECIAL = set('"\\$`!')
# A value that is one word to a POSIX shell unquoted (no space, glob, quote or redirection): `1,8`, `org/name`.
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.,:+\-/%@]+")


class UsageParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors carry the hints of `usage_hints` for the command line being parsed
    (`argv`, set by `parse_args`; the subcommands' parsers are of this class too and read it from here)."""

    argv: Sequence[str] = ()

    def parse_args(self, args=None, namespace=None):  # noqa: D102 - argparse's, remembering the command line
        UsageParser.argv = list(sys.argv[1:] if args is None else args)
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            # argparse's own parse_args says it with the top-level usage (`perfdsl [-h] [--version] COMMAND ...`),
            # as the subcommand's parser hands what it did not take up to it: the subcommand's parser says it here,
            # with its usage line and its options to suggest.
            self._innermost(parsed).error(UNRECOGNIZED + " ".join(extras))
        return parsed

    def error(self, message: str) -> NoReturn:
        """Print the usage, argparse's message and the hints for it, and exit with status 2 (as argparse does)."""
        self.print_usage(sys.stderr)
        hints = usage_hints(message, UsageParser.argv, self._list_options())
        hints += unknown_option_hints(message, UsageParser.argv, self.prog, self._option_names())
        hints += invalid_choice_hints(message, self._actions)
        text = f"{self.prog}: error: {message}\n" + "".join(f"  = help: {hint}\n" for hint in hints)
        self.exit(2, text)

    def _innermost(self, parsed: argparse.Namespace) -> "UsageParser":
        """The parser of the subcommand `parsed` chose (`eval`; `cache info`), or this one where it chose none."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(parsed, action.dest, None) or "")
                if isinstance(chosen, UsageParser):
                    return chosen._innermost(parsed)
        return self

    def _option_names(self) -> list[str]:
        """Every spelling of this parser's options (--format, -o, --output ...)."""
        return [spelling for action in self._actions for spelling in action.option_strings]

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
                # argparse leaves over the value's pieces in order (`--set seq=128 .. 1024`: `.. 1024`), words
                # of a text too (`--set label=My big GPU`)
                left = [piece for piece, over in zip(argv[index + 2:], extra) if piece == over]
                pieces = cut_pieces(argv, index)
                hints.append(_quote_hint(token, value, " ".join(pieces if len(pieces) > len(left) else left)))
                break
        else:       # a piece took the place of the file, and the file (or a cell after it) is what was left over
            hint = next(filter(None, (cut_value_hint(token, argv) for token in argv)), None)
            hints += [hint] if hint else []
    elif message.startswith(FORMAT_CHOICE) and message.split("'")[1] in FILE_FORMATS:
        # Parquet and workbooks are binary files chosen by -o's suffix; --format names the text formats only.
        chosen = message.split("'")[1]
        hints.append(f"{FILE_FORMATS[chosen]} is chosen by -o's suffix, not by --format: -o FILE.{chosen} "
                     "(--format chooses among the text formats only)")
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


def invalid_choice_hints(message: str, actions: Sequence[argparse.Action]) -> list[str]:
    """Where argparse's `message` says an argument is none of its choices (`argument COMMAND: invalid choice: 'evl'
    (choose from ...)`; `perfdsl cache inf`, `--format cvs`): "did you mean 'eval'?" for the closest of the choices
    of that argument among `actions` (errors.did_you_mean), [] where none is close."""
    from .errors import did_you_mean

    found = _INVALID_CHOICE.match(message)
    if found is None:
        return []
    named, value = found.group(1), found.group(2)
    for action in actions:
        if action.choices is not None and argparse._get_action_name(action) == named:
            return did_you_mean(value, [str(choice) for choice in action.choices])
    return []


def unknown_option_hints(message: str, argv: Sequence[str], prog: str, options: Sequence[str]) -> list[str]:
    """For each argument of `argv` that reads as an option (`--formt`, `-y`, `--formt=csv`) and is none of `options`
    (the spellings of the options of the command `prog`, `perfdsl eval`), where argparse's `message` says it was not
    taken up, or says that a required argument is missing (a misspelt `-o` leaves it out): the hint naming it, with
    the closest options (`--format` for `--formt`, `--y` for `-y`), else where the options are listed. A number
    (`-1`), an argument after `--` and the value of --set or --at are no options. [] where none."""
    if message.startswith(UNRECOGNIZED):
        left_over = set(message[len(UNRECOGNIZED):].split(" "))
    elif message.startswith(REQUIRED):
        left_over = None
    else:
        return []
    hints, seen = [], set()
    for index, token in enumerate(argv):
        if token == "--":
            break
        name = token.partition("=")[0] if token.startswith("--") else token
        if not name.startswith("-") or len(name) < 2 or _NUMBER.fullmatch(name) or name in options or name in seen \
                or (left_over is not None and token not in left_over) \
                or (index and argv[index - 1] in ASSIGNING_OPTIONS) or _taken(name, options):
            continue
        seen.add(name)
        close = _close_options(name, options)
        said = f"{prog} has no option {name}"
        hints.append(f"{said}: did you mean {' or '.join(close)}?" if close
                     else f"{said}: `{prog} --help` lists its options")
    return hints


def _close_options(name: str, options: Sequence[str]) -> list[str]:
    """The options `name` is a slip of, best first: the same word with one dash too few or too many (`-y` for
    `--y`, `-format` for `--format`) or in another case (`-J` for `-j`), else the words within a letter or two of it
    (`--formt` for `--format`: difflib's ratio of the words without their dashes at least 0.75; the dashes they
    share would bring `--frobnicate` within 0.6 of `--strict`)."""
    words: dict[str, str] = {}
    for option in options:
        words.setdefault(option.lstrip("-"), option)
    word = name.lstrip("-")
    same = [option for other, option in words.items() if other == word] \
        or [option for other, option in words.items() if other.lower() == word.lower()]      # -J for -j
    if same:
        return same[:1]
    return [words[close] for close in difflib.get_close_matches(word, list(words), n=3, cutoff=0.75)]


def _taken(name: str, options: Sequence[str]) -> bool:
    """Whether argparse reads `name` as one of `options` though it is none of their spellings: an abbreviation of a
    long option (`--form` for `--format`), or a short option with its value attached (`-oout.csv`)."""
    if name.startswith("--"):
        return any(option.startswith(name) for option in options)
    return name[:2] in options


def cut_value_hint(argument: str, argv: Sequence[str]) -> str | None:
    """Where `argument` of the command line `argv` is a piece of a `--set NAME=VALUE` (or `--at`) value that the shell
    cut at a space (cut_pieces: a unit after a number, `2` after `1,`, `..` and `1024` after `128`) and argparse took
    for an argument of its own (the report's file, where it came first): the hint to quote the value whole, as that of
    `usage_hints`. None where `argument` is no such piece."""
    for index in range(len(argv) - 2):
        option, value = argv[index:index + 2]
        if option not in ASSIGNING_OPTIONS or "=" not in value:
            continue
        pieces = cut_pieces(argv, index)
        if argument not in pieces:
            continue
        quote = _quote_hint(option, value, " ".join(pieces))
        if pieces == [argument] and _is_unit(argument):
            return f"'{argument}' is the unit of {option} {value}, cut off by the shell: {quote}"
        return f"'{argument}' is a piece of the value of {option} {value.partition('=')[0]}, cut off by the shell: " \
               + quote
    return None


def cut_pieces(argv: Sequence[str], index: int) -> list[str]:
    """The arguments after `argv[index]` (an option of ASSIGNING_OPTIONS) and its `NAME=VALUE` that continue the value
    as the .perf syntax reads it: the pieces a shell made of one value with spaces. A piece is needed after a value
    that ends in `,`, `..`, `by` or `*` (`--set batch=1, 2`, `--set seq=128 .. 1024 by *2`), and continues it where it
    starts with `,` or `..`, is `by`, or is a unit after a number (`900 GB/s`, `80 GB, 120 GB`). An option or a
    .perf file is never a piece. [] where the value is whole."""
    text = argv[index + 1].partition("=")[2].strip()
    pieces: list[str] = []
    for token in argv[index + 2:]:
        if (token.startswith("-") and not _NUMBER.fullmatch(token.rstrip(","))) or token.endswith(".perf"):
            break
        last = text.replace(",", " ").replace("..", " .. ").split()
        needed = text.endswith((",", "..", "*")) or (last[-1:] == ["by"])
        continues = token.startswith((",", "..")) or token == "by" or (
            last and _NUMBER.fullmatch(last[-1]) is not None and _is_unit(token.rstrip(",")))
        if not (needed or continues):
            break
        pieces.append(token)
        text = f"{text} {token}"
    return pieces


def _is_unit(text: str) -> bool:
    """Whether `text` is a unit (`GB/s`, `W`: units.is_unit)."""
    from .units import is_unit

    return bool(text) and is_unit(text)


def quoted_assignment(name: str, value: str) -> str:
    """`name=value` as it is typed to a shell: as it is where it is one word (`batch=1,8`), else with the value
    quoted as the README writes it (`mem_bw="900 GB/s"`), else the whole quoted as shlex does it."""
    if _SHELL_WORD.fullmatch(name) and _PLAIN_VALUE.fullmatch(value):
        return f"{name}={value}"
    if _SHELL_WORD.fullmatch(name) and not _DOUBLE_QUOTE_SPECIAL & set(value):
        return f'{name}="{value}"'
    return shlex.quote(f"{name}={value}")


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
