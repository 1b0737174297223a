"""User-facing errors: one line that names the file, line or option and how to fix it.

Anything raised as `WorkbenchError` is bad input, not a bug: the CLI prints its message on
one line and exits 2 (a traceback only with `--debug`).
"""


class WorkbenchError(Exception):
    """Bad input the user can fix; the message says where and how."""


def where(path, line: int | None = None) -> str:
    """'file' or 'file:line', the prefix every data error starts with."""
    return f"{path}:{line}" if line is not None else f"{path}"
