"""Fail on imports of project modules inside functions, unless the line says why.

Imports hidden in functions dodge import cycles that the layers contract (`lint-imports`)
would otherwise show; a few are needed (Django's app loading, a spawned worker that must
import before Django is set up, an optional dependency). Those carry a comment on the
import's first line or on the line just above it: `# local import: <reason>`.

Usage: python scripts/check_local_imports.py [FILE_OR_DIR ...]   (default: openhotline/)
Exit status 1 lists each offending import as file:line.
"""

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "openhotline"
MARKER = "# local import:"


def _project_module(node: ast.Import | ast.ImportFrom) -> str | None:
    if isinstance(node, ast.ImportFrom):
        if node.level:  # relative imports are always the project's own
            return "." * node.level + (node.module or "")
        names = [node.module or ""]
    else:
        names = [alias.name for alias in node.names]
    for name in names:
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            return name
    return None


def _function_imports(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """Every import of a project module whose nearest enclosing scope is a function."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from walk(child, True)
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, in_function)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                module = _project_module(child)
                if in_function and module is not None:
                    yield child, module
            else:
                yield from walk(child, in_function)

    yield from walk(tree, False)


def problems(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node, module in _function_imports(ast.parse(source, filename=str(path))):
        said = lines[node.lineno - 1] + (lines[node.lineno - 2] if node.lineno > 1 else "")
        if MARKER not in said:
            found.append(f"{path}:{node.lineno}: function-level import of {module}")
    return found


def python_files(targets: list[Path]) -> Iterator[Path]:
    for target in targets:
        if target.is_file():
            yield target
            continue
        for path in sorted(target.rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def main(argv: list[str]) -> int:
    targets = [Path(arg) for arg in argv] or [Path(__file__).resolve().parent.parent / PACKAGE]
    found = [line for path in python_files(targets) for line in problems(path)]
    for line in found:
        print(line)
    if found:
        print(
            f"{len(found)} import(s) of project modules inside functions: move them to the "
            f"top of the module, or say why on the line ({MARKER} <reason>)."
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
