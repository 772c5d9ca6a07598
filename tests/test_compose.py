"""compose.yaml wires every process to one private run-file store.

Docker is not available to the test suite, so this reads the file as compose
does (YAML with merge keys, `${VAR:-default}` substitution) and checks the
wiring: MinIO keeps its data in a named volume, the one-shot migration
prepares the bucket before anything starts, and web, worker and beat get the
same store with the credentials MinIO was started with. The app's settings
are then built from that environment.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.utils.module_loading import import_string

from rightbrain.settings import file_storage

COMPOSE = Path(__file__).resolve().parent.parent / "compose.yaml"
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
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, (
            name
        )
        assert depends["minio"] == {"condition": "service_healthy"}, name


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
