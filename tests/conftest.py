"""Shared fixtures: personas and access to the real services."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone

from rightbrain.celery import app as celery_app
from rightbrain.orgs.models import Membership, Organization, Project, User
from rightbrain.orgs.permissions import Role
from rightbrain.orgs.services import api_key_create, organization_create
from tasks_app.models import LLMModel
from tests.helpers import ApiClient, make_user, need_service


@dataclass
class Personas:
    organization: Organization
    project: Project
    owner: User
    admin: User
    editor: User
    viewer: User
    outsider: User
    other_organization: Organization
    other_project: Project

    def membership(self, user: User) -> Membership:
        return Membership.objects.get(organization=self.organization, user=user)

    def client_for(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


@pytest.fixture
def personas(db) -> Personas:
    owner = make_user("owner@acme.test", "Olivia Owner")
    organization = organization_create(name="Acme", owner=owner)
    users = {"owner": owner}
    for role in (Role.ADMIN, Role.EDITOR, Role.VIEWER):
        user = make_user(f"{role}@acme.test", f"{role.label} Person")
        Membership.objects.create(organization=organization, user=user, role=role)
        users[role] = user
    outsider = make_user("outsider@elsewhere.test", "Oscar Outsider")
    other = organization_create(name="Elsewhere", owner=outsider)
    return Personas(
        organization=organization,
        project=organization.projects.get(),
        owner=owner,
        admin=users[Role.ADMIN],
        editor=users[Role.EDITOR],
        viewer=users[Role.VIEWER],
        outsider=outsider,
        other_organization=other,
        other_project=other.projects.get(),
    )


@pytest.fixture
def as_user(personas):
    """`as_user("viewer")` → a logged-in test client for that persona."""

    def client(name: str) -> Client:
        return personas.client_for(getattr(personas, name))

    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher is deliberately slow; tests hash hundreds of passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def project_base(personas) -> str:
    return f"/api/v1/org/{personas.organization.pk}/project/{personas.project.pk}"


@pytest.fixture
def api(personas, project_base):
    """`api("editor")` → an ApiClient holding that persona's API key; `api(None)`
    sends no credentials."""

    def make(persona: str | None, base: str | None = None) -> ApiClient:
        if persona is None:
            return ApiClient(None, base or project_base)
        user = getattr(personas, persona)
        project = personas.other_project if persona == "outsider" else personas.project
        _key, secret = api_key_create(project=project, user=user, name="tests")
        return ApiClient(secret, base or project_base)

    return make


@pytest.fixture(autouse=True)
def _private_cache(settings, request):
    # Each test gets an empty in-process cache, so rate limits and cooldowns
    # (allauth's, ours) never leak between tests or between runs that share a
    # Redis server. Tests of Redis itself talk to it directly.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


@pytest.fixture(scope="session")
def _fake_llm_server():
    from tests.fake_llm import start_fake_llm

    fake, server = start_fake_llm()
    yield fake
    server.shutdown()


@pytest.fixture
def fake_llm(_fake_llm_server):
    """The local OpenAI-compatible server, emptied for this test."""
    _fake_llm_server.reset()
    return _fake_llm_server


@pytest.fixture(scope="session")
def _fake_web_server():
    from tests.fake_web import start_fake_web

    fake, server = start_fake_web()
    yield fake
    server.shutdown()


@pytest.fixture
def fake_web(_fake_web_server, settings):
    """The local stand-in for outside websites and the search API, emptied for
    this test; outbound requests may reach it (it listens on loopback)."""
    settings.RB_ALLOW_PRIVATE_URLS = True
    settings.RB_SEARCH_API_BASE = _fake_web_server.base_url
    _fake_web_server.reset()
    return _fake_web_server


TEXT_PARAMS = {
    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "max_tokens": {"type": "integer", "minimum": 1},
}


@dataclass
class Models:
    vision: LLMModel
    plain: LLMModel
    retired: LLMModel
    image: LLMModel


def _model(name: str, **fields) -> LLMModel:
    defaults = {
        "provider": "Test",
        "vendor": "Test",
        "alias": name.title(),
        "litellm_model": f"openai/{name}",
        "model_params": TEXT_PARAMS,
        "max_context_window": 128000,
    }
    return LLMModel.objects.create(name=name, **{**defaults, **fields})


@pytest.fixture
def llm(db) -> Models:
    vision = _model("vision-model", supports_vision=True)
    return Models(
        vision=vision,
        plain=_model("plain-model"),
        retired=_model("old-model", retired=timezone.now(), replaced_by=vision),
        image=_model(
            "image-model",
            supports_image_output=True,
            model_params={"quality": {"enum": ["standard", "hd"]}},
        ),
    )


@pytest.fixture
def new_task(llm):
    """A create body with only the required fields, overridable."""

    def body(**overrides):
        return {
            "name": "Review checker",
            "enabled": True,
            "system_prompt": "You are careful.",
            "user_prompt": "Review {review}",
            "llm_model_id": str(llm.vision.pk),
            **overrides,
        }

    return body


@pytest.fixture(autouse=True)
def _celery_in_process():
    # Tasks run in the calling process, as in the embedded set-up, even when
    # REDIS_URL names a broker (CI): no worker consumes it during tests. Tests
    # of queueing use `broker` (an in-memory transport, their own worker).
    conf = celery_app.conf
    saved = conf.task_always_eager
    conf.task_always_eager = True
    yield
    conf.task_always_eager = saved


@pytest.fixture
def broker():
    """`broker("memory://")` points Celery at another broker for one test,
    then puts it back."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager, conf.broker_transport_options

    def use(url: str) -> None:
        conf.broker_url = url
        conf.task_always_eager = False
        conf.broker_transport_options = {"max_retries": 1}
        _forget_connections()

    yield use
    conf.broker_url, conf.task_always_eager, conf.broker_transport_options = saved
    _forget_connections()


def _forget_connections() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


# Browser tests: Debian's chromium driven by Playwright ------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser(monkeypatch):
    """A chromium browser for one test (skipped with the reason when absent)."""
    need_service(
        os.path.exists(CHROMIUM), f"Debian's chromium is not installed at {CHROMIUM}"
    )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own
    # database reads are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def fake_dns(monkeypatch):
    """Scripted DNS answers for chosen names (tests/fake_dns.py)."""
    import socket

    from tests.fake_dns import FakeDNS

    fake = FakeDNS(real_getaddrinfo=socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


# Run files in an S3-compatible bucket -----------------------------------------


@pytest.fixture(scope="session")
def _s3_server():
    from tests.fake_s3 import start_s3_server

    server, endpoint_url = start_s3_server()
    yield endpoint_url
    server.stop()


@pytest.fixture
def s3_env(_s3_server, monkeypatch):
    """The RB_S3_* variables of a deployment, naming a fresh bucket on the
    local S3 server (not created yet); returns the bucket's outside view."""
    from tests.fake_s3 import ACCESS_KEY, REGION, SECRET_KEY, Bucket, s3_client

    name = f"rb-test-{uuid.uuid4().hex[:16]}"
    variables = {
        "RB_S3_BUCKET": name,
        "RB_S3_ENDPOINT_URL": _s3_server,
        "RB_S3_REGION": REGION,
        "RB_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "RB_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "RB_S3_PREFIX": "rightbrain",
        # boto3 never looks for an instance role off this machine.
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    return Bucket(_s3_server, name, "rightbrain", s3_client(_s3_server))


@pytest.fixture
def s3_bucket(s3_env, settings, tmp_path):
    """Run files stored in an existing bucket on the local S3 server, with the
    storage built from the environment as the settings build it. MEDIA_ROOT
    points at an empty folder, so a test can show nothing lands on disk."""
    from rightbrain.settings import file_storage

    s3_env.client.create_bucket(Bucket=s3_env.name)
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": file_storage()}
    return s3_env
