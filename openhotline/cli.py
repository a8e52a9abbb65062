"""The `openhotline` console script: the project's manage.py."""

import os
import sys

from openhotline.demo.environment import DemoEnvironmentError, adopt

# Commands that must not run on another run's recorded demo settings: run-demo records
# its own (ports may differ), and generate-secrets is what a deployment runs first.
_NO_DEMO_ENVIRONMENT = {"run_demo", "generate_secrets"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openhotline.settings")
    argv = list(sys.argv)
    # Our commands are spelled with hyphens on the command line (`create-staff`);
    # Django names them after their modules, which need underscores.
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    if len(argv) < 2 or argv[1] not in _NO_DEMO_ENVIRONMENT:
        _adopt_demo_environment()
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


def _adopt_demo_environment() -> None:
    """With no secret in the environment, the demo's (if `make run` ran here), said aloud.
    Without either, settings and checks stop the command naming the missing variable."""
    try:
        marker = adopt(os.environ)
    except DemoEnvironmentError as exc:
        sys.exit(f"openhotline: the demo's environment is unusable: {exc}")
    if marker is not None:
        sys.stderr.write(
            f"openhotline: no secrets in the environment; using the demo's, as recorded by "
            f"`make run` in {marker}\n"
        )


if __name__ == "__main__":
    main()
