"""Files through a public share link: only the types a run can use, within the
link's storage quota, served so that a browser never runs them. A refusal
stores nothing and spends none of the link's uses."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from runs_app.models import RunFile
from sharing.models import ShareRun, TaskShare
from tests.sharing.conftest import GOOD

SANDBOX = "sandbox; default-src 'none'"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


def _api_run(client, short_id: str, files: list[tuple[str, bytes]]):
    return client.post(
        f"/api/v1/share/{short_id}/run",
        {
            "task_input": json.dumps({"review": "see file"}),
            "task_files": [SimpleUploadedFile(name, data) for name, data in files],
        },
    )


def _page_run(client, short_id: str, files: list[tuple[str, bytes]]):
    return client.post(
        f"/s/{short_id}/run",
        {
            "input_review": "see file",
            "task_files": [SimpleUploadedFile(name, data) for name, data in files],
        },
    )


def _state(share: TaskShare) -> tuple[int, int, int]:
    share.refresh_from_db()
    return (
        share.use_count,
        ShareRun.objects.filter(share=share).count(),
        RunFile.objects.count(),
    )


def test_a_links_files_fill_its_quota_exactly_and_not_a_byte_more(
    shared, client, fake_llm, settings
):
    settings.RB_SHARE_STORAGE_QUOTA_BYTES = 3_000
    share = shared.share(custom_short_id="quo1", allow_inputs=True)
    asked = len(fake_llm.requests)  # the example run's
    fake_llm.answer(GOOD).answer(GOOD)
    assert _api_run(client, "quo1", [("a.txt", b"a" * 2_000)]).status_code == 200
    past = _api_run(client, "quo1", [("b.txt", b"b" * 1_001)])
    assert past.status_code == 413
    assert "room for 1,000 more bytes" in past.json()["detail"][0]["msg"]
    exactly = _api_run(client, "quo1", [("b.txt", b"b" * 1_000)])
    assert exactly.status_code == 200
    before = _state(share)
    assert before == (2, 2, 2)

    full = _api_run(client, "quo1", [("c.txt", b"c")])
    assert full.status_code == 413
    assert "stored as many files as it may" in full.json()["detail"][0]["msg"]
    page = _page_run(client, "quo1", [("c.txt", b"c")])
    assert page.status_code == 413
    assert "stored as many files as it may" in page.text
    assert _state(share) == before
    assert len(fake_llm.requests) == asked + 2

    # A run that stores nothing still runs; another link has its own quota.
    fake_llm.answer(GOOD).answer(GOOD)
    assert _api_run(client, "quo1", []).status_code == 200
    shared.share(custom_short_id="quo2", allow_inputs=True)
    assert _api_run(client, "quo2", [("d.txt", b"d" * 3_000)]).status_code == 200


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("invoice.html", b"<!DOCTYPE html><script src='/app.js'></script>"),
        ("app.js", b"fetch('/projects/')"),
        ("notes.txt", b"<script>alert(1)</script>"),
    ],
)
def test_a_page_or_script_sent_to_a_link_is_a_415_and_spends_no_use(
    shared, client, fake_llm, name, data
):
    share = shared.share(custom_short_id="typ1", allow_inputs=True, max_uses=1)
    asked = len(fake_llm.requests)  # the example run's
    response = _api_run(client, "typ1", [(name, data)])
    assert response.status_code == 415
    assert name in response.json()["detail"][0]["msg"]
    page = _page_run(client, "typ1", [(name, data)])
    assert page.status_code == 415
    assert name in page.text
    assert _state(share) == (0, 0, 0)
    assert len(fake_llm.requests) == asked


def test_too_many_files_to_a_link_are_a_413_before_anything_is_stored(
    shared, client, fake_llm, settings
):
    settings.RB_MAX_FILES_PER_RUN = 2
    share = shared.share(custom_short_id="cnt1", allow_inputs=True, max_uses=1)
    files = [(f"n{n}.txt", b"note") for n in range(3)]
    assert _api_run(client, "cnt1", files).status_code == 413
    assert _page_run(client, "cnt1", files).status_code == 413
    assert _state(share) == (0, 0, 0)
    fake_llm.answer(GOOD)
    assert _api_run(client, "cnt1", files[:2]).status_code == 200
    assert _state(share) == (1, 1, 2)


def test_a_links_files_are_served_as_attachments_that_cannot_run(
    shared, client, fake_llm
):
    shared.share(custom_short_id="srv1", allow_inputs=True)
    fake_llm.answer(GOOD)
    run = _api_run(client, "srv1", [("notes.txt", b"Broken on arrival.")]).json()
    [file] = run["files"]
    response = client.get(file["download_url"])
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_with_a_files_origin_a_links_files_are_signed_urls_there(
    shared, client, fake_llm, settings
):
    settings.RB_FILES_ORIGIN = "https://files.example-usercontent.test"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "files.example-usercontent.test"]
    shared.share(custom_short_id="srv2", allow_inputs=True)
    fake_llm.answer(GOOD).answer(GOOD)
    run = _api_run(client, "srv2", [("notes.txt", b"Broken.")]).json()
    url = run["files"][0]["download_url"]
    assert url.startswith("https://files.example-usercontent.test/files/")
    page = _page_run(client, "srv2", [("notes.txt", b"Broken.")])
    assert 'href="https://files.example-usercontent.test/files/' in page.text
    stored = RunFile.objects.filter(task_run_id=run["id"]).get()
    app_path = f"/s/srv2/files/{run['id']}/{stored.stored_filename}"
    redirect = client.get(app_path)
    assert redirect.status_code == 302
    assert redirect["Location"].startswith(
        "https://files.example-usercontent.test/files/"
    )


def test_a_body_too_large_for_any_run_is_refused_before_it_is_read(
    shared, client, fake_llm, settings
):
    settings.RB_MAX_RUN_UPLOAD_BYTES = 2_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    share = shared.share(custom_short_id="bod1", allow_inputs=True, max_uses=1)
    response = _api_run(client, "bod1", [("a.txt", b"a" * 3_500)])
    assert response.status_code == 413
    assert response.json()["detail"][0]["msg"].startswith("The request body is ")
    assert _state(share) == (0, 0, 0)
