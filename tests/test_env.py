"""Configuration readers fail loudly and say which variable is wrong."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from openhotline.core.secret_values import MAKERS
from openhotline.demo.environment import MARKER_NAME, DemoEnvironmentError, adopt, write_marker
from openhotline.env import (
    ConfigError,
    database_from_url,
    env_bool,
    env_choice,
    env_host_ports,
    env_int,
    env_networks,
    env_secret,
)


def test_it_reads_booleans_and_refuses_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "off")
    assert env_bool("X_FLAG", True) is False
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ConfigError, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_it_reads_a_choice_and_names_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    assert env_choice("OH_TEST_CHOICE", "fast", ("fast", "reference")) == "fast"
    monkeypatch.setenv("OH_TEST_CHOICE", " reference ")
    assert env_choice("OH_TEST_CHOICE", "fast", ("fast", "reference")) == "reference"
    monkeypatch.setenv("OH_TEST_CHOICE", "quick")
    with pytest.raises(ConfigError, match="one of fast, reference, not 'quick'"):
        env_choice("OH_TEST_CHOICE", "fast", ("fast", "reference"))


def test_it_reads_integers_with_a_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_NUM", "12")
    assert env_int("X_NUM", 1) == 12
    monkeypatch.setenv("X_NUM", "twelve")
    with pytest.raises(ConfigError, match="X_NUM must be an integer"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ConfigError, match="at least 1"):
        env_int("X_NUM", 5, minimum=1)


def test_it_reads_secrets_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    secret_file = tmp_path / "key"
    secret_file.write_text("s3cret\n")
    monkeypatch.setenv("X_KEY_FILE", str(secret_file))
    assert env_secret("X_KEY") == "s3cret"
    monkeypatch.setenv("X_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="X_KEY_FILE: cannot read"):
        env_secret("X_KEY")
    (tmp_path / "empty").write_text("")
    monkeypatch.setenv("X_KEY_FILE", str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match="is empty"):
        env_secret("X_KEY")


def test_it_parses_dns_servers_and_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_DNS", "127.77.0.53:53535, [::1]:5353, 127.0.0.1")
    assert env_host_ports("X_DNS") == [("127.77.0.53", 53535), ("::1", 5353), ("127.0.0.1", 53)]
    monkeypatch.setenv("X_DNS", "resolver.example:53")
    with pytest.raises(ConfigError, match="not an IP address"):
        env_host_ports("X_DNS")
    monkeypatch.setenv("X_NETS", "127.77.0.0/16,10.0.0.0/8")
    assert [str(n) for n in env_networks("X_NETS")] == ["127.77.0.0/16", "10.0.0.0/8"]
    monkeypatch.setenv("X_NETS", "not-a-net")
    with pytest.raises(ConfigError, match="not an IP network"):
        env_networks("X_NETS")


def test_it_builds_a_postgres_database_from_a_url() -> None:
    db = database_from_url(
        "postgres://u:p%40ss@127.0.0.1:5433/hotline?sslmode=require", conn_max_age=5
    )
    assert db["NAME"] == "hotline" and db["PASSWORD"] == "p@ss" and db["PORT"] == "5433"
    assert db["OPTIONS"] == {"sslmode": "require"}
    with pytest.raises(ConfigError, match="postgres://"):
        database_from_url("mysql://h/db", conn_max_age=0)
    with pytest.raises(ConfigError, match="names no database"):
        database_from_url("postgres://h/", conn_max_age=0)


# --- the demo's environment for commands typed in another terminal (issue 15, item 4) ---


def demo_marker(var: Path, **extra: str) -> Path:
    """What run-demo records in its var directory."""
    env = {
        "OPENHOTLINE_SECRET_KEY_FILE": str(var / "secrets" / "secret_key"),
        "OPENHOTLINE_SITE_URL": "http://localhost:8123",
        **extra,
    }
    return write_marker(var, env)


def test_the_demo_environment_is_adopted_only_without_any_secret(tmp_path: Path) -> None:
    marker = demo_marker(tmp_path, OPENHOTLINE_SIGNING_KEY="not recorded: a value")
    assert json.loads(marker.read_text()) == {
        "OPENHOTLINE_SECRET_KEY_FILE": str(tmp_path / "secrets" / "secret_key"),
        "OPENHOTLINE_SITE_URL": "http://localhost:8123",
    }
    assert marker.stat().st_mode & 0o077 == 0
    environ = {"OPENHOTLINE_VAR_DIR": str(tmp_path), "OPENHOTLINE_SITE_URL": "http://mine"}
    assert adopt(environ) == marker
    assert environ["OPENHOTLINE_SECRET_KEY_FILE"] == str(tmp_path / "secrets" / "secret_key")
    assert environ["OPENHOTLINE_SITE_URL"] == "http://mine"  # what is set wins
    for secret in ("OPENHOTLINE_MASTER_KEY", "OPENHOTLINE_STORAGE_KEY_FILE"):
        configured = {"OPENHOTLINE_VAR_DIR": str(tmp_path), secret: "/run/secrets/x"}
        assert adopt(configured) is None
        assert "OPENHOTLINE_SECRET_KEY_FILE" not in configured
    assert adopt({"OPENHOTLINE_VAR_DIR": str(tmp_path / "production")}) is None


def test_a_tampered_demo_marker_is_refused_not_obeyed(tmp_path: Path) -> None:
    (tmp_path / MARKER_NAME).write_text(json.dumps({"DATABASE_URL": "postgres://evil/db"}))
    environ = {"OPENHOTLINE_VAR_DIR": str(tmp_path)}
    with pytest.raises(DemoEnvironmentError, match="may not: DATABASE_URL"):
        adopt(environ)
    assert "DATABASE_URL" not in environ
    (tmp_path / MARKER_NAME).write_text("[1, 2")
    with pytest.raises(DemoEnvironmentError, match="cannot be read"):
        adopt(environ)


def run_cli(var: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENHOTLINE_", "DJANGO_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [str(Path(sys.executable).parent / "openhotline"), *args],
        env={**clean, "OPENHOTLINE_VAR_DIR": str(var), **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_outside_the_demo_a_missing_secret_stops_a_command_naming_it(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "audit-verify")
    assert done.returncode != 0
    assert "OPENHOTLINE_SECRET_KEY is not set" in done.stderr
    assert "using the demo's" not in done.stderr


def test_the_cli_uses_the_demo_secrets_and_says_so(tmp_path: Path) -> None:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    for name, make in MAKERS.items():
        (secrets_dir / name).write_text(make())
    write_marker(tmp_path, {
        f"OPENHOTLINE_{name.upper()}_FILE": str(secrets_dir / name) for name in MAKERS
    })  # fmt: skip
    done = run_cli(tmp_path, "check")
    assert done.returncode == 0, done.stderr
    assert f"using the demo's, as recorded by `make run` in {tmp_path / MARKER_NAME}" in (
        done.stderr
    )
    # A deployment's own secrets win, and the demo's are not mentioned.
    own = run_cli(tmp_path, "check", OPENHOTLINE_SECRET_KEY="x" * 60)
    assert "using the demo's" not in own.stderr
    assert "OPENHOTLINE_MASTER_KEY is not set" in own.stderr


@pytest.mark.parametrize("command", ["hash", "match"])
def test_jobs_default_to_the_cpus_this_process_may_use(
    monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3})
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    module = importlib.import_module(f"openhotline.signals.management.commands.{command}")
    parser = module.Command().create_parser("openhotline", command)
    assert parser.parse_args(["somefile"]).jobs == 2
    monkeypatch.delattr(os, "sched_getaffinity")  # macOS has none
    parser = module.Command().create_parser("openhotline", command)
    assert parser.parse_args(["somefile"]).jobs == 64
