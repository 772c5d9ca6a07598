"""compose.yaml wires every process to one private run-file store.

Docker is not available to the test suite, so this reads the file as compose
does (YAML with merge keys, `${VAR:-default}` substitution) and checks the
wiring: MinIO keeps its data in a named volume, the one-shot migration
prepares the bucket before anything starts, and web, worker and beat get the
same store with the credentials MinIO was started with. The app's settings
are then built from that environment. SECRET_KEY comes from a `.env` file that
compose reads by itself (so every terminal gets the same key), made once by
`make env` and never overwritten.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.utils.module_loading import import_string

from rightbrain.settings import file_storage

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.yaml"
APP_SERVICES = ("migrate", "web", "worker", "beat")
_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def _substituted(value: object, env: dict[str, str]) -> object:
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            return f"<{name} required>"
        return rest or ""

    return _VARIABLE.sub(one, value)


def _services(env: dict[str, str] | None = None) -> dict:
    env = env or {}
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for service in services.values():
        service["environment"] = {
            name: _substituted(value, env)
            for name, value in (service.get("environment") or {}).items()
        }
    return services


def test_minio_keeps_its_data_in_a_named_volume_and_is_not_published():
    compose = yaml.safe_load(COMPOSE.read_text())
    minio = compose["services"]["minio"]
    assert minio["image"].startswith("minio/minio:RELEASE.")
    assert minio["command"].split()[:2] == ["server", "/data"]
    volume, mount = minio["volumes"][0].split(":")
    assert mount == "/data"
    assert volume in compose["volumes"]
    assert "ports" not in minio  # only the app reaches the bucket
    assert minio["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]


@pytest.mark.parametrize(
    "env",
    [{}, {"MINIO_ROOT_USER": "files-admin", "MINIO_ROOT_PASSWORD": "a-long-secret"}],
)
def test_every_app_process_uses_the_minio_store_with_its_credentials(env):
    services = _services(env)
    minio = services["minio"]["environment"]
    for name in APP_SERVICES:
        app = services[name]["environment"]
        assert app["RB_S3_BUCKET"] == "rightbrain-files", name
        endpoint = urlsplit(app["RB_S3_ENDPOINT_URL"])
        assert (endpoint.hostname, endpoint.port) == ("minio", 9000), name
        assert app["RB_S3_ACCESS_KEY_ID"] == minio["MINIO_ROOT_USER"], name
        assert app["RB_S3_SECRET_ACCESS_KEY"] == minio["MINIO_ROOT_PASSWORD"], name
    # MinIO refuses to start with a root password shorter than 8 characters.
    assert len(minio["MINIO_ROOT_PASSWORD"]) >= 8


def test_the_bucket_is_prepared_once_before_web_and_worker_start():
    services = _services()
    migrate = services["migrate"]
    steps = migrate["command"]
    assert steps.index("migrate --noinput") < steps.index("prepare_file_store")
    assert "&&" in steps  # a failed preparation fails the one-shot
    assert migrate["depends_on"]["minio"] == {"condition": "service_healthy"}
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["minio"] == {"condition": "service_healthy"}, name


def test_web_worker_and_beat_start_only_after_the_migrations_succeeded():
    services = _services()
    migrate = services["migrate"]
    assert migrate["restart"] == "no"  # a one-shot, not restarted once done
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, (
            name
        )


def test_what_must_survive_a_restart_is_in_named_volumes_and_apps_keep_nothing():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    for name, mount in (
        ("postgres", "/var/lib/postgresql/data"),
        ("redis", "/data"),
        ("minio", "/data"),
    ):
        volume, target = services[name]["volumes"][0].split(":")
        assert target == mount, name
        assert volume in compose["volumes"], name  # named, not a bind mount
    for name in APP_SERVICES:
        assert "volumes" not in services[name], name
        environment = _services()[name]["environment"]
        # Run files go to the bucket, not to the container's MEDIA_ROOT; the
        # database is PostgreSQL, not the image's SQLite default.
        assert environment["RB_S3_BUCKET"], name
        assert environment["DATABASE_URL"].startswith("postgres://"), name
    # beat's schedule is disposable: kept in /tmp, it is rebuilt on start.
    assert "--schedule /tmp/" in services["beat"]["command"]


def test_secret_key_is_required_and_the_message_says_how_to_make_one():
    raw = yaml.safe_load(COMPOSE.read_text())["x-app"]["environment"]["SECRET_KEY"]
    match = _VARIABLE.fullmatch(raw)
    assert match is not None
    name, kind, message = match.groups()
    assert (name, kind) == ("SECRET_KEY", "?")
    assert "make env" in message
    for service in APP_SERVICES:
        assert _services()[service]["environment"]["SECRET_KEY"] == (
            "<SECRET_KEY required>"
        )
        key = _services({"SECRET_KEY": "from-dot-env"})[service]["environment"]
        assert key["SECRET_KEY"] == "from-dot-env"


def test_env_example_has_no_secret_and_env_is_kept_out_of_git_and_the_image():
    example = (ROOT / ".env.example").read_text()
    assert re.search(r"^SECRET_KEY=$", example, re.MULTILINE)
    assert "RB_ENCRYPTION_KEY" in example
    gitignore = (ROOT / ".gitignore").read_text().splitlines()
    dockerignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in gitignore
    assert ".env" in dockerignore
    assert ".env.example" not in gitignore


def _make_env(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "env"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ["PATH"], "HOME": str(folder)},
        timeout=30,
    )


def _secret_key(dot_env: Path) -> str:
    found = re.search(r"^SECRET_KEY=(.*)$", dot_env.read_text(), re.MULTILINE)
    assert found is not None
    return found.group(1)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_env_writes_a_random_key_once_and_never_overwrites_it(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        shutil.copy(ROOT / ".env.example", folder / ".env.example")
        made = _make_env(folder)
        assert made.returncode == 0, made.stderr
        assert "Created .env" in made.stdout

    key = _secret_key(first / ".env")
    assert len(key) >= 50
    assert key != _secret_key(second / ".env")
    assert (first / ".env").stat().st_mode & 0o077 == 0  # readable by its owner only
    # Everything else is the example as it was.
    assert (
        re.sub(
            r"^SECRET_KEY=.*$",
            "SECRET_KEY=",
            (first / ".env").read_text(),
            flags=re.MULTILINE,
        )
        == (ROOT / ".env.example").read_text()
    )

    # A second call, say from another terminal, keeps the key: a new one would
    # sign everyone out and make stored encrypted secrets unreadable.
    before = (first / ".env").read_text()
    again = _make_env(first)
    assert again.returncode == 0, again.stderr
    assert "leaving it unchanged" in again.stdout
    assert (first / ".env").read_text() == before


def test_the_settings_build_a_private_s3_store_from_the_compose_environment(
    monkeypatch,
):
    for name, value in _services()["worker"]["environment"].items():
        monkeypatch.setenv(name, str(value))

    configured = file_storage()
    storage = import_string(configured["BACKEND"])(**configured["OPTIONS"])

    assert storage.bucket_name == "rightbrain-files"
    assert storage.endpoint_url == "http://minio:9000"
    assert storage.default_acl == "private"
    assert storage.querystring_auth is False
    # MinIO has no wildcard DNS name for virtual-hosted buckets.
    assert storage.client_config.s3["addressing_style"] == "path"
