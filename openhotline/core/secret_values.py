"""The platform's secrets and how to make fresh ones (for `generate-secrets`, tests that
start servers, benchmarks and the production-settings check). No Django imports."""

import base64
import secrets
from collections.abc import Callable

MAKERS: dict[str, Callable[[], str]] = {
    "secret_key": lambda: secrets.token_urlsafe(50),
    "master_key": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    "storage_key": lambda: secrets.token_urlsafe(48),
    # Ed25519 private key, raw 32 bytes in base64 (feed manifests, intelligence packages).
    "signing_key": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
}


def fresh_environment() -> dict[str, str]:
    """OPENHOTLINE_SECRET_KEY, _MASTER_KEY, _STORAGE_KEY and _SIGNING_KEY, all new."""
    return {f"OPENHOTLINE_{name.upper()}": make() for name, make in MAKERS.items()}
