"""The `workbench` command. Each subcommand is a thin shell over the package's functions, in a module of
its own here that adds itself to the parser with `register(subparsers)`.

Bad input raises `WorkbenchError`; `main` turns it into one line on stderr and exit code 2
(the full traceback only with --debug).
"""

from __future__ import annotations

import argparse
import sys
import traceback

from workbench.cli import compare, data, embed, export, finetune, generate, pretrain, report
from workbench.cli.common import Formatter
from workbench.errors import WorkbenchError

EPILOG_MAIN = """examples:
  workbench finetune --pipeline word2vec+lstm --task micro-sentiment --n 256 --seed 0
  workbench data list
  workbench data info micro-sentiment
  WORKBENCH_DATA=../shared/data workbench data info sst2
"""
COMMANDS = (
    data,
    embed,
    finetune,
    pretrain,
    generate,
    export,
    compare,
    report,
)  # in the order `workbench --help` lists them


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Compare static word embeddings + LSTMs (circa 2017) with whole-model pretraining "
        "(BERT/GPT/XLNet-style) on identical tasks, as data-efficiency curves.",
        epilog=EPILOG_MAIN,
        formatter_class=Formatter,
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except WorkbenchError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
