"""Start-up refuses unsafe or malformed configuration with a message that says what to do."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    test_defaults = {
        "DEBUG",
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEYS",
        "SECURE_SSL_REDIRECT",
        "Q_SYNC",
        "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests for their own process only
    }
    clean = {k: v for k, v in os.environ.items() if k not in test_defaults}
    clean.update({"DJANGO_SETTINGS_MODULE": "console.settings", **env})
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_production_mode_refuses_to_start_without_secret_key_and_encryption_keys(tmp_path):
    result = run_check({"DEBUG": "false", "CONSOLE_LOCAL_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY and FIELD_ENCRYPTION_KEYS" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("EMAIL_PORT", "twenty-five", "EMAIL_PORT='twenty-five' is not a whole number"),
        ("DATABASE_URL", "mysql://x@localhost/db", "must point at SQLite"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must start with redis://"),
        ("CONSOLE_URL", "console.example.com", "CONSOLE_URL must be an absolute address"),
    ],
)
def test_malformed_settings_stop_start_up_with_a_message(tmp_path, name, value, message):
    env = {"DEBUG": "true", "CONSOLE_LOCAL_DIR": str(tmp_path), name: value}
    result = run_check(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_an_invalid_encryption_key_is_named_at_start_up(tmp_path):
    result = run_check({"DEBUG": "true", "CONSOLE_LOCAL_DIR": str(tmp_path), "FIELD_ENCRYPTION_KEYS": "not-a-key"})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS entry 1 is not a valid Fernet key" in result.stderr


def test_check_deploy_reports_no_issues_in_production_mode_behind_a_tls_proxy(tmp_path):
    env = {
        "DEBUG": "false",
        "CONSOLE_LOCAL_DIR": str(tmp_path),
        "SECRET_KEY": "k" * 20 + "a-long-random-production-secret-key-0123456789",
        "FIELD_ENCRYPTION_KEYS": "hXhR4tqYk0s0f1o5E3a2vYzv1q0S8mG6tC5s2cXwz5U=",
        "ALLOWED_HOSTS": "console.example.com",
    }
    result = run_check(env, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout
