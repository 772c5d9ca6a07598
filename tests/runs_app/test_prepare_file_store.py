"""`manage.py prepare_file_store`: the deploy step that creates the run-file
bucket and refuses to go on with a store the app cannot use or that others
could read."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from rightbrain.settings import file_storage


def _prepare() -> str:
    out = io.StringIO()
    call_command("prepare_file_store", stdout=out)
    return out.getvalue()


@pytest.fixture
def s3_storage(s3_env, settings):
    settings.STORAGES = {**settings.STORAGES, "default": file_storage()}
    return s3_env


def test_a_missing_bucket_is_created_and_checked_and_left_empty(s3_storage):
    output = _prepare()

    assert f"Created bucket {s3_storage.name}." in output
    assert "refuses readers without credentials" in output
    assert s3_storage.keys() == []  # the probe object is gone again
    assert f"Bucket {s3_storage.name} exists." in _prepare()


def test_a_bucket_anyone_can_read_stops_the_deploy(s3_storage):
    s3_storage.client.create_bucket(Bucket=s3_storage.name)
    public_read = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{s3_storage.name}/*",
            }
        ],
    }
    s3_storage.client.put_bucket_policy(
        Bucket=s3_storage.name, Policy=json.dumps(public_read)
    )

    with pytest.raises(CommandError, match="can be read without credentials"):
        _prepare()
    assert s3_storage.keys() == []


def test_an_unreachable_store_stops_the_deploy_with_the_reason(
    s3_env, settings, monkeypatch
):
    monkeypatch.setenv("RB_S3_ENDPOINT_URL", "http://127.0.0.1:1")  # nothing listens
    settings.STORAGES = {**settings.STORAGES, "default": file_storage()}

    with pytest.raises(CommandError, match="not reachable"):
        _prepare()


def test_with_local_disk_there_is_nothing_to_prepare(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    assert "kept on this machine's disk" in _prepare()
