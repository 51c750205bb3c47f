"""A run's model or hardware that names no block of the report (stage 5, beside matching.py): the closest one.

A run names the block bound to a role by the block's name or its label (a model's `hf_id`, a GPU's nvidia-smi
`label`: matching.LABEL_CELLS). A run of a checkpoint the report does not have (`meta-llama/Llama-3.1-70B-Instruct`
beside `llama3_1_70b`, whose hf_id is `meta-llama/Llama-3.1-70B`), or of a GPU written another way (`H100-SXM5-80GB`
beside "NVIDIA H100 80GB HBM3"), was said to be "not in the report" and nothing more. closest_block names the block of
the report that is closest, by the text a log would write for it, and how to make the run match.

Closeness (_close): a run's text that is a block's and more after a separator (`...-70B` + `-Instruct`) is closest;
else the texts are compared lower-cased with every run of other characters made one space (`h100 sxm5 80gb`), by
difflib's ratio, where the block's words with a digit in them are the run's too: a model's all of them (its size and
version: `Llama-3.1-8B-Instruct` is never pointed at the 70B model), a GPU's first (its part: `h100` of "NVIDIA H100
80GB HBM3", so an A100 is never pointed at an H100, nor an RTX A6000 at an RTX A5000); texts without them must be a
near miss (`org/unknown` is not `org/tiny`).
"""

from __future__ import annotations

import difflib
import re

from . import ir

def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _close(wanted: str, text: str, every_number: bool) -> float:
    """How close the run's text is to a block's text, 0 .. 1: 1 where the run's is the block's and more after a
    separator (`org/m-70B-Instruct` beside `org/m-70B`); else difflib's ratio where the block's words with a digit in
    them are the run's too (`every_number`: all of them, a model's size and version; else the first, a GPU's part:
    `h100` of "NVIDIA H100 80GB HBM3" in `H100-SXM5-80GB`, while "NVIDIA RTX A6000" is not "NVIDIA RTX A5000"
    however alike), or, where the block's text has no such word, the two are a near miss (ratio 0.85 or more:
    `org/unknown` is not `org/tiny`); 0 otherwise."""
    if len(wanted) > len(text) > 0 and wanted.lower().startswith(text.lower()) and not wanted[len(text)].isalnum():
        return 1.0
    run_words, words = _words(wanted).split(), _words(text).split()
    if not words:
        return 0.0
    ratio = difflib.SequenceMatcher(None, " ".join(run_words), " ".join(words)).ratio()
    numbered = [word for word in words if any(c.isdigit() for c in word)]
    if not numbered:
        return ratio if ratio >= 0.85 else 0.0
    needed = numbered if every_number else numbered[:1]
    return ratio if all(word in run_words for word in needed) else 0.0


def _label(block: ir.Block, cells: tuple[str, ...]) -> tuple[str, str] | None:
    """(cell, text) of the first of `cells` the block has as a non-empty string (inherited or its own)."""
    for cell_name in cells:
        cell = block.cells.get(cell_name)
        if cell is not None and isinstance(cell.expr, ir.Str) and cell.expr.value.strip():
            return cell_name, cell.expr.value.strip()
    return None


def closest_block(program, key: str, wanted: str, blocks, label_cells: tuple[str, ...]) -> tuple[str, list[str]]:
    """(the text to add to "{key} '{wanted}' is not in the report", help lines) for a run whose `key` (a role:
    model, hardware ...) names none of `blocks`, the blocks the report binds to that role; ("", []) where none is
    close. The text names the closest block by the label a log writes for it; the help says how to match: a model
    block that extends the base checkpoint with the run's hf_id where the run's name is the base's and more
    (`...-70B` + `-Instruct`, as reports/published_optimum.perf does), else the label (or the name) to write."""
    scored = []
    for name in dict.fromkeys(blocks):
        block = program.blocks[name]
        label = _label(block, label_cells)
        texts = [name] + ([label[1]] if label else [])
        scored.append((max(_close(wanted, text, key == "model") for text in texts), name, label))
    if not scored:
        return "", []
    score, name, label = max(scored, key=lambda item: item[0])
    if score == 0:
        return "", []
    cell, text = label if label else ("name", name)
    shown = f"{key} {name} ({cell} '{text}')" if label else f"{key} {name}"
    said = f"; did you mean {shown}?"
    base = text.rstrip("/")
    if label and wanted.lower().startswith(base.lower()) and len(wanted) > len(base) and \
            not wanted[len(base)].isalnum():
        variant = re.sub(r"[^a-z0-9]+", "_", wanted[len(base):].lower()).strip("_")
        kind = program.blocks[name].kind
        return said, [f"a run of '{wanted}' is matched by a block of that {cell}: where the checkpoint has the "
                      f"architecture of '{text}' (a fine-tuned one, such as Instruct, has its base model's "
                      f"config.json figures), add `{kind} {name}_{variant} extends {name} {{ {cell} = \"{wanted}\" }}` "
                      f"and sweep it in the report's `{key}`, as reports/published_optimum.perf does for the Llama "
                      "3.1 Instruct checkpoints"]
    return said, [f"write the run's {key} as '{text}'" + (f" (or the block's name, {name})" if label else "")
                  + f" to match {name}, or add a block for '{wanted}' to the report's `{key}`"]
