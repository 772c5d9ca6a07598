"""Requests per minute per credential and per project (rightbrain/orgs/limits.py),
counted by the window limiter (rightbrain/limits.py) in the cache."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
from django.core.cache import cache

from rightbrain.limits import window_refusal
from rightbrain.orgs.services import api_key_create
from tests.helpers import ApiClient, need_service, room_in_this_minute
from tests.orgs.oauth_helpers import client_credentials, make_client


@pytest.fixture(autouse=True)
def _one_window():
    room_in_this_minute()


@pytest.fixture
def limits(settings):
    """Small limits, so a test reaches them in a few requests."""
    settings.RB_API_REQUESTS_PER_MINUTE = 3
    settings.RB_PROJECT_REQUESTS_PER_MINUTE = 100
    return settings


def _key(personas, project_base, name="script") -> ApiClient:
    _key, secret = api_key_create(
        project=personas.project, user=personas.editor, name=name
    )
    return ApiClient(secret, project_base)


def _assert_rate_limited(response, says: str) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    body = response.json()
    assert body["type"] == "authorization_error"
    assert body["msg"] == "Rate limited"
    assert says in body["detail"]
    assert f"try again in {response['Retry-After']} seconds" in body["detail"]


def test_a_key_makes_exactly_its_requests_per_minute_then_gets_429(
    limits, personas, project_base
):
    key = _key(personas, project_base)
    for _ in range(3):
        assert key.get("/task").status_code == 200
    _assert_rate_limited(key.get("/task"), "This API key may make 3 requests a minute")


def test_two_keys_are_counted_apart(limits, personas, project_base):
    first, second = _key(personas, project_base), _key(personas, project_base)
    for _ in range(3):
        assert first.get("/task").status_code == 200
    assert first.get("/task").status_code == 429
    assert second.get("/task").status_code == 200


def test_the_project_limit_spans_its_keys(settings, personas, project_base):
    settings.RB_API_REQUESTS_PER_MINUTE = 100
    settings.RB_PROJECT_REQUESTS_PER_MINUTE = 4
    first, second = _key(personas, project_base), _key(personas, project_base)
    for client in (first, second, first, second):
        assert client.get("/task").status_code == 200
    _assert_rate_limited(
        second.get("/task"), "This project may make 4 requests a minute"
    )
    # Another project's keys have their own count.
    _other, secret = api_key_create(
        project=personas.other_project, user=personas.outsider, name="theirs"
    )
    other_base = (
        f"/api/v1/org/{personas.other_organization.pk}"
        f"/project/{personas.other_project.pk}"
    )
    assert ApiClient(secret, other_base).get("/task").status_code == 200


def test_a_key_refused_by_its_own_limit_does_not_use_up_the_project(
    limits, personas, project_base
):
    limits.RB_PROJECT_REQUESTS_PER_MINUTE = 5
    busy, quiet = _key(personas, project_base), _key(personas, project_base)
    for _ in range(10):
        busy.get("/task")
    # busy used 3 of the project's 5; its 7 refused requests did not count.
    assert quiet.get("/task").status_code == 200
    assert quiet.get("/task").status_code == 200
    assert quiet.get("/task").status_code == 429


def test_a_keys_and_a_projects_own_limits_override_the_settings(
    limits, personas, project_base
):
    _api_key, secret = api_key_create(
        project=personas.project, user=personas.editor, name="generous"
    )
    _api_key.requests_per_minute = 5
    _api_key.save()
    generous = ApiClient(secret, project_base)
    for _ in range(5):
        assert generous.get("/task").status_code == 200
    assert generous.get("/task").status_code == 429

    # The project has had 5 requests counted (the refused sixth was not).
    personas.project.requests_per_minute = 6
    personas.project.save()
    other = _key(personas, project_base)
    assert other.get("/task").status_code == 200
    _assert_rate_limited(other.get("/task"), "This project may make 6 requests")


def test_a_limit_of_zero_means_no_limit(settings, personas, project_base):
    settings.RB_API_REQUESTS_PER_MINUTE = 0
    settings.RB_PROJECT_REQUESTS_PER_MINUTE = 0
    key = _key(personas, project_base)
    assert all(key.get("/task").status_code == 200 for _ in range(20))


def test_an_oauth_clients_tokens_share_one_count(limits, personas, project_base):
    client, secret = make_client(
        personas.project, personas.editor, client_type="project"
    )
    first = ApiClient(client_credentials(client, secret), project_base)
    second = ApiClient(client_credentials(client, secret), project_base)
    for api in (first, second, first):
        assert api.get("/task").status_code == 200
    # A fresh token from the same client does not start a fresh count.
    _assert_rate_limited(second.get("/task"), "This OAuth client may make 3")


def test_unknown_tokens_are_401_not_429(limits, project_base):
    stranger = ApiClient("rbk_" + "x" * 40, project_base)
    assert all(stranger.get("/task").status_code == 401 for _ in range(5))


def test_the_openapi_document_lists_429_on_authenticated_endpoints(client):
    document = client.get("/api/openapi.json").json()
    listing = document["paths"]["/api/v1/org/{org_id}/project/{project_id}/task"]
    assert "429" in listing["get"]["responses"]


# The window limiter itself --------------------------------------------------------


def test_a_window_admits_exactly_its_limit_and_opens_again_when_it_ends():
    name = f"test:{uuid.uuid4()}"
    # Start just after a window begins, so all three attempts share it.
    time.sleep(1 - time.time() % 1 + 0.01)
    assert window_refusal(name, limit=2, window_seconds=1) is None
    assert window_refusal(name, limit=2, window_seconds=1) is None
    assert window_refusal(name, limit=2, window_seconds=1) == 1
    time.sleep(1 - time.time() % 1 + 0.01)
    assert window_refusal(name, limit=2, window_seconds=1) is None


@pytest.fixture
def redis_cache(settings):
    """The real Redis as the cache, as in production, instead of the per-test
    memory cache tests/conftest.py installs."""
    url = os.environ.get("REDIS_URL")
    need_service(bool(url), "REDIS_URL is not set")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
        }
    }
    return cache


def test_with_redis_the_limit_holds_across_clients_and_threads(
    redis_cache, limits, personas, project_base
):
    # Through the API: exactly the limit, then 429.
    key = _key(personas, project_base)
    for _ in range(3):
        assert key.get("/task").status_code == 200
    assert key.get("/task").status_code == 429

    # Concurrent attempts, each thread with its own Redis connection: the
    # counter is atomic, so exactly the limit gets through.
    name = f"test:{uuid.uuid4()}"
    admitted = []
    start = threading.Barrier(20)

    def attempt():
        start.wait()
        admitted.append(window_refusal(name, limit=7) is None)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 7


def test_an_unreachable_cache_lets_requests_through_and_logs(
    settings, limits, personas, project_base, caplog
):
    # Nothing listens on port 1: every cache call fails to connect.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    key = _key(personas, project_base)
    assert all(key.get("/task").status_code == 200 for _ in range(5))
    assert "the cache is unreachable" in caplog.text
