"""Runs from share links under abuse: missing inputs, huge files, floods from
one address, and many visitors racing for the last use. Each is refused with
a clear message and leaves nothing half-written."""

from __future__ import annotations

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from rightbrain.errors import Forbidden
from runs_app.models import RunFile, TaskRun
from sharing.models import ShareRun, TaskShare
from sharing.services import share_run_execute, share_use_take
from tasks_app.services import task_update
from tests.helpers import need_service
from tests.sharing.conftest import GOOD

FIFTY_MB = 50 * 1024 * 1024


@pytest.fixture
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


def _run_url(short_id: str) -> str:
    return f"/api/v1/share/{short_id}/run"


def _nothing_written(shared, share: TaskShare, runs_before: int) -> None:
    assert TaskRun.objects.filter(task=shared.task).count() == runs_before
    assert not ShareRun.objects.exists()
    share.refresh_from_db()
    assert share.use_count == 0


def test_a_run_with_missing_inputs_is_refused_and_spends_no_use(shared, client):
    share = shared.share(custom_short_id="mis1", allow_inputs=True, max_uses=1)
    for body in ({"task_input": {}}, {"task_input": {"review": ""}}, {}):
        response = client.post(_run_url("mis1"), body, content_type="application/json")
        assert response.status_code == 422
        assert "review" in response.json()["detail"][0]["msg"]
    page = client.post("/s/mis1/run", {"input_review": ""})
    assert page.status_code == 422
    assert "Fill in review" in page.text
    _nothing_written(shared, share, runs_before=1)


def test_a_fifty_megabyte_file_is_refused_before_anything_is_stored(
    shared, client, media
):
    share = shared.share(custom_short_id="big1", allow_inputs=True)
    huge = SimpleUploadedFile("huge.png", b"\0" * FIFTY_MB, content_type="image/png")
    response = client.post(
        _run_url("big1"), {"task_input": '{"review": "x"}', "task_files": huge}
    )
    assert response.status_code == 413
    assert "at most 20 MB" in response.json()["detail"][0]["msg"]
    huge.seek(0)
    page = client.post("/s/big1/run", {"input_review": "x", "task_files": huge})
    assert page.status_code == 413
    assert "at most 20 MB" in page.text
    _nothing_written(shared, share, runs_before=1)
    assert not RunFile.objects.exists()
    assert not any(media.rglob("*.*"))


def test_a_run_the_engine_refuses_gives_its_use_back(shared, client, personas):
    """Input only the engine checks (a revision that needs an image, sent
    none): the use taken for the run is returned."""
    _task, needs_image = task_update(
        task=shared.task,
        user=personas.editor,
        revision_fields={"image_required": True},
    )
    assert needs_image is not None
    share = shared.share(
        custom_short_id="img1",
        allow_inputs=True,
        max_uses=1,
        task_revision_id=needs_image.pk,
        task_run_id=None,
    )
    response = client.post(
        _run_url("img1"),
        {"task_input": {"review": "x"}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "needs at least one image" in response.json()["detail"][0]["msg"]
    _nothing_written(shared, share, runs_before=1)


def test_a_hundred_rapid_runs_from_one_address_are_rate_limited(
    shared, client, fake_llm, settings
):
    assert settings.RB_SHARE_RUNS_PER_MINUTE == 10
    share = shared.share(custom_short_id="fld1")
    for _ in range(10):
        fake_llm.answer(GOOD)
    statuses = []
    limited = []
    for _ in range(100):
        response = client.post(_run_url("fld1"), REMOTE_ADDR="203.0.113.7")
        statuses.append(response.status_code)
        if response.status_code == 429:
            limited.append(response)
    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429] * 90
    retry_after = int(limited[0]["Retry-After"])
    assert 1 <= retry_after <= 60
    body = limited[0].json()
    assert "Too many runs" in body["detail"]
    assert f"{retry_after} seconds" in body["detail"]
    share.refresh_from_db()
    assert share.use_count == 10
    assert ShareRun.objects.filter(share=share).count() == 10
    # The page shares the counter, and says so in its own words.
    page = client.post("/s/fld1/run", REMOTE_ADDR="203.0.113.7")
    assert page.status_code == 429
    assert page["Retry-After"]
    assert "Try again in" in page.text
    # Another address is not affected.
    fake_llm.answer(GOOD)
    other = client.post(_run_url("fld1"), REMOTE_ADDR="198.51.100.2")
    assert other.status_code == 200


def test_the_last_use_goes_to_exactly_one_of_two_stale_readers(shared):
    """The conditional UPDATE decides in the database: two visitors who both
    read the link with one use left cannot both take it, whatever their
    in-memory copies say."""
    share = shared.share(custom_short_id="lst1", max_uses=2)
    TaskShare.objects.filter(pk=share.pk).update(use_count=1)
    first = TaskShare.objects.get(pk=share.pk)
    second = TaskShare.objects.get(pk=share.pk)
    assert first.use_count == second.use_count == 1
    share_use_take(share=first)
    with pytest.raises(Forbidden, match="used as many times"):
        share_use_take(share=second)
    share.refresh_from_db()
    assert share.use_count == 2


def test_the_database_refuses_more_uses_than_allowed(shared):
    share = shared.share(custom_short_id="cap1", max_uses=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskShare.objects.filter(pk=share.pk).update(use_count=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskShare.objects.filter(pk=share.pk).update(max_uses=0)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_racing_for_the_last_uses_on_postgresql(shared, fake_llm):
    """Eight visitors at once on a link with three uses: three runs, five
    refusals, on PostgreSQL's row locks (CI runs this; SQLite cannot)."""
    need_service(
        connection.vendor == "postgresql",
        "DATABASE_URL does not point at PostgreSQL; the race needs real row locks",
    )
    share = shared.share(custom_short_id="race", max_uses=3)
    visitors = 8
    for _ in range(visitors):
        fake_llm.answer(GOOD)
    start = threading.Barrier(visitors)
    outcomes: list[str] = []
    lock = threading.Lock()

    def visit() -> None:
        try:
            link = TaskShare.objects.select_related("task", "task_revision").get(
                pk=share.pk
            )
            start.wait()
            try:
                share_run_execute(share=link, task_input=None)
                outcome = "ran"
            except Forbidden:
                outcome = "refused"
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=visit) for _ in range(visitors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ran"] * 3 + ["refused"] * 5
    share.refresh_from_db()
    assert share.use_count == 3
    assert ShareRun.objects.filter(share=share).count() == 3
