"""A real S3-compatible server on 127.0.0.1 for the object-store tests.

moto's server speaks the S3 API over HTTP, so django-storages and boto3 run
their real code paths against it: nothing of ours or theirs is patched. Each
test gets a bucket of its own and configures the app through the same RB_S3_*
variables a deployment sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
ACCESS_KEY = "rightbrain-test"
SECRET_KEY = "rightbrain-test-secret"


def start_s3_server() -> tuple[ThreadedMotoServer, str]:
    """The server on a free port; returns it and its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def s3_client(endpoint_url: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


@dataclass
class Bucket:
    """One test's bucket, seen from outside the app."""

    endpoint_url: str
    name: str
    prefix: str
    client: Any

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def object_key(self, storage_key: str) -> str:
        """Where the app's storage key lives in the bucket (under the prefix)."""
        return f"{self.prefix}/{storage_key}" if self.prefix else storage_key

    def public_url(self, key: str) -> str:
        return f"{self.endpoint_url}/{self.name}/{key}"
