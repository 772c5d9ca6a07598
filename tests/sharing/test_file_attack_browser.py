"""A visitor's files cannot act as a signed-in user (in a real browser).

The attack: through a runnable share link, a visitor sends a script and an
HTML page that loads it, then gets a signed-in member to open the page's
download link. Were the page rendered on the app's origin, the script would
run as the member and create an API key in their project. Both uploads are
refused; and a hostile pair already in storage (as files written before types
were read from bytes could be) is only ever downloaded, never rendered.
"""

from __future__ import annotations

import contextlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from rightbrain.orgs.models import ApiKey
from runs_app.models import RunFile
from sharing.models import TaskShare
from tests.helpers import PASSWORD, artifacts_dir
from tests.sharing.conftest import GOOD

pytestmark = pytest.mark.browser

ARTIFACTS = artifacts_dir("sharing")


def _script(project_id: object) -> bytes:
    """Creates an API key in the member's project with their session, then
    shows that it ran."""
    return (
        "const csrf = (document.cookie.split('; ')"
        ".find((c) => c.startsWith('csrftoken=')) || '').split('=')[1];"
        f"fetch('/projects/{project_id}/api-clients/keys/new', {{"
        "method: 'POST', credentials: 'same-origin',"
        "headers: {'X-CSRFToken': csrf,"
        " 'Content-Type': 'application/x-www-form-urlencoded'},"
        "body: 'name=stolen'});"
        "document.title = 'ran';"
        "alert('script ran');"
    ).encode()


def _page(script_url: str) -> bytes:
    return (
        "<!DOCTYPE html><html><head><title>Invoice</title></head><body>"
        f'<script src="{script_url}"></script><p>Your invoice</p></body></html>'
    ).encode()


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


def _visitor_sends(page, base: str, name: str, data: bytes, mime: str) -> str | None:
    """Runs the share link with one file, as a visitor; the stored file's
    link when the run kept it, else None (the page then says why)."""
    page.goto(f"{base}/s/atk1")
    page.fill("#share-input-review", "see attachment")
    page.set_input_files(
        "#share-files", files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    page.get_by_role("button", name="Run").click()
    page.locator("#share-run .alert-danger, #share-run .share-files a").first.wait_for()
    link = page.locator("#share-run .share-files a")
    if link.count():
        return link.first.get_attribute("href")
    return None


def _plant(shared, name: str, data: bytes, content_type: str) -> str:
    """A file stored on the example run the way uploads were stored before
    their bytes were read: typed by the name it was sent with."""
    stored_filename = f"planted-{name}"
    key = default_storage.save(
        f"runs/{shared.task.pk}/{stored_filename}", ContentFile(data)
    )
    RunFile.objects.create(
        task_run=shared.example,
        direction=RunFile.Direction.INPUT,
        original_filename=name,
        stored_filename=stored_filename,
        content_type=content_type,
        size_bytes=len(data),
        storage_key=key,
    )
    return reverse("share_file", args=["atk1", shared.example.pk, stored_filename])


@pytest.mark.django_db(transaction=True)
def test_a_visitors_html_and_script_never_run_as_a_signed_in_member(
    shared, personas, fake_llm, live_server, browser, media, settings
):
    settings.SITE_ROOT = live_server.url
    shared.share(custom_short_id="atk1", allow_inputs=True)
    fake_llm.answer(GOOD).answer(GOOD)
    base = live_server.url
    project_id = personas.project.pk

    visitor = browser.new_context()
    page = visitor.new_page()
    page.set_default_timeout(20_000)
    script_link = _visitor_sends(
        page, base, "app.js", _script(project_id), "text/javascript"
    )
    refusal_of_script = page.locator("#share-run .alert-danger").all_inner_texts()
    page_link = _visitor_sends(
        page,
        base,
        "invoice.html",
        _page(script_link or "/missing.js"),
        "text/html",
    )
    refusal_of_page = page.locator("#share-run .alert-danger").all_inner_texts()
    page.screenshot(path=str(ARTIFACTS / "file-attack-refused.png"), full_page=True)
    visitor.close()

    planted_script = _plant(shared, "old.js", _script(project_id), "text/javascript")
    links = [
        link
        for link in (
            script_link,
            page_link,
            planted_script,
            _plant(shared, "old.html", _page(planted_script), "text/html"),
            # A page sent under an image's name was typed as an image.
            _plant(shared, "photo.png", _page(planted_script), "image/png"),
        )
        if link
    ]

    member = browser.new_context(accept_downloads=True)
    victim = member.new_page()
    victim.set_default_timeout(20_000)
    victim.goto(f"{base}/accounts/login/")
    victim.get_by_label("Email").fill(personas.owner.email)
    victim.get_by_label("Password").fill(PASSWORD)
    victim.get_by_role("button", name="Sign In").click()
    victim.wait_for_url("**/projects/**")
    dialogs: list[str] = []
    downloads: list[str] = []
    victim.on(
        "dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss())
    )
    victim.on(
        "download", lambda download: downloads.append(download.suggested_filename)
    )
    titles = []
    for link in links:
        # An attachment aborts the navigation with "Download is starting".
        with contextlib.suppress(Exception):
            victim.goto(base + link)
        # Time for a script, had one run, to finish its request.
        victim.wait_for_timeout(1_000)
        titles.append(victim.title())
    member.close()

    assert not ApiKey.objects.filter(project=personas.project).exists()
    assert dialogs == []
    assert "ran" not in titles
    # Every file was handed over as a download, none shown as a page.
    assert len(downloads) == len(links)
    # And the visitor's two files were refused, with the reason, and not kept.
    assert script_link is None and page_link is None
    assert "not a file type runs accept" in " ".join(refusal_of_script)
    assert "not a file type runs accept" in " ".join(refusal_of_page)
    share = TaskShare.objects.get(short_id="atk1")
    assert share.use_count == 0
