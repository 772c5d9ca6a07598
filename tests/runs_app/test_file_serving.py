"""How run files are served: always with headers that keep a browser from
running them, and, with RB_FILES_ORIGIN, only from that origin by signed,
expiring URLs."""

from __future__ import annotations

import io
import json
import time
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from runs_app.models import RunFile, TaskRun

pytestmark = pytest.mark.usefixtures("run_media")

GOOD = {"sentiment": "positive"}
FILES_HOST = "files.example-usercontent.test"
FILES_ORIGIN = f"https://{FILES_HOST}"
SANDBOX = "sandbox; default-src 'none'"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


def _run_with(client, task, files: list[tuple[str, bytes]]) -> dict:
    response = client.client.post(
        client.url(f"/task/{task['id']}/run"),
        {
            "task_input": json.dumps({"review": "see files"}),
            "task_files": [SimpleUploadedFile(name, data) for name, data in files],
        },
    )
    assert response.status_code == 200, response.json()
    return {file["original_filename"]: file for file in response.json()["files"]}


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _assert_safe(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX


def test_images_are_shown_inline_and_everything_else_is_an_attachment(
    run_task, fake_llm
):
    client, task = run_task()
    fake_llm.answer(GOOD)
    png = _png()
    files = _run_with(client, task, [("photo.png", png), ("notes.txt", b"Broken.")])

    image = client.client.get(files["photo.png"]["download_url"])
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"] == 'inline; filename="photo.png"'
    assert _body(image) == png
    _assert_safe(image)

    text = client.client.get(files["notes.txt"]["download_url"])
    assert text["Content-Type"] == "text/plain"
    assert text["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert _body(text) == b"Broken."
    _assert_safe(text)


def _planted(run: TaskRun, name: str, data: bytes, content_type: str) -> RunFile:
    """A file stored the way uploads were before their bytes were read: typed
    by the name it was sent with."""
    key = default_storage.save(f"runs/{run.task_id}/old-{name}", ContentFile(data))
    return RunFile.objects.create(
        task_run=run,
        direction=RunFile.Direction.INPUT,
        original_filename=name,
        stored_filename=f"old-{name}",
        content_type=content_type,
        size_bytes=len(data),
        storage_key=key,
    )


@pytest.mark.parametrize(
    ("name", "stored_type", "served_type"),
    [
        ("page.html", "text/html", "application/octet-stream"),
        ("app.js", "text/javascript", "application/octet-stream"),
        ("logo.svg", "image/svg+xml", "application/octet-stream"),
        # Stored as an image, but the bytes are a page: not shown inline.
        ("photo.png", "image/png", "image/png"),
    ],
)
def test_a_hostile_file_stored_before_types_were_read_is_only_ever_downloaded(
    run_task, fake_llm, project_base, name, stored_type, served_type
):
    client, task = run_task()
    fake_llm.answer(GOOD)
    _run_with(client, task, [("photo.png", _png())])
    run = TaskRun.objects.get()
    file = _planted(run, name, b"<html><script>alert(1)</script>", stored_type)
    response = client.client.get(
        client.url(f"/task/{task['id']}/run/{run.pk}/file/{file.stored_filename}")
    )
    assert response.status_code == 200
    assert response["Content-Type"] == served_type
    assert response["Content-Disposition"].startswith("attachment;")
    _assert_safe(response)


@pytest.fixture
def files_origin(settings):
    settings.RB_FILES_ORIGIN = FILES_ORIGIN
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, FILES_HOST]
    settings.RB_FILES_URL_MAX_AGE = 900


def _on_files_host(client, url: str):
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == FILES_ORIGIN
    return client.get(parts.path, HTTP_HOST=FILES_HOST, secure=True)


def test_with_a_files_origin_links_are_signed_urls_there_and_serve_only_there(
    run_task, fake_llm, files_origin
):
    client, task = run_task()
    fake_llm.answer(GOOD)
    png = _png()
    file = _run_with(client, task, [("photo.png", png)])["photo.png"]
    url = file["download_url"]
    assert url.startswith(f"{FILES_ORIGIN}/files/")
    assert url.endswith("/photo.png")

    # Anyone with the link, no credential needed, on the files origin only.
    anonymous = Client()
    served = _on_files_host(anonymous, url)
    assert served.status_code == 200
    assert _body(served) == png
    _assert_safe(served)
    assert anonymous.get(urlsplit(url).path).status_code == 404

    # The app's own address checks access, then sends the caller there.
    run = TaskRun.objects.get()
    stored = RunFile.objects.get()
    app_path = f"/task/{task['id']}/run/{run.pk}/file/{stored.stored_filename}"
    redirect = client.client.get(client.url(app_path))
    assert redirect.status_code == 302
    assert redirect["Location"].startswith(f"{FILES_ORIGIN}/files/")
    assert not hasattr(redirect, "streaming_content")
    assert _body(_on_files_host(anonymous, redirect["Location"])) == png


def test_the_files_origin_serves_nothing_of_the_app(client, files_origin):
    for path in ("/", "/accounts/login/", "/api/openapi.json", "/s/abc"):
        response = client.get(path, HTTP_HOST=FILES_HOST, secure=True)
        assert response.status_code == 404, path


def test_a_signed_url_stops_working_once_it_expires(
    run_task, fake_llm, files_origin, settings
):
    settings.RB_FILES_URL_MAX_AGE = 1
    client, task = run_task()
    fake_llm.answer(GOOD)
    url = _run_with(client, task, [("notes.txt", b"Soon gone.")])["notes.txt"][
        "download_url"
    ]
    assert _on_files_host(client.client, url).status_code == 200
    time.sleep(2.1)
    expired = _on_files_host(client.client, url)
    assert expired.status_code == 403
    assert b"expired" in expired.content
    _assert_safe(expired)


def test_a_signed_url_names_one_file_and_cannot_be_altered(
    run_task, fake_llm, files_origin
):
    client, task = run_task()
    fake_llm.answer(GOOD)
    files = _run_with(client, task, [("a.txt", b"first"), ("b.txt", b"second")])
    a_url, b_url = files["a.txt"]["download_url"], files["b.txt"]["download_url"]
    a_token = urlsplit(a_url).path.split("/")[2]
    # The name in the address is only what the browser saves it as.
    renamed = a_url.rsplit("/", 1)[0] + "/b.txt"
    assert _body(_on_files_host(client.client, renamed)) == b"first"
    altered = a_token[:-1] + ("x" if a_token[-1] != "x" else "y")
    forged = b_url.replace(urlsplit(b_url).path.split("/")[2], altered)
    assert _on_files_host(client.client, forged).status_code == 403
    RunFile.objects.filter(original_filename="a.txt").delete()
    assert _on_files_host(client.client, a_url).status_code == 404
