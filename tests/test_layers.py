"""The layers contract (`lint-imports`, pyproject's [tool.importlinter]), the check on
imports inside functions (scripts/check_local_imports.py) and the hand-off table
(openhotline.pipeline): each holds on the tree, and each fails on what it is there to stop."""

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from openhotline import pipeline

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CHECK_SCRIPT = ROOT / "scripts" / "check_local_imports.py"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first: the package under `cwd` is the one analysed, not the installed one.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        timeout=240,
    )


def _copy_of_the_package(tmp_path: Path) -> Path:
    """The package's Python files and the contract, in a directory of their own."""
    shutil.copytree(
        ROOT / "openhotline",
        tmp_path / "openhotline",
        ignore=lambda folder, names: [
            n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()
        ],
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _check_local_imports(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK_SCRIPT), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_tree_keeps_every_import_contract() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_an_upward_import_breaks_the_layers_contract(tmp_path: Path) -> None:
    tree = _copy_of_the_package(tmp_path)
    # cases is beneath evidence: a case opening its capture itself is the old cycle.
    services = tree / "openhotline" / "cases" / "services.py"
    services.write_text(
        services.read_text() + "\n\nfrom openhotline.evidence.services import request_capture\n"
    )
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Pipeline layers: a lower stage never imports a higher one BROKEN" in result.stdout
    assert "openhotline.cases is not allowed to import openhotline.evidence" in result.stdout
    assert "openhotline.cases.services -> openhotline.evidence.services" in result.stdout


def test_an_upward_import_hidden_in_a_function_breaks_it_too(tmp_path: Path) -> None:
    tree = _copy_of_the_package(tmp_path)
    holds = tree / "openhotline" / "assessment" / "holds.py"
    holds.write_text(
        holds.read_text() + "\n\ndef _list(case):\n    from openhotline.feeds import url_list\n"
        "\n    url_list.criminal(case)\n"
    )
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "openhotline.assessment.holds -> openhotline.feeds.url_list" in result.stdout


def test_the_product_never_imports_the_demo(tmp_path: Path) -> None:
    tree = _copy_of_the_package(tmp_path)
    urlnorm = tree / "openhotline" / "urlnorm.py"
    urlnorm.write_text(urlnorm.read_text() + "\n\nfrom openhotline.simnet import world\n")
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "openhotline.urlnorm is not allowed to import openhotline.simnet" in result.stdout


def test_the_tree_has_no_unexplained_import_inside_a_function() -> None:
    result = _check_local_imports()
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_import_inside_a_function_fails_the_check(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text(
        '"""A module."""\n\nfrom openhotline import grading\n\n\n'
        "def rank(value):\n"
        "    from openhotline.takedown import services\n\n"
        "    class Inner:\n"
        "        def again(self):\n"
        "            import openhotline.feeds.url_list\n"
        "    return grading, services, Inner\n"
    )
    result = _check_local_imports(module)
    assert result.returncode == 1
    assert f"{module}:7: function-level import of openhotline.takedown" in result.stdout
    assert f"{module}:11: function-level import of openhotline.feeds.url_list" in result.stdout
    assert ":3:" not in result.stdout  # the module-level import is the right place
    assert "2 import(s) of project modules inside functions" in result.stdout


def test_a_stated_reason_lets_an_import_inside_a_function_pass(tmp_path: Path) -> None:
    module = tmp_path / "worker.py"
    module.write_text(
        "def start():\n"
        "    import django\n\n"
        "    django.setup()\n"
        "    from openhotline.evidence import media  # local import: after django.setup()\n"
        "    # local import: the worker process sets Django up first.\n"
        "    from openhotline.signals.types import compute_all\n"
        "    import json\n"
        "    return media, compute_all, json\n"
    )
    result = _check_local_imports(module)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    "table", [pipeline.HANDOFFS, pipeline.QUESTIONS], ids=["handoffs", "questions"]
)
def test_every_step_of_the_pipeline_names_a_function_that_exists(table: dict[str, str]) -> None:
    for step, path in table.items():
        target: Callable[..., object] = import_string(path)
        assert callable(target), f"{step}: {path}"


def test_an_unknown_step_is_refused_by_name() -> None:
    with pytest.raises(LookupError, match=r"'case_closed' is not in openhotline\.pipeline"):
        pipeline.start("case_closed", 1)
