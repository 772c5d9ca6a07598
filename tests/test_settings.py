"""Settings come from the environment and fail clearly when misconfigured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rightbrain.settings import database_from_url, file_storage

PROJECT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "production-secret-with-enough-entropy-1234567890",
    "ALLOWED_HOSTS": "rightbrain.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://rightbrain.example.com",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "smtp.example.com",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_without_secret_key_fails_with_a_clear_message():
    result = _manage("check", env={"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_bad_boolean_is_refused_by_name():
    result = _manage("check", env={"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_a_broker_visibility_timeout_shorter_than_a_run_is_refused():
    result = _manage(
        "check",
        env={"RB_STUCK_RUN_SECONDS": "900", "RB_BROKER_VISIBILITY_SECONDS": "600"},
    )
    assert result.returncode != 0
    assert (
        "RB_BROKER_VISIBILITY_SECONDS (600) must be longer than "
        "RB_STUCK_RUN_SECONDS (900)" in result.stderr
    )


def test_the_broker_waits_longer_than_a_run_may_last_by_default():
    result = _manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.RB_STUCK_RUN_SECONDS, s.RB_BROKER_VISIBILITY_SECONDS)",
        env={"RB_LLM_TIMEOUT": "900", "RB_LLM_ATTEMPTS": "3"},
    )
    assert result.returncode == 0, result.stderr
    # Three attempts of 900 s on the primary and on the fallback, plus 600 s.
    assert result.stdout.split() == ["6000", "12000"]


def test_sqlite_urls_are_relative_to_the_project_or_absolute():
    assert database_from_url("sqlite:///db.sqlite3")["NAME"] == str(
        PROJECT / "db.sqlite3"
    )
    assert database_from_url("sqlite:////tmp/x.db")["NAME"] == "/tmp/x.db"


def test_postgres_urls_use_the_connection_pool():
    config = database_from_url("postgres://rb:s%40cret@db.internal:6543/rightbrain")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"]) == ("rb", "s@cret")
    assert (config["HOST"], config["PORT"], config["NAME"]) == (
        "db.internal",
        "6543",
        "rightbrain",
    )
    assert config["OPTIONS"]["pool"]["max_size"] >= 1


def test_an_unknown_database_scheme_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url("mysql://x@y/z")


def test_sessions_and_csrf_cookies_are_secure_in_production():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    )
    result = _manage("shell", "--no-imports", "-c", code, env=PRODUCTION_ENV)
    assert result.stdout.split() == ["True", "True", "True"], result.stderr


def test_no_environment_means_eager_celery_and_sqlite():
    code = (
        "from django.conf import settings as s;"
        "print(s.CELERY_TASK_ALWAYS_EAGER, s.DATABASES['default']['ENGINE'])"
    )
    env = dict.fromkeys(("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"), "")
    result = _manage("shell", "--no-imports", "-c", code, env=env)
    assert result.stdout.split() == ["True", "django.db.backends.sqlite3"], (
        result.stderr
    )


def test_run_files_stay_on_local_disk_without_a_bucket(monkeypatch):
    monkeypatch.delenv("RB_S3_BUCKET", raising=False)
    assert file_storage() == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_makes_run_files_private_objects_in_it(monkeypatch):
    monkeypatch.setenv("RB_S3_BUCKET", "files")
    monkeypatch.setenv("RB_S3_PREFIX", "/tenant-a/")
    monkeypatch.delenv("RB_S3_ENDPOINT_URL", raising=False)
    configured = file_storage()
    assert configured["BACKEND"] == "storages.backends.s3.S3Storage"
    options = configured["OPTIONS"]
    assert options["bucket_name"] == "files"
    assert options["location"] == "tenant-a"
    assert options["default_acl"] == "private"
    # Users are never handed a bucket address, signed or not.
    assert options["querystring_auth"] is False
    # Against AWS itself botocore picks the addressing style.
    assert options["client_config"].s3["addressing_style"] == "auto"
