"""Django's checks as production would run them, and the migrations check.

`check --deploy` runs with production-like settings (https site, fresh secrets) and fails
on warnings too; `makemigrations --check` fails if a model change has no migration.
"""

import os
import subprocess
import sys
import tempfile

from openhotline.core.secret_values import fresh_environment

BIN = os.path.dirname(sys.executable)


def run(args: list[str], env: dict[str, str]) -> None:
    print("==", " ".join(args[1:]), flush=True)
    subprocess.run([os.path.join(BIN, "openhotline"), *args[1:]], env=env, check=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as var:
        production = {
            k: v for k, v in os.environ.items() if not k.startswith(("OPENHOTLINE_", "DATABASE"))
        } | {
            "OPENHOTLINE_VAR_DIR": var,
            **fresh_environment(),
            "OPENHOTLINE_SITE_URL": "https://hotline.example.org",
            "OPENHOTLINE_ALLOWED_HOSTS": "hotline.example.org",
        }
        try:
            run(["openhotline", "check", "--deploy", "--fail-level", "WARNING"], production)
            run(["openhotline", "makemigrations", "--check", "--dry-run"], production)
        except subprocess.CalledProcessError as failure:
            sys.exit(failure.returncode)


if __name__ == "__main__":
    main()
