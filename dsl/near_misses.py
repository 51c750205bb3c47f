"""Names a letter or two from the name meant (stage 3c, beside the checker): slips that are valid syntax.

- **A cell a block adds that nothing reads** (`warning[unread-cell]`): `tied_embedings = true` in a model that
  extends `llama3` is a new cell, so the model keeps the `tied_embeddings` it inherits and its parameters silently
  change. Such a cell is flagged where all of these hold: the block adds it (its parent has no cell of that name, or
  it has no parent); no other block of its kind writes a cell of that name; no formula, `show`, `require`, `where`
  or question of the program names it, nor does perfdsl itself (run fields that matching compares, the labels that
  name a block); and its name is one slip (`misspelt`: a near miss, errors.near_miss, within one word of the name,
  case aside, or two digits swapped or the last left out) from a cell it inherits or that another block of its kind has, the closest picked by errors.suggest (the "did
  you mean" search). Reports are left to `unknown-option` (their cells are options, sections and values runs are
  matched on). A library file checked alone may hold a cell that only another file reads (a cost model): the rules
  above keep the bundled files free of false alarms (a test checks them all).
- **`true` and `false` among the names a misspelt one may mean** (`tied_embeddings = tru`): where a boolean fits,
  the hints of `unknown-name` offer them beside the cells.
"""

from __future__ import annotations

from functools import lru_cache

from . import ir
from .blocks import Block, SourceLines
from .errors import Diagnostic, did_you_mean, near_miss, suggest
from .linker import walk
from .field_aliases import ALIASES, LABEL_CELLS

# Cell names perfdsl reads without a formula: the labels that name a block to run logs and workbooks, and the run
# fields matching compares with a cell of the same name (field_aliases.ALIASES).
READ_BY_PERFDSL = frozenset(LABEL_CELLS) | {alias for aliases in ALIASES.values() for alias in aliases}
BOOLEANS = ("true", "false")
_LOGIC = {"and", "or"}
_BOOLEAN_OPS = _LOGIC | {"==", "!=", "<", "<=", ">", ">="}      # the binary operators that give a boolean


def unread_cells(blocks: dict[str, Block], sources: SourceLines) -> list[Diagnostic]:
    """warning[unread-cell] for each cell a block adds that nothing reads and whose name is a near miss of a cell it
    inherits or another block of its kind has (see the module's docstring), located at the cell's name. Raises
    nothing. What each block writes and reads is found once per parsed block (_facts), since the programs of one
    `perfdsl check` share their libraries; the near misses are looked for among the few cells nothing reads."""
    facts = {name: _facts(block.node) for name, block in blocks.items()}
    read = set().union(*(reads for _, reads, _ in facts.values()))
    writers: dict[str, dict[str, list[str]]] = {}        # kind -> cell name -> the blocks that write it
    unread = []
    for name, block in blocks.items():
        kind = writers.setdefault(block.kind, {})
        for cell in facts[name][0]:
            kind.setdefault(cell, []).append(name)
            if cell not in read and block.kind != "report" and cell not in READ_BY_PERFDSL:
                unread.append((block, cell))
    suspects, shapes = [], {}
    for block, name in unread:
        parent = blocks.get(block.parent) if block.parent else None
        written = writers[block.kind]
        if (parent is not None and name in parent.cells) or written[name] != [block.name]:
            continue
        # The cells of its kind that another block writes (those it inherits among them) of the same shape.
        if block.kind not in shapes:
            shapes[block.kind] = _by_shape(frozenset(written))
        alike = {other for key in _shape_keys(name) for other in shapes[block.kind].get(key, ())
                 if other != name and written[other] != [block.name] and misspelt(name, other)}
        close = suggest(name, alike, limit=1) if alike else []
        if close:
            suspects.append(_warning(sources, block, parent, block.cells[name], close[0], written[close[0]][0]))
    return suspects


@ir.once_per_node
def _facts(node: ir.Block) -> tuple[tuple[str, ...], frozenset[str], frozenset[str]]:
    """The cells a parsed block writes (not its sweeps), the names its formulas read (names_read) and the first
    names of its dotted references (`hardware` of `hardware.mem_bw`), found once per node (ir.once_per_node)."""
    refs = _refs(node)
    return (tuple(cell.name for cell in node.cells if not cell.sweep),
            frozenset(part for ref in refs for part in ref.parts),
            frozenset(ref.parts[0] for ref in refs if len(ref.parts) > 1))


def reads(blocks: dict[str, Block]) -> tuple[set[str], set[str]]:
    """Every name the blocks' formulas, sweeps, shows, constraints, filters and questions write in a reference (each
    part of `role.cell`: names_read), and the roles among them: the first names of dotted references that name no
    block (`hardware` of `hardware.mem_bw`). Raises nothing."""
    names: set[str] = set()
    heads: set[str] = set()
    for block in blocks.values():
        _, read, first = _facts(block.node)
        names |= read
        heads |= first
    return names, heads - set(blocks)


@lru_cache(maxsize=65536)
def _shape_keys(name: str) -> tuple[tuple, ...]:
    """Keys under which names that misspelt() may relate share an entry: the name in lower case without underscores,
    and its words (in lower case) with each one in turn left open."""
    words = name.lower().split("_")
    return (("joined", "".join(words)),) + tuple((len(words), index, *words[:index], *words[index + 1:])
                                                 for index in range(len(words)))


@lru_cache(maxsize=64)
def _by_shape(names: frozenset[str]) -> dict[tuple, list[str]]:
    """The names by each of their _shape_keys (the cells of a kind: the programs of one check share most)."""
    index: dict[tuple, list[str]] = {}
    for name in names:
        for key in _shape_keys(name):
            index.setdefault(key, []).append(name)
    return index


@lru_cache(maxsize=65536)       # the programs of one `perfdsl check` share their libraries, so their names
def misspelt(name: str, meant: str) -> bool:
    """Whether cell name `name` reads as a slip in typing `meant`, case aside (names are compared in lower case: `TDP`
    and `mem_BW` are slips of `tdp` and `mem_bw`): only the case or the underscores differ (`memBW`,
    `tiedembeddings`), or one word of the name (words are between underscores) is a slip of the word at its place in
    `meant` and the others are the same. A word's slip is a near miss (errors.near_miss: `tied_embedings`), two
    neighbouring letters or digits swapped (`haeds`, `fp61` for `fp16`), one letter typed for another, added or
    left out (_one_letter; in a word of three letters, one typed for another only where their keys touch: `ffm`
    for `ffn`, not `mfu` for `mbu`), or the last digit of a number of two or more left out (`fp1` for `fp16`). A
    word added or left out (`decode_throughput_low` beside `decode_throughput`, `gemm_matmul_efficiency` beside
    `matmul_efficiency`), another word (`output_throughput_low` beside `output_throughput_total`) or another number
    (`peak_fp4` beside `peak_fp8`, `peak_fp6` beside `peak_fp16`: both are formats) names another thing."""
    name, meant = name.lower(), meant.lower()
    if name.replace("_", "") == meant.replace("_", ""):
        return True
    words, meant_words = name.split("_"), meant.split("_")
    if len(words) != len(meant_words):
        return False
    differ = [(a, b) for a, b in zip(words, meant_words) if a != b]
    if len(differ) != 1:
        return False
    word, meant_word = differ[0]
    if abs(len(word) - len(meant_word)) > 2:          # more than two letters left out: another word
        return False
    letters = "".join(c for c in word if not c.isdigit()), "".join(c for c in meant_word if not c.isdigit())
    if letters[0] == letters[1]:
        # Only the digits differ: a slip of the keys (two swapped, the last one left out), not another number.
        return _swapped(word, meant_word) or _last_digit_left_out(word, meant_word)
    return near_miss(word, meant_word) or _swapped(word, meant_word) or _one_letter(word, meant_word)


def _last_digit_left_out(word: str, meant: str) -> bool:
    """`fp1` for `fp16`: `meant` ends in a number of two or more digits and `word` is `meant` without its last. A digit
    left out elsewhere gives another number that is often a name of its own (`fp6` of `fp16`, `fp4` of `fp64`)."""
    return len(meant) >= 3 and meant[-1].isdigit() and meant[-2].isdigit() and word == meant[:-1]


def _one_letter(word: str, meant: str) -> bool:
    """One letter typed for another (`sise` for `size`, `ffm` for `ffn`), added (`bwe` for `bw`) or left out, which
    difflib scores below near_miss's bar in a short word (`mem_sise`: 0.75). The word meant has at least three
    letters, or two where one is added: in a shorter word one letter more or less is another word (`tp`, `pp`). In
    a word of three, a letter typed for another is a slip only where the two keys touch (_neighbouring_keys: `ffm`
    for `ffn`): three-letter words are mostly acronyms, and two of them a key apart name two things (`mfu` and
    `mbu`, model FLOPs and model bandwidth utilisation; `gpu`, `tpu`)."""
    if len(word) == len(meant):
        if len(meant) < 3:
            return False
        differ = [(a, b) for a, b in zip(word, meant) if a != b]
        return len(differ) == 1 and (len(meant) > 3 or _neighbouring_keys(*differ[0]))
    longer, shorter = (word, meant) if len(word) > len(meant) else (meant, word)
    if len(longer) != len(shorter) + 1 or len(meant) < (2 if longer is word else 3):
        return False
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


# A US QWERTY keyboard's rows of letters and digits, each row set a little to the right of the row above it.
_KEY_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_AT = {key: (row, column) for row, keys in enumerate(_KEY_ROWS) for column, key in enumerate(keys)}


def _neighbouring_keys(typed: str, meant: str) -> bool:
    """Whether the keys of `typed` and `meant` (one character each, any case) touch on a QWERTY keyboard: beside each
    other in a row, or in the next row down at the same column or one to the left (the rows are staggered: below
    `e` lie `s` and `d`). A character that is no letter or digit touches nothing."""
    first, second = _KEY_AT.get(typed.lower()), _KEY_AT.get(meant.lower())
    if first is None or second is None:
        return False
    (row, column), (other_row, other_column) = sorted((first, second))
    if row == other_row:
        return abs(column - other_column) == 1
    return other_row == row + 1 and other_column - column in (-1, 0)


def _swapped(word: str, other: str) -> bool:
    """Two neighbouring letters typed the other way round (`haeds` for `heads`), which difflib scores low."""
    if len(word) != len(other) or len(word) < 3:
        return False
    at = [i for i, (a, b) in enumerate(zip(word, other)) if a != b]
    return len(at) == 2 and at[1] == at[0] + 1 and word[at[0]] == other[at[1]] and word[at[1]] == other[at[0]]


def _warning(sources: SourceLines, block: Block, parent: Block | None, cell: ir.Cell, meant: str,
             writer: str) -> Diagnostic:
    if parent is not None:
        message = f"'{cell.name}' is not a cell of '{parent.name}' (its parent) and nothing reads it"
    else:
        message = f"'{cell.name}' is a cell of no other {block.kind} and nothing reads it"
    notes = []
    own = block.cells.get(meant) if block.owner.get(meant) == block.name else None
    if own is not None:
        # The block sets the cell meant itself (`mem_bww = ...` above `mem_bw = ...`): it keeps nothing it inherits.
        hint = f"did you mean '{meant}'? '{block.name}' sets it already: remove one of the two"
        notes.append(f"'{block.name}' defines its own '{meant}' at {own.span.location()}; '{cell.name}' is read by "
                     "nothing")
    elif parent is not None and meant in parent.cells:
        hint = f"did you mean '{meant}'?"
        kept = parent.cells[meant]
        value = f" = {kept.text}" if kept.text else " (a declared input)"
        notes.append(f"'{block.name}' keeps the '{meant}' it inherits: {meant}{value}, at {kept.span.location()}")
    else:
        hint = f"did you mean '{meant}' (a cell of {block.kind} '{writer}')?"
    hints = [hint, "a new cell of this name is fine once a formula, `show` or `require` reads it"]
    diagnostic = sources.diag("unread-cell", message, cell.span, path=block.cell_path(cell.name), notes=notes,
                              hints=hints)
    diagnostic.severity = "warning"
    return diagnostic


def names_read(node: ir.Block) -> set[str]:
    """Every name a parsed block's formulas, sweeps, shows, constraints, filters and questions write in a reference:
    each part of `role.cell` or `block.cell` (a superset of the cells read: a name read anywhere counts)."""
    return {part for ref in _refs(node) for part in ref.parts}


def _refs(node: ir.Block) -> list:
    """The references (ir.Ref, or a show's or question's reference) of a parsed block's formulas, sweeps, shows,
    constraints, filters and questions."""
    roots: list = [cell.expr for cell in node.cells if cell.expr is not None]
    roots += [zipped.source for zipped in node.zipped]
    roots += [require.condition for require in node.requires]
    roots += [where.cond for where in node.wheres]
    refs = [show.ref for show in node.shows]
    for question in node.questions:
        refs += [objective.ref for objective in question.objectives] + list(question.per)
        refs += [question.axis] if question.axis is not None else []
    for root in roots:
        refs += [expr for expr in walk(root) if isinstance(expr, ir.Ref)]
    return refs


def quoted_operand_help(operand: ir.Expr, cell: ir.Cell | None) -> tuple[list[str], list[str]]:
    """The notes and hints of a type-mismatch whose operand is a string where arithmetic wants a number: `operand` a
    string literal (`batch * "1024"`), or a reference whose cell `cell` holds one (`ctx = "1024"` read by
    `batch * ctx`): a note at the cell, where the quotes are, and the hint to write the number without them
    (quoted_quantity_hints). ([], []) for any other operand."""
    if isinstance(operand, ir.Str):
        return [], quoted_quantity_hints(operand)
    if cell is None or not isinstance(cell.expr, ir.Str):
        return [], []
    name = operand.dotted if isinstance(operand, ir.Ref) else cell.name
    note = f"'{name}' is defined at {cell.expr.span.location()} as the string {cell.text or chr(34) + cell.expr.value + chr(34)}"
    return [note], quoted_quantity_hints(cell.expr)


def with_booleans(expr: ir.Ref, block: Block, blocks: dict[str, Block], hints: list[str]) -> list[str]:
    """The hints of `unknown-name` for the bare name `expr`, with `true`/`false` among the names it may mean where
    a boolean fits there (the whole formula of a cell that is new or overrides a boolean, an operand of `and`, `or`,
    `not`, the condition of `if`, a `require` or a `where`) and the name is close to one of them; `hints` as they
    were otherwise."""
    name = expr.parts[0]
    if not suggest(name, BOOLEANS) or not _boolean_fits(expr, block, blocks):
        return hints
    rest = [hint for hint in hints if not hint.startswith("did you mean")]
    return did_you_mean(name, [*BOOLEANS, *block.cells]) + rest


def _boolean_fits(expr: ir.Ref, block: Block, blocks: dict[str, Block]) -> bool:
    """Whether a boolean literal could stand where `expr` is written (found by identity in the block's formulas)."""
    for name, cell in block.cells.items():
        if cell.expr is expr:
            return _new_or_boolean(block, name, blocks)
        if cell.expr is not None and _in_boolean_place(cell.expr, expr):
            return True
    conditions = [require.condition for _, require in block.requires] + [where.cond for where in block.wheres]
    return any(condition is expr or _in_boolean_place(condition, expr) for condition in conditions)


def _new_or_boolean(block: Block, name: str, blocks: dict[str, Block]) -> bool:
    """A cell that the block's parent lacks (any value fits it), or whose inherited formula is a boolean."""
    owner = blocks.get(block.owner.get(name, ""))
    parent = blocks.get(owner.parent) if owner is not None and owner.parent else None
    inherited = parent.cells.get(name) if parent is not None else None
    if inherited is None or inherited.expr is None:
        return inherited is None or inherited.declared == "bool"
    kind = inherited.expr.kind
    return kind == "bool" or (kind == "unary" and inherited.expr.op == "not") or (
        kind == "binary" and inherited.expr.op in _BOOLEAN_OPS)


def _in_boolean_place(root: ir.Expr, target: ir.Ref) -> bool:
    for node in walk(root):
        kind = node.kind
        if kind == "binary" and node.op in _LOGIC and (node.left is target or node.right is target):
            return True
        if kind == "unary" and node.op == "not" and node.operand is target:
            return True
        if kind == "call" and node.func == "if" and node.args and node.args[0] is target:
            return True
    return False


def quoted_quantity_hints(expr: ir.Expr, dim=None) -> list[str]:
    """The help for a string where a number of dimension `dim` (units.Dimension; None: a number of any dimension, an
    operand of `*`) is wanted (`tdp: W = "350 W"`, `batch * ctx` where `ctx = "1024"`): where the string's text,
    unquoted, is one number of that dimension, "write 350 W without quotes"; otherwise that a string is text and the
    value is a number (with a unit of the dimension). The text is read as a `--set` value is (parser.parse_value), so
    `"1_000 GB/s"` and `"3.5e2 W"` are recognised as the cell would read them."""
    from .errors import PerfError
    from .parser import parse_value
    from .units import dimension_name

    if isinstance(expr, ir.Str):
        text = expr.value.strip()
        try:
            value = parse_value(text, "<string>") if text else None
        except PerfError:
            value = None
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], ir.Num) \
                and (dim is None or value[0].dim == dim.exponents):
            return [f"write {text} without quotes"]
    if dim is None:
        return ["a string is text, which no arithmetic takes: a number is written without quotes"]
    return [f"a quantity in {dimension_name(dim)} is a number with a unit, written without quotes"]
