"""Which files a run keeps: only types it can use, read from the bytes, and no
more of them than the per-run limits allow. Everything else is refused with
the API's error envelope (or a form message) before anything is stored."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from runs_app.models import RunFile, TaskRun
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel
from tasks_app.services import RevisionSpec, task_create

pytestmark = pytest.mark.usefixtures("run_media")

GOOD = {"sentiment": "positive"}
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


def _zip(names: list[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return out.getvalue()


def _wav() -> bytes:
    return b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 28


REFUSED = {
    "invoice.html": (
        b"<!DOCTYPE html><script src='/x.js'></script>",
        "not a file type runs accept",
    ),
    "app.js": (b"fetch('/api/v1/')", "not a file type runs accept"),
    "logo.svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "not a file type runs accept",
    ),
    # Named as text, but a browser would take it for a page.
    "notes.txt": (b"  <html><body><script>alert(1)</script>", "looks like HTML"),
    "feed.txt": (b'<?xml version="1.0"?><x/>', "looks like HTML or XML"),
    # Named as an image, but a page.
    "photo.png": (b"<script>alert(1)</script>", "not a readable PNG file"),
    "tool.exe": (b"MZ\x90\x00\x03\x00\x00\x00", "not a file type runs accept"),
    "archive.zip": (_zip(["a.txt"]), "not a file type runs accept"),
    "binary": (b"\x00\x01\x02\x03 data", "not a file type runs accept"),
    # No processor takes audio, so no audio goes in.
    "speech.wav": (_wav(), "not a file type runs accept"),
}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


def _mpo() -> bytes:
    """A phone camera's photo: a JPEG with a second frame after the first."""
    out = io.BytesIO()
    first, second = Image.new("RGB", (8, 6), "red"), Image.new("RGB", (8, 6), "blue")
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def _as_json(client, task, files: list[tuple[str, bytes]]):
    return client.post(
        f"/task/{task['id']}/run",
        {
            "task_input": {"review": "see files"},
            "task_files": [
                {"filename": name, "content": base64.b64encode(data).decode()}
                for name, data in files
            ],
        },
    )


def _as_multipart(client, task, files: list[tuple[str, bytes]]):
    return client.client.post(
        client.url(f"/task/{task['id']}/run"),
        {
            "task_input": json.dumps({"review": "see files"}),
            "task_files": [SimpleUploadedFile(name, data) for name, data in files],
        },
    )


SENDERS = {"json": _as_json, "multipart": _as_multipart}


def _nothing_kept(run_media, fake_llm) -> None:
    assert not TaskRun.objects.exists()
    assert not RunFile.objects.exists()
    assert not [path for path in run_media.rglob("*") if path.is_file()]
    assert fake_llm.requests == []


@pytest.mark.parametrize("transport", list(SENDERS))
@pytest.mark.parametrize("filename", list(REFUSED))
def test_a_file_a_run_cannot_use_is_a_415_and_nothing_is_kept(
    run_task, fake_llm, run_media, transport, filename
):
    data, message = REFUSED[filename]
    client, task = run_task()
    response = SENDERS[transport](client, task, [("ok.png", _png()), (filename, data)])
    assert response.status_code == 415
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["detail"][0]["loc"] == ["body", "task_files"]
    assert filename in body["detail"][0]["msg"]
    assert message in body["detail"][0]["msg"]
    _nothing_kept(run_media, fake_llm)


@pytest.mark.parametrize(
    ("filename", "data", "content_type", "stored_as", "saved_as"),
    [
        ("report.html", PDF, "application/pdf", ".pdf", "report.html.pdf"),
        ("scan", PDF, "application/pdf", ".pdf", "scan.pdf"),
        ("orders.csv", b"id,total\n1,9.50\n", "text/csv", ".csv", "orders.csv"),
        ("README", b"Plain notes.\n", "text/plain", ".txt", "README.txt"),
        ("notes.md", b"# Notes\n<b>bold</b> later\n", "text/plain", ".txt", "notes.md"),
        (
            "policy.docx",
            _zip(["[Content_Types].xml", "word/document.xml"]),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ".docx",
            "policy.docx",
        ),
        ("photo.jpg", _png(), "image/png", ".png", "photo.jpg.png"),
        ("camera.jpg", _mpo(), "image/jpeg", ".jpeg", "camera.jpg"),
    ],
)
def test_a_kept_file_is_typed_and_named_by_its_bytes_not_its_name(
    run_task, fake_llm, filename, data, content_type, stored_as, saved_as
):
    client, task = run_task()
    fake_llm.answer(GOOD)
    response = _as_multipart(client, task, [(filename, data)])
    assert response.status_code == 200, response.json()
    [file] = response.json()["files"]
    assert file["content_type"] == content_type
    assert file["original_filename"] == filename
    assert file["stored_filename"].endswith(stored_as)
    assert RunFile.objects.get().storage_key.endswith(stored_as)
    download = client.client.get(file["download_url"])
    assert f'filename="{saved_as}"' in download["Content-Disposition"]


@pytest.mark.parametrize("transport", list(SENDERS))
def test_a_run_takes_exactly_as_many_files_as_the_limit(
    run_task, fake_llm, run_media, settings, transport
):
    settings.RB_MAX_FILES_PER_RUN = 3
    client, task = run_task()
    files = [(f"note-{n}.txt", b"fine") for n in range(4)]
    over = SENDERS[transport](client, task, files)
    assert over.status_code == 413
    assert over.json()["detail"][0]["msg"] == (
        "4 files were sent; a run takes at most 3."
    )
    _nothing_kept(run_media, fake_llm)
    fake_llm.answer(GOOD)
    at_limit = SENDERS[transport](client, task, files[:3])
    assert at_limit.status_code == 200
    assert RunFile.objects.count() == 3


@pytest.mark.parametrize("transport", list(SENDERS))
def test_a_runs_files_add_up_to_at_most_the_upload_limit(
    run_task, fake_llm, run_media, settings, transport
):
    settings.RB_MAX_RUN_UPLOAD_BYTES = 3_000
    client, task = run_task()
    over = SENDERS[transport](
        client, task, [("a.txt", b"a" * 1_500), ("b.txt", b"b" * 1_501)]
    )
    assert over.status_code == 413
    assert "add up to 3,001 bytes" in over.json()["detail"][0]["msg"]
    assert "at most 3,000 bytes" in over.json()["detail"][0]["msg"]
    _nothing_kept(run_media, fake_llm)
    fake_llm.answer(GOOD)
    at_limit = SENDERS[transport](
        client, task, [("a.txt", b"a" * 1_500), ("b.txt", b"b" * 1_500)]
    )
    assert at_limit.status_code == 200
    assert sum(RunFile.objects.values_list("size_bytes", flat=True)) == 3_000


def test_the_limits_hold_the_reported_flood_to_a_413(
    run_task, fake_llm, run_media, settings
):
    """Ten files of 19 MB each (the defaults allow 20 MB a file) were all kept."""
    assert settings.RB_MAX_FILE_BYTES == 20_000_000
    assert settings.RB_MAX_RUN_UPLOAD_BYTES == 30_000_000
    client, task = run_task()
    chunk = b"x" * 19_000_000
    response = _as_multipart(client, task, [(f"f{n}.txt", chunk) for n in range(2)])
    assert response.status_code == 413
    _nothing_kept(run_media, fake_llm)


def test_a_dashboard_run_with_a_page_for_a_document_shows_why_and_keeps_nothing(
    personas, as_user, run_media
):
    catalogue_sync()
    demo = LLMModel.objects.get(name="rightbrain-demo")
    task = task_create(
        project=personas.project,
        user=personas.owner,
        name="Reader",
        revision=RevisionSpec(
            user_prompt="Read {doc}",
            llm_model_id=demo.pk,
            input_processors=[
                {"param_name": "doc", "input_processor": "document_content_extractor"}
            ],
        ),
    )
    page = as_user("editor").post(
        reverse("task_run", args=[personas.project.pk, task.pk]),
        {"file_doc": SimpleUploadedFile("doc.html", b"<html><script>x</script>")},
    )
    assert "doc.html is not a file type runs accept" in page.text
    assert not TaskRun.objects.exists()
    assert not RunFile.objects.exists()


def test_a_multipart_body_too_large_for_any_run_is_refused_before_it_is_read(
    run_task, fake_llm, run_media, settings
):
    settings.RB_MAX_RUN_UPLOAD_BYTES = 2_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    client, task = run_task()
    response = _as_multipart(client, task, [("a.txt", b"a" * 3_500)])
    assert response.status_code == 413
    assert response.json()["detail"][0]["msg"].startswith("The request body is ")
    _nothing_kept(run_media, fake_llm)
