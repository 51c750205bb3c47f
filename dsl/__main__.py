"""`python -m perfdsl ARGS`: the `perfdsl` command (perfdsl.cli.run) for an environment whose scripts folder is not on
PATH; the same options, output and exit statuses (docs/ERRORS.md)."""

from perfdsl.cli import run

run()
