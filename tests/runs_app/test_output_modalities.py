"""Checklist item 44: what a run returns for each output modality.

The fake provider serves chat, image generation and speech; the demo model
answers every modality offline.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from runs_app.models import RunFile, TaskRun
from tasks_app.llm import CSV_INSTRUCTION
from tasks_app.models import LLMModel
from tests.fake_llm import FAKE_AUDIO, tiny_png


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


def _served_model(fake_llm, name: str, **flags) -> LLMModel:
    return LLMModel.objects.create(
        provider="Local",
        vendor="Local",
        name=name,
        alias=name.title(),
        litellm_model=f"openai/{name}",
        api_base=fake_llm.base_url,
        model_params={"size": {"type": "string"}, "voice": {"type": "string"}},
        input_price_per_mtok=Decimal("5"),
        output_price_per_mtok=Decimal("40"),
        **flags,
    )


@pytest.fixture
def painter(db, fake_llm) -> LLMModel:
    return _served_model(fake_llm, "painter", supports_image_output=True)


@pytest.fixture
def speaker(db, fake_llm) -> LLMModel:
    return _served_model(fake_llm, "speaker", supports_audio_output=True)


def _run(client, task, text="a quiet lake at dawn"):
    return client.post(f"/task/{task['id']}/run", {"task_input": {"review": text}})


def _download(client, file) -> tuple[bytes, str]:
    response = client.client.get(file["download_url"])
    assert response.status_code == 200
    return b"".join(response.streaming_content), response["Content-Type"]


def test_a_text_task_returns_the_reply_as_a_string(run_task, fake_llm):
    client, task = run_task(output_modality="text")
    fake_llm.answer("A calm, hopeful review.")

    run = _run(client, task).json()

    assert run["response"] == "A calm, hopeful review."
    assert run["files"] == []
    assert "response_format" not in fake_llm.requests[0]


def test_a_csv_task_returns_the_table_and_a_text_csv_file(run_task, fake_llm):
    client, task = run_task(output_modality="csv")
    fake_llm.answer('```csv\nname,score\n"Lake, dawn",4\n```')

    run = _run(client, task).json()

    assert run["response"] == 'name,score\n"Lake, dawn",4\n'
    [file] = run["files"]
    assert file["content_type"] == "text/csv"
    assert file["stored_filename"].endswith(".csv")
    assert _download(client, file) == (run["response"].encode(), "text/csv")
    assert CSV_INSTRUCTION in fake_llm.requests[0]["messages"][0]["content"]
    assert RunFile.objects.get().direction == RunFile.Direction.OUTPUT


def test_a_csv_file_writes_cells_that_look_like_formulas_as_text(run_task, fake_llm):
    client, task = run_task(output_modality="csv")
    fake_llm.answer('name,link\nLake,"=HYPERLINK(""http://evil.example"",""x"")"\n')

    run = _run(client, task).json()

    [file] = run["files"]
    assert _download(client, file) == (
        b'name,link\nLake,"\'=HYPERLINK(""http://evil.example"",""x"")"\n',
        "text/csv",
    )


def test_a_csv_reply_that_is_not_a_table_is_retried_then_an_error_run(
    run_task, fake_llm
):
    client, task = run_task(output_modality="csv")
    for _ in range(4):
        fake_llm.answer("Here is your table:\n\nname,score\nLake,4")

    response = _run(client, task)

    assert response.status_code == 500
    run = TaskRun.objects.get()
    assert run.is_error
    assert "not a CSV table" in run.response["error"]
    assert run.llm_retries == 3
    assert not RunFile.objects.exists()


def test_a_pdf_task_stores_a_pdf_that_the_response_names(run_task, fake_llm):
    client, task = run_task(output_modality="pdf")
    fake_llm.answer("# Lake report\n\n- calm\n- **hopeful** “quoted” naïve\n")

    run = _run(client, task).json()

    [file] = run["files"]
    assert run["response"] == {"files": [file["stored_filename"]]}
    data, content_type = _download(client, file)
    assert content_type == "application/pdf"
    assert data.startswith(b"%PDF")
    assert file["size_bytes"] == len(data)


def test_an_image_task_returns_response_files_and_the_image(
    run_task, painter, fake_llm
):
    client, task = run_task(
        output_modality="image",
        llm_model_id=str(painter.pk),
        llm_config={"size": "1024x1024"},
    )
    png = tiny_png()
    fake_llm.image(png, prompt_tokens=20, completion_tokens=1000)

    run = _run(client, task).json()

    [file] = run["files"]
    assert run["response"] == {"files": [file["stored_filename"]]}
    assert file["content_type"] == "image/png"
    assert _download(client, file) == (png, "image/png")
    request = fake_llm.requests[0]
    assert request["_path"].endswith("/images/generations")
    assert request["prompt"] == "Classify.\n\nReview: a quiet lake at dawn"
    assert request["size"] == "1024x1024"
    assert (run["input_tokens"], run["output_tokens"]) == (20, 1000)
    # The image is part of the run, fetched later too.
    fetched = client.get(f"/task/{task['id']}/run/{run['id']}").json()
    assert fetched["files"] == run["files"]


def test_an_image_in_another_format_is_stored_as_png(run_task, painter, fake_llm):
    client, task = run_task(output_modality="image", llm_model_id=str(painter.pk))
    webp = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 90, 200)).save(webp, "WEBP")
    fake_llm.image(webp.getvalue())

    run = _run(client, task).json()

    data, content_type = _download(client, run["files"][0])
    assert content_type == "image/png"
    assert Image.open(io.BytesIO(data)).format == "PNG"


def test_an_audio_task_stores_the_speech_of_the_prompt(run_task, speaker, fake_llm):
    client, task = run_task(
        output_modality="audio",
        llm_model_id=str(speaker.pk),
        llm_config={"voice": "nova"},
    )
    fake_llm.speech(FAKE_AUDIO)

    run = _run(client, task).json()

    [file] = run["files"]
    assert run["response"] == {"files": [file["stored_filename"]]}
    assert _download(client, file) == (FAKE_AUDIO, "audio/mpeg")
    request = fake_llm.requests[0]
    assert request["_path"].endswith("/audio/speech")
    assert request["input"] == "Review: a quiet lake at dawn"
    assert request["voice"] == "nova"


def test_a_model_that_cannot_make_the_modality_is_refused_and_nothing_is_written(
    run_task, painter, served, fake_llm
):
    client, audio_task = run_task(output_modality="audio")
    _client, image_task = run_task(
        output_modality="image", llm_model_id=str(painter.pk)
    )
    # An operator later finds the model cannot make images after all.
    LLMModel.objects.filter(pk=painter.pk).update(supports_image_output=False)

    for task, what in ((audio_task, "audio"), (image_task, "images")):
        response = _run(client, task)
        assert response.status_code == 422
        assert f"cannot produce {what}" in response.json()["detail"][0]["msg"]

    assert fake_llm.requests == []
    assert not TaskRun.objects.exists()
    assert not RunFile.objects.exists()


def test_a_failed_image_generation_is_recorded_as_an_error_run(
    run_task, painter, fake_llm, tmp_path
):
    client, task = run_task(output_modality="image", llm_model_id=str(painter.pk))
    for _ in range(4):
        fake_llm.fail(500, "the painter is out of paint")

    response = _run(client, task)

    assert response.status_code == 500
    run = TaskRun.objects.get()
    assert run.is_error
    assert "out of paint" in run.response["error"]
    assert run.llm_retries == 3
    # One request per attempt: the OpenAI SDK does not retry behind our back.
    assert len(fake_llm.requests) == 4
    assert not RunFile.objects.exists()
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_an_image_task_falls_back_to_its_backup_image_model(
    run_task, painter, fake_llm
):
    backup = _served_model(fake_llm, "backup-painter", supports_image_output=True)
    client, task = run_task(
        output_modality="image",
        llm_model_id=str(painter.pk),
        fallback_llm_model_id=str(backup.pk),
    )
    for _ in range(4):
        fake_llm.fail(503)
    fake_llm.image()

    run = _run(client, task).json()

    assert run["used_fallback_model"] is True
    assert run["fallback_llm_model_id"] == str(backup.pk)
    assert [r["model"] for r in fake_llm.requests] == ["painter"] * 4 + [
        "backup-painter"
    ]
    assert run["files"][0]["content_type"] == "image/png"


@pytest.mark.parametrize(
    ("modality", "content_type", "magic"),
    [
        ("csv", "text/csv", b"word,letters,note"),
        ("pdf", "application/pdf", b"%PDF"),
        ("image", "image/png", b"\x89PNG"),
        ("audio", "audio/wav", b"RIFF"),
    ],
)
def test_the_demo_model_answers_every_file_modality_offline(
    run_task, fake_llm, modality, content_type, magic
):
    demo = LLMModel.objects.get(name="rightbrain-demo")
    client, task = run_task(output_modality=modality, llm_model_id=str(demo.pk))

    first = _run(client, task).json()
    second = _run(client, task).json()

    [file] = first["files"]
    assert file["content_type"] == content_type
    data, _type = _download(client, file)
    assert data.startswith(magic)
    assert first["charged_credits"] == "0.00"
    assert fake_llm.requests == []
    if modality != "pdf":  # a PDF records when it was made
        assert _download(client, second["files"][0])[0] == data
    if modality == "csv":
        assert first["response"] == data.decode()
    else:
        assert first["response"] == {"files": [file["stored_filename"]]}


def test_generated_files_go_with_their_task(
    run_task, painter, fake_llm, django_capture_on_commit_callbacks
):
    client, task = run_task(output_modality="image", llm_model_id=str(painter.pk))
    fake_llm.image()
    _run(client, task)
    key = RunFile.objects.get().storage_key
    assert default_storage.exists(key)

    with django_capture_on_commit_callbacks(execute=True):
        client.delete(f"/task/{task['id']}")

    assert not default_storage.exists(key)


def test_speech_that_is_no_audio_format_is_retried_and_never_stored(
    run_task, speaker, fake_llm, settings
):
    """A provider's "audio" that is a page (or raw PCM, which has no format a
    browser or player can tell) is an unusable answer, like invalid JSON."""
    settings.RB_LLM_ATTEMPTS = 2
    client, task = run_task(output_modality="audio", llm_model_id=str(speaker.pk))
    fake_llm.speech(b"<html><script>alert(1)</script></html>")
    fake_llm.speech(b"\x00\x01" * 400)

    response = _run(client, task)

    assert response.status_code == 500
    assert "not a file type a run may produce" in response.json()["detail"]
    assert len(fake_llm.requests) == 2
    assert TaskRun.objects.get().is_error
    assert not RunFile.objects.exists()
