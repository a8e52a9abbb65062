"""The `openhotline` console script: the project's manage.py."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openhotline.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    # Our commands are spelled with hyphens on the command line (`create-staff`);
    # Django names them after their modules, which need underscores.
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
