"""Shared argparse helpers: every subcommand has a description and an example."""
from __future__ import annotations

import argparse


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of descriptions and example epilogs."""


def add_command(sub, name: str, help: str, example: str, func, description: str | None = None):
    parser = sub.add_parser(name, help=help, description=description or help, epilog=f"example:\n  {example}",
                            formatter_class=Formatter)
    parser.set_defaults(func=func)
    return parser
