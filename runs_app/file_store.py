"""Getting the run-file store ready before the app starts using it.

With RB_S3_BUCKET set, `prepare_file_store` (run once per deploy, beside
`migrate`) creates the bucket when it is missing, then proves the credentials
can write, read and delete an object, and that nobody without them can read
it. A store that fails any of this stops the deploy with the reason, instead
of the first run that carries a file.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from storages.backends.s3 import S3Storage

from rightbrain.ids import uuid7

PROBE_PREFIX = "rightbrain-probe"


class StoreNotReady(Exception):
    """The store cannot be used as configured; the message says why."""


def prepare(storage: Storage) -> list[str]:
    """Make `storage` ready for run files; returns what was done, line by line."""
    if not isinstance(storage, S3Storage):
        return [
            "Run files are kept on this machine's disk (MEDIA_ROOT); set "
            "RB_S3_BUCKET to share them between processes."
        ]
    done = [_ensure_bucket(storage)]
    try:
        _probe(storage)
    except (BotoCoreError, ClientError) as error:
        raise StoreNotReady(
            f"Bucket {storage.bucket_name} cannot be used: {error}"
        ) from None
    done.append(
        f"Bucket {storage.bucket_name} takes, returns and deletes run files, and "
        "refuses readers without credentials."
    )
    return done


def _ensure_bucket(storage: S3Storage) -> str:
    client = storage.connection.meta.client
    name = storage.bucket_name
    try:
        client.head_bucket(Bucket=name)
        return f"Bucket {name} exists."
    except ClientError as error:
        if _status(error) != 404:
            raise StoreNotReady(f"Bucket {name} cannot be used: {error}") from None
    except BotoCoreError as error:
        raise StoreNotReady(f"The object store is not reachable: {error}") from None
    region = client.meta.region_name
    arguments: dict[str, Any] = {"Bucket": name}
    if region and region != "us-east-1":
        # us-east-1 is the one region S3 refuses to be named in.
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**arguments)
    except (BotoCoreError, ClientError) as error:
        raise StoreNotReady(f"Bucket {name} could not be created: {error}") from None
    return f"Created bucket {name}."


def _probe(storage: S3Storage) -> None:
    data = b"rightbrain file store probe\n"
    key = storage.save(f"{PROBE_PREFIX}/{uuid7()}.txt", ContentFile(data))
    try:
        with storage.open(key, "rb") as stored:
            if stored.read() != data:
                raise StoreNotReady(
                    "An object read back differs from what was written."
                )
        if _readable_anonymously(storage, key):
            raise StoreNotReady(
                f"Objects in bucket {storage.bucket_name} can be read without "
                "credentials. Make the bucket private (no public-read policy or "
                "ACL): run files are served only through the app."
            )
    finally:
        storage.delete(key)


def _readable_anonymously(storage: S3Storage, key: str) -> bool:
    client = storage.connection.meta.client
    anonymous = boto3.client(
        "s3",
        endpoint_url=client.meta.endpoint_url,
        region_name=client.meta.region_name,
        config=Config(signature_version=UNSIGNED, s3=client.meta.config.s3),
    )
    object_key = f"{storage.location}/{key}" if storage.location else key
    try:
        anonymous.get_object(Bucket=storage.bucket_name, Key=object_key)
    except ClientError as error:
        if _status(error) in {401, 403}:
            return False
        raise
    return True


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
