#!/usr/bin/env python3
"""Fail on a govreq import inside a function body under src/govreq, unless a comment says why.

An import moved into a function is the usual way to hide an import cycle or a lower layer
reaching up; the layer contract (``lint-imports``) sees through it, but the reader does not. A
function-local import is allowed only with a comment on its line or on the line just above it
that gives the reason (for example, work deferred until gunicorn's worker forks).

Usage: scripts/check_local_imports.py [ROOT]   (default: src/govreq)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def _is_govreq(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "govreq"
    return any(alias.name.split(".")[0] == "govreq" for alias in node.names)


def _explained(lines: list[str], lineno: int) -> bool:
    """A comment on the import's own line, or on the nearest non-blank line above it."""
    if "#" in lines[lineno - 1]:
        return True
    above = lineno - 2
    while above >= 0 and not lines[above].strip():
        above -= 1
    return above >= 0 and lines[above].strip().startswith("#")


def unexplained_local_imports(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    problems: list[str] = []
    for function in ast.walk(ast.parse(source, filename=str(path))):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Import | ast.ImportFrom)
                and _is_govreq(node)
                and not _explained(lines, node.lineno)
            ):
                problems.append(
                    f"{path}:{node.lineno}: govreq import inside {function.name}() without a "
                    "comment saying why (move it to the top of the module, or explain it)"
                )
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "src/govreq")
    problems = sorted(
        {
            problem
            for path in sorted(root.rglob("*.py"))
            for problem in unexplained_local_imports(path)
        }
    )
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} unexplained function-local govreq import(s)", file=sys.stderr)
        return 1
    print(f"no unexplained function-local govreq imports under {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
