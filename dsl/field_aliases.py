"""The cell names by which a run log names what it ran (stage 5's names, read by matching.py): the true aliases of
identifying fields (ALIASES) and the text cells that label a block (LABEL_CELLS).

Apart from matching.py because the checker's near-miss warnings read them too (near_misses.READ_BY_PERFDSL): a check
then imports these two tables, not matching and the result and workbook classes it brings (3 ms of `perfdsl check`'s
start, 2-core machine)."""

from __future__ import annotations

ALIASES = {
    "n_gpus": ("n_gpus", "gpus", "num_gpus", "gpu_count"),
    "batch": ("batch", "batch_size"),
    "seq_len": ("seq_len", "seq", "input_len", "prompt_len", "input"),
    "output_len": ("output_len", "output", "out", "new_tokens", "max_new_tokens"),
    "tokens": ("tokens", "tokens_per_step"),
    "precision": ("precision", "dtype"),
}
# The text cells by which a run names a block bound to a role, besides the block's name.
LABEL_CELLS = ("label", "hf_id")
