"""Test shim: fixed test secrets and local paths, then the one real settings module.

Only environment defaults are set here; everything else is openhotline.settings as a
deployment would run it.
"""

import base64
import os
from pathlib import Path

_VAR = Path(__file__).resolve().parent.parent / "var" / "test"
_VAR.mkdir(parents=True, exist_ok=True)

os.environ.setdefault("OPENHOTLINE_SECRET_KEY", "test-secret-key-" + "t" * 40)
os.environ.setdefault("OPENHOTLINE_MASTER_KEY", base64.b64encode(b"m" * 32).decode())
os.environ.setdefault("OPENHOTLINE_STORAGE_KEY", "test-storage-key-" + "s" * 30)
os.environ.setdefault("OPENHOTLINE_SIGNING_KEY", base64.b64encode(b"k" * 32).decode())
os.environ.setdefault("OPENHOTLINE_VAR_DIR", str(_VAR))
os.environ.setdefault("OPENHOTLINE_SSL_REDIRECT", "false")
os.environ.setdefault("OPENHOTLINE_SITE_URL", "http://testserver")
os.environ.setdefault("OPENHOTLINE_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("OPENHOTLINE_REPORT_RATE", "1000/min")
os.environ.setdefault("OPENHOTLINE_FETCH_ALLOW_NETS", "127.77.0.0/16")
os.environ.setdefault("OPENHOTLINE_FROM_EMAIL", "hotline@openhotline.test")
# Playwright's sync API runs an event loop in the test thread; the ORM is still used
# synchronously there, which is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from openhotline.settings import *  # noqa: E402, F403
from openhotline.settings import DATABASES, STATIC_ROOT, STORAGES  # noqa: E402

STATIC_ROOT.mkdir(exist_ok=True)

# Argon2 at full cost makes every test user take 100 ms; production keeps the default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# No collectstatic before tests: serve static files from the apps, unhashed.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if str(DATABASES["default"]["ENGINE"]).endswith("postgresql"):
    DATABASES["default"]["TEST"] = {"NAME": f"test_openhotline_{os.getpid()}"}
elif str(DATABASES["default"]["ENGINE"]).endswith("sqlite3"):
    # A file, not memory: the browser tests' server thread and subprocesses share it.
    # One file per test run, so runs side by side (two checkouts, a helper) never collide.
    DATABASES["default"]["TEST"] = {"NAME": str(_VAR / f"test-{os.getpid()}.sqlite3")}
