"""Configuration readers fail loudly and say which variable is wrong."""

import pytest

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
